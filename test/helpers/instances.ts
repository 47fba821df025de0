/**
 * Small synthetic instances for Storage SCU tests: a header and a little pixel data, in any
 * uncompressed transfer syntax, each with its own SOP Instance UID.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Dataset } from '../../src/dicom/dataset.js';
import { encodeDicomFile } from '../../src/dicom/write.js';

export const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
export const MR_IMAGE = '1.2.840.10008.5.1.4.1.1.4';
export const NM_IMAGE = '1.2.840.10008.5.1.4.1.1.20';
export const SC_IMAGE = '1.2.840.10008.5.1.4.1.1.7';

export function instanceUid(n: number): string {
  return `1.2.826.0.1.3680043.9.7.100.${n}`;
}

export interface MakeOptions {
  sopClass?: string;
  transferSyntax?: string;
  /** Pixel rows = columns (16-bit); default 16. */
  size?: number;
  first?: number;
}

/** Writes `count` instances into `dir`; returns their paths in order. */
export function makeInstances(dir: string, count: number, o: MakeOptions = {}): string[] {
  const ts = o.transferSyntax ?? '1.2.840.10008.1.2.1';
  const bigEndian = ts === '1.2.840.10008.1.2.2';
  const size = o.size ?? 16;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = (o.first ?? 0) + i;
    const ds = new Dataset(!bigEndian);
    ds.setString(0x00080016, 'UI', o.sopClass ?? CT_IMAGE);
    ds.setString(0x00080018, 'UI', instanceUid(n));
    ds.setString(0x00080060, 'CS', 'OT');
    ds.setString(0x00100010, 'PN', `Test^Patient${n}`);
    ds.setString(0x00100020, 'LO', `ID${n}`);
    ds.setString(0x0020000d, 'UI', '1.2.826.0.1.3680043.9.7.101');
    ds.setString(0x0020000e, 'UI', '1.2.826.0.1.3680043.9.7.102');
    ds.setNumbers(0x00280002, 'US', [1]);
    ds.setString(0x00280004, 'CS', 'MONOCHROME2');
    ds.setNumbers(0x00280010, 'US', [size]);
    ds.setNumbers(0x00280011, 'US', [size]);
    ds.setNumbers(0x00280100, 'US', [16]);
    ds.setNumbers(0x00280101, 'US', [16]);
    ds.setNumbers(0x00280102, 'US', [15]);
    ds.setNumbers(0x00280103, 'US', [0]);
    ds.setNumbers(0x7fe00010, 'OW', Array.from({ length: size * size }, (_, k) => (k * 37 + n) & 0xffff));
    const path = join(dir, `img${String(n).padStart(5, '0')}.dcm`);
    writeFileSync(path, Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: ts })]));
    out.push(path);
  }
  return out;
}

/** One CT instance as a Part 10 file (Explicit VR Little Endian) with the given UIDs; `pixels` bytes of pixel data. */
export function ctFile(o: { study: string; series: string; sop: string; patientName?: string; patientId?: string; studyDescription?: string; pixels?: number }): Buffer {
  const pixels = o.pixels ?? 32;
  const ds = new Dataset();
  ds.setString(0x00080016, 'UI', CT_IMAGE);
  ds.setString(0x00080018, 'UI', o.sop);
  ds.setString(0x00080060, 'CS', 'CT');
  ds.setString(0x00100010, 'PN', o.patientName ?? 'Doe^Jane');
  ds.setString(0x00100020, 'LO', o.patientId ?? 'ID1');
  if (o.studyDescription !== undefined) ds.setString(0x00081030, 'LO', o.studyDescription);
  ds.setString(0x0020000d, 'UI', o.study);
  ds.setString(0x0020000e, 'UI', o.series);
  ds.setNumbers(0x00280002, 'US', [1]);
  ds.setNumbers(0x00280010, 'US', [1]);
  ds.setNumbers(0x00280011, 'US', [pixels / 2]);
  ds.setNumbers(0x00280100, 'US', [16]);
  ds.setNumbers(0x7fe00010, 'OW', new Array(pixels / 2).fill(7));
  return Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: '1.2.840.10008.1.2.1' })]);
}
