/**
 * Index rows written in batches (REQUIREMENTS SYS-022): the instances that arrive together share
 * one transaction.
 *
 * Two ways an instance waits for its row:
 * - `now` (storage.ackMode afterIndex): its transaction commits at the end of the current turn
 *   of the event loop, with whatever else was queued in that turn: concurrent associations share
 *   a commit (group commit), a lone instance costs what it did before.
 * - `deferred` (storage.ackMode afterFileWrite, STOR-014): the success has been sent once the
 *   file was durable; the row follows when `maxBatch` rows are waiting (store.indexBatchSize) or
 *   at the latest `maxDelayMs` after the first of them (store.indexFlushSeconds). A crash in
 *   between leaves files without rows, which the start-up check indexes.
 *
 * While rows wait, the writer answers for them (`touches`): the ingest path commits them before
 * it looks up duplicates and UID conflicts, so that those checks see every instance received.
 */
import { asError } from '../dicom/errors.js';
import type { AddOptions, AddResult, ArchiveIndex, InstanceEntry } from './index.js';

export interface IndexWriterOptions {
  /** store.indexBatchSize: rows per transaction at most. */
  maxBatch: number;
  /** store.indexFlushSeconds, in ms: the longest a deferred row waits. */
  maxDelayMs: number;
}

interface Queued {
  entry: InstanceEntry;
  opts: AddOptions;
  resolve: (r: AddResult) => void;
  reject: (err: Error) => void;
}

export class IndexWriter {
  private queue: Queued[] = [];
  /** SOP Instance UIDs queued, and the studies each queued Series Instance UID was seen in. */
  private readonly sops = new Map<string, number>();
  private readonly series = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** The transaction under way (one at a time: rows commit in the order they were queued). */
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly index: ArchiveIndex,
    private readonly opts: IndexWriterOptions,
  ) {}

  /** Rows waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Queues a row; resolves once it is committed (with the result addInstance would give) and
   * rejects with the error it would throw. `deferred`: the row may wait for others.
   */
  add(entry: InstanceEntry, opts: AddOptions, deferred: boolean): Promise<AddResult> {
    return new Promise<AddResult>((resolve, reject) => {
      this.queue.push({ entry, opts, resolve, reject });
      this.count(entry, +1);
      if (this.queue.length >= this.opts.maxBatch) void this.flush();
      else if (!deferred) this.immediate ??= setImmediate(() => void this.flush());
      else this.timer ??= setTimeout(() => void this.flush(), this.opts.maxDelayMs);
    });
  }

  /**
   * Whether a queued row holds this SOP Instance UID, or this Series Instance UID in a study other
   * than `study`: the ingest path's duplicate and conflict checks need those rows committed first.
   */
  touches(sop: string, series: string, study: string): boolean {
    if (this.sops.has(sop)) return true;
    const studies = this.series.get(series);
    return studies !== undefined && (studies.size > 1 || !studies.has(study));
  }

  /**
   * Commits every row queued so far; resolves when they are written (each add() promise is
   * settled by then). Errors go to the add() promises, never here.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    const batch = this.queue;
    if (batch.length === 0) return this.running;
    this.queue = [];
    this.running = this.running.then(() => this.write(batch));
    return this.running;
  }

  private async write(batch: Queued[]): Promise<void> {
    let results: (AddResult | Error)[];
    try {
      if (this.index.addInstances) {
        results = await this.index.addInstances(batch);
      } else {
        results = [];
        for (const q of batch) results.push(await this.index.addInstance(q.entry, q.opts).catch(asError));
      }
    } catch (err) {
      results = batch.map(() => asError(err));
    }
    batch.forEach((q, i) => {
      this.count(q.entry, -1);
      const r = results[i]!;
      if (r instanceof Error) q.reject(r);
      else q.resolve(r);
    });
  }

  private count(e: InstanceEntry, d: 1 | -1): void {
    const n = (this.sops.get(e.sopInstanceUid) ?? 0) + d;
    if (n > 0) this.sops.set(e.sopInstanceUid, n);
    else this.sops.delete(e.sopInstanceUid);
    let studies = this.series.get(e.seriesInstanceUid);
    if (!studies) this.series.set(e.seriesInstanceUid, (studies = new Map()));
    const m = (studies.get(e.studyInstanceUid) ?? 0) + d;
    if (m > 0) studies.set(e.studyInstanceUid, m);
    else studies.delete(e.studyInstanceUid);
    if (studies.size === 0) this.series.delete(e.seriesInstanceUid);
  }
}
