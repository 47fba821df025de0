/**
 * Codecs, encapsulation and transcoding without peers: RLE against PS3.5 Annex G by hand,
 * frames found in fragments (PS3.5 A.4), lossless round trips through every encoder, and
 * the attributes a lossy encoding must set (PS3.3 C.7.6.1.1.5, REQUIREMENTS SEND-021/023).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dicom/dataset.js';
import { TS } from '../../src/dicom/dictionary/index.js';
import { Element } from '../../src/dicom/element.js';
import { loadCodec } from '../../src/pixels/codecs/registry.js';
import { decodeRle, encodeRle } from '../../src/pixels/codecs/rle.js';
import { encapsulate, frameFragments } from '../../src/pixels/encapsulation.js';
import { describePixels, frameBytes, getFrame, getFrameInto, getFrameSync, type Frame } from '../../src/pixels/frame.js';
import { FrameDecodeError, transcode, TranscodeError } from '../../src/pixels/transcode.js';
import { encodeDicomFile, writeDicomFile } from '../../src/dicom/write.js';
import { makeImageDataset, nmMultiFrame, rgb8, signedCt, ct12 } from '../helpers/images.js';

const LOSSLESS = [TS.RLELossless, TS.JPEGLosslessSV1, TS.JPEGLossless, TS.JPEGLSLossless, TS.JPEG2000Lossless, TS.HTJ2KLossless, TS.DeflatedImageFrameCompression, TS.EncapsulatedUncompressedExplicitVRLittleEndian];

test('RLE: a segment from PS3.5 G.3 by hand decodes (literal run, replicate run, no-op 128)', () => {
  const d = { rows: 1, columns: 8, samplesPerPixel: 1, bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 0, photometricInterpretation: 'MONOCHROME2', planarConfiguration: 0, numberOfFrames: 1, sampleFormat: 'int' as const };
  const header = Buffer.alloc(64);
  header.writeUInt32LE(1, 0);
  header.writeUInt32LE(64, 4);
  // 2 literal bytes (n = 1), no-op, replicate 7 three times (n = -2 = 254), replicate 9 three times
  const seg = Buffer.from([1, 5, 6, 128, 254, 7, 254, 9]);
  const f = decodeRle(Buffer.concat([header, seg]), d);
  assert.deepEqual([...f.data], [5, 6, 7, 7, 7, 9, 9, 9]);
});

test('RLE: encode then decode is exact for 8-bit RGB, signed 16-bit, and 32-bit data; segments are even; no run crosses a row', () => {
  for (const im of [rgb8(), signedCt()]) {
    const ds = makeImageDataset(im);
    const d = describePixels(ds);
    const data = ds.get(0x7fe00010)!.bytes();
    const frame: Frame = { ...d, index: 0, data: im.bitsAllocated === 8 ? new Uint8Array(data) : new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)), transferSyntaxUID: TS.ExplicitVRLittleEndian, lossy: false };
    const enc = encodeRle(frame).data;
    const view = new DataView(enc.buffer, enc.byteOffset);
    const n = view.getUint32(0, true);
    assert.equal(n, d.samplesPerPixel * (d.bitsAllocated / 8));
    for (let s = 0; s < n; s++) assert.equal(view.getUint32(4 + 4 * s, true) % 2, 0, 'segment offsets even');
    const dec = decodeRle(enc, d);
    assert.deepEqual(Buffer.from(frameBytes(dec)), Buffer.from(frameBytes(frame)));
  }
  const d32 = { rows: 3, columns: 5, samplesPerPixel: 1, bitsAllocated: 32, bitsStored: 32, highBit: 31, pixelRepresentation: 0, photometricInterpretation: 'MONOCHROME2', planarConfiguration: 0, numberOfFrames: 1, sampleFormat: 'int' as const };
  const v = Uint32Array.from({ length: 15 }, (_, i) => (i < 5 ? 0xdeadbeef : i * 0x01010101));
  const dec = decodeRle(encodeRle({ ...d32, index: 0, data: v, transferSyntaxUID: '', lossy: false }).data, d32);
  assert.deepEqual([...dec.data], [...v]);
});

function encapsulatedDataset(fragments: Buffer[], frames: number, bot?: number[]): Dataset {
  const ds = new Dataset(true);
  ds.setNumbers(0x00280010, 'US', [1]);
  ds.setNumbers(0x00280011, 'US', [1]);
  ds.setNumbers(0x00280100, 'US', [8]);
  ds.setString(0x00280008, 'IS', String(frames));
  const el = new Element(0x7fe00010, 'OB', 0xffffffff, -1, undefined, undefined);
  const b = Buffer.alloc(4 * (bot?.length ?? 0));
  bot?.forEach((o, i) => b.writeUInt32LE(o, 4 * i));
  el.fragments = [{ offset: -1, length: b.length, data: b }, ...fragments.map((f) => ({ offset: -1, length: f.length, data: f }))];
  ds.set(el);
  return ds;
}

test('encapsulation: frames from the Basic Offset Table, one fragment per frame, codestream markers, and the Extended Offset Table', () => {
  const jpeg = (tag: number, extra = 0) => Buffer.from([0xff, 0xd8, 0xff, 0xe0, tag, extra]);
  const cont = (tag: number) => Buffer.from([0x11, tag, 0x22, 0x33]);
  // Frame 0 = 2 fragments, frame 1 = 1, frame 2 = 2: BOT gives the item offsets.
  const frags = [jpeg(0), cont(0), jpeg(1), jpeg(2), cont(2)];
  const offs = [0, (8 + 6) + (8 + 4), (8 + 6) + (8 + 4) + (8 + 6)];
  const withBot = encapsulatedDataset(frags, 3, offs);
  const el = withBot.get(0x7fe00010)!;
  assert.deepEqual([...frameFragments(el, 3, 0, withBot)], [...jpeg(0), ...cont(0)]);
  assert.deepEqual([...frameFragments(el, 3, 1, withBot)], [...jpeg(1)]);
  assert.deepEqual([...frameFragments(el, 3, 2, withBot)], [...jpeg(2), ...cont(2)]);
  // The same without a BOT: found by the SOI markers starting frames.
  const noBot = encapsulatedDataset(frags, 3);
  assert.deepEqual([...frameFragments(noBot.get(0x7fe00010)!, 3, 2, noBot)], [...jpeg(2), ...cont(2)]);
  // One fragment per frame, no markers needed.
  const plain = encapsulatedDataset([cont(1), cont(2)], 2);
  assert.deepEqual([...frameFragments(plain.get(0x7fe00010)!, 2, 1, plain)], [...cont(2)]);
  // Not enough information: a clear error.
  const bad = encapsulatedDataset([cont(1), cont(2), cont(3)], 2);
  assert.throws(() => frameFragments(bad.get(0x7fe00010)!, 2, 0, bad), /neither an offset table nor codestream markers/);
  // Extended Offset Table (PS3.5 A.4.2) wins over the rest.
  const eot = encapsulatedDataset(frags, 3);
  const o = Buffer.alloc(24);
  const l = Buffer.alloc(24);
  offs.forEach((x, i) => o.writeBigUInt64LE(BigInt(x), 8 * i));
  [10, 6, 10].forEach((x, i) => l.writeBigUInt64LE(BigInt(x), 8 * i));
  eot.setBytes(0x7fe00001, 'OV', o);
  eot.setBytes(0x7fe00002, 'OV', l);
  assert.deepEqual([...frameFragments(eot.get(0x7fe00010)!, 3, 2, eot)], [...jpeg(2), ...cont(2)]);
});

test('encapsulate: even fragments, a BOT with item offsets', () => {
  const ds = new Dataset(true);
  const el = encapsulate(ds, [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])]);
  assert.equal(el.fragments!.length, 3);
  assert.deepEqual([...el.fragments![0]!.data!], [0, 0, 0, 0, 12, 0, 0, 0]);
  assert.equal(el.fragments![1]!.length, 4);
});

test('native multi-frame: frame i is read alone (only its bytes are requested from the source)', async () => {
  const im = nmMultiFrame(300);
  const ds = makeImageDataset(im);
  const px = ds.get(0x7fe00010)!;
  const bytes = px.bytes();
  const reads: [number, number][] = [];
  const lazy = new Element(0x7fe00010, 'OW', bytes.length, 0, undefined, { size: bytes.length, read: (p: number, n: number) => { reads.push([p, n]); return bytes.subarray(p, p + n); }, close: () => undefined });
  ds.set(lazy);
  const f = await getFrame({ dataset: ds, transferSyntaxUID: TS.ExplicitVRLittleEndian }, 217);
  assert.deepEqual(reads, [[217 * 64 * 64 * 2, 64 * 64 * 2]]);
  assert.equal(f.data[64 * 10 + 5], im.value(217, 10, 5, 0));
  await assert.rejects(getFrame({ dataset: ds, transferSyntaxUID: TS.ExplicitVRLittleEndian }, 300), /frame 300 does not exist/);
});

test('transcode: every lossless syntax round-trips NM multi-frame 16-bit, signed CT and 8-bit RGB exactly; private attributes unchanged', async () => {
  for (const im of [nmMultiFrame(12), signedCt(), rgb8()]) {
    const ds = makeImageDataset(im);
    for (const ts of LOSSLESS) {
      const r = await transcode(ds, TS.ExplicitVRLittleEndian, ts);
      assert.equal(r.lossy, false);
      assert.equal(r.dataset.string(0x00080018), ds.string(0x00080018), 'lossless keeps the SOP Instance UID');
      assert.deepEqual(r.dataset.get(0x00291001)!.bytes(), Buffer.from([1, 2, 3, 4]));
      assert.equal(r.dataset.has(0x00282110), false);
      const back = await transcode(r.dataset, ts, TS.ExplicitVRLittleEndian);
      assert.deepEqual(back.dataset.get(0x7fe00010)!.bytes(), ds.get(0x7fe00010)!.bytes(), `${ts} ${im.sopClass}`);
    }
  }
});

test('transcode: lossy targets need allowLossy, then set Lossy Image Compression, ratio, method and a new SOP Instance UID', async () => {
  const rgb = makeImageDataset(rgb8());
  await assert.rejects(transcode(rgb, TS.ExplicitVRLittleEndian, TS.JPEGBaseline8Bit), (e: Error) => e instanceof TranscodeError && /lossy/.test(e.message));
  const r = await transcode(rgb, TS.ExplicitVRLittleEndian, TS.JPEGBaseline8Bit, { allowLossy: true, quality: 85 });
  assert.equal(r.lossy, true);
  assert.equal(r.dataset.string(0x00282110), '01');
  assert.equal(r.dataset.string(0x00282114), 'ISO_10918_1');
  assert.ok(Number(r.dataset.string(0x00282112)) > 1);
  assert.equal(r.dataset.string(0x00280004), 'YBR_FULL_422');
  assert.notEqual(r.dataset.string(0x00080018), rgb.string(0x00080018));
  assert.match(r.dataset.string(0x00080018)!, /^2\.25\.\d+$/);
  assert.deepEqual(r.dataset.get(0x00291001)!.bytes(), Buffer.from([1, 2, 3, 4]));
  // Decoding gives RGB back, close to the original.
  const f = await getFrame({ dataset: r.dataset, transferSyntaxUID: TS.JPEGBaseline8Bit }, 0);
  assert.equal(f.photometricInterpretation, 'RGB');
  const orig = rgb.get(0x7fe00010)!.bytes();
  // Red and green are smooth gradients (blue is a hard-edged pattern that 4:2:2 chroma blurs).
  let sum = 0;
  for (let i = 0; i < orig.length; i++) if (i % 3 !== 2) sum += Math.abs(orig[i]! - (f.data[i] as number));
  assert.ok(sum / (orig.length * 2 / 3) < 10, `mean error ${sum / (orig.length * 2 / 3)}`);
  // Twice lossy: ratio and method are appended.
  const j2k = await transcode(makeImageDataset(ct12()), TS.ExplicitVRLittleEndian, TS.JPEG2000, { allowLossy: true, ratio: 8 });
  const again = await transcode(j2k.dataset, TS.JPEG2000, TS.JPEGLSNearLossless, { allowLossy: true, near: 3 });
  assert.deepEqual(again.dataset.strings(0x00282114), ['ISO_15444_1', 'ISO_14495_1']);
  assert.equal(again.dataset.strings(0x00282112).length, 2);
});

test('transcode: an image the encoder cannot take fails with the reason', async () => {
  await assert.rejects(transcode(makeImageDataset(signedCt()), TS.ExplicitVRLittleEndian, TS.JPEGBaseline8Bit, { allowLossy: true }), /JPEG/);
});

test('transcode: a syntax Tracer reads but cannot write is refused with why and what to use instead', async () => {
  await assert.rejects(transcode(makeImageDataset(ct12()), TS.ExplicitVRLittleEndian, TS.JPEGExtended12Bit, { allowLossy: true }),
    (e: Error) => e instanceof TranscodeError && /cannot write JPEG Extended.*8-bit samples only.*Use jpeg-baseline/.test(e.message));
  await assert.rejects(transcode(makeImageDataset(rgb8()), TS.ExplicitVRLittleEndian, TS.JPEGFullProgressionNonHierarchical1012, { allowLossy: true }), /retired \(PS3\.5 A\.4\.1\)/);
});

test('the WebAssembly codecs load without dcmjs, which only dcmjs-codecs\' data set classes use', async () => {
  await loadCodec(TS.JPEGLSLossless);
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  assert.ok(!loaded.some((k) => /[\\/]dcmjs[\\/]build[\\/]/.test(k)), `dcmjs was loaded: ${loaded.join(', ')}`);
  // And they work: a JPEG-LS round trip of a 16-bit image.
  const ds = makeImageDataset(nmMultiFrame(2));
  const back = await transcode((await transcode(ds, TS.ExplicitVRLittleEndian, TS.JPEGLSLossless)).dataset, TS.JPEGLSLossless, TS.ExplicitVRLittleEndian);
  assert.deepEqual(back.dataset.get(0x7fe00010)!.bytes(), ds.get(0x7fe00010)!.bytes());
});

test('WebAssembly decoding: the codec context kept between frames carries nothing from one frame to the next', async () => {
  await loadCodec(TS.JPEGBaseline8Bit);
  const nm = makeImageDataset(nmMultiFrame(3));
  const rgb = makeImageDataset(rgb8());
  const native = { dataset: nm, transferSyntaxUID: TS.ExplicitVRLittleEndian };
  const encoded = async (ds: Dataset, ts: string) => ({ dataset: (await transcode(ds, TS.ExplicitVRLittleEndian, ts, { allowLossy: true })).dataset, transferSyntaxUID: ts });
  const ls = await encoded(nm, TS.JPEGLSLossless);
  const sv1 = await encoded(nm, TS.JPEGLosslessSV1);
  const j2k = await encoded(nm, TS.JPEG2000Lossless);
  // JPEG Baseline of RGB is stored as YBR_FULL_422: its decoder converts colour, and changes
  // the context's Photometric Interpretation and Planar Configuration as it does.
  const baseline = await encoded(rgb, TS.JPEGBaseline8Bit);
  const alone = Buffer.from(frameBytes(await getFrame(baseline, 0)));
  const order: [{ dataset: Dataset; transferSyntaxUID: string }, number][] = [[ls, 0], [baseline, 0], [sv1, 1], [j2k, 2], [baseline, 0], [ls, 2], [j2k, 0], [sv1, 0]];
  for (const [src, i] of order) {
    const f = await getFrame(src, i);
    const want = src === baseline ? alone : Buffer.from(frameBytes(getFrameSync(native, i)));
    assert.deepEqual(Buffer.from(frameBytes(f)), want, `${src.transferSyntaxUID} frame ${i}`);
    if (src === baseline) assert.equal(f.photometricInterpretation, 'RGB');
  }
  // A frame the decoder refuses leaves the next one unharmed.
  const broken = { dataset: makeImageDataset(nmMultiFrame(1)), transferSyntaxUID: TS.JPEGLSLossless };
  encapsulate(broken.dataset, [Buffer.from([0xff, 0xd8, 0xff, 0xf7, 0x00, 0x0b, 0x10, 0x00])]);
  await assert.rejects(getFrame(broken, 0), /JpegLs decoding failed/);
  assert.deepEqual(Buffer.from(frameBytes(await getFrame(ls, 1))), Buffer.from(frameBytes(getFrameSync(native, 1))));
});

test('getFrameInto: RLE and the WebAssembly decoders write a frame at its place in the caller\'s buffer, exactly', async () => {
  await loadCodec(TS.JPEGLSLossless);
  const nm = makeImageDataset(nmMultiFrame(4));
  const d = describePixels(nm);
  const size = d.rows * d.columns * 2;
  for (const ts of [TS.RLELossless, TS.JPEGLSLossless, TS.JPEGLosslessSV1, TS.JPEG2000Lossless, TS.HTJ2KLossless]) {
    const src = { dataset: (await transcode(nm, TS.ExplicitVRLittleEndian, ts)).dataset, transferSyntaxUID: ts };
    const buf = Buffer.alloc(size * 4, 0xee);
    for (const i of [2, 0, 3, 1]) {
      const f = getFrameInto(src, d, i, buf.subarray(i * size, (i + 1) * size));
      assert.equal(f.data.buffer, buf.buffer, `${ts}: frame ${i} decoded in place`);
      assert.equal(f.data.byteOffset, buf.byteOffset + i * size);
    }
    assert.deepEqual(buf, nm.get(0x7fe00010)!.bytes(), ts);
  }
  // 8 bits stored in 16 come back from JPEG 2000 as bytes, widened into the caller's buffer.
  const ct8 = makeImageDataset({ ...nmMultiFrame(2), bitsStored: 8, value: (f, r, c) => (f * 31 + r * 7 + c) & 255 });
  const d8 = describePixels(ct8);
  const src8 = { dataset: (await transcode(ct8, TS.ExplicitVRLittleEndian, TS.JPEG2000Lossless)).dataset, transferSyntaxUID: TS.JPEG2000Lossless };
  const buf8 = Buffer.alloc(size * 2, 0xee);
  for (const i of [0, 1]) getFrameInto(src8, d8, i, buf8.subarray(i * size, (i + 1) * size));
  assert.deepEqual(buf8, ct8.get(0x7fe00010)!.bytes());
});

test('transcode decodeWhenRead: the file written is the eagerly decoded one; any read of the value gives its bytes; a later bad frame fails the write', async () => {
  await loadCodec(TS.JPEGLSLossless);
  const dir = mkdtempSync(join(tmpdir(), 'tracer-when-read-'));
  try {
    // 150 frames of 8 KB: more than one of the writer's 1 MB chunks. 3 frames of 5×3 8-bit: odd total length, so the value ends with a pad byte (PS3.5 8.1.1).
    const odd = makeImageDataset({ ...nmMultiFrame(3), rows: 5, columns: 3, bitsAllocated: 8, bitsStored: 8, value: (f, r, c) => (f * 50 + r * 9 + c) & 255 });
    for (const [ds, ts] of [[makeImageDataset(nmMultiFrame(150)), TS.JPEGLSLossless], [makeImageDataset(nmMultiFrame(40)), TS.RLELossless], [odd, TS.JPEGLosslessSV1]] as const) {
      const enc = (await transcode(ds, TS.ExplicitVRLittleEndian, ts)).dataset;
      const eager = await transcode(enc, ts, TS.ExplicitVRLittleEndian);
      const lazy = await transcode(enc, ts, TS.ExplicitVRLittleEndian, { decodeWhenRead: true });
      const want = eager.dataset.get(0x7fe00010)!.bytes();
      const el = lazy.dataset.get(0x7fe00010)!;
      assert.equal(el.isLazy, true);
      assert.deepEqual(el.bytes(), want, ts);
      // Reads that start and end inside frames, and span several.
      for (const [p, n] of [[1, 7], [want.length - 9, 9], [3, want.length - 5], [0, want.length]]) assert.deepEqual(el.slice(p!, n!), want.subarray(p!, p! + n!));
      const a = join(dir, 'eager.dcm'), b = join(dir, 'lazy.dcm');
      writeDicomFile(a, { dataset: eager.dataset, transferSyntaxUID: TS.ExplicitVRLittleEndian });
      writeDicomFile(b, { dataset: lazy.dataset, transferSyntaxUID: TS.ExplicitVRLittleEndian });
      assert.deepEqual(readFileSync(b), readFileSync(a), ts);
      // A consumer that keeps every chunk (encodeDicomFile) gets chunks of their own.
      assert.deepEqual(Buffer.concat([...encodeDicomFile({ dataset: lazy.dataset, transferSyntaxUID: TS.ExplicitVRLittleEndian })]), readFileSync(a));
    }
    // Frame 2 of 3 is not JPEG-LS: the write fails with the decoder's message, and leaves no file.
    const enc = (await transcode(makeImageDataset(nmMultiFrame(3)), TS.ExplicitVRLittleEndian, TS.JPEGLSLossless)).dataset;
    const frags = [0, 1, 2].map((i) => Buffer.from(frameFragments(enc.get(0x7fe00010)!, 3, i)));
    frags[2] = Buffer.from([0xff, 0xd8, 0xff, 0xf7, 0x00, 0x0b, 0x10, 0x00]);
    encapsulate(enc, frags);
    const lazy = await transcode(enc, TS.JPEGLSLossless, TS.ExplicitVRLittleEndian, { decodeWhenRead: true });
    const out = join(dir, 'bad.dcm');
    assert.throws(() => writeDicomFile(out, { dataset: lazy.dataset, transferSyntaxUID: TS.ExplicitVRLittleEndian }), (err: Error) => err instanceof FrameDecodeError && /JpegLs decoding failed/.test(err.message));
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('bad')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
