/**
 * Encapsulated pixel data (PS3.5 A.4): frames ↔ fragments.
 *
 * Reading: the first item is the Basic Offset Table; a frame may span several fragments;
 * Extended Offset Table (7FE0,0001) with lengths (7FE0,0002) takes precedence when present
 * (PS3.5 A.4.2, for objects past 4 GiB). Without offsets, frames are found by counting
 * (one fragment per frame when the counts agree, everything when there is one frame) or by
 * the start-of-codestream markers (JPEG SOI, J2K SOC, JP2 signature) at fragment starts.
 * Only fragment headers are looked at to build the index; fragment values stay in the
 * source until the frame that owns them is asked for.
 *
 * Writing: one frame per fragment (split at the 32-bit item length limit), values padded to
 * even length, a Basic Offset Table while offsets fit in 32 bits, else an empty one and an
 * Extended Offset Table.
 */
import type { Dataset } from '../dicom/dataset.js';
import { Element, type Fragment } from '../dicom/element.js';

/** For each frame, the indices (into el.fragments) of its fragments. */
const frameIndexCache = new WeakMap<Element, number[][]>();

/** The concatenated encoded bytes of frame `index` (zero-based). */
export function frameFragments(el: Element, numberOfFrames: number, index: number, ds?: Dataset): Uint8Array {
  const frags = el.fragments;
  if (!frags) throw new Error('Pixel Data is not encapsulated');
  const eot = ds ? extendedOffsets(ds) : undefined;
  if (eot) {
    // Offsets count from the first byte of the first fragment's item tag, past the BOT item.
    const start = eot.offsets[index];
    const length = eot.lengths[index];
    if (start === undefined || length === undefined) throw new RangeError(`Extended Offset Table has no entry for frame ${index}`);
    return bytesAtItemOffset(el, start, length);
  }
  const map = frameMap(el, numberOfFrames);
  const idx = map[index];
  if (!idx || idx.length === 0) throw new RangeError(`encapsulated Pixel Data has no fragments for frame ${index} (${map.length} frame(s) found)`);
  if (idx.length === 1) return el.fragmentBytes(frags[idx[0]!]!);
  return Buffer.concat(idx.map((i) => el.fragmentBytes(frags[i]!)));
}

/** Number of frames the fragments hold as indexed (for diagnostics and checks). */
export function encapsulatedFrameCount(el: Element, numberOfFrames: number): number {
  return frameMap(el, numberOfFrames).length;
}

function extendedOffsets(ds: Dataset): { offsets: number[]; lengths: number[] } | undefined {
  const o = ds.get(0x7fe00001);
  const l = ds.get(0x7fe00002);
  if (!o || !l || o.length === 0) return undefined;
  const ob = o.bytes();
  const lb = l.bytes();
  const read = (b: Buffer, i: number) => Number(ds.littleEndian ? b.readBigUInt64LE(i * 8) : b.readBigUInt64BE(i * 8));
  const n = Math.floor(ob.length / 8);
  const offsets: number[] = [];
  const lengths: number[] = [];
  for (let i = 0; i < n; i++) {
    offsets.push(read(ob, i));
    lengths.push(i < lb.length / 8 ? read(lb, i) : 0);
  }
  return { offsets, lengths };
}

/** `length` bytes of fragment values starting at a BOT/EOT offset (which counts item headers). */
function bytesAtItemOffset(el: Element, offset: number, length: number): Uint8Array {
  const frags = el.fragments!;
  let pos = 0;
  for (let i = 1; i < frags.length; i++) {
    if (pos === offset) {
      const parts: Buffer[] = [];
      let left = length;
      for (let j = i; j < frags.length && left > 0; j++) {
        const b = el.fragmentBytes(frags[j]!);
        parts.push(b.length > left ? b.subarray(0, left) : b);
        left -= Math.min(left, b.length);
      }
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
    pos += 8 + frags[i]!.length;
  }
  throw new RangeError(`offset ${offset} of the offset table does not start a fragment`);
}

function frameMap(el: Element, numberOfFrames: number): number[][] {
  let map = frameIndexCache.get(el);
  if (!map) {
    map = buildFrameMap(el, numberOfFrames);
    frameIndexCache.set(el, map);
  }
  return map;
}

function buildFrameMap(el: Element, numberOfFrames: number): number[][] {
  const frags = el.fragments!;
  const n = frags.length - 1; // data fragments
  const all = Array.from({ length: n }, (_, i) => i + 1);
  if (n <= 0) return [];
  if (numberOfFrames <= 1) return [all];
  const bot = frags[0]!.length > 0 ? el.fragmentBytes(frags[0]!) : undefined;
  if (bot && bot.length >= 4 * numberOfFrames) {
    const offsets: number[] = [];
    for (let i = 0; i < bot.length / 4; i++) offsets.push(bot.readUInt32LE(i * 4));
    // Item offsets of the data fragments, relative to the first one.
    const starts = new Map<number, number>();
    let pos = 0;
    for (let i = 1; i < frags.length; i++) {
      starts.set(pos, i);
      pos += 8 + frags[i]!.length;
    }
    const firsts = offsets.map((o) => starts.get(o));
    if (firsts.every((f) => f !== undefined)) {
      const map: number[][] = [];
      for (let k = 0; k < firsts.length; k++) {
        const from = firsts[k]!;
        const to = k + 1 < firsts.length ? firsts[k + 1]! : frags.length;
        map.push(Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i));
      }
      return map;
    }
    // An offset table that does not match the items: fall through to the other ways.
  }
  if (n === numberOfFrames) return all.map((i) => [i]);
  // Fragments spread over frames without offsets: a frame starts where a codestream starts.
  const map: number[][] = [];
  for (let i = 1; i < frags.length; i++) {
    const f = frags[i]!;
    const head = f.data ? f.data.subarray(0, 12) : (el.origin?.read(f.offset, Math.min(12, f.length)) ?? new Uint8Array(0));
    if (map.length === 0 || startsCodestream(head)) map.push([i]);
    else map[map.length - 1]!.push(i);
  }
  if (map.length !== numberOfFrames) {
    throw new Error(`encapsulated Pixel Data: ${numberOfFrames} frames expected, ${n} fragments found, and neither an offset table nor codestream markers tell which fragments make which frame`);
  }
  return map;
}

/** JPEG / JPEG-LS SOI (FFD8), J2K SOC+SIZ (FF4F FF51), JP2 signature box. */
function startsCodestream(b: Uint8Array): boolean {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return true;
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51) return true;
  if (b.length >= 8 && b[4] === 0x6a && b[5] === 0x50 && b[6] === 0x20 && b[7] === 0x20) return true;
  return false;
}

/** Largest value of one fragment item: even and below the undefined length 0xFFFFFFFF. */
const MAX_FRAGMENT = 0xfffffffe;

/**
 * Builds encapsulated Pixel Data from encoded frames: one fragment per frame, padded to even
 * length (PS3.5 A.4: a trailing 00 for JPEG family ends after EOI, which decoders ignore).
 * Sets the Basic Offset Table when all offsets fit in 32 bits, else an empty BOT and the
 * Extended Offset Table and its lengths on `ds`.
 */
export function encapsulate(ds: Dataset, encodedFrames: readonly Uint8Array[], opts: { offsetTable?: boolean } = {}): Element {
  const frags: Fragment[] = [];
  const offsets: number[] = [];
  const lengths: number[] = [];
  let pos = 0;
  for (const f of encodedFrames) {
    offsets.push(pos);
    lengths.push(f.length);
    let b = Buffer.from(f.buffer, f.byteOffset, f.length);
    if (b.length % 2 === 1) b = Buffer.concat([b, Buffer.alloc(1)]);
    for (let o = 0; o < b.length; o += MAX_FRAGMENT) {
      const part = b.subarray(o, Math.min(b.length, o + MAX_FRAGMENT));
      frags.push({ offset: -1, length: part.length, data: part });
      pos += 8 + part.length;
    }
  }
  const wantTable = opts.offsetTable ?? true;
  let bot = Buffer.alloc(0);
  ds.delete(0x7fe00001);
  ds.delete(0x7fe00002);
  if (wantTable && encodedFrames.length > 1) {
    if (pos <= 0xffffffff) {
      bot = Buffer.alloc(4 * offsets.length);
      offsets.forEach((o, i) => bot.writeUInt32LE(o, i * 4));
    } else {
      const ob = Buffer.alloc(8 * offsets.length);
      const lb = Buffer.alloc(8 * offsets.length);
      offsets.forEach((o, i) => { ob.writeBigUInt64LE(BigInt(o), i * 8); lb.writeBigUInt64LE(BigInt(lengths[i]!), i * 8); });
      ds.setBytes(0x7fe00001, 'OV', ob);
      ds.setBytes(0x7fe00002, 'OV', lb);
    }
  }
  const el = new Element(0x7fe00010, 'OB', 0xffffffff, -1, undefined, undefined);
  el.fragments = [{ offset: -1, length: bot.length, data: bot }, ...frags];
  ds.set(el);
  return el;
}
