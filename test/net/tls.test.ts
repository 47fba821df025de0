/**
 * TLS (PS3.15 B.1; REQUIREMENTS SEC-001..005): Tracer requestor <-> Tracer acceptor, mutual TLS,
 * trust, pinning in both directions, EKU, protocol floor, and DCMTK interoperability
 * (echoscu/storescu -> Tracer, Tracer -> storescp). A throwaway PKI is made with openssl per run.
 */
import { test } from 'node:test';
import { datasetOffset } from '../helpers/node.js';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import {
  Association,
  AssociationServer,
  CStoreRq,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  VERIFICATION_SOP_CLASS,
} from '../../src/net/index.js';
import {
  inboundFromNodes,
  listenTls,
  normalizeThumbprint,
  tlsConnector,
  tlsServerOptions,
  TlsConfigError,
  TlsHandshakeError,
  type SecurityLog,
  type TlsEndpoint,
  type TlsGlobal,
  type TlsServerExtras,
} from '../../src/net/tls.js';
import { pki, type Pki } from '../helpers/pki.js';
import { requireTools } from '../helpers/peers.js';
import { makeCtFile } from '../helpers/dcmtk-files.js';
import { freePort } from '../helpers/storescp.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SOP_INSTANCE = '1.2.826.0.1.3680043.9.7.91';
const env = { ...process.env, TCP_NODELAY: '1' };

function run(cmd: string, args: string[], cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}



// ------------------------------------------------------------------ Tracer <-> Tracer helpers

interface Capture extends SecurityLog {
  events: Array<{ msg: string; fields?: Record<string, unknown> }>;
}
function capture(): Capture {
  const events: Capture['events'] = [];
  return { events, warn: (msg, fields) => void events.push({ msg, fields }), debug: () => {} };
}

async function startTlsServer(ae: TlsEndpoint, global?: TlsGlobal, extras: TlsServerExtras = {}): Promise<{ server: AssociationServer; port: number; stored: Buffer[] }> {
  const stored: Buffer[] = [];
  const server = new AssociationServer({
    policy: { aeTitles: ['TRACER'], abstractSyntaxes: { [VERIFICATION_SOP_CLASS]: true, [CT]: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] } },
    handlers: {
      'C-ECHO': () => 0,
      'C-STORE': async (_rq, ctx) => {
        const parts: Buffer[] = [];
        for await (const c of ctx.dataset!) parts.push(c as Buffer);
        stored.push(Buffer.concat(parts));
        return 0;
      },
    },
  });
  const { port } = await listenTls(server, 0, '127.0.0.1', ae, global, extras);
  return { server, port, stored };
}

function request(port: number, connect: () => Promise<tls.TLSSocket>, calledAETitle = 'TRACER'): Promise<Association> {
  return Association.request({
    connect,
    callingAETitle: 'TRACERSCU',
    calledAETitle,
    timeouts: { acse: 5000 },
    presentationContexts: [
      { abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] },
      { abstractSyntax: CT, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] },
    ],
  });
}

/** Echo over TLS; resolves with the error when it fails. */
async function tryEcho(port: number, nodeTls: TlsEndpoint, log?: SecurityLog, global?: TlsGlobal): Promise<Error | undefined> {
  try {
    const a = await request(port, tlsConnector({ host: '127.0.0.1', port, name: 'peer', tls: nodeTls }, global, undefined, { timeoutMs: 5000, log }));
    assert.equal(await a.echo(), 0);
    await a.release();
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

function serverAe(p: Pki, more: Partial<TlsEndpoint> = {}): TlsEndpoint {
  return { enabled: true, certificate: p.f('server.crt'), privateKey: p.f('server.key'), ca: [p.f('ca.crt')], ...more };
}
function clientNode(p: Pki, more: Partial<TlsEndpoint> = {}): TlsEndpoint {
  return { enabled: true, certificate: p.f('client.crt'), privateKey: p.f('client.key'), ca: [p.f('ca.crt')], ...more };
}

/** Waits for the server side to notice a refusal (it logs after the client saw the close). */
async function eventually(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
}

// ------------------------------------------------------------------ tests

test('thumbprints are normalised: colons, case, prefix optional', () => {
  const hex = 'ab'.repeat(32);
  assert.equal(normalizeThumbprint(`SHA256:${hex.match(/../g)!.join(':')}`), `sha256:${hex.toUpperCase()}`);
  assert.equal(normalizeThumbprint('cd'.repeat(20)), `sha1:${'CD'.repeat(20)}`);
  assert.throws(() => normalizeThumbprint('sha1:abcd'), /expected sha1:<40 hex digits>/);
});

test('unreadable or non-PEM files give errors naming the file', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  await writeFile(p.f('junk.pem'), 'not a certificate\n');
  assert.throws(() => tlsServerOptions(serverAe(p, { certificate: p.f('missing.crt') })), (e: Error) => e instanceof TlsConfigError && /cannot read certificate file .*missing\.crt \(ENOENT\)/.test(e.message));
  assert.throws(() => tlsServerOptions(serverAe(p, { certificate: p.f('junk.pem') })), /junk\.pem is not a PEM certificate/);
  assert.throws(() => tlsServerOptions(serverAe(p, { privateKey: p.f('junk.pem') })), /junk\.pem is not a PEM private key/);
  assert.throws(() => tlsServerOptions(serverAe(p, { ca: [p.f('server.key')] })), /server\.key is not a PEM CA certificate/);
  assert.throws(() => tlsServerOptions(serverAe(p, { privateKey: p.f('client.key') })), /private key .*client\.key does not belong to certificate .*server\.crt/);
  assert.throws(() => tlsConnector({ host: '127.0.0.1', port: 1, tls: clientNode(p, { pinnedThumbprints: ['sha1:12'] }) }), /pinned thumbprint 'sha1:12'/);
  const o = tlsServerOptions(serverAe(p)).options;
  assert.equal(o.minVersion, 'TLSv1.2');
  assert.equal(o.requestCert, true);
  assert.equal(o.rejectUnauthorized, false); // checkPeer() refuses, with a logged reason
  const legacy = tlsServerOptions(serverAe(p, { legacyTls10: true })).options;
  assert.equal(legacy.minVersion, 'TLSv1');
  assert.match(legacy.ciphers!, /@SECLEVEL=0$/);
});

test('Tracer requestor <-> Tracer acceptor over mutual TLS: C-ECHO and C-STORE', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  const log = capture();
  const { server, port, stored } = await startTlsServer(serverAe(p), undefined, { log });
  try {
    const a = await request(port, tlsConnector({ host: '127.0.0.1', port, tls: clientNode(p) }, undefined, undefined, { timeoutMs: 5000 }));
    const sock = a.socket as tls.TLSSocket;
    assert.ok(sock instanceof tls.TLSSocket);
    assert.match(sock.getProtocol() ?? '', /TLSv1\.[23]/);
    assert.equal(await a.echo(), 0);
    const data = Buffer.alloc(200_000, 7);
    const rsp = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: SOP_INSTANCE }), { transferSyntax: EXPLICIT_VR_LITTLE_ENDIAN, dataset: data });
    assert.equal(rsp.Status, 0);
    await a.release();
    assert.equal(stored.length, 1);
    assert.deepEqual(stored[0], data);
    // The plain TCP path is not open on a TLS port (SEC-001): a DICOM request gets nowhere.
    const plain = await Association.request({ port, callingAETitle: 'X', calledAETitle: 'TRACER', timeouts: { acse: 2000 }, presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] }).then(
      () => 'accepted',
      () => 'refused',
    );
    assert.equal(plain, 'refused');
    await eventually(() => log.events.length > 0);
    assert.match(String(log.events[0]!.fields!.reason), /not a TLS client\? this port takes TLS only, SEC-001/);
    assert.match(String(log.events[0]!.fields!.peer), /127\.0\.0\.1:\d+$/);
  } finally {
    await server.close();
  }
});

test('mutual TLS: a client without certificate, or with one from another CA, is refused and logged', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  const log = capture();
  const { server, port } = await startTlsServer(serverAe(p), undefined, { log, name: 'localAEs.0' });
  try {
    const noCert = await tryEcho(port, { ca: [p.f('ca.crt')] });
    assert.ok(noCert, 'client without certificate must be refused');
    await eventually(() => log.events.length > 0);
    assert.equal(log.events.length, 1);
    assert.equal(log.events[0]!.fields!.event, 'security');
    assert.equal(log.events[0]!.fields!.reason, 'no peer certificate (mutual TLS required, SEC-002)');
    const wrongCa = await tryEcho(port, { certificate: p.f('rogue.crt'), privateKey: p.f('rogue.key'), ca: [p.f('ca.crt')] });
    assert.ok(wrongCa, 'client certificate from an untrusted CA must be refused');
    await eventually(() => log.events.length > 1);
    assert.match(String(log.events[1]!.fields!.reason), /^certificate CN=rogue not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)$/);
    assert.match(String(log.events[1]!.fields!.peer), /^127\.0\.0\.1:\d+$/);
    // requirePeerCertificate false: anonymous clients are let in
    const open = await startTlsServer(serverAe(p, { requirePeerCertificate: false }));
    try {
      assert.equal(await tryEcho(open.port, { ca: [p.f('ca.crt')] }), undefined);
      // ...but a presented untrusted certificate still is refused
      assert.ok(await tryEcho(open.port, { certificate: p.f('rogue.crt'), privateKey: p.f('rogue.key'), ca: [p.f('ca.crt')] }));
    } finally {
      await open.server.close();
    }
  } finally {
    await server.close();
  }
});

test('requestor refuses a server whose certificate comes from an untrusted CA', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  const { server, port } = await startTlsServer(serverAe(p, { certificate: p.f('rogue.crt'), privateKey: p.f('rogue.key') }));
  const log = capture();
  try {
    const e = await tryEcho(port, clientNode(p), log);
    assert.ok(e instanceof TlsHandshakeError, String(e));
    assert.match(e.message, new RegExp(`^TLS handshake with 127\\.0\\.0\\.1:${port} failed: .*(certificate|issuer)`, 'i'));
    assert.equal(log.events.length, 1);
    assert.equal(log.events[0]!.fields!.event, 'security');
  } finally {
    await server.close();
  }
});

test('a peer that never answers the handshake times out with a clear error', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  // reads (so that it sees our close) but never answers
  const silent = net.createServer((s) => s.on('error', () => {}).resume());
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address() as net.AddressInfo;
  try {
    const connect = tlsConnector({ host: '127.0.0.1', port, tls: clientNode(p) }, undefined, undefined, { timeoutMs: 300 });
    await assert.rejects(connect(), (e: Error) => e instanceof TlsHandshakeError && e.message === `TLS handshake with 127.0.0.1:${port} failed: no TLS handshake within 300 ms`);
  } finally {
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('pinning (SEC-003): SHA-256 and SHA-1 of the leaf or of the CA accepted, in both directions; a mismatch refused', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  const [caP, clientP, serverP, rogueP] = await Promise.all([p.prints('ca.crt'), p.prints('client.crt'), p.prints('server.crt'), p.prints('rogue.crt')]);
  const colons = (s: string): string => s.replace(/^(sha\d+):/, '$1:').replace(/([0-9A-F]{2})(?=[0-9A-F])/g, '$1:').toLowerCase();
  // inbound: the acceptor pins the client (leaf sha256, CA sha1 with colons in lower case)
  for (const pin of [clientP.sha256, colons(caP.sha1)]) {
    const { server, port } = await startTlsServer(serverAe(p, { pinnedThumbprints: [pin] }));
    try {
      assert.equal(await tryEcho(port, clientNode(p)), undefined, `inbound pin ${pin}`);
    } finally {
      await server.close();
    }
  }
  // inbound pin mismatch: trusted chain but not pinned -> refused, logged with the leaf thumbprint
  {
    const log = capture();
    const { server, port } = await startTlsServer(serverAe(p), undefined, { pins: [rogueP.sha256], log });
    try {
      assert.ok(await tryEcho(port, clientNode(p)));
      await eventually(() => log.events.length > 0);
      assert.match(String(log.events[0]!.fields!.reason), new RegExp(`certificate not pinned \\(CN=tracer-client, ${clientP.sha256}\\)`));
    } finally {
      await server.close();
    }
  }
  // outbound: the requestor pins the server (leaf sha1, CA sha256)
  const { server, port } = await startTlsServer(serverAe(p));
  try {
    for (const pin of [serverP.sha1, caP.sha256]) assert.equal(await tryEcho(port, clientNode(p, { pinnedThumbprints: [pin] })), undefined, `outbound pin ${pin}`);
    const log = capture();
    const e = await tryEcho(port, clientNode(p, { pinnedThumbprints: [rogueP.sha1] }), log);
    assert.ok(e instanceof TlsHandshakeError);
    assert.equal(e.message, `TLS handshake with 127.0.0.1:${port} failed: certificate not pinned (CN=tracer-server, ${serverP.sha256})`);
    assert.equal(log.events[0]!.fields!.event, 'security');
  } finally {
    await server.close();
  }
});

test('pin-only trust (no CA): a pinned self-signed certificate works; an unpinned one and a copied pinned CA do not', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  const [selfP, caP] = await Promise.all([p.prints('self.crt'), p.prints('ca.crt')]);
  const self: TlsEndpoint = { enabled: true, certificate: p.f('self.crt'), privateKey: p.f('self.key') };
  // Both ends self-signed, each pinning the other's certificate; no CA anywhere.
  const { server, port } = await startTlsServer({ ...self, pinnedThumbprints: [selfP.sha256] });
  try {
    assert.equal(await tryEcho(port, { ...self, pinnedThumbprints: [selfP.sha1] }), undefined);
    assert.ok(await tryEcho(port, { ...self, pinnedThumbprints: [caP.sha256] }));
  } finally {
    await server.close();
  }
  // A server presenting a leaf issued by a look-alike CA + a copy of the pinned CA certificate:
  // the pinned certificate is in the presented chain, but the link does not verify.
  await writeFile(p.f('forged-chain.crt'), (await readFile(p.f('forged.crt'), 'latin1')) + (await readFile(p.f('ca.crt'), 'latin1')));
  const fake = await startTlsServer({ enabled: true, certificate: p.f('forged-chain.crt'), privateKey: p.f('forged.key'), requirePeerCertificate: false });
  try {
    const e = await tryEcho(fake.port, { pinnedThumbprints: [caP.sha256] });
    assert.ok(e instanceof TlsHandshakeError, String(e));
    assert.match(e.message, /not signed by CN=Tracer Test CA/);
  } finally {
    await fake.server.close();
  }
});

test('EKU (SEC-004): a clientAuth-only certificate is refused as server; a certificate without EKU is accepted', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  const clientOnly = await startTlsServer(serverAe(p, { certificate: p.f('clientonly.crt'), privateKey: p.f('clientonly.key') }));
  try {
    // with a CA, OpenSSL's purpose check refuses it; pin-only, Tracer's own check does
    const e1 = await tryEcho(clientOnly.port, clientNode(p));
    assert.ok(e1 instanceof TlsHandshakeError);
    assert.match(e1.message, /purpose|Extended Key Usage/i);
    const e2 = await tryEcho(clientOnly.port, { certificate: p.f('client.crt'), privateKey: p.f('client.key'), pinnedThumbprints: [(await p.prints('clientonly.crt')).sha256] });
    assert.ok(e2 instanceof TlsHandshakeError);
    assert.match(e2.message, /Extended Key Usage lacks serverAuth \(1\.3\.6\.1\.5\.5\.7\.3\.1\) needed for a SCP/);
  } finally {
    await clientOnly.server.close();
  }
  // and a serverAuth-only certificate is refused as client
  const { server, port } = await startTlsServer(serverAe(p, { pinnedThumbprints: [(await p.prints('server.crt')).sha256] }));
  try {
    assert.ok(await tryEcho(port, clientNode(p, { certificate: p.f('server.crt'), privateKey: p.f('server.key') })));
  } finally {
    await server.close();
  }
  const noEku = await startTlsServer(serverAe(p, { certificate: p.f('noeku.crt'), privateKey: p.f('noeku.key') }));
  try {
    assert.equal(await tryEcho(noEku.port, clientNode(p, { pinnedThumbprints: [(await p.prints('noeku.crt')).sha256] })), undefined);
    // without pins the host name / IP is checked against the certificate (which has no SAN here)
    const e = await tryEcho(noEku.port, clientNode(p));
    assert.ok(e instanceof TlsHandshakeError);
    assert.match(e.message, /IP: 127\.0\.0\.1 is not in the cert's list|altnames/);
  } finally {
    await noEku.server.close();
  }
});

test('SEC-005: a TLS 1.1 client is refused by default; legacyTls10 admits TLS 1.0/1.1, from legacy nodes only', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const p = await pki();
  /** A raw TLS <= 1.1 client: 'error ...', 'closed' (refused after the handshake) or 'kept TLSv1.x'. */
  const old = (port: number, name: string, maxVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.3' = 'TLSv1.1'): Promise<string> =>
    new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, maxVersion, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0', cert: readFileSyncUtf(p.f(`${name}.crt`)), key: readFileSyncUtf(p.f(`${name}.key`)), rejectUnauthorized: false });
      s.once('secureConnect', () => {
        const timer = setTimeout(() => {
          resolve(`kept ${s.getProtocol()}`);
          s.destroy();
        }, 300);
        s.once('close', () => {
          clearTimeout(timer);
          resolve('closed');
        });
      });
      s.once('error', (e) => resolve(`error ${e.message}`));
    });
  const strict = await startTlsServer(serverAe(p));
  try {
    assert.match(await old(strict.port, 'client'), /^error .*(version|protocol)/i);
  } finally {
    await strict.server.close();
  }
  // the AE itself in legacy mode: anyone trusted may use TLS 1.0/1.1
  const legacyAe = await startTlsServer(serverAe(p, { legacyTls10: true }));
  try {
    assert.equal(await old(legacyAe.port, 'client', 'TLSv1'), 'kept TLSv1');
    assert.equal(await old(legacyAe.port, 'noeku'), 'kept TLSv1.1');
    assert.equal(await tryEcho(legacyAe.port, clientNode(p, { legacyTls10: true })), undefined);
  } finally {
    await legacyAe.server.close();
  }
  // legacy because one remote node needs it: the old protocol only for that node's certificate
  const [clientP, caP] = await Promise.all([p.prints('client.crt'), p.prints('ca.crt')]);
  const nodes = [
    { tls: { enabled: true, legacyTls10: true, pinnedThumbprints: [clientP.sha256] } },
    { tls: { enabled: true, pinnedThumbprints: [caP.sha256] } },
    { tls: { enabled: false, legacyTls10: true, pinnedThumbprints: [(await p.prints('noeku.crt')).sha1] } },
  ];
  const log = capture();
  const mixed = await startTlsServer(serverAe(p), undefined, { ...inboundFromNodes(nodes), log });
  try {
    assert.equal(await old(mixed.port, 'client'), 'kept TLSv1.1');
    // refused once the server has checked the peer: during (TLS 1.1, server finishes last) or after the handshake
    assert.match(await old(mixed.port, 'noeku'), /^(closed|error .*disconnected before secure TLS connection)/);
    assert.equal(await old(mixed.port, 'noeku', 'TLSv1.3'), 'kept TLSv1.3');
    await eventually(() => log.events.length > 0);
    assert.equal(log.events[0]!.fields!.reason, 'TLSv1.1 is allowed only for nodes with legacyTls10 (SEC-005)');
  } finally {
    await mixed.server.close();
  }
});

function readFileSyncUtf(f: string): string {
  return readFileSync(f, 'utf8');
}

// ------------------------------------------------------------------ DCMTK interoperability



test('DCMTK echoscu/storescu +tls -> Tracer TLS acceptor (mutual TLS, pinned client CA)', async (t) => {
  if (!requireTools(t, 'openssl', 'echoscu', 'storescu', 'dump2dcm')) return;
  const p = await pki();
  const log = capture();
  const { server, port, stored } = await startTlsServer(serverAe(p, { pinnedThumbprints: [(await p.prints('ca.crt')).sha256] }), undefined, { log });
  const dir = await mkdtemp(join(tmpdir(), 'tracer-tls-dcmtk-'));
  try {
    const tlsArgs = ['+tls', p.f('client.key'), p.f('client.crt'), '+cf', p.f('ca.crt')];
    const r = await run('echoscu', ['-v', ...tlsArgs, '-aec', 'TRACER', '-aet', 'DCMTK', '127.0.0.1', String(port)]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Received Echo Response \(Success\)/);
    const file = await makeCtFile(dir, { sopInstanceUid: SOP_INSTANCE, studyInstanceUid: '1.2.826.0.1.3680043.9.7.92', seriesInstanceUid: '1.2.826.0.1.3680043.9.7.93', patientName: 'Test^Tls', patientId: 'TLS1', size: 16 });
    const s = await run('storescu', ['-v', ...tlsArgs, '-aec', 'TRACER', '127.0.0.1', String(port), file]);
    assert.equal(s.code, 0, s.out);
    assert.match(s.out, /Received Store Response \(Success\)/);
    const bytes = await readFile(file);
    assert.deepEqual(stored[0], bytes.subarray(datasetOffset(bytes)));
    // echoscu with a certificate of the untrusted CA, and anonymous TLS: refused
    const bad = await run('echoscu', ['+tls', p.f('rogue.key'), p.f('rogue.crt'), '+cf', p.f('ca.crt'), '-aec', 'TRACER', '127.0.0.1', String(port)]);
    assert.notEqual(bad.code, 0, bad.out);
    const anon = await run('echoscu', ['+tla', '+cf', p.f('ca.crt'), '-aec', 'TRACER', '127.0.0.1', String(port)]);
    assert.notEqual(anon.code, 0, anon.out);
    await eventually(() => log.events.length >= 2);
    assert.ok(log.events.length >= 2, JSON.stringify(log.events));
    // and echoscu refuses our server when it does not trust our CA
    const distrust = await run('echoscu', [...tlsArgs.slice(0, 3), '+cf', p.f('ca2.crt'), '-aec', 'TRACER', '127.0.0.1', String(port)]);
    assert.notEqual(distrust.code, 0, distrust.out);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('Tracer requestor -> DCMTK storescp +tls: C-ECHO and C-STORE received byte for byte; pins checked', async (t) => {
  if (!requireTools(t, 'openssl', 'storescp', 'dump2dcm')) return;
  const p = await pki();
  const dir = await mkdtemp(join(tmpdir(), 'tracer-tls-dcmtk-'));
  const procs: ChildProcess[] = [];
  try {
    const file = await makeCtFile(dir, { sopInstanceUid: SOP_INSTANCE, studyInstanceUid: '1.2.826.0.1.3680043.9.7.92', seriesInstanceUid: '1.2.826.0.1.3680043.9.7.93', patientName: 'Test^Tls', patientId: 'TLS1', size: 16 });
    const bytes = await readFile(file);
    const outDir = join(dir, 'out');
    await mkdir(outDir);
    const port = await freePort();
    const scp = spawn('storescp', ['+tls', p.f('server.key'), p.f('server.crt'), '+cf', p.f('ca.crt'), '-aet', 'STORESCP', '+B', '-od', outDir, String(port)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(scp);
    let scpOut = '';
    scp.stdout!.on('data', (d) => (scpOut += d));
    scp.stderr!.on('data', (d) => (scpOut += d));
    const node = { host: '127.0.0.1', port, name: 'storescp', tls: clientNode(p, { pinnedThumbprints: [(await p.prints('server.crt')).sha256] }) };
    const connect = tlsConnector(node, undefined, undefined, { timeoutMs: 5000 });
    let a: Association | undefined;
    for (let i = 0; i < 100 && !a; i++) {
      a = await request(port, connect, 'STORESCP').catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    assert.ok(a, `storescp did not come up: ${scpOut}`);
    assert.match((a.socket as tls.TLSSocket).getProtocol() ?? '', /TLSv1\.[23]/);
    assert.equal(await a.echo(), 0);
    const rsp = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: SOP_INSTANCE }), {
      transferSyntax: EXPLICIT_VR_LITTLE_ENDIAN,
      dataset: bytes.subarray(datasetOffset(bytes)),
    });
    assert.equal(rsp.Status, 0);
    await a.release();
    const files = await readdir(outDir);
    assert.equal(files.length, 1, files.join());
    const got = await readFile(join(outDir, files[0]!));
    assert.deepEqual(got.subarray(datasetOffset(got)), bytes.subarray(datasetOffset(bytes)));
    // the same storescp with a wrong pin: refused before any DICOM byte
    const wrong = tlsConnector({ ...node, tls: clientNode(p, { pinnedThumbprints: [(await p.prints('rogue.crt')).sha256] }) }, undefined, undefined, { timeoutMs: 5000 });
    await assert.rejects(request(port, wrong, 'STORESCP'), /TLS handshake with 127\.0\.0\.1:\d+ failed: certificate not pinned \(CN=tracer-server/);
    // and storescp refuses a client certificate it does not trust
    const rogue = tlsConnector({ ...node, tls: { certificate: p.f('rogue.crt'), privateKey: p.f('rogue.key'), ca: [p.f('ca.crt')] } }, undefined, undefined, { timeoutMs: 5000 });
    await assert.rejects(request(port, rogue, 'STORESCP'));
  } finally {
    await Promise.all(procs.map((pr) => new Promise<void>((r) => (pr.exitCode !== null || pr.signalCode !== null ? r() : (pr.once('exit', () => r()), pr.kill('SIGTERM'))))));
    await rm(dir, { recursive: true, force: true });
  }
});
