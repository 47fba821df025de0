/**
 * Watermark deletion (REQUIREMENTS 7.3 COMMIT-030, SYS-023) on an archive, with a simulated disk
 * whose usage is the bytes of the files actually in the store: least recently received studies
 * go first, down to below the low-water mark; with onlyCommitted only studies whose every
 * instance carries a commit mark; nothing at all when storage.autoDelete is disabled. Also the
 * commit mark itself and the migration of a schema 1 index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Archive } from '../../src/archive/ingest.js';
import type { MeasureDiskUsage } from '../../src/archive/recycling.js';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { encodeDicomFile } from '../../src/dicom/write.js';
import { defaultConfig } from '../../src/node/config.js';
import { createLogger } from '../../src/node/log.js';
import { archiveFromConfig } from '../../src/node/node.js';
import { listFiles } from '../helpers/node.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const ROOT = '1.2.826.0.1.3680043.9.7.310';
/** Pixel bytes per instance: the File Meta Information and header are small beside them. */
const PIXELS = 16384;

const study = (n: number) => `${ROOT}.${n}`;
const sop = (n: number, k = 1) => `${ROOT}.${n}.1.${k}`;

function instance(n: number, k = 1): Buffer {
  const ds = new Dataset();
  ds.setString(0x00080016, 'UI', CT);
  ds.setString(0x00080018, 'UI', sop(n, k));
  ds.setString(0x00080060, 'CS', 'CT');
  ds.setString(0x00100010, 'PN', `Doe^Patient${n}`);
  ds.setString(0x00100020, 'LO', `ID${n}`);
  ds.setString(0x0020000d, 'UI', study(n));
  ds.setString(0x0020000e, 'UI', `${ROOT}.${n}.1`);
  ds.setNumbers(0x00280010, 'US', [64]);
  ds.setNumbers(0x00280011, 'US', [128]);
  ds.setNumbers(0x00280100, 'US', [16]);
  ds.setNumbers(0x7fe00010, 'OW', new Array(PIXELS / 2).fill(n));
  return Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: '1.2.840.10008.1.2.1' })]);
}

/** Bytes of every file under the store but the index's database. */
async function bytesOnDisk(root: string): Promise<number> {
  let n = 0;
  for (const f of await listFiles(root)) n += (await stat(join(root, f))).size;
  return n;
}

/** A disk of `capacity` bytes holding exactly the store. */
interface SimulatedDisk {
  measure: MeasureDiskUsage;
  capacity: number;
  calls: number;
}

function simulatedDisk(root: string): SimulatedDisk {
  const disk: SimulatedDisk = {
    capacity: 1e12,
    calls: 0,
    measure: async () => {
      disk.calls++;
      return { used: await bytesOnDisk(root), size: disk.capacity };
    },
  };
  return disk;
}

/** Waits for the clock to pass a millisecond, so that received times differ. */
async function nextMillisecond(): Promise<void> {
  const t = Date.now();
  while (Date.now() === t) await new Promise((r) => setImmediate(r));
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }) };
}

/** Imports instance k of study n; the files are written beside the store first. */
async function importInstance(a: Archive, dir: string, n: number, k = 1, outcome = 'stored'): Promise<void> {
  const f = join(dir, `in-${n}-${k}.dcm`);
  await writeFile(f, instance(n, k));
  const r = await a.importFile(f);
  assert.equal(r.outcome, outcome);
  await rm(f);
  await nextMillisecond();
}

async function studiesInStore(root: string): Promise<string[]> {
  return [...new Set((await listFiles(root)).filter((f) => !f.startsWith('.')).map((f) => f.split('/')[0]!))].sort();
}

async function studiesInIndex(a: Archive): Promise<string[]> {
  const out: string[] = [];
  for await (const s of a.index.studiesByAge({ onlyCommitted: false })) out.push(s.studyInstanceUid);
  return out.sort();
}

test('above the high-water mark, the least recently received studies are deleted until usage is below the low-water mark', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tracer-recycle-'));
  const root = join(dir, 'data');
  const disk = simulatedDisk(root);
  const { lines, logger } = capture();
  // A long interval: the checks after the imports find the disk empty and later ones wait; the test runs its own.
  const a = new Archive({ root, logger, autoDelete: { highWaterPercent: 90, lowWaterPercent: 60, onlyCommitted: false, measure: disk.measure, intervalMs: 3_600_000 } });
  await a.open();
  try {
    for (const n of [1, 2, 3, 4, 5, 6]) await importInstance(a, dir, n);
    // Study 1 receives again: now the most recently received.
    await importInstance(a, dir, 1, 2);
    const used = await bytesOnDisk(root);
    const per = used / 7; // seven instances of (nearly) equal size
    disk.capacity = used / 0.93;
    const r = await a.recycler!.check();
    assert.ok(r, 'the check ran');
    assert.equal(r.triggered, true);
    // 60% of the disk is 4.2 instances: studies 2, 3 and 4 go (7 -> 4 instances), 1 stays (received last).
    assert.deepEqual(r.studies, [study(2), study(3), study(4)]);
    assert.equal(r.instances, 3);
    assert.equal(r.belowLowWater, true);
    assert.ok(r.after < 60 && r.after > 50, `usage after: ${r.after}%`);
    assert.ok(Math.abs(r.bytes - 3 * per) < 0.1 * per, 'bytes reported are those of the studies');
    assert.deepEqual(await studiesInStore(root), [study(1), study(5), study(6)]);
    assert.deepEqual(await studiesInIndex(a), [study(1), study(5), study(6)]);
    assert.deepEqual(await a.index.pendingDeletions(), []);
    const deleted = lines.filter((l) => l.msg === 'study deleted by watermark deletion (storage.autoDelete)').map((l) => l.studyInstanceUid);
    assert.deepEqual(deleted, [study(2), study(3), study(4)]);
    assert.ok(lines.some((l) => l.msg === 'watermark deletion done: below the low-water mark' && l.studies === 3));

    // Below the high-water mark nothing happens, even above the low-water mark.
    disk.capacity = (await bytesOnDisk(root)) / 0.85;
    const again = await a.recycler!.check();
    assert.equal(again!.triggered, false);
    assert.deepEqual(again!.studies, []);
    assert.deepEqual(await studiesInStore(root), [study(1), study(5), study(6)]);
  } finally {
    await a.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('onlyCommitted (COMMIT-030): a study is deleted only when every instance is committed; otherwise it stays even above the low-water mark', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tracer-recycle-'));
  const root = join(dir, 'data');
  const disk = simulatedDisk(root);
  const { lines, logger } = capture();
  const a = new Archive({ root, logger, autoDelete: { highWaterPercent: 90, lowWaterPercent: 50, onlyCommitted: true, measure: disk.measure, intervalMs: 3_600_000 } });
  await a.open();
  try {
    for (const n of [1, 2, 3]) await importInstance(a, dir, n);
    await importInstance(a, dir, 3, 2);
    await importInstance(a, dir, 4);
    const mark = { aeTitle: 'ARCHIVE', at: new Date().toISOString() };
    // Study 1 uncommitted, 2 and 4 committed, 3 half committed.
    assert.equal(await a.index.markCommitted([sop(2), sop(3, 1), sop(4)], mark), 3);
    const used = await bytesOnDisk(root);
    disk.capacity = used / 0.96;
    const r = await a.recycler!.check();
    assert.deepEqual(r!.studies, [study(2), study(4)]);
    assert.equal(r!.belowLowWater, false, '3 of 5 instances are left: above 50%');
    assert.deepEqual(await studiesInStore(root), [study(1), study(3)]);
    assert.ok(lines.some((l) => String(l.msg).startsWith('store still above the low-water mark: no more studies may be deleted (storage.autoDelete.onlyCommitted')));

    // Once its second instance is committed study 3 goes too; study 1, older, still not.
    await a.index.markCommitted([sop(3, 2)], mark);
    disk.capacity = (await bytesOnDisk(root)) / 0.94;
    const r2 = await a.recycler!.check();
    assert.deepEqual(r2!.studies, [study(3)]);
    assert.equal(r2!.belowLowWater, true);
    assert.deepEqual(await studiesInStore(root), [study(1)]);
    assert.deepEqual(await studiesInIndex(a), [study(1)]);
  } finally {
    await a.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('commit marks: set and cleared by SOP Instance UID, lost by a replaced instance, required by a committed-only removal', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tracer-recycle-'));
  const root = join(dir, 'data');
  const a = new Archive({ root, policy: { duplicatePolicy: 'overwrite' } });
  await a.open();
  try {
    await importInstance(a, dir, 1);
    await importInstance(a, dir, 1, 2);
    const [p1, p2] = (await a.index.selectInstances({ level: 'STUDY', studyInstanceUids: [study(1)] })).map((i) => i.path) as [string, string];
    const mark = { aeTitle: 'ARCHIVE', at: '2024-05-01T10:00:00.000Z' };
    assert.equal(await a.index.markCommitted([sop(1), sop(1, 2), '1.2.3.4'], mark), 2);
    assert.deepEqual(await a.index.commitMarkOf(p1), mark);
    // The same instance again (overwrite): new bytes, not committed.
    await importInstance(a, dir, 1, 2, 'replaced');
    assert.equal(await a.index.commitMarkOf(p2), undefined);
    assert.equal(await a.removePaths([p1, p2], { requireCommitted: true }), false);
    assert.equal((await listFiles(root)).filter((f) => !f.startsWith('.')).length, 2, 'nothing removed');
    assert.equal(await a.index.markCommitted([sop(1)], undefined), 1);
    assert.equal(await a.index.commitMarkOf(p1), undefined);
    await a.index.markCommitted([sop(1), sop(1, 2)], mark);
    assert.equal(await a.removePaths([p1, p2], { requireCommitted: true }), true);
    assert.deepEqual(await studiesInStore(root), []);
  } finally {
    await a.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('storage.autoDelete disabled (the default): the disk is never measured and nothing is deleted, however full', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tracer-recycle-'));
  const root = join(dir, 'data');
  const disk = simulatedDisk(root);
  disk.capacity = 1; // always far above 100%
  const config = defaultConfig();
  config.store.root = root;
  assert.equal(config.storage.autoDelete.enabled, false);
  const a = archiveFromConfig(config, createLogger({ level: 'error' }), { diskUsage: disk.measure, autoDeleteIntervalMs: 0 });
  await a.open();
  try {
    for (const n of [1, 2, 3]) await importInstance(a, dir, n);
    await a.index.markCommitted([sop(1), sop(2), sop(3)], { aeTitle: 'ARCHIVE', at: new Date().toISOString() });
    await importInstance(a, dir, 4);
    assert.equal(a.recycler, undefined);
  } finally {
    await a.close();
  }
  try {
    assert.equal(disk.calls, 0);
    assert.deepEqual(await studiesInStore(root), [1, 2, 3, 4].map(study));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an index of schema 1 is migrated: commit marks empty, last reception of each study from its instances', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tracer-recycle-'));
  const root = join(dir, 'data');
  try {
    let a = new Archive({ root });
    await a.open();
    await importInstance(a, dir, 1);
    await importInstance(a, dir, 2);
    await importInstance(a, dir, 1, 2);
    await a.close();
    // Back to schema 1: the columns of version 2 dropped.
    const path = join(root, '.index', 'tracer.sqlite');
    const db = new Database(path);
    const received = (db.prepare(`SELECT st.study_instance_uid AS uid, MAX(i.received_at) AS at FROM instance i JOIN series se ON se.id = i.series_fk
      JOIN study st ON st.id = se.study_fk GROUP BY st.id ORDER BY at`).all() as { uid: string; at: string }[]);
    db.exec("ALTER TABLE instance DROP COLUMN committed_at; ALTER TABLE instance DROP COLUMN committed_by; ALTER TABLE study DROP COLUMN last_received_at; UPDATE meta SET value = '1' WHERE key = 'schema'");
    db.close();
    const idx = new SqliteIndex(path);
    try {
      assert.equal((idx.db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string }).value, '3', 'migrated through 2 to the current version');
      const byAge = [];
      for await (const s of idx.studiesByAge({ onlyCommitted: false })) byAge.push({ uid: s.studyInstanceUid, at: s.lastReceivedAt });
      assert.deepEqual(byAge, received);
      assert.deepEqual(byAge.map((s) => s.uid), [study(2), study(1)]);
      const none = [];
      for await (const s of idx.studiesByAge({ onlyCommitted: true })) none.push(s);
      assert.deepEqual(none, [], 'nothing is committed after the migration');
    } finally {
      await idx.close();
    }
    a = new Archive({ root });
    await a.open();
    assert.deepEqual((await a.index.counts()).instances, 3);
    await a.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
