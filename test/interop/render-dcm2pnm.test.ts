/**
 * `tracer render` against DCMTK's dcm2pnm: the same frame of the same file rendered by both,
 * the two PNGs decoded and compared pixel by pixel. pydicom's uncompressed corpus plus
 * synthetic images for what the corpus lacks (multi-frame NM, MONOCHROME1, signed 12-bit with
 * garbage high bits, Modality and VOI LUT Sequences, SIGMOID, Presentation LUT Shape, YBR_FULL,
 * 16-bit RGB, palettes), and pydicom's apply_color_lut for segmented palettes (DCMTK 3.6.7 has
 * none).
 *
 * Tracer's defaults map to dcm2pnm options: first window → +Wi 1, first VOI LUT → +Wl 1,
 * neither → +Wm (dcm2pnm's own default is no VOI, -W, which `--no-windowing` matches).
 *
 * Tolerances. Both tools truncate the real result of the same formulas, so most renderings
 * are identical. Where a window's line is evaluated differently they may differ by one in a
 * few pixels (at most 1 % of samples): Tracer computes (x − left) × 255 / (w − 1), exact when
 * the result is an integer, DCMTK offset + x × gradient, which can land just below it (NM frame
 * 20, window 1000/1234: x = 1616 is exactly 255, DCMTK gives 254); inverted output is 255 − y
 * in Tracer and a line of negative slope in DCMTK, with the same effect. YBR differs
 * systematically by up to 2: DCMTK converts 8-bit YBR through integer tables whose
 * coefficients are cut to four decimals and whose entries are truncated one by one (two
 * truncations in G); Tracer applies PS3.3 C.7.6.3.1.2's coefficients and rounds once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDicomFile } from '../../src/dicom/part10.js';
import { decodePng } from '../pixels/png-decode.js';
import { image, lutItem, pattern, words, writeImage } from '../pixels/synthetic.js';
import { DEBIAN_PYTHON, PYDICOM_DATA, requirePydicom, requireTools } from '../helpers/peers.js';

const TRACER = fileURLToPath(new URL('../../../bin/tracer', import.meta.url));
const CORPUS = join(PYDICOM_DATA, 'test_files');
const PALETTES = join(PYDICOM_DATA, 'palettes');

interface Case {
  name: string;
  file: string;
  tracer: string[];
  dcm2pnm: string[];
  tolerance: number;
  /** Differences everywhere (a different formula), not in a few pixels (rounding of the same one). */
  systematic?: boolean;
  /** DCMTK's renderer with the codec the file needs (dcm2pnm reads native and RLE data). */
  tool?: 'dcm2pnm' | 'dcmj2pnm' | 'dcml2pnm';
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

/** Renders with both tools; returns the largest difference and how many samples differ. */
function compare(dir: string, c: Case): { max: number; differing: number; samples: number } {
  const mine = join(dir, `${c.name}.tracer.png`);
  const theirs = join(dir, `${c.name}.dcm2pnm.png`);
  run(process.execPath, [TRACER, 'render', c.file, ...c.tracer, '-o', mine]);
  run(c.tool ?? 'dcm2pnm', ['--write-png', ...c.dcm2pnm, c.file, theirs]);
  const a = decodePng(readFileSync(mine));
  const b = decodePng(readFileSync(theirs));
  assert.deepEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels], `${c.name}: size or channels differ`);
  let max = 0, differing = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    if (d) differing++;
    if (d > max) max = d;
  }
  return { max, differing, samples: a.data.length };
}

/** Synthetic files, written to `dir`. */
function synthetic(dir: string): Case[] {
  const cases: Case[] = [];
  const add = (name: string, file: string, tracer: string[], dcm2pnm: string[], tolerance = 0, systematic = false) => cases.push({ name, file, tracer, dcm2pnm, tolerance, systematic });

  // NM multi-frame: 20 frames of 64×64, 16-bit unsigned, two windows; frame 5 rendered.
  const rows = 64, cols = 64, frames = 20;
  const nmVals: number[] = [];
  for (let f = 0; f < frames; f++) nmVals.push(...pattern(rows, cols, 20 * f, 1500 + 40 * f, f));
  const nm = image({ rows, columns: cols, frames, bitsAllocated: 16, pixels: words(nmVals), sopClass: '1.2.840.10008.5.1.4.1.1.20' });
  nm.setString('Modality', 'CS', 'NM');
  nm.setString('WindowCenter', 'DS', ['700', '1200.5']);
  nm.setString('WindowWidth', 'DS', ['900', '301']);
  const nmFile = writeImage(join(dir, 'nm.dcm'), nm);
  add('nm-frame5-window1', nmFile, ['--frame', '5'], ['+F', '5', '+Wi', '1']);
  add('nm-frame5-window2', nmFile, ['--frame', '5', '--use-window', '2'], ['+F', '5', '+Wi', '2']);
  add('nm-frame5-minmax', nmFile, ['--frame', '5', '--min-max'], ['+F', '5', '+Wm'], 1);
  add('nm-frame20-set-window', nmFile, ['--frame', '20', '--window', '1000,1234'], ['+F', '20', '+Ww', '1000', '1234'], 1);
  add('nm-frame5-big-endian', writeImage(join(dir, 'nm-be.dcm'), nm, '1.2.840.10008.1.2.2'), ['--frame', '5'], ['+F', '5', '+Wi', '1']);

  // MONOCHROME1, signed 12 bits in 16 with garbage above High Bit, rescale, window.
  const s12 = pattern(48, 40, -2048, 2047).map((v) => (v & 0x0fff) | 0x5000);
  const m1 = image({ rows: 48, columns: 40, bitsAllocated: 16, bitsStored: 12, signed: true, photometric: 'MONOCHROME1', pixels: words(s12) });
  m1.setString('RescaleSlope', 'DS', '2');
  m1.setString('RescaleIntercept', 'DS', '-100');
  m1.setString('WindowCenter', 'DS', '300');
  m1.setString('WindowWidth', 'DS', '5000');
  add('mono1-signed12-rescale', writeImage(join(dir, 'mono1.dcm'), m1), [], ['+Wi', '1'], 1);

  // Unsigned 12 bits with a VOI LUT Sequence (16-bit entries, gamma-like curve), no window.
  const u12 = pattern(32, 48, 0, 4095);
  const voi = image({ rows: 32, columns: 48, bitsAllocated: 16, bitsStored: 12, pixels: words(u12) });
  const curve = Array.from({ length: 3000 }, (_, i) => Math.round(65535 * Math.sqrt(i / 2999)));
  voi.setSequence('VOILUTSequence', [lutItem(600, 16, curve, 'SQRT'), lutItem(0, 12, Array.from({ length: 4096 }, (_, i) => 4095 - i))]);
  const voiFile = writeImage(join(dir, 'voilut.dcm'), voi);
  add('voi-lut-1', voiFile, [], ['+Wl', '1']);
  add('voi-lut-2', voiFile, ['--voi-lut', '2'], ['+Wl', '2']);
  add('no-windowing-12bit', voiFile, ['--no-windowing'], []);

  // 8-bit stored values through a Modality LUT Sequence (12-bit output), then a window.
  const mlut = image({ rows: 30, columns: 30, bitsAllocated: 8, pixels: Buffer.from(pattern(30, 30, 0, 255)) });
  mlut.setSequence('ModalityLUTSequence', [lutItem(0, 12, Array.from({ length: 256 }, (_, i) => Math.round(4095 * (i / 255) ** 2)))]);
  mlut.setString('WindowCenter', 'DS', '1500');
  mlut.setString('WindowWidth', 'DS', '2500');
  add('modality-lut-seq', writeImage(join(dir, 'mlut.dcm'), mlut), [], ['+Wi', '1']);

  // SIGMOID from the file; Presentation LUT Shape INVERSE on MONOCHROME2.
  const sig = image({ rows: 40, columns: 40, bitsAllocated: 16, pixels: words(pattern(40, 40, 0, 1000)) });
  sig.setString('WindowCenter', 'DS', '500');
  sig.setString('WindowWidth', 'DS', '300');
  sig.setString('VOILUTFunction', 'CS', 'SIGMOID');
  add('sigmoid', writeImage(join(dir, 'sigmoid.dcm'), sig), [], ['+Wi', '1']);
  const inv = image({ rows: 40, columns: 40, bitsAllocated: 16, pixels: words(pattern(40, 40, 0, 1000)) });
  inv.setString('WindowCenter', 'DS', '400');
  inv.setString('WindowWidth', 'DS', '700');
  inv.setString('PresentationLUTShape', 'CS', 'INVERSE');
  add('presentation-inverse', writeImage(join(dir, 'inverse.dcm'), inv), [], ['+Wi', '1'], 1);

  // YBR_FULL pixel-interleaved and planar, from an RGB pattern through C.7.6.3.1.2's equations.
  const n = 24 * 20;
  const r = pattern(24, 20, 0, 255, 0), g = pattern(24, 20, 0, 255, 2), b = pattern(24, 20, 0, 255, 4);
  const ybr = (k: number) => [
    0.299 * r[k]! + 0.587 * g[k]! + 0.114 * b[k]!,
    -0.1687 * r[k]! - 0.3313 * g[k]! + 0.5 * b[k]! + 128,
    0.5 * r[k]! - 0.4187 * g[k]! - 0.0813 * b[k]! + 128,
  ].map((v) => Math.max(0, Math.min(255, Math.round(v))));
  const inter = Buffer.alloc(n * 3), planar = Buffer.alloc(n * 3), rgb16 = Buffer.alloc(n * 6);
  for (let k = 0; k < n; k++) {
    const [y, cb, cr] = ybr(k);
    inter[3 * k] = y!; inter[3 * k + 1] = cb!; inter[3 * k + 2] = cr!;
    planar[k] = y!; planar[n + k] = cb!; planar[2 * n + k] = cr!;
    rgb16.writeUInt16LE(r[k]! * 257, 6 * k); rgb16.writeUInt16LE(g[k]! * 255, 6 * k + 2); rgb16.writeUInt16LE(b[k]! * 256 + 77, 6 * k + 4);
  }
  const color = (photometric: string, pl: number, pixels: Buffer, bits = 8) => image({ rows: 24, columns: 20, samplesPerPixel: 3, photometric, planar: pl, bitsAllocated: bits, pixels });
  add('ybr-full', writeImage(join(dir, 'ybr.dcm'), color('YBR_FULL', 0, inter)), [], [], 2, true);
  add('ybr-full-planar', writeImage(join(dir, 'ybr-planar.dcm'), color('YBR_FULL', 1, planar)), [], [], 2, true);
  add('rgb-16bit', writeImage(join(dir, 'rgb16.dcm'), color('RGB', 0, rgb16, 16)), [], []);

  // PALETTE COLOR: 8-bit indices through the Hot Iron palette of PS3.6 (8-bit entries packed
  // in bytes), and 16-bit indices through a 4096-entry table of 16-bit entries.
  const hot = readDicomFile(join(PALETTES, 'hotiron.dcm'));
  const pal8 = image({ rows: 32, columns: 32, photometric: 'PALETTE COLOR', bitsAllocated: 8, pixels: Buffer.from(pattern(32, 32, 0, 255)) });
  for (const c of ['Red', 'Green', 'Blue']) {
    pal8.setNumbers(`${c}PaletteColorLookupTableDescriptor`, 'US', hot.dataset.numbers(`${c}PaletteColorLookupTableDescriptor`));
    pal8.setBytes(`${c}PaletteColorLookupTableData`, 'OW', hot.dataset.get(`${c}PaletteColorLookupTableData`)!.bytes());
  }
  hot.source.close();
  add('palette-hotiron-8bit', writeImage(join(dir, 'pal8.dcm'), pal8), [], []);
  const pal16 = image({ rows: 32, columns: 32, photometric: 'PALETTE COLOR', bitsAllocated: 16, bitsStored: 12, pixels: words(pattern(32, 32, 0, 4200)) });
  const ramp = (f: (t: number) => number) => Array.from({ length: 4096 }, (_, i) => Math.round(65535 * Math.min(1, Math.max(0, f(i / 4095)))));
  pal16.setNumbers('RedPaletteColorLookupTableDescriptor', 'US', [4096, 0, 16]);
  pal16.setNumbers('GreenPaletteColorLookupTableDescriptor', 'US', [4096, 0, 16]);
  pal16.setNumbers('BluePaletteColorLookupTableDescriptor', 'US', [4096, 0, 16]);
  pal16.setBytes('RedPaletteColorLookupTableData', 'OW', words(ramp((t) => t * 1.5)));
  pal16.setBytes('GreenPaletteColorLookupTableData', 'OW', words(ramp((t) => t * t)));
  pal16.setBytes('BluePaletteColorLookupTableData', 'OW', words(ramp((t) => 1 - t)));
  add('palette-16bit', writeImage(join(dir, 'pal16.dcm'), pal16), [], []);
  return cases;
}

function corpus(): Case[] {
  const c = (name: string, file: string, tracer: string[], dcm2pnm: string[], tolerance = 0, systematic = false): Case => ({ name, file: join(CORPUS, file), tracer, dcm2pnm, tolerance, systematic });
  return [
    c('CT_small-default', 'CT_small.dcm', [], ['+Wm']), // signed 16-bit with rescale, no window
    c('CT_small-window', 'CT_small.dcm', ['--window=-100,800'], ['+Ww', '-100', '800']),
    c('CT_small-no-windowing', 'CT_small.dcm', ['--no-windowing'], []),
    c('CT_small-no-modality', 'CT_small.dcm', ['--no-modality', '--min-max'], ['-M', '+Wm']),
    c('CT_small-sigmoid', 'CT_small.dcm', ['--window=-100,800', '--function', 'SIGMOID'], ['+Ww', '-100', '800', '+Wfs']),
    c('CT_small-inverse', 'CT_small.dcm', ['--window=-100,800', '--presentation', 'INVERSE'], ['+Ww', '-100', '800', '+Piv'], 1),
    c('MR_small', 'MR_small.dcm', [], ['+Wi', '1']),
    c('MR_small_bigendian', 'MR_small_bigendian.dcm', [], ['+Wi', '1']),
    c('MR_small_implicit', 'MR_small_implicit.dcm', [], ['+Wi', '1']),
    c('image_dfl-8bit-deflated', 'image_dfl.dcm', [], ['+Wm']),
    c('liver_1frame-1bit', 'liver_1frame.dcm', [], ['+Wm']),
    c('rtdose_1frame-32bit', 'rtdose_1frame.dcm', [], ['+Wm']),
    c('SC_rgb_small_odd', 'SC_rgb_small_odd.dcm', [], []),
    c('ExplVR_BigEnd-rgb-planar', 'ExplVR_BigEnd.dcm', [], []),
    c('SC_ybr_full_422_uncompressed', 'SC_ybr_full_422_uncompressed.dcm', [], [], 2, true),
    // Frames from getFrame's codecs go through the same pipeline.
    c('MR_small_RLE', 'MR_small_RLE.dcm', [], ['+Wi', '1']),
    c('SC_rgb_rle_16bit', 'SC_rgb_rle_16bit.dcm', [], []),
    { ...c('JPEG-lossy-12bit', 'JPEG-lossy.dcm', [], ['+Wm']), tool: 'dcmj2pnm' },
    { ...c('SC_rgb_jpeg_dcmtk-ybr', 'SC_rgb_jpeg_dcmtk.dcm', [], []), tool: 'dcmj2pnm' },
    { ...c('MR_small_jpeg_ls_lossless', 'MR_small_jpeg_ls_lossless.dcm', [], ['+Wi', '1']), tool: 'dcml2pnm' },
  ];
}

test('tracer render matches dcm2pnm on pydicom\'s corpus and synthetic images', (t) => {
  if (!requireTools(t, 'dcm2pnm', 'dcmj2pnm', 'dcml2pnm') || !requirePydicom(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-render-'));
  try {
    const failures: string[] = [];
    const report: string[] = [];
    for (const c of [...corpus(), ...synthetic(dir)]) {
      const r = compare(dir, c);
      report.push(`${c.name}: max ${r.max}, ${r.differing}/${r.samples} differ (tolerance ${c.tolerance})`);
      if (r.max > c.tolerance || (!c.systematic && r.differing > r.samples / 100)) failures.push(report[report.length - 1]!);
    }
    t.diagnostic(report.join('\n'));
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('segmented and normal PS3.6 palettes (Fall, Summer, Spring, Hot Iron) match pydicom\'s apply_color_lut', (t) => {
  if (!requirePydicom(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-palette-'));
  try {
    for (const name of ['fall', 'summer', 'spring', 'hotiron']) {
      const src = readDicomFile(join(PALETTES, `${name}.dcm`));
      const img = image({ rows: 1, columns: 256, photometric: 'PALETTE COLOR', bitsAllocated: 8, pixels: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) });
      for (const el of src.dataset.elements()) if ((el.tag >>> 16) === 0x0028 && (el.tag & 0xffff) >= 0x1101) img.set(el);
      src.source.close();
      const file = writeImage(join(dir, `${name}.dcm`), img);
      const py = spawnSync(DEBIAN_PYTHON, ['-c', [
        'import sys, pydicom',
        'from pydicom.pixel_data_handlers.util import apply_color_lut',
        'ds = pydicom.dcmread(sys.argv[1])',
        'sys.stdout.buffer.write(apply_color_lut(ds.pixel_array, ds).astype("uint8").tobytes())',
      ].join('\n'), file]);
      assert.equal(py.status, 0, String(py.stderr));
      const out = join(dir, `${name}.png`);
      run(process.execPath, [TRACER, 'render', file, '-o', out]);
      const mine = decodePng(readFileSync(out));
      assert.equal(mine.channels, 3);
      assert.deepEqual(Buffer.from(mine.data), py.stdout, `${name}: Tracer and pydicom disagree`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tracer render: --help, bad options and missing frames are one-line errors', () => {
  const r = spawnSync(process.execPath, [TRACER, 'render', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: tracer render FILE/);
  const file = join(CORPUS, 'MR_small.dcm');
  if (!existsSync(file)) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-render-cli-'));
  try {
    const bad = spawnSync(process.execPath, [TRACER, 'render', file, '--frame', '2', '-o', join(dir, 'x.png')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /frame 2 requested, the image has 1 frame/);
    const both = spawnSync(process.execPath, [TRACER, 'render', file, '--min-max', '--window', '1,2', '-o', join(dir, 'x.png')], { encoding: 'utf8' });
    assert.equal(both.status, 1);
    assert.match(both.stderr, /choose one of/);
    const ok = spawnSync(process.execPath, [TRACER, 'render', file, '-v', '-o', join(dir, 'x.png')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /64×64, grayscale, window 600\/1600 LINEAR/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
