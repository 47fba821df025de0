/**
 * The requestor's view of one DIMSE operation (PS3.7 9.1, 10.1): the request has been or is
 * being sent; responses arrive matched by MessageIDBeingRespondedTo. Await it for the final
 * response, or iterate it for every response (C-FIND, C-GET, C-MOVE send Pending ones first).
 *
 *   const rsp = await assoc.sendRequest(new CStoreRq({...}), { dataset: fs.createReadStream(f) });
 *   for await (const r of assoc.sendRequest(new CFindRq({...}), { dataset: identifier })) { ... }
 */
import { isPending } from './status.js';
import type { DimseResponse } from './messages.js';

export class DimseOperation<T extends DimseResponse = DimseResponse> implements PromiseLike<T>, AsyncIterable<T> {
  /** MessageID of the request, set once it is sent. */
  messageId: number | undefined;
  /** Number of responses received so far. */
  responses = 0;
  private readonly final: Promise<T>;
  private resolveFinal!: (r: T) => void;
  private rejectFinal!: (e: Error) => void;
  private readonly queue: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | undefined;
  private done = false;
  private error: Error | undefined;
  private awaitedOnly = false;
  private iterating = false;

  constructor(private readonly onCancel?: (op: DimseOperation<T>) => Promise<void>) {
    this.final = new Promise<T>((res, rej) => {
      this.resolveFinal = res;
      this.rejectFinal = rej;
    });
    // The caller may only iterate; a failure then must not become an unhandled rejection.
    this.final.catch(() => undefined);
  }

  /** True once the final response arrived or the operation failed. */
  get settled(): boolean {
    return this.done;
  }

  /** @internal Called by the association for each response. */
  deliver(rsp: T): void {
    if (this.done) return;
    this.responses++;
    const last = !isPending(rsp.Status);
    // When the caller only awaits the final response, pending ones are not kept (memory bound).
    if (!this.awaitedOnly || this.iterating) this.enqueue(rsp);
    if (last) {
      this.done = true;
      this.resolveFinal(rsp);
      this.wake();
    }
  }

  /** @internal The operation cannot complete (abort, timeout, send failure). */
  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    this.rejectFinal(err);
    this.wake();
  }

  /** Sends C-CANCEL-RQ for this operation (PS3.7 9.3.2.3); responses keep coming until the final one. */
  cancel(): Promise<void> {
    if (this.done || !this.onCancel) return Promise.resolve();
    return this.onCancel(this);
  }

  then<A = T, B = never>(onfulfilled?: ((value: T) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    if (!this.iterating) this.awaitedOnly = true;
    return this.final.then(onfulfilled, onrejected);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    this.iterating = true;
    return {
      next: () => {
        const v = this.queue.shift();
        if (v) return Promise.resolve({ value: v, done: false });
        if (this.error) return Promise.reject(this.error);
        if (this.done) return Promise.resolve({ value: undefined as never, done: true });
        return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
      },
      return: async () => {
        this.iterating = false;
        this.queue.length = 0;
        return { value: undefined as never, done: true };
      },
    };
  }

  private enqueue(rsp: T): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: rsp, done: false });
    } else {
      this.queue.push(rsp);
    }
  }

  private wake(): void {
    if (!this.waiter) return;
    const w = this.waiter;
    this.waiter = undefined;
    if (this.error) w.reject(this.error);
    else w.resolve({ value: undefined as never, done: true });
  }
}
