/**
 * Index rows in batches (SYS-022) and storage.ackMode afterFileWrite (STOR-014): rows of
 * concurrent ingests share a transaction; deferred rows wait for the batch size or the flush
 * time; duplicate and UID-conflict checks see rows still waiting; a failing row takes no other
 * with it; a node killed before its rows are written indexes their files at the next start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndexWriter } from '../../src/archive/index-writer.js';
import { DuplicateInstanceError, type AddOptions, type AddResult, type ArchiveIndex, type InstanceEntry } from '../../src/archive/index.js';
import { Archive, headerOf, type IngestResult } from '../../src/archive/ingest.js';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { encodeDataset, encodeDicomFile } from '../../src/dicom/write.js';
import { StoreFailure, type StoreRequest } from '../../src/services/storage-scp.js';
import { indexRows as rows, storedFiles as stored } from '../helpers/archive.js';
import { requireTools } from '../helpers/peers.js';
import { startServe } from '../helpers/serve-process.js';
import { until } from '../helpers/node.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const ELE = '1.2.840.10008.1.2.1';
const ROOT = '1.2.826.0.1.3680043.9.7.310';
const ADD: AddOptions = { demographicUpdate: 'latestWins', replace: false };

function dataset(o: { study?: string; series?: string; sop: string }): Dataset {
  const ds = new Dataset();
  ds.setString(0x00080016, 'UI', CT);
  ds.setString(0x00080018, 'UI', o.sop);
  ds.setString(0x00080060, 'CS', 'CT');
  ds.setString(0x00100010, 'PN', 'Doe^Jane');
  ds.setString(0x00100020, 'LO', 'ID1');
  ds.setString(0x0020000d, 'UI', o.study ?? `${ROOT}.1`);
  ds.setString(0x0020000e, 'UI', o.series ?? `${ROOT}.1.1`);
  ds.setNumbers(0x00280002, 'US', [1]);
  ds.setNumbers(0x00280010, 'US', [4]);
  ds.setNumbers(0x00280011, 'US', [4]);
  ds.setNumbers(0x00280100, 'US', [16]);
  ds.setNumbers(0x7fe00010, 'OW', new Array(16).fill(7));
  return ds;
}

function entry(o: { study?: string; series?: string; sop: string }): InstanceEntry {
  const study = o.study ?? `${ROOT}.1`, series = o.series ?? `${ROOT}.1.1`;
  return { path: `${study}/${series}/${o.sop}.dcm`, sopClassUid: CT, sopInstanceUid: o.sop, studyInstanceUid: study, seriesInstanceUid: series, transferSyntaxUid: ELE, size: 100, header: headerOf(dataset(o)) };
}

/** An index that records the batches it is given, over a real SqliteIndex. */
function recording(inner: SqliteIndex): { index: ArchiveIndex; batches: number[] } {
  const batches: number[] = [];
  const index = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'addInstances') return (items: { entry: InstanceEntry; opts: AddOptions }[]) => (batches.push(items.length), target.addInstances(items));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as ArchiveIndex;
  return { index, batches };
}

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tracer-batch-'));
}


/** A C-STORE into the archive, as the Storage SCP gives it one. */
async function cstore(a: Archive, ds: Dataset): Promise<IngestResult> {
  const rq: StoreRequest = { sopClassUid: CT, sopInstanceUid: ds.string(0x00080018)!, transferSyntaxUid: ELE, callingAETitle: 'MODALITY', calledAETitle: 'TRACER', messageId: 1 };
  const bytes = [...encodeDataset(ds, { explicitVR: true, littleEndian: true })];
  const pending = await a.receive(rq, (async function* () { yield* bytes; })(), new AbortController().signal);
  return (await pending.commit()) as IngestResult;
}

test('IndexWriter: rows queued in one turn share a transaction; deferred rows wait for the batch size or the flush time', async () => {
  const dir = await tmp();
  const sqlite = new SqliteIndex(join(dir, 'i.sqlite'));
  try {
    const { index, batches } = recording(sqlite);
    const w = new IndexWriter(index, { maxBatch: 4, maxDelayMs: 150 });
    // Three ingests answered after their row (afterIndex), queued in the same turn: one commit.
    const now = await Promise.all([1, 2, 3].map((i) => w.add(entry({ sop: `${ROOT}.1.1.${i}` }), ADD, false)));
    assert.deepEqual(batches, [3]);
    assert.ok(now.every((r) => r.replaced === false));
    // Deferred: nothing written until the fourth row fills the batch.
    const deferred = [4, 5, 6, 7].map((i) => w.add(entry({ sop: `${ROOT}.1.1.${i}` }), ADD, true));
    await Promise.all(deferred);
    assert.deepEqual(batches, [3, 4]);
    // One deferred row alone is written once the flush time has passed, not before.
    const t0 = performance.now();
    let done = false;
    const lone = w.add(entry({ sop: `${ROOT}.1.1.8` }), ADD, true).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(done, false, 'a deferred row waits');
    assert.equal(w.pending, 1);
    await lone;
    assert.ok(performance.now() - t0 >= 140, 'written at the flush time');
    assert.deepEqual(batches, [3, 4, 1]);
    assert.equal((await sqlite.counts()).instances, 8);
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('checkpointInBackground: a worker thread checkpoints the WAL while the writer only appends; close() stops it', async () => {
  const dir = await tmp();
  const path = join(dir, 'i.sqlite');
  const sqlite = new SqliteIndex(path, { checkpointInBackground: { intervalMs: 20 } });
  try {
    // The writer's own checkpoint only as a fallback, far beyond what these rows write.
    assert.equal(sqlite.db.pragma('wal_autocheckpoint', { simple: true }), 10_000);
    const before = statSync(path).size;
    for (let i = 0; i < 40; i++) await sqlite.addInstance(entry({ sop: `${ROOT}.1.1.${i}` }), ADD);
    // The worker reports a checkpoint that took every frame of the WAL into the database file.
    await until(() => sqlite.checkpoints.checkpointed > 0 && sqlite.checkpoints.checkpointed === sqlite.checkpoints.walFrames, 10_000);
    assert.equal(sqlite.checkpoints.error, undefined);
    assert.ok(statSync(path).size > before, 'the database file holds the checkpointed pages');
    // Writes go on beside it, and are checkpointed in turn.
    const n = sqlite.checkpoints.count;
    for (let i = 40; i < 60; i++) await sqlite.addInstance(entry({ sop: `${ROOT}.1.1.${i}` }), ADD);
    await until(() => sqlite.checkpoints.count > n, 10_000);
    assert.equal((await sqlite.instancesBySop(`${ROOT}.1.1.59`)).length, 1);
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }
  // Stopped by close(), not failed.
  assert.equal(sqlite.checkpoints.error, undefined);
});

test('checkpointInBackground: should the worker end, the writer checkpoints by itself again (SQLite\'s default, 1000 pages)', async () => {
  const dir = await tmp();
  const sqlite = new SqliteIndex(join(dir, 'i.sqlite'), { checkpointInBackground: { intervalMs: 20 } });
  try {
    assert.equal(sqlite.db.pragma('wal_autocheckpoint', { simple: true }), 10_000);
    await (sqlite as unknown as { checkpointer: Worker }).checkpointer.terminate();
    await until(() => sqlite.checkpoints.error !== undefined, 5000);
    assert.match(sqlite.checkpoints.error!, /exited/);
    assert.equal(sqlite.db.pragma('wal_autocheckpoint', { simple: true }), 1000);
    await sqlite.addInstance(entry({ sop: `${ROOT}.1.1.1` }), ADD);
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('IndexWriter: touches() names the rows the duplicate and conflict checks need; a failing row takes no other with it', async () => {
  const dir = await tmp();
  const sqlite = new SqliteIndex(join(dir, 'i.sqlite'));
  try {
    await sqlite.addInstance(entry({ sop: `${ROOT}.1.1.1` }), ADD);
    const w = new IndexWriter(sqlite, { maxBatch: 100, maxDelayMs: 60_000 });
    const results: (AddResult | Error)[] = [];
    const adds = [
      w.add(entry({ sop: `${ROOT}.1.1.2` }), ADD, true),
      w.add(entry({ sop: `${ROOT}.1.1.1` }), ADD, true), // already indexed, not a replacement
      w.add(entry({ sop: `${ROOT}.1.1.3` }), ADD, true),
    ].map((p) => p.then((r) => results.push(r), (e: Error) => results.push(e)));
    assert.equal(w.touches(`${ROOT}.1.1.3`, `${ROOT}.1.1`, `${ROOT}.1`), true, 'a queued SOP Instance UID');
    assert.equal(w.touches(`${ROOT}.1.1.9`, `${ROOT}.1.1`, `${ROOT}.1`), false, 'a new instance of a queued series in the same study');
    assert.equal(w.touches(`${ROOT}.1.1.9`, `${ROOT}.1.1`, `${ROOT}.2`), true, 'a queued series in another study');
    await w.flush();
    await Promise.all(adds);
    assert.equal(results.filter((r) => r instanceof DuplicateInstanceError).length, 1);
    assert.equal(results.filter((r) => !(r instanceof Error)).length, 2);
    assert.equal(w.touches(`${ROOT}.1.1.3`, `${ROOT}.1.1`, `${ROOT}.1`), false, 'nothing queued after the flush');
    assert.equal((await sqlite.counts()).instances, 3, 'the failing row rolled back alone');
  } finally {
    await sqlite.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('ackMode afterFileWrite (STOR-014): success before the row; duplicates and series conflicts still seen; rows written by size, time and close', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  try {
    const a = new Archive({ root, ackMode: 'afterFileWrite', indexBatchSize: 3, indexFlushSeconds: 3600, policy: { duplicatePolicy: 'reject' } });
    await a.open();
    try {
      const r1 = await cstore(a, dataset({ sop: `${ROOT}.1.1.1` }));
      assert.equal(r1.outcome, 'stored');
      assert.deepEqual(await stored(root), [`${ROOT}.1/${ROOT}.1.1/${ROOT}.1.1.1.dcm`], 'the file is in place');
      assert.deepEqual(rows(root), [], 'its row is not written yet');
      // The same instance again: the duplicate check writes the waiting row first, then rejects.
      await assert.rejects(cstore(a, dataset({ sop: `${ROOT}.1.1.1` })), (e: unknown) => e instanceof StoreFailure && e.kind === 'duplicate');
      assert.equal(rows(root).length, 1);
      // A row waiting for a series that then arrives in another study: quarantined as before.
      await cstore(a, dataset({ sop: `${ROOT}.1.1.2` }));
      const q = await cstore(a, dataset({ study: `${ROOT}.2`, sop: `${ROOT}.1.1.3` }));
      assert.equal(q.outcome, 'quarantined');
      assert.equal(rows(root).length, 2);
      // Three waiting rows fill the batch.
      for (const i of [4, 5]) await cstore(a, dataset({ sop: `${ROOT}.1.1.${i}` }));
      assert.equal(rows(root).length, 2);
      await cstore(a, dataset({ sop: `${ROOT}.1.1.6` }));
      await a.flushIndex();
      assert.equal(rows(root).length, 5);
      await cstore(a, dataset({ sop: `${ROOT}.1.1.7` }));
      assert.equal(rows(root).length, 5);
    } finally {
      await a.close();
    }
    assert.equal(rows(root).length, 6, 'close writes the rows still waiting');
    // A clean close: the next open runs no start-up check.
    const b = new Archive({ root });
    const opened = await b.open();
    await b.close();
    assert.equal(opened.check, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ackMode afterFileWrite: a deletion takes the rows still waiting with it (no file left behind, no row after it)', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  try {
    const a = new Archive({ root, ackMode: 'afterFileWrite', indexBatchSize: 100, indexFlushSeconds: 3600 });
    await a.open();
    try {
      for (const i of [1, 2]) await cstore(a, dataset({ sop: `${ROOT}.1.1.${i}` }));
      assert.deepEqual(rows(root), [], 'both rows waiting');
      const deleted = await a.delete({ level: 'STUDY', studyInstanceUids: [`${ROOT}.1`] });
      assert.equal(deleted.length, 2);
      assert.deepEqual(await stored(root), []);
      assert.deepEqual(rows(root), []);
    } finally {
      await a.close();
    }
    assert.deepEqual(rows(root), [], 'nothing written at close');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ackMode afterIndex: concurrent C-STOREs share one index transaction (group commit), each answered after it', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  const sqlite = new SqliteIndex(join(root, '.index', 'tracer.sqlite'));
  const { index, batches } = recording(sqlite);
  try {
    const a = new Archive({ root, index, fsync: false });
    await a.open();
    try {
      const results = await Promise.all([1, 2, 3, 4].map((i) => cstore(a, dataset({ series: `${ROOT}.1.${i}`, sop: `${ROOT}.1.${i}.1` }))));
      assert.ok(results.every((r) => r.outcome === 'stored'));
      assert.equal(rows(root).length, 4, 'every row is in when the successes are');
      assert.equal(batches.reduce((x, y) => x + y, 0), 4);
      assert.ok(batches.length < 4, `fewer transactions than instances (${batches.join(', ')})`);
    } finally {
      await a.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ackMode afterFileWrite: tracer serve killed (SIGKILL) with rows still waiting; the next start indexes every acknowledged instance', async (t) => {
  if (!requireTools(t, 'storescu')) return;
  const dir = await tmp();
  const root = join(dir, 'data');
  try {
    await mkdir(join(dir, 'in'));
    const N = 50;
    for (let i = 0; i < N; i++) {
      const ds = dataset({ sop: `${ROOT}.1.1.${i}` });
      await writeFile(join(dir, 'in', `f${String(i).padStart(3, '0')}.dcm`), Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: ELE })]));
    }
    await writeFile(join(dir, 'tracer.json'), JSON.stringify({ storage: { ackMode: 'afterFileWrite' }, store: { indexBatchSize: 20, indexFlushSeconds: 3600 } }));
    const srv = await startServe(dir, ['--config', join(dir, 'tracer.json'), '--data', root]);
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn('storescu', ['-aet', 'CRASH', '-aec', 'TRACER', '+sd', '127.0.0.1', String(srv.port), join(dir, 'in')], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
      p.once('exit', resolve);
    });
    assert.equal(code, 0, 'storescu: every C-STORE answered Success');
    srv.proc.kill('SIGKILL');
    await srv.exited;
    const files = await stored(root);
    assert.equal(files.length, N, 'every acknowledged file is on disk');
    assert.equal(rows(root).length, 40, 'two full batches written, ten rows lost with the process');
    const again = await startServe(dir, ['--config', join(dir, 'tracer.json'), '--data', root]);
    const check = again.logs.find((l) => l.msg === 'start-up check of the store after an unclean stop');
    assert.ok(check, 'the start-up check ran');
    assert.equal(check!.indexed, 10);
    await new Promise((r) => setTimeout(r, 300)); // signal handlers are installed once the node is up
    assert.equal(await again.stop(), 0);
    assert.deepEqual(rows(root), files, 'every file has its row');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
