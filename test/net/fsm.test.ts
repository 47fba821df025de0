/**
 * The upper layer state machine (PS3.8 9.2) against a scripted raw-socket peer that sends exact
 * bytes: every abnormal case must produce the A-ABORT / A-ASSOCIATE-RJ bytes the standard (and
 * REQUIREMENTS 3.7) prescribe, and the server must go on serving other associations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  Association,
  AssociationServer,
  CStoreRq,
  DATA_SET_PRESENT,
  IMPLICIT_VR_LITTLE_ENDIAN,
  TRANSITIONS,
  VERIFICATION_SOP_CLASS,
  associateRq,
  encodeCommandSet,
  encodePdu,
  pDataHeaders,
  type Association as Assoc,
} from '../../src/net/index.js';
import { RawPeer, hex } from './raw-peer.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const ABORT_USER = hex('07 00 00000004 00 00 00 00');
const ABORT_UNRECOGNIZED = hex('07 00 00000004 00 00 02 01');
const ABORT_UNEXPECTED = hex('07 00 00000004 00 00 02 02');
const ABORT_INVALID = hex('07 00 00000004 00 00 02 06');
const RELEASE_RQ = hex('05 00 00000004 00000000');
const RELEASE_RP = hex('06 00 00000004 00000000');

const rq = (called = 'TRACER', version = 1) =>
  associateRq({
    protocolVersion: version,
    calledAETitle: called,
    callingAETitle: 'RAW',
    presentationContexts: [
      { id: 1, abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] },
      { id: 3, abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] },
    ],
    userInformation: { maxLength: 16384, implementationClassUid: '1.2.3' },
  });

async function startServer(extra: Partial<ConstructorParameters<typeof AssociationServer>[0]> = {}) {
  const server = new AssociationServer({
    policy: { aeTitles: ['TRACER'], abstractSyntaxes: { [VERIFICATION_SOP_CLASS]: true, [CT]: true } },
    timeouts: { acse: 400 },
    maxPduReceive: 4096,
    ...extra,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const accepted: Assoc[] = [];
  server.on('association', (a: Assoc) => accepted.push(a));
  return { server, port, accepted };
}

/** A full association through the server still works (the server keeps serving). */
async function echoWorks(port: number): Promise<void> {
  const a = await Association.request({ port, callingAETitle: 'OK', calledAETitle: 'TRACER', presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
  assert.equal(await a.echo(), 0);
  await a.release();
}

async function associated(port: number): Promise<RawPeer> {
  const p = await RawPeer.connect(port);
  p.send(rq());
  const ac = await p.readPdu();
  assert.equal(ac?.[0], 0x02, 'A-ASSOCIATE-AC expected');
  return p;
}

test('Table 9-10 spot checks against the standard', () => {
  assert.equal(TRANSITIONS.Evt3.Sta2, 'AA-1');
  assert.equal(TRANSITIONS.Evt6.Sta13, 'AA-7');
  assert.equal(TRANSITIONS.Evt10.Sta7, 'AR-6');
  assert.equal(TRANSITIONS.Evt12.Sta7, 'AR-8');
  assert.equal(TRANSITIONS.Evt13.Sta10, 'AR-10');
  assert.equal(TRANSITIONS.Evt13.Sta11, 'AR-3');
  assert.equal(TRANSITIONS.Evt14.Sta12, 'AR-4');
  assert.equal(TRANSITIONS.Evt15.Sta4, 'AA-2');
  assert.equal(TRANSITIONS.Evt16.Sta13, 'AA-2');
  assert.equal(TRANSITIONS.Evt17.Sta2, 'AA-5');
  assert.equal(TRANSITIONS.Evt17.Sta13, 'AR-5');
  assert.equal(TRANSITIONS.Evt18.Sta2, 'AA-2');
  assert.equal(TRANSITIONS.Evt19.Sta13, 'AA-7');
  // every received-PDU event has a cell in every state with a transport connection
  for (const ev of ['Evt3', 'Evt4', 'Evt6', 'Evt10', 'Evt12', 'Evt13', 'Evt16', 'Evt17', 'Evt19'] as const) {
    for (const st of ['Sta2', 'Sta3', 'Sta5', 'Sta6', 'Sta7', 'Sta8', 'Sta9', 'Sta10', 'Sta11', 'Sta12', 'Sta13'] as const) {
      assert.ok(TRANSITIONS[ev][st], `${ev} ${st}`);
    }
  }
});

test('garbage instead of an A-ASSOCIATE-RQ: A-ABORT unrecognized-PDU, then ARTIM closes', async () => {
  const { server, port } = await startServer();
  try {
    const p = await RawPeer.connect(port);
    p.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.deepEqual(await p.readPdu(), ABORT_UNRECOGNIZED);
    assert.ok(await p.closesWithin(2000), 'closed by ARTIM (Sta13 + Evt18 = AA-2)');
    await echoWorks(port);
  } finally {
    await server.close();
  }
});

test('unknown PDU type during an association: A-ABORT 2/1 (AA-8)', async () => {
  const { server, port, accepted } = await startServer();
  try {
    const p = await associated(port);
    p.send(hex('0a 00 00000004 00000000'));
    assert.deepEqual(await p.readPdu(), ABORT_UNRECOGNIZED);
    p.destroy();
    await accepted[0]!.closed;
    assert.ok(accepted[0]!.fsm.history.some((t) => t.event === 'Evt19' && t.action === 'AA-8'));
    await echoWorks(port);
  } finally {
    await server.close();
  }
});

test('P-DATA-TF before the association: A-ABORT unexpected-PDU (Sta2 + Evt10 = AA-1)', async () => {
  const { server, port, accepted } = await startServer();
  try {
    const p = await RawPeer.connect(port);
    p.send(hex('04 00 00000008 00000004 01 03 0000'));
    assert.deepEqual(await p.readPdu(), ABORT_UNEXPECTED);
    p.destroy();
    await accepted[0]!.closed;
    assert.deepEqual(accepted[0]!.fsm.history.map((t) => t.action), ['AE-5', 'AA-1', 'AR-5']);
    await echoWorks(port);
  } finally {
    await server.close();
  }
});

test('malformed A-ASSOCIATE-RQ: A-ABORT invalid-PDU-parameter', async () => {
  const { server, port } = await startServer();
  try {
    const p = await RawPeer.connect(port);
    const b = encodePdu(rq());
    b.writeUInt16BE(0x7000, 76); // application context item length past the end
    p.send(b);
    assert.deepEqual(await p.readPdu(), ABORT_INVALID);
    p.destroy();
    await echoWorks(port);
  } finally {
    await server.close();
  }
});

test('P-DATA-TF longer than our advertised maximum: A-ABORT 0/0 before reading it (ASSOC-012)', async () => {
  const { server, port } = await startServer();
  try {
    const p = await associated(port);
    p.send(hex('04 00 00001001')); // 4097 > 4096, body never sent
    assert.deepEqual(await p.readPdu(), ABORT_USER);
    assert.ok(await p.closesWithin(2000));
    await echoWorks(port);
  } finally {
    await server.close();
  }
});

test('rejections carry the result/source/reason of ASSOC-063', async () => {
  const { server, port } = await startServer({ maxAssociations: 1 });
  try {
    let p = await RawPeer.connect(port);
    p.send(rq('NOTME'));
    assert.deepEqual(await p.readPdu(), hex('03 00 00000004 00 01 01 07'));
    assert.ok(await p.closesWithin(2000), 'ARTIM closes when the peer does not (Sta13)');

    p = await RawPeer.connect(port);
    p.send(rq('TRACER', 2)); // protocol version bit 0 not set
    assert.deepEqual(await p.readPdu(), hex('03 00 00000004 00 01 02 02'));
    p.destroy();

    p = await RawPeer.connect(port);
    p.send({ ...rq(), applicationContextName: '1.2.3' });
    assert.deepEqual(await p.readPdu(), hex('03 00 00000004 00 01 01 02'));
    p.destroy();

    p = await RawPeer.connect(port);
    p.send({ ...rq(), presentationContexts: [{ id: 1, abstractSyntax: '1.2.3.4', transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
    assert.deepEqual(await p.readPdu(), hex('03 00 00000004 00 01 02 01'));
    p.destroy();

    // association limit: one held open, the next is rejected transient 2/3/2
    const held = await associated(port);
    p = await RawPeer.connect(port);
    p.send(rq());
    assert.deepEqual(await p.readPdu(), hex('03 00 00000004 00 02 03 02'));
    p.destroy();
    held.send(RELEASE_RQ);
    assert.deepEqual(await held.readPdu(), RELEASE_RP);
    held.destroy();
  } finally {
    await server.close();
  }
});

test('ARTIM expiry: a connection that never sends an A-ASSOCIATE-RQ is closed (Sta2 + Evt18 = AA-2)', async () => {
  const { server, port, accepted } = await startServer();
  try {
    const p = await RawPeer.connect(port);
    const t0 = Date.now();
    assert.ok(await p.closesWithin(3000));
    assert.ok(Date.now() - t0 >= 350);
    assert.equal(await p.readPdu(), undefined, 'nothing sent');
    await accepted[0]!.closed;
    assert.deepEqual(accepted[0]!.fsm.history.map((t) => `${t.event}:${t.action}`), ['Evt5:AE-5', 'Evt18:AA-2']);
  } finally {
    await server.close();
  }
});

test('peer vanishes in the middle of a C-STORE data set: the handler sees an error, the server goes on', async () => {
  let seen: Error | undefined;
  let gotBytes = 0;
  const { server, port, accepted } = await startServer({
    handlers: {
      'C-STORE': async (_rq, ctx) => {
        try {
          for await (const c of ctx.dataset!) gotBytes += (c as Buffer).length;
        } catch (e) {
          seen = e as Error;
          throw e;
        }
        return 0;
      },
    },
  });
  try {
    const p = await associated(port);
    const cmd = encodeCommandSet({ ...new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: '1.2.3', MessageID: 7 }).toCommandSet(), CommandDataSetType: DATA_SET_PRESENT });
    p.send(Buffer.concat([pDataHeaders(cmd.length, 3, 0x03), cmd]));
    p.send(Buffer.concat([pDataHeaders(1000, 3, 0x00), Buffer.alloc(1000, 7)])); // not last
    await new Promise((r) => setTimeout(r, 100));
    p.destroy();
    await accepted[0]!.closed;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(gotBytes, 1000);
    assert.ok(seen, 'dataset stream failed');
    assert.match(accepted[0]!.error!.message, /closed the connection|closed/);
    await echoWorks(port);
  } finally {
    await server.close();
  }
});

test('release collision, acceptor side: Sta7 -> Sta10 -> Sta12 -> Sta13 (AR-8, AR-10, AR-4, AR-5)', async () => {
  const { server, port, accepted } = await startServer();
  try {
    const p = await associated(port);
    const a = accepted[0]!;
    const released = a.release(); // server sends A-RELEASE-RQ
    p.send(RELEASE_RQ); // and the peer does too
    assert.deepEqual(await p.readPdu(), RELEASE_RQ);
    p.send(RELEASE_RP); // peer is the requestor: answers first (Sta9 -> AR-9)
    assert.deepEqual(await p.readPdu(), RELEASE_RP);
    p.destroy();
    await released;
    const actions = a.fsm.history.map((t) => `${t.from}:${t.action}`);
    assert.deepEqual(actions.slice(-5), ['Sta6:AR-1', 'Sta7:AR-8', 'Sta10:AR-10', 'Sta12:AR-4', 'Sta13:AR-5']);
    assert.equal(a.error, undefined);
  } finally {
    await server.close();
  }
});

test('release collision, requestor side: Sta7 -> Sta9 -> Sta11 -> Sta1 (AR-8, AR-9, AR-3)', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  const peerP = new Promise<RawPeer>((r) => srv.once('connection', (s) => r(RawPeer.wrap(s))));
  try {
    const assocP = Association.request({ port, callingAETitle: 'T', calledAETitle: 'RAW', presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
    const peer = await peerP;
    const rqPdu = await peer.readPdu();
    assert.equal(rqPdu?.[0], 0x01);
    peer.send({
      type: 'A-ASSOCIATE-AC',
      protocolVersion: 1,
      calledAETitle: 'RAW',
      callingAETitle: 'T',
      applicationContextName: '1.2.840.10008.3.1.1.1',
      presentationContexts: [{ id: 1, result: 0, transferSyntax: IMPLICIT_VR_LITTLE_ENDIAN }],
      userInformation: { maxLength: 0, implementationClassUid: '1.2' },
    });
    const a = await assocP;
    const released = a.release();
    assert.deepEqual(await peer.readPdu(), RELEASE_RQ);
    peer.send(RELEASE_RQ); // collision
    assert.deepEqual(await peer.readPdu(), RELEASE_RP); // requestor answers in Sta9 (AR-9)
    peer.send(RELEASE_RP);
    await released;
    assert.ok(await peer.closesWithin(1000), 'requestor closes the transport (AR-3)');
    assert.deepEqual(a.fsm.history.map((t) => `${t.from}:${t.action}`).slice(-4), ['Sta6:AR-1', 'Sta7:AR-8', 'Sta9:AR-9', 'Sta11:AR-3']);
  } finally {
    srv.close();
  }
});

test('requestor: A-ASSOCIATE-AC accepting no context is answered with A-ABORT 0/0 (ASSOC-065)', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  const peerP = new Promise<RawPeer>((r) => srv.once('connection', (s) => r(RawPeer.wrap(s))));
  try {
    const assocP = Association.request({ port, callingAETitle: 'T', calledAETitle: 'RAW', presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
    assocP.catch(() => undefined);
    const peer = await peerP;
    await peer.readPdu();
    peer.send({
      type: 'A-ASSOCIATE-AC',
      protocolVersion: 1,
      calledAETitle: 'RAW',
      callingAETitle: 'T',
      applicationContextName: '1.2.840.10008.3.1.1.1',
      presentationContexts: [{ id: 1, result: 3, transferSyntax: '' }],
      userInformation: { maxLength: 0 },
    });
    await assert.rejects(assocP, /accepted none of the proposed presentation contexts/);
    assert.deepEqual(await peer.readPdu(), ABORT_USER);
    peer.destroy();
  } finally {
    srv.close();
  }
});

test('requestor: no A-ASSOCIATE-AC within the ACSE timeout: A-ABORT 0/0 and rejection', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  const peerP = new Promise<RawPeer>((r) => srv.once('connection', (s) => r(RawPeer.wrap(s))));
  try {
    const assocP = Association.request({ port, callingAETitle: 'T', calledAETitle: 'RAW', timeouts: { acse: 200 }, presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
    assocP.catch(() => undefined);
    const peer = await peerP;
    await peer.readPdu();
    await assert.rejects(assocP, /no A-ASSOCIATE-AC\/RJ/);
    assert.deepEqual(await peer.readPdu(), ABORT_USER);
    peer.destroy();
  } finally {
    srv.close();
  }
});

test('requestor: A-ASSOCIATE-RJ becomes an AssociationRejectedError naming the reason', async () => {
  const { server, port } = await startServer();
  try {
    await assert.rejects(
      Association.request({ port, callingAETitle: 'T', calledAETitle: 'WRONG', presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] }),
      /rejected-permanent.*called-AE-title-not-recognized/,
    );
    await assert.rejects(Association.request({ port: 1, callingAETitle: 'T', calledAETitle: 'X', presentationContexts: [] }), /cannot connect/);
  } finally {
    await server.close();
  }
});

test('inter-PDU timeout: a PDU that stops half way is aborted (A-ABORT 0/0)', async () => {
  const { server, port } = await startServer({ timeouts: { acse: 400, interPdu: 200 } });
  try {
    const p = await associated(port);
    p.send(hex('04 00 00000100 000000fc 01 03')); // announces 256 bytes, sends 6
    assert.deepEqual(await p.readPdu(2000), ABORT_USER);
    p.destroy();
    await echoWorks(port);
  } finally {
    await server.close();
  }
});

test('idle timeout releases the association normally (ASSOC-021)', async () => {
  const { server, port } = await startServer();
  try {
    const a = await Association.request({ port, callingAETitle: 'I', calledAETitle: 'TRACER', timeouts: { idle: 150 }, presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
    assert.equal(await a.echo(), 0);
    await a.closed;
    assert.equal(a.error, undefined, 'released, not aborted');
    assert.ok(a.fsm.history.some((t) => t.action === 'AR-1'));
  } finally {
    await server.close();
  }
});
