/**
 * Specific Character Set (0008,0005): decoding and encoding of the text VRs (SH, LO, ST, LT,
 * UT, UC, PN) per PS3.3 C.12.1.1.2 and PS3.5 6.1 (REQUIREMENTS 15, CHAR-001..CHAR-012).
 *
 * Three families are distinguished (CHAR-002):
 *  - the single-byte sets and ISO 2022 code extensions (default repertoire, ISO_IR 100...,
 *    ISO 2022 IR nnn), decoded by a G0/G1 state machine (charset-iso2022.ts);
 *  - ISO_IR 192 (UTF-8) and
 *  - GB18030 / GBK, which do not allow code extensions (PS3.5 6.1.2.5.4 d).
 *
 * Nothing here throws on bad data: undecodable bytes become U+FFFD (as Python's
 * errors='replace' does in pydicom), unknown terms become warnings.
 */
import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import { VRS, vrInfo, type VR } from './vr.js';
import { textDecoder } from './charset-tables.js';
import {
  ELEMENTS, decodeG1, decodeIso2022, encodeIso2022,
  type CodeElement, type Delimiters, type Iso2022State,
} from './charset-iso2022.js';

type Family = 'iso2022' | 'utf8' | 'gb18030' | 'gbk';

interface TermDef {
  /** The Defined Term as spelled in PS3.3 Tables C.12-2..C.12-5. */
  readonly term: string;
  readonly family: Family;
  readonly g0?: CodeElement;
  readonly g1?: CodeElement;
  /** 'ISO 2022 ...' terms allow escape sequences to other values (PS3.3 C.12.1.1.2). */
  readonly extensions: boolean;
}

const DEFS: readonly TermDef[] = (() => {
  const defs: TermDef[] = [
    // Value 1 empty or absent: the default repertoire ISO-IR 6. 'ISO_IR 6' is not a Defined
    // Term but is common in the wild and accepted silently, as by pydicom.
    { term: '', family: 'iso2022', g0: ELEMENTS.ASCII, extensions: false },
    { term: 'ISO_IR 6', family: 'iso2022', g0: ELEMENTS.ASCII, extensions: false },
    { term: 'ISO 2022 IR 6', family: 'iso2022', g0: ELEMENTS.ASCII, extensions: true },
  ];
  const single: [number, CodeElement, CodeElement][] = [
    [100, ELEMENTS.ASCII, ELEMENTS.LATIN1], [101, ELEMENTS.ASCII, ELEMENTS.LATIN2],
    [109, ELEMENTS.ASCII, ELEMENTS.LATIN3], [110, ELEMENTS.ASCII, ELEMENTS.LATIN4],
    [144, ELEMENTS.ASCII, ELEMENTS.CYRILLIC], [127, ELEMENTS.ASCII, ELEMENTS.ARABIC],
    [126, ELEMENTS.ASCII, ELEMENTS.GREEK], [138, ELEMENTS.ASCII, ELEMENTS.HEBREW],
    [148, ELEMENTS.ASCII, ELEMENTS.LATIN5], [166, ELEMENTS.ASCII, ELEMENTS.THAI],
    // JIS X 0201: romaji in G0, katakana in G1 (PS3.5 H.1.1).
    [13, ELEMENTS.ROMAN, ELEMENTS.KATAKANA],
  ];
  for (const [ir, g0, g1] of single) {
    defs.push({ term: `ISO_IR ${ir}`, family: 'iso2022', g0, g1, extensions: false });
    defs.push({ term: `ISO 2022 IR ${ir}`, family: 'iso2022', g0, g1, extensions: true });
  }
  defs.push(
    { term: 'ISO 2022 IR 87', family: 'iso2022', g0: ELEMENTS.JISX0208, extensions: true },
    { term: 'ISO 2022 IR 159', family: 'iso2022', g0: ELEMENTS.JISX0212, extensions: true },
    { term: 'ISO 2022 IR 149', family: 'iso2022', g1: ELEMENTS.KSX1001, extensions: true },
    { term: 'ISO 2022 IR 58', family: 'iso2022', g1: ELEMENTS.GB2312, extensions: true },
    { term: 'ISO_IR 192', family: 'utf8', extensions: false },
    { term: 'GB18030', family: 'gb18030', extensions: false },
    { term: 'GBK', family: 'gbk', extensions: false },
  );
  return defs;
})();

const BY_TERM = new Map(DEFS.map((d) => [d.term, d]));
/** Spelling-insensitive lookup ('ISO IR 100', 'iso-2022-ir-87'...), as pydicom corrects. */
const squash = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9]/g, '');
const BY_SQUASHED = new Map<string, TermDef>([
  ...DEFS.map((d): [string, TermDef] => [squash(d.term), d]),
  ['UTF8', BY_TERM.get('ISO_IR 192')!],
  // Spellings pydicom accepts from CP 1234 drafts.
  ['ISO202258', BY_TERM.get('ISO 2022 IR 58')!],
  ['ISO2022GBK', BY_TERM.get('GBK')!],
]);
const DEFAULT_DEF = BY_TERM.get('')!;

const ESC = 0x1b;
const NO_DELIMS: Delimiters = { backslash: false, pn: false };
const MULTI_DELIMS: Delimiters = { backslash: true, pn: false };
const PN_DELIMS: Delimiters = { backslash: true, pn: true };

function delimitersFor(vr: VR): Delimiters {
  if (vr === 'PN') return PN_DELIMS;
  return VRS[vr]?.multiValued ? MULTI_DELIMS : NO_DELIMS;
}

function usesCharset(vr: VR): boolean {
  return vrInfo(vr)?.usesCharset ?? false;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;
const LATIN1_ONLY = /^[\x00-\x7f\xa0-\xff]*$/;
const NON_ASCII = /[^\x00-\x7f]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const cache = new Map<string, CharacterSet>();

/**
 * iconv-lite, loaded on first use: only GB18030 and GBK encoding need it, and loading it
 * costs more than the rest of the character set code (CLI start-up time).
 */
let iconvLib: typeof import('iconv-lite') | undefined;
function iconv(): typeof import('iconv-lite') {
  return (iconvLib ??= createRequire(import.meta.url)('iconv-lite') as typeof import('iconv-lite'));
}

export class CharacterSet {
  readonly terms: readonly string[];
  readonly warnings: readonly string[];
  readonly isDefault: boolean;
  private readonly family: Family;
  private readonly init: Iso2022State;
  /** Code elements usable when encoding, value 1's first. */
  private readonly available: readonly CodeElement[];

  private constructor(terms: readonly string[]) {
    this.terms = Object.freeze([...terms]);
    const warnings: string[] = [];
    const defs: TermDef[] = [];
    terms.forEach((raw, index) => {
      const t = raw.trim();
      let def = BY_TERM.get(t);
      if (def === undefined) {
        def = BY_SQUASHED.get(squash(t));
        if (def !== undefined) {
          warnings.push(`Incorrect value for Specific Character Set '${raw}' - assuming '${def.term}'`);
        } else {
          warnings.push(`Unknown Specific Character Set '${raw}' - using the default repertoire instead`);
          def = DEFAULT_DEF;
        }
      }
      if (index > 0 && def.family !== 'iso2022') {
        // PS3.5 6.1.2.5.4 d: UTF-8, GB18030 and GBK cannot be used with code extensions.
        warnings.push(`Value '${def.term}' cannot be used as code extension, ignoring it`);
        return;
      }
      defs.push(def);
    });
    const first = defs[0] ?? DEFAULT_DEF;
    if (first.family !== 'iso2022' && terms.length > 1) {
      warnings.push(
        `Value '${first.term}' for Specific Character Set does not allow code extensions, ` +
          `ignoring: ${terms.slice(1).join(', ')}`,
      );
    }
    this.family = first.family;
    // The initial state is value 1's G0 and G1 (PS3.5 6.1.2.5.3). A double-byte G0 (value 1
    // 'ISO 2022 IR 87' or '159', not meant as value 1) cannot be initial: ASCII is then.
    const g0 = first.g0 !== undefined && first.g0.kind !== 'dbcs' ? first.g0 : ELEMENTS.ASCII;
    this.init = { g0, g1: first.g1 };
    const available: CodeElement[] = [g0];
    if (first.g1 !== undefined) available.push(first.g1);
    if (first.family === 'iso2022' && (defs.length > 1 || first.extensions)) {
      for (const def of defs) {
        for (const el of [def.g0, def.g1]) if (el !== undefined && !available.includes(el)) available.push(el);
      }
    }
    this.available = available;
    this.isDefault = this.family === 'iso2022' && available.length === 1 && g0 === ELEMENTS.ASCII;
    this.warnings = Object.freeze(warnings);
  }

  /**
   * terms: the values of (0008,0005) split on backslash ('' allowed for value 1);
   * undefined or [] is the default repertoire. Instances are cached and immutable.
   */
  static from(terms: readonly string[] | undefined): CharacterSet {
    const list = terms ?? [];
    const key = list.join('\\');
    let cs = cache.get(key);
    if (cs === undefined) {
      cs = new CharacterSet(list);
      if (cache.size >= 256) cache.clear();
      cache.set(key, cs);
    }
    return cs;
  }

  /**
   * Decodes a whole element value (all values, backslashes and padding included). VRs not
   * affected by the character set (PS3.5 6.1.2.3) are decoded as Latin-1, which is ASCII for
   * conformant data and keeps every byte visible otherwise.
   */
  decode(bytes: Uint8Array, vr: VR): string {
    if (bytes.length === 0) return '';
    const buf = asBuffer(bytes);
    if (!usesCharset(vr)) return buf.toString('latin1');
    // Fast path: ASCII is the same in every supported set, unless it carries escapes.
    if (isAscii(buf) && (this.family !== 'iso2022' || buf.indexOf(ESC) < 0)) return buf.toString('latin1');
    switch (this.family) {
      case 'utf8':
        return textDecoder('utf-8').decode(buf);
      case 'gb18030':
        return textDecoder('gb18030').decode(buf);
      case 'gbk':
        return textDecoder('gbk').decode(buf);
      case 'iso2022': {
        const g1 = this.init.g1;
        // Without escapes the whole value is in the initial state; for single-byte G1 sets
        // (and the default, decoded as Latin-1 like pydicom) that is one native decode.
        if (buf.indexOf(ESC) < 0 && (g1 === undefined || g1.kind === 'sb96')) return decodeG1(buf, g1);
        return decodeIso2022(buf, this.init, delimitersFor(vr));
      }
    }
  }

  /**
   * Encodes text for a VR (no padding is added). ISO 2022 sets get the escape sequences they
   * need and return to the initial state before delimiters and at the end. Characters the
   * set cannot represent become '?' (CHAR-010).
   */
  encode(text: string, vr: VR): Buffer {
    if (ASCII_ONLY.test(text)) return Buffer.from(text, 'latin1');
    if (!usesCharset(vr)) return Buffer.from(text.replace(NON_ASCII, '?'), 'latin1');
    const wellFormed = text.replace(LONE_SURROGATE, '?');
    switch (this.family) {
      case 'utf8':
        return Buffer.from(wellFormed, 'utf8');
      case 'gb18030':
        return iconv().encode(wellFormed, 'gb18030');
      case 'gbk':
        return iconv().encode(wellFormed, 'gbk');
      case 'iso2022':
        return encodeIso2022(wellFormed, this.init, this.available, delimitersFor(vr));
    }
  }
}

/**
 * CHAR-010 `auto`: no (0008,0005) when all text is ASCII, 'ISO_IR 100' when Latin-1 suffices
 * (its G1 graphic characters 0xA0-0xFF; C1 controls are not part of ISO-IR 100), else
 * 'ISO_IR 192'.
 */
export function chooseSpecificCharacterSet(texts: readonly string[]): string | undefined {
  let result: string | undefined;
  for (const t of texts) {
    if (ASCII_ONLY.test(t)) continue;
    if (!LATIN1_ONLY.test(t)) return 'ISO_IR 192';
    result = 'ISO_IR 100';
  }
  return result;
}
