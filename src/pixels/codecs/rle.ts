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

/**
 * PackBits of one row of bytes, `row[start]` to `row[start + n - 1]`, into `out` from `o`;
 * returns the new end. PS3.5 G.3.1: replicate runs of 2 to 128 bytes, literal runs of 1 to
 * 128 bytes, never the -128 code; three-byte repeats shall be replicate runs, and a row is
 * coded on its own (no run crosses a row). Tracer's choices within that: a run of 2 is a
 * replicate run only at the end of a row (elsewhere it joins the literal, as G.3.1's note
 * suggests), and a literal ends where 3 equal bytes begin. These choices are part of the
 * output, which test/pixels/rle-encoder.test.ts holds byte for byte against the first
 * implementation.
 *
 * Writes at most n + ceil(n / 128) bytes: a literal costs one code byte per 128 bytes at
 * most, and a replicate run never more than the bytes it stands for.
 */
function packRow(row: Uint8Array, start: number, n: number, out: Uint8Array, o: number): number {
  const end = start + n;
  let i = start;
  while (i < end) {
    const v = row[i]!;
    // Replicate run at i, of at most 128 bytes (G.3.1).
    const runLimit = i + 128 < end ? i + 128 : end;
    let j = i + 1;
    while (j < runLimit && row[j] === v) j++;
    const run = j - i;
    if (run >= 3 || (run === 2 && j === end)) {
      out[o++] = 257 - run; // -(run - 1) as a signed byte
      out[o++] = v;
      i = j;
      continue;
    }
    // Literal run: up to 128 bytes, stopping where 3 equal bytes begin (they must be a
    // replicate run, G.3.1). None begin at i (the run there is shorter than 3).
    const litStart = i;
    const litLimit = i + 128 < end ? i + 128 : end;
    // No 3 equal bytes can begin in a row's last two bytes.
    const scanLimit = litLimit < end - 2 ? litLimit : end - 2;
    i++;
    while (i < scanLimit && !(row[i] === row[i + 1] && row[i] === row[i + 2])) i++;
    if (i >= scanLimit) i = litLimit;
    out[o++] = i - litStart - 1;
    for (let k = litStart; k < i; k++) out[o++] = row[k]!;
  }
  return o;
}

/**
 * The encoder's working buffers, grown as needed and reused from frame to frame, so that
 * encoding a multi-frame object allocates only each frame's result.
 */
let work = new Uint8Array(0);
let rowBytes = new Uint8Array(0);

export function encodeRle(frame: Frame): EncodedFrame {
  const d = frame;
  const bytesPerSample = d.bitsAllocated >> 3;
  const spp = d.samplesPerPixel;
  const nseg = spp * bytesPerSample;
  const src = new Uint8Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
  const planar = d.planarConfiguration === 1 && spp > 1;
  const rows = d.rows;
  const columns = d.columns;
  const pixels = rows * columns;
  // Worst case: the 64-byte header (G.5), each row's PackBits bound, and a pad byte per segment.
  const capacity = 64 + nseg * (rows * (columns + Math.ceil(columns / 128)) + 1);
  if (work.length < capacity) work = new Uint8Array(capacity);
  if (rowBytes.length < columns) rowBytes = new Uint8Array(columns);
  const out = work;
  const row = rowBytes;
  // Header (G.5): the number of segments, then 15 offsets, unused ones zero.
  out.fill(0, 0, 64);
  writeUint32LE(out, 0, nseg);
  // Byte planes one after the other, the most significant byte of each sample first (G.2).
  const stride = planar ? bytesPerSample : spp * bytesPerSample;
  let o = 64;
  for (let s = 0; s < nseg; s++) {
    writeUint32LE(out, 4 + 4 * s, o);
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample); // little-endian host samples
    for (let r = 0; r < rows; r++) {
      const first = planar
        ? (sample * pixels + r * columns) * bytesPerSample + byteInSample
        : (r * columns * spp + sample) * bytesPerSample + byteInSample;
      if (stride === 1) {
        o = packRow(src, first, columns, out, o); // the row's bytes are contiguous already
      } else {
        for (let c = 0, p = first; c < columns; c++, p += stride) row[c] = src[p]!;
        o = packRow(row, 0, columns, out, o);
      }
    }
    if ((o - 64) % 2 === 1) out[o++] = 0; // segments are padded to even length with zero (G.5)
  }
  // One buffer of the exact size, the caller's own (`work` is reused by the next frame).
  return { data: out.slice(0, o), description: { planarConfiguration: 0 } };
}

function writeUint32LE(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
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
