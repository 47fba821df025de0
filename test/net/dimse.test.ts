/**
 * DIMSE over associations: command set bytes (PS3.7 Annex E, Implicit VR LE), fragmentation to
 * the peer's Maximum Length, multi-response operations, C-CANCEL, the asynchronous operations
 * window, C-STORE sub-operations of a C-GET on the same association, and streaming data sets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  Association,
  AssociationServer,
  CEchoRq,
  CFindRq,
  CFindRsp,
  CGetRq,
  CStoreRq,
  IMPLICIT_VR_LITTLE_ENDIAN,
  NActionRq,
  Status,
  VERIFICATION_SOP_CLASS,
  associateRq,
  decodeCommandSet,
  decodePdu,
  encodeCommandSet,
  messageFromCommandSet,
  type Handlers,
  type PDataTf,
} from '../../src/net/index.js';
import { RawPeer, hex } from './raw-peer.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const FIND = '1.2.840.10008.5.1.4.1.2.2.1';
const GET = '1.2.840.10008.5.1.4.1.2.2.3';
const COMMIT = '1.2.840.10008.1.20.1';

test('C-ECHO-RQ command set: exact Implicit VR LE bytes with CommandGroupLength (PS3.7 E.1)', () => {
  const cs = { ...new CEchoRq({ MessageID: 1 }).toCommandSet(), CommandDataSetType: 0x0101 };
  const bytes = encodeCommandSet(cs);
  const expected = hex(
    '00000000 04000000 38000000' + // (0000,0000) UL 4: 56
      '00000200 12000000' + Buffer.from('1.2.840.10008.1.1\0').toString('hex') + // (0000,0002) UI, NUL-padded to 18
      '00000001 02000000 3000' + // (0000,0100) CommandField C-ECHO-RQ
      '00001001 02000000 0100' + // (0000,0110) MessageID 1
      '00000008 02000000 0101', // (0000,0800) no data set
  );
  assert.deepEqual(bytes, expected);
  const back = decodeCommandSet(bytes);
  assert.deepEqual(back, { CommandGroupLength: 56, AffectedSOPClassUID: VERIFICATION_SOP_CLASS, CommandField: 0x30, MessageID: 1, CommandDataSetType: 0x0101 });
  const m = messageFromCommandSet(back);
  assert.ok(m instanceof CEchoRq);
  assert.equal(m.MessageID, 1);
});

test('command set codec: AE padding, AT lists, unknown elements skipped, errors with offsets', () => {
  const b = encodeCommandSet({ CommandField: 0x21, MessageID: 3, MoveDestination: 'DEST', AttributeIdentifierList: [0x00100010, 0x7fe00010], ErrorComment: 'odd' });
  const d = decodeCommandSet(b);
  assert.equal(d.MoveDestination, 'DEST');
  assert.deepEqual(d.AttributeIdentifierList, [0x00100010, 0x7fe00010]);
  assert.equal(d.ErrorComment, 'odd');
  // (0000,0902) 'odd' padded to 'odd ' (LO, space)
  assert.ok(b.includes(Buffer.from('odd ')));
  const withUnknown = Buffer.concat([b, hex('0000 5555 02000000 0000')]);
  assert.deepEqual(decodeCommandSet(withUnknown), d);
  assert.throws(() => decodeCommandSet(b.subarray(0, b.length - 1)), /declares .* bytes but only .* remain \(command set byte \d+\)/);
  assert.throws(() => decodeCommandSet(hex('0800 1800 02000000 0000')), /outside group 0000/);
});

function sopClasses(...uids: string[]): Record<string, true> {
  return Object.fromEntries(uids.map((u) => [u, true]));
}

async function pair(handlers: Handlers, opts: { async?: boolean; serverMaxPdu?: number; clientMaxPdu?: number; clientHandlers?: Handlers; roles?: boolean } = {}) {
  const server = new AssociationServer({
    policy: {
      abstractSyntaxes: sopClasses(VERIFICATION_SOP_CLASS, CT, FIND, GET, COMMIT),
      asyncOperations: opts.async ? { maxInvoked: 0, maxPerformed: 4 } : undefined,
      acceptRoleSelection: opts.roles ? () => true : undefined,
    },
    maxPduReceive: opts.serverMaxPdu ?? 32768,
    handlers,
  });
  const { port } = await server.listen(0);
  const assoc = await Association.request({
    port,
    callingAETitle: 'SCU',
    calledAETitle: 'SCP',
    maxPduReceive: opts.clientMaxPdu ?? 32768,
    asyncOperations: opts.async ? { maxInvoked: 8, maxPerformed: 1 } : undefined,
    roleSelections: opts.roles ? [{ sopClassUid: CT, scuRole: true, scpRole: true }] : undefined,
    handlers: opts.clientHandlers,
    presentationContexts: [VERIFICATION_SOP_CLASS, CT, FIND, GET, COMMIT].map((a) => ({ abstractSyntax: a, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] })),
  });
  return { server, assoc, port };
}

function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test('C-STORE streams a 5 MB data set both ways with back-pressure; bytes arrive intact', async () => {
  const data = pattern(5 * 1024 * 1024 + 13);
  let received: string | undefined;
  let maxChunk = 0;
  const { server, assoc } = await pair({
    'C-STORE': async (rq, ctx) => {
      const h = createHash('sha256');
      for await (const c of ctx.dataset!) {
        h.update(c as Buffer);
        maxChunk = Math.max(maxChunk, (c as Buffer).length);
        await new Promise((r) => setImmediate(r)); // a slow consumer
      }
      received = h.digest('hex');
      assert.equal(rq.AffectedSOPInstanceUID, '1.2.3.4');
      assert.equal(ctx.dataset!.transferSyntax, IMPLICIT_VR_LITTLE_ENDIAN);
      return { Status: 0 };
    },
  });
  try {
    // source in odd-sized chunks
    const chunks = function* () {
      for (let o = 0; o < data.length; o += 70001) yield data.subarray(o, Math.min(data.length, o + 70001));
    };
    const rsp = await assoc.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: '1.2.3.4' }), { dataset: Readable.from(chunks()) });
    assert.equal(rsp.Status, 0);
    assert.equal(rsp.AffectedSOPInstanceUID, '1.2.3.4');
    assert.equal(rsp.MessageIDBeingRespondedTo, 1);
    assert.equal(received, createHash('sha256').update(data).digest('hex'));
    assert.ok(maxChunk <= 32768, 'chunks are PDV pieces, not a whole data set');
    await assoc.release();
  } finally {
    await server.close();
  }
});

test('sent PDUs never exceed the peer Maximum Length; command and data fragments carry the right control headers', async () => {
  // A raw acceptor advertising 1000 bytes records what our requestor sends.
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as import('node:net').AddressInfo).port;
  const peerP = new Promise<RawPeer>((r) => srv.once('connection', (s) => r(RawPeer.wrap(s))));
  try {
    const aP = Association.request({ port, callingAETitle: 'A', calledAETitle: 'B', presentationContexts: [{ abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
    const peer = await peerP;
    await peer.readPdu();
    peer.send({ type: 'A-ASSOCIATE-AC', protocolVersion: 1, calledAETitle: 'B', callingAETitle: 'A', applicationContextName: '1.2.840.10008.3.1.1.1', presentationContexts: [{ id: 1, result: 0, transferSyntax: IMPLICIT_VR_LITTLE_ENDIAN }], userInformation: { maxLength: 1000 } });
    const a = await aP;
    const data = pattern(10_000);
    const op = a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: '9' }), { dataset: data });
    const pdvs: PDataTf['pdvs'] = [];
    while (!pdvs.some((p) => (p.messageControlHeader & 3) === 2)) {
      const b = (await peer.readPdu())!;
      assert.ok(b.length - 6 <= 1000, `PDU of ${b.length - 6} bytes`);
      pdvs.push(...(decodePdu(b) as PDataTf).pdvs);
    }
    const cmd = pdvs.filter((p) => p.messageControlHeader & 1);
    const ds = pdvs.filter((p) => !(p.messageControlHeader & 1));
    assert.equal(cmd.at(-1)!.messageControlHeader, 3);
    assert.ok(ds.slice(0, -1).every((p) => p.messageControlHeader === 0 && p.data.length === 994));
    assert.equal(ds.at(-1)!.messageControlHeader, 2);
    assert.deepEqual(Buffer.concat(ds.map((p) => p.data)), data);
    const csBytes = Buffer.concat(cmd.map((p) => p.data));
    const rq = messageFromCommandSet(decodeCommandSet(csBytes)) as CStoreRq;
    assert.equal(rq.AffectedSOPInstanceUID, '9');
    // answer
    const rspCmd = encodeCommandSet({ CommandField: 0x8001, MessageIDBeingRespondedTo: rq.MessageID, AffectedSOPClassUID: CT, AffectedSOPInstanceUID: '9', Status: 0xb000, CommandDataSetType: 0x0101 });
    peer.send({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, messageControlHeader: 3, data: rspCmd }] });
    assert.equal((await op).Status, 0xb000);
    const rel = a.release();
    assert.deepEqual(await peer.readPdu(), hex('05 00 00000004 00000000'));
    peer.send(hex('06 00 00000004 00000000'));
    await rel;
  } finally {
    srv.close();
  }
});

test('C-FIND: pending responses with identifiers, then success; awaiting gives the final response', async () => {
  const { server, assoc } = await pair({
    'C-FIND': async function* (_rq, ctx) {
      const id = await ctx.dataset!.toBuffer();
      for (let i = 0; i < 3; i++) yield { Status: Status.Pending, dataset: Buffer.concat([id, Buffer.from([i])]) };
    },
  });
  try {
    const got: CFindRsp[] = [];
    for await (const r of assoc.sendRequest(new CFindRq({ AffectedSOPClassUID: FIND }), { dataset: hex('0800 5200 06000000 535455445920') })) got.push(r);
    assert.deepEqual(got.map((r) => r.Status), [0xff00, 0xff00, 0xff00, 0]);
    assert.deepEqual(got[2]!.dataset, hex('0800 5200 06000000 535455445920 02'));
    assert.equal(got[3]!.dataset, undefined);
    const final = await assoc.sendRequest(new CFindRq({ AffectedSOPClassUID: FIND }), { dataset: hex('0800 5200 00000000') });
    assert.equal(final.Status, 0);
    await assoc.release();
  } finally {
    await server.close();
  }
});

test('C-CANCEL stops a C-FIND: the handler sees the signal, the final status is Cancel', async () => {
  const { server, assoc } = await pair({
    'C-FIND': async function* (_rq, ctx) {
      for (let i = 0; i < 1000 && !ctx.signal.aborted; i++) {
        yield { Status: Status.Pending, dataset: Buffer.alloc(8) };
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  });
  try {
    const op = assoc.sendRequest(new CFindRq({ AffectedSOPClassUID: FIND }), { dataset: Buffer.alloc(8) });
    let n = 0;
    let last = -1;
    for await (const r of op) {
      n++;
      last = r.Status;
      if (n === 3) await op.cancel();
    }
    assert.equal(last, Status.Cancel);
    assert.ok(n < 50, `${n} responses`);
    await assoc.release();
  } finally {
    await server.close();
  }
});

test('asynchronous operations window: several requests outstanding, matched by MessageIDBeingRespondedTo', async () => {
  let active = 0;
  let peak = 0;
  const { server, assoc } = await pair(
    {
      'N-ACTION': async (rq) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 60 - rq.ActionTypeID * 10));
        active--;
        return { Status: 0, ActionTypeID: rq.ActionTypeID };
      },
    },
    { async: true },
  );
  try {
    assert.equal(assoc.negotiated!.maxOutgoing, 4, 'min(our 8 invoked, their 4 performed)');
    assert.equal(assoc.negotiated!.maxIncoming, 1);
    const ops = [1, 2, 3, 4, 5].map((i) => assoc.sendRequest(new NActionRq({ RequestedSOPClassUID: COMMIT, RequestedSOPInstanceUID: '1.2.840.10008.1.20.1.1', ActionTypeID: i })));
    const rsps = await Promise.all(ops);
    assert.deepEqual(rsps.map((r) => r.ActionTypeID), [1, 2, 3, 4, 5]);
    assert.deepEqual(rsps.map((r) => r.MessageIDBeingRespondedTo), ops.map((o) => o.messageId));
    assert.equal(peak, 4, 'the acceptor performed up to its window at once');
    await assoc.release();
  } finally {
    await server.close();
  }
});

test('without the window item, operations run one at a time', async () => {
  let active = 0;
  let peak = 0;
  const { server, assoc } = await pair({
    'C-ECHO': async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 10));
      active--;
      return 0;
    },
  });
  try {
    assert.deepEqual(await Promise.all([assoc.echo(), assoc.echo(), assoc.echo()]), [0, 0, 0]);
    assert.equal(peak, 1);
    await assoc.release();
  } finally {
    await server.close();
  }
});

test('C-GET: the SCP sends C-STORE sub-operations on the same association (SCP role for the SCU)', async () => {
  const stored: string[] = [];
  const { server, assoc } = await pair(
    {
      'C-GET': async function* (_rq, ctx) {
        for (let i = 0; i < 3; i++) {
          const r = await ctx.association.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: `1.2.${i}` }), { dataset: pattern(3000, i) });
          assert.equal(r.Status, 0);
          yield { Status: Status.Pending, NumberOfRemainingSuboperations: 2 - i, NumberOfCompletedSuboperations: i + 1, NumberOfFailedSuboperations: 0, NumberOfWarningSuboperations: 0 };
        }
        yield { Status: 0, NumberOfCompletedSuboperations: 3, NumberOfFailedSuboperations: 0, NumberOfWarningSuboperations: 0 };
      },
    },
    {
      roles: true,
      clientHandlers: {
        'C-STORE': async (rq, ctx) => {
          const b = await ctx.dataset!.toBuffer();
          stored.push(`${rq.AffectedSOPInstanceUID}:${b.length}`);
          return 0;
        },
      },
    },
  );
  try {
    const ctx = assoc.findContext(CT)!;
    assert.equal(ctx.requestorIsScp, true, 'role selection accepted');
    const rsps = [];
    for await (const r of assoc.sendRequest(new CGetRq({ AffectedSOPClassUID: GET }), { dataset: Buffer.alloc(8) })) rsps.push(r);
    assert.deepEqual(stored, ['1.2.0:3000', '1.2.1:3000', '1.2.2:3000']);
    assert.deepEqual(rsps.map((r) => r.NumberOfCompletedSuboperations), [1, 2, 3, 3]);
    await assoc.release();
  } finally {
    await server.close();
  }
});

test('a handler that throws is answered with 0110H and its message; an unknown service with 0211H', async () => {
  const { server, assoc } = await pair({
    'C-STORE': async () => {
      throw new Error('disk full');
    },
  });
  try {
    const r = await assoc.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: '1' }), { dataset: pattern(100_000) });
    assert.equal(r.Status, 0x0110);
    assert.equal(r.ErrorComment, 'disk full');
    const n = await assoc.sendRequest(new NActionRq({ RequestedSOPClassUID: COMMIT, RequestedSOPInstanceUID: '1', ActionTypeID: 1 }));
    assert.equal(n.Status, 0x0211);
    assert.equal(await assoc.echo(), 0, 'association still usable');
    await assoc.release();
  } finally {
    await server.close();
  }
});

test('DIMSE timeout aborts the association and fails the operation (ASSOC-021)', async () => {
  const { server, port } = await pair({ 'C-ECHO': () => new Promise(() => undefined) });
  try {
    const a = await Association.request({ port, callingAETitle: 'A', calledAETitle: 'B', timeouts: { dimse: 150 }, presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
    await assert.rejects(a.echo(), /no response to message 1 .* within 150 ms/);
    await a.closed;
    assert.ok(a.fsm.history.some((t) => t.action === 'AA-1'));
  } finally {
    await server.close();
  }
});

test('requests on a context that was not accepted fail clearly', async () => {
  const { server, assoc } = await pair({});
  try {
    await assert.rejects(assoc.sendRequest(new CStoreRq({ AffectedSOPClassUID: '1.2.3', AffectedSOPInstanceUID: '1' }), { dataset: Buffer.alloc(2) }).then((r) => r), /no accepted presentation context for 1\.2\.3/);
    await assoc.release();
  } finally {
    await server.close();
  }
});

test('a PDV on a context that was not accepted is a protocol error: A-ABORT 2/6', async () => {
  const server = new AssociationServer({ policy: { abstractSyntaxes: sopClasses(VERIFICATION_SOP_CLASS) } });
  const { port } = await server.listen(0);
  try {
    const p = await RawPeer.connect(port);
    p.send(associateRq({ calledAETitle: 'B', callingAETitle: 'A', presentationContexts: [{ id: 1, abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }], userInformation: { maxLength: 0 } }));
    assert.equal((await p.readPdu())![0], 2);
    p.send({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 5, messageControlHeader: 3, data: Buffer.alloc(4) }] });
    assert.deepEqual(await p.readPdu(), hex('07 00 00000004 00 00 02 06'));
    p.destroy();
  } finally {
    await server.close();
  }
});
