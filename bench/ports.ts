/** Loopback ports for the benchmarks' servers: a free one, and waiting until a server listens on it. */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A port nobody listens on now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts a TCP connection on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port }, () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Resolves once `proc` accepts connections on `port`; rejects when it exits first or after `timeoutMs`. */
export async function waitListening(port: number, proc: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode} before listening`);
    if (await accepts(port)) return;
    if (Date.now() > deadline) throw new Error(`${what} not listening on ${port} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
