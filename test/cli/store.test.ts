/**
 * `tracer store` and `tracer echo` as commands: help, usage errors, a node registered in the
 * configuration in place of HOST PORT, exit codes and the failure listing, against Tracer's
 * own acceptor answering chosen statuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssociationServer, VERIFICATION_SOP_CLASS } from '../../src/net/index.js';
import { instanceUid, makeInstances } from '../helpers/instances.js';
import { tracer } from '../helpers/storescp.js';

async function acceptor(status: (uid: string) => number, aeTitles?: string[]) {
  const server = new AssociationServer({
    policy: { aeTitles, abstractSyntaxes: (a: string) => (a === VERIFICATION_SOP_CLASS || a.startsWith('1.2.840.10008.5.1.4.1.1.') ? ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] : undefined) },
    handlers: {
      'C-ECHO': () => 0,
      'C-STORE': async (rq, ctx) => {
        for await (const _ of ctx.dataset!) void _;
        return status(rq.AffectedSOPInstanceUID);
      },
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port };
}

test('--help for echo and store; usage errors say what is wrong', async () => {
  const h = await tracer(['store', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Usage: tracer store \[options\] HOST PORT FILE\|DIR\.\.\./);
  assert.match(h.stdout, /--associations N/);
  const e = await tracer(['echo', '-h']);
  assert.equal(e.code, 0);
  assert.match(e.stdout, /Usage: tracer echo \[options\] HOST PORT/);
  const noPort = await tracer(['store', 'somehost', 'file.dcm']);
  assert.equal(noPort.code, 1);
  assert.match(noPort.stderr, /'somehost' is not a registered node and 'file\.dcm' is not a port number/);
  const noFiles = await tracer(['store', '127.0.0.1', '104']);
  assert.equal(noFiles.code, 1);
  assert.match(noFiles.stderr, /no FILE or DIR given/);
  const badAe = await tracer(['echo', '--aec', 'A\\B', '127.0.0.1', '104']);
  assert.match(badAe.stderr, /--aec 'A\\B' is not a valid AE title/);
  const badOpt = await tracer(['store', '--on-refused', 'maybe', '127.0.0.1', '104', 'x']);
  assert.match(badOpt.stderr, /--on-refused: expected retry, continue or fail/);
});

test('a registered node stands for HOST PORT; its AE title is called; failures are listed and exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-cli-store-'));
  const peer = await acceptor((uid) => (uid === instanceUid(1) ? 0xa710 : uid === instanceUid(2) ? 0xb000 : 0), ['PACS']);
  try {
    const files = makeInstances(dir, 4);
    const cfg = join(dir, 'tracer.yaml');
    writeFileSync(cfg, `localAEs:\n  - aeTitle: NMWS\nnodes:\n  - name: pacs\n    aeTitle: PACS\n    host: 127.0.0.1\n    port: ${peer.port}\n    onRefused: continue\n`);
    const echo = await tracer(['echo', '-c', cfg, 'pacs']);
    assert.equal(echo.code, 0, echo.stderr);
    assert.match(echo.stdout, /Verification of PACS@127\.0\.0\.1:\d+ \(pacs\) succeeded/);
    const r = await tracer(['store', '-c', cfg, 'pacs', ...files]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Failed \(1\):\n {2}.*img00001\.dcm: A710 Refused: Remote Database could not write dataset/);
    assert.match(r.stdout, /Stored with warnings \(1\):\n {2}.*img00002\.dcm: B000 Warning: Coercion of data elements/);
    assert.match(r.stdout, /FAILED: 3 of 4 file\(s\) stored on PACS@127\.0\.0\.1:\d+ \(pacs\) \(1 with warnings\), 1 failed, 0 skipped/);
    // Plain log lines when stderr is not a terminal.
    assert.match(r.stderr, /sending 4 of 4 files/);
    assert.match(r.stderr, /association accepted/);
    // Only warnings: success.
    const ok = await tracer(['store', '-q', '-c', cfg, 'pacs', files[0]!, files[2]!]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.stdout, '');
    // The wrong called AE title: rejected, with the reason.
    const wrong = await tracer(['store', '--json', '--aec', 'OTHER', '127.0.0.1', String(peer.port), files[0]!]);
    assert.equal(wrong.code, 1);
    const report = JSON.parse(wrong.stdout) as { state: string; results: { error: string }[] };
    assert.equal(report.state, 'FAILED');
    assert.match(report.results[0]!.error, /rejected-permanent.*called-AE-title-not-recognized/);
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
