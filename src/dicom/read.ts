/**
 * The data set parser (PS3.5 7): Implicit VR Little Endian, Explicit VR Little and Big Endian,
 * defined and undefined lengths, nested sequences and encapsulated pixel data.
 *
 * Values up to `bulkThreshold` bytes are taken as views of the source; larger ones are only
 * located (offset and length) and read when asked for. Every length is checked against the
 * bytes that remain before anything is allocated, so garbage gives a DicomParseError naming
 * the offset, never a huge allocation or a hang.
 */
import { Dataset } from './dataset.js';
import { lookupPrivate, lookupTag } from './dictionary/index.js';
import { Element, type Fragment } from './element.js';
import { DicomParseError } from './errors.js';
import type { ByteSource } from './source.js';
import {
  formatTag, groupOf, ItemDelimitationTag, ItemTag, PixelDataTag, SequenceDelimitationTag,
  UndefinedLength, type Tag,
} from './tag.js';
import { isVR, vrInfo, vrOfBytes, type VR } from './vr.js';

export interface Encoding {
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
}

export interface ReadOptions {
  /** Values longer than this stay in the source until read (default 64 KiB). */
  bulkThreshold?: number;
  /** Stop before the first element with a tag >= this one at the top level (e.g. PixelData). */
  stopAtTag?: Tag;
  /** Stop before the first top-level element of another group than the first (for File Meta Information). */
  stopAtGroupChange?: boolean;
  /** Maximum nesting of sequences (default 64): deeper is taken as corrupt data. */
  maxDepth?: number;
  /**
   * Recover from truncation and overrunning lengths as pydicom and DCMTK do (values cut at the
   * end of the data, items clamped to their sequence), recording each repair in `warnings`.
   * Off by default: malformed input is an error.
   */
  lenient?: boolean;
  /** Receives a line for each repair made in lenient mode. */
  warnings?: string[];
}

export const ImplicitLittle: Encoding = { explicitVR: false, littleEndian: true };
export const ExplicitLittle: Encoding = { explicitVR: true, littleEndian: true };
export const ExplicitBig: Encoding = { explicitVR: true, littleEndian: false };

const DEFAULT_BULK = 64 * 1024;
/** Bytes asked of the source at a time: element and item headers are decoded from this view. */
const CHUNK = 8 * 1024;
const EMPTY = Buffer.alloc(0);

/** Unsigned 16/32-bit integers straight from the bytes (the Buffer methods check bounds first). */
function u16(b: Buffer, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}
function u32(b: Buffer, o: number, le: boolean): number {
  return le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000
    : b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/** Parses a data set occupying [start, end) of a source. */
export function readDataset(src: ByteSource, start: number, end: number, enc: Encoding, opts: ReadOptions = {}): Dataset {
  return readDatasetWithEnd(src, start, end, enc, opts).dataset;
}

/** Parses a data set and also returns where parsing stopped (for stopAtTag). */
export function readDatasetWithEnd(src: ByteSource, start: number, end: number, enc: Encoding, opts: ReadOptions = {}): { dataset: Dataset; end: number } {
  const p = new Parser(src, enc, opts);
  const ds = new Dataset(enc.littleEndian);
  ds.explicitVR = enc.explicitVR;
  p.pos = start;
  p.readElements(ds, end, false, 0, opts.stopAtTag);
  return { dataset: ds, end: p.pos };
}

class Parser {
  pos = 0;
  private explicit: boolean;
  private le: boolean;
  private readonly bulk: number;
  private readonly maxDepth: number;
  private readonly lenient: boolean;
  private readonly stopAtGroupChange: boolean;
  private readonly warnings: string[] | undefined;
  /** Number of lenient repairs so far. */
  private repairs = 0;
  /** The current view of the source, covering [winStart, winEnd). */
  private win: Buffer = EMPTY;
  private winStart = 0;
  private winEnd = 0;

  constructor(private readonly src: ByteSource, enc: Encoding, opts: ReadOptions) {
    this.explicit = enc.explicitVR;
    this.le = enc.littleEndian;
    this.bulk = opts.bulkThreshold ?? DEFAULT_BULK;
    this.maxDepth = opts.maxDepth ?? 64;
    this.lenient = opts.lenient ?? false;
    this.stopAtGroupChange = opts.stopAtGroupChange ?? false;
    this.warnings = opts.warnings;
  }

  private fail(reason: string, at = this.pos): never {
    throw new DicomParseError(reason, at, this.src.name);
  }

  /** In lenient mode records the repair and returns true; otherwise fails. */
  private repair(reason: string, at: number): true {
    if (!this.lenient) this.fail(reason, at);
    this.repairs++;
    this.warnings?.push(`${reason} at byte offset ${at} (repaired)`);
    return true;
  }

  /**
   * Makes the n bytes at pos readable in `win` and returns their offset there; advances pos.
   * The view is refreshed only when they fall outside it, so headers cost no allocation.
   */
  private header(n: number): number {
    const pos = this.pos;
    if (pos + n > this.src.size) {
      this.fail(`unexpected end of data: need ${n} bytes, ${this.src.size - pos} remain`);
    }
    if (pos < this.winStart || pos + n > this.winEnd) {
      const len = Math.min(Math.max(CHUNK, n), this.src.size - pos);
      this.win = this.src.read(pos, len);
      this.winStart = pos;
      this.winEnd = pos + len;
    }
    this.pos = pos + n;
    return pos - this.winStart;
  }

  /** The bytes at pos (before `end`) begin with this group number (false when fewer than 2 remain). */
  private startsGroup(group: number, end: number): boolean {
    if (this.pos + 2 > end) return false;
    const b = this.src.read(this.pos, 2);
    return (this.le ? b.readUInt16LE(0) : b.readUInt16BE(0)) === group;
  }

  private readTag(b: Buffer, o: number): Tag {
    return u16(b, o, this.le) * 0x10000 + u16(b, o + 2, this.le);
  }

  /**
   * Reads elements into `ds` until `end` (defined length) or an Item Delimitation Item
   * (`untilDelimiter`, undefined-length item).
   */
  readElements(ds: Dataset, end: number, untilDelimiter: boolean, depth: number, stopAt?: Tag): void {
    if (depth > this.maxDepth) this.fail(`sequences nested deeper than ${this.maxDepth}`);
    while (this.pos < end) {
      const at = this.pos;
      if (this.pos + 8 > end || this.pos + 8 > this.src.size) {
        // Reading the File Meta Information (PS3.10 7.1): a tail too short for a header that does
        // not start with group 0002 belongs to the data set, e.g. the deflate stream of a small
        // data set (PS3.5 A.5), which may be as short as 2 bytes. The data set reader judges it.
        if (depth === 0 && this.stopAtGroupChange && !this.startsGroup(0x0002, Math.min(end, this.src.size))) return;
        this.repair(`truncated element header: ${Math.min(end, this.src.size) - this.pos} bytes left`, at);
        this.pos = Math.min(end, this.src.size);
        return;
      }
      let o = this.header(8);
      let h = this.win;
      const t = this.readTag(h, o);
      if (t === ItemDelimitationTag) {
        if (untilDelimiter) return;
        // A stray delimiter at data set level: tolerated by DCMTK and pydicom; skip it.
        continue;
      }
      if (depth === 0 && ((stopAt !== undefined && t >= stopAt) || (this.stopAtGroupChange && groupOf(t) !== 0x0002))) {
        this.pos = at;
        return;
      }
      if (t === ItemTag || t === SequenceDelimitationTag) {
        this.fail(`unexpected ${formatTag(t)} item tag in data set`, at);
      }
      let vr: VR;
      let length: number;
      let encodedUN = false;
      if (this.explicit) {
        const c0 = h[o + 4]!, c1 = h[o + 5]!;
        const known = vrOfBytes(c0, c1);
        if (known === undefined) {
          this.fail(`invalid VR '${printable(c0)}${printable(c1)}' for ${formatTag(t)}`, at + 4);
        }
        vr = known;
        if (vrInfo(vr)!.longLength) {
          if (this.pos + 4 > this.src.size) {
            this.repair(`truncated element header of ${formatTag(t)}`, at);
            this.pos = this.src.size;
            return;
          }
          o = this.header(4);
          h = this.win;
          length = u32(h, o, this.le);
        } else {
          length = u16(h, o + 6, this.le);
        }
        if (vr === 'UN') {
          encodedUN = true;
          vr = this.dictionaryVR(t, ds, length);
        }
      } else {
        length = u32(h, o + 4, this.le);
        vr = this.dictionaryVR(t, ds, length);
      }
      const valueAt = this.pos;
      const el = this.readValue(ds, t, vr, length, valueAt, depth, encodedUN);
      ds.add(el);
      if (this.pos > end && !untilDelimiter) {
        this.repair(`element ${formatTag(t)} runs past the end of its enclosing item or data set (ends at ${end})`, at);
      }
    }
    if (untilDelimiter) this.repair('undefined-length item never closed by an Item Delimitation Item', this.pos);
  }

  private readValue(ds: Dataset, t: Tag, vr: VR, length: number, valueAt: number, depth: number, encodedUN: boolean): Element {
    const src = this.src;
    if (vr === 'SQ' || (length === UndefinedLength && vr === 'UN')) {
      // An undefined-length UN is a sequence in Implicit VR Little Endian (PS3.5 6.2.2).
      const el = new Element(t, 'SQ', length, valueAt, undefined, src);
      const saved = { explicit: this.explicit, le: this.le };
      const repairsBefore = this.repairs;
      if (encodedUN) { this.explicit = false; this.le = true; }
      try {
        el.items = this.readItems(ds, length, depth);
      } finally {
        this.explicit = saved.explicit; this.le = saved.le;
      }
      // The original UN bytes are only worth keeping when they are well-formed: after a lenient
      // repair inside, they would carry the broken lengths into what Tracer writes.
      if (encodedUN && this.repairs === repairsBefore) el.encodedAsUN = { offset: valueAt, length: this.pos - valueAt };
      return el;
    }
    if (length === UndefinedLength) {
      // Encapsulated pixel data (PS3.5 A.4); other undefined-length values are not allowed.
      if (t !== PixelDataTag && vr !== 'OB' && vr !== 'OW') {
        this.fail(`undefined length for ${formatTag(t)} with VR ${vr}`, valueAt - 4);
      }
      const el = new Element(t, vr, length, valueAt, undefined, src);
      el.fragments = this.readFragments();
      return el;
    }
    if (valueAt + length > src.size) {
      this.repair(`length ${length} of ${formatTag(t)} runs past the end of the data (${src.size - valueAt} bytes remain)`, valueAt - 4);
      length = src.size - valueAt;
    }
    this.pos = valueAt + length;
    let el: Element;
    const o = valueAt - this.winStart;
    if (length > this.bulk) el = new Element(t, vr, length, valueAt, undefined, src);
    // Small values stay in the parser's view of the source when they lie in it (no view per element).
    else if (o >= 0 && valueAt + length <= this.winEnd) el = new Element(t, vr, length, valueAt, this.win, src, o);
    else el = new Element(t, vr, length, valueAt, src.read(valueAt, length), src);
    if (encodedUN) el.encodedAsUN = { offset: valueAt, length };
    return el;
  }

  private readItems(parent: Dataset, length: number, depth: number): Dataset[] {
    const items: Dataset[] = [];
    const undefinedSeq = length === UndefinedLength;
    let end = undefinedSeq ? this.src.size : this.pos + length;
    if (end > this.src.size) {
      this.repair(`sequence length ${length} runs past the end of the data`, this.pos - 4);
      end = this.src.size;
    }
    while (this.pos < end) {
      const at = this.pos;
      if (this.pos + 8 > end) {
        this.repair('truncated item header', at);
        this.pos = end;
        break;
      }
      const o = this.header(8);
      const t = this.readTag(this.win, o);
      const len = u32(this.win, o + 4, this.le);
      if (t === SequenceDelimitationTag) {
        if (undefinedSeq) return items;
        this.fail('Sequence Delimitation Item in a defined-length sequence', at);
      }
      if (t !== ItemTag) this.fail(`expected an Item (FFFE,E000) in sequence, found ${formatTag(t)}`, at);
      const item = new Dataset(this.le, parent);
      item.explicitVR = this.explicit;
      if (len === UndefinedLength) {
        item.undefinedLength = true;
        this.readElements(item, this.src.size, true, depth + 1);
      } else {
        let itemEnd = this.pos + len;
        if (itemEnd > end) {
          this.repair(`item length ${len} runs past the end of its sequence`, at + 4);
          itemEnd = end;
        }
        this.readElements(item, itemEnd, false, depth + 1);
      }
      items.push(item);
    }
    if (undefinedSeq) this.repair('undefined-length sequence never closed by a Sequence Delimitation Item', this.pos);
    return items;
  }

  private readFragments(): Fragment[] {
    const frags: Fragment[] = [];
    const src = this.src;
    for (;;) {
      const at = this.pos;
      if (this.pos + 8 > src.size) {
        this.repair('encapsulated pixel data never closed by a Sequence Delimitation Item', at);
        this.pos = src.size;
        return frags;
      }
      const o = this.header(8);
      const t = this.readTag(this.win, o);
      let len = u32(this.win, o + 4, this.le);
      if (t === SequenceDelimitationTag) return frags;
      if (t !== ItemTag) this.fail(`expected a fragment Item (FFFE,E000) in encapsulated pixel data, found ${formatTag(t)}`, at);
      if (len === UndefinedLength) this.fail('fragment with undefined length in encapsulated pixel data', at + 4);
      if (this.pos + len > src.size) {
        this.repair(`fragment length ${len} runs past the end of the data`, at + 4);
        len = src.size - this.pos;
      }
      const f: Fragment = { offset: this.pos, length: len };
      // The Basic Offset Table and small fragments are read now; large ones stay in the source.
      if (len <= this.bulk) f.data = src.read(this.pos, len);
      frags.push(f);
      this.pos += len;
    }
  }

  /**
   * The VR of an element whose encoding does not say (Implicit VR, or UN): from the standard
   * dictionary, the private dictionaries through the block's creator (PS3.5 7.8.1), and the
   * data set's Pixel Representation for 'US or SS' (PS3.5 A.1 note).
   */
  dictionaryVR(t: Tag, ds: Dataset, length: number): VR {
    const g = groupOf(t);
    const e = t % 0x10000;
    if (e === 0) return 'UL';
    if ((g & 1) === 1) {
      if (g <= 7 || g === 0xffff) return 'UN';
      if (e >= 0x10 && e <= 0xff) return 'LO';
      if (e < 0x1000) return 'UN';
      const creator = ds.privateCreator(g, e >> 8);
      if (creator === undefined) return 'UN';
      const pe = lookupPrivate(creator, t);
      return pe ? resolveAmbiguous(pe.vr, t, ds, length) : 'UN';
    }
    const entry = lookupTag(t);
    if (!entry || !entry.vr) return 'UN';
    return resolveAmbiguous(entry.vr, t, ds, length);
  }
}

function resolveAmbiguous(vr: string, t: Tag, ds: Dataset, length: number): VR {
  if (isVR(vr)) return vr;
  if (vr.startsWith('US or SS')) {
    if (vr.includes('OW') && length > 2 && length !== UndefinedLength && t !== 0x00283002) return 'OW';
    return ds.pixelRepresentation() === 1 ? 'SS' : 'US';
  }
  // Implicit VR native pixel data is OW (PS3.5 A.1); encapsulated is OB (PS3.5 A.4).
  if (vr === 'OB or OW') return length === UndefinedLength ? 'OB' : 'OW';
  if (vr === 'US or OW') return 'OW';
  const first = vr.slice(0, 2);
  return isVR(first) ? first : 'UN';
}

function printable(c: number): string {
  return c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
}
