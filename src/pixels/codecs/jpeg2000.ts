/**
 * JPEG 2000 (ISO 15444-1) and High-Throughput JPEG 2000 (ISO 15444-15) through dcmjs-codecs'
 * WebAssembly module: OpenJPEG 2.5.0 for Part 1, OpenJPH 0.18.2 for HTJ2K.
 *
 * JPEG 2000 encoding keeps the colour space as it is (no multi-component transform), so the
 * Photometric Interpretation of the data set stays true (RGB stays RGB, not YBR_RCT/ICT).
 * The HTJ2K encoder (OpenJPH, as dcmjs-codecs drives it) always applies the colour transform
 * to three components, so its RGB comes out as YBR_RCT (lossless) or YBR_ICT (lossy), as
 * PS3.5 8.2.4 requires when the transform is used. Its lossy mode is not offered (see
 * registry.ts).
 *
 * dcmjs-codecs' glue around both libraries copies samples in a few fixed layouts, and gets
 * some wrong (each found by decoding with GDCM or OpenJPEG's own tools): Part 1 colour is
 * copied as bytes in both directions (16-bit colour is corrupted), 8-bit samples are read as
 * unsigned bytes (signed 8-bit data is corrupted, in Part 1 and HTJ2K) and Part 1 reads a
 * component of 8 bits or fewer as bytes even in a 16-bit container. Tracer narrows the
 * latter to bytes itself, refuses to encode the others, and refuses to decode Part 1 colour
 * of more than 8 bits instead of returning wrong samples.
 */
import type { Frame, PixelDescription } from '../frame.js';
import { interleavedBytes, narrowedBytes, samplesFromCodec } from './samples.js';
import type { EncodeOptions, FrameDecoder, FrameEncoder } from './types.js';
import { WASM_LIBRARY, wasmDecode, wasmEncode } from './wasm.js';

/** Components and the first component's precision from the SIZ segment (ISO 15444-1 A.5.1), raw codestream or JP2. */
export function j2kImageSize(b: Uint8Array): { components: number; precision: number; signed: boolean } | undefined {
  for (let k = 0; k + 41 < b.length; k++) {
    if (b[k] !== 0xff || b[k + 1] !== 0x4f || b[k + 2] !== 0xff || b[k + 3] !== 0x51) continue;
    const body = k + 6; // past SOC, the SIZ marker and Lsiz
    const ssiz = b[body + 36]!;
    return { components: (b[body + 34]! << 8) | b[body + 35]!, precision: (ssiz & 0x7f) + 1, signed: (ssiz & 0x80) !== 0 };
  }
  return undefined;
}

function decoder(ht: boolean): FrameDecoder {
  return {
    library: ht ? `${WASM_LIBRARY} (OpenJPH 0.18.2)` : `${WASM_LIBRARY} (OpenJPEG 2.5.0)`,
    decode(encoded, d, _ts, into) {
      const siz = ht ? undefined : j2kImageSize(encoded);
      if (siz && siz.components > 1 && siz.precision > 8) {
        throw new Error(`JPEG 2000 colour of ${siz.precision} bits cannot be decoded here: dcmjs-codecs' OpenJPEG glue copies every component of a multi-component image as 8 bits (GDCM's gdcmconv --raw decodes it)`);
      }
      // YBR_RCT / YBR_ICT streams carry the inverse transform in the codestream: the
      // decoder's output is RGB (PS3.5 8.2.4).
      const desc: Partial<PixelDescription> = { planarConfiguration: 0 };
      if (d.photometricInterpretation === 'YBR_RCT' || d.photometricInterpretation === 'YBR_ICT') desc.photometricInterpretation = 'RGB';
      const data = wasmDecode(ht ? 'decodeHtJpeg2000' : 'decodeJpeg2000', encoded, d, {}, (bytes) => samplesFromCodec(bytes, { ...d, ...desc }, into));
      return { data, description: desc };
    },
  };
}

export const jpeg2000Decoder = decoder(false);
export const htj2kDecoder = decoder(true);

function unsupported(d: PixelDescription): string | undefined {
  if (d.sampleFormat !== 'int') return 'JPEG 2000 here holds integer samples only';
  if (d.bitsAllocated !== 8 && d.bitsAllocated !== 16) return `JPEG 2000 here needs Bits Allocated 8 or 16 (have ${d.bitsAllocated})`;
  if (d.samplesPerPixel !== 1 && d.samplesPerPixel !== 3) return `JPEG 2000 here takes 1 or 3 samples per pixel (have ${d.samplesPerPixel})`;
  if (d.photometricInterpretation.startsWith('YBR_PARTIAL') || d.photometricInterpretation === 'YBR_FULL_422') return `Photometric Interpretation ${d.photometricInterpretation} is not encoded as JPEG 2000`;
  return undefined;
}

/** 8-bit samples are read as unsigned bytes by both encoders' glue. */
function signed8(d: PixelDescription): string | undefined {
  if (d.pixelRepresentation === 1 && d.bitsStored <= 8) return `signed samples of ${d.bitsStored} bits are read as unsigned bytes by dcmjs-codecs' JPEG 2000 glue; use jpeg-ls or rle`;
  return undefined;
}

function partOneUnsupported(d: PixelDescription): string | undefined {
  const why = unsupported(d) ?? signed8(d);
  if (why) return why;
  if (d.samplesPerPixel === 3 && d.bitsAllocated !== 8) return `JPEG 2000 colour here needs Bits Allocated 8 (have ${d.bitsAllocated}): dcmjs-codecs' OpenJPEG glue copies colour samples as bytes; use jpeg-ls or rle`;
  return undefined;
}

function htUnsupported(d: PixelDescription): string | undefined {
  const why = unsupported(d) ?? signed8(d);
  if (why || d.samplesPerPixel === 1) return why;
  if (d.bitsAllocated !== 8) return `HTJ2K colour here needs Bits Allocated 8 (have ${d.bitsAllocated}): dcmjs-codecs' OpenJPH encoder reads 16-bit colour samples wrongly`;
  if (d.photometricInterpretation !== 'RGB') return `HTJ2K colour here is encoded from RGB only (have ${d.photometricInterpretation}): the encoder always applies the colour transform, whose output is labelled YBR_RCT/YBR_ICT`;
  return undefined;
}

function encoder(ht: boolean, lossy: boolean): FrameEncoder {
  return {
    library: ht ? `${WASM_LIBRARY} (OpenJPH 0.18.2)` : `${WASM_LIBRARY} (OpenJPEG 2.5.0)`,
    lossy,
    method: lossy ? (ht ? 'ISO_15444_15' : 'ISO_15444_1') : undefined,
    unsupported: ht ? htUnsupported : partOneUnsupported,
    encode(frame: Frame, opts: EncodeOptions) {
      const params: Record<string, unknown> = { lossy, allowMct: false, progressionOrder: 0 };
      if (lossy) params.rate = opts.ratio ?? 10;
      // Part 1 reads a component of 8 bits or fewer as bytes: such samples in a 16-bit
      // container are handed over as bytes (the codestream's precision is Bits Stored anyway).
      const narrow = !ht && frame.bitsAllocated === 16 && frame.bitsStored <= 8;
      const d = { ...frame, planarConfiguration: 0, ...(narrow ? { bitsAllocated: 8 } : {}) };
      const out = wasmEncode(ht ? 'encodeHtJpeg2000' : 'encodeJpeg2000', narrow ? narrowedBytes(frame) : interleavedBytes(frame), d, params);
      const desc: Partial<PixelDescription> = { planarConfiguration: 0 };
      // The reversible (RCT) or irreversible (ICT) colour transform is in the codestream.
      if (ht && frame.samplesPerPixel === 3) desc.photometricInterpretation = lossy ? 'YBR_ICT' : 'YBR_RCT';
      return { data: out.bytes, description: desc };
    },
  };
}

export const jpeg2000LosslessEncoder = encoder(false, false);
export const jpeg2000LossyEncoder = encoder(false, true);
export const htj2kLosslessEncoder = encoder(true, false);
