/**
 * The embedded index: SQLite through better-sqlite3, one file in the data directory
 * (`<root>/.index/tracer.sqlite`).
 *
 * Durability. The database runs in WAL mode. A transaction is committed before the Storage
 * SCP answers; with `synchronous = NORMAL` (default, store.indexSynchronous) a commit survives
 * the death of the process (SIGKILL: the WAL is in the kernel's page cache) but may be lost
 * with a power cut, while `FULL` fsyncs the WAL at every commit. NORMAL is enough because the
 * file, fsynced before the row is written, is the record: the start-up check after an unclean
 * stop indexes every file that has no row. And NORMAL does not block the event loop on an
 * fsync per instance (better-sqlite3 is synchronous).
 *
 * Cost per instance stays flat as the archive grows: every look-up goes through a unique index
 * (Study UID, Series UID within its study, SOP UID within its series), aggregates are updated
 * incrementally, and the only per-study recomputation (Modalities in Study) happens when a
 * series is added or removed.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Dataset } from '../dicom/dataset.js';
import { JsonWriter, jsonAttribute, type JsonAttribute, type JsonDataset, type JsonPN } from '../dicom/json.js';
import { asError } from '../dicom/errors.js';
import { tagKey } from '../dicom/tag.js';
import {
  AGGREGATES, DEMOGRAPHIC_ATTRS, INSTANCE_KEYS, KEYS_BY_LEVEL, PATIENT_KEYS, SERIES_KEYS, STUDY_KEYS, storageLevelOf,
  type KeyColumn, type Level,
} from './attributes.js';
import {
  DuplicateInstanceError, HEADER_JSON,
  type AddOptions, type AddResult, type ArchiveIndex, type CommitMark, type DemographicChange, type FindMatch, type FindQuery, type IndexedInstance,
  type InstanceEntry, type InstanceSelector, type QuarantineEntry, type RecyclableStudy, type StoredInstance,
} from './index.js';
import { columnValue, combinedPairs, matchAll, pnFamilyKeys, pnFamilyRanges, sqlPrefilter, type QueryKey } from './matching.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { CheckpointerData, CheckpointerMessage } from './checkpointer.js';

export interface SqliteIndexOptions {
  /** PRAGMA synchronous in WAL mode (see the module comment). */
  synchronous?: 'normal' | 'full';
  /** Patient identity (STOR-051, db.patientMatchKeys). */
  patientMatchKeys?: readonly string[];
  /**
   * Rows fetched per page by find() (default 1000). Each page runs the query again and sorts
   * its candidates: a page larger than findScp.maxMatches (500) answers most C-FINDs in one.
   */
  pageSize?: number;
  /**
   * WAL checkpoints on a worker thread (checkpointer.ts) instead of in the commits of the
   * writing connection, which then blocks the event loop for two fsyncs every ~1000 pages
   * written. For long-running writers (`tracer serve`, `import`); default off.
   */
  checkpointInBackground?: boolean | { intervalMs: number };
}

/**
 * The writer's own automatic checkpoint while the worker checkpoints (pages): far above what
 * the worker leaves between its checkpoints, so it only acts should the worker fall behind.
 */
const FALLBACK_AUTOCHECKPOINT = 10_000;
/** SQLite's default automatic checkpoint (pages), back when the worker fails. */
const DEFAULT_AUTOCHECKPOINT = 1000;

/**
 * Version 2 adds the commit mark of an instance (committed_at, committed_by; COMMIT-006) and
 * the time a study last received an instance (last_received_at; watermark deletion, 7.3).
 * Version 3 adds patient_name (the folded family names of each patient, for Patient's Name
 * keys). Older indexes are migrated when opened, one version after the other.
 */
const SCHEMA_VERSION = '3';

type Row = Record<string, unknown>;

const TABLE: Record<Level, string> = { PATIENT: 'patient', STUDY: 'study', SERIES: 'series', IMAGE: 'instance' };
const PARENT_FK: Partial<Record<Level, string>> = { STUDY: 'patient_fk', SERIES: 'study_fk', IMAGE: 'series_fk' };
const ORDER: Level[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];
const PATIENT_NAME_KEY = tagKey(0x00100010);

function cols(keys: readonly KeyColumn[]): string {
  return keys.map((c) => `${c.column} TEXT`).join(',\n  ');
}

function indexes(table: string, keys: readonly KeyColumn[]): string {
  return keys.map((c) => `CREATE INDEX IF NOT EXISTS ${table}_${c.column} ON ${table}(${c.column});`).join('\n');
}

/**
 * The instance columns with an index of their own. Every other instance-level key is matched
 * within a series (the instance_uid_unique index leads with series_fk), so an index per key
 * would only cost each ingest: 13 more b-trees written (and their pages to the WAL) per
 * instance. The SOP Instance UID is looked up alone (duplicate and UID-conflict checks), the
 * SOP Class UID by relational queries. Indexes of earlier versions on the others are dropped.
 */
const INDEXED_INSTANCE_COLUMNS = new Set(['sop_instance_uid', 'sop_class_uid']);

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS patient (
  id INTEGER PRIMARY KEY,
  match_key TEXT NOT NULL UNIQUE,
  ${cols(PATIENT_KEYS)},
  num_studies INTEGER NOT NULL DEFAULT 0,
  num_series INTEGER NOT NULL DEFAULT 0,
  num_instances INTEGER NOT NULL DEFAULT 0,
  header TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS study (
  id INTEGER PRIMARY KEY,
  patient_fk INTEGER NOT NULL,
  ${cols(STUDY_KEYS)},
  sop_classes_in_study TEXT,
  num_series INTEGER NOT NULL DEFAULT 0,
  num_instances INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_received_at TEXT,
  header TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS study_uid_unique ON study(study_instance_uid);
CREATE INDEX IF NOT EXISTS study_patient_fk ON study(patient_fk);
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  study_fk INTEGER NOT NULL,
  ${cols(SERIES_KEYS)},
  num_instances INTEGER NOT NULL DEFAULT 0,
  header TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS series_uid_unique ON series(study_fk, series_instance_uid);
CREATE TABLE IF NOT EXISTS instance (
  id INTEGER PRIMARY KEY,
  series_fk INTEGER NOT NULL,
  ${cols(INSTANCE_KEYS)},
  path TEXT NOT NULL UNIQUE,
  transfer_syntax_uid TEXT NOT NULL,
  size INTEGER NOT NULL,
  source_ae_title TEXT,
  received_at TEXT NOT NULL,
  committed_at TEXT,
  committed_by TEXT,
  header TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS instance_uid_unique ON instance(series_fk, sop_instance_uid);
-- Patient's Name prefilter (matching.ts pnFamilyKeys / pnFamilyRanges): one row per family name
-- component of a patient's name, folded, so that 'SMI*' is an index range and not a scan of every
-- patient's header. Kept with the patient row (insert, update, delete).
CREATE TABLE IF NOT EXISTS patient_name (
  family TEXT NOT NULL,
  patient_fk INTEGER NOT NULL,
  PRIMARY KEY (family, patient_fk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS patient_name_patient ON patient_name(patient_fk);
CREATE TABLE IF NOT EXISTS quarantine (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  reason TEXT NOT NULL,
  study_instance_uid TEXT,
  series_instance_uid TEXT,
  sop_instance_uid TEXT,
  received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_deletion (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS demographic_conflict (
  id INTEGER PRIMARY KEY,
  level TEXT NOT NULL,
  uid TEXT NOT NULL,
  tag TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  applied INTEGER NOT NULL,
  at TEXT NOT NULL
);
${indexes('patient', PATIENT_KEYS)}
${indexes('study', STUDY_KEYS.filter((c) => c.column !== 'study_instance_uid'))}
${indexes('series', SERIES_KEYS)}
${indexes('instance', INSTANCE_KEYS.filter((c) => INDEXED_INSTANCE_COLUMNS.has(c.column)))}
${INSTANCE_KEYS.filter((c) => !INDEXED_INSTANCE_COLUMNS.has(c.column)).map((c) => `DROP INDEX IF EXISTS instance_${c.column};`).join('\n')}
`;

/** The storage level of each tag seen (a few hundred distinct tags in practice). */
const levelCache = new Map<number, Level>();

/** storageLevelOf, remembered per tag: asked for every attribute of every instance. */
function levelOfTag(tag: number): Level {
  let level = levelCache.get(tag);
  if (level === undefined) {
    level = storageLevelOf(tag);
    if (levelCache.size < 100_000) levelCache.set(tag, level);
  }
  return level;
}

/**
 * Splits an instance header into the headers kept at each level: each attribute at the level
 * that stores it (attributes.ts storageLevelOf), the instance row holding only its own. Every
 * reader takes an attribute from the header of its level (queries, retrieve), so rows written
 * by earlier versions, which hold the whole header at instance level, read the same. Keeping
 * patient, study and series attributes out of every instance row makes it a third to half the
 * size: fewer pages written per ingest, and less JSON made.
 */
export function splitHeader(h: JsonDataset): Record<Level, JsonDataset> {
  const out: Record<Level, JsonDataset> = { PATIENT: {}, STUDY: {}, SERIES: {}, IMAGE: {} };
  for (const k in h) out[levelOfTag(parseInt(k, 16))][k] = h[k]!;
  return out;
}

/** One writer per level, reused: headerTexts() runs to its end synchronously. */
const levelWriters: Record<Level, JsonWriter> = {
  PATIENT: new JsonWriter(HEADER_JSON), STUDY: new JsonWriter(HEADER_JSON), SERIES: new JsonWriter(HEADER_JSON), IMAGE: new JsonWriter(HEADER_JSON),
};

/**
 * The texts JSON.stringify(splitHeader(headerOf(ds))[level]) gives, written from the data set in
 * one pass (test/archive/header-texts.test.ts checks they are the same).
 */
export function headerTexts(ds: Dataset): Record<Level, string> {
  const empty = { PATIENT: true, STUDY: true, SERIES: true, IMAGE: true };
  for (const w of Object.values(levelWriters)) {
    w.truncate(0); // whatever a failed call left
    w.ascii('{');
  }
  for (const el of ds.elements()) {
    // Group lengths are not part of the JSON model (PS3.18 F.2.1), as in toJSON.
    if (el.tag % 0x10000 === 0) continue;
    const level = levelOfTag(el.tag);
    levelWriters[level].attribute(el, ds, !empty[level]);
    empty[level] = false;
  }
  const text = (l: Level): string => {
    levelWriters[l].ascii('}');
    return levelWriters[l].take().toString('utf8');
  };
  return { PATIENT: text('PATIENT'), STUDY: text('STUDY'), SERIES: text('SERIES'), IMAGE: text('IMAGE') };
}

/** Each level's header parsed from its text on first use. */
class ParsedLevels implements Record<Level, JsonDataset> {
  private readonly parsed: Partial<Record<Level, JsonDataset>> = {};
  constructor(private readonly text: Record<Level, string>) {}
  private level(l: Level): JsonDataset {
    return (this.parsed[l] ??= JSON.parse(this.text[l]) as JsonDataset);
  }
  get PATIENT(): JsonDataset {
    return this.level('PATIENT');
  }
  get STUDY(): JsonDataset {
    return this.level('STUDY');
  }
  get SERIES(): JsonDataset {
    return this.level('SERIES');
  }
  get IMAGE(): JsonDataset {
    return this.level('IMAGE');
  }
}

/** The attributes of `ds` that these key columns read, in the JSON model of the header. */
function keyAttributes(ds: Dataset, keys: readonly KeyColumn[]): JsonDataset {
  const out: JsonDataset = {};
  for (const c of keys) {
    if (c.computed) continue;
    const el = ds.get(c.tag);
    if (el) out[tagKey(c.tag)] = jsonAttribute(el, ds, HEADER_JSON);
  }
  return out;
}

/** The text of an attribute for comparisons and logs ('' when absent). */
export function attrText(a: JsonAttribute | undefined): string {
  if (!a?.Value) return '';
  return a.Value.map((v) => {
    if (v === null) return '';
    if (typeof v === 'object') {
      const p = v as JsonPN;
      if ('Alphabetic' in p || 'Ideographic' in p || 'Phonetic' in p) return [p.Alphabetic ?? '', p.Ideographic ?? '', p.Phonetic ?? ''].join('=').replace(/=+$/, '');
      return JSON.stringify(v);
    }
    return String(v);
  }).join('\\');
}

/** The patient identity of a header by db.patientMatchKeys (STOR-051). */
export function patientKey(h: JsonDataset, keys: readonly string[]): string {
  const parts = keys.map((k) => {
    switch (k) {
      case 'PatientName': {
        // family and given components only (GEMINI), case and padding ignored
        const pn = attrText(h[tagKey(0x00100010)]).split('=')[0]!.split('^');
        return `${(pn[0] ?? '').trim()}^${(pn[1] ?? '').trim()}`.toUpperCase();
      }
      case 'PatientID': return attrText(h[tagKey(0x00100020)]).trim();
      case 'IssuerOfPatientID': return attrText(h[tagKey(0x00100021)]).trim();
      case 'PatientBirthDate': return attrText(h[tagKey(0x00100030)]).trim();
      case 'PatientSex': return attrText(h[tagKey(0x00100040)]).trim().toUpperCase();
      default: return attrText(h[k]).trim();
    }
  });
  return JSON.stringify(parts);
}

/** The CPU work of addInstance on one entry, done ahead when possible (prepareInstance). */
interface Prepared {
  split: Record<Level, JsonDataset>;
  /** JSON text of each level's part of the header. */
  text: Record<Level, string>;
  patientKey: string;
  /** Where the instance's key columns are read from: the header, or those attributes alone. */
  instanceKeys: JsonDataset;
}

function now(): string {
  return new Date().toISOString();
}

function quarantineEntry(r: Row): QuarantineEntry {
  return {
    id: Number(r.id), path: String(r.path), reason: String(r.reason), studyInstanceUid: (r.study_instance_uid as string) ?? undefined,
    seriesInstanceUid: (r.series_instance_uid as string) ?? undefined, sopInstanceUid: (r.sop_instance_uid as string) ?? undefined, receivedAt: String(r.received_at),
  };
}

export class SqliteIndex implements ArchiveIndex {
  readonly db: Database.Database;
  private readonly matchKeys: readonly string[];
  private readonly pageSize: number;
  private readonly st: Record<string, Database.Statement>;
  /** Entries whose CPU work prepareInstance did (weak: an entry never added costs nothing). */
  private readonly prepared = new WeakMap<InstanceEntry, Prepared>();
  /** The checkpointing worker (checkpointInBackground), until close() or its failure. */
  private checkpointer: Worker | undefined;
  /** Checkpoints the worker reported, and the last one's counts: for tests and diagnostics. */
  readonly checkpoints = { count: 0, walFrames: 0, checkpointed: 0, error: undefined as string | undefined };

  constructor(readonly path: string, opts: SqliteIndexOptions = {}) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 10000');
    // Keep the WAL from growing without bound on a small disk.
    this.db.pragma('journal_size_limit = 4194304');
    // Temporary b-trees (DISTINCT, ORDER BY) in memory; a larger page cache (16 MiB) for the
    // unique indexes every ingest walks.
    this.db.pragma('temp_store = MEMORY');
    this.db.pragma('cache_size = -16384');
    this.db.exec(DDL);
    const v = this.db.prepare('SELECT value FROM meta WHERE key = ?').get('schema') as Row | undefined;
    if (!v) this.db.prepare('INSERT INTO meta(key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION);
    else if (v.value === '1') this.migrateFrom1();
    else if (v.value !== SCHEMA_VERSION && v.value !== '2') throw new Error(`${path}: index schema ${String(v.value)} is not the one this version uses (${SCHEMA_VERSION})`);
    this.matchKeys = opts.patientMatchKeys ?? ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex'];
    this.pageSize = opts.pageSize ?? 1000;
    const insertCols = (keys: readonly KeyColumn[]) => keys.filter((c) => !c.computed);
    const ins = (table: string, fixed: string[], keys: readonly KeyColumn[]) => {
      const names = [...fixed, ...insertCols(keys).map((c) => c.column)];
      return this.db.prepare(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`);
    };
    const upd = (table: string, fixed: string[], keys: readonly KeyColumn[]) => {
      const names = [...fixed, ...insertCols(keys).map((c) => c.column)];
      return this.db.prepare(`UPDATE ${table} SET ${names.map((n) => `${n} = @${n}`).join(', ')} WHERE id = @id`);
    };
    this.st = {
      patientByKey: this.db.prepare('SELECT * FROM patient WHERE match_key = ?'),
      patientById: this.db.prepare('SELECT * FROM patient WHERE id = ?'),
      insertPatient: ins('patient', ['match_key', 'header'], PATIENT_KEYS),
      updatePatient: upd('patient', ['match_key', 'header'], PATIENT_KEYS),
      studyByUid: this.db.prepare('SELECT * FROM study WHERE study_instance_uid = ?'),
      insertStudy: ins('study', ['patient_fk', 'header', 'created_at', 'updated_at', 'last_received_at'], STUDY_KEYS),
      updateStudy: upd('study', ['header', 'updated_at'], STUDY_KEYS),
      seriesByUid: this.db.prepare('SELECT * FROM series WHERE study_fk = ? AND series_instance_uid = ?'),
      insertSeries: ins('series', ['study_fk', 'header'], SERIES_KEYS),
      updateSeries: upd('series', ['header'], SERIES_KEYS),
      instanceByUid: this.db.prepare('SELECT id, path FROM instance WHERE series_fk = ? AND sop_instance_uid = ?'),
      insertInstance: ins('instance', ['series_fk', 'path', 'transfer_syntax_uid', 'size', 'source_ae_title', 'received_at', 'header'], INSTANCE_KEYS),
      // A replaced instance loses its commit mark: the new bytes were never committed (COMMIT-030).
      updateInstance: upd('instance', ['path', 'transfer_syntax_uid', 'size', 'source_ae_title', 'received_at', 'header', 'committed_at', 'committed_by'], INSTANCE_KEYS),
      instancesBySop: this.db.prepare(`SELECT i.path, i.sop_instance_uid, se.series_instance_uid, st.study_instance_uid FROM instance i
        JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk WHERE i.sop_instance_uid = ?`),
      studiesOfSeries: this.db.prepare('SELECT st.study_instance_uid FROM series se JOIN study st ON st.id = se.study_fk WHERE se.series_instance_uid = ?'),
      addCounts: this.db.prepare('UPDATE patient SET num_studies = num_studies + @studies, num_series = num_series + @series, num_instances = num_instances + @instances WHERE id = @id'),
      addStudyCounts: this.db.prepare('UPDATE study SET num_series = num_series + @series, num_instances = num_instances + @instances WHERE id = @id'),
      // One more instance, received now: the row the counts update anyway (no extra write per ingest).
      addStudyInstance: this.db.prepare('UPDATE study SET num_instances = num_instances + 1, last_received_at = @at WHERE id = @id'),
      touchStudy: this.db.prepare('UPDATE study SET last_received_at = ? WHERE id = ?'),
      addSeriesCount: this.db.prepare('UPDATE series SET num_instances = num_instances + @instances WHERE id = @id'),
      modalities: this.db.prepare("SELECT DISTINCT modality FROM series WHERE study_fk = ? AND modality IS NOT NULL AND modality != '' ORDER BY modality"),
      sopClasses: this.db.prepare('SELECT DISTINCT i.sop_class_uid FROM instance i JOIN series se ON se.id = i.series_fk WHERE se.study_fk = ? ORDER BY 1'),
      setModalities: this.db.prepare('UPDATE study SET modalities_in_study = ? WHERE id = ?'),
      setSopClasses: this.db.prepare('UPDATE study SET sop_classes_in_study = ? WHERE id = ?'),
      moveStudy: this.db.prepare('UPDATE study SET patient_fk = ? WHERE id = ?'),
      conflict: this.db.prepare('INSERT INTO demographic_conflict (level, uid, tag, old_value, new_value, applied, at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      instanceByPath: this.db.prepare(`SELECT i.id, i.series_fk, se.study_fk, st.patient_fk FROM instance i JOIN series se ON se.id = i.series_fk
        JOIN study st ON st.id = se.study_fk WHERE i.path = ?`),
      deleteInstance: this.db.prepare('DELETE FROM instance WHERE id = ?'),
      seriesCount: this.db.prepare('SELECT num_instances FROM series WHERE id = ?'),
      deleteSeries: this.db.prepare('DELETE FROM series WHERE id = ?'),
      studyCount: this.db.prepare('SELECT num_instances, num_series FROM study WHERE id = ?'),
      deleteStudy: this.db.prepare('DELETE FROM study WHERE id = ?'),
      patientCount: this.db.prepare('SELECT num_studies FROM patient WHERE id = ?'),
      deletePatient: this.db.prepare('DELETE FROM patient WHERE id = ?'),
      addPending: this.db.prepare('INSERT OR IGNORE INTO pending_deletion(path) VALUES (?)'),
      pending: this.db.prepare('SELECT path FROM pending_deletion ORDER BY path'),
      donePending: this.db.prepare('DELETE FROM pending_deletion WHERE path = ?'),
      pathsUnder: this.db.prepare('SELECT path FROM instance WHERE path >= ? AND path < ?'),
      seriesDirs: this.db.prepare('SELECT st.study_instance_uid AS study, se.series_instance_uid AS series FROM series se JOIN study st ON st.id = se.study_fk'),
      addQuarantine: this.db.prepare('INSERT OR REPLACE INTO quarantine (path, reason, study_instance_uid, series_instance_uid, sop_instance_uid, received_at) VALUES (?, ?, ?, ?, ?, ?)'),
      listQuarantine: this.db.prepare('SELECT * FROM quarantine ORDER BY id'),
      getQuarantine: this.db.prepare('SELECT * FROM quarantine WHERE id = ?'),
      removeQuarantine: this.db.prepare('DELETE FROM quarantine WHERE id = ?'),
      markCommitted: this.db.prepare('UPDATE instance SET committed_at = ?, committed_by = ? WHERE sop_instance_uid = ?'),
      commitMark: this.db.prepare('SELECT committed_at, committed_by FROM instance WHERE path = ?'),
      addPatientName: this.db.prepare('INSERT OR IGNORE INTO patient_name (family, patient_fk) VALUES (?, ?)'),
      deletePatientNames: this.db.prepare('DELETE FROM patient_name WHERE patient_fk = ?'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare('INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)'),
      delMeta: this.db.prepare('DELETE FROM meta WHERE key = ?'),
    };
    this.addTx = this.db.transaction((e: InstanceEntry, o: AddOptions, prep: Prepared) => this.addInstanceSync(e, o, prep));
    this.addBatchTx = this.db.transaction((items: { entry: InstanceEntry; opts: AddOptions; prep: Prepared }[]) =>
      items.map(({ entry, opts, prep }) => {
        try {
          return this.addTx(entry, opts, prep);
        } catch (err) {
          return asError(err);
        }
      }),
    );
    if (v && (v.value === '1' || v.value === '2')) this.migrateFrom2();
    // Last: the schema is ready, and a constructor that throws leaves no worker behind.
    if (opts.checkpointInBackground) {
      const intervalMs = typeof opts.checkpointInBackground === 'object' ? opts.checkpointInBackground.intervalMs : 250;
      this.startCheckpointer({ path, synchronous: opts.synchronous === 'full' ? 'FULL' : 'NORMAL', intervalMs });
    }
  }

  /** Schema 2 to 3: patient_name filled from every patient's header, in one transaction with the version. */
  private migrateFrom2(): void {
    this.db.transaction(() => {
      for (const r of this.db.prepare('SELECT id, header FROM patient').all() as Row[]) {
        this.setPatientNames(Number(r.id), JSON.parse(String(r.header)) as JsonDataset, true);
      }
      this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run('3', 'schema');
    })();
  }

  /** A patient row rewritten with a merged header (`text` its JSON), its patient_name rows with it. */
  private updatePatient(id: number, matchKey: string, header: JsonDataset, text: string): void {
    this.st.updatePatient!.run({ id, match_key: matchKey, header: text, ...this.keyParams(PATIENT_KEYS, header) });
    this.setPatientNames(id, header, true);
  }

  /** The patient_name rows of a patient, from its (merged) header. */
  private setPatientNames(id: number, header: JsonDataset, replace = false): void {
    if (replace) this.st.deletePatientNames!.run(id);
    for (const f of pnFamilyKeys(header[PATIENT_NAME_KEY])) this.st.addPatientName!.run(f, id);
  }

  /**
   * Schema 1 to 2: the commit mark of instances and the last reception of studies (taken from
   * the instances' received_at), in one transaction with the version.
   */
  private migrateFrom1(): void {
    this.db.transaction(() => {
      const has = (table: string, col: string) => (this.db.prepare(`PRAGMA table_info(${table})`).all() as Row[]).some((r) => r.name === col);
      if (!has('instance', 'committed_at')) this.db.exec('ALTER TABLE instance ADD COLUMN committed_at TEXT');
      if (!has('instance', 'committed_by')) this.db.exec('ALTER TABLE instance ADD COLUMN committed_by TEXT');
      if (!has('study', 'last_received_at')) this.db.exec('ALTER TABLE study ADD COLUMN last_received_at TEXT');
      this.db.exec(`UPDATE study SET last_received_at = (SELECT MAX(i.received_at) FROM series se JOIN instance i ON i.series_fk = se.id WHERE se.study_fk = study.id)
        WHERE last_received_at IS NULL`);
      this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run('2', 'schema');
    })();
  }

  // --- ingest ---------------------------------------------------------------------------

  async instancesBySop(sopInstanceUid: string): Promise<IndexedInstance[]> {
    return (this.st.instancesBySop!.all(sopInstanceUid) as Row[]).map((r) => ({
      path: String(r.path), sopInstanceUid: String(r.sop_instance_uid), seriesInstanceUid: String(r.series_instance_uid), studyInstanceUid: String(r.study_instance_uid),
    }));
  }

  async studiesOfSeries(seriesInstanceUid: string): Promise<string[]> {
    return (this.st.studiesOfSeries!.all(seriesInstanceUid) as Row[]).map((r) => String(r.study_instance_uid));
  }

  async addInstance(entry: InstanceEntry, opts: AddOptions): Promise<AddResult> {
    return this.addTx(entry, opts, this.takePrepared(entry));
  }

  /** The transaction of addInstance, made once (db.transaction() builds its wrappers per call). */
  private readonly addTx: (e: InstanceEntry, opts: AddOptions, prep: Prepared) => AddResult;

  async addInstances(items: readonly { entry: InstanceEntry; opts: AddOptions }[]): Promise<(AddResult | Error)[]> {
    return this.addBatchTx(items.map(({ entry, opts }) => ({ entry, opts, prep: this.takePrepared(entry) })));
  }

  /**
   * One transaction around several addTx calls, made once: better-sqlite3 runs a transaction
   * function called inside another as a SAVEPOINT, rolled back alone when it throws.
   */
  private readonly addBatchTx: (items: { entry: InstanceEntry; opts: AddOptions; prep: Prepared }[]) => (AddResult | Error)[];

  /** The CPU work prepareInstance did for this entry (taken once), or done now. */
  private takePrepared(entry: InstanceEntry): Prepared {
    const prep = this.prepared.get(entry) ?? this.prepare(entry);
    this.prepared.delete(entry);
    return prep;
  }

  prepareInstance(entry: InstanceEntry): void {
    this.prepared.set(entry, this.prepare(entry));
  }

  private prepare(e: InstanceEntry): Prepared {
    if (e.dataset) {
      // Straight from the data set: the texts written in one pass, without the JSON model.
      // The split headers are parsed back from their texts when used (the patient's always,
      // for its identity; the others for a new or changed entity).
      const text = headerTexts(e.dataset);
      const split = new ParsedLevels(text);
      return { split, text, patientKey: patientKey(split.PATIENT, this.matchKeys), instanceKeys: keyAttributes(e.dataset, INSTANCE_KEYS) };
    }
    const split = splitHeader(e.header);
    return {
      split,
      text: { PATIENT: JSON.stringify(split.PATIENT), STUDY: JSON.stringify(split.STUDY), SERIES: JSON.stringify(split.SERIES), IMAGE: JSON.stringify(split.IMAGE) },
      patientKey: patientKey(split.PATIENT, this.matchKeys),
      instanceKeys: e.header,
    };
  }

  private keyParams(keys: readonly KeyColumn[], h: JsonDataset): Row {
    const p: Row = {};
    for (const c of keys) if (!c.computed) p[c.column] = columnValue(c, h[tagKey(c.tag)]);
    return p;
  }

  /**
   * Compares an entity's header with the new one on the attributes of STOR-050 and merges them
   * by policy: latestWins takes the new values, the others keep the old ones (attributes the
   * entity lacked are added in every mode).
   */
  private merge(level: 'PATIENT' | 'STUDY' | 'SERIES', uid: string, old: JsonDataset, fresh: JsonDataset, mode: AddOptions['demographicUpdate'], changes: DemographicChange[]): JsonDataset {
    const tags = DEMOGRAPHIC_ATTRS.PATIENT.concat(DEMOGRAPHIC_ATTRS.STUDY, DEMOGRAPHIC_ATTRS.SERIES);
    for (const t of tags) {
      const k = tagKey(t);
      if (!(k in fresh) || !(k in old)) continue;
      const a = attrText(old[k]), b = attrText(fresh[k]);
      if (a === b) continue;
      const applied = mode === 'latestWins';
      changes.push({ level, uid, tag: t, old: a, new: b, applied });
      this.st.conflict!.run(level, uid, k, a, b, applied ? 1 : 0, now());
    }
    return mode === 'latestWins' ? { ...old, ...fresh } : { ...fresh, ...old };
  }

  private addInstanceSync(e: InstanceEntry, opts: AddOptions, prep: Prepared): AddResult {
    const changes: DemographicChange[] = [];
    const h = prep.split;
    const pKey = prep.patientKey;
    const ts = now();

    let study = this.st.studyByUid!.get(e.studyInstanceUid) as Row | undefined;
    let patientId: number;
    if (study) {
      const current = this.st.patientById!.get(study.patient_fk) as Row;
      // The same header as the stored one (the usual case: instances of one study agree): the
      // merge would change nothing, in every mode, and find no difference.
      const samePatient = current.header === prep.text.PATIENT;
      const merged = samePatient ? h.PATIENT : this.merge('PATIENT', e.studyInstanceUid, JSON.parse(String(current.header)) as JsonDataset, h.PATIENT, opts.demographicUpdate, changes);
      const mergedKey = samePatient ? pKey : patientKey(merged, this.matchKeys);
      patientId = Number(current.id);
      if (mergedKey === current.match_key) {
        // Rows are rewritten only when the merge changed them: instances of one series mostly agree.
        const text = samePatient ? prep.text.PATIENT : JSON.stringify(merged);
        if (text !== current.header) this.updatePatient(patientId, mergedKey, merged, text);
      } else {
        // The study now belongs to another patient identity (latestWins): move it there.
        const target = this.findOrCreatePatient(mergedKey, merged);
        const n = { studies: 1, series: Number(study.num_series), instances: Number(study.num_instances) };
        this.st.moveStudy!.run(target, study.id);
        this.st.addCounts!.run({ id: target, ...n });
        this.st.addCounts!.run({ id: patientId, studies: -n.studies, series: -n.series, instances: -n.instances });
        this.dropPatientIfEmpty(patientId);
        patientId = target;
      }
      if (study.header !== prep.text.STUDY) {
        const mergedStudy = this.merge('STUDY', e.studyInstanceUid, JSON.parse(String(study.header)) as JsonDataset, h.STUDY, opts.demographicUpdate, changes);
        const text = JSON.stringify(mergedStudy);
        if (text !== study.header) this.st.updateStudy!.run({ id: study.id, header: text, updated_at: ts, ...this.keyParams(STUDY_KEYS, mergedStudy) });
      }
    } else {
      patientId = this.findOrCreatePatient(pKey, h.PATIENT, opts, changes, e.studyInstanceUid, prep.text.PATIENT);
      const r = this.st.insertStudy!.run({ patient_fk: patientId, header: prep.text.STUDY, created_at: ts, updated_at: ts, last_received_at: ts, ...this.keyParams(STUDY_KEYS, h.STUDY) });
      this.st.addCounts!.run({ id: patientId, studies: 1, series: 0, instances: 0 });
      study = { id: r.lastInsertRowid, num_series: 0, num_instances: 0, sop_classes_in_study: null };
    }
    const studyId = Number(study.id);

    let series = this.st.seriesByUid!.get(studyId, e.seriesInstanceUid) as Row | undefined;
    let seriesId: number;
    let modalityMayChange = false;
    if (series && series.header === prep.text.SERIES) {
      seriesId = Number(series.id);
    } else if (series) {
      seriesId = Number(series.id);
      const merged = this.merge('SERIES', e.seriesInstanceUid, JSON.parse(String(series.header)) as JsonDataset, h.SERIES, opts.demographicUpdate, changes);
      const text = JSON.stringify(merged);
      if (text !== series.header) {
        const params = this.keyParams(SERIES_KEYS, merged);
        modalityMayChange = params.modality !== series.modality;
        this.st.updateSeries!.run({ id: seriesId, header: text, ...params });
      }
    } else {
      const r = this.st.insertSeries!.run({ study_fk: studyId, header: prep.text.SERIES, ...this.keyParams(SERIES_KEYS, h.SERIES) });
      seriesId = Number(r.lastInsertRowid);
      this.st.addStudyCounts!.run({ id: studyId, series: 1, instances: 0 });
      this.st.addCounts!.run({ id: patientId, studies: 0, series: 1, instances: 0 });
      modalityMayChange = true;
    }

    const existing = this.st.instanceByUid!.get(seriesId, e.sopInstanceUid) as Row | undefined;
    const instParams = {
      series_fk: seriesId, path: e.path, transfer_syntax_uid: e.transferSyntaxUid, size: e.size, source_ae_title: e.sourceAeTitle ?? null,
      received_at: ts, header: prep.text.IMAGE, ...this.keyParams(INSTANCE_KEYS, prep.instanceKeys),
    };
    let replaced = false;
    if (existing) {
      if (!opts.replace) throw new DuplicateInstanceError(`SOP Instance ${e.sopInstanceUid} is already in series ${e.seriesInstanceUid}`);
      const { series_fk: _s, ...upd } = instParams;
      this.st.updateInstance!.run({ id: existing.id, ...upd, committed_at: null, committed_by: null });
      this.st.touchStudy!.run(ts, studyId);
      replaced = true;
    } else {
      this.st.insertInstance!.run(instParams);
      this.st.addSeriesCount!.run({ id: seriesId, instances: 1 });
      this.st.addStudyInstance!.run({ id: studyId, at: ts });
      this.st.addCounts!.run({ id: patientId, studies: 0, series: 0, instances: 1 });
    }
    if (opts.releasedFromQuarantine !== undefined) this.discardQuarantineSync(opts.releasedFromQuarantine);

    if (modalityMayChange) this.refreshModalities(studyId);
    // SOP Classes in Study: appended when new (no per-instance scan of the study).
    const classes = study.sop_classes_in_study ? String(study.sop_classes_in_study).split('\\') : [];
    if (!classes.includes(e.sopClassUid)) this.st.setSopClasses!.run([...classes, e.sopClassUid].sort().join('\\'), studyId);
    return { replaced, changes };
  }

  private findOrCreatePatient(key: string, header: JsonDataset, opts?: AddOptions, changes?: DemographicChange[], viaStudy?: string, text?: string): number {
    const p = this.st.patientByKey!.get(key) as Row | undefined;
    if (p) {
      if (opts && changes && (text === undefined || text !== p.header)) {
        const merged = this.merge('PATIENT', viaStudy ?? '', JSON.parse(String(p.header)) as JsonDataset, header, opts.demographicUpdate, changes);
        const text = JSON.stringify(merged);
        if (text !== p.header) this.updatePatient(Number(p.id), key, merged, text);
      }
      return Number(p.id);
    }
    const r = this.st.insertPatient!.run({ match_key: key, header: text ?? JSON.stringify(header), ...this.keyParams(PATIENT_KEYS, header) });
    const id = Number(r.lastInsertRowid);
    this.setPatientNames(id, header);
    return id;
  }

  private dropPatientIfEmpty(id: number): void {
    const p = this.st.patientCount!.get(id) as Row | undefined;
    if (p && Number(p.num_studies) <= 0) {
      this.st.deletePatient!.run(id);
      this.st.deletePatientNames!.run(id);
    }
  }

  private refreshModalities(studyId: number): void {
    const mods = (this.st.modalities!.all(studyId) as Row[]).map((r) => String(r.modality));
    this.st.setModalities!.run(mods.length ? mods.join('\\') : null, studyId);
  }

  // --- removal --------------------------------------------------------------------------

  async removeInstances(paths: readonly string[], opts: { requireCommitted?: boolean } = {}): Promise<boolean> {
    return this.db.transaction(() => {
      if (opts.requireCommitted) {
        for (const p of paths) {
          const r = this.st.commitMark!.get(p) as Row | undefined;
          if (r && r.committed_at === null) return false;
        }
      }
      const studies = new Set<number>();
      for (const p of paths) {
        this.st.addPending!.run(p);
        const r = this.st.instanceByPath!.get(p) as Row | undefined;
        if (!r) continue;
        const [id, seriesId, studyId, patientId] = [r.id, r.series_fk, r.study_fk, r.patient_fk].map(Number) as [number, number, number, number];
        this.st.deleteInstance!.run(id);
        this.st.addSeriesCount!.run({ id: seriesId, instances: -1 });
        this.st.addStudyCounts!.run({ id: studyId, series: 0, instances: -1 });
        this.st.addCounts!.run({ id: patientId, studies: 0, series: 0, instances: -1 });
        if (Number((this.st.seriesCount!.get(seriesId) as Row).num_instances) <= 0) {
          this.st.deleteSeries!.run(seriesId);
          this.st.addStudyCounts!.run({ id: studyId, series: -1, instances: 0 });
          this.st.addCounts!.run({ id: patientId, studies: 0, series: -1, instances: 0 });
        }
        const s = this.st.studyCount!.get(studyId) as Row;
        if (Number(s.num_instances) <= 0) {
          this.st.deleteStudy!.run(studyId);
          this.st.addCounts!.run({ id: patientId, studies: -1, series: 0, instances: 0 });
          this.dropPatientIfEmpty(patientId);
          studies.delete(studyId);
        } else studies.add(studyId);
      }
      for (const s of studies) {
        this.refreshModalities(s);
        const classes = (this.st.sopClasses!.all(s) as Row[]).map((r) => String(r.sop_class_uid));
        this.st.setSopClasses!.run(classes.join('\\') || null, s);
      }
      return true;
    })();
  }

  async pendingDeletions(): Promise<string[]> {
    return (this.st.pending!.all() as Row[]).map((r) => String(r.path));
  }

  async deletionDone(paths: readonly string[]): Promise<void> {
    this.db.transaction(() => { for (const p of paths) this.st.donePending!.run(p); })();
  }

  // --- start-up check -----------------------------------------------------------------

  async pathsUnder(prefix: string): Promise<string[]> {
    return (this.st.pathsUnder!.all(prefix, `${prefix}\u{10FFFF}`) as Row[]).map((r) => String(r.path));
  }

  async seriesDirectories(): Promise<string[]> {
    return (this.st.seriesDirs!.all() as Row[]).map((r) => `${String(r.study)}/${String(r.series)}`);
  }

  // --- quarantine, meta, counts ----------------------------------------------------------

  async addQuarantine(e: Omit<QuarantineEntry, 'id' | 'receivedAt'>): Promise<void> {
    this.st.addQuarantine!.run(e.path, e.reason, e.studyInstanceUid ?? null, e.seriesInstanceUid ?? null, e.sopInstanceUid ?? null, now());
  }

  async listQuarantine(): Promise<QuarantineEntry[]> {
    return (this.st.listQuarantine!.all() as Row[]).map(quarantineEntry);
  }

  async getQuarantine(id: number): Promise<QuarantineEntry | undefined> {
    const r = this.st.getQuarantine!.get(id) as Row | undefined;
    return r ? quarantineEntry(r) : undefined;
  }

  async removeQuarantine(id: number): Promise<void> {
    this.st.removeQuarantine!.run(id);
  }

  async discardQuarantine(id: number): Promise<QuarantineEntry | undefined> {
    return this.db.transaction(() => this.discardQuarantineSync(id))();
  }

  /** The entry removed and its file pending deletion, inside the caller's transaction. */
  private discardQuarantineSync(id: number): QuarantineEntry | undefined {
    const r = this.st.getQuarantine!.get(id) as Row | undefined;
    if (!r) return undefined;
    this.st.removeQuarantine!.run(id);
    this.st.addPending!.run(String(r.path));
    return quarantineEntry(r);
  }

  // --- storage commitment and watermark deletion (7.3) ------------------------------------

  async markCommitted(sopInstanceUids: readonly string[], mark: CommitMark | undefined): Promise<number> {
    return this.db.transaction(() => {
      let n = 0;
      for (const uid of sopInstanceUids) n += this.st.markCommitted!.run(mark?.at ?? null, mark?.aeTitle ?? null, uid).changes;
      return n;
    })();
  }

  async commitMarkOf(path: string): Promise<CommitMark | undefined> {
    const r = this.st.commitMark!.get(path) as Row | undefined;
    return r && r.committed_at !== null ? { at: String(r.committed_at), aeTitle: String(r.committed_by ?? '') } : undefined;
  }

  /**
   * Keyset-paged by (age, id): studies deleted while the caller iterates do not shift the pages.
   * There is no index on the age: the sort of the study table runs only when the store is above
   * the high-water mark, whereas an index would cost every ingest a b-tree update.
   */
  async *studiesByAge(opts: { onlyCommitted: boolean }): AsyncIterable<RecyclableStudy> {
    const age = 'COALESCE(st.last_received_at, st.created_at)';
    const committed = opts.onlyCommitted
      ? 'AND NOT EXISTS (SELECT 1 FROM series se JOIN instance i ON i.series_fk = se.id WHERE se.study_fk = st.id AND i.committed_at IS NULL)'
      : '';
    const stmt = this.db.prepare(`SELECT st.id, st.study_instance_uid, ${age} AS age, st.num_instances,
        (SELECT COALESCE(SUM(i.size), 0) FROM series se JOIN instance i ON i.series_fk = se.id WHERE se.study_fk = st.id) AS bytes
      FROM study st WHERE (${age} > ? OR (${age} = ? AND st.id > ?)) ${committed}
      ORDER BY ${age}, st.id LIMIT ${this.pageSize}`);
    let last: { age: string; id: number } = { age: '', id: 0 };
    for (;;) {
      const page = stmt.all(last.age, last.age, last.id) as Row[];
      for (const r of page) {
        yield { studyInstanceUid: String(r.study_instance_uid), lastReceivedAt: String(r.age), instances: Number(r.num_instances), bytes: Number(r.bytes) };
      }
      if (page.length < this.pageSize) return;
      const end = page[page.length - 1]!;
      last = { age: String(end.age), id: Number(end.id) };
    }
  }

  async counts(): Promise<{ patients: number; studies: number; series: number; instances: number }> {
    const c = (t: string) => Number((this.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as Row).n);
    return { patients: c('patient'), studies: c('study'), series: c('series'), instances: c('instance') };
  }

  async getMeta(key: string): Promise<string | undefined> {
    const r = this.st.getMeta!.get(key) as Row | undefined;
    return r ? String(r.value) : undefined;
  }

  async setMeta(key: string, value: string | undefined): Promise<void> {
    if (value === undefined) this.st.delMeta!.run(key);
    else this.st.setMeta!.run(key, value);
  }

  private startCheckpointer(data: CheckpointerData): void {
    this.db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT}`);
    const w = new Worker(new URL('./checkpointer.js', import.meta.url), { workerData: data });
    // A server's index lives as long as the process; the worker must not keep it alive.
    w.unref();
    const failed = (message: string): void => {
      if (this.checkpointer !== w) return;
      this.checkpointer = undefined;
      this.checkpoints.error = message;
      if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
      void w.terminate();
    };
    w.on('message', (m: CheckpointerMessage) => {
      if (m.type === 'checkpoint') Object.assign(this.checkpoints, { count: this.checkpoints.count + 1, walFrames: m.walFrames, checkpointed: m.checkpointed });
      else if (m.type === 'error') failed(m.message);
    });
    w.on('error', (err) => failed(err.message));
    w.on('exit', (code) => failed(`checkpoint worker exited (${code})`));
    this.checkpointer = w;
  }

  /** Stops the checkpointing worker: asked to close its connection, ended after 5 s regardless. */
  private async stopCheckpointer(): Promise<void> {
    const w = this.checkpointer;
    if (!w) return;
    this.checkpointer = undefined;
    const stopped = new Promise<void>((resolve) => {
      w.on('message', (m: CheckpointerMessage) => m.type === 'stopped' && resolve());
      w.once('exit', () => resolve());
    });
    w.postMessage('stop');
    const timer = setTimeout(() => void w.terminate(), 5000);
    await stopped;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stopCheckpointer();
    if (this.db.open) {
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // a full disk or a reader: the WAL stays, SQLite replays it at the next open
      }
      this.db.close();
    }
  }

  // --- queries --------------------------------------------------------------------------

  /**
   * SELECT of the entities at `level` with their ancestors' headers and aggregates; conditions
   * from the SQL prefilter of every key that has a column; paged by id.
   */
  private buildFind(q: FindQuery): { sql: string; params: unknown[] } {
    const top = q.model === 'PATIENT_ROOT' ? 0 : 0; // patient headers are joined in both models
    const levels = ORDER.slice(top, ORDER.indexOf(q.level) + 1);
    const alias: Record<Level, string> = { PATIENT: 'p', STUDY: 'st', SERIES: 'se', IMAGE: 'i' };
    const select: string[] = [];
    let from = '';
    levels.forEach((l, idx) => {
      const a = alias[l];
      select.push(`${a}.id AS ${a}_id`, `${a}.header AS ${a}_header`);
      if (idx === 0) from = `${TABLE[l]} ${a}`;
      else from += ` JOIN ${TABLE[l]} ${a} ON ${a}.${PARENT_FK[l]} = ${alias[levels[idx - 1]!]}.id`;
    });
    if (levels.includes('PATIENT')) select.push('p.num_studies AS p_nst', 'p.num_series AS p_nse', 'p.num_instances AS p_ni');
    if (levels.includes('STUDY')) select.push('st.modalities_in_study AS st_mod', 'st.sop_classes_in_study AS st_sop', 'st.num_series AS st_nse', 'st.num_instances AS st_ni');
    if (levels.includes('SERIES')) select.push('se.num_instances AS se_ni');
    if (q.level === 'IMAGE') select.push('i.path AS i_path', 'i.transfer_syntax_uid AS i_ts', 'i.size AS i_size');
    const where: string[] = [];
    const params: unknown[] = [];
    const combined = combinedPairs(q.keys);
    for (const key of q.keys) {
      const l = storageLevelOf(key.tag);
      if (key.tag === 0x00100010 && levels.includes('PATIENT')) {
        // Patient's Name: the family names (or their prefixes) every match has (matching.ts).
        const ranges = pnFamilyRanges(key, q.match);
        if (ranges) {
          where.push(`p.id IN (SELECT patient_fk FROM patient_name WHERE ${ranges.map((r) => (r.hi === undefined ? 'family = ?' : '(family >= ? AND family < ?)')).join(' OR ')})`);
          for (const r of ranges) params.push(r.lo, ...(r.hi === undefined ? [] : [r.hi]));
        }
        continue;
      }
      const col = KEYS_BY_LEVEL[l].find((c) => c.tag === key.tag);
      if (!col) continue;
      const f = sqlPrefilter(key, col, `${alias[l]}.${col.column}`, combined.skip.has(key.tag));
      if (f) {
        where.push(f.sql);
        params.push(...f.params);
      }
    }
    const me = alias[q.level];
    // With conditions from the keys, the matches are found through their indexes and sorted
    // ('+' keeps SQLite from walking the whole table in id order to spare the sort, which it
    // otherwise picks for a large LIMIT: a Study Date range over 100,000 studies took 300 us
    // per match instead of 40). Without any, the table is read in id order, a page at a time.
    const order = where.length > 0 ? `+${me}.id` : `${me}.id`;
    where.push(`${me}.id > ?`);
    return { sql: `SELECT ${select.join(', ')} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${this.pageSize}`, params };
  }

  private headersOf(r: Row, level: Level): Partial<Record<Level, JsonDataset>> {
    const h: Partial<Record<Level, JsonDataset>> = {};
    const set = (json: JsonDataset, tag: number, vr: string, v: unknown): void => {
      if (v === null || v === undefined || v === '') {
        json[tagKey(tag)] = { vr };
        return;
      }
      json[tagKey(tag)] = { vr, Value: vr === 'IS' ? [Number(v)] : String(v).split('\\') };
    };
    const p = JSON.parse(String(r.p_header)) as JsonDataset;
    set(p, AGGREGATES.NumberOfPatientRelatedStudies, 'IS', r.p_nst);
    set(p, AGGREGATES.NumberOfPatientRelatedSeries, 'IS', r.p_nse);
    set(p, AGGREGATES.NumberOfPatientRelatedInstances, 'IS', r.p_ni);
    h.PATIENT = p;
    if (level === 'PATIENT') return h;
    const st = JSON.parse(String(r.st_header)) as JsonDataset;
    set(st, AGGREGATES.ModalitiesInStudy, 'CS', r.st_mod);
    set(st, AGGREGATES.SopClassesInStudy, 'UI', r.st_sop);
    set(st, AGGREGATES.NumberOfStudyRelatedSeries, 'IS', r.st_nse);
    set(st, AGGREGATES.NumberOfStudyRelatedInstances, 'IS', r.st_ni);
    h.STUDY = st;
    if (level === 'STUDY') return h;
    const se = JSON.parse(String(r.se_header)) as JsonDataset;
    set(se, AGGREGATES.NumberOfSeriesRelatedInstances, 'IS', r.se_ni);
    h.SERIES = se;
    if (level === 'SERIES') return h;
    h.IMAGE = JSON.parse(String(r.i_header)) as JsonDataset;
    return h;
  }

  private *rows(q: FindQuery): Generator<Row> {
    const { sql, params } = this.buildFind(q);
    const stmt = this.db.prepare(sql);
    const idCol = `${{ PATIENT: 'p', STUDY: 'st', SERIES: 'se', IMAGE: 'i' }[q.level]}_id`;
    let last = 0;
    for (;;) {
      // One page at a time: no statement stays open while the caller awaits (ingest goes on).
      const page = stmt.all(...params, last) as Row[];
      for (const r of page) yield r;
      if (page.length < this.pageSize) return;
      last = Number(page[page.length - 1]![idCol]);
    }
  }

  /** Whether one row satisfies every key, each against the header of the level it is stored at. */
  private matches(q: FindQuery, h: Partial<Record<Level, JsonDataset>>, byLevel: Map<Level, QueryKey[]>): boolean {
    for (const [l, keys] of byLevel) {
      const hdr = h[l];
      if (!hdr || !matchAll(keys, hdr, q.match)) return false;
    }
    return true;
  }

  private keysByLevel(q: FindQuery): Map<Level, QueryKey[]> {
    const m = new Map<Level, QueryKey[]>();
    for (const k of q.keys) {
      const l = storageLevelOf(k.tag);
      m.set(l, [...(m.get(l) ?? []), k]);
    }
    return m;
  }

  async *find(q: FindQuery): AsyncIterable<FindMatch> {
    const byLevel = this.keysByLevel(q);
    let n = 0;
    for (const r of this.rows(q)) {
      const headers = this.headersOf(r, q.level);
      if (!this.matches(q, headers, byLevel)) continue;
      yield { headers };
      // Let other work (ingest, other queries) run between batches of matches.
      if (++n % 64 === 0) await nextTurn();
    }
  }

  async *findInstances(q: FindQuery): AsyncIterable<StoredInstance> {
    const iq: FindQuery = { ...q, level: 'IMAGE' };
    const byLevel = this.keysByLevel(iq);
    for (const r of this.rows(iq)) {
      const headers = this.headersOf(r, 'IMAGE');
      if (!this.matches(iq, headers, byLevel)) continue;
      // Each UID from the header of the level that stores it.
      const s = (t: number) => attrText(headers[storageLevelOf(t)]?.[tagKey(t)]);
      yield {
        path: String(r.i_path), sopInstanceUid: s(0x00080018), sopClassUid: s(0x00080016), seriesInstanceUid: s(0x0020000e),
        studyInstanceUid: s(0x0020000d), transferSyntaxUid: String(r.i_ts), size: Number(r.i_size),
      };
    }
  }

  async selectInstances(sel: InstanceSelector): Promise<StoredInstance[]> {
    const where: string[] = [];
    const params: string[] = [];
    const add = (col: string, vals: string[] | undefined): void => {
      if (!vals || vals.length === 0) return;
      where.push(`${col} IN (${vals.map(() => '?').join(',')})`);
      params.push(...vals);
    };
    add('p.patient_id', sel.patientIds?.map((v) => v.trim().toUpperCase()));
    add('st.study_instance_uid', sel.studyInstanceUids);
    add('se.series_instance_uid', sel.seriesInstanceUids);
    add('i.sop_instance_uid', sel.sopInstanceUids);
    if (where.length === 0) return [];
    const rows = this.db.prepare(`SELECT i.path, i.sop_instance_uid, i.sop_class_uid, i.transfer_syntax_uid, i.size, se.series_instance_uid, st.study_instance_uid
      FROM instance i JOIN series se ON se.id = i.series_fk JOIN study st ON st.id = se.study_fk JOIN patient p ON p.id = st.patient_fk
      WHERE ${where.join(' AND ')} ORDER BY st.id, se.id, i.id`).all(...params) as Row[];
    return rows.map((r) => ({
      path: String(r.path), sopInstanceUid: String(r.sop_instance_uid), sopClassUid: String(r.sop_class_uid), transferSyntaxUid: String(r.transfer_syntax_uid),
      size: Number(r.size), seriesInstanceUid: String(r.series_instance_uid), studyInstanceUid: String(r.study_instance_uid),
    }));
  }
}
