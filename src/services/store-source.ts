/**
 * The bytes of one C-STORE data set (PS3.7 9.3.1.1): the file's own data set from its offset,
 * read in one go when small and streamed with back-pressure when not, or the data set
 * re-encoded into another uncompressed transfer syntax (PS3.5 7, SEND-021).
 */
import { open } from 'node:fs/promises';
import type { DatasetSource } from '../net/index.js';
import { readDicomFile } from '../dicom/part10.js';
import { encodeDataset } from '../dicom/write.js';
import { transferSyntax } from '../dicom/dictionary/index.js';
import type { Logger } from '../node/log.js';
import { tsName, type ContextChoice, type StoreItem } from './store-plan.js';

/** Data sets up to this size are read in one go; larger ones are streamed in chunks of this size. */
const SMALL = 256 * 1024;

export interface Prepared {
  dataset: DatasetSource;
  close: () => void;
  /** Data set bytes sent (known once sent, for a converted data set). */
  bytes: () => number;
}

/**
 * Opens the data set of an instance for sending: the file's bytes from the data set offset,
 * or the data set re-encoded into another uncompressed syntax. Throws when the file cannot
 * be read (before anything is sent, so that only this instance fails).
 */
export async function openDataset(item: StoreItem, choice: ContextChoice, log: Logger): Promise<Prepared> {
  if (!choice.convert) {
    // Opened before sending, so that a vanished file fails this instance, not the association.
    const fh = await open(item.path, 'r');
    if (item.datasetBytes <= SMALL && item.datasetBytes % 2 === 0) {
      // A small data set is one read (as one chunk of the stream would be): fewer round trips to the thread pool.
      try {
        const buf = Buffer.allocUnsafe(item.datasetBytes);
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await fh.read(buf, got, buf.length - got, item.datasetOffset + got);
          if (bytesRead === 0) throw new Error(`file shrank to ${item.datasetOffset + got} bytes since it was scanned`);
          got += bytesRead;
        }
        return { dataset: buf, close: () => undefined, bytes: () => buf.length };
      } finally {
        await fh.close();
      }
    }
    const stream = fh.createReadStream({ start: item.datasetOffset, highWaterMark: SMALL });
    const close = (): void => void fh.close().catch(() => undefined);
    if (item.datasetBytes % 2 === 1 && transferSyntax(item.transferSyntaxUID)?.deflated) {
      // PS3.5 A.5: a deflated bit stream of odd length is padded with one trailing 00H;
      // some writers omit it, and peers refuse odd PDV lengths (DCMTK: "Odd Fragment Length").
      const padded = (async function* () {
        yield* stream;
        yield Buffer.alloc(1);
      })();
      return { dataset: padded, close, bytes: () => item.datasetBytes + 1 };
    }
    return { dataset: stream, close, bytes: () => item.datasetBytes };
  }
  // SEND-021: re-encoded between uncompressed syntaxes (PS3.5 7, 8); the header is parsed
  // now, bulk values are read from disk as the writer reaches them.
  const file = readDicomFile(item.path);
  const t = transferSyntax(choice.transferSyntax)!;
  const chunks = encodeDataset(file.dataset, { explicitVR: t.explicitVR, littleEndian: t.littleEndian });
  let n = 0;
  const dataset = (function* () {
    for (const c of chunks) {
      n += c.length;
      yield c;
    }
  })();
  log.debug('converting', { file: item.path, from: tsName(item.transferSyntaxUID), to: tsName(choice.transferSyntax) });
  return { dataset, close: () => file.source.close(), bytes: () => n };
}

/** A counting semaphore for the window of outstanding operations. */
export class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
