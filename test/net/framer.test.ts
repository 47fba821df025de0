/** PduReader: same events whatever the TCP segmentation; limits enforced before buffering. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PduReader, encodePdu, type FramingFault } from '../../src/net/index.js';
import { hex } from './raw-peer.js';

function record(limits = { maxPDataLength: 1000, maxOtherPduLength: 4096 }) {
  const ev: string[] = [];
  const faults: FramingFault[] = [];
  let data: Buffer[] = [];
  const r = new PduReader(
    {
      pdu: (t, b) => ev.push(`pdu ${t} ${b.toString('hex')}`),
      pDataStart: (len) => (ev.push(`pdata ${len}`), true),
      pdvStart: (pc, mch, len) => ev.push(`pdv ${pc} ${mch} ${len}`),
      pdvData: (c) => data.push(c),
      pdvEnd: () => {
        ev.push(`data ${Buffer.concat(data).toString('hex')}`);
        data = [];
      },
      pDataEnd: () => ev.push('end'),
      fault: (f) => faults.push(f),
    },
    limits,
  );
  return { r, ev, faults };
}

const stream = Buffer.concat([
  encodePdu({ type: 'A-RELEASE-RQ' }),
  encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, messageControlHeader: 3, data: Buffer.from('0102030405', 'hex') }, { presentationContextId: 3, messageControlHeader: 0, data: Buffer.alloc(0) }] }),
  encodePdu({ type: 'A-ABORT', source: 2, reason: 1 }),
]);

test('every split of the byte stream gives the same events', () => {
  const whole = record();
  whole.r.push(stream);
  assert.deepEqual(whole.ev, ['pdu 5 00000000', 'pdata 17', 'pdv 1 3 5', 'data 0102030405', 'pdv 3 0 0', 'data ', 'end', 'pdu 7 00000201']);
  for (let i = 1; i < stream.length; i++) {
    for (const j of [i, Math.min(stream.length, i + 7)]) {
      const x = record();
      x.r.push(stream.subarray(0, i));
      x.r.push(stream.subarray(i, j));
      x.r.push(stream.subarray(j));
      assert.deepEqual(x.ev, whole.ev, `split at ${i}/${j}`);
    }
  }
  const bytewise = record();
  for (const b of stream) bytewise.r.push(Buffer.from([b]));
  assert.deepEqual(bytewise.ev, whole.ev);
});

test('limits and malformed framing are faults, reported once, input ignored afterwards', () => {
  let x = record();
  x.r.push(Buffer.from('040000000fa1', 'hex')); // P-DATA of 4001 > 1000
  assert.equal(x.faults[0]?.kind, 'too-long');
  assert.match(x.faults[0]!.error.message, /PDU-length 4001 exceeds the maximum length 1000 we advertised/);
  x.r.push(stream);
  assert.deepEqual(x.ev, []);

  x = record();
  x.r.push(hex('0100 00100000')); // A-ASSOCIATE-RQ of 1 MiB > 4096
  assert.equal(x.faults[0]?.kind, 'too-long');

  x = record();
  x.r.push(hex('0800 00000000'));
  assert.equal(x.faults[0]?.kind, 'unrecognized');

  x = record();
  x.r.push(hex('0400 00000008 00000010 0103 0000')); // PDV longer than its PDU
  assert.equal(x.faults[0]?.kind, 'invalid');
  assert.match(x.faults[0]!.error.message, /PDV item-length 16 exceeds/);

  x = record();
  x.r.push(hex('0400 00000009 00000002 0103 000000')); // 3 stray bytes after a PDV
  assert.equal(x.faults[0]?.kind, 'invalid');
});

test('PDV data is passed as views of the input, not copies', () => {
  const big = encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, messageControlHeader: 0, data: Buffer.alloc(500, 9) }] });
  const pieces: Buffer[] = [];
  const r = new PduReader({ pdu: () => undefined, pDataStart: () => true, pdvStart: () => undefined, pdvData: (c) => pieces.push(c), pdvEnd: () => undefined, pDataEnd: () => undefined, fault: () => undefined }, { maxPDataLength: 0, maxOtherPduLength: 10 });
  r.push(big);
  assert.equal(pieces.length, 1);
  assert.equal(pieces[0]!.buffer, big.buffer);
});
