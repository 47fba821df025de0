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
import { QR_SOP_CLASSES, appendWildcards, buildIdentifier, entityKey, find, hasValueToMatch, parseKey, withDefaultKeys } from '../../src/services/query-scu.js';
import { planMoves, retrieveAeQueryKeys } from '../../src/services/move-target.js';
import { move, retryableStatus } from '../../src/services/retrieve-scu.js';
import type { SopClassExtendedNegotiation } from '../../src/net/pdu-items.js';

async function peer(handlers: Handlers, extendedNegotiation?: (item: SopClassExtendedNegotiation) => Buffer | undefined) {
  const s = QR_SOP_CLASSES.study;
  const server = new AssociationServer({ policy: { abstractSyntaxes: { [s.find]: true, [s.move]: true }, extendedNegotiation }, handlers });
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

test('QR-022 appendWildcards: Patient\'s Name only by default, every text key with allStrings; QR-023 hasValueToMatch', () => {
  const keys = ['PatientName=Do', 'PatientID=12', 'StudyDescription=Bra', 'StudyDate=20240101', 'Modality=CT', 'StudyInstanceUID=1.2', 'AccessionNumber', 'SeriesDescription=Lung*', 'ModalitiesInStudy=CT\\MR'].map(parseKey);
  const value = (ks: ReturnType<typeof parseKey>[], kw: string) => ks.find((k) => k.tag === parseKey(kw).tag)!.value;
  const name = appendWildcards(keys, 'patientName');
  assert.equal(value(name, 'PatientName'), 'Do*');
  assert.equal(value(name, 'PatientID'), '12');
  assert.equal(value(name, 'StudyDescription'), 'Bra');
  const all = appendWildcards(keys, 'allStrings');
  assert.deepEqual(['PatientName', 'PatientID', 'StudyDescription', 'Modality'].map((k) => value(all, k)), ['Do*', '12*', 'Bra*', 'CT*']);
  // Dates, UIDs, empty values, values ending in '*' and lists are left alone (PS3.4 C.2.2.2.4).
  assert.deepEqual(['StudyDate', 'StudyInstanceUID', 'AccessionNumber', 'SeriesDescription', 'ModalitiesInStudy'].map((k) => value(all, k)), ['20240101', '1.2', undefined, 'Lung*', 'CT\\MR']);
  assert.deepEqual(appendWildcards(keys, 'none'), keys);
  assert.equal(appendWildcards([parseKey('PatientName=')], 'patientName')[0]!.value, '');

  assert.equal(hasValueToMatch([]), false);
  assert.equal(hasValueToMatch(['PatientName', 'StudyInstanceUID'].map(parseKey)), false);
  assert.equal(hasValueToMatch([parseKey('PatientName=*')]), false, "'*' alone is universal matching");
  assert.equal(hasValueToMatch([parseKey('PatientName=**'), parseKey('PatientID')]), false);
  assert.equal(hasValueToMatch([parseKey('PatientName'), parseKey('PatientID=?')]), true);
  assert.equal(hasValueToMatch([parseKey('StudyDate=20240101-')]), true);
});

/** A pending C-FIND response identifier. */
function response(o: Record<string, string>): Buffer {
  const ds = new Dataset(true);
  for (const [kw, v] of Object.entries(o)) {
    const k = parseKey(kw);
    ds.setString(k.tag, k.vr, v);
  }
  return encodeDatasetToBuffer(ds, ExplicitLittle);
}

test('QR-028: duplicate responses replace the earlier match (replace) or are all kept (keepAll); responses that do not match are never filtered', async () => {
  const answers: Record<string, string>[] = [
    { StudyInstanceUID: '1.1', StudyDescription: 'first', PatientName: 'Doe^Jane' },
    { StudyInstanceUID: '1.2', StudyDescription: 'other', PatientName: 'Doe^John' },
    { StudyInstanceUID: '1.1', StudyDescription: 'second', PatientName: 'Doe^Jane' },
    // No Study Instance UID: nothing to tell it apart by, always kept.
    { StudyDescription: 'anonymous', PatientName: 'Doe^X' },
    { StudyDescription: 'anonymous', PatientName: 'Doe^X' },
    // The peer ignored the Patient's Name key: shown all the same.
    { StudyInstanceUID: '1.3', StudyDescription: 'not a match', PatientName: 'Smith^Ann' },
  ];
  const { server, dest } = await peer({
    'C-FIND': async function* () {
      for (const a of answers) yield { Status: Status.Pending, dataset: response(a) };
    },
  });
  try {
    const id = buildIdentifier('STUDY', ['PatientName=Doe*', 'StudyInstanceUID', 'StudyDescription'].map(parseKey));
    const seen: number[] = [];
    const r = await find(dest, id, { onMatch: (_m, i) => seen.push(i) });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.duplicates, 1);
    assert.deepEqual(r.matches.map((m) => m.string(0x00081030)), ['second', 'other', 'anonymous', 'anonymous', 'not a match']);
    assert.deepEqual(seen, [0, 1, 0, 2, 3, 4]);
    const all = await find(dest, id, { duplicates: 'keepAll' });
    assert.equal(all.duplicates, 1);
    assert.deepEqual(all.matches.map((m) => m.string(0x00081030)), ['first', 'other', 'second', 'anonymous', 'anonymous', 'not a match']);
  } finally {
    await server.close();
  }
});

test('entityKey: the unique keys down to the level; none without the level\'s own', () => {
  const ds = new Dataset(true);
  ds.setString(0x0020000d, 'UI', '1.2');
  ds.setString(0x0020000e, 'UI', '1.2.3');
  assert.equal(entityKey(ds, 'STUDY'), '1.2');
  assert.equal(entityKey(ds, 'SERIES'), '1.2|1.2.3');
  assert.equal(entityKey(ds, 'IMAGE'), undefined);
  ds.setString(0x00080018, 'UI', '1.2.3.4');
  assert.equal(entityKey(ds, 'IMAGE'), '1.2|1.2.3|1.2.3.4');
});

test('QR-032: relational queries are proposed by extended negotiation only when asked; a refusal is reported', async () => {
  const proposed: Buffer[] = [];
  let accept = true;
  const { server, dest } = await peer({ 'C-FIND': async function* () { yield { Status: Status.Pending, dataset: response({ StudyInstanceUID: '1.1' }) }; } }, (item) => {
    proposed.push(item.serviceClassApplicationInformation);
    assert.equal(item.sopClassUid, QR_SOP_CLASSES.study.find);
    return accept ? Buffer.from([1]) : Buffer.from([0]);
  });
  try {
    const id = buildIdentifier('SERIES', [parseKey('PatientName=Doe*')]);
    const plain = await find(dest, id);
    assert.equal(plain.ok, true, plain.error);
    assert.equal(plain.relational, false);
    assert.deepEqual(proposed, [], 'nothing proposed by default');
    const rel = await find(dest, id, { relational: true });
    assert.equal(rel.relational, true);
    assert.deepEqual(proposed.map((b) => [...b]), [[1]]);
    accept = false;
    const refused = await find(dest, id, { relational: true });
    assert.equal(refused.ok, true);
    assert.equal(refused.relational, false);
  } finally {
    await server.close();
  }
});

test('QR-052 planMoves: each match to the node its Retrieve AE Title names, else to the queried node; UID lists per target and parent', () => {
  const queried = { name: 'q', aeTitle: 'QUERY' };
  const known = [queried, { name: 'a', aeTitle: 'ARCHA' }, { name: 'b', aeTitle: 'ARCHB' }];
  const match = (study: string, series: string, ae: string) => {
    const ds = new Dataset(true);
    ds.setString(0x0020000d, 'UI', study);
    ds.setString(0x0020000e, 'UI', series);
    if (ae) ds.setString(0x00080054, 'AE', ae.split('\\'));
    return ds;
  };
  const identifier = buildIdentifier('SERIES', [parseKey('StudyInstanceUID=1.1'), parseKey('SeriesInstanceUID')]);
  const base = { model: 'study' as const, level: 'SERIES' as const, identifier, queried, known };
  // Every match with the queried node (or an unknown AE): the user's identifier, unchanged.
  const same = planMoves({ ...base, matches: [match('1.1', '1.1.1', 'QUERY'), match('1.1', '1.1.2', 'NOWHERE'), match('1.1', '1.1.3', '')] });
  assert.equal(same.length, 1);
  assert.equal(same[0]!.node, queried);
  assert.equal(same[0]!.identifier, identifier);
  assert.equal(same[0]!.viaRetrieveAeTitle, false);

  const plan = planMoves({ ...base, matches: [
    match('1.1', '1.1.1', 'ARCHA'), match('1.1', '1.1.2', 'NOWHERE\\ARCHB'), match('1.1', '1.1.3', 'ARCHA'), match('1.2', '1.2.1', 'ARCHA'), match('1.1', '1.1.4', 'QUERY'),
  ] });
  assert.deepEqual(plan.map((p) => [p.node.name, p.identifier.string(0x00080052), p.identifier.string(0x0020000d), p.identifier.strings(0x0020000e), p.viaRetrieveAeTitle]), [
    ['a', 'SERIES', '1.1', ['1.1.1', '1.1.3'], true],
    ['b', 'SERIES', '1.1', ['1.1.2'], true],
    ['a', 'SERIES', '1.2', ['1.2.1'], true],
    ['q', 'SERIES', '1.1', ['1.1.4'], false],
  ]);
  // A match without its unique keys cannot be addressed: all to the queried node, said why.
  const blind = planMoves({ ...base, matches: [match('1.1', '1.1.1', 'ARCHA'), match('1.1', '', 'ARCHA')] });
  assert.equal(blind.length, 1);
  assert.equal(blind[0]!.node, queried);
  assert.match(blind[0]!.note!, /lacks its unique keys/);
  // The C-FIND asks for what planMoves needs.
  const qk = retrieveAeQueryKeys('patient', 'STUDY', [parseKey('StudyInstanceUID=1.1')]);
  assert.deepEqual(qk.map((k) => [k.tag, k.value]), [[0x0020000d, '1.1'], [0x00100020, undefined], [0x00080054, undefined]]);
});
