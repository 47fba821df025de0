/**
 * What every benchmark records about the machine it ran on (bench/RESULTS.md asks for date,
 * cores, CPU, RAM, node and peer versions), so that runs can be compared.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** Output of a shell command, trimmed ('' when it fails). */
export function sh(cmd: string): string {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
  return (r.stdout || '').trim();
}

/** The machine lines, with the benchmark's own lines (peer versions, runs...) appended. */
export function machineLines(extra: readonly string[]): string {
  return [
    `date: ${new Date().toISOString()}`,
    `nproc: ${sh('nproc')}`,
    `cpu: ${cpus()[0]?.model ?? '?'}`,
    `ram: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `node: ${process.version}`,
    ...extra,
    `load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  ].join('\n');
}

let clockTicks: number | undefined;
/** Clock ticks per second of /proc's CPU times, asked once, when first needed. */
const ticksPerSecond = (): number => (clockTicks ??= Number(sh('getconf CLK_TCK')) || 100);

/** utime, stime, cutime, cstime and the parent of a process, from /proc/PID/stat (clock ticks). */
function procStat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined;
  }
}

/**
 * User + system CPU time of a server, ms, from /proc (clock ticks of 10 ms): the process (every
 * thread), its children that ended and were waited for, and its live children (dcmqrscp forks
 * one per association).
 */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const own = procStat(pid);
  if (!own) return NaN;
  let ticks = own.ticks;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const c = procStat(Number(e));
    if (c && c.ppid === pid) ticks += c.ticks;
  }
  return (ticks * 1000) / ticksPerSecond();
}

