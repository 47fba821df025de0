/**
 * ISO/IEC 2022 code extension techniques as restricted by DICOM (PS3.5 6.1.2.5): code elements
 * G0 (GL, bytes 0x21-0x7E) and G1 (GR, bytes 0xA0-0xFF), designated by escape sequences, with
 * the rule (PS3.5 6.1.2.5.3) that the initial state, i.e. the code elements of value 1 of
 * Specific Character Set, is active again at every control character other than ESC (CR, LF,
 * FF, TAB...), at the value separator '\' of multi-valued VRs, at the '^' and '=' delimiters of
 * PN and at the end of the value.
 */
import {
  REPLACEMENT, SB_SETS, codesToString, dbcsReverseTable, dbcsTable, decodeSingleByte, latin1,
  singleByteReverse, type DbcsId, type SingleByteSet,
} from './charset-tables.js';

const ESC = 0x1b;

export interface CodeElement {
  /** ISO-IR registration, for messages. */
  readonly id: string;
  /** Code element the designation loads (PS3.3 Tables C.12-3/C.12-4). */
  readonly g: 0 | 1;
  /** Bytes after ESC of the designation escape sequence that Tracer writes. */
  readonly escape: readonly number[];
  /**
   * ascii: ISO-IR 6. roman: JIS X 0201 romaji, ISO-IR 14 (decoded as ASCII, see below).
   * sb96: single-byte 96-set in G1. katakana: JIS X 0201 katakana, ISO-IR 13, in G1.
   * dbcs: 94x94 double-byte set, in G0 (JIS) or G1 (KS X 1001, GB 2312).
   */
  readonly kind: 'ascii' | 'roman' | 'sb96' | 'katakana' | 'dbcs';
  readonly sb?: SingleByteSet;
  readonly dbcs?: DbcsId;
}

const esc = (s: string): number[] => [...s].map((ch) => ch.charCodeAt(0));
const sb96 = (final: string, sb: SingleByteSet): CodeElement =>
  ({ id: sb.id, g: 1, escape: esc('-' + final), kind: 'sb96', sb });

/**
 * ISO-IR 14 differs from ASCII only at 0x5C (YEN SIGN) and 0x7E (OVERLINE) (PS3.5 H.1.1).
 * Tracer, like pydicom and most toolkits, keeps them '\' and '~': 0x5C is the value separator
 * of SH/LO/PN/UC whatever the character set, and a lossless ASCII round trip matters more.
 */
export const ELEMENTS = {
  ASCII: { id: 'ISO-IR 6', g: 0, escape: esc('(B'), kind: 'ascii' },
  ROMAN: { id: 'ISO-IR 14', g: 0, escape: esc('(J'), kind: 'roman' },
  KATAKANA: { id: 'ISO-IR 13', g: 1, escape: esc(')I'), kind: 'katakana' },
  LATIN1: sb96('A', SB_SETS.LATIN1),
  LATIN2: sb96('B', SB_SETS.LATIN2),
  LATIN3: sb96('C', SB_SETS.LATIN3),
  LATIN4: sb96('D', SB_SETS.LATIN4),
  GREEK: sb96('F', SB_SETS.GREEK),
  ARABIC: sb96('G', SB_SETS.ARABIC),
  HEBREW: sb96('H', SB_SETS.HEBREW),
  CYRILLIC: sb96('L', SB_SETS.CYRILLIC),
  LATIN5: sb96('M', SB_SETS.LATIN5),
  THAI: sb96('T', SB_SETS.THAI),
  JISX0208: { id: 'ISO-IR 87', g: 0, escape: esc('$B'), kind: 'dbcs', dbcs: 'JISX0208' },
  JISX0212: { id: 'ISO-IR 159', g: 0, escape: esc('$(D'), kind: 'dbcs', dbcs: 'JISX0212' },
  KSX1001: { id: 'ISO-IR 149', g: 1, escape: esc('$)C'), kind: 'dbcs', dbcs: 'KSX1001' },
  GB2312: { id: 'ISO-IR 58', g: 1, escape: esc('$)A'), kind: 'dbcs', dbcs: 'GB2312' },
} as const satisfies Record<string, CodeElement>;

/** Escape sequences recognised when reading (intermediate and final bytes after ESC). */
const DESIGNATIONS = new Map<string, CodeElement>([
  ...Object.values(ELEMENTS).map((e): [string, CodeElement] => [String.fromCharCode(...e.escape), e]),
  // Older or long forms of the JIS X 0208 designation (ISO-IR 42 is the 1978 edition;
  // ISO 2022 allows the 02/08 intermediate that PS3.5 H.1 notes is normally omitted).
  ['$@', ELEMENTS.JISX0208], ['$(B', ELEMENTS.JISX0208], ['$(@', ELEMENTS.JISX0208],
]);

export interface Iso2022State {
  readonly g0: CodeElement;
  readonly g1: CodeElement | undefined;
}

/** Which bytes, besides control characters, return to the initial state (PS3.5 6.1.2.5.3). */
export interface Delimiters {
  /** '\' separates values (SH, LO, PN, UC). */
  readonly backslash: boolean;
  /** '^' and '=' separate PN components and component groups. */
  readonly pn: boolean;
}

function isDelimiter(b: number, d: Delimiters): boolean {
  return (b < 0x20 && b !== ESC) || (d.backslash && b === 0x5c) || (d.pn && (b === 0x5e || b === 0x3d));
}

/**
 * Decodes a value with escape sequences. Undecodable bytes, unknown escape sequences and
 * dangling halves of double-byte characters become U+FFFD; this never throws.
 *
 * Any recognised designation is honoured, even for a set not listed in (0008,0005): CHAR-002
 * asks for robustness against data that does not match its declaration.
 */
export function decodeIso2022(bytes: Uint8Array, init: Iso2022State, d: Delimiters): string {
  const n = bytes.length;
  let g0 = init.g0;
  let g1 = init.g1;
  let out = '';
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b === ESC) {
      // ESC, intermediate bytes 02/00-02/15, final byte 03/00-07/14 (ISO/IEC 2022 13.1).
      let j = i + 1;
      while (j < n && bytes[j]! >= 0x20 && bytes[j]! <= 0x2f) j++;
      if (j < n && bytes[j]! >= 0x30 && bytes[j]! <= 0x7e) {
        const el = DESIGNATIONS.get(latin1(bytes, i + 1, j + 1));
        if (el === undefined) out += '\ufffd';
        else if (el.g === 0) g0 = el;
        else g1 = el;
        i = j + 1;
      } else {
        out += '\ufffd';
        i++;
      }
      continue;
    }
    if (b < 0x80) {
      if (g0.kind === 'dbcs' && b >= 0x21 && b <= 0x7e) {
        // Inside a double-byte G0 set '^', '=' and '\' are halves of characters, not
        // delimiters: a conformant writer returns to the initial set before a delimiter.
        let j = i + 1;
        while (j < n && bytes[j]! >= 0x21 && bytes[j]! <= 0x7e) j++;
        out += decodeDbcs(bytes, i, j, g0.dbcs!, 0);
        i = j;
        continue;
      }
      if (isDelimiter(b, d)) {
        g0 = init.g0;
        g1 = init.g1;
        out += String.fromCharCode(b);
        i++;
        continue;
      }
      let j = i + 1;
      if (g0.kind !== 'dbcs') {
        while (j < n) {
          const c = bytes[j]!;
          if (c >= 0x80 || c === ESC || isDelimiter(c, d)) break;
          j++;
        }
      }
      out += latin1(bytes, i, j);
      i = j;
      continue;
    }
    let j = i + 1;
    while (j < n && bytes[j]! >= 0x80) j++;
    out += decodeG1(bytes.subarray(i, j), g1);
    i = j;
  }
  return out;
}

/** Decodes a run of bytes >= 0x80 with the G1 element (or Latin-1 when none is designated,
 *  as pydicom does for the default repertoire). */
export function decodeG1(run: Uint8Array, g1: CodeElement | undefined): string {
  if (g1 === undefined) return latin1(run, 0, run.length);
  switch (g1.kind) {
    case 'sb96':
      return decodeSingleByte(run, g1.sb!);
    case 'katakana': {
      const codes = new Array<number>(run.length);
      for (let k = 0; k < run.length; k++) {
        const b = run[k]!;
        codes[k] = b >= 0xa1 && b <= 0xdf ? 0xff61 + (b - 0xa1) : REPLACEMENT;
      }
      return codesToString(codes);
    }
    case 'dbcs':
      return decodeDbcs(run, 0, run.length, g1.dbcs!, 0x80);
    default:
      return latin1(run, 0, run.length);
  }
}

/** Decodes bytes[start, end) as pairs of a 94x94 set; `high` is 0 for GL, 0x80 for GR. */
function decodeDbcs(bytes: Uint8Array, start: number, end: number, id: DbcsId, high: number): string {
  const t = dbcsTable(id);
  const codes: number[] = [];
  const lo = 0x21 + high;
  const hi = 0x7e + high;
  let k = start;
  while (k < end) {
    const r = bytes[k]!;
    const c = k + 1 < end ? bytes[k + 1]! : -1;
    if (r >= lo && r <= hi && c >= lo && c <= hi) {
      codes.push(t[(r - lo) * 94 + (c - lo)]!);
      k += 2;
    } else {
      codes.push(REPLACEMENT);
      k++;
    }
  }
  return codesToString(codes);
}

/** Bytes for code point cp in element el, or undefined when el cannot represent it. */
function encodeIn(el: CodeElement, cp: number): number[] | undefined {
  switch (el.kind) {
    case 'ascii':
    case 'roman':
      return cp < 0x80 ? [cp] : undefined;
    case 'sb96': {
      const b = singleByteReverse(el.sb!).get(cp);
      return b === undefined ? undefined : [b];
    }
    case 'katakana':
      return cp >= 0xff61 && cp <= 0xff9f ? [0xa1 + (cp - 0xff61)] : undefined;
    case 'dbcs': {
      const code = dbcsReverseTable(el.dbcs!).get(cp);
      if (code === undefined) return undefined;
      const high = el.g === 1 ? 0x80 : 0;
      return [(code >> 8) | high, (code & 0xff) | high];
    }
  }
}

/**
 * Encodes text with the code elements `available` (value 1's first). Designates a set only
 * when the current G0/G1 cannot represent a character, and before every delimiter and at the
 * end returns G0 to the initial set with an explicit escape (PS3.5 6.1.2.5.3; Annex H
 * examples). A G1 designation needs no explicit return: delimiters reset it implicitly, and
 * the next use designates it again (PS3.5 Annexes I.2 and K.2). Characters no element can
 * represent become '?'.
 */
export function encodeIso2022(
  text: string, init: Iso2022State, available: readonly CodeElement[], d: Delimiters,
): Buffer {
  const out: number[] = [];
  let g0 = init.g0;
  let g1 = init.g1;
  const toInitialG0 = (): void => {
    if (g0 !== init.g0) {
      out.push(ESC, ...init.g0.escape);
      g0 = init.g0;
    }
  };
  for (const ch of text) {
    let cp = ch.codePointAt(0)!;
    if (cp === ESC) cp = 0x3f; // a literal ESC would corrupt the state of every reader
    if (cp < 0x80 && isDelimiter(cp, d)) {
      toInitialG0();
      g1 = init.g1;
      out.push(cp);
      continue;
    }
    if (cp < 0x80) {
      // SPACE is also sent in a single-byte G0: ISO-2022-JP-2 readers require it (PS3.5 H.2).
      if (g0.kind === 'dbcs') toInitialG0();
      out.push(cp);
      continue;
    }
    let bytes = g1 === undefined ? undefined : encodeIn(g1, cp);
    if (bytes === undefined && g0.kind === 'dbcs') bytes = encodeIn(g0, cp);
    if (bytes === undefined) {
      for (const el of available) {
        if (el === g0 || el === g1) continue;
        bytes = encodeIn(el, cp);
        if (bytes !== undefined) {
          out.push(ESC, ...el.escape);
          if (el.g === 0) g0 = el;
          else g1 = el;
          break;
        }
      }
    }
    if (bytes === undefined) {
      if (g0.kind === 'dbcs') toInitialG0();
      bytes = [0x3f];
    }
    for (const b of bytes) out.push(b);
  }
  toInitialG0();
  return Buffer.from(out);
}
