/**
 * Native (uncompressed) pixel data layouts against DCMTK and pydicom:
 * - Explicit VR Big Endian swaps OW values as 16-bit words whatever Bits Allocated is
 *   (PS3.5 7.3, A.3): 8-bit and 1-bit pixel data in OW come out of a big endian file pairwise
 *   swapped. DCMTK writes them that way (`dcmconv +tb`) and swaps them back (`dcmconv +te`),
 *   so Tracer's frames of the big endian file must equal DCMTK's little endian conversion,
 *   frame by frame (frames of odd length start mid-word), and Tracer's own big endian output
 *   must read back in DCMTK as the original. (pydicom 2.3 does not swap 8-bit OW back, so it
 *   is no reference here.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dicom/dataset.js';
import { TS } from '../../src/dicom/dictionary/index.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import { writeDicomFile } from '../../src/dicom/write.js';
import { getFrame, numberOfFrames, type Frame } from '../../src/pixels/frame.js';
import { run as convert } from '../../src/cli/convert.js';
import { PYDICOM_DATA, requirePydicom, requireTools } from '../helpers/peers.js';
import { dcmtkEnv } from '../helpers/storescp.js';

const TEST_FILES = join(PYDICOM_DATA, 'test_files');

async function framesOf(path: string): Promise<Frame[]> {
  const f = readDicomFile(path);
  try {
    const out: Frame[] = [];
    for (let i = 0; i < numberOfFrames(f.dataset); i++) out.push(await getFrame(f, i));
    return out;
  } finally {
    f.source.close();
  }
}

function vrOfPixelData(path: string): string {
  const f = readDicomFile(path);
  try {
    return f.dataset.get(0x7fe00010)!.vr;
  } finally {
    f.source.close();
  }
}

/** A little endian image whose Pixel Data is OW whatever Bits Allocated is. */
function owImage(rows: number, columns: number, frames: number, bitsAllocated: 1 | 8, samplesPerPixel: 1 | 3, pixels: Buffer): Dataset {
  const ds = new Dataset(true);
  ds.setString('SOPClassUID', 'UI', bitsAllocated === 1 ? '1.2.840.10008.5.1.4.1.1.7.1' : '1.2.840.10008.5.1.4.1.1.7.2');
  ds.setString('SOPInstanceUID', 'UI', '1.2.826.0.1.3680043.10.1351.' + Math.floor(Math.random() * 1e9));
  ds.setString('Modality', 'CS', 'OT');
  ds.setNumbers('SamplesPerPixel', 'US', [samplesPerPixel]);
  ds.setString('PhotometricInterpretation', 'CS', samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2');
  if (samplesPerPixel === 3) ds.setNumbers('PlanarConfiguration', 'US', [0]);
  ds.setString('NumberOfFrames', 'IS', String(frames));
  ds.setNumbers('Rows', 'US', [rows]);
  ds.setNumbers('Columns', 'US', [columns]);
  ds.setNumbers('BitsAllocated', 'US', [bitsAllocated]);
  ds.setNumbers('BitsStored', 'US', [bitsAllocated]);
  ds.setNumbers('HighBit', 'US', [bitsAllocated - 1]);
  ds.setNumbers('PixelRepresentation', 'US', [0]);
  const padded = pixels.length % 2 === 1 ? Buffer.concat([pixels, Buffer.alloc(1)]) : pixels;
  ds.setBytes('PixelData', 'OW', padded);
  return ds;
}

test('8-bit and 1-bit OW pixel data in Explicit VR Big Endian: frames as DCMTK reads them; Tracer\'s big endian output reads back in DCMTK', async (t) => {
  if (!requireTools(t, 'dcmconv', 'dcmdrle') || !requirePydicom(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-native-'));
  try {
    // 3×3 frames: 9 bytes each, so frames 1 and 3 start in the middle of a 16-bit word.
    const mono8 = Buffer.from(Array.from({ length: 9 * 4 }, (_, i) => (i * 37 + 11) & 0xff));
    writeDicomFile(join(dir, 'mono8.dcm'), { dataset: owImage(3, 3, 4, 8, 1, mono8), transferSyntaxUID: TS.ExplicitVRLittleEndian });
    // 5×5 single-bit frames: 25 bits each, frame 1 starts at bit 25.
    const bits = Buffer.from([0xa5, 0x3c, 0xf0, 0x0f, 0x81, 0x7e, 0x55, 0xaa, 0x12, 0x34]);
    writeDicomFile(join(dir, 'bits.dcm'), { dataset: owImage(5, 5, 3, 1, 1, bits), transferSyntaxUID: TS.ExplicitVRLittleEndian });
    const inputs = [join(TEST_FILES, 'SC_rgb_small_odd.dcm'), join(dir, 'mono8.dcm'), join(dir, 'bits.dcm')];
    for (const input of inputs) {
      assert.equal(vrOfPixelData(input), 'OW', input);
      const name = input.split('/').pop()!;
      const be = join(dir, `${name}.be.dcm`);
      const le = join(dir, `${name}.le.dcm`);
      execFileSync('dcmconv', ['+tb', input, be], { env: dcmtkEnv });
      execFileSync('dcmconv', ['+te', be, le], { env: dcmtkEnv });
      assert.equal(vrOfPixelData(be), 'OW', `${name}: DCMTK keeps OW in big endian`);
      const original = await framesOf(input);
      const fromBe = await framesOf(be);
      const viaDcmtk = await framesOf(le);
      assert.ok(original.length >= 1 && fromBe.length === original.length);
      for (let i = 0; i < original.length; i++) {
        assert.deepEqual([...fromBe[i]!.data], [...viaDcmtk[i]!.data], `${name} frame ${i}: big endian file against dcmconv +te`);
        assert.deepEqual([...fromBe[i]!.data], [...original[i]!.data], `${name} frame ${i}: big endian file against the original`);
      }
      // Tracer writes big endian; DCMTK converts that back to little endian.
      const ours = join(dir, `${name}.tracer-be.dcm`);
      const back = join(dir, `${name}.tracer-be.le.dcm`);
      await convert(['--ts', 'big', input, ours]);
      execFileSync('dcmconv', ['+te', ours, back], { env: dcmtkEnv });
      const backFrames = await framesOf(back);
      for (let i = 0; i < original.length; i++) assert.deepEqual([...backFrames[i]!.data], [...original[i]!.data], `${name} frame ${i}: Tracer's big endian through dcmconv +te`);
      // Transcoding from the big endian file compresses the right samples (dcmdrle decodes).
      if (name !== 'bits.dcm') {
        const rle = join(dir, `${name}.rle.dcm`);
        const raw = join(dir, `${name}.rle.raw.dcm`);
        await convert(['--ts', 'rle', be, rle]);
        execFileSync('dcmdrle', [rle, raw], { env: dcmtkEnv });
        const rawFrames = await framesOf(raw);
        for (let i = 0; i < original.length; i++) assert.deepEqual([...rawFrames[i]!.data], [...original[i]!.data], `${name} frame ${i}: RLE from big endian, decoded by dcmdrle`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
