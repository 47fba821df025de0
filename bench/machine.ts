/**
 * What every benchmark records about the machine it ran on (bench/RESULTS.md asks for date,
 * cores, CPU, RAM, node and peer versions), so that runs can be compared.
 */
import { spawnSync } from 'node:child_process';
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
