/**
 * The archive's single ingest path (REQUIREMENTS 5.3-5.7, 2.3): every instance, whether it
 * comes by C-STORE (the Storage SCP's StorageSink), `tracer import`, or later media and the
 * web, goes through Archive.ingest:
 *
 *   temporary file (FileStore: .incoming, fsync)  ->  fix-ups (5.4, B000 + Original Attributes
 *   Sequence)  ->  validation (5.3)  ->  command/data-set check (STOR-021, C-STORE only)  ->
 *   UID conflicts (5.5 STOR-041)  ->  duplicates (STOR-040)  ->  rename into place, directory
 *   fsynced  ->  index transaction (demographic updates 5.6, aggregates)  ->  status (5.7).
 *
 * Crash safety. The success status goes out only after the index transaction has committed,
 * and the row is written only after the file is durable in its place. So at any moment of a
 * kill there may be (a) a temporary file in .incoming, removed at the next start, or (b) a
 * file in place without its row, indexed by the start-up check, or (c) a row pending deletion,
 * whose file the start-up check removes. The start-up check runs in full (a walk of the store)
 * only after an unclean stop: a clean close leaves a mark in the index.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Dataset } from '../dicom/dataset.js';
import { lookupUid } from '../dicom/dictionary/index.js';
import { toJSON, type JsonDataset } from '../dicom/json.js';
import { readDicomFile } from '../dicom/part10.js';
import { PixelDataTag } from '../dicom/tag.js';
import { encodeDicomFile } from '../dicom/write.js';
import type { Logger } from '../node/log.js';
import { silentLogger } from '../node/log.js';
import {
  StoreFailure, StoreStatus, isValidUid,
  type CommitResult, type ReceivedInstance, type StorageSink, type StoreRequest,
} from '../services/storage-scp.js';
import { FileStore, fsyncDir, type FileStoreInstance, type FileStoreIo } from './file-store.js';
import { DuplicateInstanceError, HEADER_JSON, type AddOptions, type AddResult, type ArchiveIndex, type DemographicUpdate, type InstanceEntry, type InstanceSelector, type QuarantineEntry, type StoredInstance } from './index.js';
import { IndexWriter } from './index-writer.js';
import { Recycler, type AutoDeleteOptions } from './recycling.js';
import { SqliteIndex } from './sqlite-index.js';

export type Validation = 'none' | 'uids' | 'uidsAndImage' | 'type1';
export type DuplicatePolicy = 'ignore' | 'overwrite' | 'reject';

/** The options of REQUIREMENTS 5.3-5.6 (`storage.*`), with Appendix A defaults. */
export interface IngestPolicy {
  validation: Validation;
  validationFailure: 'reject' | 'warn';
  storeInvalid: boolean;
  fixups: {
    emptyPatientName: string | false;
    emptyPatientId: string | false;
    rowsColumnsFromPixelData: boolean;
    generateMissingSopInstanceUid: boolean;
  };
  duplicatePolicy: DuplicatePolicy;
  /** Per calling AE title (STOR-040: overridable per node). */
  duplicatePolicyFor?: (callingAETitle: string) => DuplicatePolicy | undefined;
  seriesUidConflict: 'quarantine' | 'store';
  sopUidConflict: 'store' | 'quarantine';
  demographicUpdate: DemographicUpdate;
}

export const DEFAULT_POLICY: IngestPolicy = {
  validation: 'uids',
  validationFailure: 'reject',
  storeInvalid: false,
  fixups: { emptyPatientName: false, emptyPatientId: false, rowsColumnsFromPixelData: false, generateMissingSopInstanceUid: false },
  duplicatePolicy: 'ignore',
  seriesUidConflict: 'quarantine',
  sopUidConflict: 'store',
  demographicUpdate: 'latestWins',
};

export interface ArchiveOptions {
  /** store.root. */
  root: string;
  policy?: Partial<IngestPolicy>;
  /** storage.minFreeDiskMb. */
  minFreeDiskMb?: number;
  /** The index; default the embedded SQLite one at <root>/.index/tracer.sqlite. */
  index?: ArchiveIndex;
  indexSynchronous?: 'normal' | 'full';
  /** The index's WAL checkpoints on a worker thread (SqliteIndexOptions.checkpointInBackground). */
  checkpointInBackground?: boolean;
  /** store.fsync (FileStoreOptions.fsync). */
  fsync?: boolean;
  patientMatchKeys?: readonly string[];
  implementation?: (rq: StoreRequest) => { classUid: string; versionName?: string };
  io?: FileStoreIo;
  logger?: Logger;
  /** storage.autoDelete when enabled (REQUIREMENTS 7.3): watermark deletion after ingests. */
  autoDelete?: AutoDeleteOptions;
  /**
   * storage.ackMode (STOR-014) for instances received by C-STORE: 'afterIndex' (default) answers
   * once the file and its index row are durable; 'afterFileWrite' once the file is, the row
   * following in a batch (store.indexBatchSize, store.indexFlushSeconds; SYS-022).
   */
  ackMode?: 'afterIndex' | 'afterFileWrite';
  /** store.indexBatchSize (SYS-022), default 20. */
  indexBatchSize?: number;
  /** store.indexFlushSeconds (SYS-022), default 5. */
  indexFlushSeconds?: number;
}

/** What ingest did with one instance. */
export interface IngestResult extends CommitResult {
  /** 'stored', 'replaced', 'ignored' (duplicate), 'quarantined'. */
  outcome: 'stored' | 'replaced' | 'ignored' | 'quarantined';
  sopInstanceUid: string;
}

/** A received instance waiting for the service's decision; commit runs the ingest path. */
export interface PendingIngest extends ReceivedInstance {
  commit(): Promise<IngestResult>;
}

/** How one ingest departs from the policy: a release from quarantine (STOR-042). */
interface IngestMode {
  /** The quarantine entry being released: UID conflicts are stored, never quarantined again. */
  release?: number;
}

/** No quarantine entry with that id (tracer quarantine release/delete). */
export class QuarantineNotFoundError extends Error {
  override name = 'QuarantineNotFoundError';
  constructor(readonly id: number) {
    super(`no quarantined instance with id ${id}`);
  }
}

export const INDEX_DIR = '.index';
export const QUARANTINE_DIR = '.quarantine';
const CLEAN_MARK = 'state';

/** Relative path of an instance in the store (store.fileNaming), with '/' separators. */
export function instancePath(study: string, series: string, sop: string): string {
  return `${study}/${series}/${sop}.dcm`;
}

/** Errors of the index that mean a full disk or a broken device (A700) rather than a bug. */
function isResourceError(err: unknown): boolean {
  const code = String((err as { code?: string })?.code ?? '');
  return /^SQLITE_(FULL|IOERR|CANTOPEN|READONLY|BUSY|LOCKED|NOMEM)/.test(code) || ['ENOSPC', 'EDQUOT', 'EIO', 'EROFS'].includes(code);
}

const IMAGE_PIXEL_TYPE1 = [0x00280002, 0x00280004, 0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280103];

function isImageSopClass(uid: string): boolean {
  const name = lookupUid(uid)?.name ?? '';
  return /Image Storage/i.test(name) && !/Presentation State/i.test(name);
}

export class Archive implements StorageSink {
  readonly validates = true;
  readonly root: string;
  readonly store: FileStore;
  readonly index: ArchiveIndex;
  readonly policy: IngestPolicy;
  /** Watermark deletion (storage.autoDelete), when enabled. */
  readonly recycler: Recycler | undefined;
  private readonly log: Logger;
  /** One ingest at a time per SOP Instance UID: duplicate checks and writes do not race. */
  private readonly locks = new Map<string, Promise<void>>();
  /**
   * The study of every series an ingest has checked and not finished yet, with how many such
   * ingests there are. The STOR-041 check looks here as well as in the index: two instances of
   * one Series Instance UID in different studies, ingested at once (two associations, `tracer
   * import --jobs`), would otherwise both pass the check before either row is written. The same
   * SOP Instance UID needs no such list: ingests of one SOP Instance UID run one at a time.
   */
  private readonly seriesInFlight = new Map<string, { study: string; count: number }>();
  /** Index rows, batched (SYS-022; group commit of concurrent ingests). */
  private readonly writer: IndexWriter;
  /** A deferred row could not be written: the next start must run the start-up check. */
  private rowsLost = false;

  constructor(private readonly opts: ArchiveOptions) {
    this.root = opts.root;
    this.log = opts.logger ?? silentLogger;
    this.policy = { ...DEFAULT_POLICY, ...opts.policy, fixups: { ...DEFAULT_POLICY.fixups, ...opts.policy?.fixups } };
    this.store = new FileStore({ root: opts.root, minFreeDiskMb: opts.minFreeDiskMb, implementation: opts.implementation, io: opts.io, fsync: opts.fsync });
    this.index = opts.index ?? new SqliteIndex(join(opts.root, INDEX_DIR, 'tracer.sqlite'), { synchronous: opts.indexSynchronous, patientMatchKeys: opts.patientMatchKeys, checkpointInBackground: opts.checkpointInBackground });
    this.writer = new IndexWriter(this.index, { maxBatch: Math.max(1, opts.indexBatchSize ?? 20), maxDelayMs: Math.max(0, (opts.indexFlushSeconds ?? 5) * 1000) });
    this.recycler = opts.autoDelete ? new Recycler({
      root: this.root,
      index: { studiesByAge: (o) => this.index.studiesByAge(o), selectInstances: (sel) => this.selectInstances(sel) },
      removePaths: (p, o) => this.removePaths(p, o),
    }, opts.autoDelete, this.log) : undefined;
  }

  /**
   * Opens the store: partial files of an earlier run are removed, pending deletions finished,
   * and, with `check` after an unclean stop, the store and the index reconciled. Commands that
   * run beside a server (import, delete) open without the check and leave the mark alone.
   */
  async open(opts: { check?: boolean } = {}): Promise<{ stale: string[]; check?: CheckReport }> {
    const stale = await this.store.open({ removeStale: opts.check !== false });
    await mkdir(join(this.root, QUARANTINE_DIR), { recursive: true });
    await this.finishDeletions();
    let check: CheckReport | undefined;
    if (opts.check !== false) {
      const clean = (await this.index.getMeta(CLEAN_MARK)) === 'clean';
      if (!clean) check = await this.startupCheck();
      await this.index.setMeta(CLEAN_MARK, 'running');
    }
    this.checked = opts.check !== false;
    return { stale, check };
  }

  private checked = false;

  /** Writes the index rows still waiting in a batch (storage.ackMode afterFileWrite). */
  flushIndex(): Promise<void> {
    return this.writer.flush();
  }

  async close(): Promise<void> {
    await this.recycler?.stop();
    await this.writer.flush();
    // Rows that could not be written leave the mark at 'running': the next start indexes their files.
    if (this.checked && !this.rowsLost) await this.index.setMeta(CLEAN_MARK, 'clean').catch(() => undefined);
    await this.index.close();
  }

  // --- StorageSink ----------------------------------------------------------------------

  admit(rq: StoreRequest): Promise<void> {
    return this.store.admit(rq);
  }

  async receive(rq: StoreRequest, dataset: AsyncIterable<Buffer>, signal: AbortSignal): Promise<ReceivedInstance> {
    const inst = await this.store.receive(rq, dataset, signal);
    return this.pending(rq, inst, true);
  }

  private pending(rq: StoreRequest, inst: FileStoreInstance, fromCommand: boolean, mode: IngestMode = {}): PendingIngest {
    let done = false;
    const self: PendingIngest = {
      size: inst.size,
      dataset: inst.dataset,
      commit: async () => {
        if (done) throw new Error('instance already committed or discarded');
        done = true;
        try {
          return await this.ingest(rq, inst, fromCommand, mode);
        } catch (err) {
          await inst.discard().catch(() => undefined);
          throw err;
        }
      },
      discard: async () => {
        if (done) return;
        done = true;
        await inst.discard();
      },
    };
    return self;
  }

  // --- import ---------------------------------------------------------------------------

  /**
   * Ingests a DICOM file from disk (`tracer import`): its data set bytes are copied as they are,
   * behind a File Meta Information of ours that keeps its Source AE Title.
   */
  async importFile(path: string): Promise<IngestResult> {
    return this.ingestFile(path, {});
  }

  private async ingestFile(path: string, mode: IngestMode): Promise<IngestResult> {
    let f;
    try {
      f = readDicomFile(path, { stopAtTag: PixelDataTag });
    } catch (err) {
      throw new StoreFailure('cannotUnderstand', `not a readable DICOM file: ${(err as Error).message}`, { cause: err });
    }
    const rq: StoreRequest = {
      sopClassUid: f.dataset.string(0x00080016) ?? f.meta.string(0x00020002) ?? '',
      sopInstanceUid: f.dataset.string(0x00080018) ?? f.meta.string(0x00020003) ?? '',
      transferSyntaxUid: f.transferSyntaxUID,
      callingAETitle: f.meta.string(0x00020016) ?? '',
      calledAETitle: '',
      messageId: 0,
    };
    const offset = f.datasetOffset;
    f.source.close();
    const ac = new AbortController();
    const inst = await this.store.receive(rq, createReadStream(path, { start: offset }) as AsyncIterable<Buffer>, ac.signal);
    return this.pending(rq, inst, false, mode).commit();
  }

  // --- quarantine (STOR-041/042) ------------------------------------------------------------

  /** The instances kept out of the index, in the order they were quarantined (STOR-042). */
  listQuarantine(): Promise<QuarantineEntry[]> {
    return this.index.listQuarantine();
  }

  /**
   * Deletes a quarantined instance: its entry goes, with its file recorded as pending deletion,
   * in one transaction; then the file. A crash in between is finished at the next start.
   */
  async deleteQuarantined(id: number): Promise<QuarantineEntry> {
    const e = await this.index.discardQuarantine(id);
    if (!e) throw new QuarantineNotFoundError(id);
    await this.removeFiles([e.path]);
    await this.index.deletionDone([e.path]);
    this.log.info('quarantined instance deleted', { id, path: e.path, sopInstanceUid: e.sopInstanceUid, reason: e.reason });
    return e;
  }

  /**
   * Releases a quarantined instance into the index (STOR-042) through the ingest path, as an
   * import of its file, with the UID conflicts it was kept for stored this time
   * (storage.seriesUidConflict and sopUidConflict read as 'store'); every other policy applies.
   * The entry is removed in the index transaction that adds the instance, its file deleted after
   * (pending deletion covers a crash). An instance already indexed (a duplicate that
   * storage.duplicatePolicy ignores) leaves the quarantine too; one that fails stays there.
   */
  async releaseQuarantined(id: number): Promise<IngestResult> {
    const e = await this.index.getQuarantine(id);
    if (!e) throw new QuarantineNotFoundError(id);
    const r = await this.ingestFile(join(this.root, ...e.path.split('/')), { release: id });
    if (r.outcome === 'ignored') {
      await this.deleteQuarantined(id).catch((err: unknown) => { if (!(err instanceof QuarantineNotFoundError)) throw err; });
    } else {
      await this.removeFiles([e.path]);
      await this.index.deletionDone([e.path]);
    }
    this.log.info('quarantined instance released', { id, outcome: r.outcome, path: r.location, sopInstanceUid: r.sopInstanceUid, reason: e.reason });
    return r;
  }

  // --- the ingest path ----------------------------------------------------------------------

  private async ingest(rq: StoreRequest, inst: FileStoreInstance, fromCommand: boolean, mode: IngestMode): Promise<IngestResult> {
    // STOR-042: a release is the administrator's decision to store the conflict.
    const seriesUidConflict = mode.release !== undefined ? 'store' : this.policy.seriesUidConflict;
    const sopUidConflict = mode.release !== undefined ? 'store' : this.policy.sopUidConflict;
    let ds = inst.dataset;
    let coerced: string[] = [];
    const fx = this.policy.fixups;
    if (fx.emptyPatientName !== false || fx.emptyPatientId !== false || fx.rowsColumnsFromPixelData || fx.generateMissingSopInstanceUid) {
      const r = await this.applyFixups(rq, inst, fromCommand);
      if (r) ({ dataset: ds, coerced } = r);
    }
    let status: number = coerced.length ? StoreStatus.CoercionOfDataElements : StoreStatus.Success;
    let reason = coerced.length ? `coerced: ${coerced.join('; ')}` : undefined;
    let kind: StoreFailure['kind'] | undefined;

    const problem = this.validate(ds) ?? (fromCommand ? commandMismatch(rq, ds) : undefined);
    if (problem) {
      const uidsOk = ['0020000d', '0020000e', '00080018', '00080016'].every((_, i) => isValidUid(ds.string([0x0020000d, 0x0020000e, 0x00080018, 0x00080016][i]!)));
      if (problem.kind === 'datasetMismatch' && this.policy.validationFailure === 'warn' && uidsOk) {
        status = StoreStatus.DatasetDoesNotMatchSopClassWarning;
        reason = problem.message;
        kind = problem.kind;
      } else if (this.policy.storeInvalid && mode.release === undefined && (problem.kind === 'cannotUnderstand' || problem.kind === 'datasetMismatch')) {
        // STOR-022: cmr42 keeps what it refuses; kept in quarantine when it cannot be indexed.
        if (uidsOk) {
          const r = await this.place(rq, inst, ds, status);
          this.log.warn('stored although invalid (storage.storeInvalid)', { sopInstanceUid: r.sopInstanceUid, reason: problem.message });
          throw problem;
        }
        await this.quarantine(inst, ds, `invalid: ${problem.message}`);
        throw problem;
      } else throw problem;
    }

    const sop = ds.string(0x00080018)!;
    return this.locked(sop, async () => {
      const study = ds.string(0x0020000d)!;
      const series = ds.string(0x0020000e)!;
      // Rows still in a batch that the checks below must see are written first.
      if (this.writer.touches(sop, series, study)) await this.writer.flush();
      // STOR-041: a Series Instance UID already used in another study (indexed, or being ingested).
      const studies = await this.index.studiesOfSeries(series);
      const inFlight = this.seriesInFlight.get(series);
      const other = studies.find((s) => s !== study) ?? (inFlight && inFlight.study !== study ? inFlight.study : undefined);
      if (other !== undefined && seriesUidConflict === 'quarantine') {
        const where = await this.quarantine(inst, ds, `Series Instance UID ${series} is already used in study ${other}`);
        return { location: where, replaced: false, status, reason: `quarantined: series UID conflict`, kind, outcome: 'quarantined', sopInstanceUid: sop };
      }
      // Registered in the same turn as the check (no other ingest can run in between).
      return this.whileIngesting(series, study, async () => {
        const existing = await this.index.instancesBySop(sop);
        const same = existing.find((e) => e.seriesInstanceUid === series && e.studyInstanceUid === study);
        let replace = false;
        if (same) {
          const policy = this.policy.duplicatePolicyFor?.(rq.callingAETitle) ?? this.policy.duplicatePolicy;
          if (policy === 'reject') {
            await inst.discard();
            throw new StoreFailure('duplicate', `SOP Instance ${sop} is already stored (storage.duplicatePolicy reject)`);
          }
          if (policy === 'ignore') {
            await inst.discard();
            this.log.info('duplicate ignored: the stored instance is kept', { sopInstanceUid: sop, calling: rq.callingAETitle });
            return { location: join(this.root, same.path), replaced: false, status, reason: reason ?? 'duplicate ignored (storage.duplicatePolicy)', kind, outcome: 'ignored', sopInstanceUid: sop };
          }
          replace = true;
        } else if (existing.length > 0 && sopUidConflict === 'quarantine') {
          const where = await this.quarantine(inst, ds, `SOP Instance UID ${sop} is already used in series ${existing[0]!.seriesInstanceUid}`);
          return { location: where, replaced: false, status, reason: 'quarantined: SOP UID conflict', kind, outcome: 'quarantined', sopInstanceUid: sop };
        }
        const r = await this.place(rq, inst, ds, status, replace, mode.release, fromCommand && this.opts.ackMode === 'afterFileWrite');
        return { ...r, reason: r.reason ?? reason, kind };
      });
    });
  }

  /** Runs `fn` with the series registered as being ingested in `study` (seriesInFlight). */
  private async whileIngesting<T>(series: string, study: string, fn: () => Promise<T>): Promise<T> {
    const f = this.seriesInFlight.get(series);
    if (f) f.count++;
    else this.seriesInFlight.set(series, { study, count: 1 });
    try {
      return await fn();
    } finally {
      const g = this.seriesInFlight.get(series)!;
      if (--g.count === 0) this.seriesInFlight.delete(series);
    }
  }

  /** Renames the file into place, then commits its row; undoes the file when the index fails. */
  private async place(rq: StoreRequest, inst: FileStoreInstance, ds: Dataset, status: number, replace = false, release?: number, afterFileWrite = false): Promise<IngestResult> {
    const study = ds.string(0x0020000d)!, series = ds.string(0x0020000e)!, sop = ds.string(0x00080018)!;
    const rel = instancePath(study, series, sop);
    const abs = join(this.root, ...rel.split('/'));
    const entry = entryOf({
      path: rel, sopClassUid: ds.string(0x00080016)!, sopInstanceUid: sop, studyInstanceUid: study, seriesInstanceUid: series,
      transferSyntaxUid: rq.transferSyntaxUid, size: inst.size, sourceAeTitle: rq.callingAETitle || undefined,
    }, ds);
    // The index's CPU work (header texts, key columns) runs now, while the file's fsync does,
    // rather than between the rename and the response; a header that cannot be made fails here.
    this.index.prepareInstance?.(entry);
    // An overwrite keeps the old file aside until the new row is in: a failure puts it back.
    let backup: string | undefined;
    if (replace) {
      backup = join(this.store.incoming, `${randomBytes(6).toString('hex')}.old`);
      await link(abs, backup).catch(() => (backup = undefined));
    }
    const placed = await inst.place();
    // An overwrite waits for its rename to be durable before the row changes: a failure can then
    // still put the old file back under the old row. So does a release from quarantine, whose
    // index transaction also ends the quarantine entry (STOR-042).
    if (backup || release !== undefined) await placed.durable.catch(async (err: unknown) => {
      if (backup) await rename(backup, abs).catch(() => undefined);
      throw err;
    });
    const addOpts: AddOptions = { demographicUpdate: this.policy.demographicUpdate, replace: replace || placed.replaced, releasedFromQuarantine: release };
    if (afterFileWrite && !backup && release === undefined) {
      // STOR-014 afterFileWrite: the success waits for the durable file only; the row follows in
      // a batch (SYS-022). Should it never be written (a crash, a failing index), the file stays
      // and the start-up check of the next start indexes it.
      try {
        await placed.durable;
      } catch (err) {
        await unlink(abs).catch(() => undefined);
        throw err;
      }
      this.writer.add(entry, addOpts, true).then(
        (added) => this.afterAdd(added, sop),
        (err: unknown) => {
          this.rowsLost = true;
          this.log.error('index entry not written; the start-up check of the next start indexes the file', { path: rel, error: (err as Error).message });
        },
      );
      return { location: placed.location, replaced: placed.replaced, status, outcome: placed.replaced ? 'replaced' : 'stored', sopInstanceUid: sop };
    }
    // Otherwise the row is written while the directory's fsync runs. The response waits for both
    // (STOR-014). Until then a crash leaves either a file without its row, which the start-up
    // check indexes, or, should the rename not have reached the disk, a row without its file,
    // which it removes: an instance nobody was told is stored.
    let added;
    try {
      added = await this.writer.add(entry, addOpts, false);
    } catch (err) {
      await placed.durable.catch(() => undefined);
      if (backup) await rename(backup, abs).catch(() => undefined);
      else await unlink(abs).catch(() => undefined);
      if (err instanceof DuplicateInstanceError) throw new StoreFailure('duplicate', err.message, { cause: err });
      const code = (err as { code?: string }).code ?? '';
      throw new StoreFailure(isResourceError(err) ? 'notIndexed' : 'internal', `${code ? code + ': ' : ''}index write failed: ${(err as Error).message}`, { cause: err });
    }
    try {
      await placed.durable;
    } catch (err) {
      // The directory could not be synced (an I/O error): the instance is not kept.
      await this.index.removeInstances([rel]).catch(() => undefined);
      await unlink(abs).catch(() => undefined);
      await this.index.deletionDone([rel]).catch(() => undefined);
      throw err;
    }
    this.afterAdd(added, sop);
    if (backup) await rm(backup, { force: true });
    return { location: placed.location, replaced: added.replaced, status, outcome: added.replaced ? 'replaced' : 'stored', sopInstanceUid: sop };
  }

  /** What follows a committed row: its demographic changes logged, watermark deletion scheduled. */
  private afterAdd(added: AddResult, sop: string): void {
    for (const c of added.changes) {
      this.log.info(c.applied ? 'demographics updated (latest instance wins)' : 'demographic difference kept (storage.demographicUpdate)', {
        level: c.level, uid: c.uid, tag: c.tag.toString(16).padStart(8, '0').toUpperCase(), old: c.old, new: c.new, sopInstanceUid: sop,
      });
    }
    // Watermark deletion (7.3) is only scheduled here: it never delays the response.
    this.recycler?.notify();
  }

  /** Keeps an instance out of the index, for an administrator to clean out or release (STOR-041/042). */
  private async quarantine(inst: FileStoreInstance, ds: Dataset, why: string): Promise<string> {
    const name = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}.dcm`;
    const dir = join(this.root, QUARANTINE_DIR);
    const dest = join(dir, name);
    const h = await open(inst.tempPath, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    await link(inst.tempPath, dest);
    await fsyncDir(dir);
    await inst.discard();
    await this.index.addQuarantine({
      path: `${QUARANTINE_DIR}/${name}`, reason: why, studyInstanceUid: ds.string(0x0020000d), seriesInstanceUid: ds.string(0x0020000e), sopInstanceUid: ds.string(0x00080018),
    });
    this.log.warn('instance quarantined', { reason: why, path: dest, sopInstanceUid: ds.string(0x00080018) });
    return dest;
  }

  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chain = (prev ?? Promise.resolve()).then(() => mine);
    this.locks.set(key, chain);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(key) === chain) this.locks.delete(key);
    }
  }

  // --- validation (5.3) ----------------------------------------------------------------------

  /** STOR-020/022: the checks of storage.validation; undefined when the instance passes. */
  validate(ds: Dataset): StoreFailure | undefined {
    // The UIDs name the file and key the index: required even with 'none'.
    const required: [string, number][] = [['SOP Class UID (0008,0016)', 0x00080016], ['SOP Instance UID (0008,0018)', 0x00080018], ['Study Instance UID (0020,000D)', 0x0020000d], ['Series Instance UID (0020,000E)', 0x0020000e]];
    for (const [name, tag] of required) {
      const v = ds.string(tag);
      if (!v) return new StoreFailure('cannotUnderstand', `${name} missing or empty`);
      if (!isValidUid(v)) return new StoreFailure('cannotUnderstand', `${name} is not a valid UID: ${JSON.stringify(v.slice(0, 70))}`);
    }
    const level = this.policy.validation;
    if (level === 'none' || level === 'uids') return undefined;
    const sopClass = ds.string(0x00080016)!;
    if (isImageSopClass(sopClass)) {
      const px = ds.get(PixelDataTag);
      if (!px || (px.length === 0 && !px.fragments?.length)) return new StoreFailure('pixelDataMissing', 'Pixel Data (7FE0,0010) missing or empty in an image');
      const needed = level === 'type1' ? IMAGE_PIXEL_TYPE1 : [0x00280010, 0x00280011, 0x00280100];
      for (const t of needed) {
        const el = ds.get(t);
        if (!el || el.length === 0) return new StoreFailure('datasetMismatch', `(${t.toString(16).padStart(8, '0').toUpperCase().replace(/^(....)/, '$1,')}) missing or empty in an image`);
      }
    }
    if (level === 'type1') {
      const modality = ds.get(0x00080060);
      if (!modality || modality.length === 0) return new StoreFailure('datasetMismatch', 'Modality (0008,0060) missing or empty (Type 1)');
      if (modality.length > 16) return new StoreFailure('datasetMismatch', 'Modality (0008,0060) longer than CS allows');
    }
    return undefined;
  }

  // --- fix-ups (5.4) ---------------------------------------------------------------------------

  /**
   * STOR-030/031: the enabled fix-ups. When one changes the data set, the temporary file is
   * rewritten (same transfer syntax) with an Original Attributes Sequence item holding the
   * old values; the caller answers B000.
   */
  private async applyFixups(rq: StoreRequest, inst: FileStoreInstance, fromCommand: boolean): Promise<{ dataset: Dataset; coerced: string[] } | undefined> {
    const fx = this.policy.fixups;
    const probe = inst.dataset;
    const emptyName = fx.emptyPatientName !== false && !probe.string(0x00100010)?.trim();
    const emptyId = fx.emptyPatientId !== false && !probe.string(0x00100020)?.trim();
    const noSop = fx.generateMissingSopInstanceUid && !probe.string(0x00080018)?.trim();
    if (!emptyName && !emptyId && !noSop && !fx.rowsColumnsFromPixelData) return undefined;
    const f = readDicomFile(inst.tempPath);
    try {
      const ds = f.dataset;
      const original = new Dataset(ds.littleEndian, undefined);
      const coerced: string[] = [];
      const keep = (tag: number): void => {
        const el = ds.get(tag);
        if (el) original.add(el);
      };
      if (emptyName) {
        keep(0x00100010);
        ds.setString(0x00100010, 'PN', String(fx.emptyPatientName));
        coerced.push(`Patient's Name set to '${String(fx.emptyPatientName)}'`);
      }
      if (emptyId) {
        keep(0x00100020);
        ds.setString(0x00100020, 'LO', String(fx.emptyPatientId));
        coerced.push(`Patient ID set to '${String(fx.emptyPatientId)}'`);
      }
      if (noSop) {
        const uid = fromCommand && isValidUid(rq.sopInstanceUid) ? rq.sopInstanceUid : `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
        keep(0x00080018);
        ds.setString(0x00080018, 'UI', uid);
        coerced.push(`SOP Instance UID generated (${uid})`);
      }
      if (fx.rowsColumnsFromPixelData) {
        const fixed = rowsColumnsFix(ds);
        if (fixed) {
          keep(0x00280010);
          keep(0x00280011);
          ds.setNumbers(0x00280010, 'US', [fixed.rows]);
          ds.setNumbers(0x00280011, 'US', [fixed.columns]);
          coerced.push(`Rows/Columns set to ${fixed.rows}x${fixed.columns} from the pixel data length`);
        }
      }
      if (coerced.length === 0) return undefined;
      // PS3.3 C.12.1.1.9: Original Attributes Sequence item.
      const item = new Dataset(ds.littleEndian, ds);
      item.setSequence(0x04000550, [original]);
      item.setString(0x04000562, 'DT', new Date().toISOString().replace(/[-:T]/g, '').replace('Z', '').slice(0, 21));
      item.setString(0x04000563, 'LO', 'TRACER');
      item.setString(0x04000564, 'LO', rq.callingAETitle || 'IMPORT');
      item.setString(0x04000565, 'CS', 'COERCE');
      ds.setSequence(0x04000561, [...ds.sequence(0x04000561), item]);
      // Rewrite beside the temporary file, fsync, and swap it in (commit renames the new inode).
      const next = `${inst.tempPath}.fix`;
      const h = await open(next, 'wx');
      try {
        for (const b of encodeDicomFile({ dataset: ds, meta: f.meta, transferSyntaxUID: f.transferSyntaxUID, preamble: f.preamble })) await h.write(b);
        await h.sync();
      } finally {
        await h.close();
      }
      await rename(next, inst.tempPath);
      const back = readDicomFile(inst.tempPath, { stopAtTag: undefined });
      back.source.close();
      return { dataset: back.dataset, coerced };
    } finally {
      f.source.close();
    }
  }

  // --- deletion and the start-up check ------------------------------------------------------

  /**
   * Deletes instances (`tracer delete`): rows first, with their paths recorded as pending in the
   * same transaction, then the files, then the record. A crash in between is finished at start.
   */
  async delete(sel: InstanceSelector): Promise<string[]> {
    const found = await this.selectInstances(sel);
    const paths = found.map((i) => i.path);
    if (paths.length === 0) return [];
    await this.removePaths(paths);
    this.log.info('deleted', { level: sel.level, instances: paths.length });
    return paths;
  }

  /**
   * The instances a deletion selects, rows still waiting in a batch included (they are written
   * first): a deletion must not leave their files behind, nor their rows come after it.
   */
  private async selectInstances(sel: InstanceSelector): Promise<StoredInstance[]> {
    await this.writer.flush();
    return this.index.selectInstances(sel);
  }

  /**
   * The deletion path (user deletion and watermark deletion): rows, with the paths recorded as
   * pending, in one transaction; then the files; then the record. With `requireCommitted`
   * nothing happens (false) unless every instance still indexed is committed (COMMIT-030).
   */
  async removePaths(paths: readonly string[], opts: { requireCommitted?: boolean } = {}): Promise<boolean> {
    if (!(await this.index.removeInstances(paths, opts))) return false;
    await this.removeFiles(paths);
    await this.index.deletionDone(paths);
    return true;
  }

  private async finishDeletions(): Promise<void> {
    const pending = await this.index.pendingDeletions();
    if (pending.length === 0) return;
    await this.removeFiles(pending);
    await this.index.deletionDone(pending);
    this.log.warn('finished deletions interrupted by an earlier stop', { instances: pending.length });
  }

  private async removeFiles(paths: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const p of paths) {
      const abs = join(this.root, ...p.split('/'));
      await unlink(abs).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
      // The quarantine directory stays: quarantine() links into it without making it.
      if (p.startsWith(`${QUARANTINE_DIR}/`)) await fsyncDir(join(this.root, QUARANTINE_DIR)).catch(() => undefined);
      else dirs.add(join(abs, '..'));
    }
    for (const d of dirs) {
      await fsyncDir(d).catch(() => undefined);
      // Empty series and study directories go too.
      if (await rmdir(d).then(() => true, () => false)) await rmdir(join(d, '..')).catch(() => undefined);
    }
  }

  /**
   * Reconciles the store and the index after an unclean stop: rows whose file is missing are
   * removed (and logged), files without a row are indexed, or quarantined when unreadable.
   */
  async startupCheck(): Promise<CheckReport> {
    const t0 = Date.now();
    const report: CheckReport = { indexed: 0, removed: 0, quarantined: 0, files: 0, ms: 0 };
    const seen = new Set<string>();
    const missing: string[] = [];
    const orphans: string[] = [];
    // The walk mostly waits for readdir in the thread pool, one directory at a time: several
    // studies are walked at once (16; 100,000 instances: 5.3 s before, on a loaded 2-CPU VM).
    // Files without a row are indexed after the walk, in order, as one at a time did before.
    const studies = (await dirNames(this.root)).filter((s) => !s.startsWith('.'));
    let next = 0;
    const walk = async (): Promise<void> => {
      while (next < studies.length) {
        const study = studies[next++]!;
        for (const series of await dirNames(join(this.root, study))) {
          const dir = `${study}/${series}`;
          seen.add(dir);
          const files = new Set((await readdir(join(this.root, study, series)).catch(() => [] as string[])).map((n) => `${dir}/${n}`));
          const indexed = new Set(await this.index.pathsUnder(`${dir}/`));
          report.files += files.size;
          for (const f of files) if (!indexed.has(f)) orphans.push(f);
          for (const p of indexed) if (!files.has(p)) missing.push(p);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, studies.length) }, walk));
    for (const f of orphans.sort()) await this.indexOrphan(f, report);
    missing.sort();
    for (const dir of await this.index.seriesDirectories()) {
      if (!seen.has(dir)) missing.push(...(await this.index.pathsUnder(`${dir}/`)));
    }
    if (missing.length > 0) {
      await this.index.removeInstances(missing);
      await this.index.deletionDone(missing);
      report.removed = missing.length;
      for (const p of missing.slice(0, 20)) this.log.warn('index entry without its file removed', { path: p });
    }
    report.ms = Date.now() - t0;
    this.log.info('start-up check of the store after an unclean stop', { ...report });
    return report;
  }

  private async indexOrphan(rel: string, report: CheckReport): Promise<void> {
    const abs = join(this.root, ...rel.split('/'));
    try {
      // Read whole (values located, not loaded): a file cut short (a damaged disk, a copy that
      // stopped) must not be indexed; its header alone could pass.
      const f = readDicomFile(abs);
      try {
        const ds = f.dataset;
        const bad = this.validate(ds);
        const expected = instancePath(ds.string(0x0020000d) ?? '', ds.string(0x0020000e) ?? '', ds.string(0x00080018) ?? '');
        if (bad || expected !== rel) throw new Error(bad?.message ?? `its UIDs name ${expected}`);
        const { size } = await import('node:fs/promises').then((m) => m.stat(abs));
        await this.index.addInstance({
          path: rel, sopClassUid: ds.string(0x00080016)!, sopInstanceUid: ds.string(0x00080018)!, studyInstanceUid: ds.string(0x0020000d)!,
          seriesInstanceUid: ds.string(0x0020000e)!, transferSyntaxUid: f.transferSyntaxUID, size, sourceAeTitle: f.meta.string(0x00020016) || undefined, header: headerOf(ds),
        }, { demographicUpdate: this.policy.demographicUpdate, replace: true });
        report.indexed++;
        this.log.warn('file without index entry indexed', { path: rel });
      } finally {
        f.source.close();
      }
    } catch (err) {
      const name = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}-${rel.split('/').pop()}`;
      await rename(abs, join(this.root, QUARANTINE_DIR, name)).catch(() => undefined);
      await this.index.addQuarantine({ path: `${QUARANTINE_DIR}/${name}`, reason: `found at start-up, not indexable: ${(err as Error).message}` });
      report.quarantined++;
      this.log.warn('unreadable file moved to quarantine', { path: rel, error: (err as Error).message });
    }
  }
}

export interface CheckReport {
  files: number;
  indexed: number;
  removed: number;
  quarantined: number;
  ms: number;
}

/** STOR-021: the C-STORE's Affected SOP Class / Instance UID against the data set. */
function commandMismatch(rq: StoreRequest, ds: Dataset): StoreFailure | undefined {
  const sopClass = ds.string(0x00080016), sopInstance = ds.string(0x00080018);
  if (sopClass !== rq.sopClassUid) return new StoreFailure('datasetMismatch', `SOP Class UID of the data set ${sopClass} differs from the C-STORE's Affected SOP Class UID ${rq.sopClassUid}`);
  if (sopInstance !== rq.sopInstanceUid) return new StoreFailure('datasetMismatch', `SOP Instance UID of the data set ${sopInstance} differs from the C-STORE's Affected SOP Instance UID ${rq.sopInstanceUid}`);
  return undefined;
}

/** The header kept in the index: every element but bulk values (over 1 KiB, and pixel data). */
export function headerOf(ds: Dataset): JsonDataset {
  return toJSON(ds, HEADER_JSON);
}

/**
 * An index entry whose header is made from `ds` only when read: the SQLite index makes its
 * texts and key columns from the data set itself (InstanceEntry.dataset).
 */
function entryOf(fields: Omit<InstanceEntry, 'header' | 'dataset'>, ds: Dataset): InstanceEntry {
  let header: JsonDataset | undefined;
  return Object.defineProperty({ ...fields, dataset: ds }, 'header', { get: () => (header ??= headerOf(ds)), enumerable: true }) as InstanceEntry;
}

/** Rows and Columns that fit the native pixel data's length, when they do not (STOR-030). */
function rowsColumnsFix(ds: Dataset): { rows: number; columns: number } | undefined {
  const px = ds.get(PixelDataTag);
  if (!px || px.fragments || px.length === 0 || px.undefinedLength) return undefined;
  const rows = ds.number(0x00280010) ?? 0, cols = ds.number(0x00280011) ?? 0;
  const spp = ds.number(0x00280002) ?? 1, bits = ds.number(0x00280100) ?? 16, frames = ds.number(0x00280008) ?? 1;
  const per = spp * Math.ceil(bits / 8) * frames;
  if (per <= 0) return undefined;
  const pixels = px.length / per;
  if (!Number.isInteger(pixels) || rows * cols === pixels || rows * cols === pixels - 1 / per) return undefined;
  if (cols > 0 && pixels % cols === 0) return { rows: pixels / cols, columns: cols };
  if (rows > 0 && pixels % rows === 0) return { rows, columns: pixels / rows };
  const side = Math.sqrt(pixels);
  return Number.isInteger(side) ? { rows: side, columns: side } : undefined;
}

async function dirNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}


