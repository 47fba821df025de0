/**
 * Synthetic images for codec tests, written with Tracer's data set API (pixel values come
 * from formulas here, so a test can tell what every sample must be).
 */
import { Dataset } from '../../src/dicom/dataset.js';
import { TS } from '../../src/dicom/dictionary/index.js';
import { writeDicomFile } from '../../src/dicom/write.js';

export interface SyntheticImage {
  rows: number;
  columns: number;
  samplesPerPixel: 1 | 3;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  signed: boolean;
  frames: number;
  photometric: string;
  sopClass: string;
  /** Sample value at (frame, row, column, sample). */
  value: (f: number, r: number, c: number, s: number) => number;
}

export function makeImageDataset(im: SyntheticImage, uid = '1.2.826.0.1.3680043.10.1.' + Math.floor(Math.random() * 1e9)): Dataset {
  const ds = new Dataset(true);
  ds.setString(0x00080016, 'UI', im.sopClass);
  ds.setString(0x00080018, 'UI', uid);
  ds.setString(0x00080060, 'CS', im.sopClass.endsWith('.20') ? 'NM' : im.sopClass.endsWith('.1.2') ? 'CT' : 'OT');
  ds.setString(0x00100010, 'PN', 'Codec^Test');
  ds.setString(0x0020000d, 'UI', uid + '.1');
  ds.setString(0x0020000e, 'UI', uid + '.2');
  // A private block that transcoding must leave alone (SEND-023).
  ds.setString(0x00290010, 'LO', 'TRACER TEST');
  ds.setBytes(0x00291001, 'OB', Buffer.from([1, 2, 3, 4]));
  ds.setNumbers(0x00280002, 'US', [im.samplesPerPixel]);
  ds.setString(0x00280004, 'CS', im.photometric);
  if (im.samplesPerPixel > 1) ds.setNumbers(0x00280006, 'US', [0]);
  if (im.frames > 1) ds.setString(0x00280008, 'IS', String(im.frames));
  ds.setNumbers(0x00280010, 'US', [im.rows]);
  ds.setNumbers(0x00280011, 'US', [im.columns]);
  ds.setNumbers(0x00280100, 'US', [im.bitsAllocated]);
  ds.setNumbers(0x00280101, 'US', [im.bitsStored]);
  ds.setNumbers(0x00280102, 'US', [im.bitsStored - 1]);
  ds.setNumbers(0x00280103, 'US', [im.signed ? 1 : 0]);
  const n = im.rows * im.columns * im.samplesPerPixel;
  const w = im.bitsAllocated / 8;
  const px = Buffer.alloc(n * w * im.frames + ((n * w * im.frames) % 2));
  let o = 0;
  for (let f = 0; f < im.frames; f++) {
    for (let r = 0; r < im.rows; r++) {
      for (let c = 0; c < im.columns; c++) {
        for (let s = 0; s < im.samplesPerPixel; s++) {
          const v = im.value(f, r, c, s);
          if (w === 1) px[o++] = v & 0xff;
          else { if (im.signed) px.writeInt16LE(v, o); else px.writeUInt16LE(v, o); o += 2; }
        }
      }
    }
  }
  ds.setBytes(0x7fe00010, w === 1 ? 'OB' : 'OW', px);
  return ds;
}

export function writeImage(path: string, im: SyntheticImage): void {
  writeDicomFile(path, { dataset: makeImageDataset(im), transferSyntaxUID: TS.ExplicitVRLittleEndian });
}

const NM = '1.2.840.10008.5.1.4.1.1.20';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const SC = '1.2.840.10008.5.1.4.1.1.7';

/** 16-bit NM multi-frame, counts-like data with noise, `frames` frames of 64×64. */
export function nmMultiFrame(frames = 120): SyntheticImage {
  return {
    rows: 64, columns: 64, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, signed: false, frames, photometric: 'MONOCHROME2', sopClass: NM,
    value: (f, r, c) => {
      const d = (r - 32) ** 2 + (c - 32) ** 2;
      return Math.max(0, Math.round(3000 * Math.exp(-d / (200 + f)) + ((r * 31 + c * 17 + f * 7) % 23))) & 0xffff;
    },
  };
}

/** Signed 16-bit CT (Bits Stored 16) with negative values: air, water, bone. */
export function signedCt(): SyntheticImage {
  return {
    rows: 128, columns: 96, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, signed: true, frames: 1, photometric: 'MONOCHROME2', sopClass: CT,
    value: (_f, r, c) => {
      const d = Math.hypot(r - 64, c - 48);
      return d > 44 ? -1000 + ((r + c) % 7) : d > 40 ? 900 + (r % 50) : Math.round(40 * Math.sin(r / 5) * Math.cos(c / 7)) - 20;
    },
  };
}

/** 8-bit RGB with gradients and edges. */
export function rgb8(): SyntheticImage {
  return {
    rows: 100, columns: 150, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, signed: false, frames: 1, photometric: 'RGB', sopClass: SC,
    value: (_f, r, c, s) => (s === 0 ? c * 255 / 149 : s === 1 ? r * 255 / 99 : (r * c) % 256 < 128 ? 30 : 220) | 0,
  };
}

/** 12-bit in 16 (MONOCHROME2, unsigned), a smooth image: for lossy JPEG Extended and J2K. */
export function ct12(): SyntheticImage {
  return {
    rows: 128, columns: 128, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, signed: false, frames: 1, photometric: 'MONOCHROME2', sopClass: CT,
    value: (_f, r, c) => Math.round(2048 + 1500 * Math.sin(c / 17) * Math.cos(r / 13)),
  };
}
