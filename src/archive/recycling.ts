/**
 * Watermark deletion of the store (REQUIREMENTS 7.3 COMMIT-030, SYS-023; SPECTsyngo's
 * "watermark system"): when the file system holding store.root is at or above
 * `storage.autoDelete.highWaterPercent` of its space, whole studies are deleted, least recently
 * received first, until its usage is below `lowWaterPercent`. With `onlyCommitted` (default) a
 * study is eligible only when every one of its instances was committed by an archive (storage
 * commitment, COMMIT-008): the mechanism must never remove data that exists nowhere else.
 *
 * A check runs at start-up and after ingests, at most once per interval and never on the path
 * of a response: `notify()` only schedules it. Deletion goes through the archive's own path
 * (index rows and pending-deletion record in one transaction, then the files), so a crash in
 * the middle is finished at the next start.
 *
 * Usage is measured after each deleted study, but the study's size is also subtracted from the
 * first measure: the smaller of the two decides. On file systems that free space lazily
 * (btrfs, ZFS) statfs lags behind the unlinks, and measuring alone would delete far more than
 * needed; the sizes in the index alone slightly understate the files (File Meta Information,
 * blocks), which the measure corrects.
 */
import { statfs } from 'node:fs/promises';
import type { Logger } from '../node/log.js';
import type { ArchiveIndex, RecyclableStudy } from './index.js';

/** Space of the file system holding a path, as df reports it. */
export interface DiskUsage {
  /** Bytes in use. */
  used: number;
  /** Bytes in use plus bytes available to us (df's "Use%" base: reserved blocks excluded). */
  size: number;
}

/** Measures the file system holding `path`; injectable so that tests simulate a filling disk. */
export type MeasureDiskUsage = (path: string) => Promise<DiskUsage>;

/** statfs(2): used = (blocks - free) * block size; size = used + available to unprivileged users. */
export const statfsUsage: MeasureDiskUsage = async (path) => {
  const s = await statfs(path);
  const used = (s.blocks - s.bfree) * s.bsize;
  return { used, size: used + s.bavail * s.bsize };
};

export function usedPercent(u: DiskUsage): number {
  return u.size > 0 ? (u.used / u.size) * 100 : 0;
}

/** storage.autoDelete (REQUIREMENTS 7.3, Appendix A). */
export interface AutoDeleteOptions {
  highWaterPercent: number;
  lowWaterPercent: number;
  /** COMMIT-030: only studies whose every instance is committed. */
  onlyCommitted: boolean;
  /** Default statfs. */
  measure?: MeasureDiskUsage;
  /** Minimum time between two checks after ingests (ms); default 5000. */
  intervalMs?: number;
}

/** What one check did. */
export interface RecycleReport {
  /** Usage at the start of the check, and at its end. */
  before: number;
  after: number;
  /** Whether the check found the store at or above the high-water mark. */
  triggered: boolean;
  studies: string[];
  instances: number;
  bytes: number;
  /** Below the low-water mark at the end (true when not triggered). */
  belowLowWater: boolean;
}

/** What the recycler needs of the archive. */
export interface RecyclingTarget {
  readonly root: string;
  readonly index: Pick<ArchiveIndex, 'studiesByAge' | 'selectInstances'>;
  /** The archive's deletion path; false when `requireCommitted` refused (an instance is not committed). */
  removePaths(paths: readonly string[], opts: { requireCommitted: boolean }): Promise<boolean>;
}

const DEFAULT_INTERVAL_MS = 5000;

export class Recycler {
  private readonly measure: MeasureDiskUsage;
  private readonly intervalMs: number;
  /** The check running (or the last one); checks never overlap. */
  private running: Promise<RecycleReport | undefined> | undefined;
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  /** When the last check ended (performance.now()); none yet: the first notify checks at once. */
  private lastCheck = -Infinity;
  private stopped = false;
  /** "No more eligible studies" is said once until a check gets below the low-water mark again. */
  private stuckSaid = false;

  constructor(private readonly target: RecyclingTarget, readonly options: AutoDeleteOptions, private readonly log: Logger) {
    this.measure = options.measure ?? statfsUsage;
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  }

  /**
   * After an ingest: schedules a check, at once when the last one is older than the interval,
   * else at its end. Never waits and never throws.
   */
  notify(): void {
    if (this.stopped || this.busy || this.timer) return;
    const wait = this.lastCheck + this.intervalMs - performance.now();
    if (wait <= 0) {
      void this.check();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, wait);
    this.timer.unref();
  }

  /**
   * Runs a check now, after the running one if any (start-up, tests). Errors are logged, not
   * thrown: the report is then undefined.
   */
  check(): Promise<RecycleReport | undefined> {
    const next = (this.running ?? Promise.resolve(undefined)).then(() => (this.stopped ? undefined : this.run()));
    this.running = next;
    return next;
  }

  /** Stops scheduling and waits for a running check (Archive.close). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async run(): Promise<RecycleReport | undefined> {
    this.busy = true;
    try {
      return await this.pass();
    } catch (err) {
      this.log.error('watermark deletion failed (storage.autoDelete)', { root: this.target.root, error: (err as Error).message });
      return undefined;
    } finally {
      this.busy = false;
      this.lastCheck = performance.now();
    }
  }

  private async pass(): Promise<RecycleReport> {
    const { highWaterPercent: high, lowWaterPercent: low, onlyCommitted } = this.options;
    const first = await this.measure(this.target.root);
    const before = usedPercent(first);
    const report: RecycleReport = { before, after: before, triggered: before >= high, studies: [], instances: 0, bytes: 0, belowLowWater: before < low };
    if (!report.triggered) {
      if (before < low) this.stuckSaid = false;
      return report;
    }
    this.log.warn('store at or above the high-water mark: deleting the least recently received studies', {
      root: this.target.root, usedPercent: round(before), highWaterPercent: high, lowWaterPercent: low, onlyCommitted,
    });
    const goal = (low / 100) * first.size;
    let estimate = first.used;
    let current = first.used;
    for await (const study of this.target.index.studiesByAge({ onlyCommitted })) {
      if (current < goal) break;
      if (!(await this.deleteStudy(study, onlyCommitted, report))) continue;
      estimate -= study.bytes;
      const now = await this.measure(this.target.root);
      current = Math.min(now.used, estimate);
      report.after = usedPercent(now);
    }
    report.belowLowWater = current < goal;
    const fields = { root: this.target.root, studies: report.studies.length, instances: report.instances, bytes: report.bytes, usedPercent: round(report.after), lowWaterPercent: low };
    if (report.belowLowWater) {
      this.stuckSaid = false;
      this.log.info('watermark deletion done: below the low-water mark', fields);
    } else if (!this.stuckSaid) {
      this.stuckSaid = true;
      this.log.warn(`store still above the low-water mark: no more studies may be deleted${onlyCommitted ? ' (storage.autoDelete.onlyCommitted: only studies committed by an archive)' : ''}`, fields);
    }
    return report;
  }

  /** One study through the archive's deletion path; false when it changed meanwhile. */
  private async deleteStudy(study: RecyclableStudy, requireCommitted: boolean, report: RecycleReport): Promise<boolean> {
    const paths = (await this.target.index.selectInstances({ level: 'STUDY', studyInstanceUids: [study.studyInstanceUid] })).map((i) => i.path);
    if (paths.length === 0) return false;
    if (!(await this.target.removePaths(paths, { requireCommitted }))) {
      this.log.info('study kept by watermark deletion: an instance is not committed (received since?)', { studyInstanceUid: study.studyInstanceUid });
      return false;
    }
    report.studies.push(study.studyInstanceUid);
    report.instances += paths.length;
    report.bytes += study.bytes;
    this.log.info('study deleted by watermark deletion (storage.autoDelete)', {
      studyInstanceUid: study.studyInstanceUid, instances: paths.length, bytes: study.bytes, lastReceivedAt: study.lastReceivedAt,
    });
    return true;
  }
}

function round(p: number): number {
  return Math.round(p * 10) / 10;
}
