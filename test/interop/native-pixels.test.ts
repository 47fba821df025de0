/**
 * Native (uncompressed) pixel data layouts against DCMTK and pydicom:
 * - Explicit VR Big Endian swaps OW values as 16-bit words whatever Bits Allocated is
 *   (PS3.5 7.3, A.3): 8-bit and 1-bit pixel data in OW come out of a big endian file pairwise
 *   swapped. DCMTK writes them that way (`dcmconv +tb`) and swaps them back (`dcmconv +te`),
 *   so Tracer's frames of the big endian file must equal DCMTK's little endian conversion,
 *   frame by frame (frames of odd length start mid-word), and Tracer's own big endian output
 *   must read back in DCMTK as the original. (pydicom 2.3 does not swap 8-bit OW back, so it
 *   is no reference here.)
 * - Native YBR_FULL_422 and YBR_PARTIAL_422 (PS3.3 C.7.6.3.1.2) with odd and even widths,
 *   8 and 16 bits, written by pydicom: upsampled frames equal pydicom's pixel_array and GDCM's
 *   upsampling (gdcmconv --rle, decoded by dcmdrle) where those tools take the file, and
 *   render as DCMTK's dcm2pnm renders them (within the 2 levels its integer YBR tables differ
 *   by, see render-dcm2pnm.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dataset } from '../../src/dicom/dataset.js';
import { TS } from '../../src/dicom/dictionary/index.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import { writeDicomFile } from '../../src/dicom/write.js';
import { transcode } from '../../src/pixels/transcode.js';
import { run as convert } from '../../src/cli/convert.js';
import { DEBIAN_PYTHON, PYDICOM_DATA, requirePydicom, requireTools } from '../helpers/peers.js';
import { dcmtkEnv, TRACER_BIN } from '../helpers/storescp.js';
import { decodePng } from '../pixels/png-decode.js';
import { framesOf, interleaved } from '../helpers/frames.js';

const TEST_FILES = join(PYDICOM_DATA, 'test_files');
const YBR422_SCRIPT = fileURLToPath(new URL('../../../test/interop/scripts/ybr422.py', import.meta.url));

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

test('native YBR_FULL_422 and YBR_PARTIAL_422, odd and even widths, 8 and 16 bits: as pydicom, GDCM and DCMTK read them', async (t) => {
  if (!requireTools(t, 'gdcmconv', 'dcmdrle', 'dcm2pnm') || !requirePydicom(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-ybr422-'));
  try {
    // [name, photometric, rows, columns, frames, bits]
    const specs: [string, string, number, number, number, number][] = [
      ['full-6x4', 'YBR_FULL_422', 4, 6, 1, 8],
      ['full-5x4', 'YBR_FULL_422', 4, 5, 1, 8],
      ['full-5x4x3', 'YBR_FULL_422', 4, 5, 3, 8],
      ['full-3x3', 'YBR_FULL_422', 3, 3, 1, 8],
      ['full-5x4-16', 'YBR_FULL_422', 4, 5, 2, 16],
      ['partial-5x4x2', 'YBR_PARTIAL_422', 4, 5, 2, 8],
      ['partial-6x2', 'YBR_PARTIAL_422', 2, 6, 1, 8],
    ];
    const r = spawnSync(DEBIAN_PYTHON, [YBR422_SCRIPT], { input: JSON.stringify(specs.map(([n, ...rest]) => [join(dir, `${n}.dcm`), ...rest])), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const pydicom = JSON.parse(r.stdout) as Record<string, { samples?: number[]; error?: string }>;
    const checked = { pydicom: 0, gdcm: 0, dcm2pnm: 0 };
    for (const [name, photometric, rows, columns, frameCount, bits] of specs) {
      const file = join(dir, `${name}.dcm`);
      const frames = await framesOf(file);
      assert.equal(frames.length, frameCount);
      const pixels = rows * columns;
      for (const f of frames) {
        assert.equal(f.photometricInterpretation, photometric === 'YBR_FULL_422' ? 'YBR_FULL' : 'YBR_PARTIAL');
        assert.equal(f.data.length, pixels * 3);
        assert.equal(f.data.BYTES_PER_ELEMENT, bits / 8);
      }
      const ours = frames.flatMap((f) => [...f.data]);
      // 1. pydicom upsamples YBR_FULL_422 of even pixel counts (odd widths included) at 8 bits.
      const py = pydicom[file]!;
      if (photometric === 'YBR_FULL_422' && bits === 8 && pixels % 2 === 0) {
        assert.ok(py.samples, `${name}: pydicom: ${py.error}`);
        assert.deepEqual(ours, py.samples, `${name}: against pydicom's pixel_array`);
        checked.pydicom++;
      }
      // 2. GDCM upsamples single-frame 8-bit YBR_FULL_422 when it compresses to RLE (as YBR_FULL).
      if (photometric === 'YBR_FULL_422' && bits === 8 && frameCount === 1) {
        const rle = join(dir, `${name}.gdcm-rle.dcm`);
        const raw = join(dir, `${name}.gdcm-rle.raw.dcm`);
        execFileSync('gdcmconv', ['--rle', file, rle]);
        execFileSync('dcmdrle', [rle, raw], { env: dcmtkEnv });
        const g = (await framesOf(raw))[0]!;
        assert.equal(g.photometricInterpretation, 'YBR_FULL');
        // With an odd pixel count GDCM leaves the last pixel, which has no chroma of its own, at 0.
        const compared = pixels % 2 === 0 ? pixels * 3 : (pixels - 1) * 3;
        assert.deepEqual([...frames[0]!.data.subarray(0, compared)], interleaved(g).slice(0, compared), `${name}: against GDCM`);
        checked.gdcm++;
      }
      if (pixels % 2 === 1) {
        // Tracer's choice for the lone last pixel: its own Y, the chroma of the pair before it.
        const raw = readFileSync(file);
        const f = frames[0]!;
        const last = (pixels - 1) * 3;
        // Pixel Data ends the file: 2 × 9 = 18 bytes, the lone Y is the second to last byte.
        assert.equal(f.data[last], raw[raw.length - 2]);
        assert.deepEqual([f.data[last + 1], f.data[last + 2]], [f.data[last - 2], f.data[last - 1]]);
      }
      // 3. DCMTK renders every one of them (YBR to RGB), frame by frame.
      for (let i = 0; i < frameCount; i++) {
        const mine = join(dir, `${name}.${i}.tracer.png`);
        const theirs = join(dir, `${name}.${i}.dcm2pnm.png`);
        execFileSync(process.execPath, [TRACER_BIN, 'render', '--frame', String(i + 1), file, '-o', mine]);
        execFileSync('dcm2pnm', ['--write-png', '+F', String(i + 1), file, theirs], { env: dcmtkEnv });
        const a = decodePng(readFileSync(mine)), b = decodePng(readFileSync(theirs));
        assert.equal(a.data.length, b.data.length);
        // DCMTK leaves the lone last pixel of an odd pixel count black.
        const compared = pixels % 2 === 0 ? a.data.length : a.data.length - 3;
        let max = 0;
        for (let k = 0; k < compared; k++) max = Math.max(max, Math.abs(a.data[k]! - b.data[k]!));
        assert.ok(max <= 2, `${name} frame ${i + 1}: rendered ${max} levels away from dcm2pnm`);
        checked.dcm2pnm++;
      }
    }
    t.diagnostic(`compared with pydicom ${checked.pydicom}, GDCM ${checked.gdcm}, dcm2pnm ${checked.dcm2pnm} times`);
    assert.deepEqual(checked, { pydicom: 3, gdcm: 3, dcm2pnm: 11 });
    // The upsampled partial-range samples have no Photometric Interpretation to be stored under.
    const partial = readDicomFile(join(dir, 'partial-6x2.dcm'));
    try {
      await assert.rejects(transcode(partial.dataset, partial.transferSyntaxUID, TS.RLELossless), /YBR_PARTIAL_422 \(retired/);
      // Between native syntaxes the samples are not touched, so that works.
      assert.equal((await transcode(partial.dataset, partial.transferSyntaxUID, TS.ImplicitVRLittleEndian)).lossy, false);
    } finally {
      partial.source.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
