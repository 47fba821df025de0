/**
 * JPEG-LS near-lossless (1.2.840.10008.1.2.4.81, T.87 with NEAR > 0) against DCMTK and GDCM.
 * pydicom's corpus has no near-lossless file, so the peers make them:
 * - dcmcjpls +en +md N and gdcmconv --jpegls --lossy -e N streams decode in Tracer exactly as
 *   dcmdjpls decodes them (JPEG-LS decoding is fully specified), within N of the original;
 * - Tracer's own encoding (tracer convert --near N) decodes in dcmdjpls and gdcmconv --raw to
 *   the same samples as in Tracer, every sample within N of the original (stored values, so a
 *   sample pushed past Bits Stored would show), with NEAR = N and P = Bits Stored in the stream
 *   and the lossy attributes of PS3.3 C.7.6.1.1.5 set.
 * Images: 8-bit mono multi-frame, 8-bit RGB, 12-bit CT, 12-bit with runs at 0 and 4095, 8 bits
 * in 16, 16-bit NM multi-frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TS } from '../../src/dicom/dictionary/index.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import { frameFragments } from '../../src/pixels/encapsulation.js';
import { numberOfFrames } from '../../src/pixels/frame.js';
import { requireTools } from '../helpers/peers.js';
import { dcmtkEnv } from '../helpers/storescp.js';
import { run as convert } from '../../src/cli/convert.js';
import { ct12, nmMultiFrame, rgb8, writeImage, type SyntheticImage } from '../helpers/images.js';
import { framesOf, maxDiff, stored } from '../helpers/frames.js';

const MR = '1.2.840.10008.5.1.4.1.1.4';
const IMAGES: Record<string, SyntheticImage> = {
  mono8: {
    rows: 90, columns: 77, samplesPerPixel: 1, bitsAllocated: 8, bitsStored: 8, signed: false, frames: 2, photometric: 'MONOCHROME2', sopClass: MR,
    value: (f, r, c) => (r * 3 + c * 2 + f * 40 + ((r * c) % 13)) & 255,
  },
  rgb8: rgb8(),
  ct12: ct12(),
  // Runs at both ends of the 12-bit range, where a reconstruction could leave it.
  sat12: {
    rows: 64, columns: 64, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, signed: false, frames: 1, photometric: 'MONOCHROME2', sopClass: MR,
    value: (_f, r, c) => (r < 20 ? 4095 - ((r * c) % 3) : r < 40 ? (r * c) % 3 : (c * r * 31) % 4096),
  },
  'mono8in16': {
    rows: 40, columns: 50, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 8, signed: false, frames: 1, photometric: 'MONOCHROME2', sopClass: MR,
    value: (_f, r, c) => (r * 5 + c * 3 + ((r * c) % 7)) & 255,
  },
  nm16: nmMultiFrame(3),
};

/** NEAR and P of every frame's JPEG-LS stream (T.87 C.2.2 frame header, C.2.3 scan header). */
function streamParameters(path: string): { near: number; precision: number }[] {
  const f = readDicomFile(path);
  try {
    const n = numberOfFrames(f.dataset);
    return Array.from({ length: n }, (_, i) => {
      const b = frameFragments(f.dataset.get(0x7fe00010)!, n, i, f.dataset);
      const sof = b.findIndex((v, k) => v === 0xff && b[k + 1] === 0xf7);
      const sos = b.findIndex((v, k) => v === 0xff && b[k + 1] === 0xda);
      assert.ok(sof > 0 && sos > sof, 'SOF55 and SOS present');
      const ns = b[sos + 4]!;
      return { precision: b[sof + 4]!, near: b[sos + 5 + 2 * ns]! };
    });
  } finally {
    f.source.close();
  }
}

function tsOf(path: string): string {
  const f = readDicomFile(path, { stopAtTag: 0x00080000 });
  f.source.close();
  return f.transferSyntaxUID;
}

test('near-lossless streams from dcmcjpls and gdcmconv decode as dcmdjpls decodes them, within NEAR of the original', async (t) => {
  if (!requireTools(t, 'dcmcjpls', 'dcmdjpls', 'gdcmconv')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-jls-near-'));
  try {
    let compared = 0;
    for (const [name, im] of Object.entries(IMAGES)) {
      const src = join(dir, `${name}.dcm`);
      writeImage(src, im);
      const original = await framesOf(src);
      for (const near of [1, 3]) {
        const encoders: [string, string, string[]][] = [
          ['dcmcjpls', join(dir, `${name}.${near}.dcmtk.dcm`), ['+en', '+md', String(near)]],
          ['gdcmconv', join(dir, `${name}.${near}.gdcm.dcm`), ['--jpegls', '--lossy', '-e', String(near)]],
        ];
        for (const [tool, enc, args] of encoders) {
          execFileSync(tool, [...args, src, enc], { env: dcmtkEnv, stdio: ['ignore', 'ignore', 'pipe'] });
          assert.equal(tsOf(enc), TS.JPEGLSNearLossless, `${tool} ${name}: syntax`);
          assert.ok(streamParameters(enc).every((p) => p.near === near), `${tool} ${name}: NEAR ${near} in the stream`);
          const ref = `${enc}.dcmdjpls.dcm`;
          execFileSync('dcmdjpls', [enc, ref], { env: dcmtkEnv });
          const ours = await framesOf(enc);
          const theirs = await framesOf(ref);
          assert.equal(ours.length, original.length);
          for (let i = 0; i < ours.length; i++) {
            assert.equal(maxDiff(ours[i]!.data, theirs[i]!.data), 0, `${tool} ${name} NEAR ${near} frame ${i}: against dcmdjpls`);
            // GDCM 3.0 codes 9-15 stored bits with P = 16, so its samples stay within NEAR in
            // the 16-bit container but may leave Bits Stored (12-bit 4095 → 4096): the stored
            // values are compared for DCMTK's streams (P = Bits Stored) only.
            const limit = tool === 'dcmcjpls' ? maxDiff(stored(ours[i]!), stored(original[i]!)) : maxDiff(ours[i]!.data, original[i]!.data);
            assert.ok(limit <= near, `${tool} ${name} NEAR ${near} frame ${i}: within NEAR of the original (${limit})`);
            compared++;
          }
        }
      }
    }
    t.diagnostic(`${compared} frames compared`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Tracer\'s near-lossless encoding: dcmdjpls and gdcmconv decode every sample within NEAR of the original', async (t) => {
  if (!requireTools(t, 'dcmdjpls', 'gdcmconv', 'dcmdump')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-jls-near-enc-'));
  try {
    let compared = 0;
    for (const [name, im] of Object.entries(IMAGES)) {
      const src = join(dir, `${name}.dcm`);
      writeImage(src, im);
      const original = await framesOf(src);
      for (const near of [0, 1, 3, 7]) {
        const enc = join(dir, `${name}.${near}.dcm`);
        assert.equal(await convert(['--ts', 'jpeg-ls-lossy', '--lossy', '--near', String(near), src, enc]), 0);
        assert.equal(tsOf(enc), TS.JPEGLSNearLossless);
        for (const p of streamParameters(enc)) assert.deepEqual(p, { near, precision: im.bitsStored }, `${name}: NEAR and P in the stream`);
        const dump = execFileSync('dcmdump', ['-q', '+P', '0028,0100', '+P', '0028,2110', '+P', '0028,2114', enc], { env: dcmtkEnv, encoding: 'utf8' });
        assert.equal(Number(/\(0028,0100\) US (\d+)/.exec(dump)![1]), im.bitsStored <= 8 ? 8 : im.bitsAllocated, `${name}: Bits Allocated as dcmcjpls sets it`);
        assert.match(dump, /\(0028,2110\) CS \[01\]/);
        assert.match(dump, /\(0028,2114\) CS \[ISO_14495_1\]/);
        const byDcmtk = `${enc}.dcmdjpls.dcm`;
        const byGdcm = `${enc}.gdcm.dcm`;
        execFileSync('dcmdjpls', [enc, byDcmtk], { env: dcmtkEnv });
        execFileSync('gdcmconv', ['--raw', enc, byGdcm]);
        const [ours, dcmtk, gdcm] = [await framesOf(enc), await framesOf(byDcmtk), await framesOf(byGdcm)];
        for (let i = 0; i < original.length; i++) {
          const o = stored(original[i]!);
          assert.ok(maxDiff(stored(dcmtk[i]!), o) <= near, `${name} NEAR ${near} frame ${i}: dcmdjpls within NEAR (${maxDiff(stored(dcmtk[i]!), o)})`);
          assert.equal(maxDiff(stored(gdcm[i]!), stored(dcmtk[i]!)), 0, `${name} NEAR ${near} frame ${i}: GDCM = DCMTK`);
          assert.equal(maxDiff(stored(ours[i]!), stored(dcmtk[i]!)), 0, `${name} NEAR ${near} frame ${i}: Tracer = DCMTK`);
          compared++;
        }
      }
    }
    t.diagnostic(`${compared} frames compared`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
