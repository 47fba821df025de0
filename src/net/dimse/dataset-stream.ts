/**
 * The data set of a received DIMSE message as a byte stream (PS3.7 6.3.1: bytes in the
 * presentation context's transfer syntax). Chunks are views of the socket's buffers; when the
 * consumer falls behind, the association stops reading the socket (back-pressure) until the
 * consumer asks for more, so a C-STORE handler can pipe a data set of any size to a file.
 */
import { Readable } from 'node:stream';

export class DatasetStream extends Readable {
  /** Bytes pushed so far. */
  received = 0;
  private onDemand: (() => void) | undefined;

  constructor(
    /** Presentation context ID and transfer syntax the bytes are encoded in. */
    readonly presentationContextId: number,
    readonly transferSyntax: string,
    /** Chunks buffered before the socket is paused. Object mode: chunks are passed on as they
     * came (views, never concatenated into a copy); each is at most one PDV of our Maximum Length. */
    highWaterMark = 32,
  ) {
    super({ objectMode: true, highWaterMark });
  }

  /** Called by the association; returns false when the consumer wants no more for now. */
  pushChunk(chunk: Buffer): boolean {
    this.received += chunk.length;
    return this.push(chunk);
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
