/**
 * The DICOM JSON model (PS3.18 F.2) in both directions.
 */
import { basename, dirname, isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chooseSpecificCharacterSet } from './charset.js';
import { Dataset, SpecificCharacterSet } from './dataset.js';
import { lookupPrivate, lookupTag } from './dictionary/index.js';
import { Element } from './element.js';
import { DicomError } from './errors.js';
import { groupOf, SequenceDelimitationTag, tagKey, type Tag } from './tag.js';
import { decodeText, decodeValues, encodeNumbers, encodeStrings, trimValue } from './values.js';
import { isVR, VRS, vrInfo, type VR } from './vr.js';

export type JsonPN = { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
export type JsonValue = string | number | null | JsonPN | JsonDataset;
export interface JsonAttribute {
  vr: string;
  Value?: JsonValue[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type JsonDataset = Record<string, JsonAttribute>;

export interface ToJsonOptions {
  /**
   * Binary values longer than this many bytes are given as a BulkDataURI (when `bulkDataURI`
   * can make one) instead of InlineBinary. Default: Infinity (everything inline).
   */
  bulkDataThreshold?: number;
  /** Makes the URI for a bulk value; by default a file: URI with offset and length when the value lives in a file. */
  bulkDataURI?: (el: Element) => string | undefined;
}

const BINARY_VRS = new Set<VR>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const NUMBER_VRS = new Set<VR>(['FL', 'FD', 'SL', 'SS', 'UL', 'US', 'SV', 'UV', 'DS', 'IS']);

/** File names URL-encode to themselves when made of these characters only (and are not '.' or '..'). */
const PLAIN_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._~-]+$/;
/** The last file and directory made into URLs: the files of a directory share the directory's. */
let lastFile = { name: '', href: '' };
let lastDir = { name: '', href: '' };

/** pathToFileURL(name).href, computed once per directory for plainly named files. */
function fileURL(name: string): string {
  if (lastFile.name === name && isAbsolute(name)) return lastFile.href;
  let href: string;
  const base = basename(name);
  if (PLAIN_NAME.test(base) && !name.endsWith('/') && !name.endsWith('\\')) {
    const dir = dirname(name);
    // Relative names resolve against the working directory, which may change.
    const key = isAbsolute(dir) ? dir : `${process.cwd()}\0${dir}`;
    if (lastDir.name !== key) lastDir = { name: key, href: pathToFileURL(dir).href };
    href = lastDir.href.endsWith('/') ? lastDir.href + base : `${lastDir.href}/${base}`;
  } else {
    href = pathToFileURL(name).href;
  }
  lastFile = { name, href };
  return href;
}

/** A file: URI naming the value's bytes in its source file (offset and length, PS3.18 F.2.6). */
export function fileBulkDataURI(el: Element): string | undefined {
  const name = el.origin?.name;
  if (!name || el.offset < 0 || name.endsWith('(inflated)')) return undefined;
  return `${fileURL(name)}?offset=${el.offset}&length=${el.length}`;
}

/** Converts a data set to the DICOM JSON model. */
export function toJSON(ds: Dataset, opts: ToJsonOptions = {}): JsonDataset {
  const out: JsonDataset = {};
  for (const el of ds.elements()) {
    // Group lengths are not part of the JSON model (PS3.18 F.2.1).
    if (el.tag % 0x10000 === 0) continue;
    out[tagKey(el.tag)] = jsonAttribute(el, ds, opts);
  }
  return out;
}

/** One element of `ds` in the DICOM JSON model (the value toJSON gives it). */
export function jsonAttribute(el: Element, ds: Dataset, opts: ToJsonOptions = {}): JsonAttribute {
  const vr = el.vr;
  // Each attribute object is made whole, as one literal: adding a property to `{ vr }`
  // afterwards costs a shape transition and a property store allocated per attribute.
  if (el.items) return el.items.length > 0 ? { vr, Value: el.items.map((it) => toJSON(it, opts)) } : { vr };
  if (el.length === 0) return { vr };
  if (el.fragments || BINARY_VRS.has(vr)) {
    const uri = (el.fragments ? Infinity : el.length) > (opts.bulkDataThreshold ?? Infinity) ? (opts.bulkDataURI ?? fileBulkDataURI)(el) : undefined;
    return uri ? { vr, BulkDataURI: uri } : { vr, InlineBinary: binaryValue(el, ds).toString('base64') };
  }
  const vals = jsonValues(el, ds);
  return vals.length > 0 ? { vr, Value: vals } : { vr };
}

/**
 * The DICOM JSON text of a data set: the document JSON.stringify(toJSON(ds, opts)) gives,
 * written directly, without the intermediate objects. Keys are in tag order; JSON.stringify
 * would put all-digit keys such as "30060020" first, the only difference, and one no JSON
 * reader sees.
 */
export function toJSONText(ds: Dataset, opts: ToJsonOptions = {}): string {
  const w = new JsonWriter(opts);
  w.dataset(ds);
  return w.take().toString('utf8');
}

/** Characters JSON.stringify escapes in a string. */
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON.stringify writes it. */
function stringText(v: string): string {
  return JSON_ESCAPED.test(v) ? JSON.stringify(v) : `"${v}"`;
}

/** Upper-case hex digits, for tag keys. */
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');
const KEY_VR = Buffer.from('":{"vr":"', 'latin1');
/** VRs whose leading spaces are insignificant too (as trimValue). */
const TRIM_LEADING = new Set<VR>(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'SH', 'TM', 'UI']);

/**
 * Writes DICOM JSON documents as UTF-8 straight into a byte buffer: toJSONText's writer and
 * the `dump --json` hot path. Text values that are plain ASCII (the common case) are copied
 * from the element's bytes, split and trimmed in place; anything else takes the way of
 * toJSON (decoding through the character set, jsonValues), so both give the same document.
 */
export class JsonWriter {
  private buf = Buffer.allocUnsafe(1 << 16);
  private pos = 0;
  private readonly threshold: number;
  private readonly makeURI: (el: Element) => string | undefined;

  constructor(opts: ToJsonOptions = {}) {
    this.threshold = opts.bulkDataThreshold ?? Infinity;
    this.makeURI = opts.bulkDataURI ?? fileBulkDataURI;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** The bytes written so far, as a view that is only valid until the next write; empties the writer. */
  take(): Buffer {
    const b = this.buf.subarray(0, this.pos);
    this.pos = 0;
    return b;
  }

  /** Drops what was written after `length` was n (a document that failed half-way). */
  truncate(n: number): void {
    if (n < this.pos) this.pos = n;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Text known to be ASCII (syntax, numbers, base64). */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Any text, UTF-8 encoded. */
  text(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** One data set as a JSON object. */
  dataset(ds: Dataset): void {
    this.ascii('{');
    const els = ds.elements();
    let first = true;
    for (let i = 0; i < els.length; i++) {
      const el = els[i]!;
      // Group lengths are not part of the JSON model (PS3.18 F.2.1), as in toJSON.
      if (el.tag % 0x10000 === 0) continue;
      this.attribute(el, ds, !first);
      first = false;
    }
    this.ascii('}');
  }

  /**
   * One element of `ds` as a member of a JSON object, `"GGGGEEEE":{...}`, after a comma when
   * `comma` (the caller writes the braces): toJSON's attribute as text.
   */
  attribute(el: Element, ds: Dataset, comma: boolean): void {
    const t = el.tag;
    const vr = el.vr;
    // ,"GGGGEEEE":{"vr":"VR"
    this.room(24);
    const b = this.buf;
    let p = this.pos;
    if (comma) b[p++] = 0x2c;
    b[p++] = 0x22;
    for (let shift = 28; shift >= 0; shift -= 4) b[p++] = HEX[(t >>> shift) & 15]!;
    for (let k = 0; k < KEY_VR.length; k++) b[p++] = KEY_VR[k]!;
    b[p++] = vr.charCodeAt(0);
    b[p++] = vr.charCodeAt(1);
    b[p++] = 0x22;
    this.pos = p;
    if (el.items) {
      const items = el.items;
      if (items.length > 0) {
        this.ascii(',"Value":[');
        for (let k = 0; k < items.length; k++) {
          if (k > 0) this.ascii(',');
          this.dataset(items[k]!);
        }
        this.ascii(']');
      }
    } else if (el.fragments || BINARY_VRS.has(vr)) {
      if (el.length !== 0) {
        const len = el.fragments ? Infinity : el.length;
        const uri = len > this.threshold ? this.makeURI(el) : undefined;
        if (uri) this.text(`,"BulkDataURI":${stringText(uri)}`);
        else this.ascii(`,"InlineBinary":"${binaryValue(el, ds).toString('base64')}"`);
      }
    } else if (el.length !== 0) {
      this.values(el, ds);
    }
    this.ascii('}');
  }

  /** `,"Value":[...]` of a non-empty element that is neither a sequence nor binary; nothing when it has no values. */
  private values(el: Element, ds: Dataset): void {
    const vr = el.vr;
    const info = vrInfo(vr)!;
    if (info.isString && vr !== 'PN') {
      const ws = el.valueStart;
      if (ws >= 0 ? this.plainText(el.valueBuffer!, ws, ws + el.length, vr, info.multiValued) : false) return;
      const b = el.bytes();
      if (b.length === 0) return;
      if (ws < 0 && this.plainText(b, 0, b.length, vr, info.multiValued)) return;
      const text = decodeText(b, vr, ds.charset);
      const numeric = vr === 'DS' || vr === 'IS';
      const parts = info.multiValued ? text.split('\\') : [text];
      let s = ',"Value":[';
      for (let k = 0; k < parts.length; k++) {
        const v = trimValue(parts[k]!, vr);
        if (k > 0) s += ',';
        if (v === '') s += 'null';
        else {
          const n = numeric ? Number(v) : NaN;
          s += Number.isFinite(n) ? String(n) : stringText(v);
        }
      }
      this.text(s + ']');
      return;
    }
    if (ds.littleEndian && (vr === 'US' || vr === 'SS' || vr === 'UL' || vr === 'SL' || vr === 'FL' || vr === 'FD')) {
      const ws = el.valueStart;
      const b = ws >= 0 ? el.valueBuffer! : el.bytes();
      const start = ws >= 0 ? ws : 0;
      const size = info.unitSize;
      const n = Math.floor((ws >= 0 ? el.length : b.length) / size);
      if (n === 0) return;
      let s = ',"Value":[';
      for (let k = 0, o = start; k < n; k++, o += size) {
        if (k > 0) s += ',';
        switch (vr) {
          case 'US': s += b[o]! | (b[o + 1]! << 8); break;
          case 'SS': s += b.readInt16LE(o); break;
          case 'UL': s += b.readUInt32LE(o); break;
          case 'SL': s += b.readInt32LE(o); break;
          case 'FL': { const f = b.readFloatLE(o); s += Number.isFinite(f) ? String(f) : 'null'; break; }
          default: { const d = b.readDoubleLE(o); s += Number.isFinite(d) ? String(d) : 'null'; }
        }
      }
      this.ascii(s + ']');
      return;
    }
    // PN, AT, 64-bit integers, big endian: through jsonValues, the JSON model itself.
    const vals = jsonValues(el, ds);
    if (vals.length > 0) this.text(`,"Value":${JSON.stringify(vals)}`);
  }

  /**
   * Text values made of printable ASCII only (no quote; no backslash inside a value), which
   * decode to themselves in every character set (as CharacterSet.decode's ASCII path): split,
   * trimmed as trimValue does and copied as they are. Returns false, having written nothing,
   * for anything else.
   */
  private plainText(b: Buffer, from: number, to: number, vr: VR, multi: boolean): boolean {
    if (from === to) return false;
    let end = to;
    while (end > from && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
    for (let i = from; i < end; i++) {
      const c = b[i]!;
      if (c < 0x20 || c > 0x7e || c === 0x22 || (c === 0x5c && !multi)) return false;
    }
    const numeric = vr === 'DS' || vr === 'IS';
    const leading = TRIM_LEADING.has(vr);
    this.ascii(',"Value":[');
    let start = from;
    for (;;) {
      let segEnd = start;
      if (multi) while (segEnd < to && b[segEnd] !== 0x5c) segEnd++;
      else segEnd = to;
      // trimValue: trailing spaces and NULs; leading spaces for the VRs that ignore them.
      let e = segEnd;
      while (e > start && (b[e - 1] === 0x20 || b[e - 1] === 0)) e--;
      let s = start;
      if (leading) while (s < e && b[s] === 0x20) s++;
      if (s === e) this.ascii('null');
      else if (numeric) {
        const v = b.toString('latin1', s, e);
        const n = Number(v);
        this.ascii(Number.isFinite(n) ? String(n) : `"${v}"`);
      } else {
        this.room(e - s + 2);
        const o = this.buf;
        let p = this.pos;
        o[p++] = 0x22;
        if (e - s > 64) p += b.copy(o, p, s, e);
        else for (let i = s; i < e; i++) o[p++] = b[i]!;
        o[p++] = 0x22;
        this.pos = p;
      }
      if (segEnd === to) break;
      this.ascii(',');
      start = segEnd + 1;
    }
    this.ascii(']');
    return true;
  }
}

/** Bytes of a binary value in little endian, the byte order of InlineBinary (PS3.18 F.2.7). */
function binaryValue(el: Element, ds: Dataset): Buffer {
  if (el.fragments) {
    // The encapsulated value as encoded: items then the delimiter (PS3.5 A.4).
    const parts: Buffer[] = [];
    for (const f of el.fragments) {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(0xfffe, 0); h.writeUInt16LE(0xe000, 2); h.writeUInt32LE(f.length, 4);
      parts.push(h, el.fragmentBytes(f));
    }
    const d = Buffer.alloc(8);
    d.writeUInt16LE(SequenceDelimitationTag >>> 16, 0); d.writeUInt16LE(0xe0dd, 2);
    parts.push(d);
    return Buffer.concat(parts);
  }
  const b = el.bytes();
  if (ds.littleEndian) return b;
  const swapped = decodeValues(el, ds);
  return Buffer.isBuffer(swapped[0]) ? b : encodeNumbers(swapped as number[], el.vr, true);
}

function jsonValues(el: Element, ds: Dataset): JsonValue[] {
  const vr = el.vr;
  if (vr === 'PN') {
    const text = decodeText(el.bytes(), vr, ds.charset);
    const pns = text.split('\\').map((v) => {
      // Trailing component and group delimiters carry nothing (PS3.5 6.2.1.1): '^^^^' is empty.
      const groups = trimValue(v, vr).split('=').map((g) => g.replace(/\^+$/, ''));
      const pn: JsonPN = {};
      if (groups[0]) pn.Alphabetic = groups[0];
      if (groups[1]) pn.Ideographic = groups[1];
      if (groups[2]) pn.Phonetic = groups[2];
      return Object.keys(pn).length ? pn : null;
    });
    return pns.every((v) => v === null) ? [] : pns;
  }
  const vals = decodeValues(el, ds);
  if (vr === 'AT') return vals.map((v) => tagKey(v as number));
  if (NUMBER_VRS.has(vr)) {
    return vals.map((v) => {
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (typeof v === 'number') return v;
      if (v === '' || v === null) return null;
      const n = Number(v);
      // A DS/IS that is not a number is kept as text rather than lost (PS3.18 F.2.3.1).
      return Number.isFinite(n) ? n : (v as string);
    });
  }
  return vals.map((v) => (v === '' ? null : (v as string)));
}

/** Converts the DICOM JSON model to a data set (values encoded little endian). */
export function fromJSON(json: JsonDataset, parent?: Dataset, path = ''): Dataset {
  const ds = new Dataset(true, parent);
  const keys = Object.keys(json).sort();
  // Text is Unicode in JSON: the character set named in the JSON is used to encode it, or
  // ISO_IR 192 is added when a value needs more than ASCII (PS3.18 F.2.2).
  if (!parent && !json['00080005']) {
    const texts: string[] = [];
    collectTexts(json, texts);
    const cs = chooseSpecificCharacterSet(texts);
    if (cs && cs !== 'ISO_IR 100') ds.setString(SpecificCharacterSet, 'CS', 'ISO_IR 192');
    else if (cs) ds.setString(SpecificCharacterSet, 'CS', cs);
  }
  if (json['00080005']) ds.add(attrToElement(0x00080005, json['00080005'], ds, path));
  for (const k of keys) {
    if (!/^[0-9A-Fa-f]{8}$/.test(k)) throw new DicomError(`DICOM JSON: '${path}${k}' is not a tag key (8 hex digits)`);
    const t = parseInt(k, 16);
    if (t === 0x00080005) continue;
    ds.add(attrToElement(t, json[k]!, ds, `${path}${k}.`));
  }
  ds.modified = false;
  return ds;
}

function attrToElement(t: Tag, a: JsonAttribute, ds: Dataset, path: string): Element {
  const vr = a.vr ?? defaultVR(t, ds);
  if (!isVR(vr)) throw new DicomError(`DICOM JSON: '${path}' has invalid vr '${String(a.vr)}'`);
  if (vr === 'SQ') {
    const el = new Element(t, 'SQ', 0, -1, undefined, undefined);
    el.items = (a.Value ?? []).map((v, i) => {
      if (!v || typeof v !== 'object') throw new DicomError(`DICOM JSON: item ${i} of '${path}' is not an object`);
      return fromJSON(v as JsonDataset, ds, `${path}Value[${i}].`);
    });
    return el;
  }
  if (a.InlineBinary !== undefined) return Element.of(t, vr, Buffer.from(a.InlineBinary, 'base64'));
  if (a.BulkDataURI !== undefined) {
    throw new DicomError(`DICOM JSON: '${path}' refers to bulk data (${a.BulkDataURI}); resolving BulkDataURI is not supported here`);
  }
  const vals = a.Value ?? [];
  if (vr === 'PN') {
    const texts = vals.map((v) => {
      if (v === null) return '';
      const p = v as JsonPN;
      const groups = [p.Alphabetic ?? '', p.Ideographic ?? '', p.Phonetic ?? ''];
      while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
      return groups.join('=');
    });
    return Element.of(t, vr, encodeStrings(texts, vr, ds.charset));
  }
  if (vr === 'AT') return Element.of(t, vr, encodeNumbers(vals.map((v) => parseInt(String(v), 16)), vr, true));
  if (VRS[vr].isString) {
    return Element.of(t, vr, encodeStrings(vals.map((v) => (v === null ? '' : String(v))), vr, ds.charset));
  }
  if (NUMBER_VRS.has(vr)) {
    const nums = vals.map((v) => (vr === 'SV' || vr === 'UV' ? BigInt(v as number | string) : Number(v)));
    return Element.of(t, vr, encodeNumbers(nums, vr, true));
  }
  return Element.of(t, vr, Buffer.alloc(0));
}

function defaultVR(t: Tag, ds: Dataset): string {
  const g = groupOf(t), e = t % 0x10000;
  if ((g & 1) === 1 && e >= 0x1000) {
    const c = ds.privateCreator(g, e >> 8);
    return (c && lookupPrivate(c, t)?.vr) || 'UN';
  }
  return lookupTag(t)?.vr.slice(0, 2) || 'UN';
}

function collectTexts(json: JsonDataset, out: string[]): void {
  for (const a of Object.values(json)) {
    for (const v of a.Value ?? []) {
      if (typeof v === 'string') out.push(v);
      else if (v && typeof v === 'object') {
        if (a.vr === 'SQ') collectTexts(v as JsonDataset, out);
        else out.push(...Object.values(v as JsonPN).filter((x): x is string => typeof x === 'string'));
      }
    }
  }
}

