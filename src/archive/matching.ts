/**
 * C-FIND attribute matching (PS3.4 C.2.2.2; REQUIREMENTS 8.4 QR-013) against entity headers
 * kept as DICOM JSON (PS3.18 F.2): single value, list of UIDs, universal, wild card, range
 * (date, time, date-time, and combined date-time pairs), empty value and sequence matching.
 *
 * This is the one place where matching semantics live. The index may narrow candidates with
 * SQL first (sqlPrefilter below: a superset, never a rule of its own), then every candidate
 * is judged here, so SQLite and a later PostgreSQL index answer alike.
 */
import type { JsonAttribute, JsonDataset, JsonPN } from '../dicom/json.js';
import { tagKey } from '../dicom/tag.js';
import type { VR } from '../dicom/vr.js';
import type { KeyColumn } from './attributes.js';

/** One key of a C-FIND identifier, decoded (values as text, split on backslash). */
export interface QueryKey {
  tag: number;
  vr: VR;
  /** Decoded values; [] for a zero-length value (universal matching). */
  values: string[];
  /** For SQ keys: the items of the key (zero or one item, PS3.4 C.2.2.2.6). */
  items?: QueryKey[][];
}

export interface MatchOptions {
  /** findScp.caseInsensitive: PN only (default), all text VRs, or none. */
  caseInsensitive: 'none' | 'pnOnly' | 'all';
  /** findScp.pnMatching. */
  pnMatching: 'componentWise' | 'wholeString';
  /** findScp.implicitTrailingWildcard: '*' appended to Patient's Name keys. */
  implicitTrailingWildcard: boolean;
}

export const DEFAULT_MATCH_OPTIONS: MatchOptions = { caseInsensitive: 'pnOnly', pnMatching: 'componentWise', implicitTrailingWildcard: false };

/** VRs on which '*' and '?' are wild cards (PS3.4 C.2.2.2.4). */
const WILDCARD_VRS = new Set<VR>(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT']);
/** VRs whose leading spaces are significant (PS3.5 6.2): only trailing ones are padding. */
const LEADING_SIGNIFICANT = new Set<VR>(['LT', 'ST', 'UT', 'UR']);
const DATE_TIME_VRS = new Set<VR>(['DA', 'TM', 'DT']);
const NUMERIC_VRS = new Set<VR>(['IS', 'DS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);

/** Date and time keys matched as one date-time range when both are ranges of the same form (QR-013). */
export const DATE_TIME_PAIRS: readonly [number, number][] = [
  [0x00080020, 0x00080030], // Study Date / Time
  [0x00080021, 0x00080031], // Series Date / Time
  [0x00080022, 0x00080032], // Acquisition Date / Time
  [0x00080023, 0x00080033], // Content Date / Time
  [0x00080012, 0x00080013], // Instance Creation Date / Time
  [0x00100030, 0x00100032], // Patient's Birth Date / Time
  [0x00400244, 0x00400245], // Performed Procedure Step Start Date / Time
];

export function trimText(s: string, vr: VR): string {
  const t = s.replace(/[ \0]+$/, '');
  return LEADING_SIGNIFICANT.has(vr) ? t : t.replace(/^ +/, '');
}

// ---------------------------------------------------------------------------------------
// Dates and times
// ---------------------------------------------------------------------------------------

/** A time value's earliest and latest instants as 'HHMMSS.ffffff' (QR-013: by meaning). */
export function timeBounds(v: string): [string, string] | undefined {
  const s = v.trim().replace(/:/g, '');
  const m = /^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) return undefined;
  const [, hh, mm, ss, f] = m;
  const lo = `${hh}${mm ?? '00'}${ss ?? '00'}.${(f ?? '').padEnd(6, '0')}`;
  const hi = `${hh}${mm ?? '59'}${ss ?? '59'}.${(f ?? '').padEnd(6, '9')}`;
  return [lo, hi];
}

/** A date's bounds as 'YYYYMMDD' (legacy 'YYYY.MM.DD' accepted; a partial date spans its period). */
export function dateBounds(v: string): [string, string] | undefined {
  const s = v.trim().replace(/\./g, '');
  const m = /^(\d{4})(\d{2})?(\d{2})?$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d] = m;
  return [`${y}${mo ?? '01'}${d ?? '01'}`, `${y}${mo ?? '12'}${d ?? '31'}`];
}

/** A date-time's bounds as 'YYYYMMDDHHMMSS.ffffff'; the UTC offset is not used (QR-013). */
export function dateTimeBounds(v: string): [string, string] | undefined {
  const s = v.trim().replace(/[+-]\d{4}$/, '');
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, f] = m;
  const lo = `${y}${mo ?? '01'}${d ?? '01'}${h ?? '00'}${mi ?? '00'}${se ?? '00'}.${(f ?? '').padEnd(6, '0')}`;
  const hi = `${y}${mo ?? '12'}${d ?? '31'}${h ?? '23'}${mi ?? '59'}${se ?? '59'}.${(f ?? '').padEnd(6, '9')}`;
  return [lo, hi];
}

function boundsOf(v: string, vr: VR): [string, string] | undefined {
  return vr === 'DA' ? dateBounds(v) : vr === 'TM' ? timeBounds(v) : dateTimeBounds(v);
}

/** The normalized form the index stores for a date/time value (its earliest instant). */
export function normalizeDateTime(v: string, vr: VR): string | undefined {
  return boundsOf(v, vr)?.[0];
}

const OPEN_LOW = '';
const OPEN_HIGH = '\uffff';

/** A date/time key as an inclusive range [lo, hi] of normalized values; undefined when malformed. */
export interface Range {
  lo: string;
  hi: string;
  /** 'single' (no '-'), 'closed' (a-b), 'from' (a-), 'until' (-b). */
  form: 'single' | 'closed' | 'from' | 'until';
}

/** Splits a range key ('a-b', '-b', 'a-', 'a') for DA, TM and DT (PS3.4 C.2.2.2.5). */
export function parseRange(key: string, vr: VR): Range | undefined {
  const s = key.trim();
  let dash = -1;
  if (vr === 'DT') {
    // A DT may carry a '-ZZXX' offset: take the '-' that splits it into two valid date-times.
    for (let i = s.indexOf('-'); i >= 0; i = s.indexOf('-', i + 1)) {
      const a = s.slice(0, i), b = s.slice(i + 1);
      if ((a === '' || dateTimeBounds(a)) && (b === '' || dateTimeBounds(b)) && !(a !== '' && /^\d{4}$/.test(b) && a.length >= 8)) {
        dash = i;
        break;
      }
    }
    if (dash < 0 && s.includes('-') && !dateTimeBounds(s)) return undefined;
  } else dash = s.indexOf('-');
  if (dash < 0) {
    const b = boundsOf(s, vr);
    return b ? { lo: b[0], hi: b[1], form: 'single' } : undefined;
  }
  const a = s.slice(0, dash), b = s.slice(dash + 1);
  if (a === '' && b === '') return undefined;
  const ab = a === '' ? undefined : boundsOf(a, vr);
  const bb = b === '' ? undefined : boundsOf(b, vr);
  if ((a !== '' && !ab) || (b !== '' && !bb)) return undefined;
  return { lo: ab ? ab[0] : OPEN_LOW, hi: bb ? bb[1] : OPEN_HIGH, form: a === '' ? 'until' : b === '' ? 'from' : 'closed' };
}

// ---------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------

const regexCache = new Map<string, RegExp>();

/** A wild card pattern as an anchored regular expression: '*' any run, '?' one character (code point). */
export function wildcardRegExp(pattern: string, insensitive: boolean): RegExp {
  const key = `${insensitive ? 'i' : 's'}${pattern}`;
  let re = regexCache.get(key);
  if (!re) {
    let src = '';
    for (const ch of pattern) {
      if (ch === '*') src += '.*';
      else if (ch === '?') src += '.';
      else src += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    re = new RegExp(`^${src}$`, insensitive ? 'isu' : 'su');
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

/** Single value or wild card matching of one text value (PS3.4 C.2.2.2.1, C.2.2.2.4). */
function matchText(key: string, value: string, wildcards: boolean, insensitive: boolean): boolean {
  if (wildcards && hasWildcard(key)) return wildcardRegExp(key, insensitive).test(value);
  if (insensitive) return key.toUpperCase() === value.toUpperCase();
  return key === value;
}

/** A PN value's groups (alphabetic, ideographic, phonetic) as '^'-separated strings. */
function pnGroups(v: string | JsonPN | null): string[] {
  if (v === null) return [''];
  if (typeof v === 'string') return v.split('=');
  return [v.Alphabetic ?? '', v.Ideographic ?? '', v.Phonetic ?? ''];
}

function pnText(v: string | JsonPN | null): string {
  const g = pnGroups(v);
  while (g.length > 1 && g[g.length - 1] === '') g.pop();
  return g.join('=');
}

/**
 * PN matching (QR-013): 'componentWise' compares the key's family, given, middle, prefix and
 * suffix components with the same components of each component group of the value (a key
 * group matches any of the value's groups), components absent from the key being universal;
 * wild cards therefore never cross '^' or '='. 'wholeString' matches the whole value.
 */
function matchPN(key: string, value: string | JsonPN | null, o: MatchOptions): boolean {
  const insensitive = o.caseInsensitive !== 'none';
  if (o.pnMatching === 'wholeString') return matchText(key, pnText(value).trim(), true, insensitive);
  const groups = pnGroups(value).map((g) => g.split('^').map((c) => c.trim()));
  for (const kg of key.split('=')) {
    const kc = kg.split('^').map((c) => c.trim());
    if (kc.every((c) => c === '')) continue;
    for (const vc of groups) {
      if (vc.every((c) => c === '')) continue;
      let ok = true;
      for (let i = 0; i < kc.length && ok; i++) {
        const k = kc[i]!;
        if (k === '' || k === '*') continue;
        ok = matchText(k, vc[i] ?? '', true, insensitive);
      }
      if (ok) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Keys against attributes
// ---------------------------------------------------------------------------------------

function valuesOf(attr: JsonAttribute | undefined): (string | number | JsonPN | JsonDataset | null)[] {
  if (!attr || attr.BulkDataURI !== undefined) return [];
  return (attr.Value ?? []) as (string | number | JsonPN | JsonDataset | null)[];
}

function isEmpty(attr: JsonAttribute | undefined): boolean {
  return valuesOf(attr).every((v) => v === null || v === '') && attr?.InlineBinary === undefined;
}

/** Whether the key asks for Universal Matching (zero length, or '*' alone on a wild card VR). */
export function isUniversal(key: QueryKey): boolean {
  if (key.vr === 'SQ') return !key.items || key.items.length === 0 || key.items[0]!.length === 0;
  if (key.values.length === 0 || key.values.every((v) => v === '')) return true;
  return WILDCARD_VRS.has(key.vr) && key.values.length === 1 && /^\*+$/.test(key.values[0]!.trim());
}

/**
 * Does the entity's attribute match one key? (PS3.4 C.2.2.2.) An entity attribute with several
 * values matches when any of its values does; a key with several values (other than a list of
 * UIDs) matches when any of them does.
 */
export function matchKey(key: QueryKey, attr: JsonAttribute | undefined, o: MatchOptions = DEFAULT_MATCH_OPTIONS): boolean {
  if (key.vr === 'SQ') return matchSequence(key, attr, o);
  if (isUniversal(key)) return true;
  const keyValues = key.values.map((v) => trimText(v, key.vr)).filter((v) => v !== '');
  // Empty Value Matching: '""' matches an absent or empty attribute (PS3.4 C.2.2.2.1.1, 2019+).
  if (keyValues.length === 1 && keyValues[0] === '""') return isEmpty(attr);
  const values = valuesOf(attr).filter((v) => v !== null && v !== '');
  if (values.length === 0) return false;
  const vr = key.vr;
  if (vr === 'UI') {
    // List of UID Matching (C.2.2.2.2) and single value matching.
    const set = new Set(keyValues);
    return values.some((v) => set.has(String(v).trim()));
  }
  if (DATE_TIME_VRS.has(vr)) {
    const ranges = keyValues.map((k) => parseRange(k, vr)).filter((r): r is Range => r !== undefined);
    return values.some((v) => {
      const n = normalizeDateTime(String(v), vr);
      return n !== undefined && ranges.some((r) => r.lo <= n && n <= r.hi);
    });
  }
  if (vr === 'PN') {
    const keys = o.implicitTrailingWildcard && key.tag === 0x00100010 ? keyValues.map((k) => (k.endsWith('*') ? k : `${k}*`)) : keyValues;
    return values.some((v) => keys.some((k) => matchPN(k, v as string | JsonPN, o)));
  }
  if (NUMERIC_VRS.has(vr)) {
    return values.some((v) => keyValues.some((k) => Number(k) === Number(v) || k === String(v).trim()));
  }
  const wild = WILDCARD_VRS.has(vr);
  const insensitive = o.caseInsensitive === 'all';
  return values.some((v) => {
    const s = trimText(String(v), vr);
    return keyValues.some((k) => matchText(k, s, wild, insensitive));
  });
}

/**
 * Sequence Matching (C.2.2.2.6): the key's single item holds item keys; a match when all of them
 * match within at least one item of the entity's sequence. A key without item keys is universal.
 */
function matchSequence(key: QueryKey, attr: JsonAttribute | undefined, o: MatchOptions): boolean {
  const item = key.items?.[0];
  if (!item || item.length === 0) return true;
  const items = valuesOf(attr).filter((v): v is JsonDataset => v !== null && typeof v === 'object');
  return items.some((it) => matchAll(item, it, o));
}

/** Every key against one data set (DICOM JSON), with combined date-time pairs (QR-013). */
export function matchAll(keys: readonly QueryKey[], ds: JsonDataset, o: MatchOptions = DEFAULT_MATCH_OPTIONS): boolean {
  const combined = combinedPairs(keys);
  for (const key of keys) {
    if (combined.skip.has(key.tag)) continue;
    if (!matchKey(key, ds[tagKey(key.tag)], o)) return false;
  }
  for (const [date, time] of combined.pairs) {
    if (!matchCombined(date, time, ds)) return false;
  }
  return true;
}

/**
 * Date and time keys matched together (PS3.4 C.2.2.2.5, REQUIREMENTS 8.4 QR-013): when both
 * are ranges of the same form they make one date-time range ('20060705-20060707' with
 * '1000-1800' is July 5 10:00 until July 7 18:00, not three daily windows); an entity without
 * a time then matches on its date alone ("a null time matches").
 */
export function combinedPairs(keys: readonly QueryKey[]): { pairs: [QueryKey, QueryKey][]; skip: Set<number> } {
  const pairs: [QueryKey, QueryKey][] = [];
  const skip = new Set<number>();
  const byTag = new Map(keys.map((k) => [k.tag, k]));
  for (const [d, t] of DATE_TIME_PAIRS) {
    const dk = byTag.get(d), tk = byTag.get(t);
    if (!dk || !tk || isUniversal(dk) || isUniversal(tk) || dk.values.length !== 1 || tk.values.length !== 1) continue;
    const dr = parseRange(dk.values[0]!, 'DA'), tr = parseRange(tk.values[0]!, 'TM');
    if (!dr || !tr || dr.form === 'single' || dr.form !== tr.form) continue;
    pairs.push([dk, tk]);
    skip.add(d).add(t);
  }
  return { pairs, skip };
}

function matchCombined(dk: QueryKey, tk: QueryKey, ds: JsonDataset): boolean {
  const dr = parseRange(dk.values[0]!, 'DA')!, tr = parseRange(tk.values[0]!, 'TM')!;
  const dates = valuesOf(ds[tagKey(dk.tag)]).map((v) => normalizeDateTime(String(v ?? ''), 'DA')).filter((v): v is string => !!v);
  if (dates.length === 0) return false;
  const times = valuesOf(ds[tagKey(tk.tag)]).map((v) => normalizeDateTime(String(v ?? ''), 'TM')).filter((v): v is string => !!v);
  const lo = dr.form === 'until' ? OPEN_LOW : dr.lo + tr.lo;
  const hi = dr.form === 'from' ? OPEN_HIGH : dr.hi + tr.hi;
  return dates.some((d) => {
    if (times.length === 0) return dr.lo <= d && d <= dr.hi; // null time: the date decides
    return times.some((t) => lo <= d + t && d + t <= hi);
  });
}

/**
 * The items of an entity's sequence to return for a sequence key (C.2.2.2.6): the matching
 * items, each with only the requested item attributes; the whole sequence for a universal key.
 */
export function selectItems(key: QueryKey, attr: JsonAttribute | undefined, o: MatchOptions = DEFAULT_MATCH_OPTIONS): JsonAttribute {
  const items = valuesOf(attr).filter((v): v is JsonDataset => v !== null && typeof v === 'object');
  const itemKeys = key.items?.[0];
  if (!itemKeys || itemKeys.length === 0) return attr && attr.vr === 'SQ' ? attr : { vr: 'SQ' };
  const out: JsonDataset[] = [];
  for (const it of items) {
    if (!matchAll(itemKeys, it, o)) continue;
    const picked: JsonDataset = {};
    for (const k of itemKeys) {
      const tk = tagKey(k.tag);
      picked[tk] = k.vr === 'SQ' ? selectItems(k, it[tk], o) : returnedValue(k, it[tk]);
    }
    out.push(picked);
  }
  return out.length ? { vr: 'SQ', Value: out } : { vr: 'SQ' };
}

/** The attribute returned for a (non-sequence) key: the entity's value, or empty with the key's VR. */
export function returnedValue(key: QueryKey, attr: JsonAttribute | undefined): JsonAttribute {
  if (!attr || attr.BulkDataURI !== undefined) return { vr: attr?.vr ?? key.vr };
  return attr;
}

// ---------------------------------------------------------------------------------------
// Index columns and the SQL prefilter
// ---------------------------------------------------------------------------------------

/** Upper-case, trimmed text: the form text columns are stored and compared in. */
export function normalizeText(s: string, vr: VR): string {
  return trimText(s, vr).toUpperCase();
}

/** The value an index column holds for an attribute of a header (null when absent or empty). */
export function columnValue(col: KeyColumn, attr: JsonAttribute | undefined): string | null {
  const vals = valuesOf(attr).filter((v) => v !== null && v !== '');
  if (vals.length === 0) return null;
  const norm = (v: unknown): string => {
    if (col.vr === 'PN') return normalizeText(pnText(v as JsonPN), 'PN');
    if (col.vr === 'UI') return String(v).trim();
    if (DATE_TIME_VRS.has(col.vr)) return normalizeDateTime(String(v), col.vr) ?? String(v).trim();
    if (typeof v === 'number') return String(v);
    return normalizeText(String(v), col.vr);
  };
  return col.multi ? vals.map(norm).join('\\') : norm(vals[0]);
}

/**
 * SQL conditions that every match of `key` satisfies on `column` (a superset: matchAll decides).
 * Returns undefined when no useful condition exists (the key is matched in JavaScript only).
 */
export function sqlPrefilter(key: QueryKey, col: KeyColumn, qualified: string, combinedDate: boolean): { sql: string; params: string[] } | undefined {
  if (col.multi || col.vr === 'PN' || isUniversal(key) || key.vr === 'SQ') return undefined;
  const vals = key.values.map((v) => trimText(v, key.vr)).filter((v) => v !== '');
  if (vals.length === 0 || vals.includes('""')) return undefined;
  if (col.vr === 'UI') {
    return { sql: `${qualified} IN (${vals.map(() => '?').join(',')})`, params: vals };
  }
  if (DATE_TIME_VRS.has(col.vr)) {
    if (col.vr === 'TM' && combinedDate) return undefined;
    const parts: string[] = [];
    const params: string[] = [];
    for (const v of vals) {
      const r = parseRange(v, col.vr);
      if (!r) return undefined;
      parts.push(`(${qualified} >= ? AND ${qualified} <= ?)`);
      params.push(r.lo, r.hi);
    }
    return { sql: `(${parts.join(' OR ')})`, params };
  }
  if (NUMERIC_VRS.has(col.vr) || !['AE', 'CS', 'LO', 'SH', 'UC'].includes(col.vr)) return undefined;
  const parts: string[] = [];
  const params: string[] = [];
  for (const v of vals) {
    const n = v.toUpperCase();
    if (!hasWildcard(v)) {
      parts.push(`${qualified} = ?`);
      params.push(n);
      continue;
    }
    const prefix = n.slice(0, Math.min(...['*', '?'].map((c) => (n.includes(c) ? n.indexOf(c) : n.length))));
    if (prefix === '') return undefined;
    parts.push(`(${qualified} >= ? AND ${qualified} < ?)`);
    params.push(prefix, `${prefix}\u{10FFFF}`);
  }
  return { sql: `(${parts.join(' OR ')})`, params };
}

// ---------------------------------------------------------------------------------------
// Patient's Name: family-name keys and their prefilter
// ---------------------------------------------------------------------------------------

/**
 * The folded form of a family name the index keeps (and compares) for the PN prefilter:
 * toUpperCase, and KELVIN SIGN as K. Over the characters of the default repertoire (ASCII)
 * this agrees with the case-insensitive wild card match (a regular expression with the 'iu'
 * flags, simple case folding): every character that matches an ASCII letter folds to that
 * letter's fold ('ſ' to 'S' by toUpperCase; U+212A, whose upper case is itself, by the
 * replacement). Non-wild-card keys are compared with toUpperCase, which the fold keeps.
 */
export function pnFold(s: string): string {
  return s.toUpperCase().replace(/\u212A/g, 'K');
}

/**
 * The family name components of a PN attribute (every value, every component group; trimmed as
 * componentWise matching trims them, empty ones left out), folded: the keys the index keeps
 * for the prefilter of pnFamilyRanges.
 */
export function pnFamilyKeys(attr: JsonAttribute | undefined): string[] {
  const out = new Set<string>();
  for (const v of valuesOf(attr)) {
    if (v === null || v === '' || typeof v === 'number') continue;
    for (const g of pnGroups(v as string | JsonPN)) {
      const comps = g.split('^').map((c) => c.trim());
      if (comps[0] && comps[0] !== '') out.add(pnFold(comps[0]));
    }
  }
  return [...out];
}

/** A condition on a folded family name: equal to `lo` (exact), or in [lo, hi). */
export interface FamilyRange {
  lo: string;
  hi?: string;
}

/**
 * What every entity that matches a PN key (componentWise, matchPN) has among its pnFamilyKeys:
 * one of these family names or family-name prefixes. A superset, like sqlPrefilter: matchAll
 * still judges each candidate. Undefined when the key does not narrow the family name:
 * universal, empty value matching, wholeString matching, a key group whose family component is
 * empty or starts with a wild card, or whose literal prefix does not start with a character of
 * the default repertoire (where case folding and toUpperCase part ways, nothing is assumed).
 */
export function pnFamilyRanges(key: QueryKey, o: MatchOptions): FamilyRange[] | undefined {
  if (key.vr !== 'PN' || o.pnMatching !== 'componentWise' || isUniversal(key)) return undefined;
  let vals = key.values.map((v) => trimText(v, 'PN')).filter((v) => v !== '');
  if (vals.length === 0 || vals.includes('""')) return undefined;
  if (o.implicitTrailingWildcard && key.tag === 0x00100010) vals = vals.map((k) => (k.endsWith('*') ? k : `${k}*`));
  const out: FamilyRange[] = [];
  for (const k of vals) {
    for (const kg of k.split('=')) {
      const kc = kg.split('^').map((c) => c.trim());
      if (kc.every((c) => c === '')) continue; // a group without components matches nothing (matchPN)
      const family = kc[0]!;
      const wild = family.search(/[*?]/);
      if (wild < 0) {
        if (family === '') return undefined;
        out.push({ lo: pnFold(family) });
        continue;
      }
      // The literal prefix, up to the first character outside the default repertoire.
      let prefix = family.slice(0, wild);
      const other = prefix.search(/[^\x00-\x7f]/);
      if (other >= 0) prefix = prefix.slice(0, other);
      if (prefix === '') return undefined;
      const lo = pnFold(prefix);
      // Every string with this (ASCII) prefix sorts in [lo, lo with its last character + 1).
      out.push({ lo, hi: lo.slice(0, -1) + String.fromCharCode(lo.charCodeAt(lo.length - 1) + 1) });
    }
  }
  return out.length ? out : undefined;
}
