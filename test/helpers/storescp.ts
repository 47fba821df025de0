/**
 * DCMTK's storescp as a peer for Storage SCU tests: free loopback port, TCP_NODELAY=1
 * (TESTING.md), every received file listed in reception order, and the `tracer` command line
 * run as a child process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Association, IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION_SOP_CLASS } from '../../src/net/index.js';

export const dcmtkEnv = { ...process.env, TCP_NODELAY: '1' };
export const TRACER_BIN = fileURLToPath(new URL('../../../bin/tracer', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Waits until a DICOM acceptor answers an association request on the port. */
export async function waitForScp(port: number, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    try {
      const a = await Association.request({ port, callingAETitle: 'PROBE', calledAETitle: 'STORESCP', timeouts: { connect: 500 }, presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
      await a.release();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`no SCP on port ${port}`);
}

export interface Storescp {
  port: number;
  proc: ChildProcess;
  outDir: string;
  /** Files written, in the order received. */
  received(): string[];
  log(): string;
  stop(): Promise<void>;
}

/** Starts storescp on a free port (or `port`), writing into dir/out; waits until it answers unless `wait` is false. */
export async function startStorescp(dir: string, args: string[] = [], o: { port?: number; wait?: boolean } = {}): Promise<Storescp> {
  const port = o.port ?? (await freePort());
  const outDir = join(dir, 'out');
  mkdirSync(outDir, { recursive: true });
  const list = join(dir, 'received.txt');
  let log = '';
  const proc = spawn('storescp', ['-v', '-aet', 'STORESCP', '-od', outDir, '+uf', '-xcr', `echo #f >> ${list}`, '-xs', ...args, String(port)], { env: dcmtkEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  if (o.wait !== false && !args.includes('--refuse')) await waitForScp(port);
  else await new Promise((r) => setTimeout(r, 300));
  return {
    port,
    proc,
    outDir,
    received: () => (existsSync(list) ? readFileSync(list, 'utf8').split('\n').filter(Boolean).map((f) => join(outDir, f.trim())) : []),
    log: () => log,
    stop: () =>
      new Promise<void>((r) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return r();
        proc.once('exit', () => r());
        proc.kill('SIGTERM');
      }),
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tracer ARGS` (the built command line). */
export function tracer(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TRACER_BIN, ...args], { timeout: timeoutMs, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0, stdout, stderr });
    });
  });
}

/** Offset of the data set in a Part 10 file, by walking the (0002) group (PS3.10 7.1), independent of Tracer's reader. */
export function datasetOffsetOf(file: Buffer): number {
  let pos = file.length >= 132 && file.toString('latin1', 128, 132) === 'DICM' ? 132 : 0;
  while (pos + 8 <= file.length && file.readUInt16LE(pos) === 0x0002) {
    const vr = file.toString('latin1', pos + 4, pos + 6);
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)) pos += 12 + file.readUInt32LE(pos + 8);
    else pos += 8 + file.readUInt16LE(pos + 6);
  }
  return pos;
}
