/**
 * Watermark deletion in a running node (REQUIREMENTS 7.3 COMMIT-030, SYS-023): instances come by
 * C-STORE, an archive's storage commitment is stood in for by ArchiveIndex.markCommitted, and
 * the disk is simulated (its usage is the bytes of the files in the store). Past the high-water
 * mark the next C-STORE still succeeds and the check that follows it deletes the least recently
 * received committed studies; the start-up check of a restarted node does the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CStoreRq } from '../../src/net/index.js';
import type { MeasureDiskUsage } from '../../src/archive/recycling.js';
import { CT, connect, listFiles, makeDataset, startTestNode, until, type TestNode } from '../helpers/node.js';

const ROOT = '1.2.826.0.1.3680043.9.7.320';
const study = (n: number) => `${ROOT}.${n}`;
const sop = (n: number) => `${ROOT}.${n}.1.1`;

async function bytesOnDisk(root: string): Promise<number> {
  let n = 0;
  for (const f of await listFiles(root)) n += (await stat(join(root, f))).size;
  return n;
}

async function studiesInStore(root: string): Promise<string[]> {
  return [...new Set((await listFiles(root)).filter((f) => !f.startsWith('.')).map((f) => f.split('/')[0]!))].sort();
}

async function store(node: TestNode, n: number): Promise<number> {
  const a = await connect(node.port);
  try {
    const rsp = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: sop(n) }), {
      dataset: makeDataset({ sopInstance: sop(n), study: study(n), series: `${ROOT}.${n}.1` }, 16384),
    });
    return rsp.Status;
  } finally {
    await a.release();
  }
}

async function nextMillisecond(): Promise<void> {
  const t = Date.now();
  while (Date.now() === t) await new Promise((r) => setImmediate(r));
}

test('a node past the high-water mark deletes the oldest committed studies after a C-STORE, and at start-up', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tracer-autodelete-'));
  const root = join(dir, 'data');
  let capacity = 1e12;
  const diskUsage: MeasureDiskUsage = async () => ({ used: await bytesOnDisk(root), size: capacity });
  const patch = (c: import('../../src/node/config.js').TracerConfig) => {
    c.storage.autoDelete = { enabled: true, highWaterPercent: 90, lowWaterPercent: 60, onlyCommitted: true };
  };
  let node = await startTestNode(patch, { root, diskUsage, autoDeleteIntervalMs: 0 });
  try {
    for (const n of [1, 2, 3]) {
      assert.equal(await store(node, n), 0);
      await nextMillisecond(); // distinct reception times: the studies' age is the order they were sent
    }
    // What a storage commitment SCU will do on N-EVENT-REPORT (COMMIT-006): studies 1 and 2 committed.
    assert.equal(await node.archive.index.markCommitted([sop(1), sop(2)], { aeTitle: 'ARCHIVE', at: new Date().toISOString() }), 2);
    // With a fourth instance the disk is at 95%; 60% is 2.5 instances' worth.
    capacity = ((await bytesOnDisk(root)) * 4) / 3 / 0.95;
    assert.equal(await store(node, 4), 0, 'the C-STORE past the high-water mark succeeds');
    await until(() => node.logs.some((l) => String(l.msg).startsWith('watermark deletion done') || String(l.msg).startsWith('store still above')), 10_000, 'the watermark check');
    const deleted = node.logs.filter((l) => l.msg === 'study deleted by watermark deletion (storage.autoDelete)').map((l) => l.studyInstanceUid);
    assert.deepEqual(deleted, [study(1), study(2)]);
    assert.ok(node.logs.some((l) => l.msg === 'store at or above the high-water mark: deleting the least recently received studies' && l.level === 'warn'));
    assert.ok(node.logs.some((l) => l.msg === 'watermark deletion done: below the low-water mark'));
    assert.deepEqual(await studiesInStore(root), [study(3), study(4)]);
    assert.deepEqual(await node.archive.index.counts(), { patients: 1, studies: 2, series: 2, instances: 2 });
    await node.archive.index.markCommitted([sop(3)], { aeTitle: 'ARCHIVE', at: new Date().toISOString() });
    await node.stop();

    // Restarted on a smaller disk: the start-up check deletes study 3 (committed), not 4.
    capacity = (await bytesOnDisk(root)) / 0.95;
    node = await startTestNode(patch, { root, diskUsage, autoDeleteIntervalMs: 0 });
    await until(() => node.logs.some((l) => String(l.msg).startsWith('watermark deletion done')), 10_000, 'the start-up check');
    assert.deepEqual(node.logs.filter((l) => l.msg === 'study deleted by watermark deletion (storage.autoDelete)').map((l) => l.studyInstanceUid), [study(3)]);
    assert.deepEqual(await studiesInStore(root), [study(4)]);
  } finally {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
