/**
 * bench/store: DICOM networking, Tracer against DCMTK, in one run.
 *
 *  - receiving: storescu sends the CT series (1,000 slices 512x512, bench/data.ts) to
 *    `tracer serve` and to storescp;
 *  - sending: `tracer store` and storescu send it to storescp;
 *
 * each over one association, and with one association per file. Whole transfers are timed
 * from the sender's spawn to its exit (every response received); receivers are started
 * before (untimed) with an empty output directory on the same file system, and `sync` runs
 * before every timed transfer so that one run's dirty pages are not written during the next.
 * Rounds are interleaved (every scenario once per round) and the fastest of the rounds is
 * kept, as the machine may be shared. Prints a table with ratios.
 *
 *   npm run bench:store [-- --runs N] [-- --files N] [-- --no-per-file] [-- --layers] [-- --warmup N]
 *
 * --warmup N: before each timed transfer to a receiver, storescu sends it N slices of another CT
 * series (untimed): the receivers are compared running, Tracer's code compiled by the JIT, as a
 * node that has been up for a while is. Default 0: each receiver measured from its start.
 *
 * --layers adds receivers made of Tracer's layers, one more each (bench/peers/layer-scp.ts):
 * the network and Storage service alone (data set dropped), + FileStore, + Archive (index), all
 * without fsync, beside `tracer serve` without fsync and storescp: where the receive time goes.
 * The receivers' CPU time (user + system, all threads, from /proc) is printed with each.
 *
 * Fairness (see RESULTS.md): Tracer's Storage SCP fsyncs every file and its directory before
 * it answers (durable success); storescp never fsyncs. storescp is therefore measured twice:
 * as shipped, and with bench/peers/fsync-on-close.c preloaded, which fsyncs each file and its
 * directory when storescp closes it (before its response), as Tracer does; and with
 * bench/peers/atomic-on-close.c, which makes storescp write each file under a temporary name and
 * rename it into place (Tracer's file path, which the networking issue asks for), without and
 * with the fsyncs in Tracer's order: the like-for-like comparison of the two. storescp runs with
 * +B (bit-preserving: the data set is written as received, as Tracer does) and -pdu 32768 (the
 * Maximum Length Tracer advertises by default), so storescu sends both receivers the same PDUs.
 * storescu cannot open one association per file in one process: its per-file mode is one
 * storescu process per file (a shell loop), whose start-up cost is measured separately (the
 * same loop against a closed port) and reported.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCTSeries, ensureCTWarmup, repoRoot, type DataSet } from './data.js';
import { freePort, waitListening } from './ports.js';
import { cpuMs, machineLines, sh } from './machine.js';

const root = repoRoot();
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const runs = Math.max(1, Number(opt('--runs')) || 3);
const fileLimit = Number(opt('--files')) || 0;
const layers = argv.includes('--layers');
const perFile = !argv.includes('--no-per-file');
const warmupCount = Math.max(0, Number(opt('--warmup')) || 0);
/** The warm-up series (--warmup), made in main(). */
let warmSet: DataSet | undefined;
const TRACER = join(root, 'bin/tracer');
/** The Debian build of DCMTK leaves Nagle's algorithm on unless told (about 40 ms per file otherwise). */
const DCMTK_ENV = { ...process.env, TCP_NODELAY: '1' };
const PDU = 32768;

// ---------------------------------------------------------------------------------------
// Receivers
// ---------------------------------------------------------------------------------------

interface Receiver {
  name: string;
  aet: string;
  port: number;
  dir: string;
  proc: ChildProcess;
  /** Files stored so far (checked after each transfer). */
  count(): number;
  /** CPU seconds (user + system, all threads) the receiver has used so far. */
  cpu(): number;
  stop(): Promise<void>;
}

type ReceiverKind = 'tracer' | 'tracer-nofsync' | 'storescp' | 'storescp+fsync' | 'storescp+atomic' | 'storescp+atomic+fsync' | LayerKind;
/** The LD_PRELOAD shims built for storescp (bench/peers/*.c); a missing one leaves its receivers out. */
interface Shims {
  fsync?: string;
  atomic?: string;
}
/** Receivers of --layers (bench/peers/layer-scp.ts), by mode. */
type LayerKind = 'layer-net' | 'layer-filestore' | 'layer-archive';
const LAYER_NAMES: Record<LayerKind, string> = {
  'layer-net': 'Tracer network + Storage service, data set dropped',
  'layer-filestore': 'Tracer network + FileStore (file, header parsed, rename)',
  'layer-archive': 'Tracer network + Archive (FileStore + SQLite index)',
};

function countFiles(dir: string, pred: (name: string) => boolean): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (e.name !== '.incoming') n += countFiles(join(dir, e.name), pred);
    } else if (pred(e.name)) n++;
  }
  return n;
}

async function startReceiver(kind: ReceiverKind, base: string, shims: Shims): Promise<Receiver> {
  const port = await freePort();
  const dir = mkdtempSync(join(base, `${kind}-`));
  const log = join(dir, '..', `${kind}-${port}.log`);
  let proc: ChildProcess;
  let aet: string;
  let pred: (name: string) => boolean;
  if (kind === 'tracer' || kind === 'tracer-nofsync') {
    aet = 'TRACER';
    // Default configuration (fsync per file, store.fileNaming, info log of every C-STORE), logged to a file;
    // tracer-nofsync: the same with store.fsync false, which is what storescp does.
    const args = [TRACER, 'serve', '--host', '127.0.0.1', '--port', String(port), '--aet', aet, '--data', dir];
    if (kind === 'tracer-nofsync') {
      const cfg = join(dir, '..', `nofsync-${port}.yaml`);
      writeFileSync(cfg, 'store:\n  fsync: false\n');
      args.push('--config', cfg);
    }
    proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', openLog(log)] });
    pred = (n) => n.endsWith('.dcm');
  } else if (kind.startsWith('layer-')) {
    aet = 'LAYER';
    proc = spawn(process.execPath, [join(root, 'dist/bench/peers/layer-scp.js'), kind.slice('layer-'.length), dir, String(port)], { stdio: ['ignore', 'ignore', openLog(log)] });
    pred = (n) => n.endsWith('.dcm');
  } else {
    aet = 'STORESCP';
    const env =
      kind === 'storescp+fsync'
        ? { ...DCMTK_ENV, LD_PRELOAD: shims.fsync! }
        : kind === 'storescp+atomic' || kind === 'storescp+atomic+fsync'
          ? { ...DCMTK_ENV, LD_PRELOAD: shims.atomic!, ATOMIC_DIR: dir, ATOMIC_FSYNC: kind === 'storescp+atomic+fsync' ? '1' : '0' }
          : DCMTK_ENV;
    proc = spawn('storescp', ['-aet', aet, '-pdu', String(PDU), '+B', '-od', dir, String(port)], { env, stdio: ['ignore', openLog(log), openLog(log)] });
    pred = () => true;
  }
  await waitListening(port, proc, kind, 15_000);
  return {
    name: kind,
    aet,
    port,
    dir,
    proc,
    count: () => countFiles(dir, pred),
    cpu: () => cpuMs(proc.pid) / 1000,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(kind.startsWith('tracer') || kind.startsWith('layer-') ? 'SIGINT' : 'SIGTERM');
      }),
  };
}

/** The child's output goes to a log file beside its directory (a tracer serve log is part of its job). */
function openLog(path: string): number {
  return openSync(path, 'a');
}

// ---------------------------------------------------------------------------------------
// Senders
// ---------------------------------------------------------------------------------------

interface Sender {
  name: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Failure of a single file is expected (start-up floor against a closed port). */
  mayFail?: boolean;
}

function storescu(r: { port: number; aet: string }, set: DataSet, perFileMode: boolean): Sender {
  if (!perFileMode) return { name: 'storescu', cmd: 'storescu', args: ['-aec', r.aet, '127.0.0.1', String(r.port), ...set.files], env: DCMTK_ENV };
  // One process (so one association) per file: storescu has no per-file association mode.
  return {
    name: 'storescu per file (loop)',
    cmd: '/bin/sh',
    args: ['-c', 'aec=$1; port=$2; shift 2; for f in "$@"; do storescu -aec "$aec" 127.0.0.1 "$port" "$f" || exit 1; done', 'sh', r.aet, String(r.port), ...set.files],
    env: DCMTK_ENV,
  };
}

function tracerStore(r: { port: number; aet: string }, set: DataSet, perFileMode: boolean): Sender {
  const args = [TRACER, 'store', '-q', '--retries', '0', '--aec', r.aet, ...(perFileMode ? ['--per-association', '1'] : []), '127.0.0.1', String(r.port), ...(set.dir ? [set.dir] : set.files)];
  return { name: perFileMode ? 'tracer store --per-association 1' : 'tracer store', cmd: process.execPath, args };
}

interface Timed {
  seconds: number;
  status: number | null;
  stderr: string;
}

function timeSender(s: Sender): Timed {
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(s.cmd, s.args, { env: s.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw r.error;
  return { seconds, status: r.status, stderr: String(r.stderr ?? '') };
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

interface Scenario {
  id: string;
  /** What is compared: the receivers (same sender) or the senders (same receiver). */
  group: 'receive' | 'send' | 'floor';
  mode: 'one association' | 'association per file';
  receiver: ReceiverKind | 'closed port';
  sender: (r: { port: number; aet: string }) => Sender;
  /** Files the receiver must hold afterwards (0 for the floor). */
  expect: number;
}

function scenarios(set: DataSet, shims: Shims): Scenario[] {
  const n = set.files.length;
  const list: Scenario[] = [];
  const modes = perFile ? [false, true] : [false];
  for (const pf of modes) {
    const mode = pf ? 'association per file' : 'one association';
    list.push({ id: `recv-tracer-${pf}`, group: 'receive', mode, receiver: 'tracer', sender: (r) => storescu(r, set, pf), expect: n });
    list.push({ id: `recv-tracer-nofsync-${pf}`, group: 'receive', mode, receiver: 'tracer-nofsync', sender: (r) => storescu(r, set, pf), expect: n });
    list.push({ id: `recv-storescp-${pf}`, group: 'receive', mode, receiver: 'storescp', sender: (r) => storescu(r, set, pf), expect: n });
    if (shims.fsync) list.push({ id: `recv-storescp-fsync-${pf}`, group: 'receive', mode, receiver: 'storescp+fsync', sender: (r) => storescu(r, set, pf), expect: n });
    if (shims.atomic) {
      list.push({ id: `recv-storescp-atomic-${pf}`, group: 'receive', mode, receiver: 'storescp+atomic', sender: (r) => storescu(r, set, pf), expect: n });
      list.push({ id: `recv-storescp-atomic-fsync-${pf}`, group: 'receive', mode, receiver: 'storescp+atomic+fsync', sender: (r) => storescu(r, set, pf), expect: n });
    }
    list.push({ id: `send-tracer-${pf}`, group: 'send', mode, receiver: 'storescp', sender: (r) => tracerStore(r, set, pf), expect: n });
  }
  if (layers) {
    for (const k of ['layer-net', 'layer-filestore', 'layer-archive'] as const) {
      list.push({ id: `recv-${k}`, group: 'receive', mode: 'one association', receiver: k, sender: (r) => storescu(r, set, false), expect: k === 'layer-net' ? 0 : n });
    }
  }
  if (perFile) {
    // What 1,000 storescu processes cost before any association: same loop, nobody listening.
    list.push({
      id: 'floor-storescu',
      group: 'floor',
      mode: 'association per file',
      receiver: 'closed port',
      sender: (r) => ({ ...storescu(r, set, true), name: 'storescu per file (loop), port closed', args: ['-c', 'aec=$1; port=$2; shift 2; for f in "$@"; do storescu -aec "$aec" 127.0.0.1 "$port" "$f" 2>/dev/null; done; exit 0', 'sh', r.aet, String(r.port), ...set.files] }),
      expect: 0,
    });
  }
  return list;
}

interface Result {
  sc: Scenario;
  senderName: string;
  times: number[];
  /** The receiver's CPU seconds during each transfer. */
  cpus: number[];
}

async function runScenario(sc: Scenario, base: string, shims: Shims): Promise<{ seconds: number; senderName: string; cpu?: number }> {
  if (sc.receiver === 'closed port') {
    const port = await freePort();
    const s = sc.sender({ port, aet: 'NOBODY' });
    const t = timeSender(s);
    return { seconds: t.seconds, senderName: s.name };
  }
  const r = await startReceiver(sc.receiver, base, shims);
  try {
    if (warmSet && sc.group === 'receive') {
      const w = timeSender(storescu(r, warmSet, false));
      if (w.status !== 0) throw new Error(`warm-up of ${r.name} failed (${w.status}): ${w.stderr.slice(0, 600)}`);
    }
    const before = r.count();
    const s = sc.sender(r);
    const cpu0 = r.cpu();
    const t = timeSender(s);
    const cpu = r.cpu() - cpu0;
    if (t.status !== 0) throw new Error(`${s.name} -> ${r.name} exited with ${t.status}: ${t.stderr.slice(0, 600)}`);
    const got = r.count() - before;
    if (got !== sc.expect) throw new Error(`${s.name} -> ${r.name}: ${got} files stored, expected ${sc.expect}`);
    return { seconds: t.seconds, senderName: s.name, cpu };
  } finally {
    await r.stop();
    rmSync(r.dir, { recursive: true, force: true });
  }
}

/** Builds bench/peers/NAME.c into a shared object for LD_PRELOAD; undefined (and a warning) when cc fails. */
function buildShim(base: string, name: string, leftOut: string): string | undefined {
  const src = join(root, `bench/peers/${name}.c`);
  const out = join(base, `${name}.so`);
  const r = spawnSync('cc', ['-O2', '-shared', '-fPIC', '-o', out, src, '-ldl'], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(out)) {
    process.stderr.write(`bench: cannot build ${name}.c (cc): ${r.error?.message ?? r.stderr}; ${leftOut} left out\n`);
    return undefined;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

function machine(base: string): string {
  return machineLines([
    `dcmtk: ${sh('storescu --version | head -1')}`,
    `file system of the receivers' directories: ${sh(`findmnt -n -o FSTYPE,OPTIONS -T ${base}`) || '?'}`,
    `runs: ${runs === 1 ? '1 round' : `fastest of ${runs} interleaved rounds`}`,
  ]);
}

function best(r: Result | undefined): number | undefined {
  return r && r.times.length ? Math.min(...r.times) : undefined;
}

function table(set: DataSet, results: Result[]): string {
  const mb = set.bytes / 1e6;
  const n = set.files.length;
  const get = (id: string) => best(results.find((r) => r.sc.id === id));
  const lines: string[] = [];
  lines.push(`### ${n} CT slices 512x512, ${mb.toFixed(1)} MB`);
  lines.push('');
  lines.push('Speed ratio = DCMTK seconds / Tracer seconds (1.00 or more: Tracer at least as fast).');
  lines.push('');
  lines.push('| transfer | associations | seconds | files/s | MB/s | speed ratio |');
  lines.push('|---|---|---:|---:|---:|---|');
  const row = (what: string, mode: string, s: number | undefined, ratio = ''): void => {
    if (s === undefined) return;
    lines.push(`| ${what} | ${mode} | ${s.toFixed(3)} | ${Math.round(n / s)} | ${(mb / s).toFixed(0)} | ${ratio} |`);
  };
  const ratio = (dcmtk: number | undefined, tracer: number | undefined, vs: string): string => (dcmtk && tracer ? `${(dcmtk / tracer).toFixed(2)} vs ${vs}` : '');
  const goals: string[] = [];
  for (const pf of perFile ? [false, true] : [false]) {
    const mode = pf ? 'one per file' : 'one';
    const rt = get(`recv-tracer-${pf}`), rn = get(`recv-tracer-nofsync-${pf}`), rs = get(`recv-storescp-${pf}`), rf = get(`recv-storescp-fsync-${pf}`), st = get(`send-tracer-${pf}`);
    const ra = get(`recv-storescp-atomic-${pf}`), raf = get(`recv-storescp-atomic-fsync-${pf}`);
    const sender = pf ? 'storescu loop' : 'storescu';
    row(`${sender} -> **tracer serve** (fsync)`, mode, rt, ratio(rf, rt, 'storescp+fsync'));
    row(`${sender} -> **tracer serve** (store.fsync false)`, mode, rn, ratio(rs, rn, 'storescp'));
    row(`${sender} -> storescp (no fsync)`, mode, rs);
    row(`${sender} -> storescp+fsync (shim)`, mode, rf);
    row(`${sender} -> storescp+atomic (shim: temporary file, rename)`, mode, ra, ratio(ra, rn, 'tracer serve, store.fsync false'));
    row(`${sender} -> storescp+atomic+fsync (shim: Tracer's file path)`, mode, raf, ratio(raf, rt, 'tracer serve'));
    row(`**${pf ? 'tracer store --per-association 1' : 'tracer store'}** -> storescp`, mode, st, ratio(rs, st, sender));
    if (pf) {
      const floor = get('floor-storescu');
      row('storescu loop, port closed (start-up floor)', mode, floor);
      if (floor && rs && st) lines.push(`| (storescu loop - floor) -> storescp | ${mode} | ${(rs - floor).toFixed(3)} | | | ${ratio(rs - floor, st, 'storescu loop without start-ups')} |`);
    }
    if (rt && rf) goals.push(`receive, ${mode} association, both fsyncing: ${(rf / rt).toFixed(2)}x storescp+fsync`);
    if (rn && rs) goals.push(`receive, ${mode} association, neither fsyncing: ${(rs / rn).toFixed(2)}x storescp`);
    if (rt && raf) goals.push(`receive, ${mode} association, both with Tracer's file path (temporary file, fsync, rename, directory fsync): ${(raf / rt).toFixed(2)}x storescp+atomic+fsync`);
    if (rn && ra) goals.push(`receive, ${mode} association, both with a temporary file and rename, neither fsyncing: ${(ra / rn).toFixed(2)}x storescp+atomic`);
    if (rs && rf) goals.push(`(storescp itself, ${mode} association: fsync costs it ${(rf / rs).toFixed(2)}x its time; the atomic path with fsync ${raf ? (raf / rs).toFixed(2) : '?'}x)`);
    if (st && rs) goals.push(`send, ${mode} association: ${(rs / st).toFixed(2)}x ${sender}`);
  }
  if (layers) {
    // The fastest round of each, with the receiver's CPU in that round.
    const fastest = (id: string): { s: number; cpu: number } | undefined => {
      const r = results.find((x) => x.sc.id === id);
      if (!r || r.times.length === 0) return undefined;
      const i = r.times.indexOf(Math.min(...r.times));
      return { s: r.times[i]!, cpu: r.cpus[i]! };
    };
    const rs = fastest('recv-storescp-false');
    lines.push('');
    lines.push(`Receiving layer by layer (storescu, one association, nobody fsyncing): seconds and the receiver's CPU, fastest round.`);
    lines.push('');
    lines.push('| receiver | seconds | receiver CPU ms/instance | speed ratio vs storescp |');
    lines.push('|---|---:|---:|---:|');
    const layerRow = (what: string, id: string): void => {
      const f = fastest(id);
      if (!f) return;
      lines.push(`| ${what} | ${f.s.toFixed(3)} | ${Number.isFinite(f.cpu) ? ((f.cpu / n) * 1000).toFixed(2) : '?'} | ${rs ? (rs.s / f.s).toFixed(2) : ''} |`);
    };
    layerRow('storescp (no fsync)', 'recv-storescp-false');
    layerRow('storescp+atomic (temporary file, rename; no fsync)', 'recv-storescp-atomic-false');
    for (const k of ['layer-net', 'layer-filestore', 'layer-archive'] as const) layerRow(LAYER_NAMES[k], `recv-${k}`);
    layerRow('**tracer serve** (store.fsync false: + configuration, logging)', 'recv-tracer-nofsync-false');
  }
  lines.push('');
  lines.push('Goal "Tracer receives and sends at least as fast as DCMTK" (speed ratios):');
  for (const g of goals) lines.push(`- ${g}`);
  lines.push('');
  lines.push('All runs (seconds):');
  for (const r of results) {
    const cpu = r.cpus.some((c) => Number.isFinite(c)) ? ` (receiver CPU s: ${r.cpus.map((c) => c.toFixed(2)).join(', ')})` : '';
    lines.push(`- ${r.sc.id} (${r.senderName} -> ${r.sc.receiver}): ${r.times.map((t) => t.toFixed(3)).join(', ')}${cpu}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const tool of ['storescu', 'storescp']) {
    if (spawnSync(tool, ['--version']).status !== 0) throw new Error(`bench: ${tool} (DCMTK) not found`);
  }
  let set = ensureCTSeries();
  if (fileLimit > 0 && fileLimit < set.files.length) {
    // A subset (quick runs): the senders get the file names instead of the directory.
    const files = set.files.slice(0, fileLimit);
    set = { dir: '', files, bytes: files.reduce((n, f) => n + statSync(f).size, 0) };
  }
  if (warmupCount > 0) warmSet = ensureCTWarmup(warmupCount);
  const base = mkdtempSync(join(tmpdir(), 'tracer-bench-store-'));
  try {
    const shims: Shims = {
      fsync: buildShim(base, 'fsync-on-close', 'storescp+fsync'),
      atomic: buildShim(base, 'atomic-on-close', 'storescp+atomic and storescp+atomic+fsync'),
    };
    // Warm the page cache with the input files.
    for (const f of [...set.files, ...(warmSet?.files ?? [])]) readFileSync(f);
    console.log(machine(base));
    console.log(warmSet ? `warm-up: ${warmSet.files.length} slices of another series sent to each receiver by storescu before each timed transfer (untimed)` : 'warm-up: none (each receiver timed from its start)');
    console.log('');
    const list = scenarios(set, shims);
    const results: Result[] = list.map((sc) => ({ sc, senderName: '', times: [], cpus: [] }));
    for (let round = 0; round < runs; round++) {
      for (const r of results) {
        const t = await runScenario(r.sc, base, shims);
        r.times.push(t.seconds);
        r.cpus.push(t.cpu ?? NaN);
        r.senderName = t.senderName;
        process.stderr.write(`bench: round ${round + 1}/${runs} ${r.sc.id}: ${t.seconds.toFixed(3)} s\n`);
      }
    }
    console.log(table(set, results));
    console.log('');
    console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('');
    console.log('Tools and flags (every DCMTK tool with TCP_NODELAY=1):');
    console.log(`- tracer serve --host 127.0.0.1 --port P --aet TRACER --data DIR: default configuration (max PDU ${PDU}, storage.minFreeDiskMb 2048, info log of every C-STORE to a file); each file written to DIR/.incoming, fsynced, renamed to DIR/study/series/sop.dcm, directory fsynced, then the response`);
    console.log(`- storescp -aet STORESCP -pdu ${PDU} +B -od DIR P: bit-preserving, writes each file straight to DIR/CT.<sop>, never fsyncs`);
    console.log('- tracer serve (store.fsync false): the same with a configuration file setting store.fsync: false (no fsync, as storescp)');
    console.log('- storescp+fsync: the same with LD_PRELOAD=bench/peers/fsync-on-close.c: fsync of each file and its directory when storescp closes it, before the response');
    console.log("- storescp+atomic, storescp+atomic+fsync: the same with LD_PRELOAD=bench/peers/atomic-on-close.c: each file written to DIR/.incoming and renamed into place when storescp closes it; with fsync in Tracer's order (the file, the rename, its directory), before the response");
    console.log('- storescu -aec AET 127.0.0.1 P FILE...: one association; per file: one storescu process per file (sh loop)');
    console.log('- tracer store -q --retries 0 --aec AET 127.0.0.1 P DIR (and --per-association 1): one process; scans the files, then sends');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
