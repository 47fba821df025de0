/**
 * PDU tracing for `tracer serve --verbose`: follows the PDU headers (PS3.8 9.3.1: type, one
 * reserved byte, 32-bit big-endian length) in the bytes going each way on a transport and
 * reports each PDU's type and length. It only watches: nothing is buffered but a 6-byte header.
 */
import type { Duplex } from 'node:stream';
import { observeReads } from '../net/transport.js';

export const PDU_NAMES: Record<number, string> = {
  0x01: 'A-ASSOCIATE-RQ',
  0x02: 'A-ASSOCIATE-AC',
  0x03: 'A-ASSOCIATE-RJ',
  0x04: 'P-DATA-TF',
  0x05: 'A-RELEASE-RQ',
  0x06: 'A-RELEASE-RP',
  0x07: 'A-ABORT',
};

/** Splits a byte stream into PDUs by their headers; calls `onPdu` at each header. */
export class PduHeaderTracker {
  private header = Buffer.alloc(6);
  private have = 0;
  private skip = 0;

  constructor(private readonly onPdu: (type: number, length: number) => void) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(6 - this.have, chunk.length - i);
      chunk.copy(this.header, this.have, i, i + n);
      this.have += n;
      i += n;
      if (this.have === 6) {
        this.have = 0;
        const len = this.header.readUInt32BE(2);
        this.skip = len;
        this.onPdu(this.header[0]!, len);
      }
    }
  }
}

/** Reports every PDU received and sent on `socket`. Install before any byte flows. */
export function tracePdus(socket: Duplex, report: (direction: 'received' | 'sent', type: string, length: number) => void): void {
  const inbound = new PduHeaderTracker((t, l) => report('received', PDU_NAMES[t] ?? `unknown type 0x${t.toString(16)}`, l));
  const outbound = new PduHeaderTracker((t, l) => report('sent', PDU_NAMES[t] ?? `unknown type 0x${t.toString(16)}`, l));
  observeReads(socket, (c) => inbound.push(c));
  const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk)) outbound.push(chunk);
    else if (chunk instanceof Uint8Array) outbound.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    return write(chunk, ...rest);
  }) as Duplex['write'];
}
