/**
 * The peer's requests on one association: dispatched to the registered handler of their
 * service, concurrently up to the negotiated window (PS3.7 D.3.3.3), the rest queued; C-CANCEL
 * aborts the handler's signal (PS3.7 9.3.2.3). The handler's return value becomes the
 * response(s); a throw becomes 0110H (processing failure) with the message as ErrorComment.
 */
import type { NegotiatedContext } from '../negotiation.js';
import type { DatasetStream } from './dataset-stream.js';
import { buildResponse, isAsyncIterable, type Handlers, type Reply, type RequestContext } from './handlers.js';
import type { AnyRequest, DimseMessage } from './messages.js';
import type { DatasetSource } from './sender.js';
import { Status, isPending } from './status.js';

export interface IncomingHost {
  readonly association: RequestContext['association'];
  handlers(): Handlers;
  /** Negotiated number of the peer's requests we perform at once; 0 = unlimited. */
  maxIncoming(): number;
  context(pcId: number): NegotiatedContext;
  send(pcId: number, msg: DimseMessage, dataset?: DatasetSource): Promise<void>;
  canSend(): boolean;
  handlerError(err: unknown, rq: AnyRequest): void;
  /** Called whenever the last handler finished (a pending release may be answered). */
  idle(): void;
}

const noop = (): void => undefined;

/** The services a C-CANCEL can reach (PS3.7 9.1.2.1, 9.1.3.1, 9.1.4.1: C-FIND, C-GET, C-MOVE). */
const CANCELABLE = new Set(['C-FIND', 'C-GET', 'C-MOVE']);

export class IncomingRequests {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private readonly controllers = new Map<number, AbortController>();
  /**
   * The signal of every request no C-CANCEL can reach (C-STORE, C-ECHO, the N- services): only
   * the association's end aborts it, so one serves them all, rather than a controller per
   * C-STORE (~10-30 us each, the most of any single step of the DIMSE layer per instance).
   */
  private readonly shared = new AbortController();

  constructor(private readonly host: IncomingHost) {}

  get isIdle(): boolean {
    return this.active === 0 && this.queue.length === 0;
  }

  request(rq: AnyRequest, pcId: number, ds: DatasetStream | undefined): void {
    const run = (): void => void this.run(rq, pcId, ds);
    const max = this.host.maxIncoming();
    if (max === 0 || this.active < max) {
      this.active++;
      run();
    } else {
      this.queue.push(run);
    }
  }

  cancel(messageId: number): void {
    this.controllers.get(messageId)?.abort();
  }

  abortAll(err: Error): void {
    for (const c of this.controllers.values()) c.abort(err);
    this.shared.abort(err);
  }

  private async run(rq: AnyRequest, pcId: number, ds: DatasetStream | undefined): Promise<void> {
    const cancelable = CANCELABLE.has(rq.service);
    const controller = cancelable ? new AbortController() : this.shared;
    if (cancelable) this.controllers.set(rq.MessageID, controller);
    const ctx: RequestContext = { association: this.host.association, dataset: ds, presentationContext: this.host.context(pcId), signal: controller.signal };
    try {
      const handler = (this.host.handlers() as Record<string, (r: unknown, c: RequestContext) => unknown>)[rq.service];
      // Verification needs no handler; other services without one are unrecognized (0211H).
      const result = handler ? handler(rq, ctx) : rq.service === 'C-ECHO' ? Status.Success : { Status: Status.UnrecognizedOperation, ErrorComment: `${rq.service} not supported` };
      if (isAsyncIterable(result)) {
        let last: number | undefined;
        for await (const reply of result as AsyncIterable<Reply>) {
          await drainDataset(ds);
          const { rsp, dataset } = buildResponse(rq, reply);
          await this.host.send(pcId, rsp, dataset);
          last = rsp.Status;
        }
        if (last === undefined || isPending(last)) await this.host.send(pcId, buildResponse(rq, controller.signal.aborted ? Status.Cancel : Status.Success).rsp);
      } else {
        const reply = (await result) as Reply;
        // The response follows the whole request (PS3.7 8.1): unread data is discarded first.
        await drainDataset(ds);
        const { rsp, dataset } = buildResponse(rq, reply);
        await this.host.send(pcId, rsp, dataset);
      }
    } catch (err) {
      this.host.handlerError(err, rq);
      if (this.host.canSend()) {
        await drainDataset(ds);
        const comment = (err as Error)?.message ?? String(err);
        await this.host.send(pcId, buildResponse(rq, { Status: Status.ProcessingFailure, ErrorComment: comment }).rsp).catch(noop);
      }
    } finally {
      void drainDataset(ds);
      if (cancelable) this.controllers.delete(rq.MessageID);
      this.active--;
      const next = this.queue.shift();
      if (next) {
        this.active++;
        next();
      }
      if (this.isIdle) this.host.idle();
    }
  }
}

/** Reads and discards what is left of a data set the handler did not consume. */
export function drainDataset(ds: DatasetStream | undefined): Promise<void> {
  if (!ds || ds.readableEnded || ds.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    ds.once('end', resolve);
    ds.once('close', resolve);
    ds.once('error', () => resolve());
    ds.resume();
  });
}
