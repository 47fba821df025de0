/**
 * Transport connections (PS3.8 9.1): TCP with Nagle's algorithm off, since DIMSE exchanges are
 * request/response and small PDUs must not wait. TLS (PS3.15 B.1) plugs in through the
 * `connect` option of the requestor and `AssociationServer.handle()`: any Duplex works.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';

/** Opens a TCP connection, failing after `timeoutMs` (REQUIREMENTS 3.3 connectTimeout; 0 = none). */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
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
