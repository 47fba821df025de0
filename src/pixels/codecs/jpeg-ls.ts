/** JPEG-LS (ISO 14495-1), lossless and near-lossless: CharLS 2.3.4 in dcmjs-codecs' WebAssembly module. */
import type { Frame, PixelDescription } from '../frame.js';
import { interleavedBytes, samplesFromCodec } from './samples.js';
import type { EncodeOptions, FrameDecoder, FrameEncoder } from './types.js';
import { WASM_LIBRARY, wasmDecode, wasmEncode } from './wasm.js';

export const jpegLsDecoder: FrameDecoder = {
  library: `${WASM_LIBRARY} (CharLS 2.3.4)`,
  decode(encoded, d, _ts, into) {
    const desc: Partial<PixelDescription> = { planarConfiguration: 0 };
    return { data: wasmDecode('decodeJpegLs', encoded, d, {}, (bytes) => samplesFromCodec(bytes, { ...d, ...desc }, into)), description: desc };
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

/**
 * Near-lossless needs the stream's sample precision P to be Bits Stored: T.87 A.4.2 clamps
 * each reconstructed sample to 0..MAXVAL (2^P - 1), which keeps it within NEAR of the
 * original and inside Bits Stored only when MAXVAL is the largest stored value. (With P = Bits
 * Allocated a 12-bit 4095 came back as 4098, whose bits above High Bit are then dropped: 2.)
 * The stored bits go in at the bottom, two's complement ones as their unsigned bit pattern;
 * values within NEAR of the signed extremes can therefore come back across the sign (as with
 * any JPEG-LS near-lossless encoder, which codes unsigned samples only).
 */
function nearLosslessSamples(frame: Frame): { bytes: Uint8Array; precision: number } {
  const p = frame.bitsStored;
  const src = interleavedBytes(frame);
  const n = frame.rows * frame.columns * frame.samplesPerPixel;
  const mask = 2 ** p - 1;
  if (frame.bitsAllocated === 8) {
    if (p === 8) return { bytes: src, precision: p };
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = src[i]! & mask;
    return { bytes: out, precision: p };
  }
  const words = new Uint16Array(src.buffer.slice(src.byteOffset, src.byteOffset + 2 * n));
  if (p <= 8) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = words[i]! & mask;
    return { bytes: out, precision: p };
  }
  if (p < 16) for (let i = 0; i < n; i++) words[i] = words[i]! & mask;
  return { bytes: new Uint8Array(words.buffer), precision: p };
}

function encoder(lossy: boolean): FrameEncoder {
  return {
    library: `${WASM_LIBRARY} (CharLS 2.3.4)`,
    lossy,
    method: lossy ? 'ISO_14495_1' : undefined,
    unsupported(d) {
      const why = unsupported(d);
      if (why || !lossy) return why;
      if (d.highBit !== d.bitsStored - 1) return `JPEG-LS near-lossless here needs High Bit = Bits Stored - 1 (have ${d.highBit}, ${d.bitsStored})`;
      return undefined;
    },
    encode(frame: Frame, opts: EncodeOptions) {
      if (!lossy) {
        // Lossless keeps the whole container (P = Bits Allocated), bits above High Bit included.
        const d = { ...frame, planarConfiguration: 0 };
        const out = wasmEncode('encodeJpegLs', interleavedBytes(frame), d, { lossy: false });
        return { data: out.bytes, description: { planarConfiguration: 0 } };
      }
      const { bytes, precision } = nearLosslessSamples(frame);
      // The library takes P from Bits Allocated (its byte width rounds up), so P goes there.
      const d = { ...frame, planarConfiguration: 0, bitsAllocated: precision, bitsStored: precision, highBit: precision - 1, pixelRepresentation: 0 };
      const out = wasmEncode('encodeJpegLs', bytes, d, { lossy: true, allowedLossyError: opts.near ?? 2 });
      // A stream of 8 bits or fewer is 8-bit data: Bits Allocated becomes 8, as DCMTK's
      // dcmcjpls does (its dcmdjpls refuses a P <= 8 stream in a 16-bit container).
      return { data: out.bytes, description: precision <= 8 && frame.bitsAllocated === 16 ? { planarConfiguration: 0, bitsAllocated: 8 } : { planarConfiguration: 0 } };
    },
  };
}

export const jpegLsLosslessEncoder = encoder(false);
export const jpegLsNearLosslessEncoder = encoder(true);
