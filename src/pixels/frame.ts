/**
 * Frames of an image (PS3.3 C.7.6.3 Image Pixel Module; PS3.5 8.2 native and A.4
 * encapsulated pixel data), decoded to native layout. This is the meeting point between the
 * codecs (src/pixels/codecs) and rendering (src/pixels/render*): a renderer asks for
 * `getFrame(file, i)` and never sees a transfer syntax.
 *
 * Only the frame asked for is read and decoded: a 600-frame NM object costs one frame's
 * worth of I/O and decoding per call (native frames are sliced out of the file; encapsulated
 * frames are found through the Basic/Extended Offset Table, or by scanning fragment
 * headers, which are already indexed by the parser without their values being read).
 */
import type { Dataset } from '../dicom/dataset.js';
import type { Element } from '../dicom/element.js';
import { transferSyntax } from '../dicom/dictionary/index.js';
import type { DicomFile } from '../dicom/part10.js';
import { frameFragments } from './encapsulation.js';
import { copyBytes } from '../dicom/bytes.js';
import { decoderFor, loadCodec } from './codecs/registry.js';

/** Pixel Data (7FE0,0010), Float Pixel Data (7FE0,0008), Double Float Pixel Data (7FE0,0009). */
export const PixelDataTag = 0x7fe00010;
export const FloatPixelDataTag = 0x7fe00008;
export const DoubleFloatPixelDataTag = 0x7fe00009;

/** Typed arrays a frame's samples come in (chosen by Bits Allocated and Pixel Representation). */
export type PixelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** The attributes of the Image Pixel Module that describe how samples are laid out. */
export interface PixelDescription {
  rows: number;
  columns: number;
  /** Samples per Pixel (0028,0002): 1 (monochrome, palette) or 3 (RGB, YBR_*). */
  samplesPerPixel: number;
  /** Bits Allocated (0028,0100): 1, 8, 16, 32 (64 for Double Float Pixel Data). */
  bitsAllocated: number;
  /** Bits Stored (0028,0101). */
  bitsStored: number;
  /** High Bit (0028,0102). */
  highBit: number;
  /** Pixel Representation (0028,0103): 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  /** Photometric Interpretation (0028,0004), e.g. MONOCHROME2, RGB, YBR_FULL_422, PALETTE COLOR. */
  photometricInterpretation: string;
  /** Planar Configuration (0028,0006): 0 = R1G1B1R2G2B2…, 1 = RRR…GGG…BBB… (0 when absent). */
  planarConfiguration: number;
  /** Number of Frames (0028,0008), 1 when absent. */
  numberOfFrames: number;
  /** 'int' for Pixel Data, 'float' / 'double' for Float / Double Float Pixel Data. */
  sampleFormat: 'int' | 'float' | 'double';
}

/**
 * One decoded frame in native layout.
 *
 * - `data` holds rows × columns × samplesPerPixel samples in host byte order: Uint8Array
 *   (bitsAllocated 8, or 1 unpacked to one 0/1 byte per pixel), Int8Array (8, signed),
 *   Uint16Array / Int16Array (16), Uint32Array / Int32Array (32), Float32Array / Float64Array
 *   (float pixel data). Values are as stored in the cells: bits above High Bit are NOT
 *   masked and signed values are NOT sign-extended from Bits Stored (use `storedValues()`
 *   when bitsStored < bitsAllocated matters).
 * - `photometricInterpretation` and `planarConfiguration` describe `data`, which may differ
 *   from the data set: a JPEG Baseline YBR_FULL_422 frame is decoded to RGB, native 4:2:2
 *   frames are upsampled (YBR_FULL_422 to YBR_FULL, the retired YBR_PARTIAL_422 to
 *   'YBR_PARTIAL', a name of Tracer's), and compressed colour frames always come out
 *   pixel-interleaved (planarConfiguration 0).
 */
export interface Frame extends PixelDescription {
  /** Zero-based frame number. */
  index: number;
  data: PixelArray;
  /** Transfer syntax the frame was stored in. */
  transferSyntaxUID: string;
  /** The decoding was lossy-capable (JPEG baseline/extended, lossy J2K, near-lossless JPEG-LS). */
  lossy: boolean;
}

/** Something holding a data set and the transfer syntax its pixel data are in. */
export type PixelSource = Pick<DicomFile, 'dataset' | 'transferSyntaxUID'>;

function num(ds: Dataset, tag: number): number | undefined {
  return ds.number(tag);
}

/** The pixel description of a data set; throws a clear error when it is not an image. */
export function describePixels(ds: Dataset): PixelDescription {
  const rows = num(ds, 0x00280010);
  const columns = num(ds, 0x00280011);
  const hasInt = ds.has(PixelDataTag);
  const hasFloat = ds.has(FloatPixelDataTag);
  const hasDouble = ds.has(DoubleFloatPixelDataTag);
  if (!hasInt && !hasFloat && !hasDouble) throw new Error('no Pixel Data (7FE0,0010) in the data set');
  if (rows === undefined || columns === undefined) throw new Error('Rows (0028,0010) or Columns (0028,0011) missing');
  const sampleFormat = hasInt ? 'int' : hasFloat ? 'float' : 'double';
  const bitsAllocated = num(ds, 0x00280100) ?? (sampleFormat === 'float' ? 32 : sampleFormat === 'double' ? 64 : undefined);
  if (bitsAllocated === undefined) throw new Error('Bits Allocated (0028,0100) missing');
  const bitsStored = num(ds, 0x00280101) ?? bitsAllocated;
  const samplesPerPixel = num(ds, 0x00280002) ?? 1;
  const photometricInterpretation = (ds.string(0x00280004) ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).trim().toUpperCase();
  const nf = num(ds, 0x00280008);
  return {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit: num(ds, 0x00280102) ?? bitsStored - 1,
    pixelRepresentation: num(ds, 0x00280103) ?? 0,
    photometricInterpretation,
    planarConfiguration: samplesPerPixel > 1 ? (num(ds, 0x00280006) ?? 0) : 0,
    numberOfFrames: nf !== undefined && nf > 0 ? Math.floor(nf) : 1,
    sampleFormat,
  };
}

/** Number of frames of the image (1 when Number of Frames is absent). */
export function numberOfFrames(ds: Dataset): number {
  return describePixels(ds).numberOfFrames;
}

/** Bytes of one native frame (bits for Bits Allocated 1 are rounded up per frame). */
export function frameByteLength(d: Pick<PixelDescription, 'rows' | 'columns' | 'samplesPerPixel' | 'bitsAllocated'>): number {
  const samples = d.rows * d.columns * d.samplesPerPixel;
  return d.bitsAllocated === 1 ? Math.ceil(samples / 8) : samples * (d.bitsAllocated >> 3);
}

/** Allocates the typed array for a frame's samples. */
export function allocatePixels(d: PixelDescription): PixelArray {
  const n = d.rows * d.columns * d.samplesPerPixel;
  return typedView(new ArrayBuffer(n * Math.max(1, d.bitsAllocated >> 3)), 0, n, d);
}

/** A typed view of `count` samples at `byteOffset` in `buffer`, of the type `d` calls for. */
export function typedView(buffer: ArrayBufferLike, byteOffset: number, count: number, d: Pick<PixelDescription, 'bitsAllocated' | 'pixelRepresentation' | 'sampleFormat'>): PixelArray {
  const signed = d.pixelRepresentation === 1;
  if (d.sampleFormat === 'float') return new Float32Array(buffer, byteOffset, count);
  if (d.sampleFormat === 'double') return new Float64Array(buffer, byteOffset, count);
  switch (d.bitsAllocated) {
    case 1:
    case 8: return signed && d.bitsAllocated === 8 ? new Int8Array(buffer, byteOffset, count) : new Uint8Array(buffer, byteOffset, count);
    case 16: return signed ? new Int16Array(buffer, byteOffset, count) : new Uint16Array(buffer, byteOffset, count);
    case 32: return signed ? new Int32Array(buffer, byteOffset, count) : new Uint32Array(buffer, byteOffset, count);
    default: throw new Error(`Bits Allocated ${d.bitsAllocated} is not supported (1, 8, 16 or 32)`);
  }
}

/**
 * Wraps little-endian sample bytes as the frame's typed array, copying only when the bytes
 * are not aligned for the array type (Buffers from a file source often start at odd offsets).
 */
export function samplesFromBytes(bytes: Uint8Array, d: PixelDescription): PixelArray {
  const width = Math.max(1, d.bitsAllocated >> 3);
  const count = d.rows * d.columns * d.samplesPerPixel;
  if (bytes.length < count * width) throw new Error(`frame has ${bytes.length} bytes, ${count * width} expected for ${d.rows}×${d.columns}×${d.samplesPerPixel} samples of ${d.bitsAllocated} bits`);
  if (bytes.byteOffset % width === 0) return typedView(bytes.buffer, bytes.byteOffset, count, d);
  const copy = new Uint8Array(count * width);
  copy.set(bytes.subarray(0, count * width));
  return typedView(copy.buffer, 0, count, d);
}

/** The bytes of a frame's samples (little-endian), a view when possible. */
export function frameBytes(f: { data: PixelArray }): Uint8Array {
  return new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength);
}

/**
 * Samples with the bits above High Bit removed and, for Pixel Representation 1, the sign
 * extended from Bits Stored (PS3.5 8.1.1, PS3.3 C.7.6.3.1). Returns `data` itself when
 * nothing needs changing.
 */
export function storedValues(f: Frame): PixelArray {
  if (f.sampleFormat !== 'int' || f.bitsAllocated === 1 || f.bitsStored >= f.bitsAllocated) return f.data;
  const shift = f.highBit + 1 - f.bitsStored;
  const mask = 2 ** f.bitsStored - 1;
  let needed = shift !== 0;
  const d = f.data;
  if (!needed) for (let i = 0; i < d.length; i++) if ((d[i]! & ~mask) !== 0 && !(f.pixelRepresentation === 1 && d[i]! < 0)) { needed = true; break; }
  if (!needed && f.pixelRepresentation === 0) return d;
  const out = allocatePixels(f);
  const signBit = 2 ** (f.bitsStored - 1);
  for (let i = 0; i < d.length; i++) {
    let v = (Math.floor((d[i]! >>> 0) / 2 ** shift)) & mask;
    if (f.pixelRepresentation === 1 && v >= signBit) v -= 2 * signBit;
    out[i] = v;
  }
  return out;
}

/**
 * `length` bytes of native pixel data from byte `start` of the value, in little-endian order
 * (`width` bytes per sample). Explicit VR Big Endian stores OW values as 16-bit words with
 * their bytes swapped, whatever Bits Allocated says (PS3.5 7.3, A.3): 8-bit and 1-bit samples
 * in an OW value come out pairwise swapped, so the enclosing word-aligned range is swapped
 * back (a frame of odd length starts mid-word). OB values are a byte stream in either order;
 * wider samples are swapped by their own size, as the corpus' big endian files are written
 * (32-bit RT Dose in OW, swapped as 32-bit values).
 */
function nativeBytes(ds: Dataset, el: Element, start: number, length: number, width: number): Uint8Array {
  if (ds.littleEndian || (width === 1 && el.vr !== 'OW')) return el.slice(start, length);
  if (width === 1) {
    const from = start & ~1;
    const to = Math.min(el.length - (el.length % 2), (start + length + 1) & ~1);
    const words = copyBytes(el.slice(from, Math.max(0, to - from)));
    words.swap16();
    return words.subarray(start - from, start - from + length);
  }
  const copy = copyBytes(el.slice(start, length));
  const whole = copy.subarray(0, copy.length - (copy.length % width));
  if (width === 2) whole.swap16(); else if (width === 4) whole.swap32(); else if (width === 8) whole.swap64();
  return copy;
}

/**
 * Native YBR_FULL_422 and YBR_PARTIAL_422 (PS3.3 C.7.6.3.1.2): each pair of pixels is stored as
 * Y1 Y2 Cb Cr, two samples per pixel, Planar Configuration 0.
 */
function isSubsampled422(d: PixelDescription): boolean {
  return (d.photometricInterpretation === 'YBR_FULL_422' || d.photometricInterpretation === 'YBR_PARTIAL_422')
    && d.samplesPerPixel === 3 && (d.bitsAllocated === 8 || d.bitsAllocated === 16) && d.sampleFormat === 'int';
}

/**
 * A native 4:2:2 frame upsampled to 4:4:4, pixel-interleaved: YBR_FULL_422 becomes YBR_FULL,
 * YBR_PARTIAL_422 becomes 'YBR_PARTIAL' (Tracer's name for the upsampled retired form; the
 * standard defines no 4:4:4 partial-range term, so transcode() refuses to store it).
 *
 * Pairs run in raster order over the whole frame, also when Columns is odd (a pair then spans
 * the end of one row and the start of the next): DCMTK (dcmimage), GDCM and pydicom all read
 * it so, and the frame length all three expect, two samples per pixel, leaves no room for a
 * pair per row. With an odd number of pixels the last one has its Y but no chroma of its own
 * (DCMTK and GDCM leave it black, pydicom refuses the frame): it takes the chroma of the pair
 * before it, the nearest sample (chroma is sited on the first Y of each pair).
 */
function ybr422Frame(d: PixelDescription, ds: Dataset, el: Element, index: number, tsUID: string): Frame {
  const n = d.rows * d.columns;
  const w = d.bitsAllocated >> 3;
  const bytes = nativeBytes(ds, el, index * n * 2 * w, n * 2 * w, w);
  if (bytes.length < n * 2 * w) throw new Error(`Pixel Data is too short for frame ${index}: ${bytes.length} of ${n * 2 * w} bytes present (YBR 4:2:2, two samples per pixel)`);
  const aligned = bytes.byteOffset % w === 0 ? bytes : Uint8Array.from(bytes);
  const src = w === 1 ? aligned : new Uint16Array(aligned.buffer, aligned.byteOffset, n * 2);
  const full = d.photometricInterpretation === 'YBR_FULL_422';
  const out = allocatePixels({ ...d, pixelRepresentation: 0 });
  let cb = 2 ** (d.bitsAllocated - 1), cr = cb;
  for (let p = 0, i = 0; p < n; p += 2, i += 4) {
    const y1 = src[i]!;
    if (p + 1 < n) { cb = src[i + 2]!; cr = src[i + 3]!; }
    out[p * 3] = y1; out[p * 3 + 1] = cb; out[p * 3 + 2] = cr;
    if (p + 1 < n) { out[p * 3 + 3] = src[i + 1]!; out[p * 3 + 4] = cb; out[p * 3 + 5] = cr; }
  }
  return { ...d, index, data: out, pixelRepresentation: 0, photometricInterpretation: full ? 'YBR_FULL' : 'YBR_PARTIAL', planarConfiguration: 0, transferSyntaxUID: tsUID, lossy: false };
}

/**
 * Frame `index` (zero-based) of the image, decoded. Native frames are read from the file
 * alone (no other frame is touched); encapsulated frames are decoded by the codec their
 * transfer syntax needs (loaded on first use; WebAssembly codecs load asynchronously,
 * hence the promise).
 */
export async function getFrame(src: PixelSource, index: number): Promise<Frame> {
  const ts = src.transferSyntaxUID;
  const el = src.dataset.get(PixelDataTag);
  if (el?.fragments) await loadCodec(ts);
  return getFrameSync(src, index);
}

/**
 * As getFrame, for callers that have loaded the codec already (`await loadCodec(ts)`), or
 * read native or RLE data: throws when the codec is not loaded.
 */
export function getFrameSync(src: PixelSource, index: number): Frame {
  return frameOf(src, describePixels(src.dataset), index);
}

/**
 * As getFrameSync, for a caller going through many frames of one data set: `d` is its
 * describePixels(), worked out once, and encapsulated frames are decoded into `into` (the
 * frame's bytes at their place in the caller's buffer) by the decoders that can, so that the
 * samples are written once. The frame's data is then a view of `into`; a caller checks that
 * before copying, as some decoders (and native data) return arrays of their own.
 */
export function getFrameInto(src: PixelSource, d: PixelDescription, index: number, into: Uint8Array): Frame {
  return frameOf(src, d, index, into);
}

function frameOf(src: PixelSource, d: PixelDescription, index: number, into?: Uint8Array): Frame {
  const ds = src.dataset;
  if (!Number.isInteger(index) || index < 0 || index >= d.numberOfFrames) {
    throw new RangeError(`frame ${index} does not exist: the image has ${d.numberOfFrames} frame(s) (0-based)`);
  }
  const tsUID = src.transferSyntaxUID;
  const ts = transferSyntax(tsUID);
  const tag = d.sampleFormat === 'int' ? PixelDataTag : d.sampleFormat === 'float' ? FloatPixelDataTag : DoubleFloatPixelDataTag;
  const el = ds.get(tag)!;
  if (el.fragments) {
    const decoder = decoderFor(tsUID);
    if (!decoder) throw new Error(`no decoder for transfer syntax ${ts?.name ?? tsUID}`);
    const encoded = frameFragments(el, d.numberOfFrames, index, ds);
    const out = decoder.decode(encoded, d, tsUID, into);
    return { ...d, ...out.description, index, data: out.data, transferSyntaxUID: tsUID, lossy: ts?.lossy ?? false };
  }
  if (isSubsampled422(d)) return ybr422Frame(d, ds, el, index, tsUID);
  const len = frameByteLength(d);
  let data: PixelArray;
  if (d.bitsAllocated === 1) {
    // Frames of single-bit data need not start on a byte boundary (PS3.5 8.1.1, 8.2).
    const bitStart = index * d.rows * d.columns * d.samplesPerPixel;
    const n = d.rows * d.columns * d.samplesPerPixel;
    const firstByte = Math.floor(bitStart / 8);
    const bytes = nativeBytes(ds, el, firstByte, Math.ceil((bitStart + n) / 8) - firstByte, 1);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const b = (bitStart % 8) + i;
      out[i] = (bytes[b >> 3]! >> (b & 7)) & 1;
    }
    data = out;
  } else {
    const bytes = nativeBytes(ds, el, index * len, len, d.bitsAllocated >> 3);
    if (bytes.length < len) throw new Error(`Pixel Data is too short for frame ${index}: ${bytes.length} of ${len} bytes present`);
    data = samplesFromBytes(bytes, d);
  }
  return { ...d, index, data, transferSyntaxUID: tsUID, lossy: false };
}

/** Every frame in order, decoded one at a time (memory holds one frame at a time). */
export async function* frames(src: PixelSource): AsyncGenerator<Frame> {
  const n = numberOfFrames(src.dataset);
  for (let i = 0; i < n; i++) yield await getFrame(src, i);
}
