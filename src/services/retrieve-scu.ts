/**
 * Query/Retrieve C-MOVE and C-GET SCU (PS3.4 C.4.2, C.4.3; REQUIREMENTS 8.7).
 *
 * C-MOVE: one C-MOVE on one association per attempt; progress from the sub-operation counters
 * of each pending response; the final status worded as QR-056; retries (QR-057) only for
 * A701, A702, Cxxx, B000, connection failures and timeouts, never A801, A900 or a cancel by
 * the user. Cancelling (an AbortSignal) sends C-CANCEL and waits for the final response (QR-054).
 *
 * C-GET: the same request on an association that also proposes storage SOP classes with the
 * SCP role (PS3.4 C.4.3.1, role selection); the C-STORE sub-operations that come back on it go
 * through the Storage SCP service into a FileStore (src/archive/file-store.ts) under the output
 * directory: <dir>/<study>/<series>/<sop>.dcm.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Association, CGetRq, CMoveRq } from '../net/index.js';
import type { Dataset } from '../dicom/dataset.js';
import { TS } from '../dicom/dictionary/index.js';
import { encodingOf } from '../dicom/part10.js';
import { encodeDatasetToBuffer } from '../dicom/write.js';
import { FileStore, INCOMING_DIR } from '../archive/file-store.js';
import { silentLogger } from '../node/log.js';
import { classifyFailure, requestorBase, type Destination, type FailureKind, type ScuOptions } from './scu-connection.js';
import { storageScp, type StoreReport } from './storage-scp.js';
import { QR_SOP_CLASSES, type QueryModel } from './query-scu.js';

export interface RetrieveProgress {
  remaining?: number;
  completed: number;
  failed: number;
  warning: number;
}

export interface RetrieveOptions extends ScuOptions {
  model?: QueryModel;
  /** QR-057 moveScu.retry; default no retry. */
  retry?: { count: number; intervalSeconds: number };
  /** network.moveResponseTimeout: wait for each response, ms (default timeouts.dimse). */
  responseTimeout?: number;
  /** Aborting sends C-CANCEL (QR-054); no retry follows. */
  signal?: AbortSignal;
  onProgress?: (p: RetrieveProgress, attempt: number) => void;
  /** Called before a retry, with the reason. */
  onRetry?: (attempt: number, reason: string, delayMs: number) => void;
}

export interface RetrieveResult {
  ok: boolean;
  /** Final status of the last attempt; undefined when no final response arrived. */
  status?: number;
  /** QR-056 wording of the outcome. */
  message: string;
  progress: RetrieveProgress;
  attempts: number;
  cancelled: boolean;
  /** B000: complete with failures (ok, with a warning). */
  warning: boolean;
  error?: string;
  failure?: FailureKind;
  /** C-GET: the files written. */
  files: string[];
}

const hex4 = (s: number): string => s.toString(16).toUpperCase().padStart(4, '0');

/** QR-056: the message for a final C-MOVE/C-GET status. */
export function describeRetrieveStatus(s: number): string {
  const h = hex4(s);
  if (s === 0) return `Fetch Completed (${h})`;
  if (s === 0xb000) return `Fetch completed with one or more failures (${h})`;
  if (s === 0xa701 || s === 0xa702) return `Remote station unable to send datasets (${h}: out of resources)`;
  if (s === 0xa801) return `Remote station is not aware of destination station to send datasets (${h}: move destination unknown)`;
  if (s === 0xa900) return `Database Retrieve Request Failed (${h}: identifier does not match SOP class)`;
  if (s === 0xfe00) return `Retrieve Cancelled. Cancel Acknowledgment Received (${h})`;
  if ((s & 0xf000) === 0xc000) return `Unable to process retrieve request (${h})`;
  return `Retrieve failed with status ${h}`;
}

/** QR-057: which final statuses are worth another attempt. */
export function retryableStatus(s: number): boolean {
  return s === 0xa701 || s === 0xa702 || s === 0xb000 || (s & 0xf000) === 0xc000;
}

const PROPOSED_TS = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian];

/** Storage SOP classes offered with the SCP role on a C-GET association (at most 127 contexts in all). */
export const GET_STORAGE_SOP_CLASSES = [
  '1.2.840.10008.5.1.4.1.1.1', // CR
  '1.2.840.10008.5.1.4.1.1.1.1', // DX presentation
  '1.2.840.10008.5.1.4.1.1.1.1.1', // DX processing
  '1.2.840.10008.5.1.4.1.1.1.2', // MG presentation
  '1.2.840.10008.5.1.4.1.1.1.2.1',
  '1.2.840.10008.5.1.4.1.1.2', // CT
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT
  '1.2.840.10008.5.1.4.1.1.4', // MR
  '1.2.840.10008.5.1.4.1.1.4.1', // Enhanced MR
  '1.2.840.10008.5.1.4.1.1.5', // NM (retired)
  '1.2.840.10008.5.1.4.1.1.20', // NM
  '1.2.840.10008.5.1.4.1.1.6.1', // US
  '1.2.840.10008.5.1.4.1.1.3.1', // US multi-frame
  '1.2.840.10008.5.1.4.1.1.7', // SC
  '1.2.840.10008.5.1.4.1.1.7.1',
  '1.2.840.10008.5.1.4.1.1.7.2',
  '1.2.840.10008.5.1.4.1.1.7.3',
  '1.2.840.10008.5.1.4.1.1.7.4',
  '1.2.840.10008.5.1.4.1.1.12.1', // XA
  '1.2.840.10008.5.1.4.1.1.12.2', // RF
  '1.2.840.10008.5.1.4.1.1.128', // PET
  '1.2.840.10008.5.1.4.1.1.130', // Enhanced PET
  '1.2.840.10008.5.1.4.1.1.128.1', // Legacy converted PET
  '1.2.840.10008.5.1.4.1.1.481.1', // RT Image
  '1.2.840.10008.5.1.4.1.1.481.2', // RT Dose
  '1.2.840.10008.5.1.4.1.1.481.3', // RT Structure Set
  '1.2.840.10008.5.1.4.1.1.481.5', // RT Plan
  '1.2.840.10008.5.1.4.1.1.66', // Raw data
  '1.2.840.10008.5.1.4.1.1.66.1', // Spatial registration
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.11.1', // GSPS
  '1.2.840.10008.5.1.4.1.1.11.2', // Color PS
  '1.2.840.10008.5.1.4.1.1.11.4', // Blending PS
  '1.2.840.10008.5.1.4.1.1.88.11', // Basic Text SR
  '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
  '1.2.840.10008.5.1.4.1.1.88.33', // Comprehensive SR
  '1.2.840.10008.5.1.4.1.1.88.67', // X-Ray Radiation Dose SR
  '1.2.840.10008.5.1.4.1.1.104.1', // Encapsulated PDF
  '1.2.840.10008.5.1.4.1.1.9.1.1', // 12-lead ECG
  '1.2.840.10008.5.1.4.1.1.9.1.3', // Ambulatory ECG
  '1.2.840.10008.5.1.4.1.1.9.3.1', // Cardiac EP
  '1.2.840.10008.5.1.4.1.1.77.1.4', // VL Photographic
  '1.2.840.10008.5.1.4.1.1.77.1.1', // VL Endoscopic
  '1.2.840.10008.5.1.4.1.1.13.1.3', // Breast Tomosynthesis
];

type Counters = { NumberOfRemainingSuboperations?: number; NumberOfCompletedSuboperations?: number; NumberOfFailedSuboperations?: number; NumberOfWarningSuboperations?: number };

function progressOf(r: Counters, prev: RetrieveProgress): RetrieveProgress {
  return {
    remaining: r.NumberOfRemainingSuboperations ?? prev.remaining,
    completed: r.NumberOfCompletedSuboperations ?? prev.completed,
    failed: r.NumberOfFailedSuboperations ?? prev.failed,
    warning: r.NumberOfWarningSuboperations ?? prev.warning,
  };
}

interface Attempt {
  status?: number;
  progress: RetrieveProgress;
  cancelled: boolean;
}

/** Runs attempts of `once` with the retry rule of QR-057. */
async function withRetries(dest: Destination, opts: RetrieveOptions, once: (attempt: number) => Promise<Attempt>, files: string[] = []): Promise<RetrieveResult> {
  const log = (opts.logger ?? silentLogger).child({ peer: `${dest.aeTitle}@${dest.host}:${dest.port}` });
  const retries = Math.max(0, opts.retry?.count ?? 0);
  const intervalMs = Math.max(0, (opts.retry?.intervalSeconds ?? 60) * 1000);
  const result: RetrieveResult = { ok: false, message: '', progress: { completed: 0, failed: 0, warning: 0 }, attempts: 0, cancelled: false, warning: false, files };
  for (let attempt = 1; ; attempt++) {
    result.attempts = attempt;
    result.error = undefined;
    result.failure = undefined;
    result.status = undefined;
    let retryable: boolean;
    try {
      const a = await once(attempt);
      result.status = a.status;
      result.progress = a.progress;
      result.cancelled = a.cancelled;
      const s = a.status ?? -1;
      result.message = a.status === undefined ? 'no final response' : describeRetrieveStatus(s);
      result.ok = s === 0 || s === 0xb000 || (s & 0xf000) === 0xb000;
      result.warning = s !== 0 && result.ok;
      if (!result.ok) result.error = result.message;
      retryable = !a.cancelled && retryableStatus(s);
    } catch (err) {
      result.failure = classifyFailure(err);
      result.error = result.failure.text;
      result.message = result.error;
      result.ok = false;
      retryable = !opts.signal?.aborted && (result.failure.kind === 'connect' || result.failure.kind === 'timeout' || result.failure.kind === 'aborted');
    }
    if (result.status !== undefined && result.status !== 0) log.warn('retrieve ended', { status: hex4(result.status), message: result.message, progress: result.progress });
    if (!retryable || attempt > retries || opts.signal?.aborted) return result;
    opts.onRetry?.(attempt, result.message, intervalMs);
    log.info('retrying retrieve', { attempt: attempt + 1, reason: result.message });
    await sleep(intervalMs, opts.signal);
    if (opts.signal?.aborted) return result;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Iterates the responses of a C-MOVE / C-GET, reporting progress and cancelling on the signal. */
async function follow(op: AsyncIterable<Counters & { Status: number }> & { cancel(): Promise<void> }, opts: RetrieveOptions, attempt: number): Promise<Attempt> {
  const out: Attempt = { progress: { completed: 0, failed: 0, warning: 0 }, cancelled: false };
  const onAbort = () => {
    out.cancelled = true;
    void op.cancel();
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const r of op) {
      out.progress = progressOf(r, out.progress);
      if (r.Status === 0xff00 || r.Status === 0xff01) opts.onProgress?.(out.progress, attempt);
      else out.status = r.Status;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return out;
}

async function openAndRun(dest: Destination, opts: RetrieveOptions, extra: Partial<Parameters<typeof Association.request>[0]>, sopClass: string, run: (a: Association, ts: string) => Promise<Attempt>): Promise<Attempt> {
  const contexts = [{ abstractSyntax: sopClass, transferSyntaxes: PROPOSED_TS }, ...(extra.presentationContexts ?? [])];
  const a = await Association.request({ ...requestorBase(dest, opts), ...extra, presentationContexts: contexts });
  try {
    const ctx = a.findContext(sopClass);
    if (!ctx) throw new Error(`${dest.aeTitle} accepted no presentation context for ${sopClass}`);
    const r = await run(a, ctx.transferSyntax);
    await a.release();
    return r;
  } catch (err) {
    await a.abort();
    throw err;
  }
}

/** C-MOVE (PS3.4 C.4.2): asks `dest` to send the matches of `identifier` to the AE `moveDestination`. */
export async function move(dest: Destination, identifier: Dataset, moveDestination: string, opts: RetrieveOptions = {}): Promise<RetrieveResult> {
  const sopClass = QR_SOP_CLASSES[opts.model ?? 'study'].move;
  return withRetries(dest, opts, (attempt) =>
    openAndRun(dest, opts, {}, sopClass, (a, ts) => {
      const op = a.sendRequest(new CMoveRq({ AffectedSOPClassUID: sopClass, MoveDestination: moveDestination }), { dataset: encodeDatasetToBuffer(identifier, encodingOf(ts)), timeout: opts.responseTimeout });
      return follow(op, opts, attempt);
    }),
  );
}

export interface GetOptions extends RetrieveOptions {
  /** Storage SOP classes offered with the SCP role; default GET_STORAGE_SOP_CLASSES. */
  storageSopClasses?: readonly string[];
  /** Each C-STORE sub-operation received, stored or not. */
  onStore?: (report: StoreReport) => void;
}

/** C-GET (PS3.4 C.4.3): retrieves the matches of `identifier` on the association into `outDir`. */
export async function get(dest: Destination, identifier: Dataset, outDir: string, opts: GetOptions = {}): Promise<RetrieveResult> {
  const sopClass = QR_SOP_CLASSES[opts.model ?? 'study'].get;
  const classes = (opts.storageSopClasses ?? GET_STORAGE_SOP_CLASSES).slice(0, 126);
  const store = new FileStore({ root: outDir });
  await store.open();
  const files: string[] = [];
  const handler = storageScp({
    sink: store,
    onReport: (r) => {
      if (r.location && (r.status === 0 || (r.status & 0xf000) === 0xb000)) files.push(r.location);
      opts.onStore?.(r);
    },
  });
  try {
    return await withRetries(
      dest,
      opts,
      (attempt) =>
        openAndRun(
          dest,
          opts,
          {
            presentationContexts: classes.map((c) => ({ abstractSyntax: c, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] })),
            roleSelections: classes.map((c) => ({ sopClassUid: c, scuRole: false, scpRole: true })),
            handlers: { 'C-STORE': handler },
          },
          sopClass,
          (a, ts) => {
            const op = a.sendRequest(new CGetRq({ AffectedSOPClassUID: sopClass }), { dataset: encodeDatasetToBuffer(identifier, encodingOf(ts)), timeout: opts.responseTimeout });
            return follow(op, opts, attempt);
          },
        ),
      files,
    );
  } finally {
    await rm(join(outDir, INCOMING_DIR), { recursive: true, force: true }).catch(() => undefined);
  }
}
