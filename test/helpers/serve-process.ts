/** `tracer serve` as a child process: started in a directory, its JSON log lines collected. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const TRACER_BIN = fileURLToPath(new URL('../../../bin/tracer', import.meta.url));

export interface ServeProcess {
  proc: ChildProcess;
  port: number;
  logs: Record<string, unknown>[];
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** Sends SIGTERM (unless already exited) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServe(cwd: string, args: string[] = []): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [TRACER_BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let rest = '';
  let stdout = '';
  proc.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tracer serve did not start: ${rest}${stdout}`)), 10_000);
    proc.stderr!.on('data', (c: Buffer) => {
      rest += c.toString();
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, i);
        rest = rest.slice(i + 1);
        try {
          const l = JSON.parse(line) as Record<string, unknown>;
          logs.push(l);
          if (l.msg === 'listening') {
            clearTimeout(timer);
            resolve(Number(l.port));
          }
        } catch {
          logs.push({ msg: line });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tracer serve exited with ${code}: ${rest}${stdout}`));
    });
  });
  return {
    proc,
    port,
    logs,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
