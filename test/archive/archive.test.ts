/**
 * The archive: the ingest path's policies (REQUIREMENTS 5.4-5.6), the start-up check, `tracer
 * import` and `tracer delete`, and crash safety: `tracer serve` killed (SIGKILL) during a large
 * storescu transfer, restarted, and checked (every row has its file and every file its row, no
 * temporary debris, every instance storescu saw acknowledged is present).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Archive } from '../../src/archive/ingest.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import { encodeDicomFile } from '../../src/dicom/write.js';
import { indexRows as rows, storedFiles as stored } from '../helpers/archive.js';
import { requireTools } from '../helpers/peers.js';
import { TRACER_BIN, startServe } from '../helpers/serve-process.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const ROOT = '1.2.826.0.1.3680043.9.7.300';

function instance(o: { study?: string; series?: string; sop: string; name?: string; pid?: string; modality?: string; pixels?: number; rows?: number }): Buffer {
  const ds = new Dataset();
  ds.setString(0x00080016, 'UI', CT);
  if (o.sop) ds.setString(0x00080018, 'UI', o.sop);
  ds.setString(0x00080060, 'CS', o.modality ?? 'CT');
  ds.setString(0x00100010, 'PN', o.name ?? 'Doe^Jane');
  ds.setString(0x00100020, 'LO', o.pid ?? 'ID1');
  ds.setString(0x0020000d, 'UI', o.study ?? `${ROOT}.1`);
  ds.setString(0x0020000e, 'UI', o.series ?? `${ROOT}.1.1`);
  ds.setNumbers(0x00280002, 'US', [1]);
  ds.setNumbers(0x00280010, 'US', [o.rows ?? 4]);
  ds.setNumbers(0x00280011, 'US', [4]);
  ds.setNumbers(0x00280100, 'US', [16]);
  ds.setNumbers(0x7fe00010, 'OW', new Array(o.pixels ?? 16).fill(7));
  return Buffer.concat([...encodeDicomFile({ dataset: ds, transferSyntaxUID: '1.2.840.10008.1.2.1' })]);
}

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tracer-archive-'));
}



test('fix-ups (STOR-030/031): B000, coerced values, Original Attributes Sequence with the old ones', async () => {
  const dir = await tmp();
  try {
    await writeFile(join(dir, 'a.dcm'), instance({ sop: `${ROOT}.1.1.1`, name: '', rows: 2 }));
    const a = new Archive({ root: join(dir, 'data'), policy: { fixups: { emptyPatientName: 'Unknown', emptyPatientId: false, rowsColumnsFromPixelData: true, generateMissingSopInstanceUid: false } } });
    await a.open();
    try {
      const r = await a.importFile(join(dir, 'a.dcm'));
      assert.equal(r.status, 0xb000);
      assert.match(r.reason ?? '', /Patient's Name set to 'Unknown'.*Rows\/Columns set to 4x4/);
      const f = readDicomFile(r.location);
      assert.equal(f.dataset.string(0x00100010), 'Unknown');
      assert.equal(f.dataset.number(0x00280010), 4);
      const item = f.dataset.sequence(0x04000561)[0]!;
      assert.equal(item.string(0x04000565), 'COERCE');
      const orig = item.sequence(0x04000550)[0]!;
      assert.equal(orig.number(0x00280010), 2);
      assert.equal(orig.string(0x00100010) ?? '', '');
      f.source.close();
    } finally {
      await a.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('UID conflicts (STOR-041) and demographic updates (STOR-050)', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  try {
    const lines: Record<string, unknown>[] = [];
    const logger = { error: () => undefined, warn: (msg: string, f?: object) => lines.push({ msg, ...f }), info: (msg: string, f?: object) => lines.push({ msg, ...f }), debug: () => undefined, trace: () => undefined, child() { return this; }, enabled: () => true };
    const a = new Archive({ root, logger });
    await a.open();
    try {
      await writeFile(join(dir, '1.dcm'), instance({ sop: `${ROOT}.1.1.1`, name: 'Doe^Jane' }));
      await writeFile(join(dir, '2.dcm'), instance({ sop: `${ROOT}.1.1.2`, name: 'Doe^Janet' }));
      // the same series UID in another study: quarantined, status success
      await writeFile(join(dir, '3.dcm'), instance({ study: `${ROOT}.2`, series: `${ROOT}.1.1`, sop: `${ROOT}.1.1.3` }));
      // the same SOP UID in another series: stored (storage.sopUidConflict store)
      await writeFile(join(dir, '4.dcm'), instance({ series: `${ROOT}.1.2`, sop: `${ROOT}.1.1.1`, modality: 'PT', name: 'Doe^Janet' }));
      assert.equal((await a.importFile(join(dir, '1.dcm'))).outcome, 'stored');
      assert.equal((await a.importFile(join(dir, '2.dcm'))).outcome, 'stored');
      const q = await a.importFile(join(dir, '3.dcm'));
      assert.equal(q.outcome, 'quarantined');
      assert.equal(q.status ?? 0, 0);
      assert.equal((await a.index.listQuarantine()).length, 1);
      assert.equal((await a.importFile(join(dir, '4.dcm'))).outcome, 'stored');
      assert.deepEqual(await a.index.counts(), { patients: 1, studies: 1, series: 2, instances: 3 });
      // latestWins: the patient of the study is now Doe^Janet, and the change is logged
      const change = lines.find((l) => l.msg === 'demographics updated (latest instance wins)');
      assert.ok(change, 'demographic change logged');
      assert.equal(change!.old, 'Doe^Jane');
      assert.equal(change!.new, 'Doe^Janet');
      const found = [];
      for await (const m of a.index.find({ model: 'STUDY_ROOT', level: 'STUDY', keys: [{ tag: 0x00100010, vr: 'PN', values: ['doe^janet'] }], match: { caseInsensitive: 'pnOnly', pnMatching: 'componentWise', implicitTrailingWildcard: false } })) found.push(m);
      assert.equal(found.length, 1);
      assert.deepEqual(found[0]!.headers.STUDY!['00080061']!.Value, ['CT', 'PT']);
    } finally {
      await a.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tracer import --jobs: files imported several at once, reported in the order given, all indexed; a bad --jobs is refused', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  try {
    await mkdir(join(dir, 'in'), { recursive: true });
    const names: string[] = [];
    for (let n = 0; n < 24; n++) {
      // Sizes that differ, so that the imports finish out of order.
      const name = `${String(n).padStart(2, '0')}.dcm`;
      await writeFile(join(dir, 'in', name), instance({ series: `${ROOT}.1.${n % 3}`, sop: `${ROOT}.1.${n % 3}.${n}`, pixels: ((n * 7) % 5) * 60_000 + 64 }));
      names.push(name);
    }
    await writeFile(join(dir, 'in', '12-junk.dcm'), 'not DICOM');
    const imp = spawnSync(process.execPath, [TRACER_BIN, 'import', '--jobs', '5', '--json', '--data', root, join(dir, 'in')], { encoding: 'utf8' });
    assert.equal(imp.status, 1, imp.stderr);
    const lines = imp.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; outcome: string });
    const expected = [...names, '12-junk.dcm'].sort();
    assert.deepEqual(lines.map((l) => l.file.slice(join(dir, 'in').length + 1)), expected);
    assert.equal(lines.filter((l) => l.outcome === 'stored').length, 24);
    assert.equal(lines.find((l) => l.file.endsWith('12-junk.dcm'))!.outcome, 'failed');
    assert.equal(rows(root).length, 24);
    assert.deepEqual(await stored(root), rows(root));
    const bad = spawnSync(process.execPath, [TRACER_BIN, 'import', '--jobs', '0', '--data', root, join(dir, 'in')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--jobs: expected an integer from 1 to 64, got '0'/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('start-up check after an unclean stop: orphan file indexed, row without file removed, debris removed, junk and short files quarantined', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  try {
    let a = new Archive({ root });
    await a.open();
    for (const n of [1, 2, 3]) {
      await writeFile(join(dir, `${n}.dcm`), instance({ sop: `${ROOT}.1.1.${n}` }));
      await a.importFile(join(dir, `${n}.dcm`));
    }
    await a.index.close(); // no clean mark: as if killed
    const series = join(root, `${ROOT}.1`, `${ROOT}.1.1`);
    await unlink(join(series, `${ROOT}.1.1.2.dcm`));
    // a file placed but never indexed, and a partial file
    await writeFile(join(series, `${ROOT}.1.1.9.dcm`), Buffer.concat([instance({ sop: `${ROOT}.1.1.9` })]));
    await writeFile(join(series, 'junk.dcm'), 'not dicom');
    // A file cut short (a damaged disk, a copy that stopped): its header is whole, its pixel
    // data are not. Never indexed.
    const whole = instance({ sop: `${ROOT}.1.1.8`, pixels: 2048 });
    await writeFile(join(series, `${ROOT}.1.1.8.dcm`), whole.subarray(0, whole.length - 1000));
    await writeFile(join(root, '.incoming', 'x.part'), 'partial');
    a = new Archive({ root });
    const { check, stale } = await a.open();
    assert.deepEqual(stale, ['x.part']);
    assert.deepEqual({ ...check, ms: 0 }, { files: 5, indexed: 1, removed: 1, quarantined: 2, ms: 0 });
    assert.ok((await a.listQuarantine()).some((q) => /runs past the end/.test(q.reason)), 'the short file is quarantined for its length');
    await a.close();
    assert.deepEqual(rows(root), [1, 3, 9].map((n) => `${ROOT}.1/${ROOT}.1.1/${ROOT}.1.1.${n}.dcm`));
    assert.deepEqual(await stored(root), rows(root));
    // a clean close: no walk at the next open
    a = new Archive({ root });
    assert.equal((await a.open()).check, undefined);
    await a.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tracer import and tracer delete (CLI): files and index agree after each', async () => {
  const dir = await tmp();
  const root = join(dir, 'data');
  try {
    await mkdir(join(dir, 'in', 'sub'), { recursive: true });
    for (const n of [1, 2]) await writeFile(join(dir, 'in', `${n}.dcm`), instance({ sop: `${ROOT}.1.1.${n}` }));
    await writeFile(join(dir, 'in', 'sub', '3.dcm'), instance({ study: `${ROOT}.2`, series: `${ROOT}.2.1`, sop: `${ROOT}.2.1.1`, pid: 'ID2' }));
    await writeFile(join(dir, 'in', 'readme.txt'), 'not DICOM');
    const imp = spawnSync(process.execPath, [TRACER_BIN, 'import', '--data', root, join(dir, 'in')], { encoding: 'utf8' });
    assert.equal(imp.status, 1, 'one file was not DICOM');
    assert.match(imp.stdout, /3 stored, 0 replaced, 0 duplicates ignored, 0 quarantined, 1 failed/);
    assert.match(imp.stderr, /readme\.txt \(0xC000/);
    assert.equal(rows(root).length, 3);
    const again = spawnSync(process.execPath, [TRACER_BIN, 'import', '-q', '--data', root, join(dir, 'in', '1.dcm')], { encoding: 'utf8' });
    assert.equal(again.status, 0);
    assert.match(again.stdout, /0 stored, 0 replaced, 1 duplicates ignored/);
    const del = spawnSync(process.execPath, [TRACER_BIN, 'delete', '--data', root, '--study', `${ROOT}.1`], { encoding: 'utf8' });
    assert.equal(del.status, 0, del.stderr);
    assert.match(del.stdout, /deleted study .*: 2 instance\(s\)/);
    // COMMIT-030: nothing was committed by an archive, so the deletion warns.
    assert.match(del.stderr, /warning: 2 of the 2 instance\(s\) of study .* were not committed by an archive/);
    const marked = new Archive({ root });
    await marked.open({ check: false });
    assert.equal(await marked.index.markCommitted([`${ROOT}.2.1.1`], { at: new Date().toISOString(), aeTitle: 'PACS' }), 1);
    await marked.close();
    assert.deepEqual(rows(root), [`${ROOT}.2/${ROOT}.2.1/${ROOT}.2.1.1.dcm`]);
    assert.deepEqual(await stored(root), rows(root));
    const delp = spawnSync(process.execPath, [TRACER_BIN, 'delete', '--data', root, '--patient', 'ID2'], { encoding: 'utf8' });
    assert.equal(delp.status, 0, delp.stderr);
    assert.doesNotMatch(delp.stderr, /warning/);
    assert.deepEqual(rows(root), []);
    assert.deepEqual(await stored(root), []);
    const none = spawnSync(process.execPath, [TRACER_BIN, 'delete', '--data', root, '--instance', '1.2.3'], { encoding: 'utf8' });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /not found: image 1\.2\.3/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('crash safety: tracer serve killed (SIGKILL) three times during a storescu transfer; after restart store and index agree', async (t) => {
  if (!requireTools(t, 'storescu')) return;
  const dir = await tmp();
  const root = join(dir, 'data');
  try {
    await mkdir(join(dir, 'in'));
    const N = 400;
    for (let i = 0; i < N; i++) await writeFile(join(dir, 'in', `f${String(i).padStart(4, '0')}.dcm`), instance({ series: `${ROOT}.1.${(i % 4) + 1}`, sop: `${ROOT}.1.${(i % 4) + 1}.${i}`, pixels: 2048 }));
    const acknowledged = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const srv = await startServe(dir, ['--data', root]);
      const p = spawn('storescu', ['-v', '-aet', 'CRASH', '-aec', 'TRACER', '+sd', '127.0.0.1', String(srv.port), join(dir, 'in')], { env: { ...process.env, TCP_NODELAY: '1' } });
      let out = '';
      let lastSop = '';
      p.stderr.on('data', (c: Buffer) => {
        out += c.toString();
        let i: number;
        while ((i = out.indexOf('\n')) >= 0) {
          const line = out.slice(0, i);
          out = out.slice(i + 1);
          const f = /Sending file: .*f(\d{4})\.dcm/.exec(line);
          if (f) {
            const i = Number(f[1]);
            lastSop = `${ROOT}.1.${(i % 4) + 1}.${i}`;
          }
          if (/Received Store Response \(Success\)/.test(line) && lastSop) acknowledged.add(lastSop);
        }
      });
      p.stdout.resume();
      // kill at a random moment of the transfer
      const stores = () => srv.logs.filter((l) => l.msg === 'stored').length;
      const target = 20 + Math.floor(Math.random() * 80);
      const t0 = Date.now();
      while (stores() < target && Date.now() - t0 < 15000 && p.exitCode === null) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      srv.proc.kill('SIGKILL');
      await srv.exited;
      await new Promise<void>((r) => (p.exitCode !== null ? r() : p.once('exit', () => r())));
    }
    // restart: the start-up check reconciles; then stop cleanly
    const srv = await startServe(dir, ['--data', root]);
    assert.ok(srv.logs.some((l) => l.msg === 'start-up check of the store after an unclean stop'));
    await new Promise((r) => setTimeout(r, 300)); // signal handlers are installed once the node is up
    assert.equal(await srv.stop(), 0);
    const files = await stored(root);
    assert.deepEqual(files, rows(root), 'every row has its file and every file its row');
    assert.deepEqual(await readdir(join(root, '.incoming')), [], 'no temporary debris');
    const present = new Set(files.map((f) => f.split('/').pop()!.replace(/\.dcm$/, '')));
    assert.ok(acknowledged.size > 0, 'storescu saw acknowledgements');
    for (const sop of acknowledged) assert.ok(present.has(sop), `acknowledged ${sop} is stored`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});


test('index: instances agreeing with the stored headers add no conflict; differing ones are compared each time; per-key instance indexes only where needed', async () => {
  const { SqliteIndex } = await import('../../src/archive/sqlite-index.js');
  const dir = await tmp();
  try {
    const path = join(dir, 'i.sqlite');
    const idx = new SqliteIndex(path);
    const header = (sop: string, name: string) => ({
      '00080016': { vr: 'UI', Value: [CT] }, '00080018': { vr: 'UI', Value: [sop] }, '00080060': { vr: 'CS', Value: ['CT'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: name }] }, '00100020': { vr: 'LO', Value: ['ID1'] },
      '0020000D': { vr: 'UI', Value: [`${ROOT}.1`] }, '0020000E': { vr: 'UI', Value: [`${ROOT}.1.1`] },
    }) as import('../../src/dicom/json.js').JsonDataset;
    const entry = (n: number, name: string) => ({
      path: `${ROOT}.1/${ROOT}.1.1/${ROOT}.1.1.${n}.dcm`, sopClassUid: CT, sopInstanceUid: `${ROOT}.1.1.${n}`, studyInstanceUid: `${ROOT}.1`,
      seriesInstanceUid: `${ROOT}.1.1`, transferSyntaxUid: '1.2.840.10008.1.2.1', size: 1, header: header(`${ROOT}.1.1.${n}`, name),
    });
    try {
      const e1 = entry(1, 'Doe^Jane');
      idx.prepareInstance(e1);
      assert.deepEqual((await idx.addInstance(e1, { demographicUpdate: 'keepExisting', replace: false })).changes, []);
      assert.deepEqual((await idx.addInstance(entry(2, 'Doe^Jane'), { demographicUpdate: 'keepExisting', replace: false })).changes, []);
      // kept, not applied: the difference is reported for every instance that shows it
      for (const n of [3, 4]) {
        const e = entry(n, 'Doe^Janet');
        idx.prepareInstance(e);
        const r = await idx.addInstance(e, { demographicUpdate: 'keepExisting', replace: false });
        assert.deepEqual(r.changes.map((c) => [c.level, c.old, c.new, c.applied]), [['PATIENT', 'Doe^Jane', 'Doe^Janet', false]]);
      }
      // latestWins applies it once; the next instance agrees
      assert.equal((await idx.addInstance(entry(5, 'Doe^Janet'), { demographicUpdate: 'latestWins', replace: false })).changes.length, 1);
      assert.deepEqual((await idx.addInstance(entry(6, 'Doe^Janet'), { demographicUpdate: 'latestWins', replace: false })).changes, []);
      assert.deepEqual(await idx.counts(), { patients: 1, studies: 1, series: 1, instances: 6 });
      const names = (idx.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'instance' AND name LIKE 'instance_%'").all() as { name: string }[]).map((r) => r.name).sort();
      assert.deepEqual(names, ['instance_sop_class_uid', 'instance_sop_instance_uid', 'instance_uid_unique']);
      // Each attribute is kept at the level that stores it: an instance row holds only its own.
      const inst = JSON.parse((idx.db.prepare('SELECT header FROM instance ORDER BY id LIMIT 1').get() as { header: string }).header) as Record<string, unknown>;
      assert.deepEqual(Object.keys(inst).sort(), ['00080016', '00080018']);
      const ser = JSON.parse((idx.db.prepare('SELECT header FROM series').get() as { header: string }).header) as Record<string, unknown>;
      assert.deepEqual(Object.keys(ser).sort(), ['00080060', '0020000E']);
    } finally {
      await idx.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("index: Patient's Name keys narrowed through patient_name give what matching alone gives; kept through updates and deletions; older schemas migrated", async () => {
  const { SqliteIndex } = await import('../../src/archive/sqlite-index.js');
  const { DEFAULT_MATCH_OPTIONS, matchAll } = await import('../../src/archive/matching.js');
  type JsonDataset = import('../../src/dicom/json.js').JsonDataset;
  const dir = await tmp();
  const path = join(dir, 'i.sqlite');
  const names: (string | { Alphabetic?: string; Ideographic?: string; Phonetic?: string })[] = [
    'SMITH^JOHN', 'Smith^Anna', 'smithers^Bo', '  SMYTH ^ AL', 'SMI', '\u017Fmith^Long', '\u212Aarl^Kelvin', 'KARL^Plain', 'Straße^Eva',
    'Müller^Hans', '^OnlyGiven', { Alphabetic: 'Yamada^Taro', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' },
    { Alphabetic: 'Doe^Jane', Phonetic: 'SMITH' }, 'Jones', "O'Neil^Pat",
  ];
  const header = (i: number, sop: number, name: (typeof names)[number]): JsonDataset => ({
    '00080016': { vr: 'UI', Value: [CT] }, '00080018': { vr: 'UI', Value: [`${ROOT}.9.${i}.1.${sop}`] },
    '00100010': { vr: 'PN', Value: [typeof name === 'string' ? { Alphabetic: name } : name] }, '00100020': { vr: 'LO', Value: [`PID${i}`] },
    '0020000D': { vr: 'UI', Value: [`${ROOT}.9.${i}`] }, '0020000E': { vr: 'UI', Value: [`${ROOT}.9.${i}.1`] },
  });
  const add = (idx: InstanceType<typeof SqliteIndex>, i: number, name: (typeof names)[number], sop = 1) => idx.addInstance({
    path: `${ROOT}.9.${i}/${ROOT}.9.${i}.1/${ROOT}.9.${i}.1.${sop}.dcm`, sopClassUid: CT, sopInstanceUid: `${ROOT}.9.${i}.1.${sop}`, studyInstanceUid: `${ROOT}.9.${i}`,
    seriesInstanceUid: `${ROOT}.9.${i}.1`, transferSyntaxUid: '1.2.840.10008.1.2.1', size: 1, header: header(i, sop, name),
  }, { demographicUpdate: 'latestWins', replace: false });
  const keys = ['SMI*', 'smi*', 'smith', 'SMITH^J*', 'Smith^Anna', 'KARLSSON', 'Smithers', 'sm?th*', '*mith', 'S*', 'karl*', 'KARL', 'straße', 'STRASSE', 'mül*', '山田', 'やま*', '^OnlyGiven',
    'SMITH=山田', "o'n*", 'Jones\\smyth', '""'];
  const check = async (idx: InstanceType<typeof SqliteIndex>, label: string) => {
    const all: JsonDataset[] = [];
    for await (const m of idx.find({ model: 'STUDY_ROOT', level: 'STUDY', keys: [], match: DEFAULT_MATCH_OPTIONS })) all.push(m.headers.PATIENT!);
    for (const kv of keys) {
      const k = { tag: 0x00100010, vr: 'PN' as const, values: kv.split('\\') };
      const got: string[] = [];
      for await (const m of idx.find({ model: 'STUDY_ROOT', level: 'STUDY', keys: [k], match: DEFAULT_MATCH_OPTIONS })) got.push(JSON.stringify(m.headers.PATIENT));
      const want = all.filter((h) => matchAll([k], h, DEFAULT_MATCH_OPTIONS)).map((h) => JSON.stringify(h));
      assert.deepEqual(got.sort(), want.sort(), `${label}: ${kv}`);
    }
  };
  try {
    let idx = new SqliteIndex(path);
    for (const [i, n] of names.entries()) await add(idx, i, n);
    await check(idx, 'as ingested');
    // latestWins: study 1's patient is renamed in case only (same identity, its row updated);
    // study 2's patient is renamed (the study moves to a new patient, the old one goes).
    await add(idx, 1, 'SMITH^ANNA', 2);
    await add(idx, 2, 'Karlsson^Bo', 2);
    // Same identity (the match key has the alphabetic group only), another phonetic family name.
    await add(idx, 12, { Alphabetic: 'Doe^Jane', Phonetic: 'JONES' }, 2);
    await add(idx, 100, 'SMITH^JOHN');
    await check(idx, 'after demographic updates');
    await idx.removeInstances([`${ROOT}.9.7/${ROOT}.9.7.1/${ROOT}.9.7.1.1.dcm`]);
    await check(idx, 'after a deletion');
    const orphans = idx.db.prepare('SELECT count(*) AS n FROM patient_name WHERE patient_fk NOT IN (SELECT id FROM patient)').get() as { n: number };
    assert.equal(orphans.n, 0, 'no rows for deleted patients');
    // An index of schema 2 (no patient_name rows), or of schema 1, is migrated when opened.
    for (const old of ['2', '1']) {
      idx.db.exec(`DELETE FROM patient_name; UPDATE meta SET value = '${old}' WHERE key = 'schema'`);
      await idx.close();
      idx = new SqliteIndex(path);
      assert.equal(await idx.getMeta('schema'), '3', `from ${old}`);
      await check(idx, `after migration from ${old}`);
    }
    assert.ok((idx.db.prepare('SELECT count(*) AS n FROM patient_name').get() as { n: number }).n >= names.length);
    // The narrowing is real: a prefix query searches the patient_name index, not every study.
    const plan = (idx.db.prepare("EXPLAIN QUERY PLAN SELECT patient_fk FROM patient_name WHERE family >= 'SMI' AND family < 'SMJ'").all() as { detail: string }[]).map((r) => r.detail).join('; ');
    assert.match(plan, /SEARCH patient_name/);
    await idx.close();
    idx.db.close();
    // A schema this version does not know is refused.
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema'").run();
    db.close();
    assert.throws(() => new SqliteIndex(path), /index schema 99/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('index: C-FIND keys are searched through their indexes, whatever the page size; no keys read the table in id order', async () => {
  const { SqliteIndex } = await import('../../src/archive/sqlite-index.js');
  const { DEFAULT_MATCH_OPTIONS } = await import('../../src/archive/matching.js');
  type FindQuery = import('../../src/archive/index.js').FindQuery;
  const dir = await tmp();
  try {
    for (const pageSize of [10, 256, 1000, 100_000]) {
      const idx = new SqliteIndex(join(dir, `p${pageSize}.sqlite`), { pageSize });
      try {
        const plan = (keys: FindQuery['keys']): string => {
          const { sql, params } = (idx as unknown as { buildFind(q: FindQuery): { sql: string; params: unknown[] } }).buildFind({ model: 'STUDY_ROOT', level: 'STUDY', keys, match: DEFAULT_MATCH_OPTIONS });
          return (idx.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params, 0) as { detail: string }[]).map((r) => r.detail).join('; ');
        };
        // SQLite picks a walk of the study table in id order (no sort) for a large enough LIMIT
        // unless told otherwise: a date range over 100,000 studies then reads every one of them.
        assert.match(plan([{ tag: 0x00080020, vr: 'DA', values: ['20100101-20100131'] }]), /SEARCH st USING INDEX study_study_date/, `date, page ${pageSize}`);
        assert.match(plan([{ tag: 0x00100010, vr: 'PN', values: ['smi*'] }]), /SEARCH patient_name USING PRIMARY KEY/, `name, page ${pageSize}`);
        assert.match(plan([{ tag: 0x00080050, vr: 'SH', values: ['A1'] }]), /SEARCH st USING INDEX study_accession_number/, `accession, page ${pageSize}`);
        assert.match(plan([]), /SEARCH st USING INTEGER PRIMARY KEY \(rowid>\?\)/, `no keys, page ${pageSize}`);
        assert.doesNotMatch(plan([]), /TEMP B-TREE/, `no keys: no sort, page ${pageSize}`);
      } finally {
        await idx.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
