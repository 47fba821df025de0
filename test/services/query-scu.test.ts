/**
 * C-FIND and C-MOVE SCU rules (REQUIREMENTS 8.5, 8.7) against Tracer's own acceptor answering
 * chosen statuses: identifier building (QR-031), C-CANCEL above maxResults (QR-026), the
 * retry rule of QR-057 and cancel by the user (QR-054).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssociationServer, Status, type Handlers } from '../../src/net/index.js';
import { readDataset, ExplicitLittle } from '../../src/dicom/read.js';
import { BufferSource } from '../../src/dicom/source.js';
import { encodeDatasetToBuffer } from '../../src/dicom/write.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { QR_SOP_CLASSES, buildIdentifier, find, parseKey, withDefaultKeys } from '../../src/services/query-scu.js';
import { move, retryableStatus } from '../../src/services/retrieve-scu.js';

async function peer(handlers: Handlers) {
  const s = QR_SOP_CLASSES.study;
  const server = new AssociationServer({ policy: { abstractSyntaxes: { [s.find]: true, [s.move]: true } }, handlers });
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, dest: { host: '127.0.0.1', port, aeTitle: 'QR' } };
}

test('identifier: level first, keys by keyword or tag, Specific Character Set only for non-ASCII values', () => {
  const ascii = buildIdentifier('SERIES', [parseKey('StudyInstanceUID=1.2.3'), parseKey('0008,0060'), parseKey('SeriesNumber=4')]);
  assert.equal(ascii.string(0x00080052), 'SERIES');
  assert.equal(ascii.string(0x0020000d), '1.2.3');
  assert.ok(ascii.has(0x00080060) && ascii.get(0x00080060)!.vr === 'CS');
  assert.equal(ascii.string(0x00200011), '4');
  assert.equal(ascii.has(0x00080005), false);
  const utf = buildIdentifier('STUDY', [parseKey('PatientName=Müller*')]);
  assert.equal(utf.string(0x00080005), 'ISO_IR 192');
  // encodes and reads back
  const buf = encodeDatasetToBuffer(utf, ExplicitLittle);
  assert.equal(readDataset(new BufferSource(buf), 0, buf.length, ExplicitLittle).string(0x00100010), 'Müller*');
  assert.throws(() => parseKey('NoSuchKeyword=1'), /unknown attribute 'NoSuchKeyword'/);
  const keys = withDefaultKeys('IMAGE', [parseKey('SOPInstanceUID=9')]);
  assert.equal(keys.filter((k) => k.tag === 0x00080018).length, 1, 'a given key replaces the default');
  assert.ok(keys.some((k) => k.tag === 0x0020000e));
});

test('C-FIND: above maxResults C-CANCEL is sent, the list is truncated, the query still succeeds', async () => {
  let sent = 0;
  const { server, dest } = await peer({
    'C-FIND': async function* (_rq, ctx) {
      for (let i = 0; i < 500 && !ctx.signal.aborted; i++) {
        const ds = new Dataset(true);
        ds.setString(0x00100020, 'LO', `P${i}`);
        sent++;
        yield { Status: Status.Pending, dataset: encodeDatasetToBuffer(ds, ExplicitLittle) };
        await new Promise((r) => setTimeout(r, 2));
      }
    },
  });
  try {
    const seen: string[] = [];
    const r = await find(dest, buildIdentifier('STUDY', [parseKey('PatientID')]), { maxResults: 5, onMatch: (m) => seen.push(m.string(0x00100020)!) });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.truncated, true);
    assert.equal(r.status, 0xfe00);
    assert.deepEqual(seen, ['P0', 'P1', 'P2', 'P3', 'P4']);
    assert.equal(r.matches.length, 5);
    assert.ok(sent < 100, `${sent} responses sent before the cancel took effect`);
    const all = await find(dest, buildIdentifier('STUDY', []), { maxResults: 0 });
    assert.equal(all.matches.length, 500);
    assert.equal(all.status, 0);
  } finally {
    await server.close();
  }
});

test('C-FIND: a failure status ends the query with the QR-029 wording', async () => {
  const { server, dest } = await peer({ 'C-FIND': () => 0xa900 });
  try {
    const r = await find(dest, buildIdentifier('STUDY', []));
    assert.equal(r.ok, false);
    assert.match(r.error!, /A900 Identifier does not match SOP Class/);
  } finally {
    await server.close();
  }
});

test('C-MOVE: A702 and B000 are retried, A801 is not; progress comes from the counters', async () => {
  const answers = [0xa702, 0xb000, 0];
  let calls = 0;
  const { server, dest } = await peer({
    'C-MOVE': async function* (rq) {
      assert.equal(rq.MoveDestination, 'DEST');
      const final = answers[calls++]!;
      yield { Status: Status.Pending, NumberOfRemainingSuboperations: 1, NumberOfCompletedSuboperations: 1, NumberOfFailedSuboperations: 0, NumberOfWarningSuboperations: 0 };
      yield { Status: final, NumberOfCompletedSuboperations: final === 0 ? 2 : 1, NumberOfFailedSuboperations: final === 0 ? 0 : 1, NumberOfWarningSuboperations: 0 };
    },
  });
  try {
    const progress: number[] = [];
    const retries: string[] = [];
    const r = await move(dest, buildIdentifier('STUDY', [parseKey('StudyInstanceUID=1.2')]), 'DEST', { retry: { count: 3, intervalSeconds: 0 }, onProgress: (p) => progress.push(p.completed), onRetry: (_a, why) => retries.push(why) });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.attempts, 3);
    assert.equal(r.status, 0);
    assert.deepEqual(r.progress, { remaining: 1, completed: 2, failed: 0, warning: 0 });
    assert.match(r.message, /Fetch Completed/);
    assert.equal(retries.length, 2);
    assert.match(retries[0]!, /Remote station unable to send datasets/);
    assert.deepEqual(progress, [1, 1, 1]);

    answers.splice(0, answers.length, 0xa801);
    calls = 0;
    const unknown = await move(dest, buildIdentifier('STUDY', []), 'DEST', { retry: { count: 3, intervalSeconds: 0 } });
    assert.equal(unknown.ok, false);
    assert.equal(unknown.attempts, 1);
    assert.match(unknown.error!, /not aware of destination station/);
    assert.equal(retryableStatus(0xc001), true);
    assert.equal(retryableStatus(0xa900), false);
  } finally {
    await server.close();
  }
});

test('C-MOVE: cancelling sends C-CANCEL and waits for FE00; no retry follows', async () => {
  let calls = 0;
  const { server, dest } = await peer({
    'C-MOVE': async function* (_rq, ctx) {
      calls++;
      for (let i = 0; i < 1000 && !ctx.signal.aborted; i++) {
        yield { Status: Status.Pending, NumberOfRemainingSuboperations: 1000 - i, NumberOfCompletedSuboperations: i, NumberOfFailedSuboperations: 0, NumberOfWarningSuboperations: 0 };
        await new Promise((r) => setTimeout(r, 2));
      }
    },
  });
  try {
    const ac = new AbortController();
    const r = await move(dest, buildIdentifier('STUDY', []), 'DEST', { signal: ac.signal, retry: { count: 3, intervalSeconds: 0 }, onProgress: (p) => { if (p.completed === 3) ac.abort(); } });
    assert.equal(r.cancelled, true);
    assert.equal(r.status, 0xfe00);
    assert.equal(r.ok, false);
    assert.match(r.message, /Cancel/);
    assert.equal(r.attempts, 1);
    assert.equal(calls, 1);
  } finally {
    await server.close();
  }
});
