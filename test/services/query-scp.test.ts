/**
 * C-FIND SCP (REQUIREMENTS 8.1-8.4) against DCMTK's findscu, on a node into which storescu
 * stored synthetic studies (names in ISO_IR 100 and ISO_IR 192, dates, NM/PT/CT). Expected
 * answers are worked out by hand from the data below and the rules of PS3.4 C.2.2.2 / C.4.1.
 * Relational queries use Tracer's requestor (findscu cannot propose the extended negotiation).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dicom/dataset.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import { encodeDatasetToBuffer, encodeDicomFile } from '../../src/dicom/write.js';
import { Association, CFindRq, EXPLICIT_VR_LITTLE_ENDIAN, type CFindRsp } from '../../src/net/index.js';
import { readDataset } from '../../src/dicom/read.js';
import { BufferSource } from '../../src/dicom/source.js';
import { hasTool } from '../helpers/peers.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import type { TestContext } from 'node:test';

const STUDY_ROOT = '1.2.840.10008.5.1.4.1.2.2.1';
const NM = '1.2.840.10008.5.1.4.1.1.20', PT = '1.2.840.10008.5.1.4.1.1.128', CT = '1.2.840.10008.5.1.4.1.1.2';
const ROOT = '1.2.826.0.1.3680043.9.7.200';
const ENV = { ...process.env, TCP_NODELAY: '1' };

interface Spec { charset?: string; name: string; pid: string; birth: string; sex: string; study: number; date: string; time: string; acc: string; desc: string; series: [string, string, number][] }
/** [modality, SOP class, instances] per series. */
const DATA: Spec[] = [
  { charset: 'ISO_IR 100', name: 'Müller^Hans', pid: 'P1', birth: '19600101', sex: 'M', study: 1, date: '20200115', time: '101500', acc: 'A1', desc: 'PET/CT FDG', series: [['PT', PT, 2], ['CT', CT, 2]] },
  { charset: 'ISO_IR 192', name: 'Yamada^Tarou=山田^太郎', pid: 'P2', birth: '19700202', sex: 'M', study: 2, date: '20210301', time: '093000', acc: 'A2', desc: 'Bone scan', series: [['NM', NM, 1]] },
  { name: 'Smith^John', pid: 'P3', birth: '19800303', sex: 'M', study: 3, date: '20200120', time: '160000', acc: 'A3', desc: 'CT chest', series: [['CT', CT, 3]] },
  { name: 'Smith^John', pid: 'P3', birth: '19800303', sex: 'M', study: 4, date: '20190505', time: '080000', acc: 'A4', desc: 'Cardiac NM', series: [['NM', NM, 1]] },
  { name: 'Smithson^Anna', pid: 'P4', birth: '19900404', sex: 'F', study: 5, date: '20201231', time: '235959', acc: 'A5', desc: 'PET FDG', series: [['PT', PT, 1]] },
];
const studyUid = (s: number) => `${ROOT}.${s}`;
const seriesUid = (s: number, n: number) => `${ROOT}.${s}.${n}`;

let node: TestNode | undefined;
let dir = '';
let skip: string | undefined;

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: ENV });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString('latin1')));
    p.stderr.on('data', (c: Buffer) => (out += c.toString('latin1')));
    p.on('close', (code) => resolve({ code, out }));
  });
}

before(async () => {
  if (!hasTool('findscu') || !hasTool('storescu')) {
    skip = 'findscu/storescu not installed';
    if (process.env.TRACER_REQUIRE_INTEROP === '1') throw new Error(skip);
  }
  dir = await mkdtemp(join(tmpdir(), 'tracer-find-'));
  node = await startTestNode((c) => {
    c.nodes = [{ name: 'scu', aeTitle: 'FINDSCU', host: '127.0.0.1', port: 1 } as (typeof c.nodes)[number]];
  });
  for (const s of DATA) await writeStudy(s);
  if (!skip) {
    const r = await run('storescu', ['-aet', 'STORESCU', '-aec', 'TRACER', '+sd', '+r', '127.0.0.1', String(node.port), join(dir, 'in')]);
    assert.equal(r.code, 0, r.out);
  }
});

async function writeStudy(s: Spec): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(dir, 'in'), { recursive: true });
  for (const [si, [mod, sop, n]] of s.series.entries()) {
    for (let i = 1; i <= n; i++) {
      const ds = new Dataset();
      if (s.charset) ds.setString(0x00080005, 'CS', s.charset);
      ds.setString(0x00080016, 'UI', sop);
      ds.setString(0x00080018, 'UI', `${seriesUid(s.study, si + 1)}.${i}`);
      ds.setString(0x00080020, 'DA', s.date);
      ds.setString(0x00080021, 'DA', s.date);
      ds.setString(0x00080030, 'TM', s.time);
      ds.setString(0x00080050, 'SH', s.acc);
      ds.setString(0x00080060, 'CS', mod);
      ds.setString(0x00081030, 'LO', s.desc);
      ds.setString(0x00100010, 'PN', s.name);
      ds.setString(0x00100020, 'LO', s.pid);
      ds.setString(0x00100030, 'DA', s.birth);
      ds.setString(0x00100040, 'CS', s.sex);
      ds.setString(0x0020000d, 'UI', studyUid(s.study));
      ds.setString(0x0020000e, 'UI', seriesUid(s.study, si + 1));
      ds.setString(0x00200011, 'IS', String(si + 1));
      ds.setString(0x00200013, 'IS', String(i));
      if (mod === 'NM') {
        const item = new Dataset(true, ds);
        item.setString(0x00400009, 'SH', `SPS${s.study}`);
        item.setString(0x00401001, 'SH', `RP${s.study}`);
        ds.setSequence(0x00400275, [item]);
      }
      ds.setNumbers(0x00280002, 'US', [1]);
      ds.setString(0x00280004, 'CS', 'MONOCHROME2');
      ds.setNumbers(0x00280010, 'US', [4]);
      ds.setNumbers(0x00280011, 'US', [4]);
      ds.setNumbers(0x00280100, 'US', [16]);
      ds.setNumbers(0x00280101, 'US', [16]);
      ds.setNumbers(0x00280102, 'US', [15]);
      ds.setNumbers(0x00280103, 'US', [0]);
      ds.setNumbers(0x7fe00010, 'OW', new Array(16).fill(s.study));
      const bytes = Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN })]);
      await writeFile(join(dir, 'in', `s${s.study}-${si + 1}-${i}.dcm`), bytes);
    }
  }
}

after(async () => {
  await node?.stop();
  await rm(dir, { recursive: true, force: true });
});

let q = 0;
/** Runs findscu and reads the response identifiers it extracted (-X). */
async function findscu(t: TestContext, model: '-S' | '-P', keys: string[], extra: string[] = [], files: string[] = [], port = node!.port): Promise<{ rsp: Dataset[]; out: string }> {
  const od = join(dir, `q${++q}`);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(od);
  const args = [model, '-v', '-aet', 'FINDSCU', '-aec', 'TRACER', '-X', '-od', od, ...extra, ...keys.flatMap((k) => ['-k', k]), '127.0.0.1', String(port), ...files];
  const r = await run('findscu', args);
  assert.equal(r.code, 0, r.out);
  const names = (await readdir(od)).filter((f) => f.startsWith('rsp')).sort();
  void t;
  return { rsp: names.map((f) => readDicomFile(join(od, f)).dataset), out: r.out };
}

const s = (d: Dataset, tag: number) => d.string(tag) ?? '';
const sorted = (a: string[]) => [...a].sort();

test('Study Root, STUDY level: PN case-insensitive single value, date range, modalities, returned keys and aggregates', async (t) => {
  if (skip) return t.skip(skip);
  const base = ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'PatientName', 'StudyDate', 'ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'];
  let r = await findscu(t, '-S', [...base.filter((k) => k !== 'PatientName'), 'PatientName=smith']);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x0020000d))), [studyUid(3), studyUid(4)]);
  r = await findscu(t, '-S', [...base.filter((k) => k !== 'StudyDate'), 'StudyDate=20200101-20201231']);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x0020000d))), [studyUid(1), studyUid(3), studyUid(5)]);
  r = await findscu(t, '-S', [...base.filter((k) => k !== 'ModalitiesInStudy'), 'ModalitiesInStudy=PT']);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x0020000d))), [studyUid(1), studyUid(5)]);
  const s1 = r.rsp.find((d) => s(d, 0x0020000d) === studyUid(1))!;
  assert.deepEqual(s1.strings(0x00080061), ['CT', 'PT']);
  assert.equal(s1.number(0x00201206), 2);
  assert.equal(s1.number(0x00201208), 4);
  assert.equal(s(s1, 0x00080052), 'STUDY');
  assert.equal(s(s1, 0x00080054), 'TRACER', 'Retrieve AE Title');
  assert.equal(s(s1, 0x00080056), 'ONLINE', 'Instance Availability');
  assert.equal(s(s1, 0x00080020), '20200115');
  // open ranges and wildcards
  r = await findscu(t, '-S', ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'StudyDate=-20200115']);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x0020000d))), [studyUid(1), studyUid(4)]);
  r = await findscu(t, '-S', ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'StudyDescription=*FDG']);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x0020000d))), [studyUid(1), studyUid(5)]);
  r = await findscu(t, '-S', ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'AccessionNumber=A?']);
  assert.equal(r.rsp.length, 5);
  // combined date-time range: 2020-01-15 12:00 .. 2020-12-31 23:00 leaves out study 1 (10:15) and 5 (23:59:59)
  r = await findscu(t, '-S', ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'StudyDate=20200115-20201231', 'StudyTime=1200-2300']);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x0020000d))), [studyUid(3)]);
  // list of UIDs
  r = await findscu(t, '-S', ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${studyUid(2)}\\${studyUid(5)}`]);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x0020000d))), [studyUid(2), studyUid(5)]);
});

test('Specific Character Set: ISO_IR 192 and ISO_IR 100 queries match non-ASCII names; responses declare their set', async (t) => {
  if (skip) return t.skip(skip);
  let r = await findscu(t, '-S', ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'SpecificCharacterSet=ISO_IR 192', 'PatientName=MÜLLER*']);
  assert.equal(r.rsp.length, 1);
  assert.equal(s(r.rsp[0]!, 0x00100010), 'Müller^Hans');
  assert.equal(s(r.rsp[0]!, 0x00080005), 'ISO_IR 192', 'the query asked in UTF-8');
  r = await findscu(t, '-S', ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'SpecificCharacterSet=ISO_IR 192', 'PatientName=山田*']);
  assert.equal(r.rsp.length, 1);
  assert.equal(s(r.rsp[0]!, 0x00100010), 'Yamada^Tarou=山田^太郎');
  // ISO_IR 100: a query file with Latin-1 bytes (findscu sends argv as UTF-8)
  const qf = join(dir, 'latin1.dcm');
  const ds = new Dataset();
  ds.setString(0x00080005, 'CS', 'ISO_IR 100');
  ds.setString(0x00080052, 'CS', 'STUDY');
  ds.setString(0x00100010, 'PN', 'm?ller');
  ds.setString(0x0020000d, 'UI', '');
  await writeFile(qf, Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN })]));
  r = await findscu(t, '-S', [], [], [qf]);
  assert.equal(r.rsp.length, 1);
  assert.equal(s(r.rsp[0]!, 0x00100010), 'Müller^Hans');
  assert.equal(s(r.rsp[0]!, 0x00080005), 'ISO_IR 100');
});

test('Patient Root: PATIENT level with aggregates; STUDY needs the Patient ID (hierarchical); SERIES and IMAGE', async (t) => {
  if (skip) return t.skip(skip);
  let r = await findscu(t, '-P', ['QueryRetrieveLevel=PATIENT', 'PatientID=P3', 'PatientName', 'NumberOfPatientRelatedStudies', 'NumberOfPatientRelatedInstances']);
  assert.equal(r.rsp.length, 1);
  assert.equal(s(r.rsp[0]!, 0x00100010), 'Smith^John');
  assert.equal(r.rsp[0]!.number(0x00201200), 2);
  assert.equal(r.rsp[0]!.number(0x00201204), 4);
  r = await findscu(t, '-P', ['QueryRetrieveLevel=PATIENT', 'PatientID', 'PatientName=SMITH*']);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x00100020))), ['P3', 'P4']);
  r = await findscu(t, '-P', ['QueryRetrieveLevel=STUDY', 'PatientID=P3', 'StudyInstanceUID', 'StudyDate']);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x0020000d))), [studyUid(3), studyUid(4)]);
  assert.ok(r.rsp.every((d) => s(d, 0x00100020) === 'P3'), 'unique keys of the levels above are returned (QR-012)');
  // hierarchical: without Patient ID the STUDY query is refused (A900)
  r = await findscu(t, '-P', ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID']);
  assert.equal(r.rsp.length, 0);
  assert.match(r.out, /DataSetDoesNotMatchSOPClass/);
  r = await findscu(t, '-P', ['QueryRetrieveLevel=SERIES', 'PatientID=P1', `StudyInstanceUID=${studyUid(1)}`, 'SeriesInstanceUID', 'Modality', 'NumberOfSeriesRelatedInstances']);
  assert.deepEqual(sorted(r.rsp.map((d) => `${s(d, 0x00080060)}:${d.number(0x00201209)}`)), ['CT:2', 'PT:2']);
  r = await findscu(t, '-P', ['QueryRetrieveLevel=IMAGE', 'PatientID=P1', `StudyInstanceUID=${studyUid(1)}`, `SeriesInstanceUID=${seriesUid(1, 1)}`, 'SOPInstanceUID', 'SOPClassUID', 'InstanceNumber']);
  assert.deepEqual(sorted(r.rsp.map((d) => s(d, 0x00080018))), [`${seriesUid(1, 1)}.1`, `${seriesUid(1, 1)}.2`]);
  assert.ok(r.rsp.every((d) => s(d, 0x00080016) === PT && s(d, 0x0020000e) === seriesUid(1, 1)));
});

test('Study Root SERIES and IMAGE levels; sequence matching; a key below the level is A900; unsupported keys give FF01', async (t) => {
  if (skip) return t.skip(skip);
  let r = await findscu(t, '-S', ['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${studyUid(4)}`, 'SeriesInstanceUID', 'Modality=NM', 'RequestAttributesSequence[0].RequestedProcedureID=RP*']);
  assert.equal(r.rsp.length, 1);
  const items = r.rsp[0]!.sequence(0x00400275);
  assert.equal(items.length, 1);
  assert.equal(s(items[0]!, 0x00401001), 'RP4');
  assert.equal(items[0]!.has(0x00400009), false, 'only the requested item attributes come back');
  r = await findscu(t, '-S', ['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${studyUid(4)}`, 'SeriesInstanceUID', 'RequestAttributesSequence[0].RequestedProcedureID=RP9']);
  assert.equal(r.rsp.length, 0);
  // SOP Instance UID is an IMAGE key: below SERIES
  r = await findscu(t, '-S', ['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${studyUid(4)}`, 'SOPInstanceUID']);
  assert.equal(r.rsp.length, 0);
  assert.match(r.out, /DataSetDoesNotMatchSOPClass/);
  // an attribute of no Q/R level at STUDY: ignored, Pending with warning FF01
  r = await findscu(t, '-S', ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${studyUid(4)}`, '0029,0010=X']);
  assert.equal(r.rsp.length, 1);
  assert.match(r.out, /0xff01|Pending.*Warning/i);
  r = await findscu(t, '-S', ['QueryRetrieveLevel=IMAGE', `StudyInstanceUID=${studyUid(3)}`, `SeriesInstanceUID=${seriesUid(3, 1)}`, 'SOPInstanceUID', 'InstanceNumber=2']);
  assert.deepEqual(r.rsp.map((d) => s(d, 0x00080018)), [`${seriesUid(3, 1)}.2`]);
});

async function tracerFind(port: number, identifier: Dataset, relational: boolean, callingAETitle = 'FINDSCU'): Promise<CFindRsp[]> {
  const a = await Association.request({
    port, callingAETitle, calledAETitle: 'TRACER',
    presentationContexts: [{ abstractSyntax: STUDY_ROOT, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }],
    extendedNegotiations: relational ? [{ sopClassUid: STUDY_ROOT, serviceClassApplicationInformation: Buffer.from([1]) }] : undefined,
  });
  try {
    const got: CFindRsp[] = [];
    for await (const r of a.sendRequest(new CFindRq({ AffectedSOPClassUID: STUDY_ROOT }), { dataset: encodeDatasetToBuffer(identifier, { explicitVR: true, littleEndian: true }) })) got.push(r);
    return got;
  } finally {
    await a.release();
  }
}

const idOf = (r: CFindRsp) => {
  const b = r.dataset as Buffer;
  return readDataset(new BufferSource(b), 0, b.length, { explicitVR: true, littleEndian: true });
};

test('relational queries (QR-010): negotiated by the extended negotiation item; refused (A900) when not negotiated', async (t) => {
  if (skip) return t.skip(skip);
  const q = new Dataset();
  q.setString(0x00080052, 'CS', 'SERIES');
  q.setString(0x00080060, 'CS', 'CT');
  q.setString(0x00100010, 'PN', 'Smith^John');
  q.setString(0x0020000e, 'UI', '');
  const rel = await tracerFind(node!.port, q, true);
  assert.deepEqual(rel.map((r) => r.Status), [0xff00, 0]);
  assert.equal(idOf(rel[0]!).string(0x0020000e), seriesUid(3, 1));
  assert.equal(idOf(rel[0]!).string(0x0020000d), studyUid(3), 'the unique key above is returned');
  const hier = await tracerFind(node!.port, q, false);
  assert.deepEqual(hier.map((r) => r.Status), [0xa900]);
  // and unknown calling AE titles are not admitted to Q/R (SEC-010)
  await assert.rejects(tracerFind(node!.port, q, true, 'STRANGER'), /reject/i);
});

test('C-CANCEL (QR-016) and the result cap findScp.maxMatches (QR-015), on 3000 instances of one series', async (t) => {
  if (skip) return t.skip(skip);
  const big = await startTestNode((c) => {
    c.nodes = [{ name: 'scu', aeTitle: 'FINDSCU', host: '127.0.0.1', port: 1 } as (typeof c.nodes)[number]];
    c.findScp.maxMatches = 0;
  });
  try {
    const study = `${ROOT}.900`, series = `${ROOT}.900.1`;
    for (let i = 1; i <= 3000; i++) {
      const sop = `${series}.${i}`;
      await big.archive.index.addInstance({
        path: `${study}/${series}/${sop}.dcm`, sopClassUid: CT, sopInstanceUid: sop, studyInstanceUid: study, seriesInstanceUid: series,
        transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN, size: 1,
        header: { '00080016': { vr: 'UI', Value: [CT] }, '00080018': { vr: 'UI', Value: [sop] }, '0020000D': { vr: 'UI', Value: [study] }, '0020000E': { vr: 'UI', Value: [series] }, '00100020': { vr: 'LO', Value: ['BIG'] } },
      }, { demographicUpdate: 'latestWins', replace: false });
    }
    const keys = ['QueryRetrieveLevel=IMAGE', `StudyInstanceUID=${study}`, `SeriesInstanceUID=${series}`, 'SOPInstanceUID'];
    const r = await findscu(t, '-S', keys, ['--cancel', '2'], [], big.port);
    assert.ok(r.rsp.length >= 2 && r.rsp.length < 3000, `${r.rsp.length} responses`);
    assert.match(r.out, /Final Find Response \(Cancel: MatchingTerminatedDueToCancelRequest\)/);
    assert.ok(big.logs.some((l) => l.msg === 'C-FIND cancelled'));
  } finally {
    await big.stop();
  }
  const capped = await startTestNode((c) => {
    c.nodes = [{ name: 'scu', aeTitle: 'FINDSCU', host: '127.0.0.1', port: 1 } as (typeof c.nodes)[number]];
    c.findScp.maxMatches = 2;
  }, { root: node!.root });
  try {
    const q = new Dataset();
    q.setString(0x00080052, 'CS', 'STUDY');
    q.setString(0x0020000d, 'UI', '');
    const rsp = await tracerFind(capped.port, q, false);
    assert.deepEqual(rsp.map((r) => r.Status), [0xff00, 0xff00, 0]);
    assert.ok(capped.logs.some((l) => String(l.msg).startsWith('C-FIND results clipped')));
  } finally {
    await capped.close(1000);
  }
});
