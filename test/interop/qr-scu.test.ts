/**
 * `tracer find`, `move` and `get` against DCMTK's dcmqrscp (REQUIREMENTS 8.5, 8.7): the
 * archive is filled with storescu, and every expectation is derived from what was stored
 * (not from Tracer's own output). C-MOVE goes to a storescp registered in dcmqrscp's HostTable.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { Dataset } from '../../src/dicom/dataset.js';
import { encodeDicomFile } from '../../src/dicom/write.js';
import { fromJSON, type JsonDataset } from '../../src/dicom/json.js';
import { hasTool, interopRequired } from '../helpers/peers.js';
import { dcmtkEnv, freePort, startStorescp, tracer, type Storescp } from '../helpers/storescp.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const ROOT = '1.2.826.0.1.3680043.9.7.400';

interface Inst { patientName: string; patientId: string; study: string; studyDate: string; series: string; modality: string; seriesNumber: number; sop: string; sopClass: string; instanceNumber: number }

// Two patients, two studies; study 1 has a CT series (2 images) and an MR series (1 image).
const INSTANCES: Inst[] = [
  { patientName: 'Alpha^One', patientId: 'P1', study: `${ROOT}.1`, studyDate: '20240101', series: `${ROOT}.1.1`, modality: 'CT', seriesNumber: 1, sop: `${ROOT}.1.1.1`, sopClass: CT, instanceNumber: 1 },
  { patientName: 'Alpha^One', patientId: 'P1', study: `${ROOT}.1`, studyDate: '20240101', series: `${ROOT}.1.1`, modality: 'CT', seriesNumber: 1, sop: `${ROOT}.1.1.2`, sopClass: CT, instanceNumber: 2 },
  { patientName: 'Alpha^One', patientId: 'P1', study: `${ROOT}.1`, studyDate: '20240101', series: `${ROOT}.1.2`, modality: 'MR', seriesNumber: 2, sop: `${ROOT}.1.2.1`, sopClass: MR, instanceNumber: 1 },
  { patientName: 'Beta^Two', patientId: 'P2', study: `${ROOT}.2`, studyDate: '20240315', series: `${ROOT}.2.1`, modality: 'CT', seriesNumber: 1, sop: `${ROOT}.2.1.1`, sopClass: CT, instanceNumber: 1 },
  { patientName: 'Beta^Two', patientId: 'P2', study: `${ROOT}.2`, studyDate: '20240315', series: `${ROOT}.2.1`, modality: 'CT', seriesNumber: 1, sop: `${ROOT}.2.1.2`, sopClass: CT, instanceNumber: 2 },
];

function writeInstance(dir: string, i: Inst): string {
  const ds = new Dataset(true);
  ds.setString(0x00080016, 'UI', i.sopClass);
  ds.setString(0x00080018, 'UI', i.sop);
  ds.setString(0x00080020, 'DA', i.studyDate);
  ds.setString(0x00080030, 'TM', '101010');
  ds.setString(0x00080050, 'SH', `ACC${i.patientId}`);
  ds.setString(0x00080060, 'CS', i.modality);
  ds.setString(0x00100010, 'PN', i.patientName);
  ds.setString(0x00100020, 'LO', i.patientId);
  ds.setString(0x00100030, 'DA', '19700101');
  ds.setString(0x00100040, 'CS', 'O');
  ds.setString(0x0020000d, 'UI', i.study);
  ds.setString(0x0020000e, 'UI', i.series);
  ds.setString(0x00200010, 'SH', 'S1');
  ds.setString(0x00200011, 'IS', String(i.seriesNumber));
  ds.setString(0x00200013, 'IS', String(i.instanceNumber));
  ds.setNumbers(0x00280002, 'US', [1]);
  ds.setString(0x00280004, 'CS', 'MONOCHROME2');
  ds.setNumbers(0x00280010, 'US', [4]);
  ds.setNumbers(0x00280011, 'US', [4]);
  ds.setNumbers(0x00280100, 'US', [16]);
  ds.setNumbers(0x00280101, 'US', [16]);
  ds.setNumbers(0x00280102, 'US', [15]);
  ds.setNumbers(0x00280103, 'US', [0]);
  ds.setNumbers(0x7fe00010, 'OW', Array.from({ length: 16 }, (_, k) => k * 100));
  const path = join(dir, `${i.sop}.dcm`);
  writeFileSync(path, Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: '1.2.840.10008.1.2.1' })]));
  return path;
}

/** dcmqrscp rejects unknown called AE titles, so readiness is a TCP connect. */
async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`dcmqrscp not listening on ${port}: ${qrLog}`);
}

let dir: string;
let qr: ChildProcess | undefined;
let qrPort = 0;
let scp: Storescp | undefined;
let qrLog = '';
let available = false;

before(async () => {
  available = hasTool('dcmqrscp') && hasTool('storescu') && hasTool('storescp');
  if (!available) {
    if (interopRequired) throw new Error('dcmqrscp, storescu or storescp not installed (TRACER_REQUIRE_INTEROP=1)');
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'tracer-qr-scu-'));
  const db = join(dir, 'db');
  mkdirSync(db);
  const src = join(dir, 'src');
  mkdirSync(src);
  const files = INSTANCES.map((i) => writeInstance(src, i));
  scp = await startStorescp(join(dir, 'storescp'));
  qrPort = await freePort();
  const cfg = join(dir, 'dcmqrscp.cfg');
  writeFileSync(cfg, [
    `NetworkTCPPort = ${qrPort}`,
    'MaxPDUSize = 16384',
    'MaxAssociations = 16',
    'HostTable BEGIN',
    `storescp = (STORESCP, 127.0.0.1, ${scp.port})`,
    'HostTable END',
    'VendorTable BEGIN',
    'VendorTable END',
    'AETable BEGIN',
    `QRSCP ${db} RW (200, 1024mb) ANY`,
    'AETable END',
    '',
  ].join('\n'));
  qr = spawn('dcmqrscp', ['-c', cfg, '-v'], { env: dcmtkEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  qr.stdout!.on('data', (c: Buffer) => (qrLog += c.toString()));
  qr.stderr!.on('data', (c: Buffer) => (qrLog += c.toString()));
  await waitForPort(qrPort);
  try {
    // async: dcmqrscp's output pipes must keep being read meanwhile
    await promisify(execFile)('storescu', ['-aec', 'QRSCP', '127.0.0.1', String(qrPort), ...files], { env: dcmtkEnv });
  } catch (err) {
    throw new Error(`storescu to dcmqrscp failed: ${(err as Error).message}\n${qrLog}`);
  }
});

after(async () => {
  if (qr && qr.exitCode === null) {
    const exited = new Promise((r) => qr!.once('exit', r));
    qr.kill('SIGTERM');
    await exited;
  }
  await scp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const peer = () => ['--aec', 'QRSCP', '127.0.0.1', String(qrPort)];

/** Data rows of the table: header and dashes skipped, columns split on 2+ spaces. */
function rows(stdout: string): string[][] {
  return stdout.trimEnd().split('\n').slice(2).filter(Boolean).map((l) => l.split(/ {2,}/));
}

test('tracer find at STUDY, SERIES and IMAGE level with -k filters gives the stored entities', async (t) => {
  if (!available) return t.skip('DCMTK tools not installed');
  // A universal query: findScu.requireNonEmptyKey (QR-023) refuses it without --allow-empty.
  const refused = await tracer(['find', '--only-keys', '-k', 'PatientID', '-k', 'StudyInstanceUID', ...peer()]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /no key has a value to match/);
  const studies = await tracer(['find', '--allow-empty', '--only-keys', '-k', 'PatientID', '-k', 'StudyInstanceUID', ...peer()]);
  assert.equal(studies.code, 0, studies.stderr + qrLog);
  const expectStudies = [...new Set(INSTANCES.map((i) => `${i.patientId} ${i.study}`))].sort();
  assert.deepEqual(rows(studies.stdout).map((r) => r.join(' ')).sort(), expectStudies);
  assert.match(studies.stderr, /2 match\(es\) from QRSCP@127\.0\.0\.1:\d+; 0000 Search Completed/);

  // filter on a wildcard name and a date range
  const byName = await tracer(['find', '--only-keys', '-k', 'PatientName=Beta*', '-k', 'StudyDate=20240301-20241231', '-k', 'StudyInstanceUID', ...peer()]);
  assert.equal(byName.code, 0, byName.stderr);
  assert.deepEqual(rows(byName.stdout), [['Beta^Two', '20240315', `${ROOT}.2`]]);

  // SERIES level: default return keys too; the keyword or gggg,eeee form
  const series = await tracer(['find', '-L', 'SERIES', '-k', `0020,000D=${ROOT}.1`, ...peer()]);
  assert.equal(series.code, 0, series.stderr);
  const header = series.stdout.split('\n')[0]!.split(/ {2,}/);
  const col = (n: string) => header.indexOf(n);
  assert.ok(col('SeriesInstanceUID') >= 0 && col('Modality') >= 0, header.join('|'));
  const got = rows(series.stdout).map((r) => `${r[col('SeriesInstanceUID')]} ${r[col('Modality')]}`).sort();
  const expectSeries = [...new Set(INSTANCES.filter((i) => i.study === `${ROOT}.1`).map((i) => `${i.series} ${i.modality}`))].sort();
  assert.deepEqual(got, expectSeries);

  // IMAGE level
  const images = await tracer(['find', '--only-keys', '-L', 'IMAGE', '-k', `StudyInstanceUID=${ROOT}.1`, '-k', `SeriesInstanceUID=${ROOT}.1.1`, '-k', 'SOPInstanceUID', ...peer()]);
  assert.equal(images.code, 0, images.stderr);
  assert.deepEqual(rows(images.stdout).map((r) => r[2]).sort(), INSTANCES.filter((i) => i.series === `${ROOT}.1.1`).map((i) => i.sop).sort());
});

test('tracer find --json prints valid DICOM JSON; --max-results cancels and says truncated', async (t) => {
  if (!available) return t.skip('DCMTK tools not installed');
  const r = await tracer(['find', '--json', '-L', 'IMAGE', '-k', `StudyInstanceUID=${ROOT}.1`, '-k', `SeriesInstanceUID=${ROOT}.1.1`, ...peer()]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as JsonDataset[];
  assert.equal(json.length, 2);
  for (const m of json) {
    assert.equal(m['00080052']!.vr, 'CS');
    assert.deepEqual(m['00080052']!.Value, ['IMAGE']);
    assert.equal(m['00080018']!.vr, 'UI');
    const ds = fromJSON(m); // round-trips through Tracer's DICOM JSON reader
    assert.equal(ds.string(0x0020000e), `${ROOT}.1.1`);
  }
  assert.deepEqual(json.map((m) => m['00080018']!.Value![0]).sort(), [`${ROOT}.1.1.1`, `${ROOT}.1.1.2`]);

  const cut2 = await tracer(['find', '--allow-empty', '--max-results', '1', '--only-keys', '-k', 'StudyInstanceUID', ...peer()]);
  assert.equal(cut2.code, 0, cut2.stderr);
  assert.equal(rows(cut2.stdout).length, 1);
  assert.match(cut2.stderr, /more than 1 matches: list truncated \(C-CANCEL sent/);
});

function filesUnder(d: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** SOP Instance UID of a Part 10 file, read with DCMTK's dcmdump. */
function sopOf(file: string): string {
  const out = execFileSync('dcmdump', ['+P', '0008,0018', file], { encoding: 'utf8' });
  return /\[([0-9.]+)\]/.exec(out)![1]!;
}

test('tracer move --dest sends the series to the storescp named in dcmqrscp\'s HostTable; summary counts', async (t) => {
  if (!available) return t.skip('DCMTK tools not installed');
  const r = await tracer(['move', '--dest', 'STORESCP', '-L', 'SERIES', '-k', `StudyInstanceUID=${ROOT}.1`, '-k', `SeriesInstanceUID=${ROOT}.1.1`, ...peer()]);
  assert.equal(r.code, 0, r.stderr + qrLog);
  assert.match(r.stdout, /C-MOVE from QRSCP@127\.0\.0\.1:\d+: Fetch Completed \(0000\): 2 completed, 0 warning, 0 failed to STORESCP/);
  const got = scp!.received().map(sopOf).sort();
  assert.deepEqual(got, INSTANCES.filter((i) => i.series === `${ROOT}.1.1`).map((i) => i.sop).sort());

  const unknown = await tracer(['move', '--dest', 'NOBODY', '--retries', '0', '-k', `StudyInstanceUID=${ROOT}.2`, ...peer()]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /C-MOVE from QRSCP@127\.0\.0\.1:\d+ failed: Remote station is not aware of destination station/);
});

test('tracer get --out writes the study\'s files; the data sets are those stored', async (t) => {
  if (!available) return t.skip('DCMTK tools not installed');
  const out = join(dir, 'get');
  const r = await tracer(['get', '--out', out, '-k', `StudyInstanceUID=${ROOT}.1`, ...peer()]);
  assert.equal(r.code, 0, r.stderr + qrLog);
  const expected = INSTANCES.filter((i) => i.study === `${ROOT}.1`);
  assert.match(r.stdout, new RegExp(`Fetch Completed \\(0000\\): ${expected.length} completed, 0 warning, 0 failed; ${expected.length} file\\(s\\) written`));
  const files = filesUnder(out);
  assert.equal(files.length, expected.length, files.join('\n'));
  assert.deepEqual(files.map(sopOf).sort(), expected.map((i) => i.sop).sort());
  for (const i of expected) {
    const f = join(out, i.study, i.series, `${i.sop}.dcm`);
    const dump = execFileSync('dcmdump', ['+P', '0010,0010', f], { encoding: 'utf8' });
    assert.match(dump, new RegExp(i.patientName.replace('^', '\\^')));
    assert.equal(readFileSync(f).toString('latin1', 128, 132), 'DICM');
  }
});

test('an unreachable peer: clear error, exit 1, for find, move and get', async (t) => {
  if (!available) return t.skip('DCMTK tools not installed');
  const port = String(await freePort());
  const f = await tracer(['find', '-k', 'PatientID=1', '127.0.0.1', port]);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /C-FIND on ANY-SCP@127\.0\.0\.1:\d+ failed: .*(ECONNREFUSED|connect)/);
  const m = await tracer(['move', '--dest', 'X', '--retries', '0', '-k', 'StudyInstanceUID=1.2', '127.0.0.1', port]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /C-MOVE from ANY-SCP@127\.0\.0\.1:\d+ failed: .*(ECONNREFUSED|connect)/);
  const g = await tracer(['get', '--out', join(dir, 'none'), '--retries', '0', '-k', 'StudyInstanceUID=1.2', '127.0.0.1', port]);
  assert.equal(g.code, 1);
  assert.match(g.stderr, /C-GET from ANY-SCP@127\.0\.0\.1:\d+ failed: .*(ECONNREFUSED|connect)/);
});
