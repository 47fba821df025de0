/**
 * RLE Lossless (PS3.5 Annex G), owned here: small, and easy to get exactly right.
 *
 * A frame is up to 15 segments, one per byte plane: for each sample (R, G, B), the most
 * significant byte first (G.2). Each segment is PackBits-coded; rows are coded separately so
 * that no run crosses a row (G.3.1). Decoded frames come out pixel-interleaved, little-endian.
 */
import type { Frame, PixelDescription } from '../frame.js';
import { samplesFromBytes } from '../frame.js';
import type { DecodedFrame, EncodedFrame, FrameDecoder, FrameEncoder } from './types.js';

/**
 * Decodes one frame; into `into` when it is the frame's size (every byte of it is written,
 * one segment per byte plane, or the frame is refused).
 */
export function decodeRle(encoded: Uint8Array, d: PixelDescription, into?: Uint8Array): DecodedFrame {
  const bytesPerSample = d.bitsAllocated >> 3;
  const pixels = d.rows * d.columns;
  const spp = d.samplesPerPixel;
  const nseg = spp * bytesPerSample;
  if (encoded.length < 64) throw new Error(`RLE frame of ${encoded.length} bytes is shorter than its 64-byte header (PS3.5 G.5)`);
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const count = view.getUint32(0, true);
  if (count !== nseg) throw new Error(`RLE header names ${count} segments; ${spp} sample(s) of ${d.bitsAllocated} bits need ${nseg} (PS3.5 G.2)`);
  const out = into?.length === pixels * nseg ? into : new Uint8Array(pixels * nseg);
  for (let s = 0; s < nseg; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < nseg ? view.getUint32(8 + 4 * s, true) : encoded.length;
    if (start < 64 || start > encoded.length || end < start) throw new Error(`RLE segment ${s + 1} has a bad offset ${start}`);
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample); // MSB segment first → little-endian position
    const stride = nseg;
    let o = sample * bytesPerSample + byteInSample;
    const limit = o + pixels * stride;
    let i = start;
    const seg = Math.min(end, encoded.length);
    while (i < seg && o < limit) {
      const n = encoded[i++]!;
      if (n < 128) {
        // literal run of n + 1 bytes
        for (let k = 0; k <= n && i < seg && o < limit; k++) { out[o] = encoded[i++]!; o += stride; }
      } else if (n > 128) {
        const v = encoded[i++]!;
        for (let k = 0; k < 257 - n && o < limit; k++) { out[o] = v; o += stride; }
      }
      // n === 128: no operation (G.3.2)
    }
    if (o < limit) throw new Error(`RLE segment ${s + 1} decodes to ${(o - (sample * bytesPerSample + byteInSample)) / stride} of ${pixels} bytes`);
  }
  return { data: samplesFromBytes(out, { ...d, planarConfiguration: 0 }), description: { planarConfiguration: 0 } };
}

/** PackBits of one row of bytes (G.3.1): replicate runs of 3+ equal bytes, literals otherwise. */
function packRow(src: Uint8Array, start: number, stride: number, n: number, out: number[]): void {
  let i = 0;
  const at = (k: number) => src[start + k * stride]!;
  while (i < n) {
    // run length at i
    let run = 1;
    while (i + run < n && run < 128 && at(i + run) === at(i)) run++;
    if (run >= 3 || (run === 2 && i + run === n)) {
      out.push(257 - run, at(i));
      i += run;
      continue;
    }
    // literal: until a run of 3 starts or 128 bytes
    const litStart = i;
    while (i < n && i - litStart < 128) {
      if (i + 2 < n && at(i) === at(i + 1) && at(i) === at(i + 2)) break;
      i++;
    }
    out.push(i - litStart - 1);
    for (let k = litStart; k < i; k++) out.push(at(k));
  }
}

export function encodeRle(frame: Frame): EncodedFrame {
  const d = frame;
  const bytesPerSample = d.bitsAllocated >> 3;
  const spp = d.samplesPerPixel;
  const nseg = spp * bytesPerSample;
  const src = new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
  const planar = d.planarConfiguration === 1 && spp > 1;
  const pixels = d.rows * d.columns;
  const segments: Uint8Array[] = [];
  for (let s = 0; s < nseg; s++) {
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const seg: number[] = [];
    for (let r = 0; r < d.rows; r++) {
      const first = planar
        ? (sample * pixels + r * d.columns) * bytesPerSample + byteInSample
        : (r * d.columns * spp + sample) * bytesPerSample + byteInSample;
      const stride = planar ? bytesPerSample : spp * bytesPerSample;
      packRow(src, first, stride, d.columns, seg);
    }
    if (seg.length % 2 === 1) seg.push(0); // segments are padded to even length with zero (PS3.5 G.5)
    segments.push(Uint8Array.from(seg));
  }
  const header = new Uint8Array(64);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, nseg, true);
  let off = 64;
  segments.forEach((seg, i) => { hv.setUint32(4 + 4 * i, off, true); off += seg.length; });
  const out = new Uint8Array(off);
  out.set(header, 0);
  off = 64;
  for (const seg of segments) { out.set(seg, off); off += seg.length; }
  return { data: out, description: { planarConfiguration: 0 } };
}

export const rleDecoder: FrameDecoder = {
  library: 'Tracer (PS3.5 Annex G)',
  decode: (encoded, d, _ts, into) => decodeRle(encoded, d, into),
};

export const rleEncoder: FrameEncoder = {
  library: 'Tracer (PS3.5 Annex G)',
  lossy: false,
  unsupported(d) {
    if (d.sampleFormat !== 'int') return 'RLE holds integer samples only';
    if (![8, 16, 32].includes(d.bitsAllocated)) return `RLE needs Bits Allocated 8, 16 or 32 (have ${d.bitsAllocated})`;
    if (d.samplesPerPixel * (d.bitsAllocated >> 3) > 15) return 'RLE holds at most 15 byte planes (PS3.5 G.2)';
    return undefined;
  },
  encode: (frame) => encodeRle(frame),
};
