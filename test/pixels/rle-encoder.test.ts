/**
 * encodeRle must produce exactly the bytes of the reference encoder below, the first,
 * straightforward implementation (PackBits into a number[], PS3.5 G.3.1), kept here only as
 * the reference: same runs, same literal splits, same segment order (G.2), same padding (G.5).
 * Byte-identical output means files already written stay reproducible and what DCMTK's
 * dcmdrle was tested against (test/interop) still holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRle, encodeRle } from '../../src/pixels/codecs/rle.js';
import { frameBytes, type Frame, type PixelArray } from '../../src/pixels/frame.js';

// ---- reference: the encoder as it was before it wrote into a preallocated buffer ----

function refPackRow(src: Uint8Array, start: number, stride: number, n: number, out: number[]): void {
  let i = 0;
  const at = (k: number) => src[start + k * stride]!;
  while (i < n) {
    let run = 1;
    while (i + run < n && run < 128 && at(i + run) === at(i)) run++;
    if (run >= 3 || (run === 2 && i + run === n)) {
      out.push(257 - run, at(i));
      i += run;
      continue;
    }
    const litStart = i;
    while (i < n && i - litStart < 128) {
      if (i + 2 < n && at(i) === at(i + 1) && at(i) === at(i + 2)) break;
      i++;
    }
    out.push(i - litStart - 1);
    for (let k = litStart; k < i; k++) out.push(at(k));
  }
}

function refEncodeRle(d: Frame): Uint8Array {
  const bytesPerSample = d.bitsAllocated >> 3;
  const spp = d.samplesPerPixel;
  const nseg = spp * bytesPerSample;
  const src = new Uint8Array(d.data.buffer, d.data.byteOffset, d.data.byteLength);
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
      refPackRow(src, first, stride, d.columns, seg);
    }
    if (seg.length % 2 === 1) seg.push(0);
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
  return out;
}

// ---- inputs ----

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The run lengths around PackBits' limits: 2 and 3 (replicate or literal), 127/128/129 (split at 128). */
const RUN_LENGTHS = [1, 1, 1, 2, 2, 3, 3, 4, 127, 128, 129, 130, 255, 256, 257];

type Kind = 'runs' | 'random' | 'constant' | 'pairs' | 'ramp';

/** `count` bytes of one byte plane in the given style. */
function planeBytes(kind: Kind, count: number, next: () => number): Uint8Array {
  const b = new Uint8Array(count);
  if (kind === 'random') for (let i = 0; i < count; i++) b[i] = (next() * 256) | 0;
  else if (kind === 'constant') b.fill((next() * 256) | 0);
  else if (kind === 'ramp') for (let i = 0; i < count; i++) b[i] = i & 255;
  else if (kind === 'pairs') for (let i = 0; i < count; i++) b[i] = (i >> 1) & 255; // runs of exactly 2 everywhere
  else {
    // runs of chosen lengths, values from a small alphabet so neighbours sometimes merge
    let i = 0;
    while (i < count) {
      const len = RUN_LENGTHS[(next() * RUN_LENGTHS.length) | 0]!;
      const v = (next() * 4) | 0;
      for (let k = 0; k < len && i < count; k++) b[i++] = v;
    }
  }
  return b;
}

interface Case { name: string; frame: Frame }

function makeFrame(rows: number, columns: number, spp: 1 | 3, bits: 8 | 16 | 32, planar: 0 | 1, kinds: Kind[], seed: number, offset = 0): Frame {
  const next = rng(seed);
  const bps = bits >> 3;
  const pixels = rows * columns;
  const bytes = new Uint8Array(offset + pixels * spp * bps);
  // each byte plane (sample s, byte b of the sample) gets its own style
  for (let s = 0; s < spp; s++) {
    for (let b = 0; b < bps; b++) {
      const plane = planeBytes(kinds[(s * bps + b) % kinds.length]!, pixels, next);
      for (let p = 0; p < pixels; p++) {
        const at = planar ? (s * pixels + p) * bps + b : (p * spp + s) * bps + b;
        bytes[offset + at] = plane[p]!;
      }
    }
  }
  const n = pixels * spp;
  const data: PixelArray = bits === 8 ? new Uint8Array(bytes.buffer, offset, n)
    : bits === 16 ? new Uint16Array(bytes.buffer, offset, n)
      : new Int32Array(bytes.buffer, offset, n);
  return {
    rows, columns, samplesPerPixel: spp, bitsAllocated: bits, bitsStored: bits, highBit: bits - 1, pixelRepresentation: 0,
    photometricInterpretation: spp === 3 ? 'RGB' : 'MONOCHROME2', planarConfiguration: planar, numberOfFrames: 1, sampleFormat: 'int',
    index: 0, data, transferSyntaxUID: '', lossy: false,
  };
}

function cases(): Case[] {
  const out: Case[] = [];
  const widths = [1, 2, 3, 4, 5, 127, 128, 129, 130, 255, 256, 257, 300, 511];
  const kindSets: Kind[][] = [['runs'], ['random'], ['constant'], ['pairs'], ['ramp'], ['constant', 'runs', 'random'], ['runs', 'pairs']];
  let seed = 1;
  for (const bits of [8, 16, 32] as const) {
    for (const w of widths) {
      for (const kinds of kindSets) {
        const rows = w > 200 ? 3 : 7;
        out.push({ name: `${bits}-bit mono ${w}×${rows} ${kinds.join('/')}`, frame: makeFrame(rows, w, 1, bits, 0, kinds, seed++) });
      }
    }
  }
  for (const bits of [8, 16, 32] as const) {
    for (const planar of [0, 1] as const) {
      for (const w of [1, 3, 129, 257]) {
        for (const kinds of kindSets) {
          out.push({ name: `${bits}-bit RGB planar=${planar} ${w}×5 ${kinds.join('/')}`, frame: makeFrame(5, w, 3, bits, planar, kinds, seed++) });
        }
      }
    }
  }
  // data that does not start at the beginning of its buffer
  out.push({ name: '16-bit at byte offset 6', frame: makeFrame(9, 131, 1, 16, 0, ['runs', 'random'], seed++, 6) });
  out.push({ name: '8-bit at byte offset 3', frame: makeFrame(9, 131, 3, 8, 0, ['runs'], seed++, 3) });
  // a 128×128 16-bit NM-like frame (the benchmark's shape) and a larger noisy one
  const nm = makeFrame(128, 128, 1, 16, 0, ['runs'], seed++);
  const nmv = nm.data as Uint16Array;
  for (let r = 0; r < 128; r++) for (let c = 0; c < 128; c++) nmv[r * 128 + c] = Math.max(0, Math.round(3000 * Math.exp(-((r - 64) ** 2 + (c - 64) ** 2) / 900) + ((r * 31 + c * 17) % 23)));
  out.push({ name: 'NM-like 128×128 16-bit', frame: nm });
  out.push({ name: 'random 512×64 16-bit', frame: makeFrame(64, 512, 1, 16, 0, ['random'], seed++) });
  return out;
}

test('RLE encoder: byte-identical to the reference encoder on 8/16/32-bit, mono and RGB (planar and interleaved), odd widths, runs of 2/3/127/128/129, random and constant data', () => {
  const all = cases();
  assert.ok(all.length > 400);
  for (const { name, frame } of all) {
    const expected = refEncodeRle(frame);
    const actual = encodeRle(frame).data;
    assert.equal(actual.length, expected.length, `${name}: length`);
    assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(Buffer.from(expected)), `${name}: bytes`);
    // and it still round-trips (decoded frames are pixel-interleaved)
    const dec = decodeRle(actual, frame);
    if (frame.planarConfiguration === 0 || frame.samplesPerPixel === 1) {
      assert.ok(Buffer.from(frameBytes(dec)).equals(Buffer.from(frameBytes(frame))), `${name}: round trip`);
    }
  }
});

test('RLE encoder: consecutive encodings of different sizes do not leak bytes into each other', () => {
  // a big frame, then a small one, then the big one again: the same bytes each time
  const big = makeFrame(40, 300, 3, 16, 0, ['random', 'runs'], 99);
  const small = makeFrame(2, 3, 1, 8, 0, ['constant'], 100);
  const a = encodeRle(big).data;
  const b = encodeRle(small).data;
  const c = encodeRle(big).data;
  assert.ok(Buffer.from(b).equals(Buffer.from(refEncodeRle(small))));
  // the returned data are the caller's own: later encodings do not change them
  assert.ok(Buffer.from(a).equals(Buffer.from(refEncodeRle(big))));
  assert.ok(Buffer.from(a).equals(Buffer.from(c)));
  assert.notEqual(a.buffer, c.buffer);
});
