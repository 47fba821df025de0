/**
 * Rendering a frame to 8-bit pixels for display, print and secondary capture: the grayscale
 * pipeline of PS3.4 N.2 (stored values → Modality LUT → VOI → Presentation LUT) or the colour
 * conversions of PS3.3 C.7.6.3.1.2, over frames from getFrame (native or decoded).
 *
 * Defaults: the first window of the data set, else its first VOI LUT, else the minimum and
 * maximum of the frame after the Modality LUT (dcm2pnm's +Wi 1, +Wl 1 and +Wm). Polarity
 * follows Presentation LUT Shape, else MONOCHROME1.
 */
import type { Dataset } from '../dicom/dataset.js';
import { applyPalette, colorToRgb, readPalette } from './color.js';
import { getFrame, storedValues, type Frame, type PixelArray, type PixelSource } from './frame.js';
import {
  applyModality, applyPresentation, applyVoiLut, applyWindow, isValidWindow, modalityTransform, presentationShape,
  toByte, voiLutsOf, windowsOf, type Lut, type ModalityTransform, type PresentationShape, type VoiFunction, type Window,
} from './lut.js';

export interface RenderOptions {
  /** Zero-based frame number, for renderImage (default 0). */
  frame?: number;
  /** An explicit window; its function defaults to the data set's VOI LUT Function, else LINEAR. */
  window?: { center: number; width: number; function?: VoiFunction };
  /** Use the n-th (zero-based) window of the data set. */
  windowIndex?: number;
  /** Use the n-th (zero-based) VOI LUT of the VOI LUT Sequence. */
  voiLutIndex?: number;
  /**
   * 'auto' (default): first window, else first VOI LUT, else min-max. 'minmax': the frame's
   * range after the Modality LUT. 'none': no VOI, the whole range the stored bits can hold
   * scaled linearly (dcm2pnm's default, -W).
   */
  voi?: 'auto' | 'minmax' | 'none';
  /** Apply the Modality LUT / rescale (default true; dcm2pnm -M turns it off). */
  modality?: boolean;
  /** Overrides the polarity taken from Presentation LUT Shape / MONOCHROME1. */
  presentation?: PresentationShape;
}

/** The VOI transformation that was applied. */
export type AppliedVoi =
  | { kind: 'window'; center: number; width: number; function: VoiFunction; source: 'option' | 'dataset' | 'minmax' }
  | { kind: 'lut'; index: number; explanation?: string }
  | { kind: 'none' };

export interface RenderedImage {
  width: number;
  height: number;
  /** 1 for grayscale, 3 for RGB (pixel-interleaved). */
  channels: 1 | 3;
  data: Uint8Array;
  /** What the grayscale pipeline did (absent for colour images). */
  voi?: AppliedVoi;
  presentation?: PresentationShape;
}

const COLOR = new Set(['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_PARTIAL_422', 'YBR_PARTIAL_420', 'YBR_ICT', 'YBR_RCT', 'PALETTE COLOR']);

/** Renders frame `options.frame` (zero-based) of a DICOM file or data set with its transfer syntax. */
export async function renderImage(src: PixelSource, options: RenderOptions = {}): Promise<RenderedImage> {
  const index = options.frame ?? 0;
  const frame = await getFrame(src, index);
  return renderFrame(src.dataset, frame, options);
}

/** Renders one decoded frame of `ds` to 8-bit grayscale or RGB. */
export function renderFrame(ds: Dataset, frame: Frame, options: RenderOptions = {}): RenderedImage {
  const width = frame.columns;
  const height = frame.rows;
  const pixels = width * height;
  const pi = frame.photometricInterpretation;
  if (pi === 'PALETTE COLOR') {
    return { width, height, channels: 3, data: applyPalette(readPalette(ds), storedValues(frame), pixels) };
  }
  if (frame.samplesPerPixel !== 1 && frame.samplesPerPixel !== 3) {
    throw new Error(`${frame.samplesPerPixel} samples per pixel (${pi}) cannot be rendered: 1 (MONOCHROME1/2, PALETTE COLOR) or 3 (RGB, YBR_*) expected`);
  }
  if (frame.samplesPerPixel === 3 || COLOR.has(pi)) {
    // YBR_ICT / YBR_RCT frames come out of the JPEG 2000 decoder as RGB (PS3.5 8.2.4), so
    // colorToRgb treats anything not YBR_FULL* / YBR_PARTIAL* as RGB.
    return { width, height, channels: 3, data: colorToRgb(storedValues(frame), pixels, frame.planarConfiguration, Math.min(frame.bitsStored, frame.bitsAllocated), pi) };
  }
  return renderGray(ds, frame, options);
}

interface Voi {
  applied: AppliedVoi;
  fn: (m: number) => number;
}

function chooseVoi(ds: Dataset, frame: Frame, options: RenderOptions, signed: boolean, range: () => { min: number; max: number }, absRange: () => { min: number; max: number }): Voi {
  const windows = windowsOf(ds, frame.index);
  const windowVoi = (w: Window, source: 'option' | 'dataset' | 'minmax'): Voi => {
    const win: Window = { center: w.center, width: w.width, function: w.function ?? windows[0]?.function ?? 'LINEAR' };
    if (!isValidWindow(win)) throw new Error(`window centre ${w.center} width ${w.width} is not valid for ${win.function} (PS3.3 C.11.2.1.2)`);
    return { applied: { kind: 'window', center: win.center, width: win.width, function: win.function!, source }, fn: (m) => applyWindow(win, m) };
  };
  const lutVoi = (lut: Lut, index: number): Voi => ({ applied: { kind: 'lut', index, explanation: lut.explanation }, fn: (m) => applyVoiLut(lut, m) });
  const minmax = (): Voi => {
    const { min, max } = range();
    // dcm2pnm +Wm: centre (min+max+1)/2, width max−min+1, which maps min to 0 and max to 255.
    return windowVoi({ center: (min + max + 1) / 2, width: max - min + 1, function: 'LINEAR' }, 'minmax');
  };
  if (options.window) return windowVoi(options.window, 'option');
  if (options.windowIndex !== undefined) {
    const w = windows[options.windowIndex];
    if (!w) throw new Error(`window ${options.windowIndex + 1} requested, the data set has ${windows.length}`);
    return windowVoi(w, 'dataset');
  }
  if (options.voiLutIndex !== undefined) {
    const luts = voiLutsOf(ds, frame.index, signed);
    const lut = luts[options.voiLutIndex];
    if (!lut) throw new Error(`VOI LUT ${options.voiLutIndex + 1} requested, the data set has ${luts.length}`);
    return lutVoi(lut, options.voiLutIndex);
  }
  const mode = options.voi ?? 'auto';
  if (mode === 'minmax') return minmax();
  if (mode === 'none') {
    // (m − min) × 256 / (max − min + 1): for unsigned data without rescale, the top eight of
    // the stored bits (DCMTK 3.6.7's linear scaling; later versions scale by 255 / (max − min)).
    const { min, max } = absRange();
    const span = max - min + 1;
    return { applied: { kind: 'none' }, fn: (m) => ((m - min) * 256) / span };
  }
  const first = windows.find(isValidWindow);
  if (first) return windowVoi(first, 'dataset');
  const luts = voiLutsOf(ds, frame.index, signed);
  if (luts.length > 0) return lutVoi(luts[0]!, 0);
  return minmax();
}

/** Largest span of stored values rendered through a table rather than pixel by pixel. */
const TABLE_SPAN = 1 << 20;

function renderGray(ds: Dataset, frame: Frame, options: RenderOptions): RenderedImage {
  const width = frame.columns;
  const height = frame.rows;
  const n = width * height;
  const signed = frame.pixelRepresentation === 1;
  const values: PixelArray = frame.sampleFormat === 'int' ? storedValues(frame) : frame.data;
  const mod: ModalityTransform = options.modality === false || frame.sampleFormat !== 'int'
    ? { kind: 'rescale', slope: 1, intercept: 0 }
    : modalityTransform(ds, frame.index, signed);
  const shape = options.presentation ?? presentationShape(ds, frame.photometricInterpretation);
  const out = new Uint8Array(n);

  let sMin = Infinity, sMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < sMin) sMin = v;
    if (v > sMax) sMax = v;
  }
  if (n === 0) { sMin = 0; sMax = 0; }
  const integral = frame.sampleFormat === 'int';
  const useTable = integral && sMax - sMin < TABLE_SPAN;

  // Modality values: per distinct stored value (table) or per pixel.
  let modTable: Float64Array | undefined;
  let modPixels: Float64Array | undefined;
  let present: Uint8Array | undefined;
  if (useTable) {
    const span = sMax - sMin + 1;
    modTable = new Float64Array(span);
    for (let k = 0; k < span; k++) modTable[k] = applyModality(mod, sMin + k);
    present = new Uint8Array(span);
    for (let i = 0; i < n; i++) present[values[i]! - sMin] = 1;
  } else {
    modPixels = new Float64Array(n);
    for (let i = 0; i < n; i++) modPixels[i] = applyModality(mod, values[i]!);
  }
  const range = () => {
    let min = Infinity, max = -Infinity;
    if (modTable) {
      for (let k = 0; k < modTable.length; k++) {
        if (!present![k]) continue;
        const m = modTable[k]!;
        if (m < min) min = m;
        if (m > max) max = m;
      }
    } else {
      for (const m of modPixels!) { if (m < min) min = m; if (m > max) max = m; }
    }
    return n === 0 ? { min: 0, max: 0 } : { min, max };
  };
  const absRange = () => {
    if (!integral) return range();
    const bits = Math.min(frame.bitsStored, frame.bitsAllocated);
    const lo = signed ? -(2 ** (bits - 1)) : 0;
    const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    if (mod.kind === 'lut') return { min: 0, max: 2 ** mod.lut.bits - 1 };
    const a = applyModality(mod, lo), b = applyModality(mod, hi);
    return { min: Math.min(a, b), max: Math.max(a, b) };
  };
  const voi = chooseVoi(ds, frame, options, signed || (mod.kind === 'rescale' && mod.intercept < 0), range, absRange);
  const pixel = (m: number) => toByte(applyPresentation(shape, voi.fn(m)));

  if (modTable) {
    const table = new Uint8Array(modTable.length);
    for (let k = 0; k < table.length; k++) table[k] = pixel(modTable[k]!);
    for (let i = 0; i < n; i++) out[i] = table[values[i]! - sMin]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = pixel(modPixels![i]!);
  }
  return { width, height, channels: 1, data: out, voi: voi.applied, presentation: shape };
}
