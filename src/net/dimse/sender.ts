/**
 * Sending one DIMSE message (PS3.7 8.1, PS3.8 9.3.5 and Annex E): the command set, then the
 * data set, each cut into PDV fragments that fit the peer's Maximum Length. One PDV per
 * P-DATA-TF PDU. The data set comes from any async iterable of Buffers (a file stream, a
 * Buffer) and is never collected: fragments are views of the source chunks, written with their
 * 12 header bytes in one gathered write, and the socket's back-pressure is respected.
 */
import { pDataHeaders } from '../pdu.js';

/** Data set bytes to send: one Buffer, or a stream/iterable of chunks (e.g. fs.createReadStream). */
export type DatasetSource = Buffer | Uint8Array | AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>;

export interface PDataWriter {
  /** Largest data per PDV: the peer's Maximum Length minus the 6 bytes of PDV header. */
  readonly maxFragment: number;
  /** Writes complete P-DATA-TF PDUs (header and data parts); false when the socket is full. */
  write(parts: Buffer[]): boolean;
  /** Resolves when the socket can take more; rejects when the association ended. */
  drained(): Promise<void>;
}

/** Message control header bits (PS3.8 E.2). */
const COMMAND = 0x01;
const LAST = 0x02;

/** Gathers several small PDUs into one write, up to this many bytes. */
const BATCH_BYTES = 256 * 1024;

class Batcher {
  private parts: Buffer[] = [];
  private bytes = 0;
  constructor(private readonly w: PDataWriter) {}

  async add(pcId: number, mch: number, data: Buffer[], length: number): Promise<void> {
    this.parts.push(pDataHeaders(length, pcId, mch), ...data);
    this.bytes += 12 + length;
    if (this.bytes >= BATCH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const parts = this.parts;
    this.parts = [];
    this.bytes = 0;
    if (!this.w.write(parts)) await this.w.drained();
  }
}

function asBuffer(c: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/** Sends a command set (already encoded) and, when given, its data set on context `pcId`. */
export async function sendMessage(w: PDataWriter, pcId: number, command: Buffer, dataset?: DatasetSource): Promise<void> {
  const max = w.maxFragment;
  const b = new Batcher(w);
  // Command fragments (PS3.8 E.2: bit 0 set; bit 1 on the last).
  for (let off = 0; off < command.length || off === 0; off += max) {
    const end = Math.min(command.length, off + max);
    await b.add(pcId, COMMAND | (end === command.length ? LAST : 0), [command.subarray(off, end)], end - off);
    if (end === command.length) break;
  }
  if (dataset === undefined) return b.flush();

  if (Buffer.isBuffer(dataset) || dataset instanceof Uint8Array) {
    const d = asBuffer(dataset);
    let off = 0;
    do {
      const end = Math.min(d.length, off + max);
      await b.add(pcId, end === d.length ? LAST : 0, [d.subarray(off, end)], end - off);
      off = end;
    } while (off < d.length);
    return b.flush();
  }

  // Streamed data set: hold back up to one fragment so the last one can carry the LAST bit.
  const queue: Buffer[] = [];
  let queued = 0;
  const take = (n: number): Buffer[] => {
    const out: Buffer[] = [];
    while (n > 0) {
      const head = queue[0]!;
      if (head.length <= n) {
        out.push(head);
        queue.shift();
        n -= head.length;
        queued -= head.length;
      } else {
        out.push(head.subarray(0, n));
        queue[0] = head.subarray(n);
        queued -= n;
        n = 0;
      }
    }
    return out;
  };
  for await (const raw of dataset as AsyncIterable<Buffer | Uint8Array>) {
    if (raw.length === 0) continue;
    queue.push(asBuffer(raw));
    queued += raw.length;
    while (queued > max) await b.add(pcId, 0, take(max), max);
  }
  const rest = queued;
  await b.add(pcId, LAST, take(rest), rest);
  await b.flush();
}
