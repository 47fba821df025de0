/**
 * Interoperability with DCMTK: echoscu and storescu against our acceptor, and our requestor
 * against storescp (C-ECHO and a streamed C-STORE). The test file is made by DCMTK's dump2dcm,
 * and its data set part is cut out by walking the file meta group here, so nothing depends on
 * Tracer's own data layer.
 */
import { test } from 'node:test';
import { datasetOffset } from '../helpers/node.js';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Association, AssociationServer, CStoreRq, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION_SOP_CLASS } from '../../src/net/index.js';
import { requireTools } from '../helpers/peers.js';
import { makeCtFile } from '../helpers/dcmtk-files.js';
import { freePort } from '../helpers/storescp.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SOP_INSTANCE = '1.2.826.0.1.3680043.9.7.1';
const env = { ...process.env, TCP_NODELAY: '1' };

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}




function spawnTracked(procs: ChildProcess[], cmd: string, args: string[]): ChildProcess {
  const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  return p;
}

async function killAll(procs: ChildProcess[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((r) => {
          if (p.exitCode !== null || p.signalCode !== null) return r();
          p.once('exit', () => r());
          p.kill('SIGTERM');
        }),
    ),
  );
}

/** Waits until a DICOM acceptor answers C-ECHO on the port. */
async function waitForScp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const a = await Association.request({ port, callingAETitle: 'PROBE', calledAETitle: 'STORESCP', timeouts: { connect: 500 }, presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
      await a.release();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no SCP on port ${port}`);
}

test('echoscu -> our acceptor answers C-ECHO', async (t) => {
  if (!requireTools(t, 'echoscu')) return;
  const server = new AssociationServer({ policy: { aeTitles: ['TRACER'], abstractSyntaxes: { [VERIFICATION_SOP_CLASS]: true } } });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    const r = await run('echoscu', ['-v', '-aec', 'TRACER', '-aet', 'DCMTK', '127.0.0.1', String(port)]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Received Echo Response \(Success\)/);
    // wrong called AE title: rejected with called-AE-title-not-recognized
    const bad = await run('echoscu', ['-aec', 'NOBODY', '127.0.0.1', String(port)]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /Called AE Title Not Recognized/i);
    // echoscu with several repeats and small PDUs
    const rep = await run('echoscu', ['-aec', 'TRACER', '--repeat', '5', '-pdu', '4096', '127.0.0.1', String(port)]);
    assert.equal(rep.code, 0, rep.out);
  } finally {
    await server.close();
  }
});

test('our requestor -> DCMTK storescp: C-ECHO, then a C-STORE streamed from a file, received byte for byte', async (t) => {
  if (!requireTools(t, 'storescp', 'dump2dcm')) return;
  const dir = await mkdtemp(join(tmpdir(), 'tracer-net-'));
  const procs: ChildProcess[] = [];
  try {
    const file = await makeCtFile(dir, { sopInstanceUid: SOP_INSTANCE, studyInstanceUid: '1.2.826.0.1.3680043.9.7.2', seriesInstanceUid: '1.2.826.0.1.3680043.9.7.3', patientName: 'Test^Streaming', patientId: 'TRACER1' });
    const bytes = await readFile(file);
    const off = datasetOffset(bytes);
    const outDir = join(dir, 'out');
    await import('node:fs/promises').then((f) => f.mkdir(outDir));
    const port = await freePort();
    // +B: bit-preserving, writes the received data set as it came; -pdu 16384 forces many PDUs
    spawnTracked(procs, 'storescp', ['-aet', 'STORESCP', '+B', '-od', outDir, '-pdu', '16384', '+xa', String(port)]);
    await waitForScp(port);
    const a = await Association.request({
      port,
      callingAETitle: 'TRACER',
      calledAETitle: 'STORESCP',
      presentationContexts: [
        { abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] },
        { abstractSyntax: CT, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] },
      ],
    });
    assert.equal(a.negotiated!.peerMaxPdu, 16384);
    assert.equal(await a.echo(), 0);
    const rsp = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: SOP_INSTANCE }), {
      transferSyntax: EXPLICIT_VR_LITTLE_ENDIAN,
      dataset: createReadStream(file, { start: off, highWaterMark: 10_000 }),
    });
    assert.equal(rsp.Status, 0);
    await a.release();
    const files = await readdir(outDir);
    assert.equal(files.length, 1, files.join());
    const got = await readFile(join(outDir, files[0]!));
    assert.deepEqual(got.subarray(datasetOffset(got)), bytes.subarray(off));
  } finally {
    await killAll(procs);
    await rm(dir, { recursive: true, force: true });
  }
});

test('DCMTK storescu -> our acceptor: the C-STORE data set is streamed to a file, bytes equal the sent data set', async (t) => {
  if (!requireTools(t, 'storescu', 'dump2dcm')) return;
  const dir = await mkdtemp(join(tmpdir(), 'tracer-net-'));
  let chunks = 0;
  const server = new AssociationServer({
    maxPduReceive: 16384,
    policy: { aeTitles: ['TRACER'], abstractSyntaxes: { [CT]: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }, transferSyntaxPolicy: 'explicitFirst' },
    handlers: {
      'C-STORE': async (rq, ctx) => {
        assert.equal(ctx.dataset!.transferSyntax, EXPLICIT_VR_LITTLE_ENDIAN);
        ctx.dataset!.on('data', () => chunks++);
        await pipeline(ctx.dataset!, createWriteStream(join(dir, `${rq.AffectedSOPInstanceUID}.bin`)));
        return 0;
      },
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    const file = await makeCtFile(dir, { sopInstanceUid: SOP_INSTANCE, studyInstanceUid: '1.2.826.0.1.3680043.9.7.2', seriesInstanceUid: '1.2.826.0.1.3680043.9.7.3', patientName: 'Test^Streaming', patientId: 'TRACER1' });
    const bytes = await readFile(file);
    const r = await run('storescu', ['-v', '-aec', 'TRACER', '-pdu', '16384', '127.0.0.1', String(port), file]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Received Store Response \(Success\)/);
    const got = await readFile(join(dir, `${SOP_INSTANCE}.bin`));
    assert.deepEqual(got, bytes.subarray(datasetOffset(bytes)));
    assert.ok(chunks > 5, `data set arrived in ${chunks} chunks (streamed, not buffered)`);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
