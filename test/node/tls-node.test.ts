/**
 * A running node with a TLS local AE (REQUIREMENTS SEC-001..003, PS3.15 B.1): startNode with
 * tls.ts's listener factory accepts mutual-TLS associations from pinned peers only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Association, IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION_SOP_CLASS } from '../../src/net/index.js';
import { tlsConnector, tlsListenerFactory, type SecurityLog } from '../../src/net/tls.js';
import { resolveConfig } from '../../src/node/config.js';
import { requireTools } from '../helpers/peers.js';
import { pki } from '../helpers/pki.js';
import { startTestNode } from '../helpers/node.js';

test('startNode + tlsListenerFactory: a pinned client echoes over TLS; an unpinned one and plain TCP are refused', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  const clientPin = (await p.prints('client.crt')).sha256;
  const events: Array<Record<string, unknown> | undefined> = [];
  const log: SecurityLog = { warn: (_m, f) => void events.push(f) };
  const node = await startTestNode(
    (c) => {
      c.localAEs[0]!.tls = { enabled: true, certificate: p.f('server.crt'), privateKey: p.f('server.key'), ca: [p.f('ca.crt')], requirePeerCertificate: true, pinnedThumbprints: [], legacyTls10: false };
      c.nodes = resolveConfig({ nodes: [{ name: 'modality', aeTitle: 'MODALITY', host: '127.0.0.1', port: 104, tls: { enabled: true, pinnedThumbprints: [clientPin] } }] }).nodes;
    },
    { listenerFactory: tlsListenerFactory(log) },
  );
  try {
    const echo = async (certificate: string, privateKey: string): Promise<number> => {
      const connect = tlsConnector({ host: '127.0.0.1', port: node.port, tls: { certificate, privateKey, ca: [p.f('ca.crt')] } }, undefined, undefined, { timeoutMs: 5000 });
      const a = await Association.request({ connect, callingAETitle: 'MODALITY', calledAETitle: 'TRACER', timeouts: { acse: 5000 }, presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
      const status = await a.echo();
      await a.release();
      return status;
    };
    assert.equal(await echo(p.f('client.crt'), p.f('client.key')), 0);
    // noeku.crt is issued by the trusted CA but not pinned by any node
    await assert.rejects(echo(p.f('noeku.crt'), p.f('noeku.key')));
    const plain = Association.request({ port: node.port, callingAETitle: 'MODALITY', calledAETitle: 'TRACER', timeouts: { acse: 2000 }, presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
    await assert.rejects(plain);
    for (let i = 0; i < 50 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(String(events[0]?.reason), /certificate not pinned \(CN=no-eku, sha256:/);
    assert.match(String(events[1]?.reason), /not a TLS client/);
    assert.ok(events.every((e) => e?.event === 'security' && e.ae === 'TRACER'));
  } finally {
    await node.stop();
  }
});

test('tracer echo and tracer store reach a TLS node registered in the configuration', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const { execFile } = await import('node:child_process');
  // The node runs in this process: the CLI must run asynchronously, or the node could not answer.
  const run = (args: string[]) => new Promise<{ status: number; out: string }>((resolve) => {
    execFile(process.execPath, args, { encoding: 'utf8' }, (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr }));
  });
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const { makeDataset, listFiles } = await import('../helpers/node.js');
  const p = await pki();
  const clientPin = (await p.prints('client.crt')).sha256;
  const serverPin = (await p.prints('server.crt')).sha1;
  const node = await startTestNode(
    (c) => {
      c.localAEs[0]!.tls = { enabled: true, certificate: p.f('server.crt'), privateKey: p.f('server.key'), ca: [p.f('ca.crt')], requirePeerCertificate: true, pinnedThumbprints: [], legacyTls10: false };
      c.nodes = resolveConfig({ nodes: [{ name: 'modality', aeTitle: 'MODALITY', host: '127.0.0.1', port: 104, tls: { enabled: true, pinnedThumbprints: [clientPin] } }] }).nodes;
    },
    { listenerFactory: tlsListenerFactory() },
  );
  const dir = mkdtempSync(join(tmpdir(), 'tracer-tls-cli-'));
  try {
    const cfg = join(dir, 'tracer.yaml');
    writeFileSync(cfg, [
      'localAEs:',
      '  - aeTitle: MODALITY',
      '    tls:',
      `      certificate: ${p.f('client.crt')}`,
      `      privateKey: ${p.f('client.key')}`,
      'nodes:',
      '  - name: archive',
      '    aeTitle: TRACER',
      '    host: 127.0.0.1',
      `    port: ${node.port}`,
      '    tls:',
      '      enabled: true',
      `      pinnedThumbprints: ["${serverPin}"]`,
      '',
    ].join('\n'));
    const file = join(dir, 'ct.dcm');
    const { part10 } = await import('../helpers/build.js');
    const ds = makeDataset({ sopInstance: '1.2.826.0.1.3680043.9.7.100.1.7' });
    writeFileSync(file, part10('1.2.840.10008.1.2.1', ds, '1.2.840.10008.5.1.4.1.1.2', '1.2.826.0.1.3680043.9.7.100.1.7'));
    const tracer = fileURLToPath(new URL('../../../bin/tracer', import.meta.url));
    const e = await run([tracer, 'echo', '--config', cfg, 'archive']);
    assert.equal(e.status, 0, e.out);
    const s = await run([tracer, 'store', '--config', cfg, '--no-progress', 'archive', file]);
    assert.equal(s.status, 0, s.out);
    assert.equal((await listFiles(node.root)).filter((f) => f.endsWith('.dcm')).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await node.stop();
  }
});
