/**
 * Transport connections (PS3.8 9.1): TCP with Nagle's algorithm off, since DIMSE exchanges are
 * request/response and small PDUs must not wait. TLS (PS3.15 B.1) plugs in through the
 * `connect` option of the requestor and `AssociationServer.handle()`: any Duplex works.
 *
 * Reading. A plain TCP socket of ours reads into one buffer reused for every read (node's
 * `onread`), and its bytes reach the association through `readTransient()` as views valid only
 * during the call. Node's default gives each read a fresh 64 KiB buffer: allocated, zero-filled,
 * first touched by the kernel's copy (a page fault per 4 KiB) and collected later. Measured on a
 * 512 KB C-STORE received with nothing kept: half the receiving thread's CPU went there.
 * Everything above the transport copies what it keeps (framer.ts, assembler.ts,
 * dataset-stream.ts); a C-STORE's data set is copied once, by its consumer, into the file's
 * write batch. Other streams (TLS, tests' pipes) deliver fresh buffers through 'data' and are
 * read the same way.
 */
import net from 'node:net';
import { copyBytes } from '../dicom/bytes.js';
import type { Duplex } from 'node:stream';

/** Size of the reused read buffer: what one read takes from the socket at most (node's default). */
const READ_BUFFER_SIZE = 64 * 1024;

/**
 * The one read buffer of every transient-reading socket: each read is handed on and consumed
 * synchronously, before the event loop can run another socket's read.
 */
let readBuffer: Buffer | undefined;
const sharedReadBuffer = (): Buffer => (readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_SIZE));

/**
 * TRACER_POISON_READS=1 (the test suite sets it): each read's bytes are overwritten once handed
 * on, so that a view kept past its call shows up as corrupted data in the tests rather than as
 * a rare bug in production.
 */
const POISON = process.env.TRACER_POISON_READS === '1';

/** Where a transient-reading socket's bytes go: set by readTransient(), queued (copied) until then. */
interface ReadSlot {
  onData?: (chunk: Buffer) => void;
  /** Observers of every read (observeReads), called before onData. */
  observers?: ((chunk: Buffer) => void)[];
  queued: Buffer[];
}
const slots = new WeakMap<Duplex, ReadSlot>();

function onreadOf(slot: ReadSlot): net.OnReadOpts {
  return {
    buffer: sharedReadBuffer(),
    callback: (n: number, buf: Uint8Array) => {
      const chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
      if (slot.observers) for (const o of slot.observers) o(chunk);
      if (slot.onData) slot.onData(chunk);
      else slot.queued.push(copyBytes(chunk));
      if (POISON) chunk.fill(0xee);
      return true;
    },
  };
}

/**
 * Delivers the bytes read from `s` to `onData` from now on, each chunk valid only during the
 * call (its bytes may be overwritten by the next read): the consumer copies what it keeps. For a
 * socket of tcpConnect() or acceptTransient(), the reused buffer; for any other stream, its
 * 'data' events. The stream is set flowing.
 */
export function readTransient(s: Duplex, onData: (chunk: Buffer) => void): void {
  const slot = slots.get(s);
  if (!slot) {
    s.on('data', onData);
    return;
  }
  slot.onData = onData;
  for (const c of slot.queued.splice(0)) onData(c);
  // Flowing, so that 'end' and 'close' are emitted; the bytes themselves bypass the stream.
  s.resume();
}

/**
 * Shows `observe` every chunk read from `s` as well (a trace of the PDUs, `tracer serve
 * --verbose`), each valid only during the call, as for readTransient().
 */
export function observeReads(s: Duplex, observe: (chunk: Buffer) => void): void {
  const slot = slots.get(s);
  if (slot) (slot.observers ??= []).push(observe);
  else s.on('data', observe);
}

/**
 * The socket of an accepted connection, moved to a reused read buffer. Node offers `onread` only
 * to sockets it creates from options: the accepted socket's handle is taken over by a new
 * net.Socket made with it (the server must have `pauseOnConnect`, so nothing was read yet), and
 * the server's connection count moves with it. Should node's internals not have the expected
 * shape, the socket is returned as it is, read the default way.
 */
export function acceptTransient(s: net.Socket): Duplex {
  const internal = s as unknown as { _handle?: unknown; _server?: net.Server | null; server?: net.Server | null };
  const handle = internal._handle;
  if (!handle || typeof handle !== 'object' || s.destroyed || !('readStart' in handle)) return s;
  const slot: ReadSlot = { queued: [] };
  let t: net.Socket;
  try {
    t = new net.Socket({ handle, readable: true, writable: true, pauseOnCreate: true, onread: onreadOf(slot) } as net.SocketConstructorOpts);
  } catch {
    return s;
  }
  const moved = t as unknown as typeof internal;
  moved._server = internal._server;
  moved.server = internal.server;
  internal._server = null;
  internal._handle = null;
  slots.set(t, slot);
  return t;
}

/**
 * A plain TCP server (PS3.8 9.1) whose connections read into the reused buffer: the listener of
 * every local AE without TLS.
 */
export function createTcpServer(onConnection: (socket: Duplex) => void): net.Server {
  // pauseOnConnect: nothing is read before the socket moves to the reused read buffer.
  return net.createServer({ pauseOnConnect: true, noDelay: true }, (s) => onConnection(acceptTransient(s)));
}

export interface ConnectOptions {
  /** Reads into the reused buffer (readTransient); not for a socket TLS will wrap. */
  transient?: boolean;
}

/** Opens a TCP connection, failing after `timeoutMs` (REQUIREMENTS 3.3 connectTimeout; 0 = none). */
export function tcpConnect(host: string, port: number, timeoutMs: number, opts: ConnectOptions = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const slot: ReadSlot | undefined = opts.transient ? { queued: [] } : undefined;
    const s = net.connect(slot ? { host, port, onread: onreadOf(slot) } : { host, port });
    if (slot) slots.set(s, slot);
    let timer: NodeJS.Timeout | undefined;
    const done = (err?: Error): void => {
      if (timer) clearTimeout(timer);
      s.off('connect', onConnect);
      s.off('error', onError);
      if (err) {
        s.destroy();
        reject(err);
      } else resolve(s);
    };
    const onConnect = (): void => done();
    const onError = (e: Error): void => done(new Error(`cannot connect to ${host}:${port}: ${e.message}`));
    s.once('connect', onConnect);
    s.once('error', onError);
    if (timeoutMs > 0) timer = setTimeout(() => done(new Error(`cannot connect to ${host}:${port}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
}

/** Tunes a freshly connected transport: no Nagle delay, keep-alive where it is a TCP socket. */
export function tuneSocket(s: Duplex): void {
  const sock = s as Partial<net.Socket>;
  sock.setNoDelay?.(true);
  sock.setKeepAlive?.(true, 60_000);
}

export function remoteOf(s: Duplex): { address?: string; port?: number } {
  const sock = s as Partial<net.Socket>;
  return { address: sock.remoteAddress, port: sock.remotePort };
}
