/**
 * The grayscale pipeline of PS3.4 N.2 and PS3.3 C.11 as numeric functions: Modality LUT
 * (Rescale Slope/Intercept or Modality LUT Sequence, C.11.1), VOI (window functions of
 * C.11.2.1.2 and VOI LUT Sequence, C.11.2.1.1), Presentation LUT Shape (C.11.6) and the
 * MONOCHROME1 polarity (C.7.6.3.1.2).
 *
 * Every stage works on plain numbers, so that rendering can build a table over the stored
 * values of a frame (at most 2^16 entries) and look pixels up, as DCMTK does, while tests can
 * check single values against the standard's formulas.
 */
import type { Dataset } from '../dicom/dataset.js';

const ModalityLUTSequence = 0x00283000;
const LUTDescriptor = 0x00283002;
const LUTExplanation = 0x00283003;
const LUTData = 0x00283006;
const VOILUTSequence = 0x00283010;
const RescaleIntercept = 0x00281052;
const RescaleSlope = 0x00281053;
const WindowCenter = 0x00281050;
const WindowWidth = 0x00281051;
const WindowExplanation = 0x00281055;
const VOILUTFunction = 0x00281056;
const PresentationLUTShape = 0x20500020;
const SharedFunctionalGroupsSequence = 0x52009229;
const PerFrameFunctionalGroupsSequence = 0x52009230;
const PixelValueTransformationSequence = 0x00289145;
const FrameVOILUTSequence = 0x00289132;

// ---------------------------------------------------------------------------------------------
// Lookup tables (LUT Descriptor semantics, PS3.3 C.11.1.1, C.11.2.1.1, C.7.6.3.1.5)

/** A lookup table: `data[i]` is the output for input `firstMapped + i`. */
export interface Lut {
  /** Second value of the LUT Descriptor: the input value mapped to the first entry. */
  firstMapped: number;
  /** Third value of the LUT Descriptor: bits per entry (output range 0 … 2^bits − 1). */
  bits: number;
  data: Uint16Array;
  explanation?: string;
}

/**
 * Reads a LUT Descriptor's three values. The number of entries 0 means 65536 (2^16); the
 * first value mapped is signed (SS) when `signedInput`, or when the element was encoded as SS.
 */
export function parseLutDescriptor(values: readonly number[], signedInput: boolean): { entries: number; firstMapped: number; bits: number } {
  if (values.length < 3) throw new Error(`LUT Descriptor has ${values.length} value(s), 3 expected`);
  let entries = values[0]!;
  if (entries < 0) entries += 65536; // decoded as SS
  if (entries === 0) entries = 65536;
  let first = values[1]!;
  if (signedInput && first > 32767) first -= 65536;
  return { entries, firstMapped: first, bits: values[2]! };
}

/**
 * LUT Data as unsigned entries. 8-bit tables come either packed one entry per byte (as
 * "equivalent to 8 bits allocated", PS3.3 C.7.6.3.1.5; the palettes of PS3.6 Annex B are
 * encoded that way) or one entry per 16-bit word; the length tells them apart.
 */
export function lutEntries(bytes: Buffer, entries: number, bits: number, littleEndian: boolean): Uint16Array {
  const out = new Uint16Array(entries);
  if (bits <= 8 && bytes.length < 2 * entries) {
    if (bytes.length < entries) throw new Error(`LUT Data has ${bytes.length} bytes, ${entries} entries expected`);
    for (let i = 0; i < entries; i++) out[i] = bytes[i]!;
    return out;
  }
  if (bytes.length < 2 * entries) throw new Error(`LUT Data has ${bytes.length >> 1} entries, ${entries} expected`);
  for (let i = 0; i < entries; i++) out[i] = littleEndian ? bytes.readUInt16LE(2 * i) : bytes.readUInt16BE(2 * i);
  if (bits > 0 && bits < 16) {
    const max = 2 ** bits - 1;
    let over = false;
    for (let i = 0; i < entries && !over; i++) if (out[i]! > max) over = true;
    if (over && bits <= 8) {
      // 8-bit entries left in the high byte of each word (seen in old files): take that byte.
      let lowZero = true;
      for (let i = 0; i < entries && lowZero; i++) if ((out[i]! & 0xff) !== 0) lowZero = false;
      for (let i = 0; i < entries; i++) out[i] = lowZero ? out[i]! >> 8 : out[i]! & 0xff;
    }
  }
  return out;
}

/** Bits per entry: the descriptor's, or (when that is outside 1…16) enough for the largest entry. */
function lutBits(declared: number, data: Uint16Array): number {
  if (declared >= 1 && declared <= 16) return declared;
  let max = 0;
  for (const v of data) if (v > max) max = v;
  return Math.max(8, Math.ceil(Math.log2(max + 1)));
}

/** A LUT from an item holding LUT Descriptor (0028,3002), LUT Data (0028,3006) and LUT Explanation. */
export function readLut(item: Dataset, signedInput: boolean): Lut {
  const descEl = item.get(LUTDescriptor);
  const dataEl = item.get(LUTData);
  if (!descEl || !dataEl) throw new Error('LUT item without LUT Descriptor (0028,3002) or LUT Data (0028,3006)');
  const d = parseLutDescriptor(item.numbers(LUTDescriptor), signedInput || descEl.vr === 'SS');
  const data = lutEntries(dataEl.bytes(), d.entries, d.bits, item.littleEndian);
  return { firstMapped: d.firstMapped, bits: lutBits(d.bits, data), data, explanation: item.string(LUTExplanation) };
}

/** The LUT's output for input `x`: inputs below the first mapped value take the first entry, above the last the last (C.11.1.1). */
export function lookup(lut: Lut, x: number): number {
  const i = Math.floor(x) - lut.firstMapped;
  const n = lut.data.length;
  return lut.data[i <= 0 ? 0 : i >= n ? n - 1 : i]!;
}

// ---------------------------------------------------------------------------------------------
// Where the attributes of a frame live: top level, or the functional groups of an enhanced
// multi-frame image (PS3.3 C.7.6.16: per-frame item first, then shared).

/** Data sets to search for a frame's Pixel Value Transformation or Frame VOI LUT attributes, most specific first. */
export function frameScopes(ds: Dataset, frameIndex: number, macro: number): Dataset[] {
  const scopes: Dataset[] = [];
  const perFrame = ds.sequence(PerFrameFunctionalGroupsSequence)[frameIndex];
  const pf = perFrame?.sequence(macro)[0];
  if (pf) scopes.push(pf);
  const sh = ds.sequence(SharedFunctionalGroupsSequence)[0]?.sequence(macro)[0];
  if (sh) scopes.push(sh);
  scopes.push(ds);
  return scopes;
}

// ---------------------------------------------------------------------------------------------
// Modality LUT (PS3.3 C.11.1)

export type ModalityTransform =
  | { kind: 'rescale'; slope: number; intercept: number }
  | { kind: 'lut'; lut: Lut };

/**
 * The modality transformation of a frame: the Modality LUT Sequence when present, else Rescale
 * Slope and Intercept (identity when absent). `signed` is Pixel Representation 1.
 */
export function modalityTransform(ds: Dataset, frameIndex = 0, signed = false): ModalityTransform {
  const lutItem = ds.sequence(ModalityLUTSequence)[0];
  if (lutItem && lutItem.has(LUTDescriptor) && lutItem.has(LUTData)) return { kind: 'lut', lut: readLut(lutItem, signed) };
  for (const s of frameScopes(ds, frameIndex, PixelValueTransformationSequence)) {
    const slope = s.number(RescaleSlope);
    const intercept = s.number(RescaleIntercept);
    if (slope !== undefined || intercept !== undefined) {
      return { kind: 'rescale', slope: slope === undefined || slope === 0 ? 1 : slope, intercept: intercept ?? 0 };
    }
  }
  return { kind: 'rescale', slope: 1, intercept: 0 };
}

/** Applies a modality transformation to one stored value. */
export function applyModality(m: ModalityTransform, x: number): number {
  return m.kind === 'rescale' ? x * m.slope + m.intercept : lookup(m.lut, x);
}

// ---------------------------------------------------------------------------------------------
// VOI (PS3.3 C.11.2)

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface Window {
  center: number;
  width: number;
  function?: VoiFunction;
  explanation?: string;
}

/**
 * LINEAR (C.11.2.1.2.1): x ≤ c − 0.5 − (w−1)/2 → ymin; x > c − 0.5 + (w−1)/2 → ymax; else
 * ((x − (c − 0.5)) / (w − 1) + 0.5) × (ymax − ymin) + ymin. Width must be ≥ 1.
 */
export function windowLinear(x: number, c: number, w: number, ymin = 0, ymax = 255): number {
  const w1 = w - 1;
  const left = c - 0.5 - w1 / 2;
  if (x <= left) return ymin;
  if (x > c - 0.5 + w1 / 2) return ymax;
  // The same line written as (x − left) / (w − 1): multiplying first keeps exact inputs exact
  // (an 8-bit frame under its min-max window maps to itself, not one less through rounding).
  return ((x - left) * (ymax - ymin)) / w1 + ymin;
}

/**
 * LINEAR_EXACT (C.11.2.1.3.2): x ≤ c − w/2 → ymin; x > c + w/2 → ymax; else
 * ((x − c) / w + 0.5) × (ymax − ymin) + ymin. Width must be > 0.
 */
export function windowLinearExact(x: number, c: number, w: number, ymin = 0, ymax = 255): number {
  const left = c - w / 2;
  if (x <= left) return ymin;
  if (x > c + w / 2) return ymax;
  return ((x - left) * (ymax - ymin)) / w + ymin;
}

/** SIGMOID (C.11.2.1.3.1): (ymax − ymin) / (1 + exp(−4 (x − c) / w)) + ymin. Width must be > 0. */
export function windowSigmoid(x: number, c: number, w: number, ymin = 0, ymax = 255): number {
  return (ymax - ymin) / (1 + Math.exp((-4 * (x - c)) / w)) + ymin;
}

export function applyWindow(win: Window, x: number, ymin = 0, ymax = 255): number {
  switch (win.function ?? 'LINEAR') {
    case 'LINEAR_EXACT': return windowLinearExact(x, win.center, win.width, ymin, ymax);
    case 'SIGMOID': return windowSigmoid(x, win.center, win.width, ymin, ymax);
    default: return windowLinear(x, win.center, win.width, ymin, ymax);
  }
}

/** Whether a window can be applied: LINEAR needs width ≥ 1, the others width > 0 (C.11.2.1.2). */
export function isValidWindow(win: Window): boolean {
  if (!Number.isFinite(win.center) || !Number.isFinite(win.width)) return false;
  return (win.function ?? 'LINEAR') === 'LINEAR' ? win.width >= 1 : win.width > 0;
}

function voiFunction(s: string | undefined): VoiFunction {
  const f = s?.trim().toUpperCase();
  return f === 'SIGMOID' || f === 'LINEAR_EXACT' ? f : 'LINEAR';
}

/** The windows of a frame (Window Center/Width pairs with VOI LUT Function and explanations). */
export function windowsOf(ds: Dataset, frameIndex = 0): Window[] {
  for (const s of frameScopes(ds, frameIndex, FrameVOILUTSequence)) {
    const centers = s.numbers(WindowCenter);
    const widths = s.numbers(WindowWidth);
    if (centers.length === 0 || widths.length === 0) continue;
    const fn = voiFunction(s.string(VOILUTFunction));
    const expl = s.strings(WindowExplanation);
    const n = Math.min(centers.length, widths.length);
    const out: Window[] = [];
    for (let i = 0; i < n; i++) out.push({ center: centers[i]!, width: widths[i]!, function: fn, explanation: expl[i] || undefined });
    return out;
  }
  return [];
}

/** The VOI LUTs of a frame (VOI LUT Sequence items). `signed`: the modality output may be negative. */
export function voiLutsOf(ds: Dataset, frameIndex = 0, signed = false): Lut[] {
  for (const s of frameScopes(ds, frameIndex, FrameVOILUTSequence)) {
    const items = s.sequence(VOILUTSequence);
    if (items.length > 0) return items.map((it) => readLut(it, signed));
  }
  return [];
}

/**
 * A VOI LUT's output for `x` on the 8-bit scale: entry × 256 / 2^bits, i.e. the top eight bits
 * of the entry (the scaling DCMTK uses, so that 8-bit tables pass through unchanged).
 */
export function applyVoiLut(lut: Lut, x: number): number {
  return (lookup(lut, x) * 256) / 2 ** lut.bits;
}

// ---------------------------------------------------------------------------------------------
// Presentation LUT (PS3.3 C.11.6) and polarity

export type PresentationShape = 'IDENTITY' | 'INVERSE';

/**
 * Whether the output is inverted: Presentation LUT Shape (2050,0020) when the data set has one
 * (PS3.3 C.8.11.6: INVERSE for MONOCHROME1, IDENTITY for MONOCHROME2; the shape states the
 * whole polarity, as DCMTK reads it), else MONOCHROME1 (minimum value white, C.7.6.3.1.2).
 */
export function presentationShape(ds: Dataset, photometric: string): PresentationShape {
  const s = ds.string(PresentationLUTShape)?.trim().toUpperCase();
  if (s === 'INVERSE' || s === 'IDENTITY') return s;
  return photometric === 'MONOCHROME1' ? 'INVERSE' : 'IDENTITY';
}

/** Applies the presentation shape to a value on the 0…255 scale. */
export function applyPresentation(shape: PresentationShape, y: number): number {
  return shape === 'INVERSE' ? 255 - y : y;
}

/** Quantises a 0…255 value to a byte: truncation (as DCMTK), clamped. */
export function toByte(y: number): number {
  if (!(y > 0)) return 0;
  return y >= 255 ? 255 : Math.floor(y);
}
