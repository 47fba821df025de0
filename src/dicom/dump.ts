/**
 * A readable listing of a data set in the manner of DCMTK's dcmdump: one line per element
 * with tag, VR, value, length, VM and keyword; sequences and items indented. Private elements
 * are named through the private dictionaries of their creator (PS3.5 7.8.1).
 */
import type { Dataset } from './dataset.js';
import { lookupPrivate, lookupTag } from './dictionary/index.js';
import type { Element } from './element.js';
import { formatTag, groupOf, UndefinedLength } from './tag.js';
import { decodeValues } from './values.js';
import { VRS } from './vr.js';

export interface DumpOptions {
  /** Longest value text shown before it is cut with "..." (dcmdump's default is 64). */
  maxValueLength?: number;
}

/** Name and keyword of an element: standard dictionary, else the private dictionary of its creator. */
export function describeElement(el: Element, ds: Dataset): { keyword: string; name: string } {
  const g = groupOf(el.tag);
  const e = el.tag % 0x10000;
  if ((g & 1) === 1 && e >= 0x1000) {
    const creator = ds.privateCreator(g, e >> 8);
    const pe = creator !== undefined ? lookupPrivate(creator, el.tag) : undefined;
    if (pe) return { keyword: pe.keyword, name: pe.name };
    return { keyword: 'PrivateTag', name: creator ? `Private tag of ${creator}` : 'Private tag' };
  }
  const entry = lookupTag(el.tag);
  return entry ? { keyword: entry.keyword, name: entry.name } : { keyword: 'Unknown Tag & Data', name: 'Unknown' };
}

/** Listing lines for a data set. */
export function dumpDataset(ds: Dataset, opts: DumpOptions = {}, indent = ''): string[] {
  const out: string[] = [];
  const max = opts.maxValueLength ?? 64;
  for (const el of ds.elements()) {
    const { keyword } = describeElement(el, ds);
    const len = el.length === UndefinedLength ? 'u/l' : String(el.length);
    if (el.items) {
      const kind = el.length === UndefinedLength ? 'undefined' : 'explicit';
      out.push(line(indent, el, `(Sequence with ${kind} length #=${el.items.length})`, len, el.items.length, keyword));
      el.items.forEach((it) => {
        const ikind = it.undefinedLength ? 'undefined' : 'explicit';
        out.push(`${indent}  (FFFE,E000) na (Item with ${ikind} length #=${it.size})`);
        out.push(...dumpDataset(it, opts, indent + '    '));
        if (it.undefinedLength) out.push(`${indent}  (FFFE,E00D) na (ItemDelimitationItem)`);
      });
      if (el.length === UndefinedLength) out.push(`${indent}(FFFE,E0DD) na (SequenceDelimitationItem)`);
      continue;
    }
    if (el.fragments) {
      out.push(line(indent, el, `(PixelSequence #=${el.fragments.length})`, len, 1, keyword));
      el.fragments.forEach((f, i) => {
        out.push(`${indent}  (FFFE,E000) ${el.vr} (${i === 0 ? 'Basic Offset Table' : 'fragment'}, ${f.length} bytes)`);
      });
      continue;
    }
    const { text, vm } = valueText(el, ds, max);
    out.push(line(indent, el, text, len, vm, keyword));
  }
  return out;
}

function line(indent: string, el: Element, value: string, len: string, vm: number, keyword: string): string {
  const head = `${indent}${formatTag(el.tag)} ${el.vr} ${value}`;
  return `${head.padEnd(Math.max(56, head.length + 1))}# ${len.padStart(3)}, ${vm} ${keyword}`;
}

function valueText(el: Element, ds: Dataset, max: number): { text: string; vm: number } {
  if (el.length === 0) return { text: '(no value available)', vm: 0 };
  const info = VRS[el.vr];
  if (el.isLazy || (!info.isString && info.unitSize <= 1) || ['OW', 'OF', 'OD', 'OL', 'OV'].includes(el.vr)) {
    if (el.isLazy || el.length > 256) return { text: `(${el.length} bytes of binary data)`, vm: 1 };
    const b = el.bytes();
    return { text: cut(Array.from(b.subarray(0, 64), (x) => x.toString(16).padStart(2, '0')).join('\\'), max), vm: 1 };
  }
  const vals = decodeValues(el, ds);
  if (info.isString) return { text: `[${cut(vals.join('\\'), max)}]`, vm: vals.length };
  const fmt = vals.map((v) => (el.vr === 'AT' && typeof v === 'number' ? formatTag(v) : String(v)));
  return { text: cut(fmt.join('\\'), max), vm: vals.length };
}

function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) + '...' : s;
}
