/**
 * Code tables behind Specific Character Set (0008,0005) handling: the upper halves of the
 * single-byte ISO 8859 / TIS 620 sets and the 94x94 double-byte sets (JIS X 0208, JIS X 0212,
 * KS X 1001, GB 2312) used with ISO 2022 code extensions (PS3.3 C.12.1.1.2, PS3.5 6.1).
 *
 * No tables are shipped: they are derived once, lazily, from Node's ICU-backed TextDecoder
 * (WHATWG encodings), then corrected where the WHATWG mapping is the Windows code page rather
 * than the ISO/JIS/KS/GB standard DICOM references, so that Tracer decodes as pydicom (Python's
 * standard codecs) does.
 */

import { TextDecoder } from 'node:util';

const decoders = new Map<string, TextDecoder>();

/** Cached, non-fatal TextDecoder (invalid input becomes U+FFFD). BOMs are kept, as in Python. */
export function textDecoder(label: string): TextDecoder {
  let d = decoders.get(label);
  if (d === undefined) {
    d = new TextDecoder(label, { fatal: false, ignoreBOM: true });
    decoders.set(label, d);
  }
  return d;
}

export const REPLACEMENT = 0xfffd;

/** Builds a string from UTF-16 code units without blowing the argument limit. */
export function codesToString(codes: number[]): string {
  if (codes.length <= 8192) return String.fromCharCode(...codes);
  let s = '';
  for (let i = 0; i < codes.length; i += 8192) s += String.fromCharCode(...codes.slice(i, i + 8192));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Single-byte 96-character sets (G1, bytes 0xA0-0xFF; 0x80-0x9F are C1 controls).

export interface SingleByteSet {
  /** ISO-IR registration, e.g. 'ISO-IR 100'. */
  readonly id: string;
  /** WHATWG label whose TextDecoder yields the upper half. */
  readonly label: string;
  /**
   * The TextDecoder agrees with Python's codec for all 256 bytes, so whole values can be
   * decoded natively. Checked against CPython's tables for every set flagged here.
   */
  readonly native: boolean;
  /** Corrections to the TextDecoder result: byte -> code point (REPLACEMENT = undefined). */
  readonly overrides?: (b: number) => number | undefined;
}

const c1Identity = (b: number): number | undefined => (b < 0xa0 ? b : undefined);

/** WHATWG maps 'iso-8859-9' to windows-1254 and 'tis-620' to windows-874: their 0x80-0x9F are
 *  Windows punctuation, whereas the ISO registrations (and Python) leave them C1 controls. */
export const SB_SETS = {
  LATIN1: { id: 'ISO-IR 100', label: 'latin1', native: true },
  LATIN2: { id: 'ISO-IR 101', label: 'iso-8859-2', native: true },
  LATIN3: { id: 'ISO-IR 109', label: 'iso-8859-3', native: true },
  LATIN4: { id: 'ISO-IR 110', label: 'iso-8859-4', native: true },
  CYRILLIC: { id: 'ISO-IR 144', label: 'iso-8859-5', native: true },
  ARABIC: { id: 'ISO-IR 127', label: 'iso-8859-6', native: true },
  GREEK: { id: 'ISO-IR 126', label: 'iso-8859-7', native: true },
  HEBREW: { id: 'ISO-IR 138', label: 'iso-8859-8', native: true },
  LATIN5: { id: 'ISO-IR 148', label: 'windows-1254', native: false, overrides: c1Identity },
  THAI: {
    id: 'ISO-IR 166', label: 'windows-874', native: false,
    // TIS 620 leaves 0xA0, 0xDB-0xDE and 0xFC-0xFF unassigned (windows-874 fills them).
    overrides: (b: number) =>
      b < 0xa0 ? b : b === 0xa0 || (b >= 0xdb && b <= 0xde) || b >= 0xfc ? REPLACEMENT : undefined,
  },
} as const satisfies Record<string, SingleByteSet>;

const sbHigh = new Map<SingleByteSet, Uint16Array>();

/** Code points for bytes 0x80-0xFF (index b - 0x80). */
export function singleByteHigh(set: SingleByteSet): Uint16Array {
  let t = sbHigh.get(set);
  if (t === undefined) {
    t = new Uint16Array(128);
    const td = set.label === 'latin1' ? undefined : textDecoder(set.label);
    for (let b = 0x80; b < 0x100; b++) {
      let cp = td === undefined ? b : td.decode(Uint8Array.of(b)).charCodeAt(0);
      const o = set.overrides?.(b);
      if (o !== undefined) cp = o;
      t[b - 0x80] = cp;
    }
    sbHigh.set(set, t);
  }
  return t;
}

const sbReverse = new Map<SingleByteSet, Map<number, number>>();

/** Code point -> byte for the graphic characters 0xA0-0xFF of the set (C1 excluded). */
export function singleByteReverse(set: SingleByteSet): Map<number, number> {
  let m = sbReverse.get(set);
  if (m === undefined) {
    m = new Map();
    const high = singleByteHigh(set);
    for (let b = 0xa0; b < 0x100; b++) {
      const cp = high[b - 0x80]!;
      if (cp !== REPLACEMENT && !m.has(cp)) m.set(cp, b);
    }
    sbReverse.set(set, m);
  }
  return m;
}

/** Decodes bytes (ASCII + the set's upper half). */
export function decodeSingleByte(bytes: Uint8Array, set: SingleByteSet): string {
  if (set.label === 'latin1') return latin1(bytes, 0, bytes.length);
  if (set.native) return textDecoder(set.label).decode(bytes);
  const high = singleByteHigh(set);
  const codes = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    codes[i] = b < 0x80 ? b : high[b - 0x80]!;
  }
  return codesToString(codes);
}

/** Native Latin-1 decoding of bytes[start, end). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

// ---------------------------------------------------------------------------------------------
// 94x94 double-byte sets. Codes are kept in GL form (row and cell 0x21-0x7E).

export type DbcsId = 'JISX0208' | 'JISX0212' | 'KSX1001' | 'GB2312';

interface DbcsSpec {
  readonly label: string;
  /** Byte sequence given to the TextDecoder for GL row r, cell c. */
  readonly bytes: (r: number, c: number) => number[];
  /** Standard mappings that differ from WHATWG's (Windows-derived) index: GL code -> code point. */
  readonly overrides: Readonly<Record<number, number>>;
  /** Extra code point -> GL code entries for the encoder (the WHATWG variants of the above). */
  readonly aliases: Readonly<Record<number, number>>;
}

const DBCS: Record<DbcsId, DbcsSpec> = {
  // EUC-JP carries JIS X 0208 in GR. The WHATWG index also holds the NEC row 13 and the
  // NEC-selected IBM extensions in rows 89-92 (0x79-0x7C), which Japanese equipment writes
  // and CHAR-001 requires Tracer to read.
  JISX0208: {
    label: 'euc-jp',
    bytes: (r, c) => [r | 0x80, c | 0x80],
    // JIS X 0208 (and Python's iso2022_jp) map these to the JIS characters, WHATWG to the
    // CP932 full-width forms.
    overrides: { 0x2141: 0x301c, 0x2142: 0x2016, 0x215d: 0x2212, 0x2171: 0xa2, 0x2172: 0xa3, 0x224c: 0xac },
    aliases: { 0xff5e: 0x2141, 0x2225: 0x2142, 0xff0d: 0x215d, 0xffe0: 0x2171, 0xffe1: 0x2172, 0xffe2: 0x224c },
  },
  // EUC-JP carries JIS X 0212 as SS3 (0x8F) + GR pair.
  JISX0212: {
    label: 'euc-jp',
    bytes: (r, c) => [0x8f, r | 0x80, c | 0x80],
    overrides: { 0x2237: 0x7e },
    aliases: {},
  },
  // EUC-KR (GR pairs only: the UHC extension needs GL trail bytes and is never produced).
  KSX1001: {
    label: 'euc-kr',
    bytes: (r, c) => [r | 0x80, c | 0x80],
    // KS X 1001:1998 additions (euro, registered sign), decoded by Python's euc_kr.
    overrides: { 0x2266: 0x20ac, 0x2267: 0xae },
    aliases: {},
  },
  // GB 2312 in GR is a subset of GBK.
  GB2312: {
    label: 'gbk',
    bytes: (r, c) => [r | 0x80, c | 0x80],
    // GB 2312 proper (and Python's gb2312) versus the GB 18030 mapping used by WHATWG.
    overrides: { 0x2124: 0x30fb, 0x212a: 0x2015 },
    aliases: { 0xb7: 0x2124, 0x2014: 0x212a },
  },
};

const dbcsTables = new Map<DbcsId, Uint16Array>();

/**
 * 94*94 code points indexed (r-0x21)*94 + (c-0x21); REPLACEMENT where unassigned.
 * Private-use results (user-defined rows of KS X 1001 / GBK) count as unassigned.
 */
export function dbcsTable(id: DbcsId): Uint16Array {
  let t = dbcsTables.get(id);
  if (t !== undefined) return t;
  const spec = DBCS[id];
  const td = textDecoder(spec.label);
  t = new Uint16Array(94 * 94);
  // One decoder call for the whole table; every invalid sequence here consumes all of its
  // non-ASCII bytes and yields one U+FFFD, so the result has one code unit per code. Fall
  // back to per-code decoding if that ever does not hold.
  const all: number[] = [];
  for (let r = 0x21; r < 0x7f; r++) for (let c = 0x21; c < 0x7f; c++) all.push(...spec.bytes(r, c));
  const s = td.decode(Uint8Array.from(all));
  const bulk = s.length === 94 * 94;
  let k = 0;
  for (let r = 0x21; r < 0x7f; r++) {
    for (let c = 0x21; c < 0x7f; c++, k++) {
      let cp: number;
      if (bulk) cp = s.charCodeAt(k);
      else {
        const one = td.decode(Uint8Array.from(spec.bytes(r, c)));
        cp = one.length === 1 ? one.charCodeAt(0) : REPLACEMENT;
      }
      if (cp >= 0xe000 && cp <= 0xf8ff) cp = REPLACEMENT;
      const o = spec.overrides[(r << 8) | c];
      t[k] = o ?? cp;
    }
  }
  dbcsTables.set(id, t);
  return t;
}

const dbcsReverse = new Map<DbcsId, Map<number, number>>();

/** Code point -> GL code (r << 8 | c); the lowest code wins for duplicated characters. */
export function dbcsReverseTable(id: DbcsId): Map<number, number> {
  let m = dbcsReverse.get(id);
  if (m !== undefined) return m;
  m = new Map();
  const t = dbcsTable(id);
  for (let k = 0; k < t.length; k++) {
    const cp = t[k]!;
    if (cp === REPLACEMENT || cp < 0x80 || m.has(cp)) continue;
    m.set(cp, ((0x21 + Math.floor(k / 94)) << 8) | (0x21 + (k % 94)));
  }
  for (const [cp, code] of Object.entries(DBCS[id].aliases)) if (!m.has(Number(cp))) m.set(Number(cp), code);
  dbcsReverse.set(id, m);
  return m;
}
