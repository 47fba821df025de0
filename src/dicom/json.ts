/**
 * The DICOM JSON model (PS3.18 F.2) in both directions.
 */
import { pathToFileURL } from 'node:url';
import { chooseSpecificCharacterSet } from './charset.js';
import { Dataset, SpecificCharacterSet } from './dataset.js';
import { lookupPrivate, lookupTag } from './dictionary/index.js';
import { Element } from './element.js';
import { DicomError } from './errors.js';
import { groupOf, SequenceDelimitationTag, tagKey, type Tag } from './tag.js';
import { decodeText, decodeValues, encodeNumbers, encodeStrings, trimValue } from './values.js';
import { isVR, VRS, type VR } from './vr.js';

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

/** The last file name made into a URL: every bulk value of a file shares it. */
let lastURL = { name: '', href: '' };

/** A file: URI naming the value's bytes in its source file (offset and length, PS3.18 F.2.6). */
export function fileBulkDataURI(el: Element): string | undefined {
  const name = el.origin?.name;
  if (!name || el.offset < 0 || name.endsWith('(inflated)')) return undefined;
  if (lastURL.name !== name) lastURL = { name, href: pathToFileURL(name).href };
  return `${lastURL.href}?offset=${el.offset}&length=${el.length}`;
}

/** Converts a data set to the DICOM JSON model. */
export function toJSON(ds: Dataset, opts: ToJsonOptions = {}): JsonDataset {
  const out: JsonDataset = {};
  const threshold = opts.bulkDataThreshold ?? Infinity;
  const makeURI = opts.bulkDataURI ?? fileBulkDataURI;
  for (const el of ds.elements()) {
    // Group lengths are not part of the JSON model (PS3.18 F.2.1).
    if (el.tag % 0x10000 === 0) continue;
    const vr = el.vr;
    const attr: JsonAttribute = { vr };
    out[tagKey(el.tag)] = attr;
    if (el.items) {
      attr.Value = el.items.map((it) => toJSON(it, opts));
      if (attr.Value.length === 0) delete attr.Value;
      continue;
    }
    if (el.fragments || BINARY_VRS.has(vr)) {
      if (el.length === 0) continue;
      const len = el.fragments ? Infinity : el.length;
      const uri = len > threshold ? makeURI(el) : undefined;
      if (uri) attr.BulkDataURI = uri;
      else attr.InlineBinary = binaryValue(el, ds).toString('base64');
      continue;
    }
    if (el.length === 0) continue;
    const vals = jsonValues(el, ds);
    if (vals.length > 0) attr.Value = vals;
  }
  return out;
}

/**
 * The DICOM JSON text of a data set: the document JSON.stringify(toJSON(ds, opts)) gives,
 * written directly, without the intermediate objects (the `dump --json` hot path). Keys are
 * in tag order; JSON.stringify would put all-digit keys such as "30060020" first, the only
 * difference, and one no JSON reader sees.
 */
export function toJSONText(ds: Dataset, opts: ToJsonOptions = {}): string {
  return datasetText(ds, opts.bulkDataThreshold ?? Infinity, opts.bulkDataURI ?? fileBulkDataURI);
}

function datasetText(ds: Dataset, threshold: number, makeURI: (el: Element) => string | undefined): string {
  let s = '{';
  const els = ds.elements();
  for (let i = 0; i < els.length; i++) {
    const el = els[i]!;
    const vr = el.vr;
    s += `${i === 0 ? '"' : ',"'}${tagKey(el.tag)}":{"vr":"${vr}"`;
    if (el.items) {
      const items = el.items;
      if (items.length > 0) {
        s += ',"Value":[';
        for (let k = 0; k < items.length; k++) s += (k === 0 ? '' : ',') + datasetText(items[k]!, threshold, makeURI);
        s += ']';
      }
    } else if (el.fragments || BINARY_VRS.has(vr)) {
      if (el.length !== 0) {
        const len = el.fragments ? Infinity : el.length;
        const uri = len > threshold ? makeURI(el) : undefined;
        s += uri ? `,"BulkDataURI":${JSON.stringify(uri)}` : `,"InlineBinary":"${binaryValue(el, ds).toString('base64')}"`;
      }
    } else if (el.length !== 0) {
      s += valuesText(el, ds);
    }
    s += '}';
  }
  return s + '}';
}

/** A number as JSON.stringify writes it (NaN and infinities are null). */
function numberText(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** One text value of a string VR as jsonValues gives it: null when empty, a number for DS/IS when it is one. */
function textValue(v: string, numeric: boolean): string {
  if (v === '') return 'null';
  if (numeric) {
    const n = Number(v);
    if (Number.isFinite(n)) return String(n);
  }
  return JSON.stringify(v);
}

/** `,"Value":[...]` for a non-empty element that is neither a sequence nor binary, or '' when it has no values. */
function valuesText(el: Element, ds: Dataset): string {
  const vr = el.vr;
  const info = VRS[vr];
  if (info.isString && vr !== 'PN') {
    const b = el.bytes();
    if (b.length === 0) return '';
    const text = decodeText(b, vr, ds.charset);
    const numeric = vr === 'DS' || vr === 'IS';
    if (!info.multiValued || text.indexOf('\\') < 0) return `,"Value":[${textValue(trimValue(text, vr), numeric)}]`;
    const parts = text.split('\\');
    let s = ',"Value":[';
    for (let k = 0; k < parts.length; k++) s += (k === 0 ? '' : ',') + textValue(trimValue(parts[k]!, vr), numeric);
    return s + ']';
  }
  if (ds.littleEndian && (vr === 'US' || vr === 'SS' || vr === 'UL' || vr === 'SL' || vr === 'FL' || vr === 'FD')) {
    const b = el.bytes();
    const size = info.unitSize;
    const n = Math.floor(b.length / size);
    if (n === 0) return '';
    let s = ',"Value":[';
    for (let k = 0, o = 0; k < n; k++, o += size) {
      if (k > 0) s += ',';
      switch (vr) {
        case 'US': s += b[o]! | (b[o + 1]! << 8); break;
        case 'SS': s += b.readInt16LE(o); break;
        case 'UL': s += b.readUInt32LE(o); break;
        case 'SL': s += b.readInt32LE(o); break;
        case 'FL': s += numberText(b.readFloatLE(o)); break;
        default: s += numberText(b.readDoubleLE(o));
      }
    }
    return s + ']';
  }
  // PN, AT, 64-bit integers, big endian: through the JSON model.
  const vals = jsonValues(el, ds);
  return vals.length > 0 ? `,"Value":${JSON.stringify(vals)}` : '';
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

