/**
 * Random-access byte sources under the parser. A file is read through a sliding window, so
 * large values (pixel data of a 2 GB multi-frame object) are located but never read or copied
 * until somebody asks for them.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Where the bytes come from, for error messages (a path, or undefined for memory). */
  readonly name?: string;
  /**
   * Bytes [pos, pos + length). The returned Buffer stays valid for as long as the caller
   * keeps it (sources never reuse memory handed out). Throws RangeError past the end.
   */
  read(pos: number, length: number): Buffer;
  /**
   * Optional: bytes [pos, pos + target.length) written into `target`, for a caller that
   * reuses one buffer for many reads (the file writer's chunks). A source whose bytes are
   * made rather than stored (pixel data decoded as it is written) offers it, so that they
   * need not be made in fresh memory each time.
   */
  readInto?(pos: number, target: Uint8Array): void;
  /** Releases file handles; a closed file source reopens on demand. */
  close(): void;
}

/** Bytes already in memory: every read is a zero-copy view. */
export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(readonly buffer: Buffer, readonly name?: string) {
    this.size = buffer.length;
  }
  read(pos: number, length: number): Buffer {
    if (pos < 0 || length < 0 || pos + length > this.size) {
      throw new RangeError(`read of ${length} bytes at ${pos} past end of ${this.size}`);
    }
    return this.buffer.subarray(pos, pos + length);
  }
  close(): void {}
}

/** Window after the first: big enough to hold the header of a large multi-frame object in one read. */
const WINDOW = 64 * 1024;
/**
 * First window of a file: holds the preamble, meta and whole header of a typical image
 * (CT, MR, NM: 2-10 KiB), so a file is usually parsed with one read of 16 KiB. A smaller
 * first read also spares page faults on memory that is never looked at.
 */
export const FIRST_WINDOW = 16 * 1024;
/** Windows start on page boundaries, so that a read just before the window start (the preamble after the "DICM" check) still hits. */
const ALIGN = 4096;

/**
 * A file read on demand through a window. Small reads are served from the window (one
 * readSync per 16-64 KiB); a read larger than half the window gets a buffer of its own.
 */
export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  /** Windows read so far (the first is smaller). */
  private reads = 0;

  constructor(readonly name: string) {
    this.fd = openSync(name, 'r');
    this.size = fstatSync(this.fd).size;
  }

  private handle(): number {
    if (this.fd === undefined) this.fd = openSync(this.name, 'r');
    return this.fd;
  }

  read(pos: number, length: number): Buffer {
    if (pos < 0 || length < 0 || pos + length > this.size) {
      throw new RangeError(`read of ${length} bytes at ${pos} past end of ${this.size}`);
    }
    const w = this.window;
    if (pos >= this.windowStart && pos + length <= this.windowStart + w.length) {
      const o = pos - this.windowStart;
      return w.subarray(o, o + length);
    }
    if (length > WINDOW / 2) return this.readExact(pos, length);
    // A fresh window (never overwritten) so earlier views stay valid.
    const start = pos - (pos % ALIGN);
    const want = Math.max(this.reads++ === 0 ? FIRST_WINDOW : WINDOW, pos + length - start);
    const n = Math.min(want, this.size - start);
    this.window = this.readExact(start, n);
    this.windowStart = start;
    const o = pos - start;
    return this.window.subarray(o, o + length);
  }

  private readExact(pos: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    const fd = this.handle();
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, pos + done);
      if (n === 0) throw new RangeError(`file ${this.name} shrank while reading at ${pos + done}`);
      done += n;
    }
    return buf;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * A file whose first bytes are already in memory (a file just written, whose header is parsed
 * without reading it back): reads within them are views of `prefix`, others go to the file,
 * opened on the first such read. `size` is the file's size, known to the writer.
 */
export class PrefixedFileSource implements ByteSource {
  private file: FileSource | undefined;

  constructor(
    private readonly prefix: Buffer,
    readonly name: string,
    readonly size: number,
  ) {}

  read(pos: number, length: number): Buffer {
    if (pos < 0 || length < 0 || pos + length > this.size) {
      throw new RangeError(`read of ${length} bytes at ${pos} past end of ${this.size}`);
    }
    if (pos + length <= this.prefix.length) return this.prefix.subarray(pos, pos + length);
    return (this.file ??= new FileSource(this.name)).read(pos, length);
  }

  close(): void {
    this.file?.close();
  }
}
