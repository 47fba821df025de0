/**
 * The JPEG processes beyond Baseline and SV1, against DCMTK (PS3.5 A.4.1, T.81):
 * - dcmcjpeg writes JPEG Extended (+ee, .51: 8-bit Process 2 and 12-bit Process 4), the
 *   retired Spectral Selection (+es, .53) and Full Progression (+ep, .55) processes, and
 *   Lossless Process 14 with every predictor and a point transform (+el +sv N +pt P, .57), of
 *   8-bit mono multi-frame, 8-bit RGB, 12-bit CT and 16-bit NM images. Tracer decodes every
 *   frame exactly as dcmdjpeg does (the same IJG 6b code line); lossless ones also as GDCM.
 * - The arithmetic-coded retired processes (3, 5, 7, 9, 11, 13, 15: .52, .54, .56, .58) have no
 *   decoder here, nor in DCMTK 3.6.7 or GDCM 3.0: libjpeg-turbo's jpegtran -arithmetic recodes
 *   DCMTK's Huffman streams, and all three refuse them; Tracer says why.
 * - JPEG Extended cannot be written (dcmjs-codecs refuses lossy JPEG at any depth but 8):
 *   `tracer convert` says so and names what to use instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TS } from '../../src/dicom/dictionary/index.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import { writeDicomFile } from '../../src/dicom/write.js';
import { encapsulate, frameFragments } from '../../src/pixels/encapsulation.js';
import { numberOfFrames } from '../../src/pixels/frame.js';
import { jpegFrameHeader } from '../../src/pixels/codecs/jpeg.js';
import { requireTools } from '../helpers/peers.js';
import { dcmtkEnv, tracer } from '../helpers/storescp.js';
import { ct12, nmMultiFrame, rgb8, writeImage, type SyntheticImage } from '../helpers/images.js';
import { framesOf, interleaved, maxDiff } from '../helpers/frames.js';

const mono8: SyntheticImage = {
  rows: 90, columns: 77, samplesPerPixel: 1, bitsAllocated: 8, bitsStored: 8, signed: false, frames: 2, photometric: 'MONOCHROME2', sopClass: '1.2.840.10008.5.1.4.1.1.7',
  value: (f, r, c) => (r * 3 + c * 2 + f * 40 + ((r * c) % 13)) & 255,
};

function tsOf(path: string): string {
  const f = readDicomFile(path, { stopAtTag: 0x00080000 });
  f.source.close();
  return f.transferSyntaxUID;
}

/** SOF marker numbers of every frame's stream. */
function sofsOf(path: string): number[] {
  const f = readDicomFile(path);
  try {
    const n = numberOfFrames(f.dataset);
    return Array.from({ length: n }, (_, i) => jpegFrameHeader(frameFragments(f.dataset.get(0x7fe00010)!, n, i, f.dataset))!.sof);
  } finally {
    f.source.close();
  }
}

test('JPEG Extended, Spectral Selection, Full Progression and Lossless (all predictors) from dcmcjpeg decode as dcmdjpeg decodes them', async (t) => {
  if (!requireTools(t, 'dcmcjpeg', 'dcmdjpeg', 'gdcmconv')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-jpeg-proc-'));
  try {
    const images: Record<string, SyntheticImage> = { mono8, rgb8: rgb8(), ct12: ct12(), nm16: nmMultiFrame(3) };
    // dcmcjpeg options → the syntax and SOF marker (T.81 B.1.1.3) it must produce.
    const processes: [string, string[], string, number][] = [
      ['extended', ['+ee'], TS.JPEGExtended12Bit, 1],
      ['spectral', ['+es'], TS.JPEGSpectralSelectionNonHierarchical68, 2],
      ['progressive', ['+ep'], TS.JPEGFullProgressionNonHierarchical1012, 2],
      ...[2, 3, 4, 5, 6, 7].map((sv): [string, string[], string, number] => [`lossless-sv${sv}`, ['+el', '+sv', String(sv)], TS.JPEGLossless, 3]),
      ['lossless-sv1-pt2', ['+el', '+sv', '1', '+pt', '2'], TS.JPEGLossless, 3],
    ];
    let compared = 0;
    for (const [name, im] of Object.entries(images)) {
      const src = join(dir, `${name}.dcm`);
      writeImage(src, im);
      for (const [proc, opts, ts, sof] of processes) {
        const enc = join(dir, `${name}.${proc}.dcm`);
        const ref = join(dir, `${name}.${proc}.dcmdjpeg.dcm`);
        execFileSync('dcmcjpeg', [...opts, src, enc], { env: dcmtkEnv });
        assert.equal(tsOf(enc), ts, `${name} ${proc}: syntax written by dcmcjpeg`);
        // Extended 8-bit streams may be baseline-compatible (SOF0); 12-bit ones are SOF1.
        const sofs = sofsOf(enc);
        assert.ok(sofs.every((s) => s === sof || (proc === 'extended' && s === 0 && im.bitsStored <= 8)), `${name} ${proc}: SOF ${sofs.join(',')}`);
        execFileSync('dcmdjpeg', [enc, ref], { env: dcmtkEnv });
        const ours = await framesOf(enc);
        const theirs = await framesOf(ref);
        assert.equal(ours.length, im.frames);
        assert.equal(theirs.length, im.frames);
        for (let i = 0; i < ours.length; i++) {
          assert.equal(ours[i]!.photometricInterpretation, theirs[i]!.photometricInterpretation, `${name} ${proc} frame ${i}`);
          assert.equal(maxDiff(interleaved(ours[i]!), interleaved(theirs[i]!)), 0, `${name} ${proc} frame ${i}: against dcmdjpeg`);
          compared++;
        }
        if (ts === TS.JPEGLossless) {
          const g = join(dir, `${name}.${proc}.gdcm.dcm`);
          execFileSync('gdcmconv', ['--raw', enc, g]);
          const gf = await framesOf(g);
          for (let i = 0; i < ours.length; i++) assert.equal(maxDiff(interleaved(ours[i]!), interleaved(gf[i]!)), 0, `${name} ${proc} frame ${i}: against gdcmconv --raw`);
        }
      }
    }
    t.diagnostic(`${compared} frames compared with dcmdjpeg`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('arithmetic-coded JPEG (retired Processes 3 and 11) is refused with the reason, as DCMTK and GDCM refuse it', async (t) => {
  if (!requireTools(t, 'dcmcjpeg', 'dcmdjpeg', 'gdcmconv', 'jpegtran')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-jpeg-arith-'));
  try {
    const src = join(dir, 'mono8.dcm');
    writeImage(src, mono8);
    // Sequential (SOF9, Process 3) and progressive (SOF10, Process 11) arithmetic coding.
    for (const [opt, ts, sof, recode] of [['+ee', TS.JPEGExtended35, 9, []], ['+ep', TS.JPEGFullProgressionNonHierarchical1113, 10, ['-progressive']]] as const) {
      const huffman = join(dir, `h${opt}.dcm`);
      execFileSync('dcmcjpeg', [opt, src, huffman], { env: dcmtkEnv });
      // The same coefficients, arithmetic-coded by libjpeg-turbo, relabelled with the arithmetic syntax.
      const f = readDicomFile(huffman);
      const n = numberOfFrames(f.dataset);
      const streams = Array.from({ length: n }, (_, i) => execFileSync('jpegtran', ['-arithmetic', ...recode], { input: frameFragments(f.dataset.get(0x7fe00010)!, n, i, f.dataset) }));
      encapsulate(f.dataset, streams);
      const arith = join(dir, `a${opt}.dcm`);
      f.meta.setString(0x00020010, 'UI', ts);
      writeDicomFile(arith, { dataset: f.dataset, meta: f.meta, transferSyntaxUID: ts });
      f.source.close();
      assert.deepEqual(sofsOf(arith), [sof, sof]);
      await assert.rejects(framesOf(arith), /arithmetic-coded JPEG \(SOF\d+, T\.81 Annex D\) cannot be decoded/);
      const conv = await tracer(['convert', '--ts', 'explicit', arith, join(dir, 'x.dcm')]);
      assert.notEqual(conv.code, 0);
      assert.match(conv.stderr, /arithmetic-coded JPEG/);
      assert.notEqual(spawnSync('dcmdjpeg', [arith, join(dir, 'd.dcm')], { env: dcmtkEnv }).status, 0, 'dcmdjpeg refuses it too');
      assert.notEqual(spawnSync('gdcmconv', ['--raw', arith, join(dir, 'g.dcm')]).status, 0, 'gdcmconv refuses it too');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JPEG Extended (12-bit lossy) cannot be written: the library refuses it, and tracer convert says why and what to use instead', async (t) => {
  if (!requireTools(t, 'dcmcjpeg')) return;
  // The codec library itself: lossy JPEG at 12 bits is refused whatever the parameters.
  const lib = createRequire(import.meta.url)('dcmjs-codecs') as {
    log: { setLevel(l: string): void };
    NativeCodecs: { initializeAsync(): Promise<void>; encodeJpeg(ctx: unknown, p: Record<string, unknown>): { getEncodedBuffer(): Uint8Array } };
    Context: new (a: Record<string, unknown>) => unknown;
  };
  lib.log.setLevel('silent');
  await lib.NativeCodecs.initializeAsync();
  const px = new Uint16Array(64 * 64).map((_, i) => (i * 37) % 4096);
  const ctx = (bitsStored: number) => new lib.Context({ width: 64, height: 64, bitsAllocated: 16, bitsStored, samplesPerPixel: 1, pixelRepresentation: 0, planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2', decodedBuffer: new Uint8Array(px.buffer) });
  for (const params of [{ lossy: true, quality: 90 }, { lossy: true, quality: 50, sampleFactor: 'Sf444' }, { lossy: true, smoothingFactor: 10 }]) {
    assert.throws(() => lib.NativeCodecs.encodeJpeg(ctx(12), params), /Unsupported lossy Jpeg bit depth \(12\)/);
  }
  // (Its 12-bit build does encode lossless.)
  assert.equal(jpegFrameHeader(lib.NativeCodecs.encodeJpeg(ctx(12), { lossy: false }).getEncodedBuffer())!.sof, 3);

  const dir = mkdtempSync(join(tmpdir(), 'tracer-jpeg-ext-'));
  try {
    const src = join(dir, 'ct12.dcm');
    writeImage(src, ct12());
    for (const args of [['--ts', 'jpeg-extended', '--lossy'], ['--ts', 'jpeg-extended'], ['--ts', TS.JPEGExtended12Bit, '--lossy', '--quality', '80']]) {
      const r = await tracer(['convert', ...args, src, join(dir, 'x.dcm')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Tracer cannot write JPEG Extended \(Process 2 and 4\) \(1\.2\.840\.10008\.1\.2\.4\.51\)/);
      assert.match(r.stderr, /8-bit samples only/);
      assert.match(r.stderr, /jpeg-baseline .*j2k .*jpeg-ls-lossy .*jpeg-lossless/);
    }
    // DCMTK, which the message names, does write it from the same image.
    execFileSync('dcmcjpeg', ['+ee', src, join(dir, 'ee.dcm')], { env: dcmtkEnv });
    assert.equal(tsOf(join(dir, 'ee.dcm')), TS.JPEGExtended12Bit);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
