/**
 * The DIMSE command set: group 0000 elements of PS3.7 Annex E, always encoded in Implicit VR
 * Little Endian (PS3.7 6.3.1), starting with Command Group Length (0000,0000).
 * This small fixed dictionary is all the command layer needs; it does not use src/dicom.
 */
import { DimseDecodeError } from '../errors.js';

type CommandVr = 'UL' | 'US' | 'UI' | 'AE' | 'LO' | 'SH' | 'AT';

/** PS3.7 Table E.1-1 (and the retired elements of E.2-1, decoded for robustness). */
const DICTIONARY = [
  [0x0000, 'CommandGroupLength', 'UL'],
  [0x0001, 'CommandLengthToEnd', 'UL'], // retired
  [0x0002, 'AffectedSOPClassUID', 'UI'],
  [0x0003, 'RequestedSOPClassUID', 'UI'],
  [0x0010, 'CommandRecognitionCode', 'SH'], // retired
  [0x0100, 'CommandField', 'US'],
  [0x0110, 'MessageID', 'US'],
  [0x0120, 'MessageIDBeingRespondedTo', 'US'],
  [0x0200, 'Initiator', 'AE'], // retired
  [0x0300, 'Receiver', 'AE'], // retired
  [0x0400, 'FindLocation', 'AE'], // retired
  [0x0600, 'MoveDestination', 'AE'],
  [0x0700, 'Priority', 'US'],
  [0x0800, 'CommandDataSetType', 'US'],
  [0x0850, 'NumberOfMatches', 'US'], // retired
  [0x0860, 'ResponseSequenceNumber', 'US'], // retired
  [0x0900, 'Status', 'US'],
  [0x0901, 'OffendingElement', 'AT'],
  [0x0902, 'ErrorComment', 'LO'],
  [0x0903, 'ErrorID', 'US'],
  [0x1000, 'AffectedSOPInstanceUID', 'UI'],
  [0x1001, 'RequestedSOPInstanceUID', 'UI'],
  [0x1002, 'EventTypeID', 'US'],
  [0x1005, 'AttributeIdentifierList', 'AT'],
  [0x1008, 'ActionTypeID', 'US'],
  [0x1020, 'NumberOfRemainingSuboperations', 'US'],
  [0x1021, 'NumberOfCompletedSuboperations', 'US'],
  [0x1022, 'NumberOfFailedSuboperations', 'US'],
  [0x1023, 'NumberOfWarningSuboperations', 'US'],
  [0x1030, 'MoveOriginatorApplicationEntityTitle', 'AE'],
  [0x1031, 'MoveOriginatorMessageID', 'US'],
] as const;

export type CommandKeyword = (typeof DICTIONARY)[number][1];

type ValueOf<V extends CommandVr> = V extends 'UL' | 'US' ? number : V extends 'AT' ? number[] : string;
type Entry<K extends CommandKeyword> = Extract<(typeof DICTIONARY)[number], readonly [number, K, CommandVr]>;

/** A decoded command set: element keyword → value. AT values are tags as (group << 16 | element). */
export type CommandSet = { -readonly [K in CommandKeyword]?: ValueOf<Entry<K>[2]> };

export interface CommandElement {
  element: number;
  keyword: CommandKeyword;
  vr: CommandVr;
}

const BY_ELEMENT = new Map<number, CommandElement>(DICTIONARY.map(([element, keyword, vr]) => [element, { element, keyword, vr }]));
const BY_KEYWORD = new Map<string, CommandElement>(DICTIONARY.map(([element, keyword, vr]) => [keyword, { element, keyword, vr }]));

export function commandElement(keyword: string): CommandElement | undefined {
  return BY_KEYWORD.get(keyword);
}

/** CommandDataSetType (0000,0800): 0101H means no data set; any other value means one follows. */
export const NO_DATA_SET = 0x0101;
export const DATA_SET_PRESENT = 0x0001;

function encodeValue(e: CommandElement, v: unknown): Buffer {
  switch (e.vr) {
    case 'US': {
      const b = Buffer.allocUnsafe(2);
      b.writeUInt16LE(Number(v) & 0xffff, 0);
      return b;
    }
    case 'UL': {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32LE(Number(v) >>> 0, 0);
      return b;
    }
    case 'AT': {
      const tags = Array.isArray(v) ? (v as number[]) : [Number(v)];
      const b = Buffer.allocUnsafe(tags.length * 4);
      tags.forEach((t, i) => {
        b.writeUInt16LE(Math.floor(t / 0x10000) & 0xffff, i * 4);
        b.writeUInt16LE(t & 0xffff, i * 4 + 2);
      });
      return b;
    }
    default: {
      const s = String(v);
      // Even length: UI padded with NUL, text with space (PS3.5 6.2).
      const padded = s.length % 2 === 1 ? s + (e.vr === 'UI' ? '\0' : ' ') : s;
      return Buffer.from(padded, 'latin1');
    }
  }
}

/**
 * Encodes a command set in ascending element order with its CommandGroupLength
 * (PS3.7 6.3.1, E.1). Undefined fields are left out.
 */
export function encodeCommandSet(cs: CommandSet): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  for (const [element, keyword] of DICTIONARY) {
    if (element === 0x0000) continue;
    const v = (cs as Record<string, unknown>)[keyword];
    if (v === undefined || v === null) continue;
    const value = encodeValue(BY_ELEMENT.get(element)!, v);
    const h = Buffer.allocUnsafe(8);
    h.writeUInt16LE(0x0000, 0);
    h.writeUInt16LE(element, 2);
    h.writeUInt32LE(value.length, 4);
    parts.push(h, value);
    length += 8 + value.length;
  }
  const gl = Buffer.allocUnsafe(12);
  gl.writeUInt16LE(0, 0);
  gl.writeUInt16LE(0, 2);
  gl.writeUInt32LE(4, 4);
  gl.writeUInt32LE(length, 8);
  return Buffer.concat([gl, ...parts], 12 + length);
}

function trimText(b: Buffer): string {
  let e = b.length;
  while (e > 0 && (b[e - 1] === 0 || b[e - 1] === 0x20)) e--;
  let s = 0;
  while (s < e && b[s] === 0x20) s++;
  return b.toString('latin1', s, e);
}

/**
 * Decodes an Implicit VR Little Endian command set. Elements outside group 0000 or unknown to
 * Annex E are skipped; a truncated element is an error naming its tag and offset.
 */
export function decodeCommandSet(buf: Buffer): CommandSet {
  const cs: Record<string, unknown> = {};
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 8 > buf.length) throw new DimseDecodeError(`truncated element header (${buf.length - pos} byte(s) left)`, pos);
    const group = buf.readUInt16LE(pos);
    const element = buf.readUInt16LE(pos + 2);
    const len = buf.readUInt32LE(pos + 4);
    const tagText = `(${group.toString(16).padStart(4, '0')},${element.toString(16).padStart(4, '0')})`;
    if (len === 0xffffffff) throw new DimseDecodeError(`element ${tagText} has undefined length, not allowed in a command set`, pos);
    if (pos + 8 + len > buf.length) throw new DimseDecodeError(`element ${tagText} declares ${len} bytes but only ${buf.length - pos - 8} remain`, pos);
    const v = buf.subarray(pos + 8, pos + 8 + len);
    pos += 8 + len;
    if (group !== 0x0000) throw new DimseDecodeError(`element ${tagText} outside group 0000 in a command set`, pos - 8 - len);
    const e = BY_ELEMENT.get(element);
    if (!e) continue;
    switch (e.vr) {
      case 'US':
        if (len < 2) throw new DimseDecodeError(`${e.keyword} ${tagText} (US) has length ${len}`, pos - 8 - len);
        cs[e.keyword] = v.readUInt16LE(0);
        break;
      case 'UL':
        if (len < 4) throw new DimseDecodeError(`${e.keyword} ${tagText} (UL) has length ${len}`, pos - 8 - len);
        cs[e.keyword] = v.readUInt32LE(0);
        break;
      case 'AT': {
        const tags: number[] = [];
        for (let i = 0; i + 4 <= len; i += 4) tags.push(v.readUInt16LE(i) * 0x10000 + v.readUInt16LE(i + 2));
        cs[e.keyword] = tags;
        break;
      }
      default:
        cs[e.keyword] = trimText(v);
    }
  }
  return cs as CommandSet;
}
