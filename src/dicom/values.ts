/**
 * Value decoding and encoding by VR (PS3.5 6.2): text split on backslash and trimmed,
 * binary numbers in either byte order, AT as tags.
 */
import type { CharacterSet } from './charset.js';
import type { Dataset } from './dataset.js';
import type { Element } from './element.js';
import type { VR } from './vr.js';
import { copyBytes } from './bytes.js';
import { VRS, vrInfo } from './vr.js';

/** A decoded value: text, number, 64-bit integer, or bytes for OB/UN-like VRs. */
export type Value = string | number | bigint | Buffer | null;

/** VRs whose leading spaces are insignificant too (PS3.5 Table 6.2-1). */
const TRIM_BOTH = new Set<VR>(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'SH', 'TM', 'UI']);

/** Removes padding and insignificant spaces from one text value. */
export function trimValue(s: string, vr: VR): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c === 0x20 || c === 0) end--;
    else break;
  }
  let start = 0;
  if (TRIM_BOTH.has(vr)) {
    while (start < end && s.charCodeAt(start) === 0x20) start++;
  }
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Decodes the text of an element, without splitting or trimming. */
export function decodeText(bytes: Buffer, vr: VR, charset: CharacterSet): string {
  return vrInfo(vr)!.usesCharset && !charset.isDefault ? charset.decode(bytes, vr) : bytes.toString('latin1');
}

/** All values of an element. Sequences and encapsulated data give no values here. */
export function decodeValues(el: Element, ds: Dataset): Value[] {
  const vr = el.vr;
  const info = vrInfo(vr)!;
  if (vr === 'SQ' || el.fragments) return [];
  const b = el.bytes();
  if (b.length === 0) return [];
  if (info.isString) {
    const text = decodeText(b, vr, ds.charset);
    if (!info.multiValued) return [trimValue(text, vr)];
    return text.split('\\').map((s) => trimValue(s, vr));
  }
  return decodeBinary(b, vr, ds.littleEndian);
}

/** Binary values: numbers for 16/32-bit and float VRs, bigint for 64-bit integers, raw for OB/UN. */
export function decodeBinary(b: Buffer, vr: VR, le: boolean): Value[] {
  const out: Value[] = [];
  switch (vr) {
    case 'US': case 'OW': for (let i = 0; i + 2 <= b.length; i += 2) out.push(le ? b.readUInt16LE(i) : b.readUInt16BE(i)); break;
    case 'SS': for (let i = 0; i + 2 <= b.length; i += 2) out.push(le ? b.readInt16LE(i) : b.readInt16BE(i)); break;
    case 'UL': case 'OL': for (let i = 0; i + 4 <= b.length; i += 4) out.push(le ? b.readUInt32LE(i) : b.readUInt32BE(i)); break;
    case 'SL': for (let i = 0; i + 4 <= b.length; i += 4) out.push(le ? b.readInt32LE(i) : b.readInt32BE(i)); break;
    case 'FL': case 'OF': for (let i = 0; i + 4 <= b.length; i += 4) out.push(le ? b.readFloatLE(i) : b.readFloatBE(i)); break;
    case 'FD': case 'OD': for (let i = 0; i + 8 <= b.length; i += 8) out.push(le ? b.readDoubleLE(i) : b.readDoubleBE(i)); break;
    case 'SV': for (let i = 0; i + 8 <= b.length; i += 8) out.push(le ? b.readBigInt64LE(i) : b.readBigInt64BE(i)); break;
    case 'UV': case 'OV': for (let i = 0; i + 8 <= b.length; i += 8) out.push(le ? b.readBigUInt64LE(i) : b.readBigUInt64BE(i)); break;
    case 'AT':
      // An attribute tag is a pair of 16-bit numbers, group first (PS3.5 6.2).
      for (let i = 0; i + 4 <= b.length; i += 4) {
        const g = le ? b.readUInt16LE(i) : b.readUInt16BE(i);
        const e = le ? b.readUInt16LE(i + 2) : b.readUInt16BE(i + 2);
        out.push(g * 0x10000 + e);
      }
      break;
    default: out.push(b);
  }
  return out;
}

/** Encodes text values with padding to even length (PS3.5 6.2, 7.1.1). */
export function encodeStrings(values: readonly string[], vr: VR, charset: CharacterSet): Buffer {
  const info = VRS[vr];
  const text = info.multiValued ? values.join('\\') : values.join('');
  let b = info.usesCharset && !charset.isDefault ? charset.encode(text, vr) : Buffer.from(text, 'latin1');
  if (b.length & 1) b = Buffer.concat([b, Buffer.from([info.pad])]);
  return b;
}

/** Encodes binary numbers in the given byte order. */
export function encodeNumbers(values: readonly (number | bigint)[], vr: VR, le: boolean): Buffer {
  const size = vr === 'AT' ? 4 : VRS[vr].unitSize || 1;
  const b = Buffer.alloc(values.length * size);
  values.forEach((raw, k) => {
    const i = k * size;
    const v = typeof raw === 'bigint' ? raw : raw;
    switch (vr) {
      case 'US': case 'OW': le ? b.writeUInt16LE(Number(v), i) : b.writeUInt16BE(Number(v), i); break;
      case 'SS': le ? b.writeInt16LE(Number(v), i) : b.writeInt16BE(Number(v), i); break;
      case 'UL': case 'OL': le ? b.writeUInt32LE(Number(v), i) : b.writeUInt32BE(Number(v), i); break;
      case 'SL': le ? b.writeInt32LE(Number(v), i) : b.writeInt32BE(Number(v), i); break;
      case 'FL': case 'OF': le ? b.writeFloatLE(Number(v), i) : b.writeFloatBE(Number(v), i); break;
      case 'FD': case 'OD': le ? b.writeDoubleLE(Number(v), i) : b.writeDoubleBE(Number(v), i); break;
      case 'SV': le ? b.writeBigInt64LE(BigInt(v), i) : b.writeBigInt64BE(BigInt(v), i); break;
      case 'UV': case 'OV': le ? b.writeBigUInt64LE(BigInt(v), i) : b.writeBigUInt64BE(BigInt(v), i); break;
      case 'AT': {
        const n = Number(v);
        const g = Math.floor(n / 0x10000), e = n % 0x10000;
        if (le) { b.writeUInt16LE(g, i); b.writeUInt16LE(e, i + 2); } else { b.writeUInt16BE(g, i); b.writeUInt16BE(e, i + 2); }
        break;
      }
      case 'OB': case 'UN': b.writeUInt8(Number(v), i); break;
      default: throw new Error(`VR ${vr} does not hold binary numbers`);
    }
  });
  return b;
}

/**
 * Converts raw value bytes between byte orders: each unit of the VR is reversed
 * (PS3.5 7.3: OB, UN and text are byte streams and stay as they are).
 */
export function swapBytes(b: Buffer, vr: VR): Buffer {
  const unit = VRS[vr].isString ? 0 : vr === 'AT' ? 2 : VRS[vr].unitSize;
  if (unit <= 1 || vr === 'UN' || vr === 'OB') return b;
  const out = copyBytes(b);
  const whole = out.length - (out.length % unit);
  const view = out.subarray(0, whole);
  if (unit === 2) view.swap16();
  else if (unit === 4) view.swap32();
  else view.swap64();
  return out;
}
