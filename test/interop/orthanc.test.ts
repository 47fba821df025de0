/**
 * Tracer's command-line SCUs and its node against Orthanc (Debian's Orthanc 1.10.1) as the peer:
 * `tracer store` fills Orthanc with two studies in three series; `tracer find` queries them
 * (table and --json); `tracer move` has Orthanc send a study to a Tracer node running in this
 * process; `tracer get` retrieves a study on its own association; and Orthanc as the SCU
 * (driven through its REST API) sends C-ECHO and C-STORE to the Tracer node.
 *
 * Orthanc runs as a plain process with a JSON configuration in a temporary directory, on free
 * ports of 127.0.0.1, without plugins, remote access or authentication. The CLI runs as an
 * asynchronous child process (execFile), since the node answering it lives in this process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adHocNode } from '../../src/node/config.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/net/index.js';
import { part10 } from '../helpers/build.js';
import { CT, listFiles, makeDataset, startTestNode, until, type TestNode } from '../helpers/node.js';
import { hasTool, requireTools } from '../helpers/peers.js';
import { freePort } from '../helpers/storescp.js';

const TRACER = fileURLToPath(new URL('../../../bin/tracer', import.meta.url));
const env = { ...process.env, TCP_NODELAY: '1' };
const TOOLS = ['Orthanc', 'storescu'];

// Two studies, three series: study A has series A1 (2 instances) and A2 (1), study B has B1 (2).
const STUDY_A = '1.2.826.0.1.3680043.9.7.600';
const STUDY_B = '1.2.826.0.1.3680043.9.7.601';
const LAYOUT: { study: string; series: string; sops: string[] }[] = [
  { study: STUDY_A, series: `${STUDY_A}.1`, sops: [`${STUDY_A}.1.1`, `${STUDY_A}.1.2`] },
  { study: STUDY_A, series: `${STUDY_A}.2`, sops: [`${STUDY_A}.2.1`] },
  { study: STUDY_B, series: `${STUDY_B}.1`, sops: [`${STUDY_B}.1.1`, `${STUDY_B}.1.2`] },
];
const sopsOf = (study: string): string[] => LAYOUT.filter((s) => s.study === study).flatMap((s) => s.sops).sort();
// makeDataset's patient.
const PATIENT_NAME = 'Test^Store';

function run(args: string[], timeout = 20_000): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TRACER, ...args], { env, timeout, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, out: `${stdout}${stderr}` });
    });
  });
}


const accepts = (port: number): Promise<boolean> =>
  new Promise<boolean>((res) => {
    const s = net.connect(port, '127.0.0.1', () => (s.destroy(), res(true)));
    s.on('error', () => res(false));
  });

let dir: string;
let node: TestNode | undefined;
let orthanc: ChildProcess | undefined;
let orthancLog = '';
let dicomPort = 0;
let httpPort = 0;

async function rest(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const txt = await r.text();
  if (!r.ok) throw new Error(`Orthanc ${method} ${path}: HTTP ${r.status} ${txt}`);
  return txt ? (JSON.parse(txt) as unknown) : undefined;
}

/** SOP Instance UIDs in the node's store (files are named after them, or contain them). */
async function nodeSops(): Promise<string[]> {
  return (await listFiles(node!.root)).filter((f) => !f.startsWith('tmp') && !f.includes('/tmp/'));
}

before(async () => {
  if (!TOOLS.every(hasTool)) return;
  dir = await mkdtemp(join(tmpdir(), 'tracer-orthanc-'));
  dicomPort = await freePort();
  httpPort = await freePort();
  // The Tracer node (move destination and Orthanc's C-STORE target) knows ORTHANC as a node.
  node = await startTestNode((c) => {
    c.storeScu.retry = { count: 0, intervalSeconds: 1 };
    c.nodes = [adHocNode({ name: 'orthanc', aeTitle: 'ORTHANC', host: '127.0.0.1', port: dicomPort })];
  });
  await mkdir(join(dir, 'storage'));
  await mkdir(join(dir, 'index'));
  const config = {
    Name: 'tracer-interop',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    Plugins: [],
    HttpServerEnabled: true,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomServerEnabled: true,
    DicomAet: 'ORTHANC',
    DicomPort: dicomPort,
    DicomCheckCalledAet: false,
    DicomCheckModalityHost: false,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowFind: true,
    DicomAlwaysAllowGet: true,
    DicomAlwaysAllowMove: true,
    DicomScuTimeout: 10,
    DicomModalities: {
      tracer: ['TRACER', '127.0.0.1', node.port],
      getscu: ['GETSCU', '127.0.0.1', 4242],
    },
  };
  const cfgPath = join(dir, 'orthanc.json');
  await writeFile(cfgPath, JSON.stringify(config, null, 2));
  orthanc = spawn('Orthanc', [cfgPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer) => {
    orthancLog = (orthancLog + b.toString('utf8')).slice(-20_000);
  };
  orthanc.stdout!.on('data', keep);
  orthanc.stderr!.on('data', keep);
  let exited = false;
  orthanc.once('exit', () => (exited = true));
  await until(async () => {
    if (exited) throw new Error(`Orthanc exited during start-up:\n${orthancLog}`);
    return (await accepts(dicomPort)) && (await accepts(httpPort));
  }, 20_000, 'Orthanc listening');

  // Synthetic instances, written as Part 10 files and stored with `tracer store`.
  const src = join(dir, 'src');
  await mkdir(src);
  for (const s of LAYOUT) {
    for (const sop of s.sops) {
      await writeFile(join(src, `${sop}.dcm`), part10(EXPLICIT_VR_LITTLE_ENDIAN, makeDataset({ sopInstance: sop, study: s.study, series: s.series }, 512), CT, sop));
    }
  }
});

after(async () => {
  if (orthanc && orthanc.exitCode === null) {
    const gone = new Promise<void>((r) => orthanc!.once('exit', () => r()));
    orthanc.kill('SIGTERM');
    const timer = setTimeout(() => orthanc!.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  await node?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('tracer store fills Orthanc with two studies in three series', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const r = await run(['store', '--aet', 'TRACER', '--aec', 'ORTHANC', '--retries', '0', '127.0.0.1', String(dicomPort), join(dir, 'src')]);
  assert.equal(r.code, 0, `${r.out}\n--- Orthanc ---\n${orthancLog}`);
  const stats = (await rest('GET', '/statistics')) as { CountStudies: number; CountSeries: number; CountInstances: number };
  assert.equal(stats.CountStudies, 2);
  assert.equal(stats.CountSeries, 3);
  assert.equal(stats.CountInstances, 5);
  const instances = (await rest('GET', '/instances?expand')) as { MainDicomTags: { SOPInstanceUID: string } }[];
  assert.deepEqual(instances.map((i) => i.MainDicomTags.SOPInstanceUID).sort(), LAYOUT.flatMap((s) => s.sops).sort());
});

test('tracer find at STUDY level returns the stored studies (table and --json)', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const base = ['find', '-L', 'STUDY', '-k', 'StudyInstanceUID', '-k', `PatientName=${PATIENT_NAME}`, '--aec', 'ORTHANC', '127.0.0.1', String(dicomPort)];
  const table = await run(base);
  assert.equal(table.code, 0, table.out);
  assert.ok(table.stdout.includes(STUDY_A) && table.stdout.includes(STUDY_B), table.out);

  const j = await run([...base, '--json']);
  assert.equal(j.code, 0, j.out);
  const matches = JSON.parse(j.stdout) as Record<string, { vr: string; Value?: unknown[] }>[];
  assert.equal(matches.length, 2, j.stdout);
  assert.deepEqual(matches.map((m) => m['0020000D']?.Value?.[0]).sort(), [STUDY_A, STUDY_B]);
  for (const m of matches) {
    assert.equal(m['0020000D']?.vr, 'UI');
    assert.equal((m['00100010']?.Value?.[0] as { Alphabetic?: string } | undefined)?.Alphabetic, PATIENT_NAME, JSON.stringify(m));
  }

  // A wildcard that matches nothing: no studies, still success.
  const none = await run(['find', '-L', 'STUDY', '-k', 'StudyInstanceUID', '-k', 'PatientName=Nobody*', '--aec', 'ORTHANC', '--json', '127.0.0.1', String(dicomPort)]);
  assert.equal(none.code, 0, none.out);
  assert.deepEqual(JSON.parse(none.stdout), []);

  // SERIES level within study A: its two series.
  const series = await run(['find', '-L', 'SERIES', '-k', `StudyInstanceUID=${STUDY_A}`, '-k', 'SeriesInstanceUID', '--aec', 'ORTHANC', '--json', '127.0.0.1', String(dicomPort)]);
  assert.equal(series.code, 0, series.out);
  const sm = JSON.parse(series.stdout) as Record<string, { Value?: unknown[] }>[];
  assert.deepEqual(sm.map((m) => m['0020000E']?.Value?.[0]).sort(), [`${STUDY_A}.1`, `${STUDY_A}.2`]);
});

test('tracer move --dest TRACER: Orthanc sends study A to the Tracer node', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const before = await nodeSops();
  const r = await run(['move', '--dest', 'TRACER', '--retries', '0', '-k', `StudyInstanceUID=${STUDY_A}`, '--aec', 'ORTHANC', '127.0.0.1', String(dicomPort)]);
  assert.equal(r.code, 0, `${r.out}\n--- Orthanc ---\n${orthancLog}`);
  await until(async () => (await nodeSops()).length >= before.length + 3, 5000, 'files in the node');
  const added = (await nodeSops()).filter((f) => !before.includes(f));
  for (const sop of sopsOf(STUDY_A)) assert.ok(added.some((f) => f.includes(sop)), `${sop} not in ${added.join(', ')}`);
  assert.equal(added.length, 3, added.join(', '));
  const stores = node!.logs.filter((l) => l.calling === 'ORTHANC' && typeof l.sopInstanceUid === 'string');
  assert.ok(stores.length >= 3, 'C-STOREs from ORTHANC logged');
});

test('tracer get --out DIR --aet GETSCU: study B written under DIR', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const out = join(dir, 'get');
  const r = await run(['get', '--out', out, '--retries', '0', '--aet', 'GETSCU', '--aec', 'ORTHANC', '-k', `StudyInstanceUID=${STUDY_B}`, '127.0.0.1', String(dicomPort)]);
  assert.equal(r.code, 0, `${r.out}\n--- Orthanc ---\n${orthancLog}`);
  const files = await listFiles(out);
  const series = `${STUDY_B}.1`;
  assert.deepEqual(files.sort(), sopsOf(STUDY_B).map((s) => join(STUDY_B, series, `${s}.dcm`)).sort());
});

test('Orthanc as SCU: C-ECHO and C-STORE of study B into the Tracer node (REST API)', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  // C-ECHO: Orthanc answers 200 with an empty object when the echo succeeded.
  await rest('POST', '/modalities/tracer/echo', {});
  const lookup = (await rest('POST', '/tools/lookup', STUDY_B)) as { ID: string; Type: string }[];
  const study = lookup.find((x) => x.Type === 'Study');
  assert.ok(study, JSON.stringify(lookup));
  const before = await nodeSops();
  const res = (await rest('POST', '/modalities/tracer/store', { Resources: [study.ID], Synchronous: true })) as { InstancesCount?: number; FailedInstancesCount?: number };
  assert.equal(res.FailedInstancesCount ?? 0, 0, JSON.stringify(res));
  await until(async () => (await nodeSops()).length >= before.length + 2, 5000, 'files in the node');
  const added = (await nodeSops()).filter((f) => !before.includes(f));
  for (const sop of sopsOf(STUDY_B)) assert.ok(added.some((f) => f.includes(sop)), `${sop} not in ${added.join(', ')}`);
  assert.ok(node!.logs.some((l) => l.calling === 'ORTHANC' && l.msg !== 'association rejected'), 'association from ORTHANC');
});
