/**
 * Value Representations of PS3.5 6.2 and the facts the codec needs about each.
 */
export type VR =
  | 'AE' | 'AS' | 'AT' | 'CS' | 'DA' | 'DS' | 'DT' | 'FL' | 'FD' | 'IS' | 'LO' | 'LT'
  | 'OB' | 'OD' | 'OF' | 'OL' | 'OV' | 'OW' | 'PN' | 'SH' | 'SL' | 'SQ' | 'SS' | 'ST'
  | 'SV' | 'TM' | 'UC' | 'UI' | 'UL' | 'UN' | 'UR' | 'US' | 'UT' | 'UV';

export interface VRInfo {
  /** Explicit VR encoding uses 2 reserved bytes and a 32-bit length (PS3.5 7.1.2, Table 7.1-1). */
  readonly longLength: boolean;
  /** Byte size of one binary value; 0 for strings and opaque bytes. Drives byte swapping. */
  readonly unitSize: number;
  /** Value is character data. */
  readonly isString: boolean;
  /** Padding byte for odd lengths: space for strings, NUL for UI and binary (PS3.5 6.2). */
  readonly pad: number;
  /** Text whose value is affected by Specific Character Set (PS3.5 6.1.2.3). */
  readonly usesCharset: boolean;
  /** Multiple values separated by backslash; false for LT, ST, UT, UR (PS3.5 6.4). */
  readonly multiValued: boolean;
}

const S = (usesCharset: boolean, multiValued = true, pad = 0x20): VRInfo =>
  ({ longLength: false, unitSize: 0, isString: true, pad, usesCharset, multiValued });
const SL_ = (usesCharset: boolean, multiValued: boolean): VRInfo =>
  ({ longLength: true, unitSize: 0, isString: true, pad: 0x20, usesCharset, multiValued });
const B = (unitSize: number, longLength = false): VRInfo =>
  ({ longLength, unitSize, isString: false, pad: 0, usesCharset: false, multiValued: true });

export const VRS: Readonly<Record<VR, VRInfo>> = {
  AE: S(false), AS: S(false), CS: S(false), DA: S(false), DS: S(false), DT: S(false),
  IS: S(false), LO: S(true), LT: S(true, false), PN: S(true), SH: S(true), ST: S(true, false),
  TM: S(false), UI: S(false, true, 0x00),
  UC: SL_(true, true), UR: SL_(false, false), UT: SL_(true, false),
  AT: B(2), FL: B(4), FD: B(8), SL: B(4), SS: B(2), UL: B(4), US: B(2),
  // SV and UV have the 32-bit length of PS3.5 Table 7.1-1 (OB, OD, OF, OL, OV, OW, SQ, SV,
  // UC, UN, UR, UT, UV), as DCMTK and pydicom read them.
  SV: B(8, true), UV: B(8, true),
  OB: B(1, true), OD: B(8, true), OF: B(4, true), OL: B(4, true), OV: B(8, true), OW: B(2, true),
  SQ: B(0, true), UN: B(1, true),
};

export function isVR(s: string): s is VR {
  return Object.prototype.hasOwnProperty.call(VRS, s);
}

/**
 * VRs and their VRInfo by their two letters, at (c0 - 'A') * 26 + (c1 - 'A'): array loads,
 * where VRS[vr] is a keyed property lookup (tens of ns, on the parse and JSON hot paths).
 */
const BY_CODES: (VR | undefined)[] = new Array<VR | undefined>(26 * 26).fill(undefined);
const INFO_BY_CODES: (VRInfo | undefined)[] = new Array<VRInfo | undefined>(26 * 26).fill(undefined);
for (const vr of Object.keys(VRS) as VR[]) {
  const code = (vr.charCodeAt(0) - 65) * 26 + vr.charCodeAt(1) - 65;
  BY_CODES[code] = vr;
  INFO_BY_CODES[code] = VRS[vr];
}

/** VRS[vr], by table: undefined for a string that is not a VR. */
export function vrInfo(vr: string): VRInfo | undefined {
  const a = vr.charCodeAt(0) - 65, b = vr.charCodeAt(1) - 65;
  return vr.length === 2 && a >= 0 && a < 26 && b >= 0 && b < 26 ? INFO_BY_CODES[a * 26 + b] : undefined;
}

/** The VR spelled by two bytes of an explicit VR header, or undefined when they spell none. */
export function vrOfBytes(c0: number, c1: number): VR | undefined {
  const a = c0 - 65, b = c1 - 65;
  return a >= 0 && a < 26 && b >= 0 && b < 26 ? BY_CODES[a * 26 + b] : undefined;
}
