/**
 * The pixel pipeline against the standard's own formulas and values: window functions of
 * PS3.3 C.11.2.1.2 and C.11.2.1.3, LUT Descriptor semantics (C.11.1.1), Modality LUT and
 * rescale, Bits Stored below Bits Allocated (C.7.6.3.1), MONOCHROME1 and Presentation LUT
 * Shape, YBR to RGB (C.7.6.3.1.2), palettes normal and segmented (C.7.9.2), and the PNG writer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDicomBuffer } from '../../src/dicom/part10.js';
import { encodeDicomFile } from '../../src/dicom/write.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { applyPalette, colorToRgb, expandSegmentedLut, readPalette, ybrFullToRgb } from '../../src/pixels/color.js';
import { getFrame } from '../../src/pixels/frame.js';
import {
  applyVoiLut, lookup, modalityTransform, applyModality, parseLutDescriptor, lutEntries, presentationShape,
  toByte, windowLinear, windowLinearExact, windowSigmoid, windowsOf,
} from '../../src/pixels/lut.js';
import { encodePng } from '../../src/pixels/png.js';
import { renderFrame, renderImage, type RenderOptions } from '../../src/pixels/render.js';
import { decodePng } from './png-decode.js';
import { image, lutItem, words, type ImageSpec } from './synthetic.js';

const near = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

/** Renders a synthetic image through the whole path a file takes (encode, read, getFrame). */
async function render(ds: Dataset, options: RenderOptions = {}) {
  const file = readDicomBuffer(Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: '1.2.840.10008.1.2.1' })]));
  return renderImage(file, options);
}

function gray16(values: number[], extra: Partial<ImageSpec> = {}): Dataset {
  return image({ rows: 1, columns: values.length, bitsAllocated: 16, pixels: words(values), ...extra });
}

test('LINEAR window (C.11.2.1.2.1): edges at c − 0.5 ± (w − 1)/2, straight line between', () => {
  // c = 100, w = 11: x ≤ 94.5 → ymin, x > 104.5 → ymax.
  assert.equal(windowLinear(94.5, 100, 11), 0);
  assert.equal(windowLinear(94, 100, 11), 0);
  assert.equal(windowLinear(104.6, 100, 11), 255);
  assert.equal(windowLinear(104.5, 100, 11), 255); // ((104.5 − 99.5)/10 + 0.5)·255 = 255, still inside
  near(windowLinear(99.5, 100, 11), 127.5);
  near(windowLinear(95, 100, 11), 12.75); // ((95 − 99.5)/10 + 0.5)·255
  near(windowLinear(102, 100, 11, 10, 20), ((102 - 99.5) / 10 + 0.5) * 10 + 10);
  // The standard's note: centre 2^n−1 … here 128/256 selects 0…255, an identity on 8 bits.
  for (let x = 0; x < 256; x++) assert.equal(toByte(windowLinear(x, 128, 256)), x);
  // Width 1 is a threshold at c − 0.5.
  assert.equal(windowLinear(9.5, 10, 1), 0);
  assert.equal(windowLinear(9.6, 10, 1), 255);
});

test('LINEAR_EXACT (C.11.2.1.3.2) and SIGMOID (C.11.2.1.3.1)', () => {
  assert.equal(windowLinearExact(95, 100, 10), 0);
  assert.equal(windowLinearExact(105.01, 100, 10), 255);
  near(windowLinearExact(100, 100, 10), 127.5);
  near(windowLinearExact(97.5, 100, 10), 63.75);
  near(windowLinearExact(105, 100, 10), 255);
  near(windowSigmoid(100, 100, 40), 127.5);
  near(windowSigmoid(110, 100, 40), 255 / (1 + Math.exp(-1)));
  near(windowSigmoid(90, 100, 40) + windowSigmoid(110, 100, 40), 255); // symmetric about c
  assert.ok(windowSigmoid(-1e6, 100, 40) < 1e-9 && windowSigmoid(1e6, 100, 40) > 255 - 1e-9);
});

test('LUT Descriptor: 0 entries means 65536; first value mapped signed for signed input; LUT clamps at both ends', () => {
  assert.deepEqual(parseLutDescriptor([0, 0, 16], false), { entries: 65536, firstMapped: 0, bits: 16 });
  assert.deepEqual(parseLutDescriptor([4096, 65535 - 1023, 12], true), { entries: 4096, firstMapped: -1024, bits: 12 });
  assert.deepEqual(parseLutDescriptor([4096, 64512, 12], false), { entries: 4096, firstMapped: 64512, bits: 12 });
  const lut = { firstMapped: 10, bits: 8, data: Uint16Array.from([1, 2, 3, 4]) };
  assert.deepEqual([5, 10, 11, 12, 13, 14, 99].map((x) => lookup(lut, x)), [1, 1, 2, 3, 4, 4, 4]);
  // 8-bit entries packed in bytes (PS3.6 Annex B palettes) and one per 16-bit word.
  assert.deepEqual([...lutEntries(Buffer.from([1, 2, 3, 4]), 4, 8, true)], [1, 2, 3, 4]);
  assert.deepEqual([...lutEntries(words([1, 2, 3, 4]), 4, 8, true)], [1, 2, 3, 4]);
  assert.deepEqual([...lutEntries(words([0x100, 0x200]), 2, 8, true)], [1, 2]); // left in the high byte
  // VOI LUT output on the 8-bit scale: top eight bits of the entry.
  assert.equal(applyVoiLut({ firstMapped: 0, bits: 12, data: Uint16Array.from([0, 2048, 4095]) }, 1), 128);
  assert.equal(toByte(applyVoiLut({ firstMapped: 0, bits: 12, data: Uint16Array.from([0, 2048, 4095]) }, 2)), 255);
});

test('Modality LUT: rescale slope/intercept, Modality LUT Sequence, functional groups', () => {
  const ct = gray16([0, 1000, 2000], { signed: true });
  ct.setString('RescaleSlope', 'DS', '1');
  ct.setString('RescaleIntercept', 'DS', '-1024');
  const m = modalityTransform(ct, 0, true);
  assert.deepEqual([0, 1024, 2048].map((x) => applyModality(m, x)), [-1024, 0, 1024]);
  const pet = gray16([0]);
  pet.setString('RescaleSlope', 'DS', '0.5');
  pet.setString('RescaleIntercept', 'DS', '3');
  near(applyModality(modalityTransform(pet), 7), 6.5);
  const lutImg = gray16([0]);
  lutImg.setSequence('ModalityLUTSequence', [lutItem(2, 12, [100, 200, 300])]);
  const ml = modalityTransform(lutImg);
  assert.deepEqual([0, 2, 3, 4, 9].map((x) => applyModality(ml, x)), [100, 100, 200, 300, 300]);
  // Enhanced multi-frame: per-frame Pixel Value Transformation overrides shared.
  const enh = gray16([0, 0]);
  const pvt = (slope: string, icpt: string) => { const d = new Dataset(true); d.setString('RescaleSlope', 'DS', slope); d.setString('RescaleIntercept', 'DS', icpt); return d; };
  const group = (macro: string, item: Dataset) => { const g = new Dataset(true); g.setSequence(macro, [item]); return g; };
  enh.setSequence('SharedFunctionalGroupsSequence', [group('PixelValueTransformationSequence', pvt('2', '0'))]);
  enh.setSequence('PerFrameFunctionalGroupsSequence', [new Dataset(true), group('PixelValueTransformationSequence', pvt('3', '1'))]);
  assert.equal(applyModality(modalityTransform(enh, 0), 5), 10);
  assert.equal(applyModality(modalityTransform(enh, 1), 5), 16);
});

test('windows come with their VOI LUT Function; the first valid one is the default', async () => {
  const ds = gray16([0, 50, 100, 150, 200]);
  ds.setString('WindowCenter', 'DS', ['100', '50']);
  ds.setString('WindowWidth', 'DS', ['101', '20']);
  ds.setString('WindowCenterWidthExplanation', 'LO', ['SOFT', 'NARROW']);
  assert.deepEqual(windowsOf(ds).map((w) => [w.center, w.width, w.function, w.explanation]), [[100, 101, 'LINEAR', 'SOFT'], [50, 20, 'LINEAR', 'NARROW']]);
  const img = await render(ds);
  assert.deepEqual(img.voi, { kind: 'window', center: 100, width: 101, function: 'LINEAR', source: 'dataset' });
  assert.deepEqual([...img.data], [0, 50, 100, 150, 200].map((x) => toByte(windowLinear(x, 100, 101))));
  assert.deepEqual([...img.data], [0, 1, 128, 255, 255]);
  const second = await render(ds, { windowIndex: 1 });
  assert.deepEqual([...second.data], [0, toByte(windowLinear(50, 50, 20)), 255, 255, 255]);
  ds.setString('VOILUTFunction', 'CS', 'SIGMOID');
  const sig = await render(ds);
  assert.equal(sig.data[2], Math.floor(127.5));
  await assert.rejects(render(ds, { windowIndex: 5 }), /window 6 requested, the data set has 2/);
});

test('VOI LUT Sequence when there is no window; min-max when there is neither', async () => {
  const ds = gray16([0, 1, 2, 3, 4000]);
  ds.setSequence('VOILUTSequence', [lutItem(1, 12, [0, 1024, 4095], 'TEST')]);
  const img = await render(ds);
  assert.deepEqual(img.voi, { kind: 'lut', index: 0, explanation: 'TEST' });
  assert.deepEqual([...img.data], [0, 0, 64, 255, 255]);
  const mm = await render(gray16([100, 150, 200]));
  assert.deepEqual([...mm.data], [0, 127, 255]);
  assert.equal(mm.voi?.kind === 'window' && mm.voi.source, 'minmax');
});

test('Bits Stored below Bits Allocated: garbage above High Bit is masked, signed 12-bit sign-extended', async () => {
  // −2048, −1, 0, 2047 as 12-bit two's complement, with 0xA in the unused top nibble.
  const stored = [0x800, 0xfff, 0x000, 0x7ff].map((v) => v | 0xa000);
  const ds = gray16(stored, { bitsStored: 12, signed: true });
  const img = await render(ds, { window: { center: 0, width: 4096 } });
  const expect = [-2048, -1, 0, 2047].map((x) => toByte(windowLinear(x, 0, 4096)));
  assert.deepEqual([...img.data], expect);
  assert.deepEqual(expect, [0, 127, 127, 255]);
  // Unsigned 12 bits with High Bit 13 (two low padding bits): value 1000 stored as 1000 << 2.
  const shifted = gray16([(1000 << 2) | 0xc001, (3000 << 2) | 0x3], { bitsStored: 12, highBit: 13 });
  const s = await render(shifted, { window: { center: 2048, width: 4096 } });
  assert.deepEqual([...s.data], [1000, 3000].map((x) => toByte(windowLinear(x, 2048, 4096))));
});

test('MONOCHROME1 is inverted; Presentation LUT Shape decides when present', async () => {
  const base = () => gray16([0, 100, 200], {});
  const m2 = await render(base(), { window: { center: 100.5, width: 201 } });
  const m1ds = base(); m1ds.setString('PhotometricInterpretation', 'CS', 'MONOCHROME1');
  const m1 = await render(m1ds, { window: { center: 100.5, width: 201 } });
  assert.equal(m1.presentation, 'INVERSE');
  assert.deepEqual([...m1.data], [...m2.data].map((_, i) => toByte(255 - windowLinear([0, 100, 200][i]!, 100.5, 201))));
  assert.equal(m1.data[0], 255);
  assert.equal(m1.data[2], 0);
  // MONOCHROME1 with INVERSE (DX: "INVERSE if MONOCHROME1") is inverted once, not twice.
  m1ds.setString('PresentationLUTShape', 'CS', 'INVERSE');
  assert.deepEqual([...(await render(m1ds, { window: { center: 100.5, width: 201 } })).data], [...m1.data]);
  const inv = base(); inv.setString('PresentationLUTShape', 'CS', 'INVERSE');
  assert.equal(presentationShape(inv, 'MONOCHROME2'), 'INVERSE');
  assert.deepEqual([...(await render(inv, { window: { center: 100.5, width: 201 } })).data], [...m1.data]);
  assert.deepEqual([...(await render(inv, { window: { center: 100.5, width: 201 }, presentation: 'IDENTITY' })).data], [...m2.data]);
});

test('frames of a multi-frame image are rendered one at a time (frame 5 of 20)', async () => {
  const frames = 20, n = 4;
  const vals: number[] = [];
  for (let f = 0; f < frames; f++) for (let i = 0; i < n; i++) vals.push(f * 100 + i);
  const ds = image({ rows: 2, columns: 2, frames, bitsAllocated: 16, pixels: words(vals), sopClass: '1.2.840.10008.5.1.4.1.1.20' });
  const img = await render(ds, { frame: 4, voi: 'minmax' });
  assert.deepEqual([...img.data], [0, 85, 170, 255]);
  const w = await render(ds, { frame: 4, window: { center: 402, width: 4 } });
  assert.deepEqual([...w.data], [400, 401, 402, 403].map((x) => toByte(windowLinear(x, 402, 4))));
  await assert.rejects(render(ds, { frame: 20 }), /frame 20 does not exist/);
});

test('YBR_FULL to RGB (C.7.6.3.1.2): known colours', () => {
  // Pure red/green/blue through the forward equations of C.7.6.3.1.2, rounded, and back.
  const fwd = (r: number, g: number, b: number) => [
    Math.round(0.299 * r + 0.587 * g + 0.114 * b),
    Math.round(-0.1687 * r - 0.3313 * g + 0.5 * b + 128),
    Math.min(255, Math.round(0.5 * r - 0.4187 * g - 0.0813 * b + 128)),
  ] as const;
  for (const [rgb, tol] of [[[255, 0, 0], 2], [[0, 255, 0], 2], [[0, 0, 255], 2], [[128, 128, 128], 0], [[255, 255, 255], 0], [[0, 0, 0], 0]] as const) {
    const [y, cb, cr] = fwd(rgb[0], rgb[1], rgb[2]);
    const back = ybrFullToRgb(y, cb, cr);
    back.forEach((v, i) => assert.ok(Math.abs(v - rgb[i]!) <= tol, `${rgb} → ${[y, cb, cr]} → ${back}`));
  }
  assert.deepEqual(ybrFullToRgb(76, 85, 255), [254, 0, 0]);
  assert.deepEqual(ybrFullToRgb(128, 128, 128), [128, 128, 128]);
});

test('planar configuration 1 equals 0; samples above 8 bits keep their top byte', () => {
  const interleaved = [1, 2, 3, 4, 5, 6];
  const planar = [1, 4, 2, 5, 3, 6];
  assert.deepEqual([...colorToRgb(planar, 2, 1, 8, 'RGB')], interleaved);
  assert.deepEqual([...colorToRgb(interleaved, 2, 0, 8, 'RGB')], interleaved);
  assert.deepEqual([...colorToRgb([0xffff, 0x8000, 0x0100], 1, 0, 16, 'RGB')], [255, 128, 1]);
});

test('YBR_FULL_422 native frames (Y1 Y2 Cb Cr per pair, two bytes per pixel) render with shared chroma', async () => {
  // Y1 Y2 Cb Cr for 2×2 pixels: a grey pair and a red-ish pair.
  const ds = image({ rows: 2, columns: 2, samplesPerPixel: 3, photometric: 'YBR_FULL_422', bitsAllocated: 8, pixels: Buffer.from([128, 128, 128, 128, 76, 76, 85, 255]) });
  const img = await render(ds);
  assert.equal(img.channels, 3);
  assert.deepEqual([...img.data], [128, 128, 128, 128, 128, 128, 254, 0, 0, 254, 0, 0]);
});

test('segmented palette LUTs (C.7.9.2): discrete, linear and indirect segments', () => {
  // discrete 10,20,30; linear 2 steps to 50; indirect: 1 segment copied from offset 0.
  assert.deepEqual(expandSegmentedLut([0, 3, 10, 20, 30, 1, 2, 50, 2, 1, 0, 0]), [10, 20, 30, 40, 50, 10, 20, 30]);
  assert.deepEqual(expandSegmentedLut([0, 1, 0, 1, 4, 255]), [0, 64, 128, 191, 255]); // 63.75 → 64, 127.5 → 128, 191.25 → 191
  assert.throws(() => expandSegmentedLut([1, 2, 3]), /linear segment cannot come first/);
});

test('PALETTE COLOR: 16-bit entries keep their top byte, 8-bit packed entries pass, indices clamp', () => {
  const ds = image({ rows: 1, columns: 4, photometric: 'PALETTE COLOR', bitsAllocated: 8, pixels: Buffer.from([0, 5, 6, 9]) });
  ds.setNumbers('RedPaletteColorLookupTableDescriptor', 'US', [3, 5, 16]);
  ds.setNumbers('GreenPaletteColorLookupTableDescriptor', 'US', [3, 5, 16]);
  ds.setNumbers('BluePaletteColorLookupTableDescriptor', 'US', [3, 5, 8]);
  ds.setBytes('RedPaletteColorLookupTableData', 'OW', words([0x0000, 0x80ff, 0xffff]));
  ds.setBytes('GreenPaletteColorLookupTableData', 'OW', words([0xffff, 0x1000, 0x0000]));
  ds.setBytes('BluePaletteColorLookupTableData', 'OW', Buffer.from([7, 8, 9, 0]));
  const p = readPalette(ds);
  assert.deepEqual([...applyPalette(p, [0, 5, 6, 9], 4)], [0, 255, 7, 0, 255, 7, 128, 16, 8, 255, 0, 9]);
  // Segmented data in bytes for 8-bit tables (as the PS3.6 palettes hold them).
  const seg = image({ rows: 1, columns: 1, photometric: 'PALETTE COLOR', bitsAllocated: 8, pixels: Buffer.from([2, 0]) });
  for (const c of ['Red', 'Green', 'Blue']) {
    seg.setNumbers(`${c}PaletteColorLookupTableDescriptor`, 'US', [4, 0, 8]);
    seg.setBytes(`Segmented${c}PaletteColorLookupTableData`, 'OW', Buffer.from([0, 1, 0, 1, 3, 255]));
  }
  assert.deepEqual([...readPalette(seg).red.data], [0, 85, 170, 255]);
});

test('PNG writer: gray and RGB read back by an independent decoder, filters and CRCs valid', () => {
  for (const [w, h, ch] of [[1, 1, 1], [3, 2, 3], [17, 5, 1], [64, 33, 3]] as const) {
    const data = new Uint8Array(w * h * ch);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 3) * 11) & 0xff;
    const d = decodePng(encodePng({ width: w, height: h, channels: ch, data }));
    assert.deepEqual([d.width, d.height, d.channels], [w, h, ch]);
    assert.deepEqual(d.data, data);
  }
  assert.throws(() => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }), /4 needed/);
});

test('renderFrame takes a decoded frame directly (for the viewer, print and secondary capture)', async () => {
  const ds = gray16([0, 10, 20]);
  const file = readDicomBuffer(Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: '1.2.840.10008.1.2' })]));
  const frame = await getFrame(file, 0);
  const img = renderFrame(file.dataset, frame, { window: { center: 10.5, width: 21 } });
  assert.deepEqual({ w: img.width, h: img.height, c: img.channels }, { w: 3, h: 1, c: 1 });
  assert.deepEqual([...img.data], [0, 10, 20].map((x) => toByte(windowLinear(x, 10.5, 21))));
});
