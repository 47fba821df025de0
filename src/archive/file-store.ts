/**
 * The filesystem store of received instances (REQUIREMENTS 2.3, 5.2): the StorageSink of the
 * Storage SCP until the archive (index, duplicate policies, quarantine) replaces it.
 *
 * Each data set streams straight into a temporary file under `<root>/.incoming/`, behind a File
 * Meta Information header written first (PS3.10 7.1): the bytes are kept exactly as received,
 * never re-encoded (STOR-010, STOR-012 `asReceived`). The file's fsync then starts, and runs
 * while the header is parsed (from a copy of the first bytes written, the file read only beyond
 * them; bulk values are only located, never read) and checked; on commit, once the fsync is
 * done, the file is renamed into
 * `<root>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm` (store.fileNaming) and the directory
 * fsynced, so that a success status is only sent for a durable file (STOR-014). A
 * crash or an aborted association leaves at most a temporary file, removed at the next start.
 * Duplicates are overwritten atomically (rename over the old file) until the archive brings
 * storage.duplicatePolicy (STOR-040).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsync, mkdirSync, openSync, renameSync, writevSync } from 'node:fs';
import { mkdir, readdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { createInflateRaw } from 'node:zlib';
import { copyBytes } from '../dicom/bytes.js';
import { Dataset } from '../dicom/dataset.js';
import { transferSyntax } from '../dicom/dictionary/index.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/implementation.js';
import { encodingOf } from '../dicom/part10.js';
import { readDataset } from '../dicom/read.js';
import { BufferSource, FIRST_WINDOW, FileSource, PrefixedFileSource, type ByteSource } from '../dicom/source.js';
import { PixelDataTag } from '../dicom/tag.js';
import { StoreFailure, isValidUid, type ReceivedInstance, type StorageSink, type StoreRequest } from '../services/storage-scp.js';

/** A received instance of the file store: the archive's ingest path works on its temporary file. */
export interface FileStoreInstance extends ReceivedInstance {
  /**
   * The complete temporary file (under .incoming) until commit or discard. Its fsync, started
   * by receive(), is awaited by commit(): whoever keeps the file by other means fsyncs it.
   */
  readonly tempPath: string;
  /**
   * Moves the file into place without waiting for the move to be durable: `durable` settles
   * once the directory is fsynced. The archive writes the index row meanwhile, and answers
   * only after both (STOR-014); commit() is this followed by the wait.
   */
  place(): Promise<PlacedInstance>;
}

/** A file renamed into place whose directory entry is being made durable. */
export interface PlacedInstance {
  location: string;
  replaced: boolean;
  /** Resolves once the rename is on stable storage; rejects with a StoreFailure. */
  durable: Promise<void>;
}

/**
 * File operations the store uses; tests replace them to simulate a full disk or an I/O error.
 *
 * Creating, writing (into the page cache), closing and renaming are done synchronously on the
 * main thread: each takes microseconds, whereas a round trip through libuv's thread pool costs
 * two thread hand-offs and half a dozen system calls, several times the work itself (measured:
 * 18% of the receiver's CPU and 40% of its time per C-STORE on this project's VMs). Only the
 * fsyncs, which wait for the disk, go to the thread pool.
 */
export interface FileStoreIo {
  /** Creates a new file for writing (O_CREAT | O_EXCL) and returns its descriptor. */
  create(path: string): number;
  /** Writes the buffers in order at the file position; returns the bytes written (maybe fewer). */
  writev(fd: number, bufs: Buffer[]): number;
  /** Flushes a file to stable storage (on the thread pool). */
  fsync(fd: number): Promise<void>;
  /** Free bytes available to us on the file system holding `path`. */
  freeBytes(path: string): Promise<number>;
  /** Makes a directory's entries durable (default fsyncDir). */
  syncDir?(dir: string): Promise<void>;
}

export const nodeIo: FileStoreIo = {
  create: (p) => openSync(p, 'wx', 0o644),
  writev: (fd, bufs) => writevSync(fd, bufs),
  fsync: (fd) => new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve()))),
  freeBytes: async (p) => {
    const s = await statfs(p);
    return s.bavail * s.bsize;
  },
};

export interface FileStoreOptions {
  /** store.root: the data directory. */
  root: string;
  /** storage.minFreeDiskMb: below this, C-STORE is refused with A700 before reading the data set. */
  minFreeDiskMb?: number;
  /**
   * Written to (0002,0012)/(0002,0013): the implementation identity of the called local AE
   * (ASSOC-003); default Tracer's own (src/dicom/implementation.ts).
   */
  implementation?: (rq: StoreRequest) => { classUid: string; versionName?: string };
  io?: FileStoreIo;
  /**
   * Bytes gathered before each write (default 1 MiB: a CT slice and its meta are one write).
   * Writes are synchronous, into the page cache. A data set the association hands over as it
   * arrives (DatasetStream.consume) is copied into a reused buffer of this size; any other
   * stream's chunks are gathered as they come. Memory per reception: this much.
   */
  writeBatch?: number;
  /**
   * store.fsync (default true): each file and its directory entry are fsynced before success
   * is answered. false: a success survives a killed process but not a power cut, as with
   * DCMTK's storescp or Orthanc's SyncStorageArea false.
   */
  fsync?: boolean;
  /** Deflated data sets: inflated bytes examined for the header (default 64 MiB). */
  maxDeflatedHeader?: number;
  /**
   * storage.minFreeDiskMb: how long (ms) a measure of the free space is used, less the bytes
   * received since, before the file system is asked again (default 1000; 0 = every C-STORE).
   */
  freeSpaceCacheMs?: number;
}

/** Name of the directory of partial files, under the root. */
export const INCOMING_DIR = '.incoming';

/** errno codes that mean "out of resources" (A700) rather than a fault of ours. */
const RESOURCE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG', 'EROFS', 'EMFILE', 'ENFILE', 'ENOMEM']);

function ioFailure(what: string, err: unknown): StoreFailure {
  const code = (err as NodeJS.ErrnoException)?.code;
  // The code leads: the response's Error Comment keeps only 64 characters (LO).
  const msg = code ? `${code}: ${what}` : `${what}: ${(err as Error)?.message ?? String(err)}`;
  return new StoreFailure(code && RESOURCE_ERRORS.has(code) ? 'outOfResources' : 'internal', msg, { cause: err });
}

export class FileStore implements StorageSink {
  readonly root: string;
  readonly incoming: string;
  private readonly tempPrefix = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  private tempCounter = 0;
  private readonly io: FileStoreIo;
  private readonly batch: number;
  /** The last free-space measure (admit) and the data set bytes received since. */
  private free: { at: number; bytes: number } | undefined;
  private receivedSince = 0;
  /**
   * Directories known to exist with a durable entry in their parent (made or checked by this
   * store): their mkdir and the fsync of their parent are skipped. A directory removed behind
   * our back is noticed by the rename (ENOENT), forgotten, and made again.
   */
  private readonly knownDirs = new Set<string>();
  /** Write batch buffers of finished receptions (takeBatch). */
  private readonly spareBatches: Buffer[] = [];

  constructor(private readonly opts: FileStoreOptions) {
    this.root = opts.root;
    this.incoming = join(opts.root, INCOMING_DIR);
    this.io = opts.io ?? nodeIo;
    this.batch = opts.writeBatch ?? 1024 * 1024;
  }

  /**
   * Creates the directories and removes partial files a previous run left behind (a crash or
   * a kill during a transfer); returns their names.
   */
  async open(opts: { removeStale?: boolean } = {}): Promise<string[]> {
    await mkdir(this.incoming, { recursive: true });
    // A command running beside a server (tracer import) must not remove the server's files.
    if (opts.removeStale === false) return [];
    const stale = await readdir(this.incoming);
    for (const name of stale) await rm(join(this.incoming, name), { recursive: true, force: true });
    return stale;
  }

  /** A write batch buffer of `batch` bytes, reused across C-STOREs (first touched once). */
  private takeBatch(): Buffer {
    return this.spareBatches.pop() ?? Buffer.allocUnsafe(this.batch);
  }

  private giveBackBatch(b: Buffer): void {
    if (this.spareBatches.length < MAX_SPARE_BATCHES) this.spareBatches.push(b);
  }

  private createTemp(): TempFile {
    // A random prefix per store and a counter: unique beside other processes writing here
    // (tracer import beside the server), without a call into the random source per file.
    const path = join(this.incoming, `${this.tempPrefix}-${(this.tempCounter++).toString(36)}.part`);
    try {
      return { path, fd: this.io.create(path) };
    } catch (err) {
      throw ioFailure(`cannot create ${path}`, err);
    }
  }

  /** REQUIREMENTS 5.2 storage.minFreeDiskMb: refuse before reading when the disk is nearly full. */
  async admit(_rq: StoreRequest): Promise<void> {
    const minMb = this.opts.minFreeDiskMb ?? 0;
    if (minMb <= 0) return;
    // statfs costs a round trip to the thread pool per C-STORE: a measure is used for a second,
    // less what was received since (other writers to the disk are seen within that second).
    const ttl = this.opts.freeSpaceCacheMs ?? 1000;
    const now = performance.now();
    let free: number;
    if (this.free && now - this.free.at < ttl) {
      free = this.free.bytes - this.receivedSince;
    } else {
      try {
        free = await this.io.freeBytes(this.root);
      } catch (err) {
        throw ioFailure(`cannot query free space of ${this.root}`, err);
      }
      this.free = { at: now, bytes: free };
      this.receivedSince = 0;
    }
    if (free < minMb * 1024 * 1024) {
      // Measured again next time, so that storing resumes as soon as space is freed.
      this.free = undefined;
      throw new StoreFailure('outOfResources', `free disk space ${Math.floor(free / 1048576)} MB is below storage.minFreeDiskMb ${minMb} MB`);
    }
  }

  async receive(rq: StoreRequest, dataset: AsyncIterable<Buffer>, signal: AbortSignal): Promise<FileStoreInstance> {
    const meta = this.fileMeta(rq);
    let tmp = '';
    let fd: number | undefined;
    let size = 0;
    /** The fsync of the data, started once everything is written; resolves to its error, if any. */
    let synced: Promise<unknown> | undefined;
    /** The file's first bytes, kept as they were written: the header is parsed from them. */
    let prefix: Buffer | undefined;
    const close = (): void => {
      if (fd === undefined) return;
      try {
        closeSync(fd);
      } catch {
        // Nothing to do: the file is removed or, once fsynced, already durable.
      }
      fd = undefined;
    };
    const cleanup = async (): Promise<void> => {
      await synced;
      close();
      if (tmp) await rm(tmp, { force: true }).catch(() => undefined);
    };
    try {
      ({ path: tmp, fd } = this.createTemp());
      const consumable = syncConsumable(dataset);
      if (consumable) {
        // The association's chunks, each valid only during the call (src/net/transport.ts):
        // copied into a reused batch buffer, written whenever it is full.
        const out = new BatchWriter(this.takeBatch(), (b) => {
          prefix ??= copyBytes(b, 0, Math.min(FIRST_WINDOW, b.length));
          try {
            writeFully(this.io, fd!, [b]);
          } catch (err) {
            throw ioFailure(`cannot write ${tmp}`, err);
          }
        });
        try {
          // The File Meta Information goes out with the first bytes of the data set: one write less.
          out.put(meta);
          await consumable.consume((chunk) => {
            size += chunk.length;
            out.put(chunk);
          });
          if (!signal.aborted) out.flush();
        } catch (err) {
          throw incomplete(err, size);
        } finally {
          this.giveBackBatch(out.release());
        }
      } else {
        // The File Meta Information goes out with the first bytes of the data set: one write less.
        let pending: Buffer[] = [meta];
        let pendingBytes = meta.length;
        const write = (): void => {
          try {
            writeFully(this.io, fd!, pending);
          } catch (err) {
            throw ioFailure(`cannot write ${tmp}`, err);
          }
          pending = [];
          pendingBytes = 0;
        };
        try {
          for await (const chunk of dataset) {
            size += chunk.length;
            pending.push(chunk);
            pendingBytes += chunk.length;
            if (pendingBytes >= this.batch) write();
          }
        } catch (err) {
          throw incomplete(err, size);
        }
        if (!signal.aborted && pendingBytes > 0) write();
      }
      if (signal.aborted) throw new StoreFailure('aborted', `association ended after ${size} bytes of the data set`);
      this.receivedSince += size;
      // Durable before anything is said (STOR-014): the fsync runs while the header is parsed
      // and checked; commit() waits for it before the rename (and the directory's fsync).
      synced = this.opts.fsync === false ? Promise.resolve(undefined) : this.io.fsync(fd).then(
        () => undefined,
        (err: unknown) => err ?? new Error('fsync failed'),
      );
    } catch (err) {
      await cleanup();
      throw err;
    }

    let source: ByteSource | undefined;
    let parsed: Dataset;
    try {
      const r = await this.parse(tmp, meta.length, rq.transferSyntaxUid, prefix && { bytes: prefix, fileSize: meta.length + size });
      source = r.source;
      parsed = r.dataset;
    } catch (err) {
      await cleanup();
      if (err instanceof StoreFailure) throw err;
      throw new StoreFailure('cannotUnderstand', `data set cannot be parsed: ${(err as Error).message.replace(`${tmp}: `, '')}`, { cause: err });
    }

    let done = false;
    const place = async (): Promise<PlacedInstance> => {
      if (done) throw new Error('instance already committed or discarded');
      done = true;
      source?.close();
      try {
        const fileDurable = synced!.then((syncError) => {
          if (syncError) throw ioFailure(`cannot write ${tmp}`, syncError);
          close();
        });
        return await this.place(tmp, parsed, fileDurable);
      } catch (err) {
        await cleanup();
        throw err instanceof StoreFailure ? err : ioFailure('cannot store the instance', err);
      }
    };
    return {
      size,
      dataset: parsed,
      tempPath: tmp,
      place,
      commit: async () => {
        const placed = await place();
        await placed.durable;
        return { location: placed.location, replaced: placed.replaced };
      },
      discard: async () => {
        if (done) return;
        done = true;
        source?.close();
        await cleanup();
      },
    };
  }

  /** File Meta Information for a received instance (PS3.10 7.1, REQUIREMENTS 13.4). */
  private fileMeta(rq: StoreRequest): Buffer {
    const impl = this.opts.implementation?.(rq) ?? { classUid: IMPLEMENTATION_CLASS_UID, versionName: IMPLEMENTATION_VERSION_NAME };
    return encodeFileMeta({
      // Media Storage SOP Class/Instance from the C-STORE command (PS3.10 7.1: the SOP of the data
      // set, which the service checks equals the command before the file is kept).
      sopClassUid: rq.sopClassUid,
      sopInstanceUid: rq.sopInstanceUid,
      transferSyntaxUid: rq.transferSyntaxUid,
      implementationClassUid: impl.classUid,
      implementationVersionName: impl.versionName,
      // Source Application Entity Title: the AE that sent it to us (PS3.10 7.1).
      sourceAeTitle: rq.callingAETitle || undefined,
    });
  }

  /**
   * Parses the data set part of the temporary file. Bulk values stay in the file; a deflated
   * data set (PS3.5 A.5) is inflated as a stream, the whole of it checked, the first
   * `maxDeflatedHeader` bytes kept for the header.
   */
  private async parse(path: string, offset: number, tsUid: string, prefix?: { bytes: Buffer; fileSize: number }): Promise<{ dataset: Dataset; source: ByteSource }> {
    if (!transferSyntax(tsUid)) throw new StoreFailure('cannotUnderstand', `unknown transfer syntax ${tsUid}`);
    const enc = encodingOf(tsUid);
    if (!enc.deflated) {
      // The file's first bytes as written hold the header of most instances: not read back.
      const src = prefix ? new PrefixedFileSource(prefix.bytes, path, prefix.fileSize) : new FileSource(path);
      try {
        return { dataset: readDataset(src, offset, src.size, enc), source: src };
      } catch (err) {
        src.close();
        throw err;
      }
    }
    const limit = this.opts.maxDeflatedHeader ?? 64 << 20;
    const parts: Buffer[] = [];
    let kept = 0;
    let total = 0;
    const inflate = createReadStream(path, { start: offset }).pipe(createInflateRaw());
    try {
      for await (const c of inflate as AsyncIterable<Buffer>) {
        total += c.length;
        if (kept < limit) {
          const take = c.subarray(0, limit - kept);
          parts.push(take);
          kept += take.length;
        }
      }
    } catch (err) {
      throw new StoreFailure('cannotUnderstand', `deflated data set cannot be inflated: ${(err as Error).message}`, { cause: err });
    }
    const src = new BufferSource(Buffer.concat(parts, kept), `${path} (inflated)`);
    // A header beyond the kept bytes is read up to the pixel data only.
    const ds = readDataset(src, 0, src.size, { explicitVR: true, littleEndian: true }, kept < total ? { stopAtTag: PixelDataTag } : {});
    return { dataset: ds, source: src };
  }

  /**
   * Moves a complete temporary file to its place once `fileDurable` says it is on disk, and
   * starts making the move durable (PlacedInstance.durable).
   */
  private async place(tmp: string, ds: Dataset, fileDurable: Promise<void>): Promise<PlacedInstance> {
    const study = ds.string(0x0020000d);
    const series = ds.string(0x0020000e);
    const sop = ds.string(0x00080018);
    // The UIDs become path components: only digits and dots may pass (never '..' or '/').
    for (const [name, uid] of [['Study Instance UID', study], ['Series Instance UID', series], ['SOP Instance UID', sop]] as const) {
      if (!isValidUid(uid)) throw new StoreFailure('cannotUnderstand', `${name} ${JSON.stringify(uid ?? '')} is not a valid UID`);
    }
    const studyDir = join(this.root, study!);
    const dir = join(studyDir, series!);
    const location = join(dir, `${sop}.dcm`);
    // A new study or series directory is made, and its entry made durable, while the file's
    // fsync is still running: the two waits for the disk overlap instead of adding up.
    const dirsReady = this.ensureDir(studyDir, dir);
    dirsReady.catch(() => undefined); // awaited below, after the file; never left unhandled
    await fileDurable;
    await dirsReady;
    // Whether a file was replaced: for the bare store's callers (the archive knows from its index).
    const replaced = existsSync(location);
    try {
      renameSync(tmp, location);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !this.knownDirs.has(dir)) throw err;
      // The directory was removed behind our back: made again.
      this.knownDirs.delete(dir);
      this.knownDirs.delete(studyDir);
      await this.ensureDir(studyDir, dir);
      renameSync(tmp, location);
    }
    const durable = (this.opts.fsync === false ? Promise.resolve() : (this.io.syncDir ?? fsyncDir)(dir)).catch((err: unknown) => {
      throw ioFailure(`cannot make ${location} durable`, err);
    });
    durable.catch(() => undefined);
    return { location, replaced, durable };
  }

  /**
   * Makes `<root>/<study>/<series>` exist, each new entry durable (its parent fsynced). Both
   * directories are made first, then both parents synced at once: should a crash come
   * between the two syncs, only directories nobody was told of are lost.
   */
  private async ensureDir(studyDir: string, dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const durable = this.opts.fsync !== false;
    const syncDir = this.io.syncDir ?? fsyncDir;
    const syncs: Promise<void>[] = [];
    const newStudy = !this.knownDirs.has(studyDir);
    if (newStudy) {
      makeDir(studyDir);
      if (durable) syncs.push(syncDir(this.root));
    }
    makeDir(dir);
    if (durable) syncs.push(syncDir(studyDir));
    await Promise.all(syncs);
    if (newStudy) this.remember(studyDir);
    this.remember(dir);
  }

  private remember(dir: string): void {
    // Bounded: forgetting only costs a mkdir (EEXIST) and an fsync of the parent.
    if (this.knownDirs.size >= 10_000) this.knownDirs.clear();
    this.knownDirs.add(dir);
  }
}

/** The values of a received instance's File Meta Information (PS3.10 7.1). */
export interface FileMetaValues {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  implementationClassUid: string;
  implementationVersionName?: string;
  sourceAeTitle?: string;
}

/**
 * Preamble, "DICM" and File Meta Information (Explicit VR Little Endian, group length first),
 * written straight into one buffer: the same bytes as the general writer gives for these
 * elements (test/archive/file-meta.test.ts), at a fraction of its cost, once per C-STORE.
 */
export function encodeFileMeta(v: FileMetaValues): Buffer {
  // PS3.5 6.2: UI values are padded with NUL, SH and AE with a space, to an even length.
  const elements: [number, string, string, number][] = [
    [0x0002, 'UI', v.sopClassUid, 0],
    [0x0003, 'UI', v.sopInstanceUid, 0],
    [0x0010, 'UI', v.transferSyntaxUid, 0],
    [0x0012, 'UI', v.implementationClassUid, 0],
  ];
  if (v.implementationVersionName) elements.push([0x0013, 'SH', v.implementationVersionName, 0x20]);
  if (v.sourceAeTitle) elements.push([0x0016, 'AE', v.sourceAeTitle, 0x20]);
  // (0002,0001) OB has a 12-byte header (PS3.5 7.1.2) and the value 00 01.
  let groupLength = 14;
  for (const e of elements) groupLength += 8 + ((Buffer.byteLength(e[2], 'latin1') + 1) & ~1);
  const out = Buffer.alloc(132 + 12 + groupLength);
  out.write('DICM', 128, 'latin1');
  let o = 132;
  const header = (element: number, vr: string, length: number): void => {
    out.writeUInt16LE(0x0002, o);
    out.writeUInt16LE(element, o + 2);
    out.write(vr, o + 4, 'latin1');
    out.writeUInt16LE(length, o + 6);
    o += 8;
  };
  header(0x0000, 'UL', 4);
  out.writeUInt32LE(groupLength, o);
  o += 4;
  out.writeUInt16LE(0x0002, o);
  out.writeUInt16LE(0x0001, o + 2);
  out.write('OB', o + 4, 'latin1');
  out.writeUInt32LE(2, o + 8);
  out[o + 13] = 1;
  o += 14;
  for (const [element, vr, value, pad] of elements) {
    const n = Buffer.byteLength(value, 'latin1');
    const padded = (n + 1) & ~1;
    header(element, vr, padded);
    out.write(value, o, 'latin1');
    if (padded > n) out[o + n] = pad;
    o += padded;
  }
  return out;
}

/**
 * What a failure while the data set arrives becomes: a write error stays what it is (A700...);
 * anything else means the stream failed, the association aborted or closed mid-transfer.
 */
function incomplete(err: unknown, size: number): StoreFailure {
  if (err instanceof StoreFailure) return err;
  return new StoreFailure('aborted', `data set incomplete after ${size} bytes: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Write batch buffers kept for reuse: as many as C-STOREs usually run at once. */
const MAX_SPARE_BATCHES = 4;

/** A data set that hands its chunks over synchronously (the association's DatasetStream.consume). */
interface SyncConsumable {
  consume(take: (chunk: Buffer) => void): Promise<void>;
}

function syncConsumable(x: AsyncIterable<Buffer>): SyncConsumable | undefined {
  const c = x as unknown as Partial<SyncConsumable>;
  return typeof c.consume === 'function' ? (c as SyncConsumable) : undefined;
}

/** Copies bytes into one buffer and hands it to `write` whenever it is full (and on flush()). */
class BatchWriter {
  private used = 0;
  constructor(
    private buf: Buffer,
    private readonly write: (bytes: Buffer) => void,
  ) {}

  put(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.used === this.buf.length) this.flush();
      const k = chunk.copy(this.buf, this.used, off, Math.min(chunk.length, off + this.buf.length - this.used));
      this.used += k;
      off += k;
    }
  }

  flush(): void {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    this.write(this.buf.subarray(0, n));
  }

  /** The buffer, for reuse: nothing may be written through this writer afterwards. */
  release(): Buffer {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }
}

interface TempFile {
  path: string;
  fd: number;
}

/** Writes every buffer in order, whatever the size of each write the kernel accepts. */
function writeFully(io: FileStoreIo, fd: number, bufs: Buffer[]): void {
  let list = bufs;
  let total = list.reduce((n, b) => n + b.length, 0);
  while (total > 0) {
    // writev takes at most IOV_MAX (1024) buffers.
    const bytesWritten = io.writev(fd, list.length > 1024 ? list.slice(0, 1024) : list);
    if (bytesWritten === total) return;
    if (bytesWritten === 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
    // A short write: drop what was written and go on with the rest.
    let skip = bytesWritten;
    total -= bytesWritten;
    const rest: Buffer[] = [];
    for (const b of list) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    list = rest;
  }
}

/** Makes a directory's entries durable (a rename is durable only after this, POSIX). */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await nodeIo.fsync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `dir` if needed. Its parent is synced by the caller also when it exists already,
 * since it may have just been made by a concurrent C-STORE whose sync of the parent has not
 * finished (FileStore does this once per directory).
 */
function makeDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
