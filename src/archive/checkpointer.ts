/**
 * The index's WAL checkpoints on a thread of their own (SqliteIndex, checkpointInBackground).
 *
 * better-sqlite3 is synchronous: a checkpoint run by the writing connection (SQLite's automatic
 * one, after the commit that fills the WAL past 1000 pages) blocks the event loop for its two
 * fsyncs, the WAL's and the database's. On this project's VMs that was 5-8 ms every 60-80
 * instances, taken from whichever C-STORE happened to commit then. Here a second connection,
 * on a worker thread, runs PASSIVE checkpoints, which never wait for the writer nor make it
 * wait (https://sqlite.org/wal.html#checkpointing): the writer only appends.
 *
 * It checkpoints when another connection has committed since its last look (PRAGMA
 * data_version), at most every `intervalMs`: fewer, larger checkpoints than SQLite's default,
 * each page written back once however often it changed in between, and fewer cache flushes
 * competing with the ingest's own fsyncs.
 *
 * Under a steady stream of commits a passive checkpoint never reaches the last frame (more are
 * appended while it runs), so the WAL cannot start again from its beginning and grows: up to
 * the writer's own automatic checkpoint, kept as a fallback at 10,000 pages (40 MB), which
 * then has little left to write back and restarts the WAL (journal_size_limit truncates it).
 * Measured on 1,000 small instances without fsync: 2.39 s against 2.76 s (median of 4), the
 * WAL at most 41 MB; with fsync, within the noise.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** What SqliteIndex gives the worker. */
export interface CheckpointerData {
  path: string;
  synchronous: 'NORMAL' | 'FULL';
  intervalMs: number;
}

/** Messages from the worker: each checkpoint's outcome, and the answer to 'stop'. */
export type CheckpointerMessage =
  | { type: 'checkpoint'; busy: boolean; walFrames: number; checkpointed: number }
  | { type: 'error'; message: string }
  | { type: 'stopped' };

const { path, synchronous, intervalMs } = workerData as CheckpointerData;
const port = parentPort!;
const db = new Database(path);
// The checkpoint's fsyncs follow this connection's setting (https://sqlite.org/pragma.html#pragma_synchronous).
db.pragma(`synchronous = ${synchronous}`);
db.pragma('busy_timeout = 10000');
// This connection never writes; it must not run an automatic checkpoint of its own either.
db.pragma('wal_autocheckpoint = 0');

let seen = -1;
const timer = setInterval(() => {
  try {
    const version = db.pragma('data_version', { simple: true }) as number;
    if (version === seen) return;
    seen = version;
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    port.postMessage({ type: 'checkpoint', busy: r!.busy !== 0, walFrames: r!.log, checkpointed: r!.checkpointed } satisfies CheckpointerMessage);
  } catch (err) {
    // The writer's own automatic checkpoint is still there as a fallback (SqliteIndex).
    port.postMessage({ type: 'error', message: (err as Error).message } satisfies CheckpointerMessage);
  }
}, intervalMs);

port.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.postMessage({ type: 'stopped' } satisfies CheckpointerMessage);
  port.close();
});
