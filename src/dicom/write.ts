/**
 * The data set writer (PS3.5 7): any data set into any uncompressed transfer syntax, as a
 * stream of Buffers, so that bulk values go from their source to the output in chunks.
 *
 * Values are written as they are held, so a data set read and written back in the same
 * syntax without change comes out byte-identical: sequence and item lengths keep their
 * defined/undefined form, odd lengths stay odd, values re-interpreted from UN go back as UN.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { Dataset } from './dataset.js';
import { lookupUid, transferSyntax, TS } from './dictionary/index.js';
import type { Element } from './element.js';
import { DicomError } from './errors.js';
import type { Encoding } from './read.js';
import { groupOf, ItemDelimitationTag, ItemTag, SequenceDelimitationTag, UndefinedLength } from './tag.js';
import { swapBytes } from './values.js';
import { VRS, type VR } from './vr.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './implementation.js';
import { encodingOf } from './part10.js';

export interface WriteOptions {
  /**
   * Group length elements (gggg,0000): 'keep' recomputes those present and adds none (default),
   * 'add' writes one for every group, 'remove' drops them all (PS3.5 7.2: they are optional).
   */
  groupLength?: 'keep' | 'add' | 'remove';
  /** Sequences and items: 'keep' their original form (default), or force 'defined' / 'undefined' lengths. */
  sequenceLength?: 'keep' | 'defined' | 'undefined';
}

const CHUNK = 1 << 20;

/** Encodes a data set; yields Buffers to be written in order. */
export function* encodeDataset(ds: Dataset, enc: Encoding, opts: WriteOptions = {}): Generator<Buffer> {
  const e = new Encoder(enc, opts);
  yield* e.dataset(ds);
}

/** Encoded size of a data set in the given encoding. */
export function encodedSize(ds: Dataset, enc: Encoding, opts: WriteOptions = {}): number {
  return new Encoder(enc, opts).size(ds);
}

/** Encodes a data set into one Buffer (for small data sets: identifiers, command sets, tests). */
export function encodeDatasetToBuffer(ds: Dataset, enc: Encoding, opts: WriteOptions = {}): Buffer {
  return Buffer.concat([...encodeDataset(ds, enc, opts)]);
}

class Encoder {
  private readonly sizes = new Map<Dataset, number>();
  private readonly groupSizes = new Map<Dataset, Map<number, number>>();
  constructor(
    private readonly enc: Encoding,
    private readonly opts: WriteOptions,
    /** A Part 10 data set, whose group 0002 elements are left out (they belong to the meta). */
    private readonly fileDataset?: Dataset,
    /**
     * The consumer is done with each Buffer before it asks for the next (writeDicomFile):
     * chunks of lazy values whose source can fill a buffer (readInto) then share one.
     */
    private readonly transient = false,
  ) {}

  private scratch: Buffer | undefined;

  private seqUndefined(el: Element): boolean {
    const m = this.opts.sequenceLength ?? 'keep';
    return m === 'keep' ? el.length === UndefinedLength : m === 'undefined';
  }
  private itemUndefined(it: Dataset): boolean {
    const m = this.opts.sequenceLength ?? 'keep';
    return m === 'keep' ? it.undefinedLength : m === 'undefined';
  }

  /** Unchanged data written in the encoding it was read in. */
  private keepsOriginalLayout(ds: Dataset): boolean {
    return (this.opts.groupLength ?? 'keep') === 'keep' && !ds.modified
      && ds.explicitVR === this.enc.explicitVR && ds.littleEndian === this.enc.littleEndian;
  }

  /** Whether an element re-interpreted from UN can be written back in its original bytes. */
  private keepUN(el: Element): boolean {
    if (!el.encodedAsUN || !this.enc.explicitVR || !this.enc.littleEndian) return false;
    return !(el.items?.some(isModified) ?? false);
  }

  /** The elements to write, with group lengths handled per the options. */
  private list(ds: Dataset): Element[] {
    const mode = this.opts.groupLength ?? 'keep';
    let els = ds.elements();
    // PS3.10 7.1: File Meta Information elements (group 0002) are never part of the data set of a
    // file. A data set read from a file without a recognisable meta may hold some; written after
    // the new meta they would be read back as part of it (and could override its transfer syntax).
    if (ds === this.fileDataset) els = els.filter((el) => groupOf(el.tag) !== 0x0002);
    if (mode === 'keep') return els as Element[];
    const out: Element[] = [];
    let lastGroup = -1;
    for (const el of els) {
      const g = groupOf(el.tag);
      if (el.tag % 0x10000 === 0) continue;
      if (mode === 'add' && g !== lastGroup) out.push(groupLengthPlaceholder(g));
      lastGroup = g;
      out.push(el);
    }
    return out;
  }

  private vrFor(el: Element): VR {
    if (this.keepUN(el)) return 'UN';
    // A value too long for a 16-bit length field is written as UN (PS3.5 6.2.2).
    if (this.enc.explicitVR && !VRS[el.vr].longLength && el.length > 0xffff && el.length !== UndefinedLength) return 'UN';
    return el.vr;
  }

  private headerSize(vr: VR): number {
    return this.enc.explicitVR && VRS[vr].longLength ? 12 : 8;
  }

  private valueSize(el: Element, ds: Dataset): number {
    if (this.keepUN(el)) return el.encodedAsUN!.length;
    if (el.items) {
      let n = 0;
      for (const it of el.items) n += 8 + this.size(it) + (this.itemUndefined(it) ? 8 : 0);
      return n + (this.seqUndefined(el) ? 8 : 0);
    }
    if (el.fragments) {
      let n = 8;
      for (const f of el.fragments) n += 8 + f.length;
      return n;
    }
    if (el.tag % 0x10000 === 0) return 4;
    void ds;
    return el.length;
  }

  size(ds: Dataset): number {
    const known = this.sizes.get(ds);
    if (known !== undefined) return known;
    let total = 0;
    const groups = new Map<number, number>();
    for (const el of this.list(ds)) {
      const n = this.headerSize(this.vrFor(el)) + this.valueSize(el, ds);
      total += n;
      const g = groupOf(el.tag);
      if (el.tag % 0x10000 !== 0) groups.set(g, (groups.get(g) ?? 0) + n);
    }
    this.sizes.set(ds, total);
    this.groupSizes.set(ds, groups);
    return total;
  }

  private header(tagNum: number, vr: VR | null, length: number): Buffer {
    const le = this.enc.littleEndian;
    const long = vr !== null && this.enc.explicitVR && VRS[vr].longLength;
    const b = Buffer.alloc(long ? 12 : 8);
    const g = Math.floor(tagNum / 0x10000), e = tagNum % 0x10000;
    if (le) { b.writeUInt16LE(g, 0); b.writeUInt16LE(e, 2); } else { b.writeUInt16BE(g, 0); b.writeUInt16BE(e, 2); }
    if (vr === null || !this.enc.explicitVR) {
      le ? b.writeUInt32LE(length, 4) : b.writeUInt32BE(length, 4);
    } else {
      // Two ASCII characters: set directly (Buffer.write costs more than the rest of the header).
      b[4] = vr.charCodeAt(0);
      b[5] = vr.charCodeAt(1);
      if (long) le ? b.writeUInt32LE(length, 8) : b.writeUInt32BE(length, 8);
      else le ? b.writeUInt16LE(length, 6) : b.writeUInt16BE(length, 6);
    }
    return b;
  }

  *dataset(ds: Dataset): Generator<Buffer> {
    this.size(ds);
    const groups = this.groupSizes.get(ds)!;
    for (const el of this.list(ds)) yield* this.element(el, ds, groups);
  }

  private *element(el: Element, ds: Dataset, groups: Map<number, number>): Generator<Buffer> {
    const vr = this.vrFor(el);
    if (el.tag % 0x10000 === 0) {
      yield this.header(el.tag, 'UL', 4);
      if (this.keepsOriginalLayout(ds) && el.length === 4) {
        // Unchanged data in its own encoding: the value as found, even if the writer that made it
        // got it wrong, so that reading and writing back is byte-identical.
        yield el.bytes();
        return;
      }
      // Group length: the bytes of the group's elements that follow (PS3.5 7.2).
      const v = Buffer.alloc(4);
      const n = groups.get(groupOf(el.tag)) ?? 0;
      this.enc.littleEndian ? v.writeUInt32LE(n, 0) : v.writeUInt32BE(n, 0);
      yield v;
      return;
    }
    if (this.keepUN(el)) {
      const u = el.encodedAsUN!;
      yield this.header(el.tag, 'UN', el.length);
      yield* chunks(el.origin!.read.bind(el.origin!), u.offset, u.length);
      return;
    }
    if (el.items) {
      const undef = this.seqUndefined(el);
      yield this.header(el.tag, vr, undef ? UndefinedLength : this.valueSize(el, ds));
      for (const it of el.items) {
        const iu = this.itemUndefined(it);
        yield this.header(ItemTag, null, iu ? UndefinedLength : this.size(it));
        yield* this.dataset(it);
        if (iu) yield this.header(ItemDelimitationTag, null, 0);
      }
      if (undef) yield this.header(SequenceDelimitationTag, null, 0);
      return;
    }
    if (el.fragments) {
      if (!this.enc.littleEndian) throw new DicomError('encapsulated pixel data cannot be written big endian (PS3.5 A.4)');
      yield this.header(el.tag, vr, UndefinedLength);
      for (const f of el.fragments) {
        yield this.header(ItemTag, null, f.length);
        if (f.data) yield f.data;
        else yield* chunks((p, n) => el.slice(p - el.offset, n), f.offset, f.length);
      }
      yield this.header(SequenceDelimitationTag, null, 0);
      return;
    }
    yield this.header(el.tag, vr, el.length);
    const swap = ds.littleEndian !== this.enc.littleEndian;
    if (!el.isLazy) {
      const b = el.bytes();
      yield swap ? swapBytes(b, el.vr) : b;
      return;
    }
    const origin = el.origin;
    if (this.transient && origin?.readInto) {
      // One buffer for every chunk: fresh memory costs more to touch than to fill (a VM bills
      // each first touch of a page), and the consumer has written a chunk before the next.
      // swapBytes copies, so a swapped chunk is a Buffer of its own.
      this.scratch ??= Buffer.allocUnsafe(CHUNK);
      for (let p = 0; p < el.length; p += CHUNK) {
        const c = this.scratch.subarray(0, Math.min(CHUNK, el.length - p));
        origin.readInto(el.offset + p, c);
        yield swap ? swapBytes(c, el.vr) : c;
      }
      return;
    }
    for (const c of chunks((p, n) => el.slice(p, n), 0, el.length)) yield swap ? swapBytes(c, el.vr) : c;
  }
}

function* chunks(read: (pos: number, n: number) => Buffer, start: number, length: number): Generator<Buffer> {
  for (let p = 0; p < length; p += CHUNK) yield read(start + p, Math.min(CHUNK, length - p));
}

function isModified(ds: Dataset): boolean {
  if (ds.modified) return true;
  for (const el of ds.elements()) if (el.items?.some(isModified)) return true;
  return false;
}

function groupLengthPlaceholder(g: number): Element {
  // Value is computed at write time from the group's encoded size.
  const ds = new Dataset();
  return ds.setBytes(g * 0x10000, 'UL', Buffer.alloc(4));
}

// --- Part 10 files ---

export interface FileWriteInput {
  dataset: Dataset;
  /** Existing meta to keep (its Transfer Syntax UID is updated); created when absent. */
  meta?: Dataset;
  transferSyntaxUID: string;
  preamble?: Buffer;
  /** (0002,0016) Source Application Entity Title for new meta. */
  sourceAET?: string;
}

/**
 * Builds the File Meta Information (PS3.10 7.1): version 00\01, SOP class and instance from
 * the data set, the transfer syntax, Tracer's implementation identity.
 */
export function buildFileMeta(dataset: Dataset, transferSyntaxUID: string, keep?: Dataset, sourceAET?: string): Dataset {
  const meta = new Dataset(true);
  if (keep) for (const el of keep.elements()) if (el.tag !== 0x00020000) meta.add(el);
  meta.setBytes(0x00020000, 'UL', Buffer.alloc(4));
  if (!meta.has(0x00020001)) meta.setBytes(0x00020001, 'OB', Buffer.from([0, 1]));
  const sopClass = dataset.string(0x00080016) ?? meta.string(0x00020002);
  const sopInstance = dataset.string(0x00080018) ?? meta.string(0x00020003);
  if (sopClass) meta.setString(0x00020002, 'UI', sopClass);
  if (sopInstance) meta.setString(0x00020003, 'UI', sopInstance);
  meta.setString(0x00020010, 'UI', transferSyntaxUID);
  if (!keep) {
    meta.setString(0x00020012, 'UI', IMPLEMENTATION_CLASS_UID);
    meta.setString(0x00020013, 'SH', IMPLEMENTATION_VERSION_NAME);
    if (sourceAET) meta.setString(0x00020016, 'AE', sourceAET);
  }
  return meta;
}

/** Encodes a whole Part 10 file: preamble, "DICM", meta, data set (deflated when the syntax says). */
export function encodeDicomFile(input: FileWriteInput, opts: WriteOptions = {}): Generator<Buffer> {
  return encodeFile(input, opts, false);
}

/** As encodeDicomFile; `transient`: each Buffer is consumed before the next is asked for. */
function* encodeFile(input: FileWriteInput, opts: WriteOptions, transient: boolean): Generator<Buffer> {
  const ts = transferSyntax(input.transferSyntaxUID);
  if (!ts) throw new DicomError(`unknown transfer syntax '${input.transferSyntaxUID}'`);
  const meta = input.meta && input.meta.string(0x00020010) === ts.uid && !input.meta.modified
    ? input.meta
    : buildFileMeta(input.dataset, ts.uid, input.meta, input.sourceAET);
  yield input.preamble ?? Buffer.alloc(128);
  yield Buffer.from('DICM', 'latin1');
  // The meta group length is mandatory (PS3.10 7.1), so it is always written.
  const metaOpts: WriteOptions = { groupLength: meta.has(0x00020000) ? 'keep' : 'add' };
  yield* encodeDataset(meta, { explicitVR: true, littleEndian: true }, metaOpts);
  const enc = encodingOf(ts.uid);
  // A deflated body is collected whole before deflating: no chunk may share a buffer.
  const body = new Encoder(enc, opts, input.dataset, transient && !enc.deflated).dataset(input.dataset);
  if (enc.deflated) {
    yield deflateRawSync(Buffer.concat([...body]));
    return;
  }
  yield* body;
}


/**
 * Writes a Part 10 file atomically: into a temporary file beside the target, fsync, rename.
 * A crash leaves either the old file or the new one, never a partial file.
 */
export function writeDicomFile(path: string, input: FileWriteInput, opts: WriteOptions = {}): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  const fd = openSync(tmp, 'wx');
  try {
    // Each Buffer is written before the next is made (chunks may share one buffer).
    for (const b of encodeFile(input, opts, true)) {
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    }
    fsyncSync(fd);
    closeSync(fd);
  } catch (err) {
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* nothing to clean */ }
    throw err;
  }
  renameSync(tmp, path);
}

/** A readable name for a transfer syntax UID. */
export function transferSyntaxName(uid: string): string {
  return lookupUid(uid)?.name ?? uid;
}

export { TS };
