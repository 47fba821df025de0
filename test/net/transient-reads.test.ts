/**
 * Reads into one reused buffer (src/net/transport.ts): whatever the layers above keep of a
 * chunk must be a copy, since the next read overwrites it. Each test feeds its bytes through
 * one buffer that is filled with garbage after every push, as the transport does with
 * TRACER_POISON_READS, and checks what came out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { MessageAssembler } from '../../src/net/dimse/assembler.js';
import { DatasetStream } from '../../src/net/dimse/dataset-stream.js';
import {
  AssociationServer,
  Association,
  PduReader,
  VERIFICATION_SOP_CLASS,
  associateRq,
  decodePduBody,
  encodeCommandSet,
  encodePdu,
  type AnyMessage,
  type Pdu,
} from '../../src/net/index.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** Pushes `bytes` in pieces of `step` through one reused buffer, poisoned after each push. */
function feed(push: (chunk: Buffer) => void, bytes: Buffer, step: number): void {
  const reused = Buffer.alloc(step);
  for (let off = 0; off < bytes.length; off += step) {
    const n = bytes.copy(reused, 0, off, Math.min(bytes.length, off + step));
    push(reused.subarray(0, n));
    reused.fill(0xee);
  }
}

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** A C-STORE-RQ command and its data set in P-DATA-TF PDUs of at most `max` bytes of PDV data. */
function cStoreStream(dataset: Buffer, max: number, messageId: number): Buffer {
  const cmd = encodeCommandSet({ CommandField: 0x0001, MessageID: messageId, Priority: 0, AffectedSOPClassUID: CT, AffectedSOPInstanceUID: `1.2.3.${messageId}`, CommandDataSetType: 0x0001 });
  const pdus: Buffer[] = [encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, messageControlHeader: 0x03, data: cmd }] })];
  for (let off = 0; off < dataset.length; off += max) {
    const last = off + max >= dataset.length;
    pdus.push(encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, messageControlHeader: last ? 0x02 : 0x00, data: dataset.subarray(off, off + max) }] }));
  }
  return Buffer.concat(pdus);
}

/** A PduReader feeding a MessageAssembler, as the association wires them; records what they give. */
function pipeline() {
  const messages: { msg: AnyMessage; ds?: DatasetStream }[] = [];
  const pdus: Pdu[] = [];
  const errors: string[] = [];
  const assembler = new MessageAssembler({
    transferSyntaxOf: (pc) => (pc === 1 ? EXPLICIT_LE : undefined),
    message: (msg, _pc, ds) => messages.push({ msg, ds }),
    pause: () => undefined,
    resume: () => undefined,
    protocolError: (m) => errors.push(m),
  });
  const reader = new PduReader(
    {
      pdu: (type, body) => pdus.push(decodePduBody(type, body)),
      pDataStart: () => true,
      pdvStart: (pc, mch, len) => assembler.pdvStart(pc, mch, len),
      pdvData: (c) => assembler.pdvData(c),
      pdvEnd: () => assembler.pdvEnd(),
      pDataEnd: () => undefined,
      fault: (f) => errors.push(f.error.message),
    },
    { maxPDataLength: 0, maxOtherPduLength: 1 << 20 },
  );
  return { reader, assembler, messages, pdus, errors };
}

test('PDU bodies and command sets kept across reads are copies of a reused read buffer', () => {
  const p = pipeline();
  const rq = associateRq({ callingAETitle: 'SCU', calledAETitle: 'SCP', presentationContexts: [{ id: 1, abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] }], userInformation: { maxLength: 16384, implementationClassUid: '1.2.3.4.5.6.7.8.9' } });
  const stream = Buffer.concat([encodePdu(rq), encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, messageControlHeader: 0x03, data: encodeCommandSet({ CommandField: 0x0030, MessageID: 9, AffectedSOPClassUID: VERIFICATION_SOP_CLASS, CommandDataSetType: 0x0101 }) }] })]);
  // 5-byte reads: every header, body and command fragment spans several reads.
  feed((c) => p.reader.push(c), stream, 5);
  assert.deepEqual(p.errors, []);
  assert.equal(p.pdus.length, 1);
  const got = p.pdus[0] as typeof rq;
  assert.equal(got.callingAETitle, 'SCU');
  assert.equal(got.calledAETitle, 'SCP');
  assert.equal(got.presentationContexts[0]!.abstractSyntax, CT);
  assert.equal(got.userInformation.implementationClassUid, '1.2.3.4.5.6.7.8.9');
  assert.equal(p.messages.length, 1);
  assert.equal((p.messages[0]!.msg as unknown as { MessageID: number }).MessageID, 9);
});

test('a data set read as a stream gets copies; consume() gets each chunk during the call, in order', async () => {
  const a = pattern(70_000, 1);
  const b = pattern(50_001, 2);
  const p = pipeline();
  // Odd read sizes, so that PDU and PDV headers straddle reads.
  feed((c) => p.reader.push(c), Buffer.concat([cStoreStream(a, 16_372, 1), cStoreStream(b, 4_000, 2)]), 6_553);
  assert.deepEqual(p.errors, []);
  assert.equal(p.messages.length, 2);
  // The first data set was not read while the bytes went through: its chunks are copies.
  const parts: Buffer[] = [];
  for await (const c of p.messages[0]!.ds! as AsyncIterable<Buffer>) parts.push(c);
  assert.ok(Buffer.concat(parts).equals(a), 'stream chunks intact after the read buffer was reused');
  // The second was ended before consume(): its buffered copies are handed over, then it resolves.
  const got: Buffer[] = [];
  await p.messages[1]!.ds!.consume((c) => got.push(Buffer.from(c)));
  assert.ok(Buffer.concat(got).equals(b));
});

test('consume() while the data set arrives: chunks before and after the call, close emitted at the end', async () => {
  const data = pattern(200_000, 3);
  const p = pipeline();
  const stream = cStoreStream(data, 32_756, 5);
  const half = Math.floor(stream.length / 2);
  feed((c) => p.reader.push(c), stream.subarray(0, half), 65_536);
  const ds = p.messages[0]!.ds!;
  const got: Buffer[] = [];
  let during = 0;
  const done = ds.consume((c) => {
    during++;
    got.push(Buffer.from(c));
  });
  const closed = once(ds, 'close');
  feed((c) => p.reader.push(c), stream.subarray(half), 65_536);
  await done;
  await closed;
  assert.ok(during > 1);
  assert.ok(Buffer.concat(got).equals(data));
  assert.equal(ds.received, data.length);
});

test('consume(): a consumer that throws ends the data set with its error; an abort rejects', async () => {
  const p = pipeline();
  const stream = cStoreStream(pattern(100_000, 4), 16_000, 1);
  feed((c) => p.reader.push(c), stream.subarray(0, 40_000), 8_000);
  const ds = p.messages[0]!.ds!;
  const full = new Error('ENOSPC: disk full');
  let calls = 0;
  const done = ds.consume(() => {
    calls++;
    throw full;
  });
  await assert.rejects(done, (e) => e === full);
  const before = calls;
  // The rest of the data set is dropped without a word; the association goes on.
  feed((c) => p.reader.push(c), stream.subarray(40_000), 8_000);
  assert.equal(calls, before);
  assert.deepEqual(p.errors, []);

  const q = pipeline();
  feed((c) => q.reader.push(c), cStoreStream(pattern(50_000, 5), 16_000, 2).subarray(0, 30_000), 8_000);
  const ds2 = q.messages[0]!.ds!;
  const aborted = ds2.consume(() => undefined);
  q.assembler.abort(new Error('association aborted'));
  await assert.rejects(aborted, /association aborted/);
});

test('a server connection reads into the reused buffer and still counts as the server\'s: close() returns', async () => {
  const server = new AssociationServer({
    policy: { abstractSyntaxes: { [VERIFICATION_SOP_CLASS]: true }, implementationClassUid: '1.2.3' },
    handlers: { 'C-ECHO': () => 0 },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  for (let i = 0; i < 3; i++) {
    const a = await Association.request({ host: '127.0.0.1', port, callingAETitle: 'SCU', calledAETitle: 'ANY', presentationContexts: [{ id: 1, abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: ['1.2.840.10008.1.2'] }] });
    assert.equal(await a.echo(), 0);
    await a.release();
  }
  // A connection that says nothing and closes: nothing is left open.
  const raw = net.connect(port, '127.0.0.1');
  await once(raw, 'connect');
  raw.end();
  await once(raw, 'close');
  await server.close(true);
});
