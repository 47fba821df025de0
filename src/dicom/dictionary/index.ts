/**
 * Tracer's data dictionary: data elements (PS3.6 Tables 6-1..8-1, PS3.7 Table E.1-1),
 * UIDs (PS3.6 Annex A), transfer syntaxes (PS3.5 Section 10, Annex A) and the vendor
 * private dictionaries of REQUIREMENTS 18.2.
 *
 * The tables live in *.gen.ts as long tab/newline-separated strings written by
 * scripts/gen-dictionary.mjs. Loading a string literal is nearly free, so importing this
 * module costs little at CLI start-up; each table is split into Maps on its first lookup.
 */
import type { Tag } from '../tag.js';
import { ATTRIBUTES } from './attributes.gen.js';
import { PRIVATE } from './private.gen.js';
import { TRANSFER_SYNTAXES, TS as GENERATED_TS, UIDS } from './uids.gen.js';

// ---------------------------------------------------------------------------------------
// Data elements
// ---------------------------------------------------------------------------------------

export interface AttributeEntry {
  tag: Tag;
  keyword: string;
  name: string;
  /**
   * 'US', or ambiguous as the standard writes it: 'US or SS', 'OB or OW', 'US or OW',
   * 'US or SS or OW'; '' when the standard gives none (items and delimiters, PS3.5 7.5,
   * and a few retired elements).
   */
  vr: string;
  vm: string;
  retired: boolean;
}

/** Index over the attribute table, built on first use. */
interface AttributeTable {
  /** Start offset of each record in ATTRIBUTES, plus one past the end. */
  starts: Uint32Array;
  /** Exact tag -> record number. */
  byTag: Map<number, number>;
  /** Repeating-group entries, PS3.5 7.6 and the retired (1000,xxxy), (0028,04x0) etc. */
  patterns: { mask: number; value: number; record: number }[];
  /** Parsed entries, by record number (filled on demand). */
  entries: (AttributeEntry | undefined)[];
  byKeyword?: Map<string, number>;
}

let attributeTable: AttributeTable | undefined;

function attributes(): AttributeTable {
  if (attributeTable) return attributeTable;
  // Walk the string once; records are only sliced and split when looked up.
  const starts: number[] = [];
  const byTag = new Map<number, number>();
  const patterns: AttributeTable['patterns'] = [];
  for (let pos = 0, n = 0; pos < ATTRIBUTES.length; n++) {
    starts.push(pos);
    const hex = ATTRIBUTES.slice(pos, pos + 8);
    const value = parseInt(hex, 16);
    if (hex.includes('X')) {
      let mask = 0;
      let v = 0;
      for (let d = 0; d < 8; d++) {
        const c = hex[d]!;
        mask = mask * 16 + (c === 'X' ? 0 : 15);
        v = v * 16 + (c === 'X' ? 0 : parseInt(c, 16));
      }
      patterns.push({ mask, value: v, record: n });
    } else {
      byTag.set(value, n);
    }
    const end = ATTRIBUTES.indexOf('\n', pos);
    pos = end < 0 ? ATTRIBUTES.length : end + 1;
  }
  starts.push(ATTRIBUTES.length + 1);
  attributeTable = { starts: Uint32Array.from(starts), byTag, patterns, entries: [] };
  return attributeTable;
}

function record(table: AttributeTable, n: number): string {
  return ATTRIBUTES.slice(table.starts[n]!, table.starts[n + 1]! - 1);
}

function attributeAt(table: AttributeTable, i: number): AttributeEntry {
  let e = table.entries[i];
  if (!e) {
    const [hex, keyword, vr, vm, retired, name] = record(table, i).split('\t') as [string, string, string, string, string, string];
    // Repeating entries are listed with their x digits as 0: (6000,3000), (1000,0000).
    e = Object.freeze({ tag: parseInt(hex.replace(/X/g, '0'), 16), keyword, name, vr, vm, retired: retired === 'R' });
    table.entries[i] = e;
  }
  return e;
}

/** Bitwise operators work on int32; tags use the full 32 bits, so compare unsigned. */
const u32 = (n: number): number => n >>> 0;

/**
 * The dictionary entry of a tag. Besides exact entries:
 * - repeating groups: (60xx,3000) answers for (6002,3000) (PS3.5 7.6), and likewise
 *   (50xx,eeee), (7Fxx,eeee), (0020,31xx), (0028,04x0), (1000,xxx0), (1010,xxxx); the
 *   returned entry carries the tag asked for;
 * - any group length (gggg,0000) not otherwise known is GenericGroupLength, UL (PS3.5 7.2);
 * - a private creator element (gggg,0010-00FF), gggg odd and above 0007, is
 *   PrivateCreator, LO (PS3.5 7.8.1).
 * Private data elements are not answered here: see lookupPrivate.
 */
export function lookupTag(t: Tag): AttributeEntry | undefined {
  const table = attributes();
  const i = table.byTag.get(t);
  if (i !== undefined) return attributeAt(table, i);
  const group = Math.floor(t / 0x10000);
  const element = t % 0x10000;
  if (element === 0) {
    return { tag: t, keyword: 'GenericGroupLength', name: 'Generic Group Length', vr: 'UL', vm: '1', retired: false };
  }
  if (group & 1) {
    // Odd groups above 0007 are private (PS3.5 7.8); they never match the standard's
    // repeating groups, which are even (PS3.5 7.6).
    if (group > 0x0007 && group !== 0xffff && element >= 0x0010 && element <= 0x00ff) {
      return { tag: t, keyword: 'PrivateCreator', name: 'Private Creator', vr: 'LO', vm: '1', retired: false };
    }
    return undefined;
  }
  for (const p of table.patterns) {
    if (u32(t & p.mask) === u32(p.value)) {
      const e = attributeAt(table, p.record);
      return { ...e, tag: t };
    }
  }
  return undefined;
}

/** The entry of a keyword of the standard ('PatientName'); repeating entries have x = 0. */
export function lookupKeyword(keyword: string): AttributeEntry | undefined {
  const table = attributes();
  if (!table.byKeyword) {
    const m = new Map<string, number>();
    for (let i = 0; i < table.starts.length - 1; i++) {
      const line = record(table, i);
      const kw = line.slice(9, line.indexOf('\t', 9));
      if (kw) m.set(kw, i);
    }
    table.byKeyword = m;
  }
  const i = table.byKeyword.get(keyword);
  return i === undefined ? undefined : attributeAt(table, i);
}

// ---------------------------------------------------------------------------------------
// Private data elements
// ---------------------------------------------------------------------------------------

export interface PrivateEntry {
  creator: string;
  group: number;
  /** Low byte of the element, 0x00-0xFF: the offset within the reserved block. */
  offset: number;
  /** 'UN' where the vendor's statement gives no VR (REQUIREMENTS PRIV-004). */
  vr: string;
  /** '' where the vendor's statement gives no VM. */
  vm: string;
  name: string;
  /** CamelCase, derived from the name by the generator. */
  keyword: string;
}

let privateTable: Map<string, Map<number, PrivateEntry>> | undefined;

function privates(): Map<string, Map<number, PrivateEntry>> {
  if (privateTable) return privateTable;
  const byCreator = new Map<string, Map<number, PrivateEntry>>();
  for (const line of PRIVATE.split('\n')) {
    const [creator, g, ee, vr, vm, keyword, name] = line.split('\t') as [string, string, string, string, string, string, string];
    const group = parseInt(g, 16);
    const offset = parseInt(ee, 16);
    let m = byCreator.get(creator);
    if (!m) byCreator.set(creator, (m = new Map()));
    m.set(group * 0x100 + offset, Object.freeze({ creator, group, offset, vr, vm, name, keyword }));
  }
  privateTable = byCreator;
  return byCreator;
}

/**
 * The vendor dictionary entry of private data element `t`, given the value of the Private
 * Creator element that reserved its block. Private elements are identified by group,
 * creator and the element's low byte, never by absolute element number, because the block
 * (gggg,xx00-xxFF) is whichever one the creator (gggg,00xx) reserved (PS3.5 7.8.1,
 * REQUIREMENTS PRIV-002). So (7011,1310) under "TOSHIBA_MEC_NM3A" in block 0x13 is the
 * Toshiba element xx10 just as (7011,1010) is.
 */
export function lookupPrivate(creator: string, t: Tag): PrivateEntry | undefined {
  const group = Math.floor(t / 0x10000);
  const element = t % 0x10000;
  if ((group & 1) === 0 || group <= 0x0007 || group === 0xffff || element < 0x1000) return undefined;
  // LO values are padded with spaces, and leading/trailing spaces are not significant
  // (PS3.5 6.2); some writers pad with NUL instead.
  const key = creator.replace(/^[ \0]+|[ \0]+$/g, '');
  return privates().get(key)?.get(group * 0x100 + (element & 0xff));
}

// ---------------------------------------------------------------------------------------
// UIDs
// ---------------------------------------------------------------------------------------

export interface UidEntry {
  uid: string;
  name: string;
  keyword: string;
  type: 'SOP Class' | 'Transfer Syntax' | 'Well-known SOP Instance' | 'Application Context Name' | 'Meta SOP Class' | 'Other';
  retired: boolean;
}

const UID_TYPES: Record<string, UidEntry['type']> = {
  S: 'SOP Class',
  C: 'SOP Class',
  M: 'Meta SOP Class',
  W: 'Well-known SOP Instance',
  A: 'Application Context Name',
  T: 'Transfer Syntax',
  O: 'Other',
};

interface UidTable {
  byUid: Map<string, UidEntry>;
  byKeyword: Map<string, UidEntry>;
  storage: Set<string>;
}

let uidTable: UidTable | undefined;

function uids(): UidTable {
  if (uidTable) return uidTable;
  const byUid = new Map<string, UidEntry>();
  const byKeyword = new Map<string, UidEntry>();
  const storage = new Set<string>();
  for (const line of UIDS.split('\n')) {
    const [uid, type, flags, keyword, name] = line.split('\t') as [string, string, string, string, string];
    const e: UidEntry = Object.freeze({ uid, name, keyword, type: UID_TYPES[type] ?? 'Other', retired: flags.includes('R') });
    byUid.set(uid, e);
    byKeyword.set(keyword, e);
    if (type === 'S') storage.add(uid);
  }
  uidTable = { byUid, byKeyword, storage };
  return uidTable;
}

/** UI values are padded to even length with NUL (PS3.5 6.2); tolerate stray spaces too. */
function cleanUid(uid: string): string {
  return uid.replace(/^[ \0]+|[ \0]+$/g, '');
}

export function lookupUid(uid: string): UidEntry | undefined {
  return uids().byUid.get(cleanUid(uid));
}

/** By the keyword of PS3.6 Table A-1, e.g. 'CTImageStorage', 'StudyRootQueryRetrieveInformationModelFind'. */
export function lookupUidByKeyword(keyword: string): UidEntry | undefined {
  return uids().byKeyword.get(keyword);
}

/**
 * True for the SOP classes of the Storage Service Class (PS3.4 Table B.5-1), including
 * retired ones (e.g. the retired NM Image Storage 1.2.840.10008.5.1.4.1.1.5 that old
 * cameras still send), DICOS and DICONDE ones, and the private storage SOP classes Tracer
 * stores (REQUIREMENTS 18.3). Media Storage Directory Storage (DICOMDIR) is not one.
 * Decided by table, not by UID prefix: 1.2.840.10008.5.1.4.1.1.x also holds Q/R classes.
 */
export function isStorageSopClass(uid: string): boolean {
  return uids().storage.has(cleanUid(uid));
}

// ---------------------------------------------------------------------------------------
// Transfer syntaxes
// ---------------------------------------------------------------------------------------

export interface TransferSyntax {
  uid: string;
  name: string;
  keyword: string;
  explicitVR: boolean;
  littleEndian: boolean;
  /** The whole data set after the file meta information is deflated (PS3.5 A.5). */
  deflated: boolean;
  /** Pixel data is encapsulated in fragments (PS3.5 A.4). */
  encapsulated: boolean;
  /** The syntax permits irreversible compression, so a receiver must assume it was used. */
  lossy: boolean;
  retired: boolean;
}

/** Every transfer syntax of PS3.6 Table A-1 plus the private ones Tracer accepts. */
export const allTransferSyntaxes: readonly TransferSyntax[] = Object.freeze(
  TRANSFER_SYNTAXES.split('\n').map((line) => {
    const [uid, keyword, flags, name] = line.split('\t') as [string, string, string, string];
    return Object.freeze({
      uid,
      name,
      keyword,
      explicitVR: flags.includes('E'),
      littleEndian: !flags.includes('B'),
      deflated: flags.includes('D'),
      encapsulated: flags.includes('C'),
      lossy: flags.includes('L'),
      retired: flags.includes('R'),
    });
  }),
);

/** Transfer syntax UIDs by keyword: TS.ExplicitVRLittleEndian === '1.2.840.10008.1.2.1'. */
export const TS = GENERATED_TS;

/**
 * Short names for command lines, after DCMTK's option names and common usage. Note that
 * 'jpeg-lossless' is the usual default, Process 14 SV1 (.70), whereas the keyword
 * 'JPEGLossless' is Process 14 with any predictor (.57).
 */
const TS_ALIASES: Record<string, string> = {
  implicit: TS.ImplicitVRLittleEndian,
  ile: TS.ImplicitVRLittleEndian,
  'implicit-little': TS.ImplicitVRLittleEndian,
  'little-implicit': TS.ImplicitVRLittleEndian,
  explicit: TS.ExplicitVRLittleEndian,
  ele: TS.ExplicitVRLittleEndian,
  'explicit-little': TS.ExplicitVRLittleEndian,
  'little-explicit': TS.ExplicitVRLittleEndian,
  big: TS.ExplicitVRBigEndian,
  ebe: TS.ExplicitVRBigEndian,
  'explicit-big': TS.ExplicitVRBigEndian,
  'big-explicit': TS.ExplicitVRBigEndian,
  deflate: TS.DeflatedExplicitVRLittleEndian,
  deflated: TS.DeflatedExplicitVRLittleEndian,
  'encapsulated-uncompressed': TS.EncapsulatedUncompressedExplicitVRLittleEndian,
  'jpeg-baseline': TS.JPEGBaseline8Bit,
  jpeg8: TS.JPEGBaseline8Bit,
  'jpeg-extended': TS.JPEGExtended12Bit,
  jpeg12: TS.JPEGExtended12Bit,
  'jpeg-lossless': TS.JPEGLosslessSV1,
  'jpeg-lossless-sv1': TS.JPEGLosslessSV1,
  'jpeg-sv1': TS.JPEGLosslessSV1,
  'jpeg-lossless-14': TS.JPEGLossless,
  'jpeg-p14': TS.JPEGLossless,
  'jpeg-ls': TS.JPEGLSLossless,
  'jpeg-ls-lossless': TS.JPEGLSLossless,
  jls: TS.JPEGLSLossless,
  'jls-lossless': TS.JPEGLSLossless,
  'jpeg-ls-lossy': TS.JPEGLSNearLossless,
  'jpeg-ls-near-lossless': TS.JPEGLSNearLossless,
  'jls-lossy': TS.JPEGLSNearLossless,
  'jls-near-lossless': TS.JPEGLSNearLossless,
  'j2k-lossless': TS.JPEG2000Lossless,
  'jpeg2000-lossless': TS.JPEG2000Lossless,
  j2k: TS.JPEG2000,
  'j2k-lossy': TS.JPEG2000,
  jpeg2000: TS.JPEG2000,
  'j2k-mc-lossless': TS.JPEG2000MCLossless,
  'j2k-mc': TS.JPEG2000MC,
  'htj2k-lossless': TS.HTJ2KLossless,
  'htj2k-rpcl': TS.HTJ2KLosslessRPCL,
  'htj2k-lossless-rpcl': TS.HTJ2KLosslessRPCL,
  htj2k: TS.HTJ2K,
  rle: TS.RLELossless,
  jpip: TS.JPIPReferenced,
  'jpip-deflate': TS.JPIPReferencedDeflate,
  mpeg2: TS.MPEG2MPML,
  'mpeg2-hl': TS.MPEG2MPHL,
  h264: TS.MPEG4HP41,
  mpeg4: TS.MPEG4HP41,
  hevc: TS.HEVCMP51,
  h265: TS.HEVCMP51,
  'hevc-10': TS.HEVCM10P51,
  'jxl-lossless': TS.JPEGXLLossless,
  'jpegxl-lossless': TS.JPEGXLLossless,
  'jxl-jpeg': TS.JPEGXLJPEGRecompression,
  jxl: TS.JPEGXL,
  jpegxl: TS.JPEGXL,
  'deflated-image-frame': TS.DeflatedImageFrameCompression,
  'philips-ele': TS.PhilipsPrivateExplicitVRLittleEndian,
};

let tsLookup: Map<string, TransferSyntax> | undefined;

/**
 * A transfer syntax by UID, by keyword ('ExplicitVRLittleEndian', case-insensitive), by
 * name ('Explicit VR Little Endian', case-insensitive) or by short alias ('ele', 'big',
 * 'jpeg-lossless', 'j2k', 'rle', ...; '_' and spaces may stand for '-').
 */
export function transferSyntax(nameOrUid: string): TransferSyntax | undefined {
  if (!tsLookup) {
    const m = new Map<string, TransferSyntax>();
    for (const ts of allTransferSyntaxes) m.set(ts.uid, ts);
    const byUid = new Map(m);
    for (const ts of allTransferSyntaxes) m.set(ts.keyword.toLowerCase(), ts);
    for (const [alias, uid] of Object.entries(TS_ALIASES)) if (!m.has(alias)) m.set(alias, byUid.get(uid)!);
    for (const ts of allTransferSyntaxes) if (!m.has(ts.name.toLowerCase())) m.set(ts.name.toLowerCase(), ts);
    tsLookup = m;
  }
  const s = cleanUid(nameOrUid);
  return tsLookup.get(s) ?? tsLookup.get(s.toLowerCase()) ?? tsLookup.get(s.toLowerCase().replace(/[_ ]/g, '-'));
}
