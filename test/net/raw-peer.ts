/** A scripted peer for state machine tests: sends exact bytes, reads whole PDUs back. */
import net from 'node:net';
import { encodePdu, type Pdu } from '../../src/net/index.js';

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export class RawPeer {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    this.closedPromise = new Promise((r) =>
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        r();
      }),
    );
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  static wrap(s: net.Socket): RawPeer {
    return new RawPeer(s);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(b: Buffer | Pdu): void {
    this.socket.write(Buffer.isBuffer(b) ? b : encodePdu(b));
  }

  /** Next whole PDU (header included), or undefined when the connection closes first. */
  async readPdu(timeoutMs = 3000): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 6) {
        const len = this.buf.readUInt32BE(2) + 6;
        if (this.buf.length >= len) {
          const p = this.buf.subarray(0, len);
          this.buf = this.buf.subarray(len);
          return Buffer.from(p);
        }
      }
      if (this.closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no PDU within ${timeoutMs} ms (have ${this.buf.toString('hex')})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Resolves true if the other side closed within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    if (this.closed) return true;
    return Promise.race([this.closedPromise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
