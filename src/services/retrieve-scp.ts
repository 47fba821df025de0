/**
 * Query/Retrieve Service Class, C-MOVE and C-GET SCP (PS3.4 C.4.2, C.4.3; REQUIREMENTS 8.6,
 * 0.4): Patient Root and Study Root.
 *
 * - The identifier names the instances by unique keys (QR-040): the key of the requested level
 *   (required, lists of UIDs accepted) and, when present, those of the levels above; keys of the
 *   levels below fail with A900.
 * - C-MOVE: the Move Destination is resolved by the caller (`resolveDestination`, node
 *   registry: unknown is A801, QR-041); every matching instance goes over one new association
 *   to it with the Storage SCU (storage-scu.ts, QR-042), naming the move originator.
 * - C-GET: the instances go as C-STORE requests on the same association, on the storage
 *   contexts for which the requestor took the SCP role (SCP/SCU role selection, PS3.7 D.3.3.4).
 * - A pending response (FF00) with the four counters after every sub-operation (QR-043); the
 *   final status per QR-044: 0000, B000 (some failed or warned; Failed SOP Instance UID List),
 *   A701 (no matches with noMatchStatus A701, or the index failed), A702 (every sub-operation
 *   failed), A801, A900, C000, FE00 (C-CANCEL: the sub-operations stop, QR-045 for aborts).
 *
 * It knows the archive only through `RetrieveProvider`.
 */
import type { Dataset } from '../dicom/dataset.js';
import { fromJSON } from '../dicom/json.js';
import { encodingOf } from '../dicom/part10.js';
import { readDataset } from '../dicom/read.js';
import { BufferSource } from '../dicom/source.js';
import { tagKey, formatTag } from '../dicom/tag.js';
import { encodeDatasetToBuffer } from '../dicom/write.js';
import { inflateRawSync } from 'node:zlib';
import { CStoreRq, type Handler, type RequestContext } from '../net/index.js';
import type { Negotiated } from '../net/negotiation.js';
import { depth, levelsOf, UNIQUE_KEY, type Level, type QueryModel } from '../archive/attributes.js';
import type { InstanceSelector } from '../archive/index.js';
import { silentLogger, type Logger } from '../node/log.js';
import { IdentifierError } from './query-scp.js';
import type { Destination } from './scu-connection.js';
import { storeFiles, type StoreOptions, type StoreProgress, type StoreReport } from './storage-scu.js';
import { DEFAULT_PROPOSAL, chooseContext, scanFile, type ContextChoice, type StoreItem } from './store-plan.js';
import { openDataset, type Prepared as OpenedDataset } from './store-source.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

export const PATIENT_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.1.2';
export const PATIENT_ROOT_GET = '1.2.840.10008.5.1.4.1.2.1.3';
export const STUDY_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.2.2';
export const STUDY_ROOT_GET = '1.2.840.10008.5.1.4.1.2.2.3';
export const RETRIEVE_SOP_CLASSES = [PATIENT_ROOT_MOVE, PATIENT_ROOT_GET, STUDY_ROOT_MOVE, STUDY_ROOT_GET] as const;
export const GET_SOP_CLASSES = new Set<string>([PATIENT_ROOT_GET, STUDY_ROOT_GET]);

export const RetrieveStatus = {
  Pending: 0xff00,
  Success: 0x0000,
  Warning: 0xb000,
  Cancel: 0xfe00,
  UnableToCalculateMatches: 0xa701,
  UnableToPerformSuboperations: 0xa702,
  MoveDestinationUnknown: 0xa801,
  IdentifierDoesNotMatchSopClass: 0xa900,
  CannotUnderstand: 0xc000,
} as const;

/** An instance to send: the absolute file path and what the index knows of it. */
export interface RetrieveInstance {
  file: string;
  sopClassUid: string;
  sopInstanceUid: string;
}

/** The archive as the retrieve SCP sees it. */
export interface RetrieveProvider {
  instances(sel: InstanceSelector): Promise<RetrieveInstance[]>;
}

/** Where a C-MOVE sends its instances, and how (the destination node's Storage SCU options). */
export interface MoveTarget {
  destination: Destination;
  options: StoreOptions;
}

export interface RetrieveReport {
  service: 'C-MOVE' | 'C-GET';
  callingAETitle: string;
  model: QueryModel;
  level?: string;
  moveDestination?: string;
  status: number;
  matches: number;
  completed: number;
  failed: number;
  warning: number;
  reason?: string;
  ms: number;
}

export interface RetrieveScpOptions {
  index: RetrieveProvider;
  /** The destination of a C-MOVE (moveScp.destination); undefined: unknown (A801). */
  resolveDestination?: (moveDestination: string, ctx: RequestContext) => MoveTarget | undefined;
  /** moveScp.noMatchStatus: what a retrieve that matches nothing ends with. */
  noMatchStatus?: 'success' | 'A701';
  /** The Storage SCU (tests replace it). */
  store?: typeof storeFiles;
  logger?: Logger;
  onReport?: (r: RetrieveReport) => void;
}

export function retrieveModelOf(sopClass: string): QueryModel | undefined {
  if (sopClass === PATIENT_ROOT_MOVE || sopClass === PATIENT_ROOT_GET) return 'PATIENT_ROOT';
  if (sopClass === STUDY_ROOT_MOVE || sopClass === STUDY_ROOT_GET) return 'STUDY_ROOT';
  return undefined;
}

const SELECTOR_FIELD: Record<Level, keyof Omit<InstanceSelector, 'level'>> = {
  PATIENT: 'patientIds',
  STUDY: 'studyInstanceUids',
  SERIES: 'seriesInstanceUids',
  IMAGE: 'sopInstanceUids',
};

/**
 * The instances a C-MOVE/C-GET identifier names (PS3.4 C.4.2.2.1, QR-040): the unique key of
 * the level (required; a list of UIDs is accepted), those of the levels above when given, none
 * of those below. Other keys are ignored.
 */
export function parseRetrieveIdentifier(ds: Dataset, model: QueryModel): InstanceSelector {
  const levelText = (ds.string(0x00080052) ?? '').trim().toUpperCase();
  const levels = levelsOf(model);
  if (!levels.includes(levelText as Level)) throw new IdentifierError(`Query/Retrieve Level '${levelText}' is not one of ${levels.join(', ')}`, [0x00080052]);
  const level = levelText as Level;
  const sel: InstanceSelector = { level };
  for (const l of levels) {
    const tag = UNIQUE_KEY[l];
    const values = ds.has(tag) ? ds.strings(tag).map((v) => v.trim()).filter((v) => v.length > 0) : [];
    if (depth(l) > depth(level)) {
      if (values.length > 0) throw new IdentifierError(`${formatTag(tag)} is a ${l} key, below the ${level} level of the retrieve`, [tag]);
      continue;
    }
    if (values.some((v) => /[*?]/.test(v))) throw new IdentifierError(`${formatTag(tag)}: wildcards are not allowed in a retrieve`, [tag]);
    if (l === level && values.length === 0) throw new IdentifierError(`a ${level} level retrieve needs the unique key ${formatTag(tag)}`, [tag]);
    if (l === 'PATIENT' && values.length > 1) throw new IdentifierError(`${formatTag(tag)}: one Patient ID only`, [tag]);
    if (values.length > 0) sel[SELECTOR_FIELD[l]] = values;
  }
  return sel;
}

function decodeIdentifier(bytes: Buffer, ts: string): Dataset {
  const enc = encodingOf(ts);
  const b = enc.deflated ? inflateRawSync(bytes) : bytes;
  return readDataset(new BufferSource(b, 'retrieve identifier'), 0, b.length, enc);
}

interface Counts {
  completed: number;
  failed: number;
  warning: number;
}

/** A Failed SOP Instance UID List (0008,0058) identifier, in the context's encoding. */
function failedList(uids: string[], ts: string): Buffer | undefined {
  if (uids.length === 0) return undefined;
  const enc = encodingOf(ts);
  return encodeDatasetToBuffer(fromJSON({ [tagKey(0x00080058)]: { vr: 'UI', Value: uids } }), { explicitVR: enc.explicitVR, littleEndian: enc.littleEndian });
}

/** Final status of a retrieve that ran its sub-operations (PS3.4 C.4.2.1.5, QR-044). */
function finalStatus(c: Counts, cancelled: boolean): number {
  if (cancelled) return RetrieveStatus.Cancel;
  if (c.failed === 0 && c.warning === 0) return RetrieveStatus.Success;
  if (c.completed === 0 && c.warning === 0) return RetrieveStatus.UnableToPerformSuboperations;
  return RetrieveStatus.Warning;
}

/** A queue between a callback producer and an async generator consumer. */
class Channel<T> {
  private items: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  push(x: T): void {
    this.items.push(x);
    this.wake?.();
  }
  close(): void {
    this.closed = true;
    this.wake?.();
  }
  async *drain(): AsyncGenerator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}

type Reply = { Status: number; dataset?: Buffer; ErrorComment?: string; OffendingElement?: number[] } & Partial<Record<
  'NumberOfRemainingSuboperations' | 'NumberOfCompletedSuboperations' | 'NumberOfFailedSuboperations' | 'NumberOfWarningSuboperations',
  number
>>;

function counters(c: Counts, remaining?: number): Omit<Reply, 'Status'> {
  return {
    NumberOfRemainingSuboperations: remaining,
    NumberOfCompletedSuboperations: c.completed,
    NumberOfFailedSuboperations: c.failed,
    NumberOfWarningSuboperations: c.warning,
  };
}

/** Whether a C-STORE response status is a warning (PS3.4 B.2.3: B000, B006, B007, 0001). */
function isWarning(status: number): boolean {
  return status === 0x0001 || (status & 0xf000) === 0xb000;
}

interface Prepared {
  model: QueryModel;
  sel: InstanceSelector;
  instances: RetrieveInstance[];
}

/**
 * The steps common to C-MOVE and C-GET before any sub-operation: model, identifier, matches.
 * Returns the reply to end with instead when one of them fails (or nothing matched).
 */
async function prepare(
  service: 'C-MOVE' | 'C-GET',
  opts: RetrieveScpOptions,
  ctx: RequestContext,
  sopClass: string,
  report: (r: Partial<RetrieveReport> & { status: number }) => void,
  beforeSelect?: () => Reply | undefined,
): Promise<Prepared | Reply> {
  const model = retrieveModelOf(ctx.presentationContext.abstractSyntax) ?? retrieveModelOf(sopClass);
  if (!model) {
    const reason = `SOP class ${sopClass} is not a ${service} model we serve`;
    report({ status: RetrieveStatus.CannotUnderstand, reason });
    return { Status: RetrieveStatus.CannotUnderstand, ErrorComment: reason };
  }
  let sel: InstanceSelector;
  try {
    if (!ctx.dataset) throw new IdentifierError(`${service}-RQ without an identifier`);
    let ds: Dataset;
    try {
      ds = decodeIdentifier(await ctx.dataset.toBuffer(16 * 1024 * 1024), ctx.presentationContext.transferSyntax);
    } catch (err) {
      const reason = `identifier cannot be decoded: ${(err as Error).message}`;
      report({ model, status: RetrieveStatus.CannotUnderstand, reason });
      return { Status: RetrieveStatus.CannotUnderstand, ErrorComment: reason };
    }
    sel = parseRetrieveIdentifier(ds, model);
  } catch (err) {
    const reason = (err as Error).message;
    report({ model, status: RetrieveStatus.IdentifierDoesNotMatchSopClass, reason });
    return { Status: RetrieveStatus.IdentifierDoesNotMatchSopClass, ErrorComment: reason, OffendingElement: err instanceof IdentifierError ? err.offending : undefined };
  }
  const early = beforeSelect?.();
  if (early) {
    report({ model, level: sel.level, status: early.Status, reason: early.ErrorComment });
    return early;
  }
  let instances: RetrieveInstance[];
  try {
    instances = await opts.index.instances(sel);
  } catch (err) {
    const reason = `unable to calculate matches: ${(err as Error).message}`;
    report({ model, level: sel.level, status: RetrieveStatus.UnableToCalculateMatches, reason });
    return { Status: RetrieveStatus.UnableToCalculateMatches, ErrorComment: reason };
  }
  if (instances.length === 0) {
    const status = opts.noMatchStatus === 'A701' ? RetrieveStatus.UnableToCalculateMatches : RetrieveStatus.Success;
    report({ model, level: sel.level, status, matches: 0, reason: 'no matching instances' });
    return status === RetrieveStatus.Success
      ? { Status: status, ...counters({ completed: 0, failed: 0, warning: 0 }) }
      : { Status: status, ErrorComment: 'no matching instances' };
  }
  return { model, sel, instances };
}

function reporter(service: 'C-MOVE' | 'C-GET', opts: RetrieveScpOptions, ctx: RequestContext, extra: Partial<RetrieveReport> = {}) {
  const t0 = performance.now();
  return (r: Partial<RetrieveReport> & { status: number }): void =>
    opts.onReport?.({
      service,
      callingAETitle: ctx.association.callingAETitle ?? '',
      model: 'STUDY_ROOT',
      matches: 0,
      completed: 0,
      failed: 0,
      warning: 0,
      ms: Math.round(performance.now() - t0),
      ...extra,
      ...r,
    });
}

/** The C-MOVE handler (REQUIREMENTS 8.6). */
export function moveScp(opts: RetrieveScpOptions): Handler<'C-MOVE'> {
  const store = opts.store ?? storeFiles;
  const log = opts.logger ?? silentLogger;
  return async function* (rq, ctx) {
    const moveDestination = (rq.MoveDestination ?? '').trim();
    const report = reporter('C-MOVE', opts, ctx, { moveDestination });
    let target: MoveTarget | undefined;
    const p = await prepare('C-MOVE', opts, ctx, rq.AffectedSOPClassUID, report, () => {
      target = moveDestination ? opts.resolveDestination?.(moveDestination, ctx) : undefined;
      if (!target) return { Status: RetrieveStatus.MoveDestinationUnknown, ErrorComment: `move destination '${moveDestination}' is unknown` };
      return undefined;
    });
    if (!('instances' in p)) {
      yield p;
      return;
    }
    const total = p.instances.length;
    const counts: Counts = { completed: 0, failed: 0, warning: 0 };
    let atCancel: Counts | undefined;
    const onCancel = (): void => void (atCancel ??= { ...counts });
    ctx.signal.addEventListener('abort', onCancel, { once: true });
    const ch = new Channel<Counts>();
    const failedUids: string[] = [];
    const onProgress = (e: StoreProgress): void => {
      if (e.kind !== 'file' || atCancel) return;
      const o = e.result.outcome;
      if (o === 'success') counts.completed++;
      else if (o === 'warning') counts.warning++;
      else {
        counts.failed++;
        if (e.result.sopInstanceUID) failedUids.push(e.result.sopInstanceUID);
      }
      ch.push({ ...counts });
    };
    const options: StoreOptions = {
      ...target!.options,
      associations: 1,
      moveOriginator: { aeTitle: ctx.association.callingAETitle ?? '', messageId: rq.MessageID ?? 0 },
      signal: ctx.signal,
    };
    let storeReport: StoreReport | undefined;
    let storeError: Error | undefined;
    const job = store(p.instances.map((i) => i.file), target!.destination, options, onProgress)
      .then((r) => void (storeReport = r), (e: Error) => void (storeError = e))
      .finally(() => ch.close());
    for await (const c of ch.drain()) {
      if (ctx.signal.aborted) continue;
      const done = c.completed + c.failed + c.warning;
      yield { Status: RetrieveStatus.Pending, ...counters(c, total - done) };
    }
    await job;
    ctx.signal.removeEventListener('abort', onCancel);
    const cancelled = atCancel !== undefined;
    const final: Counts = atCancel ?? { ...counts };
    if (!cancelled && storeReport) {
      // Files that were not DICOM (no 'file' event): failed sub-operations too.
      for (const r of storeReport.results) {
        if (r.outcome === 'skipped') {
          final.failed++;
          if (r.sopInstanceUID) failedUids.push(r.sopInstanceUID);
        }
      }
    }
    if (storeError) {
      log.error('C-MOVE sub-operations failed', { error: storeError.message });
      final.failed = total - final.completed - final.warning;
    }
    const status = finalStatus(final, cancelled);
    const done = final.completed + final.failed + final.warning;
    report({ model: p.model, level: p.sel.level, status, matches: total, ...final, reason: storeError?.message });
    const failedSet = cancelled ? [] : failedUids;
    yield {
      Status: status,
      ...counters(final, cancelled ? total - done : undefined),
      dataset: failedList(failedSet, ctx.presentationContext.transferSyntax),
      ErrorComment: status === RetrieveStatus.UnableToPerformSuboperations ? `no instance could be stored at ${moveDestination}` : undefined,
    };
  };
}

/** The C-GET handler (REQUIREMENTS 0.4): C-STORE sub-operations on the same association. */
export function getScp(opts: RetrieveScpOptions): Handler<'C-GET'> {
  const log = opts.logger ?? silentLogger;
  return async function* (rq, ctx) {
    const report = reporter('C-GET', opts, ctx);
    const p = await prepare('C-GET', opts, ctx, rq.AffectedSOPClassUID, report);
    if (!('instances' in p)) {
      yield p;
      return;
    }
    const a = ctx.association;
    const neg = a.negotiated!;
    // Only the contexts on which the requestor accepted to be the Storage SCP (role selection).
    const scpContexts: Negotiated = { ...neg, contexts: new Map([...neg.contexts].filter(([, c]) => c.requestorIsScp)) };
    const peer = `${a.callingAETitle ?? '?'}@${a.remoteAddress ?? '?'}`;
    const total = p.instances.length;
    const c: Counts = { completed: 0, failed: 0, warning: 0 };
    const failedUids: string[] = [];
    let cancelled = false;
    let broken: string | undefined;
    /** An instance made ready to send (header scanned, context chosen, data set read), or why it cannot be. */
    type Ready = { item: StoreItem; choice: ContextChoice; data: OpenedDataset } | { why: string };
    const ready = async (i: number): Promise<Ready> => {
      // Started once the current sub-operation is on its way: its read is not on the critical path.
      await nextTurn();
      const item = scanFile(p.instances[i]!.file, i);
      if (typeof item === 'string') return { why: item };
      const choice = chooseContext(item, scpContexts, DEFAULT_PROPOSAL, peer);
      if (typeof choice === 'string') return { why: choice };
      try {
        return { item, choice, data: await openDataset(item, choice, log) };
      } catch (err) {
        return { why: (err as Error).message };
      }
    };
    let next: Promise<Ready> | undefined = total > 0 ? ready(0) : undefined;
    for (const [i, inst] of p.instances.entries()) {
      if (ctx.signal.aborted) {
        cancelled = true;
        break;
      }
      const fail = (why: string): void => {
        c.failed++;
        failedUids.push(inst.sopInstanceUid);
        log.warn('C-GET sub-operation failed', { sopInstanceUid: inst.sopInstanceUid, reason: why });
      };
      const cur = await next!;
      // The next instance is read while this one is on the wire.
      next = i + 1 < total ? ready(i + 1) : undefined;
      if ('why' in cur) fail(cur.why);
      else {
        const { item, choice, data } = cur;
        try {
          const rsp = await a.sendRequest(
            new CStoreRq({ AffectedSOPClassUID: item.sopClassUID, AffectedSOPInstanceUID: data.sopInstanceUID ?? item.sopInstanceUID, Priority: rq.Priority }),
            { presentationContextId: choice.pc.id, dataset: data.dataset },
          );
          if (rsp.Status === 0) c.completed++;
          else if (isWarning(rsp.Status)) c.warning++;
          else fail(`C-STORE status ${rsp.Status.toString(16).padStart(4, '0')}`);
        } catch (err) {
          if (!a.isEstablished) {
            broken = (err as Error).message;
            break;
          }
          fail((err as Error).message);
        } finally {
          data.close(false);
        }
      }
      if (ctx.signal.aborted) {
        cancelled = true;
        continue; // the loop ends at the top; no pending response after a cancel
      }
      const done = c.completed + c.failed + c.warning;
      yield { Status: RetrieveStatus.Pending, ...counters(c, total - done) };
    }
    // An instance read ahead but not sent (cancel, broken association): released.
    const unsent = await next;
    if (unsent && 'data' in unsent) unsent.data.close(false);
    const done = c.completed + c.failed + c.warning;
    if (broken !== undefined) {
      report({ model: p.model, level: p.sel.level, status: RetrieveStatus.UnableToPerformSuboperations, matches: total, ...c, reason: broken });
      return;
    }
    const status = finalStatus(c, cancelled);
    report({ model: p.model, level: p.sel.level, status, matches: total, ...c });
    yield {
      Status: status,
      ...counters(c, cancelled ? total - done : undefined),
      dataset: failedList(cancelled ? [] : failedUids, ctx.presentationContext.transferSyntax),
    };
  };
}
