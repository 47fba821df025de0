/**
 * The JPEG family (ITU T.81 / ISO 10918-1): Baseline (Process 1), Extended (Processes 2 and 4,
 * 12-bit), the retired Spectral Selection and Full Progression processes, and Lossless
 * (Process 14, any predictor; SV1 = predictor 1). All through the IJG libjpeg line in
 * dcmjs-codecs' WebAssembly module, built in 8-, 12- and 16-bit variants as DCMTK builds it.
 * Huffman coding only: the retired arithmetic-coded processes (3, 5, 7, 9, 11, 13, 15; syntaxes
 * .52, .54, .56, .58) are refused with a clear error, as DCMTK and GDCM refuse them.
 */
import type { Frame, PixelDescription } from '../frame.js';
import { interleavedBytes, narrowedBytes, samplesFromCodec } from './samples.js';
import type { DecodedFrame, EncodeOptions, FrameDecoder, FrameEncoder } from './types.js';
import { WASM_LIBRARY, wasmDecode, wasmEncode } from './wasm.js';

export interface JpegFrameHeader {
  /** SOF marker number: 0 baseline, 1 extended, 2 progressive, 3 lossless, ... (T.81 B.1.1.3). */
  sof: number;
  precision: number;
  components: number;
}

/** Reads the frame header (SOFn) of a JPEG stream, or undefined when there is none. */
export function jpegFrameHeader(b: Uint8Array): JpegFrameHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) { i++; continue; }
    const m = b[i + 1]!;
    if (m === 0xff) { i++; continue; }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { i += 2; continue; }
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { sof: m - 0xc0, precision: b[i + 4] ?? 0, components: b[i + 9] ?? 0 };
    }
    if (m === 0xda) return undefined;
    i += 2 + len;
  }
  return undefined;
}

/** SOF9-11 and SOF13-15: arithmetic coding (T.81 B.1.1.3; the retired Processes 3, 5, 7, 9, 11, 13 and 15). */
const ARITHMETIC_SOF = new Set([9, 10, 11, 13, 14, 15]);

function decodeJpeg(encoded: Uint8Array, d: PixelDescription, into?: Uint8Array): DecodedFrame {
  const h = jpegFrameHeader(encoded);
  if (h && ARITHMETIC_SOF.has(h.sof)) {
    // The IJG 6b builds (as in DCMTK 3.6 and GDCM 3.0) have no arithmetic decoder.
    throw new Error(`arithmetic-coded JPEG (SOF${h.sof}, T.81 Annex D) cannot be decoded: the IJG libjpeg 6b build in dcmjs-codecs decodes Huffman-coded JPEG only (as DCMTK's dcmdjpeg and GDCM do)`);
  }
  const lossless = h?.sof === 3 || h?.sof === 7 || h?.sof === 11 || h?.sof === 15;
  // YBR colour is converted to RGB for the lossy processes (PS3.5 8.2.1: the decoded image is
  // what the Photometric Interpretation describes before compression); lossless streams are
  // never colour-converted by their encoders, so their samples are taken as they are.
  const convert = !lossless && d.samplesPerPixel === 3 && d.photometricInterpretation.startsWith('YBR');
  const desc: Partial<PixelDescription> = { planarConfiguration: 0 };
  if (convert) desc.photometricInterpretation = 'RGB';
  const data = wasmDecode('decodeJpeg', encoded, d, { convertColorspaceToRgb: convert }, (bytes) => samplesFromCodec(bytes, { ...d, ...desc }, into));
  return { data, description: desc };
}

export const jpegDecoder: FrameDecoder = { library: `${WASM_LIBRARY} (IJG libjpeg 8/12/16-bit)`, decode: (encoded, d, _ts, into) => decodeJpeg(encoded, d, into) };

const MONO_OR_COLOUR = ['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'PALETTE COLOR'];

/** JPEG Lossless Process 14 with predictor 1 (serves both .57 and .70). */
export const jpegLosslessEncoder: FrameEncoder = {
  library: `${WASM_LIBRARY} (IJG libjpeg 16-bit lossless)`,
  lossy: false,
  unsupported(d) {
    if (d.sampleFormat !== 'int') return 'JPEG holds integer samples only';
    if (d.bitsAllocated !== 8 && d.bitsAllocated !== 16) return `JPEG Lossless needs Bits Allocated 8 or 16 (have ${d.bitsAllocated})`;
    if (d.bitsStored < 2 || d.bitsStored > 16) return `JPEG Lossless holds 2 to 16 bits per sample (Bits Stored ${d.bitsStored})`;
    if (d.samplesPerPixel !== 1 && d.samplesPerPixel !== 3) return `JPEG Lossless here takes 1 or 3 samples per pixel (have ${d.samplesPerPixel})`;
    if (!MONO_OR_COLOUR.includes(d.photometricInterpretation)) return `Photometric Interpretation ${d.photometricInterpretation} is not encoded as JPEG Lossless`;
    return undefined;
  },
  encode(frame: Frame) {
    // The library picks its 8/12/16-bit build by Bits Stored and reads 8-bit samples as bytes:
    // 8 bits or fewer in a 16-bit container go to the 16-bit build (P = 16, as dcmcjpeg and
    // gdcmconv write them).
    const d = { ...frame, planarConfiguration: 0, ...(frame.bitsAllocated === 16 && frame.bitsStored <= 8 ? { bitsStored: 16, highBit: 15 } : {}) };
    const out = wasmEncode('encodeJpeg', interleavedBytes(frame), d, { lossy: false, predictor: 1, pointTransform: 0 });
    return { data: out.bytes, description: { planarConfiguration: 0 } };
  },
};

/** Lossy JPEG. Only `8` is registered: the WebAssembly build refuses 12-bit lossy encoding ("Unsupported lossy Jpeg bit depth"). */
function lossyJpegEncoder(bits: 8 | 12): FrameEncoder {
  return {
    library: `${WASM_LIBRARY} (IJG libjpeg ${bits}-bit)`,
    lossy: true,
    method: 'ISO_10918_1',
    unsupported(d) {
      if (d.sampleFormat !== 'int') return 'JPEG holds integer samples only';
      if (d.pixelRepresentation !== 0) return 'lossy JPEG takes unsigned samples only (PS3.5 8.2.1)';
      if (bits === 8 && d.bitsStored !== 8) return `JPEG Baseline needs Bits Stored 8 (have ${d.bitsStored})`;
      if (bits === 12 && (d.bitsStored > 12 || d.bitsStored <= 8 || d.bitsAllocated !== 16)) return `JPEG Extended 12-bit needs Bits Allocated 16 and Bits Stored 9-12 (have ${d.bitsAllocated}/${d.bitsStored})`;
      if (bits === 12 && d.samplesPerPixel !== 1) return 'JPEG Extended 12-bit here takes monochrome images only';
      if (!['MONOCHROME1', 'MONOCHROME2', 'RGB'].includes(d.photometricInterpretation)) return `Photometric Interpretation ${d.photometricInterpretation} is not encoded as lossy JPEG (MONOCHROME1/2 or RGB)`;
      if (d.samplesPerPixel !== 1 && d.samplesPerPixel !== 3) return `lossy JPEG takes 1 or 3 samples per pixel (have ${d.samplesPerPixel})`;
      return undefined;
    },
    encode(frame: Frame, opts: EncodeOptions) {
      const d = { ...frame, planarConfiguration: 0 };
      const bytes = bits === 8 ? narrowedBytes(frame) : interleavedBytes(frame);
      // RGB is compressed as YCbCr with 4:2:2 subsampling, as DCMTK and most viewers expect:
      // the file then says YBR_FULL_422 (PS3.5 8.2.1).
      const out = wasmEncode('encodeJpeg', bytes, { ...d, bitsAllocated: bits === 8 ? 8 : 16 }, { lossy: true, quality: opts.quality ?? 90, sampleFactor: frame.samplesPerPixel === 3 ? 1 : 0 });
      const desc: Partial<PixelDescription> = { planarConfiguration: 0 };
      if (frame.samplesPerPixel === 3) desc.photometricInterpretation = 'YBR_FULL_422';
      return { data: out.bytes, description: desc };
    },
  };
}

export const jpegBaselineEncoder = lossyJpegEncoder(8);
