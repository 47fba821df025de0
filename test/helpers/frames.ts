/** Reading every frame of a file and comparing frames, for the codec tests against peers. */
import assert from 'node:assert/strict';
import { readDicomFile } from '../../src/dicom/part10.js';
import { getFrame, numberOfFrames, storedValues, type Frame } from '../../src/pixels/frame.js';

/** Every frame of a file, decoded by Tracer. */
export async function framesOf(path: string): Promise<Frame[]> {
  const f = readDicomFile(path);
  try {
    const out: Frame[] = [];
    for (let i = 0; i < numberOfFrames(f.dataset); i++) out.push(await getFrame(f, i));
    return out;
  } finally {
    f.source.close();
  }
}

/** Samples pixel-interleaved whatever the frame's Planar Configuration (dcmdrle keeps RLE's 1). */
export function interleaved(f: Frame): number[] {
  if (f.samplesPerPixel === 1 || f.planarConfiguration !== 1) return [...f.data];
  const n = f.rows * f.columns;
  const out = new Array<number>(f.data.length);
  for (let s = 0; s < f.samplesPerPixel; s++) for (let p = 0; p < n; p++) out[p * f.samplesPerPixel + s] = f.data[s * n + p]!;
  return out;
}

/** Stored values (bits above High Bit removed, sign extended), pixel-interleaved. */
export function stored(f: Frame): number[] {
  return interleaved({ ...f, data: storedValues(f) });
}

/** Largest absolute difference between two sample sequences of the same length. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'sample counts differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
