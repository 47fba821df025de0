/** Conversions between codec byte buffers and frame samples. */
import type { Frame, PixelArray, PixelDescription } from '../frame.js';
import { allocatePixels, samplesFromBytes, typedView } from '../frame.js';

/**
 * Codec output bytes as the frame's typed array. A codec may hand back 8-bit samples for a
 * 16-bit container (JPEG of Bits Stored <= 8): those are widened.
 *
 * The result never shares memory with `bytes`, which may be a view of the WebAssembly
 * module's memory, overwritten by the next decode. The samples go into `into` when it is
 * given and fits (the frame's bytes, aligned for its sample type: a frame's place in a
 * multi-frame buffer, so that they are copied once), else into a new array.
 */
export function samplesFromCodec(bytes: Uint8Array, d: PixelDescription, into?: Uint8Array): PixelArray {
  const n = d.rows * d.columns * d.samplesPerPixel;
  const width = d.bitsAllocated >> 3;
  const size = Math.max(1, width);
  const target = (): PixelArray => (into && into.length === n * size && into.byteOffset % size === 0
    ? typedView(into.buffer, into.byteOffset, n, d)
    : allocatePixels(d));
  if (width === 2 && bytes.length === n) {
    const out = target();
    for (let i = 0; i < n; i++) out[i] = bytes[i]!;
    return out;
  }
  if (width === 1 && bytes.length >= 2 * n) {
    // Stored in the low byte of each word; an Int8Array takes the same bit pattern.
    const out = target();
    const w = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) out[i] = w[i]! & 0xff;
    return out;
  }
  if (bytes.length < n * width) {
    throw new Error(`decoder returned ${bytes.length} bytes; ${n * width} expected for ${d.rows}×${d.columns}×${d.samplesPerPixel} samples of ${d.bitsAllocated} bits`);
  }
  const samples = samplesFromBytes(bytes, d);
  const out = target();
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  return out;
}

/** The frame's samples as little-endian bytes, pixel-interleaved (planar frames are interleaved). */
export function interleavedBytes(f: Frame): Uint8Array {
  const bytes = new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength);
  if (f.samplesPerPixel === 1 || f.planarConfiguration !== 1) return bytes;
  const spp = f.samplesPerPixel;
  const w = Math.max(1, f.bitsAllocated >> 3);
  const pixels = f.rows * f.columns;
  const out = new Uint8Array(bytes.length);
  for (let s = 0; s < spp; s++) {
    for (let p = 0; p < pixels; p++) {
      for (let b = 0; b < w; b++) out[(p * spp + s) * w + b] = bytes[(s * pixels + p) * w + b]!;
    }
  }
  return out;
}

/**
 * Samples narrowed to 8-bit when a 16-bit container holds at most 8 stored bits (JPEG 8-bit
 * processes take one byte per sample).
 */
export function narrowedBytes(f: Frame): Uint8Array {
  const bytes = interleavedBytes(f);
  if (f.bitsAllocated !== 16 || f.bitsStored > 8) return bytes;
  const n = f.rows * f.columns * f.samplesPerPixel;
  const w = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 2 * n));
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = w[i]! & 0xff;
  return out;
}
