/**
 * Quarantine (REQUIREMENTS STOR-041/042): instances kept out of the index are listed, released
 * into it through the ingest path (the UID conflict stored), or deleted; the entry leaves the
 * quarantine in the transaction that indexes the instance, and a deletion interrupted by a
 * crash is finished at the next open. Also `tracer quarantine` as a command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Archive, QuarantineNotFoundError } from '../../src/archive/ingest.js';
import type { QuarantineEntry } from '../../src/archive/index.js';
import { headerOf } from '../../src/archive/ingest.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import { StoreFailure } from '../../src/services/storage-scp.js';
import { ctFile } from '../helpers/instances.js';
import { datasetOffset } from '../helpers/node.js';
import { tracer } from '../helpers/storescp.js';

const ROOT = '1.2.826.0.1.3680043.9.7.330';
const S1 = `${ROOT}.1`, S2 = `${ROOT}.2`, X = `${ROOT}.9.1`;
const sop = (n: number) => `${ROOT}.9.1.${n}`;

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tracer-quarantine-'));
}

/** Runs `fn` on an archive with the default policies in a new directory, closed and removed after. */
async function withArchive(fn: (a: Archive, dir: string, root: string) => Promise<void>): Promise<void> {
  const dir = await tmp();
  const root = join(dir, 'data');
  const a = new Archive({ root });
  await a.open();
  try {
    await fn(a, dir, root);
  } finally {
    await a.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes the instance beside the store and imports it. */
async function importCt(a: Archive, dir: string, study: string, n: number) {
  const f = join(dir, `in-${n}.dcm`);
  await writeFile(f, ctFile({ study, series: X, sop: sop(n) }));
  return { file: f, result: await a.importFile(f) };
}

/** The data set bytes of a Part 10 file (after its File Meta Information). */
async function datasetBytes(file: string): Promise<Buffer> {
  const b = await readFile(file);
  return b.subarray(datasetOffset(b));
}

test('STOR-041 under concurrency: one Series Instance UID in two studies, ingested at once, is still one study\'s; the others are quarantined', () => withArchive(async (a, dir) => {
  // Six ingests at once, none of whose rows exists when the others check: three per study.
  const files = await Promise.all([1, 2, 3, 4, 5, 6].map(async (n) => {
    const f = join(dir, `in-${n}.dcm`);
    await writeFile(f, ctFile({ study: n % 2 ? S1 : S2, series: X, sop: sop(n) }));
    return f;
  }));
  const results = await Promise.all(files.map((f) => a.importFile(f)));
  const stored = results.filter((r) => r.outcome === 'stored');
  const quarantined = results.filter((r) => r.outcome === 'quarantined');
  assert.equal(stored.length, 3, JSON.stringify(results.map((r) => r.outcome)));
  assert.equal(quarantined.length, 3);
  // The three stored are of one study, the quarantined of the other.
  const studyOf = (r: { sopInstanceUid: string }) => (Number(r.sopInstanceUid.split('.').pop()) % 2 ? S1 : S2);
  assert.equal(new Set(stored.map(studyOf)).size, 1);
  assert.equal(new Set(quarantined.map(studyOf)).size, 1);
  assert.notEqual(studyOf(stored[0]!), studyOf(quarantined[0]!));
  assert.deepEqual(await a.index.studiesOfSeries(X), [studyOf(stored[0]!)]);
  assert.equal((await a.listQuarantine()).length, 3);
}));

test('release (STOR-042): a series UID conflict enters the index through the ingest path; the quarantine entry and file go', () => withArchive(async (a, dir, root) => {
  assert.equal((await importCt(a, dir, S1, 1)).result.outcome, 'stored');
  // Series X again, in study 2: quarantined (storage.seriesUidConflict default).
  const q2 = await importCt(a, dir, S2, 2);
  assert.equal(q2.result.outcome, 'quarantined');
  assert.equal((await importCt(a, dir, S2, 3)).result.outcome, 'quarantined');
  const listed = await a.listQuarantine();
  assert.deepEqual(listed.map((e) => e.sopInstanceUid), [sop(2), sop(3)]);
  for (const e of listed) {
    assert.match(e.reason, new RegExp(`Series Instance UID ${X} is already used in study ${S1}`));
    assert.equal(e.studyInstanceUid, S2);
  }
  assert.deepEqual(await a.index.selectInstances({ level: 'IMAGE', sopInstanceUids: [sop(2)] }), []);

  const r = await a.releaseQuarantined(listed[0]!.id);
  assert.equal(r.outcome, 'stored');
  assert.equal(r.location, join(root, S2, X, `${sop(2)}.dcm`));
  // Stored as received: the data set bytes are those of the file first imported.
  assert.deepEqual(await datasetBytes(r.location), await datasetBytes(q2.file));
  assert.deepEqual((await a.index.studiesOfSeries(X)).sort(), [S1, S2]);
  assert.equal((await a.index.selectInstances({ level: 'IMAGE', sopInstanceUids: [sop(2)] }))[0]!.studyInstanceUid, S2);
  assert.deepEqual((await a.listQuarantine()).map((e) => e.sopInstanceUid), [sop(3)]);
  assert.equal((await readdir(join(root, '.quarantine'))).length, 1, 'the released file left the quarantine directory');
  assert.deepEqual(await a.index.pendingDeletions(), []);
  await assert.rejects(a.releaseQuarantined(listed[0]!.id), QuarantineNotFoundError);

  // Delete the other; the directory stays usable for the next quarantine.
  const gone = await a.deleteQuarantined(listed[1]!.id);
  assert.equal(gone.sopInstanceUid, sop(3));
  assert.deepEqual(await a.listQuarantine(), []);
  assert.deepEqual(await readdir(join(root, '.quarantine')), []);
  await assert.rejects(a.deleteQuarantined(listed[1]!.id), /no quarantined instance with id/);

  // Instance 2 once more: the conflict quarantines it again; released, it is a duplicate of the
  // indexed one (duplicatePolicy ignore) and leaves the quarantine all the same.
  assert.equal((await importCt(a, dir, S2, 2)).result.outcome, 'quarantined');
  const [again] = await a.listQuarantine();
  const dup = await a.releaseQuarantined(again!.id);
  assert.equal(dup.outcome, 'ignored');
  assert.deepEqual(await a.listQuarantine(), []);
  assert.deepEqual(await readdir(join(root, '.quarantine')), []);
  assert.equal((await a.index.counts()).instances, 2);
}));

test('release: an instance that cannot be ingested stays in quarantine; the other storage.* policies apply', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  let a = new Archive({ root });
  await a.open();
  try {
    // What the start-up check keeps of a file it cannot read.
    await writeFile(join(root, '.quarantine', 'junk.dcm'), 'not DICOM');
    await a.index.addQuarantine({ path: '.quarantine/junk.dcm', reason: 'found at start-up, not indexable' });
    const [junk] = await a.listQuarantine();
    await assert.rejects(a.releaseQuarantined(junk!.id), (e: unknown) => e instanceof StoreFailure && e.kind === 'cannotUnderstand');
    assert.equal((await a.listQuarantine()).length, 1);
    assert.deepEqual(await readdir(join(root, '.quarantine')), ['junk.dcm']);
    await a.deleteQuarantined(junk!.id);
    await a.close();

    // duplicatePolicy reject: a released duplicate is refused and stays.
    a = new Archive({ root, policy: { duplicatePolicy: 'reject' } });
    await a.open();
    await importCt(a, dir, S1, 1);
    await importCt(a, dir, S2, 2);
    const [e2] = await a.listQuarantine();
    assert.equal((await a.releaseQuarantined(e2!.id)).outcome, 'stored');
    await importCt(a, dir, S2, 2);
    const [again] = await a.listQuarantine();
    await assert.rejects(a.releaseQuarantined(again!.id), (e: unknown) => e instanceof StoreFailure && e.kind === 'duplicate');
    assert.equal((await a.listQuarantine()).length, 1);
  } finally {
    await a.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('crash safety: the entry leaves the quarantine in the indexing transaction; an interrupted file deletion is finished at the next open', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  let a = new Archive({ root });
  await a.open();
  try {
    await importCt(a, dir, S1, 1);
    const q = await importCt(a, dir, S2, 2);
    const [e] = await a.listQuarantine() as [QuarantineEntry];
    // An indexing that fails (a duplicate in the index) leaves the entry where it was.
    const f = readDicomFile(q.file);
    const entry = {
      path: `${S1}/${X}/${sop(1)}.dcm`, sopClassUid: f.dataset.string(0x00080016)!, sopInstanceUid: sop(1), studyInstanceUid: S1, seriesInstanceUid: X,
      transferSyntaxUid: f.transferSyntaxUID, size: 1, header: headerOf(f.dataset),
    };
    f.source.close();
    await assert.rejects(a.index.addInstance(entry, { demographicUpdate: 'latestWins', replace: false, releasedFromQuarantine: e.id }), /already in series/);
    assert.deepEqual(await a.index.getQuarantine(e.id), e);
    assert.deepEqual(await a.index.pendingDeletions(), []);
    // The transaction of a release or a deletion commits, then the process dies before the unlink.
    assert.deepEqual(await a.index.discardQuarantine(e.id), e);
    assert.deepEqual(await a.index.pendingDeletions(), [e.path]);
    assert.deepEqual((await readdir(join(root, '.quarantine'))).length, 1);
    await a.index.close();
    a = new Archive({ root });
    await a.open();
    assert.deepEqual(await readdir(join(root, '.quarantine')), [], 'the file is removed at the next open');
    assert.deepEqual(await a.index.pendingDeletions(), []);
    assert.equal((await importCt(a, dir, S2, 3)).result.outcome, 'quarantined', 'the quarantine directory is still there');
  } finally {
    await a.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('tracer quarantine list, release, delete (CLI)', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  try {
    await writeFile(join(dir, '1.dcm'), ctFile({ study: S1, series: X, sop: sop(1) }));
    for (const n of [2, 3, 4]) await writeFile(join(dir, `${n}.dcm`), ctFile({ study: S2, series: X, sop: sop(n) }));
    // One at a time: the first file's study wins the series, and the quarantine keeps the order.
    const imp = await tracer(['import', '--jobs', '1', '--data', root, ...[1, 2, 3, 4].map((n) => join(dir, `${n}.dcm`))]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /1 stored, 0 replaced, 0 duplicates ignored, 3 quarantined, 0 failed/);

    const table = await tracer(['quarantine', 'list', '--data', root]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID +RECEIVED +SOP INSTANCE UID +REASON$/);
    assert.equal(lines.length, 4);
    for (const n of [2, 3, 4]) assert.ok(lines.some((l) => l.includes(sop(n)) && l.includes(`already used in study ${S1}`)), table.stdout);
    const json = await tracer(['quarantine', 'list', '--json', '--data', root]);
    const entries = JSON.parse(json.stdout) as QuarantineEntry[];
    assert.deepEqual(entries.map((e) => e.sopInstanceUid), [sop(2), sop(3), sop(4)]);

    const rel = await tracer(['quarantine', 'release', String(entries[0]!.id), '--data', root]);
    assert.equal(rel.code, 0, rel.stderr);
    assert.match(rel.stdout, new RegExp(`released ${entries[0]!.id}: stored .*${sop(2)}\\.dcm`));
    const missing = await tracer(['quarantine', 'release', '999', '--data', root]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found: no quarantined instance with id 999/);

    const dry = await tracer(['quarantine', 'delete', '--all', '-n', '--data', root]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would delete ${entries[1]!.id}: ${sop(3)}`));
    assert.equal(JSON.parse((await tracer(['quarantine', 'list', '--json', '--data', root])).stdout).length, 2, 'a dry run deletes nothing');
    const del = await tracer(['quarantine', 'delete', '--all', '--json', '--data', root]);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(del.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { outcome: string; sopInstanceUid: string }).sopInstanceUid), [sop(3), sop(4)]);
    const empty = await tracer(['quarantine', 'list', '--data', root]);
    assert.equal(empty.stdout.trim(), 'quarantine is empty');
    assert.deepEqual(await readdir(join(root, '.quarantine')), []);
    // The released instance is in the archive: tracer delete finds it.
    const d = await tracer(['delete', '--data', root, '--instance', sop(2)]);
    assert.equal(d.code, 0, d.stderr);

    const help = await tracer(['quarantine', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: tracer quarantine list \[--json\]/);
    assert.match((await tracer(['--help'])).stdout, /quarantine +list, release into the archive or delete quarantined instances/);
    const usage: [string[], RegExp][] = [
      [['quarantine'], /missing action: give list, release or delete/],
      [['quarantine', 'purge'], /unknown action 'purge'/],
      [['quarantine', 'release', '--data', root], /release: give one or more IDs or --all, not both/],
      [['quarantine', 'delete', '1', '--all', '--data', root], /delete: give one or more IDs or --all, not both/],
      [['quarantine', 'release', 'x1', '--data', root], /'x1' is not a quarantine ID/],
      [['quarantine', 'list', '--all', '--data', root], /list takes no ID or --all/],
      [['quarantine', 'release', '--all', '-n', '--data', root], /--dry-run goes with delete/],
    ];
    for (const [args, re] of usage) {
      const r = await tracer(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
