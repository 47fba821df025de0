/**
 * Our outstanding requests on one association (PS3.7 9.1, 10.1, D.3.3.3): message IDs, the
 * asynchronous operations window (requests beyond it wait for a slot), response matching by
 * MessageIDBeingRespondedTo, and the DIMSE response timer.
 */
import { AssociationStateError } from '../errors.js';
import type { DatasetStream } from './dataset-stream.js';
import type { DimseResponse } from './messages.js';
import type { DimseOperation } from './operation.js';
import { isPending } from './status.js';

interface Entry {
  op: DimseOperation<DimseResponse>;
  pcId: number;
  timeout: number;
  timer?: NodeJS.Timeout;
  /** Responses of one operation are delivered in order even when a data set must be collected. */
  chain: Promise<void>;
}

export interface OutgoingHost {
  /** Negotiated limit of our outstanding requests; 0 = unlimited. */
  maxOutgoing(): number;
  /** A response timer expired: the association aborts (ASSOC-021). */
  timedOut(messageId: number, ms: number): void;
  /** A response for no outstanding request (logged by the association). */
  stray(rsp: DimseResponse): void;
  maxResponseDataset: number;
}

export class OutgoingOperations {
  private readonly entries = new Map<number, Entry>();
  private waiting: (() => void)[] = [];
  private active = 0;
  private nextId = 1;
  private settledWaiters: (() => void)[] = [];

  constructor(private readonly host: OutgoingHost) {}

  get size(): number {
    return this.entries.size;
  }

  pcIdOf(messageId: number): number | undefined {
    return this.entries.get(messageId)?.pcId;
  }

  /** Waits for a slot in the window (PS3.7 D.3.3.3). */
  acquire(): Promise<void> {
    const max = this.host.maxOutgoing();
    if (max === 0 || this.active < max) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((r) =>
      this.waiting.push(() => {
        this.active++;
        r();
      }),
    );
  }

  release(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  /** Registers a request about to be sent; returns its MessageID. */
  register(op: DimseOperation<DimseResponse>, pcId: number, timeout: number, messageId?: number): number {
    const id = messageId ?? this.allocate();
    op.messageId = id;
    this.entries.set(id, { op, pcId, timeout, chain: Promise.resolve() });
    return id;
  }

  private allocate(): number {
    for (let i = 0; i < 65535; i++) {
      const id = this.nextId;
      this.nextId = id >= 65535 ? 1 : id + 1;
      if (!this.entries.has(id)) return id;
    }
    throw new AssociationStateError('no free message ID');
  }

  /** The request is on the wire: the response timer starts. */
  sent(messageId: number): void {
    const e = this.entries.get(messageId);
    if (e && !e.op.settled) this.arm(messageId, e);
  }

  /** The operation is over (final response or failure): frees its ID and slot. */
  complete(messageId: number): void {
    const e = this.entries.get(messageId);
    if (!e) return;
    if (e.timer) clearTimeout(e.timer);
    this.entries.delete(messageId);
    this.release();
    for (const w of this.settledWaiters.splice(0)) w();
  }

  /** Resolves when any operation completes. */
  nextSettled(): Promise<void> {
    return new Promise((r) => this.settledWaiters.push(r));
  }

  private arm(id: number, e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    if (e.timeout <= 0) return;
    e.timer = setTimeout(() => this.host.timedOut(id, e.timeout), e.timeout);
    e.timer.unref?.();
  }

  /** A response arrived; its data set (identifier) is collected before delivery. */
  response(rsp: DimseResponse, ds: DatasetStream | undefined): void {
    const id = rsp.MessageIDBeingRespondedTo;
    const e = this.entries.get(id);
    if (!e) {
      this.host.stray(rsp);
      ds?.resume();
      return;
    }
    if (isPending(rsp.Status)) this.arm(id, e);
    else if (e.timer) clearTimeout(e.timer);
    e.chain = e.chain
      .then(async () => {
        if (ds) rsp.dataset = await ds.toBuffer(this.host.maxResponseDataset);
        e.op.deliver(rsp);
        if (e.op.settled) this.complete(id);
      })
      .catch((err: Error) => {
        e.op.fail(err);
        this.complete(id);
      });
  }

  /** The association ended: every outstanding operation fails with `err`. */
  failAll(err: Error): void {
    for (const [, e] of this.entries) {
      if (e.timer) clearTimeout(e.timer);
      e.op.fail(err);
    }
    this.entries.clear();
    for (const w of this.waiting.splice(0)) w();
    for (const w of this.settledWaiters.splice(0)) w();
  }
}
