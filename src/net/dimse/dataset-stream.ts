/**
 * The data set of a received DIMSE message as a byte stream (PS3.7 6.3.1: bytes in the
 * presentation context's transfer syntax). When the consumer falls behind, the association
 * stops reading the socket (back-pressure) until the consumer asks for more, so a C-STORE
 * handler can pipe a data set of any size to a file.
 *
 * Two ways to consume it. As a Readable (or async iterable), each chunk is a copy of what the
 * socket delivered: the socket's read buffer is reused (src/net/transport.ts). With consume(),
 * each chunk is handed over synchronously as it arrives, a view valid only during the call,
 * and never copied here: a consumer that writes the bytes out (a C-STORE into a file) copies
 * them once, into its own write buffer.
 */
import { copyBytes } from '../../dicom/bytes.js';
import { asError } from '../../dicom/errors.js';
import { Readable } from 'node:stream';

/** Takes a chunk of the data set; it is valid only during the call. */
export type ChunkConsumer = (chunk: Buffer) => void;

export class DatasetStream extends Readable {
  /** Bytes pushed so far. */
  received = 0;
  private onDemand: (() => void) | undefined;
  /** The last fragment has arrived (finish()). */
  private ended = false;
  /** The synchronous consumer of consume(), with the settling of its promise. */
  private consumer: { take: ChunkConsumer; resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(
    /** Presentation context ID and transfer syntax the bytes are encoded in. */
    readonly presentationContextId: number,
    readonly transferSyntax: string,
    /** Chunks buffered before the socket is paused. Object mode: each chunk is a copy of one
     * PDV's piece of a read, never concatenated with others; at most our Maximum Length. */
    highWaterMark = 32,
  ) {
    super({ objectMode: true, highWaterMark });
  }

  /**
   * Called by the association with a chunk valid only during the call; returns false when the
   * consumer wants no more for now.
   */
  pushChunk(chunk: Buffer): boolean {
    this.received += chunk.length;
    const c = this.consumer;
    if (!c) return this.push(copyBytes(chunk));
    try {
      c.take(chunk);
    } catch (err) {
      // The consumer failed (a write error): the rest of the data set is dropped.
      this.destroy(asError(err));
    }
    return true;
  }

  /** Called by the association after the last fragment. */
  finish(): void {
    if (this.destroyed) return;
    const c = this.consumer;
    this.ended = true;
    this.push(null);
    if (c) {
      this.consumer = undefined;
      // Flowing with nothing buffered: 'end' and then 'close' are emitted.
      this.resume();
      c.resolve();
    }
  }

  /**
   * Hands every chunk to `take` synchronously as it arrives, instead of through the stream;
   * chunks buffered before the call first. Resolves after the last chunk; rejects when the data
   * set fails (the association ended) or when `take` throws (with what it threw). Call at most
   * once, and not together with reading the stream.
   */
  consume(take: ChunkConsumer): Promise<void> {
    if (this.consumer) return Promise.reject(new Error('data set already being consumed'));
    if (this.errored) return Promise.reject(this.errored);
    if (this.destroyed) return Promise.reject(new Error('data set stream destroyed'));
    // The promise carries the stream's error: no 'error' event may go unheard.
    this.on('error', () => undefined);
    return new Promise<void>((resolve, reject) => {
      // What arrived before (copies, from the stream's buffer).
      let c: Buffer | null;
      while ((c = this.read() as Buffer | null) !== null) {
        try {
          take(c);
        } catch (err) {
          const e = asError(err);
          this.destroy(e);
          return reject(e);
        }
      }
      if (this.ended) {
        this.resume();
        return resolve();
      }
      this.consumer = { take, resolve, reject };
      // The socket may have been paused while chunks waited: reading may go on.
      this.onDemand?.();
    });
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    const c = this.consumer;
    this.consumer = undefined;
    c?.reject(err ?? new Error('data set stream destroyed'));
    cb(err);
  }

  /** Registers the callback run when the consumer wants data again (resumes the socket). */
  setDemandListener(fn: () => void): void {
    this.onDemand = fn;
  }

  override _read(): void {
    this.onDemand?.();
  }

  /** Collects the whole data set; for identifiers and other small data sets only. */
  async toBuffer(limit = 64 * 1024 * 1024): Promise<Buffer> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of this as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > limit) {
        this.destroy();
        throw new RangeError(`data set larger than ${limit} bytes`);
      }
      parts.push(c);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }
}
