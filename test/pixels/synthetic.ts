/**
 * Synthetic images for the rendering tests, built attribute by attribute (PS3.3 C.7.6.3 Image
 * Pixel Module) so that every photometric interpretation, bit layout and LUT the renderer
 * handles can be exercised, and handed to dcm2pnm as files.
 */
import { Dataset } from '../../src/dicom/dataset.js';
import { writeDicomFile } from '../../src/dicom/write.js';

export interface ImageSpec {
  rows: number;
  columns: number;
  frames?: number;
  samplesPerPixel?: number;
  photometric?: string;
  planar?: number;
  bitsAllocated: number;
  bitsStored?: number;
  highBit?: number;
  signed?: boolean;
  /** Sample cells in little-endian byte order (bytes for 8-bit, 16/32-bit words otherwise). */
  pixels: Buffer;
  sopClass?: string;
}

export function image(spec: ImageSpec): Dataset {
  const ds = new Dataset(true);
  ds.setString('SOPClassUID', 'UI', spec.sopClass ?? '1.2.840.10008.5.1.4.1.1.7');
  ds.setString('SOPInstanceUID', 'UI', '1.2.826.0.1.3680043.10.1351.' + Math.floor(Math.random() * 1e9));
  ds.setString('Modality', 'CS', 'OT');
  ds.setNumbers('SamplesPerPixel', 'US', [spec.samplesPerPixel ?? 1]);
  ds.setString('PhotometricInterpretation', 'CS', spec.photometric ?? 'MONOCHROME2');
  if ((spec.samplesPerPixel ?? 1) > 1) ds.setNumbers('PlanarConfiguration', 'US', [spec.planar ?? 0]);
  if (spec.frames !== undefined) ds.setString('NumberOfFrames', 'IS', String(spec.frames));
  ds.setNumbers('Rows', 'US', [spec.rows]);
  ds.setNumbers('Columns', 'US', [spec.columns]);
  ds.setNumbers('BitsAllocated', 'US', [spec.bitsAllocated]);
  const stored = spec.bitsStored ?? spec.bitsAllocated;
  ds.setNumbers('BitsStored', 'US', [stored]);
  ds.setNumbers('HighBit', 'US', [spec.highBit ?? stored - 1]);
  ds.setNumbers('PixelRepresentation', 'US', [spec.signed ? 1 : 0]);
  ds.setBytes('PixelData', spec.bitsAllocated > 8 ? 'OW' : 'OB', spec.pixels);
  return ds;
}

/** 16-bit little-endian words. */
export function words(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) b.writeUInt16LE(values[i]! & 0xffff, 2 * i);
  return b;
}

/** An item with a LUT Descriptor (US), LUT Data (OW) and optional explanation. */
export function lutItem(first: number, bits: number, data: number[], explanation?: string): Dataset {
  const it = new Dataset(true);
  it.setNumbers('LUTDescriptor', 'US', [data.length === 65536 ? 0 : data.length, first & 0xffff, bits]);
  if (explanation) it.setString('LUTExplanation', 'LO', explanation);
  it.setBytes('LUTData', 'OW', words(data));
  return it;
}

export function writeImage(path: string, ds: Dataset, transferSyntaxUID = '1.2.840.10008.1.2.1'): string {
  writeDicomFile(path, { dataset: ds, transferSyntaxUID });
  return path;
}

/** A smooth test pattern of `n` values in [lo, hi]: gradients and rings, different per frame. */
export function pattern(rows: number, columns: number, lo: number, hi: number, frame = 0): number[] {
  const out: number[] = [];
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      const r = Math.hypot(x - columns / 2, y - rows / 2) / Math.hypot(columns / 2, rows / 2);
      const t = 0.5 + 0.25 * Math.cos(r * 12 + frame) + 0.25 * ((x + y + frame * 3) / (rows + columns));
      out.push(Math.round(lo + Math.min(1, Math.max(0, t)) * (hi - lo)));
    }
  }
  return out;
}
