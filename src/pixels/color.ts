/**
 * Colour frames to 8-bit RGB: RGB, YBR_FULL, YBR_PARTIAL (PS3.3 C.7.6.3.1.2; getFrame upsamples
 * native YBR_FULL_422 to YBR_FULL and YBR_PARTIAL_422 to YBR_PARTIAL),
 * planar configuration 0 and 1 (C.7.6.3.1.3), and PALETTE COLOR with normal and segmented
 * lookup tables (C.7.6.3.1.5, C.7.9.2).
 */
import type { Dataset } from '../dicom/dataset.js';
import { lutEntries, parseLutDescriptor, type Lut } from './lut.js';

// ---------------------------------------------------------------------------------------------
// YBR → RGB

/** Clamps and rounds to 0…255. */
function byte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/**
 * YBR_FULL to RGB, the inverse of the equations of PS3.3 C.7.6.3.1.2 (CCIR 601 full range):
 * R = Y + 1.402 (Cr−128), G = Y − 0.344136 (Cb−128) − 0.714136 (Cr−128), B = Y + 1.772 (Cb−128).
 */
export function ybrFullToRgb(y: number, cb: number, cr: number): [number, number, number] {
  return [
    byte(y + 1.402 * (cr - 128)),
    byte(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128)),
    byte(y + 1.772 * (cb - 128)),
  ];
}

/**
 * YBR_PARTIAL to RGB (Y in 16…235, Cb/Cr in 16…240): the inverse of C.7.6.3.1.2's partial
 * range equations.
 */
export function ybrPartialToRgb(y: number, cb: number, cr: number): [number, number, number] {
  const yy = 1.164384 * (y - 16);
  return [
    byte(yy + 1.596027 * (cr - 128)),
    byte(yy - 0.391762 * (cb - 128) - 0.812968 * (cr - 128)),
    byte(yy + 2.017232 * (cb - 128)),
  ];
}

/** Reduces a sample of `bits` bits to 8: the top eight bits, or scaled up when fewer (as DCMTK). */
export function to8(v: number, bits: number): number {
  if (bits === 8) return v;
  if (bits > 8) return v >>> (bits - 8);
  return Math.floor((v * 255) / (2 ** bits - 1));
}

/**
 * Colour samples (3 per pixel, already masked to Bits Stored) to pixel-interleaved 8-bit RGB.
 * `photometric` is RGB, YBR_FULL or YBR_PARTIAL (4:2:2 forms already upsampled by getFrame).
 */
export function colorToRgb(samples: ArrayLike<number>, pixels: number, planar: number, bits: number, photometric: string): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  const plane = planar === 1 ? pixels : 1;
  const step = planar === 1 ? 1 : 3;
  const kind = photometric.startsWith('YBR_FULL') ? 'full' : photometric.startsWith('YBR_PARTIAL') ? 'partial' : 'rgb';
  for (let i = 0, s = 0, o = 0; i < pixels; i++, s += step, o += 3) {
    const a = to8(samples[s]!, bits), b = to8(samples[s + plane]!, bits), c = to8(samples[s + 2 * plane]!, bits);
    if (kind === 'rgb') {
      out[o] = a; out[o + 1] = b; out[o + 2] = c;
    } else {
      const rgb = kind === 'full' ? ybrFullToRgb(a, b, c) : ybrPartialToRgb(a, b, c);
      out[o] = rgb[0]; out[o + 1] = rgb[1]; out[o + 2] = rgb[2];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// PALETTE COLOR

const PaletteDescriptor = [0x00281101, 0x00281102, 0x00281103] as const;
const PaletteData = [0x00281201, 0x00281202, 0x00281203] as const;
const SegmentedPaletteData = [0x00281221, 0x00281222, 0x00281223] as const;

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Expands Segmented Palette Color Lookup Table Data (PS3.3 C.7.9.2): discrete segments (0, n,
 * n values), linear segments (1, n, y1: n values from the previous value to y1) and indirect
 * segments (2, n, 32-bit offset, least significant word first: n segments copied from that
 * offset, counted in entries as pydicom does). Linear values are rounded half to even.
 */
export function expandSegmentedLut(data: ArrayLike<number>, maxSegments = Infinity, previous?: number, depth = 0): number[] {
  if (depth > 8) throw new Error('segmented LUT: indirect segments nested too deeply');
  const lut: number[] = [];
  let i = 0;
  let segments = 0;
  const last = () => (lut.length > 0 ? lut[lut.length - 1]! : previous);
  while (i + 1 < data.length && segments < maxSegments) {
    const op = data[i]!;
    const n = data[i + 1]!;
    i += 2;
    if (op === 0) {
      for (let k = 0; k < n && i < data.length; k++) lut.push(data[i++]!);
    } else if (op === 1) {
      const y0 = last();
      if (y0 === undefined) throw new Error('segmented LUT: a linear segment cannot come first');
      const y1 = data[i++]!;
      for (let k = 1; k <= n; k++) lut.push(y0 === y1 ? y1 : roundHalfEven(y0 + ((y1 - y0) * k) / n));
    } else if (op === 2) {
      if (last() === undefined) throw new Error('segmented LUT: an indirect segment cannot come first');
      const offset = data[i]! + data[i + 1]! * 65536;
      i += 2;
      if (offset >= data.length) throw new Error(`segmented LUT: indirect offset ${offset} beyond the data`);
      const sub = Array.prototype.slice.call(data, offset) as number[];
      for (const v of expandSegmentedLut(sub, n, last(), depth + 1)) lut.push(v);
    } else {
      throw new Error(`segmented LUT: unknown segment type ${op}`);
    }
    segments++;
  }
  return lut;
}

export interface Palette {
  red: Lut;
  green: Lut;
  blue: Lut;
}

/** Reads the three palette LUTs of a PALETTE COLOR image (normal or segmented data). */
export function readPalette(ds: Dataset): Palette {
  const signed = (ds.number(0x00280103) ?? 0) === 1;
  const luts = [0, 1, 2].map((k): Lut => {
    const descEl = ds.get(PaletteDescriptor[k]!);
    if (!descEl) throw new Error(`PALETTE COLOR image without ${['Red', 'Green', 'Blue'][k]} Palette Color Lookup Table Descriptor`);
    const d = parseLutDescriptor(ds.numbers(PaletteDescriptor[k]!), signed || descEl.vr === 'SS');
    const bits = d.bits === 8 || d.bits === 16 ? d.bits : 16;
    const normal = ds.get(PaletteData[k]!);
    if (normal && normal.length > 0) {
      return { firstMapped: d.firstMapped, bits, data: lutEntries(normal.bytes(), d.entries, bits, ds.littleEndian) };
    }
    const seg = ds.get(SegmentedPaletteData[k]!);
    if (!seg) throw new Error('PALETTE COLOR image without Palette Color Lookup Table Data');
    const b = seg.bytes();
    // Segments are in units of the entry size: bytes for 8-bit tables, words for 16-bit ones.
    const units: number[] = [];
    if (bits === 8) for (const v of b) units.push(v);
    else for (let i = 0; i + 1 < b.length; i += 2) units.push(ds.littleEndian ? b.readUInt16LE(i) : b.readUInt16BE(i));
    const expanded = expandSegmentedLut(units);
    const data = new Uint16Array(d.entries);
    for (let i = 0; i < d.entries; i++) data[i] = expanded[Math.min(i, expanded.length - 1)] ?? 0;
    return { firstMapped: d.firstMapped, bits, data };
  });
  return { red: luts[0]!, green: luts[1]!, blue: luts[2]! };
}

/** Maps palette indices to 8-bit RGB (16-bit entries keep their top eight bits, as DCMTK). */
export function applyPalette(p: Palette, indices: ArrayLike<number>, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  const tables = [p.red, p.green, p.blue].map((lut) => {
    // One 8-bit table per channel over the whole index range of the LUT.
    const t = new Uint8Array(lut.data.length);
    for (let i = 0; i < lut.data.length; i++) t[i] = to8(lut.data[i]!, lut.bits);
    return { t, first: lut.firstMapped, n: lut.data.length };
  });
  for (let i = 0; i < pixels; i++) {
    const x = indices[i]!;
    for (let c = 0; c < 3; c++) {
      const tb = tables[c]!;
      const k = x - tb.first;
      out[i * 3 + c] = tb.t[k <= 0 ? 0 : k >= tb.n ? tb.n - 1 : k]!;
    }
  }
  return out;
}
