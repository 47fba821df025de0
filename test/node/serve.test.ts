/**
 * `tracer serve` as a process (what `npm start` runs): embedded defaults in an empty directory,
 * command-line overrides over a configuration file, structured JSON logs with every PDU under
 * --verbose, echo and store from a client, graceful exit 0 on SIGTERM and SIGINT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CStoreRq, IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION_SOP_CLASS } from '../../src/net/index.js';
import { hasTool } from '../helpers/peers.js';
import { startServe } from '../helpers/serve-process.js';
import { CT, STUDY, SERIES, connect, listFiles, makeDataset } from '../helpers/node.js';

test('tracer serve with the embedded defaults: echo and store work, --verbose logs PDUs, SIGTERM exits 0', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'tracer-serve-'));
  const s = await startServe(cwd, ['--verbose']);
  try {
    assert.ok(s.logs.some((l) => l.msg === 'starting tracer' && l.config === '(embedded defaults)'));
    const a = await connect(s.port, [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }, { abstractSyntax: CT, transferSyntaxes: ['1.2.840.10008.1.2.1'] }]);
    assert.equal(await a.echo(), 0);
    const sop = '1.2.826.0.1.3680043.9.7.100.1.7';
    const rsp = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: sop }), { dataset: makeDataset({ sopInstance: sop }, 100) });
    assert.equal(rsp.Status, 0);
    await a.release();
    if (hasTool('echoscu')) {
      const r = await new Promise<{ code: number; out: string }>((resolve) =>
        execFile('echoscu', ['-aec', 'TRACER', '127.0.0.1', String(s.port)], { env: { ...process.env, TCP_NODELAY: '1' } }, (err, o, e) => resolve({ code: err ? 1 : 0, out: o + e })),
      );
      assert.equal(r.code, 0, r.out);
    }
    // defaults: AE TRACER, data in ./tracer-data of the working directory
    assert.deepEqual(await listFiles(join(cwd, 'tracer-data')), [`${STUDY}/${SERIES}/${sop}.dcm`]);
    assert.ok((await stat(join(cwd, 'tracer-data', '.incoming'))).isDirectory());
    assert.ok(s.logs.some((l) => l.msg === 'PDU received' && l.type === 'A-ASSOCIATE-RQ'));
    assert.ok(s.logs.some((l) => l.msg === 'PDU sent' && l.type === 'A-ASSOCIATE-AC'));
    assert.ok(s.logs.some((l) => l.msg === 'PDU received' && l.type === 'P-DATA-TF' && typeof l.length === 'number'));
    assert.ok(s.logs.some((l) => l.msg === 'stored' && l.sopInstanceUid === sop));
    assert.ok(s.logs.some((l) => l.msg === 'association accepted' && l.calling === 'TESTSCU' && l.called === 'TRACER'));
    assert.equal(await s.stop('SIGTERM'), 0);
    assert.ok(s.logs.some((l) => l.msg === 'stopped'));
  } finally {
    await s.stop('SIGKILL');
    await rm(cwd, { recursive: true, force: true });
  }
});

test('tracer serve --config FILE: command-line options win; SIGINT waits for a running association', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'tracer-serve-'));
  await writeFile(join(cwd, 'tracer.yaml'), 'localAEs:\n  - aeTitle: FROMFILE\n    port: 11112\nstore:\n  root: ./from-file\nstorage:\n  minFreeDiskMb: 0\n');
  const s = await startServe(cwd, ['--config', 'tracer.yaml', '--aet', 'OVERRIDE', '--data', 'override-data', '--grace', '2']);
  try {
    const a = await connect(s.port, [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }], { calledAETitle: 'OVERRIDE' });
    assert.equal(await a.echo(), 0);
    // SIGINT while the association is open: the node waits (grace), then ends it and exits 0
    const t0 = Date.now();
    s.proc.kill('SIGINT');
    await a.closed;
    assert.equal(await s.exited, 0);
    assert.ok(Date.now() - t0 < 5000);
    assert.ok((await stat(join(cwd, 'override-data'))).isDirectory());
    assert.ok(s.logs.some((l) => l.msg === 'listening' && l.aeTitles === 'OVERRIDE'));
  } finally {
    await s.stop('SIGKILL');
    await rm(cwd, { recursive: true, force: true });
  }
});
