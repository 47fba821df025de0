/**
 * Reading and writing the uncompressed transfer syntaxes with data sets built in memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dicom/dataset.js';
import { readDicomBuffer, readDicomFile } from '../../src/dicom/part10.js';
import { encodeDicomFile } from '../../src/dicom/write.js';
import { fromJSON, toJSON } from '../../src/dicom/json.js';
import { TS } from '../../src/dicom/dictionary/index.js';
import { explicitLE, implicitLE, part10, text } from '../helpers/build.js';

function sample(): Dataset {
  const ds = new Dataset();
  ds.setString('SOPClassUID', 'UI', '1.2.840.10008.5.1.4.1.1.20');
  ds.setString('SOPInstanceUID', 'UI', '1.2.3.4.5');
  ds.setString('PatientName', 'PN', 'Doe^Jane');
  ds.setString('PatientID', 'LO', 'P1');
  ds.setString('ImageType', 'CS', ['ORIGINAL', 'PRIMARY', 'STATIC', 'EMISSION']);
  ds.setNumbers('Rows', 'US', [4]);
  ds.setNumbers('Columns', 'US', [2]);
  ds.setNumbers('FrameIncrementPointer', 'AT', [0x00540010]);
  ds.setNumbers('EnergyWindowVector', 'US', [1, 1]);
  ds.setString('PixelSpacing', 'DS', ['1.5', '2.25']);
  const item = new Dataset();
  item.setString('EnergyWindowName', 'SH', 'PEAK');
  ds.setSequence('EnergyWindowInformationSequence', [item]);
  ds.setNumbers('PixelData', 'OW', [1, 2, 3, 4, 5, 6, 7, 65535]);
  return ds;
}

for (const ts of [TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.ExplicitVRBigEndian, TS.DeflatedExplicitVRLittleEndian]) {
  test(`write and read back in ${ts}`, () => {
    const buf = Buffer.concat([...encodeDicomFile({ dataset: sample(), transferSyntaxUID: ts })]);
    const f = readDicomBuffer(buf);
    assert.equal(f.transferSyntaxUID, ts);
    assert.equal(f.meta.string('MediaStorageSOPInstanceUID'), '1.2.3.4.5');
    const ds = f.dataset;
    assert.equal(ds.string('PatientName'), 'Doe^Jane');
    assert.deepEqual(ds.strings('ImageType'), ['ORIGINAL', 'PRIMARY', 'STATIC', 'EMISSION']);
    assert.equal(ds.number('Rows'), 4);
    assert.deepEqual(ds.numbers('PixelSpacing'), [1.5, 2.25]);
    assert.deepEqual(ds.values('FrameIncrementPointer'), [0x00540010]);
    assert.equal(ds.sequence('EnergyWindowInformationSequence')[0]!.string('EnergyWindowName'), 'PEAK');
    assert.deepEqual(ds.numbers('PixelData'), [1, 2, 3, 4, 5, 6, 7, 65535]);
    // Writing it again in the same syntax gives the same bytes.
    const again = Buffer.concat([...encodeDicomFile({ dataset: f.dataset, meta: f.meta, transferSyntaxUID: ts, preamble: f.preamble })]);
    if (ts !== TS.DeflatedExplicitVRLittleEndian) assert.ok(again.equals(buf));
  });
}

test('big endian bytes are swapped per VR (PS3.5 7.3)', () => {
  const buf = Buffer.concat([...encodeDicomFile({ dataset: sample(), transferSyntaxUID: TS.ExplicitVRBigEndian })]);
  // (0028,0010) Rows US 4 in big endian: 00 28 00 10 'US' 00 02 00 04
  const i = buf.indexOf(Buffer.from([0x00, 0x28, 0x00, 0x10, 0x55, 0x53, 0x00, 0x02, 0x00, 0x04]));
  assert.ok(i > 0);
});

test('implicit VR: private elements get their VR through the creator of their block', () => {
  const ds = Buffer.concat([
    implicitLE(0x0008, 0x0016, text('1.2.840.10008.5.1.4.1.1.20', '\0')),
    implicitLE(0x7011, 0x0013, text('TOSHIBA_MEC_NM3A')),
    implicitLE(0x7011, 0x1310, Buffer.from([5, 0, 0, 0])), // (7011,xx10) OM Line Position SL, block 13
  ]);
  const f = readDicomBuffer(part10(TS.ImplicitVRLittleEndian, ds));
  const el = f.dataset.get(0x70111310)!;
  assert.equal(el.vr, 'SL');
  assert.deepEqual(f.dataset.values(0x70111310), [5]);
  assert.equal(f.dataset.get(0x70110013)!.vr, 'LO');
});

test('UN of a known attribute is re-interpreted, and written back as it came', () => {
  const pn = text('Doe^John');
  const ds = Buffer.concat([
    explicitLE(0x0008, 0x0016, 'UI', text('1.2.840.10008.5.1.4.1.1.7', '\0')),
    explicitLE(0x0010, 0x0010, 'UN', pn),
  ]);
  const buf = part10(TS.ExplicitVRLittleEndian, ds);
  const f = readDicomBuffer(buf);
  assert.equal(f.dataset.get('PatientName')!.vr, 'PN');
  assert.equal(f.dataset.string('PatientName'), 'Doe^John');
  const out = Buffer.concat([...encodeDicomFile({ dataset: f.dataset, meta: f.meta, transferSyntaxUID: f.transferSyntaxUID, preamble: f.preamble })]);
  assert.ok(out.equals(buf));
});

test('large values stay in the file until read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-rw-'));
  try {
    const pixels = Buffer.alloc(4 << 20);
    for (let i = 0; i < pixels.length; i += 4096) pixels[i] = i / 4096;
    const ds = Buffer.concat([
      explicitLE(0x0008, 0x0016, 'UI', text('1.2.840.10008.5.1.4.1.1.20', '\0')),
      explicitLE(0x7fe0, 0x0010, 'OW', pixels),
    ]);
    const p = join(dir, 'big.dcm');
    writeFileSync(p, part10(TS.ExplicitVRLittleEndian, ds));
    const f = readDicomFile(p);
    const el = f.dataset.get('PixelData')!;
    assert.equal(el.isLazy, true);
    assert.equal(el.length, pixels.length);
    assert.ok(el.bytes().equals(pixels));
    assert.ok(el.slice(4096 * 7, 1).equals(Buffer.from([7])));
    f.source.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a 2 GB multi-frame file parses without reading or copying its pixel data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-rw-'));
  try {
    const size = 2 ** 31;
    const header = part10(TS.ExplicitVRLittleEndian, Buffer.concat([
      explicitLE(0x0008, 0x0016, 'UI', text('1.2.840.10008.5.1.4.1.1.20', '\0')),
      explicitLE(0x0028, 0x0008, 'IS', text('8192')),
      Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0, 0]), u32(size),
    ]));
    const p = join(dir, 'huge.dcm');
    // A sparse file: 2 GB of pixel data that take no disk space.
    const fd = openSync(p, 'w');
    writeSync(fd, header);
    ftruncateSync(fd, header.length + size);
    closeSync(fd);
    const before = process.memoryUsage();
    const f = readDicomFile(p);
    const el = f.dataset.get('PixelData')!;
    const after = process.memoryUsage();
    assert.equal(el.length, size);
    assert.equal(el.isLazy, true);
    assert.equal(f.dataset.number('NumberOfFrames'), 8192);
    assert.ok(after.arrayBuffers - before.arrayBuffers < 8 << 20, `grew by ${after.arrayBuffers - before.arrayBuffers} bytes`);
    assert.ok(after.rss - before.rss < 64 << 20, `RSS grew by ${after.rss - before.rss} bytes`);
    // A frame near the end is read on its own.
    assert.ok(el.slice(size - 65536, 65536).equals(Buffer.alloc(65536)));
    f.source.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('encapsulated pixel data: Basic Offset Table and fragments', () => {
  const frag = (b: Buffer) => Buffer.concat([Buffer.from([0xfe, 0xff, 0x00, 0xe0]), u32(b.length), b]);
  const ds = Buffer.concat([
    explicitLE(0x0008, 0x0016, 'UI', text('1.2.840.10008.5.1.4.1.1.20', '\0')),
    Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    frag(Buffer.concat([u32(0), u32(12)])),
    frag(Buffer.from('abcd')), frag(Buffer.from('ef')), frag(Buffer.from('ghij')),
    Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]),
  ]);
  const buf = part10('1.2.840.10008.1.2.4.70', ds);
  const f = readDicomBuffer(buf);
  const el = f.dataset.get('PixelData')!;
  assert.equal(el.fragments!.length, 4);
  assert.equal(el.fragmentBytes(el.fragments![2]!).toString(), 'ef');
  const out = Buffer.concat([...encodeDicomFile({ dataset: f.dataset, meta: f.meta, transferSyntaxUID: f.transferSyntaxUID, preamble: f.preamble })]);
  assert.ok(out.equals(buf));
});

test('DICOM JSON (PS3.18 F.2) both ways', () => {
  const json = toJSON(sample());
  assert.deepEqual(json['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] });
  assert.deepEqual(json['00280030'], { vr: 'DS', Value: [1.5, 2.25] });
  assert.deepEqual(json['00280009'], { vr: 'AT', Value: ['00540010'] });
  assert.deepEqual(json['00540012']!.Value, [{ '00540018': { vr: 'SH', Value: ['PEAK'] } }]);
  assert.equal(json['7FE00010']!.InlineBinary, Buffer.from([1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 255, 255]).toString('base64'));
  const back = fromJSON(json);
  assert.deepEqual(toJSON(back), json);
  assert.equal(back.string('PatientName'), 'Doe^Jane');
});

test('DICOM JSON: non-ASCII text gets ISO_IR 192 and PN groups', () => {
  const ds = fromJSON({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }] } });
  assert.equal(ds.string('SpecificCharacterSet'), 'ISO_IR 192');
  assert.equal(ds.string('PatientName'), 'Yamada^Tarou=山田^太郎');
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}
