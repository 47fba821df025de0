/**
 * bench/parse: `tracer dump --json` over a CT series directory and a set of NM multi-frame
 * files, against DCMTK's dcmdump (native C++) and against the same job done with dcmjs and
 * with dicom-parser (bench/peers/*.mjs). Whole processes, timed from spawn to exit, one run
 * each after one untimed warm-up run (which fills the page cache and is used to check that
 * the JSON peers print the same documents as Tracer). Prints a table with ratios.
 *
 *   npm run bench:parse [-- --runs N] [-- --dcm2json] [-- --no-check]
 *
 * --runs N takes the fastest of N timed runs (default 1). --dcm2json adds DCMTK's dcm2json,
 * which reads one file per process and inlines pixel data (see RESULTS.md: not the same job).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCTSeries, ensureNMSet, repoRoot, type DataSet } from './data.js';
import { machineLines, sh } from './machine.js';

interface Tool {
  name: string;
  /** What it does, for the notes under the table. */
  note: string;
  cmd: string;
  args: (dir: string) => string[];
  /** Prints DICOM JSON comparable with Tracer's (checked after the warm-up). */
  json?: boolean;
  /** Leaves out of the goals / ratios line. */
  reference?: boolean;
  /** Runs through a shell (for xargs pipelines). */
  shell?: boolean;
}

interface Row {
  tool: Tool;
  seconds: number;
  /** User + system CPU seconds of the process tree (from /usr/bin/time), when available. */
  cpu?: number;
  status: number | null;
  outBytes?: number;
  check?: string;
}

const root = repoRoot();
const argv = process.argv.slice(2);
const runs = Math.max(1, Number(argv[argv.indexOf('--runs') + 1]) || 1);
const withDcm2json = argv.includes('--dcm2json');
const check = !argv.includes('--no-check');

const tracer: Tool = {
  name: 'tracer dump --json',
  note: 'bin/tracer dump --json DIR (bulk threshold 1024: pixel data becomes a BulkDataURI, never read)',
  cmd: process.execPath,
  args: (dir) => [join(root, 'bin/tracer'), 'dump', '--json', dir],
  json: true,
};

const tools: Tool[] = [
  tracer,
  {
    name: 'dcmdump -M',
    note: 'dcmdump -q -M +sd DIR: text listing, values over 4 KB left on disk (-M, the equivalent of Tracer\'s lazy bulk values)',
    cmd: 'dcmdump',
    args: (dir) => ['-q', '-M', '+sd', dir],
  },
  {
    name: 'dcmdump',
    note: 'dcmdump -q +sd DIR: default options, loads every value into memory (+M), pixel data included',
    cmd: 'dcmdump',
    args: (dir) => ['-q', '+sd', dir],
    reference: true,
  },
  {
    name: 'dcmjs',
    note: 'node bench/peers/dcmjs-json.mjs DIR: readFileSync + DicomMessage.readFile(noCopy) + dict to DICOM JSON',
    cmd: process.execPath,
    args: (dir) => [join(root, 'bench/peers/dcmjs-json.mjs'), dir],
    json: true,
  },
  {
    name: 'dicom-parser',
    note: 'node bench/peers/dicom-parser-json.mjs DIR: readFileSync + parseDicom + element walk to DICOM JSON',
    cmd: process.execPath,
    args: (dir) => [join(root, 'bench/peers/dicom-parser-json.mjs'), dir],
    json: true,
  },
  {
    name: 'node (empty)',
    note: 'node -e 0: process start-up alone, the floor for every node row',
    cmd: process.execPath,
    args: () => ['-e', '0'],
    reference: true,
  },
];
if (withDcm2json) {
  tools.push({
    name: 'dcm2json (xargs -n1)',
    note: 'ls DIR/*.dcm | xargs -n1 dcm2json -fc: one process per file (it takes one), pixel data inlined as base64',
    cmd: `find "$1" -type f -name '*.dcm' | sort | xargs -n1 dcm2json -q -fc`,
    args: (dir) => ['bench', dir],
    shell: true,
    reference: true,
  });
}

/** GNU time, to get each run's CPU time too (wall time is what is compared; CPU time shows how loaded the machine was). */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function runOnce(tool: Tool, dir: string, stdoutPath: string, cpuPath: string): { seconds: number; cpu?: number; status: number | null; stderr: string } {
  const out = openSync(stdoutPath, 'w');
  try {
    let cmd = tool.shell ? '/bin/sh' : tool.cmd;
    let args = tool.shell ? ['-c', tool.cmd, ...tool.args(dir)] : tool.args(dir);
    if (TIME) {
      args = ['-f', '%U %S', '-o', cpuPath, cmd, ...args];
      cmd = TIME;
    }
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', out, 'pipe'], maxBuffer: 1 << 26 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.error) throw r.error;
    let cpu: number | undefined;
    if (TIME) {
      const m = /([\d.]+) ([\d.]+)\s*$/.exec(readFileSync(cpuPath, 'utf8'));
      if (m) cpu = Number(m[1]) + Number(m[2]);
    }
    return { seconds, cpu, status: r.status, stderr: String(r.stderr ?? '') };
  } finally {
    closeSync(out);
  }
}

/** The JSON documents with the differences that are not the job's left out: file URIs of bulk data, dcmjs's charset rewrite. */
function normalise(text: string): string {
  const docs = JSON.parse(text) as unknown;
  return JSON.stringify(docs, (k, v: unknown) => {
    if (k === 'BulkDataURI') return 'bulk';
    if (v && typeof v === 'object' && !Array.isArray(v) && '00080005' in v) {
      // dcmjs decodes to Unicode and rewrites Specific Character Set to ISO_IR 192.
      return { ...(v as object), '00080005': 'charset' };
    }
    return v;
  });
}

function bench(label: string, set: DataSet, tmp: string): Row[] {
  const rows: Row[] = [];
  let reference: string | undefined;
  for (const tool of tools) {
    const outPath = join(tmp, 'out');
    const cpuPath = join(tmp, 'cpu');
    // Warm-up: page cache; its output is what gets checked.
    const warm = runOnce(tool, set.dir, outPath, cpuPath);
    if (warm.status !== 0) process.stderr.write(`bench: ${tool.name} exited with ${warm.status} on ${label}: ${warm.stderr.slice(0, 400)}\n`);
    const outBytes = statSync(outPath).size;
    let checkText: string | undefined;
    if (check && tool.json) {
      const n = normalise(readFileSync(outPath, 'utf8'));
      if (tool === tracer) reference = n;
      else checkText = n === reference ? 'same JSON' : 'JSON DIFFERS';
    }
    let best = Infinity;
    let cpu: number | undefined;
    let status: number | null = warm.status;
    for (let i = 0; i < runs; i++) {
      const r = runOnce(tool, set.dir, '/dev/null', cpuPath);
      if (r.seconds < best) {
        best = r.seconds;
        cpu = r.cpu;
      }
      status = r.status;
    }
    rows.push({ tool, seconds: best, cpu, status, outBytes, check: checkText });
  }
  return rows;
}

function table(label: string, set: DataSet, rows: Row[]): string {
  const t = rows.find((r) => r.tool === tracer)!.seconds;
  const mb = set.bytes / 1e6;
  const lines = [
    `### ${label}: ${set.files.length} files, ${mb.toFixed(1)} MB`,
    '',
    '| tool | seconds | files/s | MB/s | ratio vs Tracer | CPU s | output | exit |',
    '|---|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const r of rows) {
    const ratio = r.tool === tracer ? '1.00' : (r.seconds / t).toFixed(2);
    const out = r.outBytes !== undefined ? `${(r.outBytes / 1e6).toFixed(2)} MB${r.check ? ', ' + r.check : ''}` : '';
    const isFloor = r.tool.name === 'node (empty)';
    lines.push(`| ${r.tool.name} | ${r.seconds.toFixed(3)} | ${isFloor ? '' : Math.round(set.files.length / r.seconds)} | ${isFloor ? '' : (mb / r.seconds).toFixed(0)} | ${ratio} | ${r.cpu?.toFixed(2) ?? ''} | ${out} | ${r.status} |`);
  }
  const get = (name: string) => rows.find((r) => r.tool.name === name)?.seconds;
  const dcmjs = get('dcmjs'), dcmdump = get('dcmdump -M');
  lines.push('');
  if (dcmjs) lines.push(`Goal "3x faster than dcmjs": ${(dcmjs / t).toFixed(2)}x ${dcmjs / t >= 3 ? 'MET' : 'NOT MET'}`);
  if (dcmdump) lines.push(`Goal "no slower than dcmdump": ${(dcmdump / t).toFixed(2)}x (dcmdump -M time / Tracer time) ${dcmdump >= t ? 'MET' : 'NOT MET'}`);
  return lines.join('\n');
}

function machine(): string {
  const pkg = (name: string) => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  return machineLines([
    `dcmtk: ${sh('dcmdump --version | head -1')}`,
    `dcmjs: ${pkg('dcmjs')}, dicom-parser: ${pkg('dicom-parser')}`,
    `runs: ${runs === 1 ? '1 timed run after 1 warm-up run' : `fastest of ${runs} timed runs after 1 warm-up run`}`,
  ]);
}

const ct = ensureCTSeries();
const nm = ensureNMSet();
const tmp = mkdtempSync(join(tmpdir(), 'tracer-bench-'));
try {
  console.log(machine());
  console.log('');
  for (const [label, set] of [['CT series', ct], ['NM multi-frame', nm]] as const) {
    const rows = bench(label, set, tmp);
    console.log(table(label, set, rows));
    console.log('');
  }
  console.log('Tools:');
  for (const t of tools) console.log(`- ${t.name}: ${t.note}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
