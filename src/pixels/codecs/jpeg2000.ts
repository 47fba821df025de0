/**
 * JPEG 2000 (ISO 15444-1) and High-Throughput JPEG 2000 (ISO 15444-15) through dcmjs-codecs'
 * WebAssembly module: OpenJPEG 2.5.0 for Part 1, OpenJPH 0.18.2 for HTJ2K.
 *
 * JPEG 2000 encoding keeps the colour space as it is (no multi-component transform), so the
 * Photometric Interpretation of the data set stays true (RGB stays RGB, not YBR_RCT/ICT).
 * The HTJ2K encoder (OpenJPH, as dcmjs-codecs drives it) always applies the colour transform
 * to three components, so its RGB comes out as YBR_RCT (lossless) or YBR_ICT (lossy), as
 * PS3.5 8.2.4 requires when the transform is used; it takes RGB of 8 bits only (16-bit
 * colour is read wrongly by that build). Its lossy mode is not offered (see registry.ts).
 */
import type { Frame, PixelDescription } from '../frame.js';
import { interleavedBytes, samplesFromCodec } from './samples.js';
import type { EncodeOptions, FrameDecoder, FrameEncoder } from './types.js';
import { WASM_LIBRARY, wasmDecode, wasmEncode } from './wasm.js';

function decoder(ht: boolean): FrameDecoder {
  return {
    library: ht ? `${WASM_LIBRARY} (OpenJPH 0.18.2)` : `${WASM_LIBRARY} (OpenJPEG 2.5.0)`,
    decode(encoded, d) {
      const out = wasmDecode(ht ? 'decodeHtJpeg2000' : 'decodeJpeg2000', encoded, d);
      // YBR_RCT / YBR_ICT streams carry the inverse transform in the codestream: the
      // decoder's output is RGB (PS3.5 8.2.4).
      const desc: Partial<PixelDescription> = { planarConfiguration: 0 };
      if (d.photometricInterpretation === 'YBR_RCT' || d.photometricInterpretation === 'YBR_ICT') desc.photometricInterpretation = 'RGB';
      return { data: samplesFromCodec(out.bytes, { ...d, ...desc }), description: desc };
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

function htUnsupported(d: PixelDescription): string | undefined {
  const why = unsupported(d);
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
    unsupported: ht ? htUnsupported : unsupported,
    encode(frame: Frame, opts: EncodeOptions) {
      const d = { ...frame, planarConfiguration: 0 };
      const params: Record<string, unknown> = { lossy, allowMct: false, progressionOrder: 0 };
      if (lossy) params.rate = opts.ratio ?? 10;
      const out = wasmEncode(ht ? 'encodeHtJpeg2000' : 'encodeJpeg2000', interleavedBytes(frame), d, params);
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
