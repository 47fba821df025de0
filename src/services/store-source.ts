/**
 * The bytes of one C-STORE data set (PS3.7 9.3.1.1): the file's own data set from its offset,
 * read in one go when small and streamed with back-pressure when not, or the data set
 * re-encoded into another uncompressed transfer syntax (PS3.5 7, SEND-021).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { DatasetSource } from '../net/index.js';
import { readDicomFile } from '../dicom/part10.js';
import { encodeDataset } from '../dicom/write.js';
import { transferSyntax } from '../dicom/dictionary/index.js';
import type { Logger } from '../node/log.js';
import { tsName, type ContextChoice, type StoreItem } from './store-plan.js';

/** Chunk size of a streamed data set. */
const CHUNK = 256 * 1024;
/**
 * Data sets up to this size are read in one go, while the bytes so held by the job stay
 * within WHOLE_BUDGET (the read-ahead of every association included); the others are streamed.
 * One read instead of a stream: one round trip to the thread pool per instance instead of one
 * per chunk, no stream machinery (a CT slice of 0.5 MB was three reads and a Readable).
 */
const WHOLE = 4 * 1024 * 1024;
const WHOLE_BUDGET = 64 * 1024 * 1024;
let wholeHeld = 0;

/**
 * Data set buffers of whole reads, recycled (most files of a series have the same size): a
 * fresh 0.5 MB buffer per CT slice cost more in garbage collection than the read itself.
 * A buffer is given back only when the caller knows every byte of it was written out.
 */
const spare = new Map<number, Buffer[]>();
const SPARE_PER_SIZE = 4;
function takeBuffer(n: number): Buffer {
  const b = spare.get(n)?.pop();
  return b ?? Buffer.allocUnsafe(n);
}
function giveBack(b: Buffer): void {
  if (b.length <= CHUNK) return; // small ones come from the allocator's pool anyway
  let list = spare.get(b.length);
  if (!list) {
    if (spare.size >= 8) spare.clear();
    spare.set(b.length, (list = []));
  }
  if (list.length < SPARE_PER_SIZE) list.push(b);
}

export interface Prepared {
  dataset: DatasetSource;
  /** Releases the data set; `reusable`: its bytes were all written out, its buffer may be reused. */
  close: (reusable?: boolean) => void;
  /** Data set bytes sent (known once sent, for a converted data set). */
  bytes: () => number;
  /** The SOP Instance UID of the data set sent, when lossy compression gave it a new one (SEND-021). */
  sopInstanceUID?: string;
}

/**
 * Opens the data set of an instance for sending: the file's bytes from the data set offset,
 * or the data set re-encoded into another uncompressed syntax. Throws when the file cannot
 * be read (before anything is sent, so that only this instance fails).
 */
export async function openDataset(item: StoreItem, choice: ContextChoice, log: Logger): Promise<Prepared> {
  if (!choice.convert) {
    const n = item.datasetBytes;
    if (n <= WHOLE && n % 2 === 0 && (n <= CHUNK || wholeHeld + n <= WHOLE_BUDGET)) {
      // One synchronous open, read and close (like the header scan): for a file in the page
      // cache that is a memory copy of ~0.1 ms, half the time and a fraction of the CPU of
      // three thread-pool round trips, and it runs while the previous instance is on the wire.
      const held = n > CHUNK ? n : 0;
      wholeHeld += held;
      let released = false;
      const buf = takeBuffer(n);
      const release = (reusable?: boolean): void => {
        if (released) return;
        wholeHeld -= held;
        released = true;
        if (reusable) giveBack(buf);
      };
      let fd: number | undefined;
      try {
        fd = openSync(item.path, 'r');
        let got = 0;
        while (got < buf.length) {
          const bytesRead = readSync(fd, buf, got, buf.length - got, item.datasetOffset + got);
          if (bytesRead === 0) throw new Error(`file shrank to ${item.datasetOffset + got} bytes since it was scanned`);
          got += bytesRead;
        }
        return { dataset: buf, close: release, bytes: () => buf.length };
      } catch (err) {
        release(true);
        throw err;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
    // Opened before sending, so that a vanished file fails this instance, not the association.
    const fh = await open(item.path, 'r');
    const stream = fh.createReadStream({ start: item.datasetOffset, highWaterMark: CHUNK });
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
  let ds = file.dataset;
  let sopInstanceUID: string | undefined;
  if (t.encapsulated || transferSyntax(item.transferSyntaxUID)?.encapsulated) {
    // Pixel data change syntax (SEND-021): decoded and re-encoded frame by frame; private
    // attributes are carried over untouched (SEND-023). A failure fails this instance only.
    try {
      // Loaded here, not at start-up: only a job that changes pixel data's syntax needs the codecs.
      const { transcode } = await import('../pixels/transcode.js');
      const r = await transcode(ds, item.transferSyntaxUID, t.uid, { allowLossy: choice.allowLossy ?? false });
      ds = r.dataset;
      sopInstanceUID = r.newSopInstanceUID;
      if (r.lossy) log.info('lossy compression', { file: item.path, to: t.name, ratio: r.ratio?.toFixed(2), sopInstanceUID });
    } catch (err) {
      file.source.close();
      throw err;
    }
  }
  const chunks = encodeDataset(ds, { explicitVR: t.explicitVR, littleEndian: t.littleEndian });
  let n = 0;
  const dataset = (function* () {
    for (const c of chunks) {
      n += c.length;
      yield c;
    }
  })();
  log.debug('converting', { file: item.path, from: tsName(item.transferSyntaxUID), to: tsName(choice.transferSyntax) });
  return { dataset, close: () => file.source.close(), bytes: () => n, sopInstanceUID };
}
