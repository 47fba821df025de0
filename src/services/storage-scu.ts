/**
 * Storage SCU (PS3.4 B, REQUIREMENTS 6): sends files to a peer with C-STORE.
 *
 *   const report = await storeFiles(paths, { host, port, aeTitle: 'PACS' }, { associations: 2 }, (p) => ...);
 *
 * - Files are read up to their SOP Instance UID only; the data set is streamed from disk with
 *   back-pressure, never loaded (pixel data included). Files that are not DICOM are reported
 *   and skipped.
 * - Presentation contexts come from the files (store-plan.ts: SEND-011/012, ASSOC-031); many
 *   files go over one association (SEND-010), or over N in parallel with files handed out as
 *   workers get free; several C-STOREs are outstanding when the peer grants an Asynchronous
 *   Operations Window (PS3.7 D.3.3.3, ASSOC-041).
 * - When the peer accepted another uncompressed syntax than the file's, the data set is
 *   re-encoded on the fly (SEND-021, uncompressed syntaxes only for now).
 * - Every response status is handled by store-status.ts (SEND-030/031); transient failures
 *   are retried after an interval, resending only what is not yet stored (SEND-040/041).
 * - Nothing fails silently: every file gets a result.
 */
import { Association, CStoreRq } from '../net/index.js';
import type { NodeConfig, TracerConfig } from '../node/config.js';
import { silentLogger, type Logger } from '../node/log.js';
import { classifyFailure, requestorBase, scuOptionsFromConfig, type Destination, type ScuOptions } from './scu-connection.js';
import { DEFAULT_PROPOSAL, chooseContext, planAssociations, scanFile, tsName, type AssociationPlan, type ContextChoice, type ProposalSettings, type StoreItem } from './store-plan.js';
import { DEFAULT_STORE_POLICY, judgeStoreStatus, type StorePolicy } from './store-status.js';
import { Semaphore } from './semaphore.js';
import { openDataset, type Prepared } from './store-source.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface StoreOptions extends ScuOptions {
  /** Associations used in parallel (files are shared among them). Default 1 (SEND-010). */
  associations?: number;
  /** Propose an Asynchronous Operations Window of this many invoked operations (0 = unlimited); absent = none (ASSOC-040). */
  asyncOperations?: { maxInvoked: number };
  /** C-STOREs outstanding at most on one association, whatever window the peer grants. Default 16. */
  maxInFlight?: number;
  /** New association after this many instances; 0 = unlimited (SEND-010, cmr42: 20). */
  maxInstancesPerAssociation?: number;
  /** Automatic retries of transient failures (SEND-040); default 2 after 30 s. */
  retry?: { count: number; intervalSeconds: number };
  policy?: Partial<StorePolicy>;
  proposal?: Partial<ProposalSettings>;
  /** C-STORE Priority (PS3.7 9.3.1.1); default medium. */
  priority?: number;
  /** C-MOVE sub-operations name their originator (PS3.7 9.3.1.1). */
  moveOriginator?: { aeTitle: string; messageId: number };
  signal?: AbortSignal;
}

export type FileOutcome = 'success' | 'warning' | 'failure' | 'skipped';

export interface FileResult {
  path: string;
  sopClassUID?: string;
  sopInstanceUID?: string;
  outcome: FileOutcome;
  /** Status of the C-STORE response, when one arrived. */
  status?: number;
  /** The status text (SEND-031), or what happened instead of a response. */
  statusText: string;
  /** Why the instance was not stored (failure, skipped). */
  error?: string;
  /** Transfer syntax of the file, and the one it was sent in. */
  fileTransferSyntax?: string;
  transferSyntax?: string;
  /** The data set was re-encoded into `transferSyntax`. */
  converted?: boolean;
  /** Data set bytes sent (last attempt). */
  bytes: number;
  /** Times it was sent (retries included). */
  attempts: number;
}

export type JobState = 'COMPLETED' | 'COMPLETED_WITH_WARNINGS' | 'FAILED' | 'CANCELLED';

export interface StoreReport {
  destination: Destination;
  state: JobState;
  /** One per file, in the order given. */
  results: FileResult[];
  total: number;
  /** Stored (success and warning). */
  sent: number;
  warnings: number;
  failed: number;
  /** Not DICOM, or not an instance: reported, not counted as failures. */
  skipped: number;
  bytes: number;
  seconds: number;
  associations: number;
  /** Passes over the job: 1 + the retries that were needed. */
  attempts: number;
}

export type StoreProgress =
  | { kind: 'scanned'; total: number; sendable: number; bytes: number }
  | { kind: 'file'; result: FileResult; done: number; total: number; bytes: number }
  | { kind: 'retry'; attempt: number; of: number; pending: number; delaySeconds: number; reason: string }
  | { kind: 'association'; event: 'open' | 'failed'; peer: string; detail?: string };

/** Store options from the configuration and a node's entry (REQUIREMENTS 3, 6; Appendix A). */
export function storeOptionsFromConfig(config: TracerConfig, node: NodeConfig, logger?: Logger, dest?: Destination): StoreOptions {
  const a = config.network.asyncOps;
  return {
    ...scuOptionsFromConfig(config, node, logger, dest),
    associations: 1,
    asyncOperations: a.enabled ? { maxInvoked: a.maxInvoked } : undefined,
    maxInstancesPerAssociation: node.maxInstancesPerAssociation,
    retry: { ...config.storeScu.retry },
    policy: { onRefused: node.onRefused, onInstanceFailure: node.onInstanceFailure, warningsAsSuccess: node.warningsAsSuccess },
    proposal: {
      pcLayout: node.pcLayout,
      pcStrategy: node.pcStrategy,
      maxPresentationContexts: node.maxPresentationContexts,
      storeTransferSyntaxes: node.storeTransferSyntaxes,
      enabledTransferSyntaxes: node.enabledTransferSyntaxes,
      disableExplicitVr: node.disableExplicitVr,
      allowLossy: node.allowLossy,
    },
  };
}

/** Sends files to a peer; resolves with a result per file. Rejects only for programming errors. */
export async function storeFiles(files: Iterable<string>, dest: Destination, opts: StoreOptions = {}, onProgress?: (p: StoreProgress) => void): Promise<StoreReport> {
  const job = new StoreJob(dest, opts, onProgress);
  return job.run(files);
}

/**
 * How an association ended: 'drained' (queue empty), 'reopen' (go on, on a new association),
 * 'broken' (ended abnormally after storing something: reconnect at once, SEND-040 "as soon as
 * the network is available again"), 'transient' (failed before storing anything: leave the
 * plan to the other workers and the next attempt), 'stopped' (the job stops).
 */
type SessionEnd = 'drained' | 'reopen' | 'broken' | 'transient' | 'stopped';

interface PlanState extends AssociationPlan {
  queue: StoreItem[];
  lastError?: string;
}

class StoreJob {
  private readonly log: Logger;
  private readonly policy: StorePolicy;
  private readonly proposal: ProposalSettings;
  private readonly results: FileResult[] = [];
  private readonly active = new Set<Association>();
  /** Items to send again on the next attempt, with the reason. */
  private retryLater = new Map<StoreItem, string>();
  private stopped: string | undefined;
  private cancelled = false;
  private done = 0;
  private total = 0;
  private bytes = 0;
  private associations = 0;
  private readonly started = performance.now();
  private readonly peer: string;

  constructor(
    private readonly dest: Destination,
    private readonly opts: StoreOptions,
    private readonly onProgress?: (p: StoreProgress) => void,
  ) {
    this.peer = `${dest.aeTitle}@${dest.host}:${dest.port}`;
    this.log = (opts.logger ?? silentLogger).child({ peer: this.peer });
    this.policy = { ...DEFAULT_STORE_POLICY, ...opts.policy };
    this.proposal = { ...DEFAULT_PROPOSAL, ...opts.proposal };
  }

  async run(files: Iterable<string>): Promise<StoreReport> {
    const items: StoreItem[] = [];
    let index = 0;
    let bytes = 0;
    for (const path of files) {
      const i = index++;
      const r = scanFile(path, i);
      if (typeof r === 'string') {
        this.results[i] = { path, outcome: 'skipped', statusText: 'not sent', error: r, bytes: 0, attempts: 0 };
        this.log.warn('skipped', { file: path, reason: r });
        continue;
      }
      items.push(r);
      bytes += r.datasetBytes;
      this.results[i] = { path, sopClassUID: r.sopClassUID, sopInstanceUID: r.sopInstanceUID, fileTransferSyntax: r.transferSyntaxUID, outcome: 'failure', statusText: 'not sent', bytes: 0, attempts: 0 };
    }
    this.total = index;
    this.done = index - items.length;
    this.onProgress?.({ kind: 'scanned', total: index, sendable: items.length, bytes });

    const onAbort = (): void => this.cancel();
    this.opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.opts.signal?.aborted) this.cancel();
    const retry = this.opts.retry ?? { count: 2, intervalSeconds: 30 };
    let pending = items;
    let attempt = 0;
    try {
      for (;;) {
        attempt++;
        this.retryLater = new Map();
        const { plans, unsendable } = planAssociations(pending, this.proposal);
        for (const u of unsendable) this.fail(u.item, 'not sent', u.reason);
        const states: PlanState[] = plans.map((p) => ({ ...p, queue: [...p.items] }));
        if (plans.length > 1) this.log.info(`${pending.length} instances need ${plans.length} associations (at most ${this.proposal.maxPresentationContexts} presentation contexts each)`);
        const workers = Math.max(1, Math.min(this.opts.associations ?? 1, pending.length));
        if (!this.stopped) await Promise.all(Array.from({ length: workers }, () => this.worker(states)));
        // What no worker could send (all of them gave up on a plan) waits for the next attempt.
        for (const s of states) for (const item of s.queue.splice(0)) this.retryLater.set(item, s.lastError ?? 'not sent');
        pending = [...this.retryLater.keys()].sort((a, b) => a.index - b.index);
        if (pending.length === 0) break;
        if (this.stopped) {
          for (const item of pending) this.fail(item, 'not sent', `not sent: ${this.stopped}`);
          break;
        }
        if (attempt > retry.count) {
          for (const item of pending) {
            const why = this.retryLater.get(item)!;
            this.fail(item, this.results[item.index]!.status !== undefined ? this.results[item.index]!.statusText : 'not sent', `${why}; gave up after ${attempt} attempt${attempt > 1 ? 's' : ''}`);
          }
          break;
        }
        const reason = this.retryLater.get(pending[0]!)!;
        this.log.warn(`retrying ${pending.length} instance(s) in ${retry.intervalSeconds} s (retry ${attempt} of ${retry.count})`, { reason });
        this.onProgress?.({ kind: 'retry', attempt, of: retry.count, pending: pending.length, delaySeconds: retry.intervalSeconds, reason });
        await sleep(retry.intervalSeconds * 1000, this.opts.signal);
        if (this.stopped) {
          for (const item of pending) this.fail(item, 'not sent', `not sent: ${this.stopped}`);
          break;
        }
      }
    } finally {
      this.opts.signal?.removeEventListener('abort', onAbort);
    }
    return this.report(attempt);
  }

  private report(attempts: number): StoreReport {
    const r = this.results;
    const count = (o: FileOutcome): number => r.filter((x) => x.outcome === o).length;
    const warnings = count('warning');
    const failed = count('failure');
    const state: JobState = this.cancelled ? 'CANCELLED' : failed > 0 ? 'FAILED' : warnings > 0 ? 'COMPLETED_WITH_WARNINGS' : 'COMPLETED';
    return {
      destination: this.dest,
      state,
      results: r,
      total: r.length,
      sent: count('success') + warnings,
      warnings,
      failed,
      skipped: count('skipped'),
      bytes: this.bytes,
      seconds: (performance.now() - this.started) / 1000,
      associations: this.associations,
      attempts,
    };
  }

  private cancel(): void {
    this.cancelled = true;
    this.stop('cancelled');
    for (const a of this.active) void a.abort();
  }

  private stop(reason: string): void {
    this.stopped ??= reason;
  }

  // ------------------------------------------------------------------ workers and associations

  /** One worker: serves the plans in order, one association at a time. */
  private async worker(plans: PlanState[]): Promise<void> {
    for (const plan of plans) {
      while (plan.queue.length > 0 && !this.stopped) {
        const end = await this.session(plan);
        // A transient failure: this worker leaves the plan for this attempt; others may go on.
        if (end === 'transient' || end === 'stopped') break;
      }
      if (this.stopped) return;
    }
  }

  /** Opens one association for a plan and sends from its queue until done, or until it must end. */
  private async session(plan: PlanState): Promise<SessionEnd> {
    let a: Association;
    try {
      a = await Association.request({
        ...requestorBase(this.dest, this.opts),
        presentationContexts: plan.contexts,
        asyncOperations: this.opts.asyncOperations && { maxInvoked: this.opts.asyncOperations.maxInvoked, maxPerformed: 1 },
      });
    } catch (err) {
      const f = classifyFailure(err);
      plan.lastError = f.text;
      this.log.warn('association failed', { error: f.text, transient: f.transient });
      this.onProgress?.({ kind: 'association', event: 'failed', peer: this.peer, detail: f.text });
      if (!f.transient) {
        // rejected-permanent, or no context accepted: not retried (SEND-040).
        for (const item of plan.queue.splice(0)) this.fail(item, 'not sent', f.text);
        return 'drained';
      }
      return 'transient';
    }
    this.active.add(a);
    this.associations++;
    const neg = a.negotiated!;
    const window = neg.maxOutgoing;
    const cap = Math.max(1, Math.min(window === 0 ? Infinity : window, this.opts.maxInFlight ?? 16));
    const log = this.log.child({ association: this.associations });
    log.info('association accepted', {
      contexts: `${neg.contexts.size}/${plan.contexts.length}`,
      window: window === 0 ? 'unlimited' : window,
      maxPdu: neg.peerMaxPdu,
      implementation: neg.peerImplementationVersionName,
    });
    this.onProgress?.({ kind: 'association', event: 'open', peer: this.peer });
    const perAssociation = this.opts.maxInstancesPerAssociation ?? 0;
    let sentHere = 0;
    let reopen = false;
    /** maxInstancesPerAssociation reached: the instances already taken are still sent here. */
    let limitReached = false;
    let completed = 0;
    let refused = false;
    let broken: string | undefined;
    const inflight = new Set<Promise<void>>();

    // Our window of outstanding C-STOREs; one more instance than it holds is read ahead.
    const slots = new Semaphore(cap);
    let putBack = false;

    // Instances are sent in the order taken, however long each takes to open.
    let turn = Promise.resolve();

    const handle = async (item: StoreItem, choice: ContextChoice): Promise<void> => {
      const r = this.results[item.index]!;
      const myTurn = turn;
      let next!: () => void;
      turn = new Promise((res) => (next = res));
      let data: Prepared;
      try {
        data = await openDataset(item, choice, this.log);
      } catch (err) {
        void myTurn.then(next);
        // The file cannot be read or converted: this instance fails; the association goes on.
        const msg = (err as Error).message.replace(`${item.path}: `, '');
        this.fail(item, 'not sent', `cannot ${choice.convert ? `convert to ${tsName(choice.transferSyntax)}` : 'read the file'}: ${msg}`);
        return;
      }
      await myTurn;
      await slots.acquire();
      next();
      if (this.stopped || reopen || broken !== undefined || !a.isEstablished) {
        // Read ahead, but this association is ending: the instance waits for the next one.
        slots.release();
        data.close(true); // never sent
        plan.queue.unshift(item);
        putBack = true;
        return;
      }
      r.attempts++;
      r.transferSyntax = choice.transferSyntax;
      r.converted = choice.convert;
      try {
        const rsp = await this.sendOne(a, item, choice, data);
        completed++;
        const sent = data.bytes();
        r.bytes = sent;
        const v = judgeStoreStatus(rsp.Status, this.policy, rsp.ErrorComment);
        r.status = rsp.Status;
        r.statusText = v.text;
        switch (v.action) {
          case 'retryLater':
            this.retryLater.set(item, v.text);
            broken ??= v.text;
            refused = true;
            log.warn('instance refused; association aborted, will retry', { file: item.path, status: v.text });
            void a.abort();
            return;
          case 'newAssociation':
            reopen = true;
            break;
          case 'stopJob':
            this.stop(`job stopped after ${v.text} for ${item.path}`);
            break;
        }
        this.finish(item, v.outcome, v.outcome === 'failure' ? v.text : undefined, sent);
      } catch (err) {
        const f = classifyFailure(err);
        if (f.transient || !a.isEstablished) {
          // No response: unknown whether it was stored; it is resent on the next attempt.
          this.retryLater.set(item, f.text);
          broken ??= f.text;
        } else {
          this.fail(item, 'not sent', f.text);
        }
      } finally {
        slots.release();
      }
    };

    while (plan.queue.length > 0 && !this.stopped && !reopen && broken === undefined && a.isEstablished) {
      if (perAssociation > 0 && sentHere >= perAssociation) {
        // Not `reopen`, which would put back the instances taken but not yet sent (with a
        // limit of 1, the only one: the job would open associations forever).
        limitReached = true;
        break;
      }
      const item = plan.queue.shift()!;
      const choice = chooseContext(item, neg, this.proposal, this.peer);
      if (typeof choice === 'string') {
        this.fail(item, 'not sent', choice);
        continue;
      }
      sentHere++;
      const p = handle(item, choice).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size > cap) {
        await Promise.race(inflight);
        // The instance read ahead goes out first (its turn is a chain of promise callbacks, as
        // is this loop's): only then is the next one read, while the sent one is on the wire.
        await nextTurn();
      }
    }
    await Promise.all(inflight);
    if (putBack) plan.queue.sort((x, y) => x.index - y.index);
    this.active.delete(a);
    if (broken !== undefined || !a.isEstablished) {
      plan.lastError = broken ?? a.error?.message ?? 'association ended';
      await a.abort();
      if (this.stopped) return 'stopped';
      // Something got through, so the peer is there: go on with the rest on a new association.
      // A refusal to retry later (A7xx, retryJob) waits for the next attempt instead.
      return completed > 0 && !refused ? 'broken' : 'transient';
    }
    try {
      await a.release();
      log.debug('association released', { instances: sentHere });
    } catch (err) {
      // Every response is in: the instances are done whatever happens to the release.
      log.warn('release failed', { error: (err as Error).message });
    }
    if (this.stopped) return 'stopped';
    return reopen || limitReached ? 'reopen' : 'drained';
  }

  /** Builds the request for an instance. */
  private request(item: StoreItem, sopInstanceUID = item.sopInstanceUID): CStoreRq {
    const init: ConstructorParameters<typeof CStoreRq>[0] = { AffectedSOPClassUID: item.sopClassUID, AffectedSOPInstanceUID: sopInstanceUID };
    if (this.opts.priority !== undefined) init.Priority = this.opts.priority;
    if (this.opts.moveOriginator) {
      init.MoveOriginatorApplicationEntityTitle = this.opts.moveOriginator.aeTitle;
      init.MoveOriginatorMessageID = this.opts.moveOriginator.messageId;
    }
    return new CStoreRq(init);
  }

  /** Sends one instance on its context; resolves with the C-STORE response. */
  private async sendOne(a: Association, item: StoreItem, choice: ContextChoice, data: Prepared) {
    let answered = false;
    try {
      const rsp = await a.sendRequest(this.request(item, data.sopInstanceUID), { presentationContextId: choice.pc.id, dataset: data.dataset });
      answered = true;
      return rsp;
    } finally {
      // The data set's buffer is reused only when nothing of it can still be waiting to be written.
      data.close(answered && a.outputFlushed);
    }
  }

  // ------------------------------------------------------------------ results

  private finish(item: StoreItem, outcome: FileOutcome, error: string | undefined, bytes: number): void {
    const r = this.results[item.index]!;
    r.outcome = outcome;
    r.error = error;
    this.bytes += bytes;
    this.done++;
    if (outcome === 'failure') this.log.warn('instance failed', { file: item.path, sopInstanceUID: item.sopInstanceUID, status: r.statusText, error });
    else this.log.debug('instance stored', { file: item.path, status: r.statusText });
    this.onProgress?.({ kind: 'file', result: r, done: this.done, total: this.total, bytes: this.bytes });
  }

  private fail(item: StoreItem, statusText: string, error: string): void {
    const r = this.results[item.index]!;
    if (r.status === undefined) r.statusText = statusText;
    this.finish(item, 'failure', error, 0);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
