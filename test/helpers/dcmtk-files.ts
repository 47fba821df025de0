/**
 * Test files written by DCMTK's dump2dcm, so that tests of the network layer do not depend on
 * Tracer's own writer.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CtFileOptions {
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  patientName: string;
  patientId: string;
  /** Rows and columns (default 256). */
  size?: number;
}

/**
 * A CT image (Explicit VR Little Endian, 16-bit MONOCHROME2 pixels of a fixed pattern) written
 * by dump2dcm into DIR/ct.dcm; rejects with dump2dcm's output when it fails.
 */
export async function makeCtFile(dir: string, o: CtFileOptions): Promise<string> {
  const n = o.size ?? 256;
  const pixels = Array.from({ length: n * n }, (_, i) => ((i * 37) & 0xffff).toString(16).padStart(4, '0')).join('\\');
  const dump = [
    '# Dicom-File-Format',
    '# Dicom-Meta-Information-Header',
    '(0002,0001) OB 00\\01',
    '(0002,0002) UI =CTImageStorage',
    `(0002,0003) UI [${o.sopInstanceUid}]`,
    '(0002,0010) UI =LittleEndianExplicit',
    '# Dicom-Data-Set',
    '(0008,0016) UI =CTImageStorage',
    `(0008,0018) UI [${o.sopInstanceUid}]`,
    '(0008,0060) CS [CT]',
    `(0010,0010) PN [${o.patientName}]`,
    `(0010,0020) LO [${o.patientId}]`,
    `(0020,000d) UI [${o.studyInstanceUid}]`,
    `(0020,000e) UI [${o.seriesInstanceUid}]`,
    '(0028,0002) US 1',
    '(0028,0004) CS [MONOCHROME2]',
    `(0028,0010) US ${n}`,
    `(0028,0011) US ${n}`,
    '(0028,0100) US 16',
    '(0028,0101) US 16',
    '(0028,0102) US 15',
    '(0028,0103) US 0',
    `(7fe0,0010) OW ${pixels}`,
  ].join('\n');
  await writeFile(join(dir, 'ct.dump'), dump + '\n');
  const out = join(dir, 'ct.dcm');
  await new Promise<void>((resolve, reject) => {
    // +l: the pixel values make one line far longer than dump2dcm's default limit.
    execFile('dump2dcm', ['+l', '1000000', join(dir, 'ct.dump'), out], { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`dump2dcm failed: ${stdout}${stderr}`)) : resolve(),
    );
  });
  return out;
}
