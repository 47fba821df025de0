/**
 * Seed corpus for the reader fuzzer, made at fuzz time into a gitignored directory: small
 * valid files from pydicom's test data when installed (not committed here), and hand-made
 * files covering what the reader distinguishes: every transfer syntax family, bare data sets,
 * sequences and items of defined and undefined length, encapsulated pixel data, UN holding a
 * sequence, private blocks, character sets with ISO 2022 escapes, every VR.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Dataset } from '../../src/dicom/dataset.js';
import { Element } from '../../src/dicom/element.js';
import { PixelDataTag, UndefinedLength } from '../../src/dicom/tag.js';
import { encodeDatasetToBuffer, encodeDicomFile, TS } from '../../src/dicom/write.js';

export const PYDICOM_DATA = '/usr/lib/python3/dist-packages/pydicom/data';
const MAX_SEED = 16 * 1024;

function sha(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex').slice(0, 16);
}

function file(ds: Dataset, ts: string): Buffer {
  return Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: ts })]);
}

function base(charset?: string): Dataset {
  const ds = new Dataset(true);
  if (charset) ds.setString(0x00080005, 'CS', charset.split('\\'));
  ds.setString(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.20');
  ds.setString(0x00080018, 'UI', '1.2.826.0.1.3680043.8.498.1');
  ds.setString(0x00080020, 'DA', '20240131');
  ds.setString(0x00080030, 'TM', '101500.123');
  ds.setString(0x00080060, 'CS', 'NM');
  ds.setString(0x00100020, 'LO', 'ID-42');
  ds.setString(0x00181030, 'LO', 'Cardiac SPECT');
  ds.setNumbers(0x00280002, 'US', [1]);
  ds.setNumbers(0x00280010, 'US', [2]);
  ds.setNumbers(0x00280011, 'US', [2]);
  ds.setNumbers(0x00280100, 'US', [16]);
  ds.setNumbers(0x00280103, 'US', [1]);
  return ds;
}

function item(build: (it: Dataset) => void, undefinedLength = false): Dataset {
  const it = new Dataset(true);
  build(it);
  it.undefinedLength = undefinedLength;
  return it;
}

/** One data set using every VR, nested sequences and a private block. */
function everything(): Dataset {
  const ds = base();
  ds.setString(0x00100010, 'PN', 'Doe^John^^Dr=ドウ^ジョン');
  ds.setString(0x00101010, 'AS', '042Y');
  ds.setString(0x00181060, 'DS', ['1.5', '-2e3', ' 7 ']);
  ds.setString(0x00200013, 'IS', '12');
  ds.setString(0x0008002a, 'DT', '20240131101500.5+0100');
  ds.setString(0x00080054, 'AE', 'TRACER');
  ds.setString(0x00081030, 'LO', ['A', 'B']);
  ds.setString(0x00204000, 'LT', 'line one\r\nline two\\with backslash');
  ds.setString(0x00081080, 'LO', 'x');
  ds.setString(0x00400280, 'ST', 'comment');
  ds.setString(0x00081190, 'UR', 'http://example.org/dicomweb');
  ds.setString(0x00189902, 'UT', 'unlimited text');
  ds.setString(0x00080119, 'UC', ['long code value']);
  ds.setNumbers(0x00209165, 'AT', [0x00100010, 0x7fe00010]);
  ds.setNumbers(0x00189087, 'FD', [1.25, -0]);
  ds.setNumbers(0x00540081, 'US', [64]);
  ds.setNumbers(0x00189219, 'SS', [-3]);
  ds.setNumbers(0x00209057, 'UL', [7]);
  ds.setNumbers(0x00189241, 'SL', [-9]);
  ds.setNumbers(0x0072007c, 'FL', [0.5]);
  ds.setNumbers(0x00660040, 'OL', [1, 2]);
  ds.setNumbers(0x00660023, 'OF', [0.25]);
  ds.setNumbers(0x00660041, 'OD', [0.125]);
  ds.setNumbers(0x00720082, 'SV', [-5n]);
  ds.setNumbers(0x00720083, 'UV', [5n]);
  ds.setNumbers(0x00660129, 'OV', [9n]);
  ds.setBytes(0x00290010, 'LO', Buffer.from('SIEMENS CSA HEADER'));
  ds.setBytes(0x00291010, 'OB', Buffer.from('SV10\x04\x03\x02\x01'));
  ds.setString(0x00091010, 'LO', 'no creator');
  ds.setBytes(0x00111001, 'UN', Buffer.from([1, 2, 3, 4]));
  ds.setSequence(0x00081115, [
    item((it) => {
      it.setString(0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.20');
      it.setSequence(0x0008114a, [item((x) => x.setString(0x00081155, 'UI', '1.2.3'), true)]);
    }),
    item((it) => it.setString(0x00081155, 'UI', '1.2.3.4'), true),
    item(() => undefined),
  ]);
  const seq = ds.setSequence(0x00540016, [item((it) => it.setString(0x00181074, 'DS', '370'))]);
  seq.length = UndefinedLength;
  ds.setNumbers(PixelDataTag, 'OW', [1, 2, 3, 4]);
  return ds;
}

function encapsulated(): Dataset {
  const ds = base();
  const px = new Element(PixelDataTag, 'OB', UndefinedLength, -1, undefined, undefined);
  px.fragments = [
    { offset: -1, length: 4, data: Buffer.from([0, 0, 0, 0]) },
    { offset: -1, length: 6, data: Buffer.from([0xff, 0xd8, 0xff, 0xd9, 0, 0]) },
  ];
  ds.set(px);
  return ds;
}

function charsets(): Dataset[] {
  const out: Dataset[] = [];
  const jp = base('\\ISO 2022 IR 87');
  jp.setString(0x00100010, 'PN', 'Yamada^Tarou=山田^太郎=やまだ^たろう');
  out.push(jp);
  const kr = base('\\ISO 2022 IR 149');
  kr.setString(0x00100010, 'PN', 'Hong^Gildong=洪^吉洞=홍^길동');
  out.push(kr);
  const utf = base('ISO_IR 192');
  utf.setString(0x00100010, 'PN', 'Wang^XiaoDong=王^小東');
  utf.setString(0x00081030, 'LO', 'Ünïcødé ✓');
  out.push(utf);
  const gb = base('GB18030');
  gb.setString(0x00100010, 'PN', 'Wang^XiaoDong=王^小东');
  out.push(gb);
  const latin = base('ISO_IR 100');
  latin.setString(0x00100010, 'PN', 'Müller^Jürgen');
  out.push(latin);
  const cyr = base('ISO_IR 144');
  cyr.setString(0x00100010, 'PN', 'Люкceмбypг');
  out.push(cyr);
  return out;
}

/** An explicit VR file whose private sequence is written as UN with undefined length (PS3.5 6.2.2). */
function unSequence(): Buffer {
  const pre = file(base(), TS.ExplicitVRLittleEndian);
  const el = Buffer.concat([
    Buffer.from([0x09, 0x00, 0x10, 0x00, 0x4c, 0x4f, 0x04, 0x00]), Buffer.from('ACME'),
    Buffer.from([0x09, 0x00, 0x01, 0x10, 0x55, 0x4e, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0x10, 0x00, 0x20, 0x00, 0x04, 0x00, 0x00, 0x00]), Buffer.from('ID01'),
    Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]),
    Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]),
  ]);
  return Buffer.concat([pre, el]);
}

/** Hand-made seeds, name → bytes. */
export function handMadeSeeds(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const syntaxes: [string, string][] = [
    ['ile', TS.ImplicitVRLittleEndian], ['ele', TS.ExplicitVRLittleEndian],
    ['ebe', TS.ExplicitVRBigEndian], ['dfl', TS.DeflatedExplicitVRLittleEndian],
  ];
  const sets: [string, Dataset][] = [['everything', everything()], ['minimal', base()]];
  charsets().forEach((d, i) => sets.push([`charset${i}`, d]));
  for (const [name, ds] of sets) {
    for (const [tsName, ts] of syntaxes) out.set(`${name}-${tsName}.dcm`, file(ds, ts));
  }
  out.set('encapsulated-jpeg.dcm', file(encapsulated(), '1.2.840.10008.1.2.4.50'));
  out.set('un-sequence.dcm', unSequence());
  // Bare data sets, as old systems wrote them (no preamble, no meta).
  out.set('bare-ile.dcm', encodeDatasetToBuffer(everything(), { explicitVR: false, littleEndian: true }));
  out.set('bare-ele.dcm', encodeDatasetToBuffer(base(), { explicitVR: true, littleEndian: true }));
  out.set('bare-ebe.dcm', encodeDatasetToBuffer(base(), { explicitVR: true, littleEndian: false }));
  // "DICM" without the preamble.
  out.set('no-preamble.dcm', file(base(), TS.ExplicitVRLittleEndian).subarray(128));
  // Meta says explicit, data set is implicit.
  const ile = encodeDatasetToBuffer(base(), { explicitVR: false, littleEndian: true });
  const ele = file(new Dataset(true), TS.ExplicitVRLittleEndian);
  out.set('explicit-meta-implicit-data.dcm', Buffer.concat([ele, ile]));
  return out;
}

function pydicomSeeds(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const roots = [join(PYDICOM_DATA, 'test_files'), join(PYDICOM_DATA, 'charset_files')];
  const walk = (d: string, depth: number) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (depth < 4) walk(p, depth + 1);
      } else if (!/\.(txt|json|dump|gz|py|pyc|bz2|zip)$/i.test(n)) {
        const b = readFileSync(p);
        // Whole small files; the head of larger ones (the header is what the reader parses).
        out.set(`pydicom-${n}`, b.length <= MAX_SEED ? b : b.subarray(0, 4096));
      }
    }
  };
  for (const r of roots) if (existsSync(r)) walk(r, 0);
  return out;
}

/** (Re)writes the seed directory; returns the number of distinct seeds. */
export function writeSeeds(dir: string): number {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const seen = new Set<string>();
  for (const src of [handMadeSeeds(), pydicomSeeds()]) {
    for (const [name, b] of src) {
      const h = sha(b);
      if (seen.has(h) || b.length > MAX_SEED) continue;
      seen.add(h);
      writeFileSync(join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${h}`), b);
    }
  }
  return seen.size;
}
