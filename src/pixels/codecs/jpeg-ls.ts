/** JPEG-LS (ISO 14495-1), lossless and near-lossless: CharLS 2.3.4 in dcmjs-codecs' WebAssembly module. */
import type { Frame, PixelDescription } from '../frame.js';
import { interleavedBytes, samplesFromCodec } from './samples.js';
import type { EncodeOptions, FrameDecoder, FrameEncoder } from './types.js';
import { WASM_LIBRARY, wasmDecode, wasmEncode } from './wasm.js';

export const jpegLsDecoder: FrameDecoder = {
  library: `${WASM_LIBRARY} (CharLS 2.3.4)`,
  decode(encoded, d) {
    const out = wasmDecode('decodeJpegLs', encoded, d);
    const desc: Partial<PixelDescription> = { planarConfiguration: 0 };
    return { data: samplesFromCodec(out.bytes, { ...d, ...desc }), description: desc };
  },
};

function unsupported(d: PixelDescription): string | undefined {
  if (d.sampleFormat !== 'int') return 'JPEG-LS holds integer samples only';
  if (d.bitsAllocated !== 8 && d.bitsAllocated !== 16) return `JPEG-LS needs Bits Allocated 8 or 16 (have ${d.bitsAllocated})`;
  if (d.bitsStored < 2 || d.bitsStored > 16) return `JPEG-LS holds 2 to 16 bits per sample (Bits Stored ${d.bitsStored})`;
  if (d.samplesPerPixel !== 1 && d.samplesPerPixel !== 3) return `JPEG-LS here takes 1 or 3 samples per pixel (have ${d.samplesPerPixel})`;
  if (d.photometricInterpretation.startsWith('YBR_PARTIAL') || d.photometricInterpretation === 'YBR_FULL_422') return `Photometric Interpretation ${d.photometricInterpretation} is not encoded as JPEG-LS`;
  return undefined;
}

function encoder(lossy: boolean): FrameEncoder {
  return {
    library: `${WASM_LIBRARY} (CharLS 2.3.4)`,
    lossy,
    method: lossy ? 'ISO_14495_1' : undefined,
    unsupported,
    encode(frame: Frame, opts: EncodeOptions) {
      const d = { ...frame, planarConfiguration: 0 };
      const out = wasmEncode('encodeJpegLs', interleavedBytes(frame), d, lossy ? { lossy: true, allowedLossyError: opts.near ?? 2 } : { lossy: false });
      return { data: out.bytes, description: { planarConfiguration: 0 } };
    },
  };
}

export const jpegLsLosslessEncoder = encoder(false);
export const jpegLsNearLosslessEncoder = encoder(true);
