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
  AT: B(2), FL: B(4), FD: B(8), SL: B(4), SS: B(2), UL: B(4), US: B(2), SV: B(8), UV: B(8),
  OB: B(1, true), OD: B(8, true), OF: B(4, true), OL: B(4, true), OV: B(8, true), OW: B(2, true),
  SQ: B(0, true), UN: B(1, true),
};

export function isVR(s: string): s is VR {
  return Object.prototype.hasOwnProperty.call(VRS, s);
}
