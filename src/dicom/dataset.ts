/**
 * A data set (PS3.5 7): elements keyed by tag, values decoded on access.
 */
import { CharacterSet } from './charset.js';
import { lookupKeyword } from './dictionary/index.js';
import { Element } from './element.js';
import type { Tag } from './tag.js';
import { formatTag, parseTag } from './tag.js';
import { decodeValues, encodeNumbers, encodeStrings, type Value } from './values.js';
import type { VR } from './vr.js';
import { VRS } from './vr.js';

/** A tag number or a keyword of the dictionary ('PatientName'), or 'gggg,eeee'. */
export type TagRef = Tag | string;

export const SpecificCharacterSet: Tag = 0x00080005;

/** Resolves a keyword or `gggg,eeee` to a tag; throws a clear error for unknown names. */
export function resolveTag(ref: TagRef): Tag {
  if (typeof ref === 'number') return ref;
  const t = parseTag(ref);
  if (t !== undefined) return t;
  const e = lookupKeyword(ref);
  if (!e) throw new Error(`unknown attribute keyword '${ref}'`);
  return e.tag;
}

export class Dataset {
  private readonly byTag = new Map<Tag, Element>();
  /** Elements in tag order, or null when that order must be re-established. */
  private sorted: Element[] | null = [];
  /**
   * How many elements at the end of `sorted` are not in `byTag` yet: elements appended in
   * ascending order (as the parser reads them) are indexed on first lookup, not one by one.
   */
  private unindexed = 0;
  private charsetCache: CharacterSet | undefined;
  /** Set by every change, so that writers know whether original encodings still hold. */
  modified = false;
  /** For an item: it was encoded with undefined length (PS3.5 7.5.1). */
  undefinedLength = false;
  /** Whether the source encoding had explicit VRs (set by the parser; writers keep original group lengths when it matches). */
  explicitVR: boolean | undefined;

  constructor(
    /** Byte order of the raw values held by the elements. */
    public littleEndian = true,
    /** The enclosing data set, for items: Specific Character Set and Pixel Representation are inherited. */
    public parent?: Dataset,
  ) {}

  /** The index by tag, brought up to date. */
  private get map(): Map<Tag, Element> {
    if (this.unindexed > 0) {
      const s = this.sorted!;
      for (let i = s.length - this.unindexed; i < s.length; i++) this.byTag.set(s[i]!.tag, s[i]!);
      this.unindexed = 0;
    }
    return this.byTag;
  }

  get size(): number {
    return this.map.size;
  }

  has(ref: TagRef): boolean {
    return this.map.has(resolveTag(ref));
  }

  get(ref: TagRef): Element | undefined {
    return this.map.get(resolveTag(ref));
  }

  /** Elements in ascending tag order, as PS3.5 7.1 requires them to be encoded. */
  elements(): readonly Element[] {
    if (this.sorted === null) this.sorted = [...this.map.values()].sort((a, b) => a.tag - b.tag);
    return this.sorted;
  }

  /** Appends an element read from a source (the parser keeps ascending order when the input has it). */
  add(el: Element): void {
    const s = this.sorted;
    if (s !== null && (s.length === 0 || s[s.length - 1]!.tag < el.tag)) {
      // Ascending: cannot replace an element; indexed when first looked up.
      s.push(el);
      this.unindexed++;
      if (el.tag === SpecificCharacterSet) this.charsetCache = undefined;
      return;
    }
    const prev = this.map.get(el.tag);
    this.map.set(el.tag, el);
    if (this.sorted !== null) {
      if (prev !== undefined) this.sorted = null;
      else if (this.sorted.length === 0 || this.sorted[this.sorted.length - 1]!.tag < el.tag) this.sorted.push(el);
      else this.sorted = null;
    }
    if (el.tag === SpecificCharacterSet) this.charsetCache = undefined;
  }

  /** Inserts or replaces an element. */
  set(el: Element): void {
    this.add(el);
    this.touch();
  }

  delete(ref: TagRef): boolean {
    const t = resolveTag(ref);
    const had = this.map.delete(t);
    if (had) {
      this.sorted = null;
      if (t === SpecificCharacterSet) this.charsetCache = undefined;
      this.touch();
    }
    return had;
  }

  /** Marks this data set and its ancestors as changed. */
  touch(): void {
    for (let d: Dataset | undefined = this; d; d = d.parent) d.modified = true;
  }

  /** The Specific Character Set in force here (own, else inherited: PS3.5 7.5.3 / PS3.3 C.12.1.1.2). */
  get charset(): CharacterSet {
    if (this.charsetCache) return this.charsetCache;
    const el = this.map.get(SpecificCharacterSet);
    if (el) {
      const terms = el.bytes().toString('latin1').split('\\').map((s) => s.trim());
      this.charsetCache = CharacterSet.from(terms);
    } else {
      this.charsetCache = this.parent ? this.parent.charset : CharacterSet.from(undefined);
    }
    return this.charsetCache;
  }

  /** All values of an element, decoded by VR (strings, numbers, tags as numbers, or bytes). */
  values(ref: TagRef): Value[] {
    const el = this.get(ref);
    return el ? decodeValues(el, this) : [];
  }

  /** The first value as a string (numbers are formatted), or undefined. */
  string(ref: TagRef): string | undefined {
    const v = this.values(ref)[0];
    return v === undefined || v === null ? undefined : typeof v === 'string' ? v : String(v);
  }

  strings(ref: TagRef): string[] {
    return this.values(ref).map((v) => (typeof v === 'string' ? v : String(v)));
  }

  /** The first value as a number (DS/IS parsed), or undefined. */
  number(ref: TagRef): number | undefined {
    const v = this.values(ref)[0];
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'string' && v.trim() !== '') {
      const n = Number(v);
      return Number.isNaN(n) ? undefined : n;
    }
    return undefined;
  }

  numbers(ref: TagRef): number[] {
    return this.values(ref).map((v) => (typeof v === 'bigint' ? Number(v) : Number(v)));
  }

  /** Items of a sequence element (empty when absent). */
  sequence(ref: TagRef): Dataset[] {
    return this.get(ref)?.items ?? [];
  }

  /** The Private Creator reserving block (gggg,bb00-bbFF) of a private group (PS3.5 7.8.1). */
  privateCreator(group: number, block: number): string | undefined {
    const el = this.map.get(group * 0x10000 + block);
    return el ? el.bytes().toString('latin1').replace(/[ \0]+$/, '').trim() : undefined;
  }

  /** Pixel Representation in force (0028,0103), looked up in enclosing data sets too; for US/SS ambiguity. */
  pixelRepresentation(): number | undefined {
    for (let d: Dataset | undefined = this; d; d = d.parent) {
      const el = d.map.get(0x00280103);
      if (el && el.length >= 2) {
        const b = el.bytes();
        return d.littleEndian ? b.readUInt16LE(0) : b.readUInt16BE(0);
      }
    }
    return undefined;
  }

  // --- setters (values are encoded in this data set's byte order and character set) ---

  /** Sets a text element (or numbers as text for DS/IS) with one or more values. */
  setString(ref: TagRef, vr: VR, value: string | readonly string[]): Element {
    const values = typeof value === 'string' ? [value] : value;
    const el = Element.of(resolveTag(ref), vr, encodeStrings(values, vr, this.charset));
    this.set(el);
    return el;
  }

  /** Sets a binary numeric element (US, SS, UL, SL, FL, FD, SV, UV, AT, OW, OF...). */
  setNumbers(ref: TagRef, vr: VR, values: readonly (number | bigint)[]): Element {
    const el = Element.of(resolveTag(ref), vr, encodeNumbers(values, vr, this.littleEndian));
    this.set(el);
    return el;
  }

  /** Sets raw bytes (OB, UN, ...), given in this data set's byte order. */
  setBytes(ref: TagRef, vr: VR, bytes: Buffer): Element {
    const el = Element.of(resolveTag(ref), vr, bytes);
    this.set(el);
    return el;
  }

  /** Sets a sequence; the items become children of this data set. */
  setSequence(ref: TagRef, items: Dataset[]): Element {
    const el = new Element(resolveTag(ref), 'SQ', 0, -1, undefined, undefined);
    for (const it of items) it.parent = this;
    el.items = items;
    this.set(el);
    return el;
  }

  toString(): string {
    return `Dataset(${this.elements().map((e) => formatTag(e.tag) + ' ' + e.vr).join(', ')})`;
  }
}

export function isStringVR(vr: VR): boolean {
  return VRS[vr].isString;
}
