/**
 * DCMTK's movescu and getscu against Tracer's node (REQUIREMENTS 8.6, 0.4): a study of three
 * instances in two series is stored with storescu; movescu moves it (STUDY and SERIES level,
 * Study Root) to a storescp registered as a node, which receives the files over a separate
 * association; an unknown destination ends with A801, a retrieve of nothing with 0000 and zero
 * counts; getscu receives the study on its own association (SCP/SCU role selection). Tracer's
 * own requestor cancels a C-MOVE (FE00) and checks the pending counters.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adHocNode } from '../../src/node/config.js';
import { CMoveRq, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, type CMoveRsp } from '../../src/net/index.js';
import { STUDY_ROOT_MOVE } from '../../src/services/retrieve-scp.js';
import { part10, text } from '../helpers/build.js';
import { CT, connect, makeDataset, startTestNode, until, type TestNode } from '../helpers/node.js';
import { hasTool, requireTools } from '../helpers/peers.js';
import { freePort } from '../helpers/storescp.js';

const env = { ...process.env, TCP_NODELAY: '1' };
const TOOLS = ['movescu', 'getscu', 'storescu', 'storescp'];
const STUDY = '1.2.826.0.1.3680043.9.7.400';
const SERIES_A = `${STUDY}.1`;
const SERIES_B = `${STUDY}.2`;
const SOPS = [`${SERIES_A}.1`, `${SERIES_A}.2`, `${SERIES_B}.1`];

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 20_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}


let dir: string;
let node: TestNode | undefined;
let destPort = 0;
let storescp: ChildProcess | undefined;
let recvDir: string;

async function received(): Promise<string[]> {
  return (await readdir(recvDir)).sort();
}

async function clearReceived(): Promise<void> {
  await rm(recvDir, { recursive: true, force: true });
  await mkdir(recvDir, { recursive: true });
}

before(async () => {
  if (!TOOLS.every(hasTool)) return;
  dir = await mkdtemp(join(tmpdir(), 'tracer-retrieve-'));
  recvDir = join(dir, 'recv');
  await mkdir(recvDir);
  destPort = await freePort();
  node = await startTestNode((c) => {
    c.storeScu.retry = { count: 0, intervalSeconds: 1 };
    c.nodes = [
      adHocNode({ name: 'dest', aeTitle: 'DEST', host: '127.0.0.1', port: destPort }),
      adHocNode({ name: 'movescu', aeTitle: 'MOVESCU', host: '127.0.0.1', port: 1 }),
      adHocNode({ name: 'getscu', aeTitle: 'GETSCU', host: '127.0.0.1', port: 1 }),
      adHocNode({ name: 'storescu', aeTitle: 'STORESCU', host: '127.0.0.1', port: 1 }),
      adHocNode({ name: 'down', aeTitle: 'DOWN', host: '127.0.0.1', port: 1 }),
    ];
  });
  const files: string[] = [];
  for (const sop of SOPS) {
    const series = sop.startsWith(SERIES_A) ? SERIES_A : SERIES_B;
    const f = join(dir, `${sop}.dcm`);
    await writeFile(f, part10(EXPLICIT_VR_LITTLE_ENDIAN, makeDataset({ sopInstance: sop, study: STUDY, series }, 2048), CT, sop));
    files.push(f);
  }
  const r = await run('storescu', ['-aet', 'STORESCU', '-aec', 'TRACER', '127.0.0.1', String(node.port), ...files]);
  assert.equal(r.code, 0, r.out);
  storescp = spawn('storescp', ['-aet', 'DEST', '-od', recvDir, String(destPort)], { env, stdio: 'ignore' });
  // Wait until storescp listens.
  await until(
    () =>
      new Promise<boolean>((res) => {
        const s = net.connect(destPort, '127.0.0.1', () => (s.destroy(), res(true)));
        s.on('error', () => res(false));
      }),
    5000,
    'storescp listening',
  );
});

after(async () => {
  storescp?.kill();
  await node?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The final C-MOVE/C-GET response as DCMTK's --debug dump shows it. */
function finalOf(out: string): { status: number; completed: number; failed: number; warning: number } {
  const blocks = out.split(/(?=Message Type\s+: C-(?:MOVE|GET) RSP)/);
  const last = blocks[blocks.length - 1]!;
  const num = (name: string): number => Number(new RegExp(`${name}\\s*:\\s*(\\d+)`).exec(last)?.[1] ?? NaN);
  const status = parseInt(/DIMSE Status\s*:\s*0x([0-9a-f]{4})/i.exec(last)?.[1] ?? 'ffff', 16);
  return { status, completed: num('Completed Suboperations'), failed: num('Failed Suboperations'), warning: num('Warning Suboperations') };
}

function movescu(keys: string[], dest = 'DEST') {
  return run('movescu', ['-d', '-S', '-aet', 'MOVESCU', '-aec', 'TRACER', '-aem', dest, ...keys.flatMap((k) => ['-k', k]), '127.0.0.1', String(node!.port)]);
}

test('movescu STUDY level: the study arrives at the storescp destination, final 0000 with counts', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  await clearReceived();
  const r = await movescu(['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${STUDY}`]);
  assert.equal(r.code, 0, r.out);
  const f = finalOf(r.out);
  assert.deepEqual(f, { status: 0, completed: 3, failed: 0, warning: 0 }, r.out);
  assert.equal((r.out.match(/Message Type\s+: C-MOVE RSP/g) ?? []).length, 4, 'three pending responses and the final one');
  await until(async () => (await received()).length === 3, 5000, 'files at storescp');
  assert.deepEqual((await received()).map((n) => n.replace(/^CT\./, '')), [...SOPS].sort());
  const log = node!.logs.find((l) => l.msg === 'C-MOVE');
  assert.ok(log, 'C-MOVE logged');
});

test('movescu SERIES level: only that series moves', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  await clearReceived();
  const r = await movescu(['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${STUDY}`, `SeriesInstanceUID=${SERIES_A}`]);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(finalOf(r.out), { status: 0, completed: 2, failed: 0, warning: 0 }, r.out);
  await until(async () => (await received()).length === 2, 5000, 'files at storescp');
});

test('movescu to an unknown destination: A801', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const r = await movescu(['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${STUDY}`], 'NOWHERE');
  assert.equal(finalOf(r.out).status, 0xa801, r.out);
});

test('movescu of nothing: 0000 with zero counts', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const r = await movescu(['QueryRetrieveLevel=STUDY', 'StudyInstanceUID=1.2.3.999']);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(finalOf(r.out), { status: 0, completed: 0, failed: 0, warning: 0 }, r.out);
});

test('movescu to a destination that is down: A702, every sub-operation failed', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const r = await movescu(['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${STUDY}`], 'DOWN');
  const f = finalOf(r.out);
  assert.equal(f.status, 0xa702, r.out);
  assert.equal(f.failed, 3, r.out);
  assert.match(r.out, /Failed SOP Instance UID List|0008,0058/, r.out);
});

test('movescu without the unique key of the level: A900', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const r = await movescu(['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${STUDY}`]);
  assert.equal(finalOf(r.out).status, 0xa900, r.out);
});

test('getscu STUDY level: the instances arrive on the same association', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const od = join(dir, 'get');
  await mkdir(od, { recursive: true });
  const r = await run('getscu', ['-d', '-S', '-aet', 'GETSCU', '-aec', 'TRACER', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${STUDY}`, '-od', od, '127.0.0.1', String(node!.port)]);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(finalOf(r.out), { status: 0, completed: 3, failed: 0, warning: 0 }, r.out);
  assert.deepEqual((await readdir(od)).map((n) => n.replace(/^CT\./, '')).sort(), [...SOPS].sort());
});

test('C-MOVE cancelled by Tracer\'s requestor: FE00, sub-operations stop', async (t) => {
  if (!requireTools(t, ...TOOLS)) return;
  const assoc = await connect(node!.port, [{ abstractSyntax: STUDY_ROOT_MOVE, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }], { callingAETitle: 'MOVESCU' });
  try {
    const implicit = (g: number, e: number, v: Buffer): Buffer => {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(g, 0);
      h.writeUInt16LE(e, 2);
      h.writeUInt32LE(v.length, 4);
      return Buffer.concat([h, v]);
    };
    const ds = Buffer.concat([implicit(0x0008, 0x0052, text('STUDY')), implicit(0x0020, 0x000d, text(STUDY, '\0'))]);
    const op = assoc.sendRequest(new CMoveRq({ AffectedSOPClassUID: STUDY_ROOT_MOVE, MoveDestination: 'DEST' }), { dataset: ds });
    const rsps: CMoveRsp[] = [];
    let cancelled = false;
    for await (const r of op) {
      rsps.push(r);
      if (!cancelled && r.Status === 0xff00) {
        cancelled = true;
        await op.cancel();
      }
    }
    const last = rsps[rsps.length - 1]!;
    // Three instances are small: the move may finish before the cancel arrives.
    assert.ok(last.Status === 0xfe00 || last.Status === 0, `final ${last.Status.toString(16)}`);
    if (last.Status === 0xfe00) {
      assert.equal((last.NumberOfCompletedSuboperations ?? 0) + (last.NumberOfFailedSuboperations ?? 0) + (last.NumberOfRemainingSuboperations ?? 0) + (last.NumberOfWarningSuboperations ?? 0), 3);
    }
    assert.equal(rsps[0]!.Status, 0xff00);
    assert.equal(rsps[0]!.NumberOfRemainingSuboperations, 2);
    assert.equal(rsps[0]!.NumberOfCompletedSuboperations, 1);
  } finally {
    await assoc.release();
  }
});
