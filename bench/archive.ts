/**
 * bench/archive: the archive (ingest with indexing, and C-FIND on a large index), Tracer against
 * storescp, dcmqrscp and Orthanc, in one run.
 *
 *  - ingest: storescu (one association) sends the same files to `tracer serve` with an empty
 *    data directory, to `tracer serve` on an archive that already holds 100,000 instances (with
 *    their files), to `tracer serve` with store.fsync false (durable against a killed process,
 *    not a power cut, as storescp), to storescp (storing alone, with and without the fsync shim
 *    of bench/store), to dcmqrscp (files + its index.dat) and to Orthanc (files + its SQLite
 *    index), each empty.
 *    Two file sets: the CT series of bench/data.ts (1,000 slices 512x512, 527 MB, one study)
 *    and 1,000 small instances (64x64, ~10 KB, about 100 studies of 30 patients), where the
 *    per-instance costs (index, fsync, response) dominate. Timed from storescu's spawn to its exit.
 *    Rounds are interleaved and the fastest kept, as in bench/store.
 *  - C-FIND: Study Root, STUDY level, with the return keys of `tracer find` at study level;
 *    Patient's Name wild card (`Kar*`, 3-6 letters of an existing family name, half of them in
 *    lower case: PN matching is case-insensitive by default), Study Date ranges of a week and of
 *    a month, Accession Number. Each query type runs `--queries` times (different values) on one
 *    association, timed from the C-FIND-RQ to the final response; median and 99th percentile.
 *    Against `tracer serve` on an index of 1,000,000 instances (index only: see below), `tracer
 *    serve` and Orthanc on the 100,000-instance archive, dcmqrscp and `tracer serve` on its first
 *    480 studies (dcmqrscp keeps at most 500 studies per storage area). The number of matches is
 *    checked against the layout (what should match). The server's CPU time per query is read
 *    from /proc, as the wall times depend on what else the machine runs.
 *  - start-up: how long `tracer serve` takes to accept associations on each of those archives,
 *    and after an unclean stop (the start-up check walks every file).
 *
 *   npm run bench:archive [-- --quick] [-- --runs N] [-- --queries N] [-- --only ingest|find]
 *                         [-- --archive N] [-- --index N] [-- --dcmqrscp STUDIES]
 *                         [-- --engines large,archive,orthanc,dcmqrscp]
 *                         [-- --no-orthanc] [-- --no-dcmqrscp] [-- --sets small,ct]
 *                         [-- --receivers tracer-empty,tracer-full,tracer-nofsync,tracer-afw,storescp,storescp+fsync,dcmqrscp,orthanc]
 *
 * Default: 2 rounds of ingest, 200 queries of each type (about 12 minutes on 2 CPUs once the
 * data is built). --quick (or TRACER_BENCH_QUICK=1): 10,000 / 100,000 instances instead of
 * 100,000 / 1,000,000, 200 CT slices and 500 small files, 40 queries, one round: for development.
 *
 * Data (bench/.data, built once and kept; see bench/archive-data.ts):
 *  - the 100,000-instance archive is built through Tracer's Archive API (the ingest path of a
 *    C-STORE without the network) with real files, and copied per run (files hard-linked: Tracer
 *    never writes into a stored file; the index copied);
 *  - the 1,000,000-instance index is built straight through SqliteIndex.addInstance, without
 *    files (1 M files would be ~12 GB and an hour to write here, and C-FIND never opens a file).
 *    It carries the index's clean-stop mark, so `tracer serve` does not run its start-up check
 *    on it (that check would remove every row whose file is missing); only C-FIND is run on it.
 *  - Orthanc's and dcmqrscp's databases are filled once with storescu from the archive's files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Association, CFindRq, type CFindRsp } from '../src/net/index.js';
import { encodingOf } from '../src/dicom/part10.js';
import { TS } from '../src/dicom/dictionary/index.js';
import { encodeDatasetToBuffer } from '../src/dicom/write.js';
import { buildIdentifier, parseKey, withDefaultKeys } from '../src/services/query-scu.js';
import { instancePath } from '../src/archive/ingest.js';
import { ensureCTSeries, ensureSet, dataDir, repoRoot, rng, type DataSet } from './data.js';
import {
  ARCHIVE_DATA_VERSION, archiveInstances, archiveLayout, dayString, ensureArchiveWithFiles, ensureIndexOnly, patientOf,
  type ArchiveLayout, type BuiltArchive, type StudyPlan,
} from './archive-data.js';
import { freePort, waitListening } from './ports.js';
import { cpuMs, machineLines, sh } from './machine.js';

const root = repoRoot();
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick') || process.env.TRACER_BENCH_QUICK === '1';
const runs = Math.max(1, Number(opt('--runs')) || (quick ? 1 : 2));
const queryCount = Math.max(5, Number(opt('--queries')) || (quick ? 40 : 200));
const only = opt('--only');
const withOrthanc = !argv.includes('--no-orthanc');
const withDcmqrscp = !argv.includes('--no-dcmqrscp');
/** C-FIND engines to run (default all): large (Tracer, 1,000,000), archive (Tracer, 100,000), orthanc, dcmqrscp (and Tracer on its studies). */
const engines = opt('--engines')?.split(',') ?? ['large', 'archive', 'orthanc', 'dcmqrscp'];
/** Instances of the pre-populated archive (ingest "full" and C-FIND against Orthanc). */
const ARCHIVE_SIZE = Number(opt('--archive')) || (quick ? 10_000 : 100_000);
/** Instances of the large index (C-FIND). */
const INDEX_SIZE = Number(opt('--index')) || (quick ? 100_000 : 1_000_000);
/** Studies given to dcmqrscp: at most 500 in its one storage area (its index is a flat file scanned per query and store). */
const DCMQRSCP_STUDIES = Math.min(480, Number(opt('--dcmqrscp')) || (quick ? 200 : 480));
const CT_FILES = quick ? 200 : 1000;
const SMALL_FILES = quick ? 500 : 1000;
const TRACER = join(root, 'bin/tracer');
const DCMTK_ENV = { ...process.env, TCP_NODELAY: '1' };
const PDU = 32768;
const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';

function note(s: string): void {
  process.stderr.write(`bench: ${s}\n`);
}

// ---------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------




interface Server {
  name: string;
  aet: string;
  port: number;
  proc: ChildProcess;
  /** Seconds from spawn to the first accepted connection. */
  startSeconds: number;
  stop(): Promise<void>;
}

async function startServer(name: string, aet: string, cmd: string, args: (port: number) => string[], log: string, env: NodeJS.ProcessEnv = DCMTK_ENV, signal: NodeJS.Signals = 'SIGTERM'): Promise<Server> {
  const port = await freePort();
  const fd = openSync(log, 'a');
  const t0 = process.hrtime.bigint();
  const proc = spawn(cmd, args(port), { env, stdio: ['ignore', fd, fd] });
  try {
    await waitListening(port, proc, name, 600_000);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}; log ${log}:\n${tail(log)}`);
  }
  const startSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    name, aet, port, proc, startSeconds,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill(signal);
    }),
  };
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/**
 * The configurations `tracer serve` gets: the defaults plus the benchmark's SCU as a known node
 * (Q/R needs one); and the same with store.fsync false (no fsync of files and directories, as
 * storescp; the index keeps synchronous = NORMAL either way).
 */
const tracerConfig = { fsync: '', noFsync: '', afterFileWrite: '' };

function startTracer(dir: string, log: string, mode: 'default' | 'noFsync' | 'afterFileWrite' = 'default'): Promise<Server> {
  // Default configuration otherwise (SQLite index, findScp.maxMatches 500), logged to a file.
  const cfg = mode === 'noFsync' ? tracerConfig.noFsync : mode === 'afterFileWrite' ? tracerConfig.afterFileWrite : tracerConfig.fsync;
  return startServer('tracer serve', 'TRACER', process.execPath, (p) => [TRACER, 'serve', '--config', cfg, '--host', '127.0.0.1', '--port', String(p), '--aet', 'TRACER', '--data', dir], log, process.env, 'SIGINT');
}

function startStorescp(dir: string, log: string, shim?: string): Promise<Server> {
  const env = shim ? { ...DCMTK_ENV, LD_PRELOAD: shim } : DCMTK_ENV;
  return startServer(shim ? 'storescp+fsync' : 'storescp', 'STORESCP', 'storescp', (p) => ['-aet', 'STORESCP', '-pdu', String(PDU), '+B', '-od', dir, String(p)], log, env);
}

function startDcmqrscp(dir: string, log: string): Promise<Server> {
  mkdirSync(join(dir, 'db'), { recursive: true });
  const cfg = join(dir, 'dcmqrscp.cfg');
  return startServer('dcmqrscp', 'DCMQRSCP', 'dcmqrscp', (p) => {
    writeFileSync(cfg, [
      `NetworkTCPPort = ${p}`,
      `MaxPDUSize = ${PDU}`,
      'MaxAssociations = 16',
      'HostTable BEGIN', 'HostTable END',
      'VendorTable BEGIN', 'VendorTable END',
      'AETable BEGIN',
      // 500 studies is dcmqrscp's largest storage area (it lowers anything above).
      `DCMQRSCP ${join(dir, 'db')} RW (500, 1024mb) ANY`,
      'AETable END', '',
    ].join('\n'));
    // dcmqrscp forks a child per association (its --single-process mode serves one and exits);
    // the CPU measures below add up the process tree.
    return ['-c', cfg, String(p)];
  }, log);
}

async function startOrthanc(dir: string, log: string): Promise<Server> {
  mkdirSync(join(dir, 'storage'), { recursive: true });
  mkdirSync(join(dir, 'index'), { recursive: true });
  const httpPort = await freePort();
  const cfg = join(dir, 'orthanc.json');
  return startServer('Orthanc', 'ORTHANC', 'Orthanc', (p) => {
    writeFileSync(cfg, JSON.stringify({
      Name: 'tracer-bench', StorageDirectory: join(dir, 'storage'), IndexDirectory: join(dir, 'index'), StorageCompression: false,
      Plugins: [], HttpServerEnabled: true, HttpPort: httpPort, RemoteAccessAllowed: false, AuthenticationEnabled: false,
      DicomServerEnabled: true, DicomAet: 'ORTHANC', DicomPort: p, DicomCheckCalledAet: false, DicomCheckModalityHost: false,
      DicomAlwaysAllowEcho: true, DicomAlwaysAllowStore: true, DicomAlwaysAllowFind: true, DicomAlwaysAllowMove: true, DicomAlwaysAllowGet: true,
    }, null, 1));
    return [cfg];
  }, log);
}

// ---------------------------------------------------------------------------------------
// Archives on disk
// ---------------------------------------------------------------------------------------

/**
 * A private copy of a cached Tracer archive: the stored files hard-linked (Tracer never writes
 * into a stored file: a replacement is a rename over it), the index copied.
 */
function copyArchive(src: string, dst: string): void {
  const r = spawnSync('cp', ['-al', src, dst], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -al ${src} ${dst}: ${r.stderr}`);
  const idx = join(dst, '.index');
  for (const f of readdirSync(idx)) {
    rmSync(join(idx, f));
    copyFileSync(join(src, '.index', f), join(idx, f));
  }
}

function setCleanMark(dir: string, state: 'clean' | 'running'): string | undefined {
  const db = new Database(join(dir, '.index', 'tracer.sqlite'));
  try {
    const old = (db.prepare("SELECT value FROM meta WHERE key = 'state'").get() as { value: string } | undefined)?.value;
    db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('state', ?)").run(state);
    return old;
  } finally {
    db.close();
  }
}

/** Reads files once so that they are in the page cache (a server that has been running has them there). */
function warm(paths: readonly string[]): void {
  for (const p of paths) if (existsSync(p)) spawnSync('cat', [p], { stdio: 'ignore' });
}

function du(path: string): string {
  return sh(`du -sh ${path} 2>/dev/null | cut -f1`) || '?';
}

// ---------------------------------------------------------------------------------------
// Ingest
// ---------------------------------------------------------------------------------------

type ReceiverKind = 'tracer-empty' | 'tracer-full' | 'tracer-nofsync' | 'tracer-afw' | 'storescp' | 'storescp+fsync' | 'dcmqrscp' | 'orthanc';

interface IngestResult {
  set: string;
  receiver: ReceiverKind;
  times: number[];
  /** CPU time of the receiver process (all threads) per run, ms. */
  cpu: number[];
}

function storescuArgs(s: Server, set: DataSet): string[] {
  return ['-aec', s.aet, '127.0.0.1', String(s.port), ...(set.dir ? ['+sd', set.dir] : set.files)];
}

function timeStorescu(s: Server, set: DataSet): number {
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('storescu', storescuArgs(s, set), { env: DCMTK_ENV, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`storescu -> ${s.name} exited with ${r.status}: ${String(r.stderr).slice(0, 600)}`);
  return seconds;
}

function countFiles(dir: string, pred: (name: string) => boolean, skip: (name: string) => boolean = (n) => n.startsWith('.')): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!skip(e.name)) n += countFiles(join(dir, e.name), pred, skip);
    } else if (pred(e.name)) n++;
  }
  return n;
}

async function orthancCount(s: Server, dir: string): Promise<number> {
  // Instances in Orthanc's index (its REST API is on; read the SQLite index instead, no HTTP client needed).
  void s;
  const db = new Database(join(dir, 'index', 'index'), { readonly: true, fileMustExist: true });
  try {
    // Orthanc's ResourceType: 1 patient, 2 study, 3 series, 4 instance.
    return Number((db.prepare('SELECT count(*) AS n FROM Resources WHERE resourceType = 4').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

function tracerCount(dir: string): number {
  const db = new Database(join(dir, '.index', 'tracer.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return Number((db.prepare('SELECT count(*) AS n FROM instance').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

async function ingestOnce(kind: ReceiverKind, set: DataSet, base: string, full: BuiltArchive | undefined, shim: string | undefined): Promise<{ seconds: number; cpuMs: number }> {
  const dir = mkdtempSync(join(base, `${kind}-`));
  const log = `${dir}.log`;
  let s: Server | undefined;
  let before = 0;
  try {
    if (kind === 'tracer-empty') s = await startTracer(join(dir, 'data'), log);
    else if (kind === 'tracer-nofsync') s = await startTracer(join(dir, 'data'), log, 'noFsync');
    else if (kind === 'tracer-afw') s = await startTracer(join(dir, 'data'), log, 'afterFileWrite');
    else if (kind === 'tracer-full') {
      copyArchive(full!.root, join(dir, 'data'));
      before = full!.instances;
      s = await startTracer(join(dir, 'data'), log);
    } else if (kind === 'storescp' || kind === 'storescp+fsync') s = await startStorescp(dir, log, kind === 'storescp+fsync' ? shim : undefined);
    else if (kind === 'dcmqrscp') s = await startDcmqrscp(dir, log);
    else s = await startOrthanc(dir, log);
    const cpu0 = cpuMs(s.proc.pid);
    const seconds = timeStorescu(s, set);
    const cpuUsed = cpuMs(s.proc.pid) - cpu0;
    await s.stop();
    // Every file must be stored (and, for the archives, indexed).
    let got: number;
    if (kind.startsWith('tracer')) got = tracerCount(join(dir, 'data')) - before;
    else if (kind === 'orthanc') got = await orthancCount(s, dir);
    else if (kind === 'dcmqrscp') got = countFiles(join(dir, 'db'), (n) => n !== 'index.dat');
    else got = countFiles(dir, () => true);
    if (got !== set.files.length) throw new Error(`${kind}: ${got} instances stored, expected ${set.files.length}; log ${log}:\n${tail(log)}`);
    return { seconds, cpuMs: cpuUsed };
  } finally {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(log, { force: true });
  }
}

function buildShim(base: string): string | undefined {
  const out = join(base, 'fsync-on-close.so');
  const r = spawnSync('cc', ['-O2', '-shared', '-fPIC', '-o', out, join(root, 'bench/peers/fsync-on-close.c'), '-ldl'], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(out)) {
    note(`cannot build the fsync shim (cc): ${r.error?.message ?? r.stderr}; storescp+fsync left out`);
    return undefined;
  }
  return out;
}

/** The small-instance set storescu sends: its own patients and studies (tag 3), as plain files. */
function ensureSmallSet(count: number): DataSet {
  const layout = archiveLayout(3, count);
  const all = [...archiveInstances(layout)];
  return ensureSet(`archive-small-${count}`, `archive small v${ARCHIVE_DATA_VERSION} n=${count}`, count, (i) => all[i]!.dataset, (s) => process.stderr.write(s + '\n'));
}

// ---------------------------------------------------------------------------------------
// C-FIND
// ---------------------------------------------------------------------------------------

type QueryType = 'name' | 'week' | 'month' | 'accession';
const QUERY_TYPES: readonly QueryType[] = ['name', 'week', 'month', 'accession'];
const QUERY_LABEL: Record<QueryType, string> = {
  name: "Patient's Name wild card (e.g. `kar*`)",
  week: 'Study Date, one week',
  month: 'Study Date, one month (31 days)',
  accession: 'Accession Number',
};

interface Query {
  type: QueryType;
  key: string;
  value: string;
  /** Studies that match (before findScp.maxMatches). */
  expected: number;
}

/** Queries of each type, drawn from the studies of a layout (the first `studies` of them). */
function makeQueries(layout: ArchiveLayout, studies: readonly StudyPlan[], perType: number, seed: number): Query[] {
  const r = rng(seed);
  const pick = (): StudyPlan => studies[Math.floor(r() * studies.length)]!;
  const family = new Map<number, string>();
  const familyOf = (p: number): string => {
    let f = family.get(p);
    if (f === undefined) family.set(p, (f = patientOf(layout, p).name.split('^')[0]!.toUpperCase()));
    return f;
  };
  const byDate = studies.map((s) => s.date).sort();
  const countDates = (lo: string, hi: string): number => {
    const lb = (x: string): number => {
      let a = 0, b = byDate.length;
      while (a < b) {
        const m = (a + b) >> 1;
        if (byDate[m]! < x) a = m + 1;
        else b = m;
      }
      return a;
    };
    return lb(hi + '~') - lb(lo);
  };
  const out: Query[] = [];
  for (let i = 0; i < perType; i++) {
    const f = familyOf(pick().patient);
    const len = Math.min(f.length, 3 + Math.floor(r() * 4));
    const prefix = f.slice(0, len);
    const value = `${r() < 0.5 ? prefix.toLowerCase() : prefix}*`;
    const expected = studies.filter((s) => familyOf(s.patient).startsWith(prefix)).length;
    out.push({ type: 'name', key: 'PatientName', value, expected });
  }
  const first = Number(byDate[0]!.slice(0, 4));
  const last = Number(byDate[byDate.length - 1]!.slice(0, 4));
  const days = Math.round((Date.UTC(last, 11, 31) - Date.UTC(first, 0, 1)) / 86400000);
  const dayOffset = Math.round((Date.UTC(first, 0, 1) - Date.UTC(2005, 0, 1)) / 86400000);
  for (const [type, span] of [['week', 7], ['month', 31]] as const) {
    for (let i = 0; i < perType; i++) {
      const d = dayOffset + Math.floor(r() * Math.max(1, days - span));
      const lo = dayString(d), hi = dayString(d + span - 1);
      out.push({ type, key: 'StudyDate', value: `${lo}-${hi}`, expected: countDates(lo, hi) });
    }
  }
  for (let i = 0; i < perType; i++) out.push({ type: 'accession', key: 'AccessionNumber', value: pick().accession, expected: 1 });
  return out;
}

interface Latencies {
  ms: number[];
  matches: number[];
  /** CPU time of the server process (user + system, all threads) over these queries, ms. */
  serverCpuMs: number;
  /** Queries whose number of matches differs from the expected one (clipping at 500 aside). */
  wrong: number;
  failed: number;
}

/** One association, every query in turn: milliseconds from C-FIND-RQ to the final response. */
async function runQueries(s: Server, queries: readonly Query[], clipAt: number): Promise<Map<QueryType, Latencies>> {
  const a = await Association.request({
    host: '127.0.0.1', port: s.port, callingAETitle: 'BENCHSCU', calledAETitle: s.aet,
    presentationContexts: [{ abstractSyntax: STUDY_ROOT_FIND, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] }],
    timeouts: { dimse: 300_000 },
  });
  const out = new Map<QueryType, Latencies>();
  try {
    const ctx = a.findContext(STUDY_ROOT_FIND);
    if (!ctx) throw new Error(`${s.name} accepted no Study Root C-FIND context`);
    const enc = encodingOf(ctx.transferSyntax);
    const one = async (q: Query): Promise<{ ms: number; n: number; status: number | undefined }> => {
      const keys = withDefaultKeys('STUDY', [parseKey(`${q.key}=${q.value}`)]);
      const id = encodeDatasetToBuffer(buildIdentifier('STUDY', keys), enc);
      const t0 = performance.now();
      let n = 0;
      let status: number | undefined;
      for await (const r of a.sendRequest(new CFindRq({ AffectedSOPClassUID: STUDY_ROOT_FIND }), { dataset: id }) as AsyncIterable<CFindRsp>) {
        if (r.Status === 0xff00 || r.Status === 0xff01) n++;
        else status = r.Status;
      }
      return { ms: performance.now() - t0, n, status };
    };
    // Warm-up (page cache, JIT, SQLite's cache): a few queries of each type, not counted.
    for (const t of QUERY_TYPES) for (const q of queries.filter((x) => x.type === t).slice(0, 3)) await one(q);
    let cpu = cpuMs(s.proc.pid);
    for (const q of queries) {
      const r = await one(q);
      const now = cpuMs(s.proc.pid);
      let l = out.get(q.type);
      if (!l) out.set(q.type, (l = { ms: [], matches: [], serverCpuMs: 0, wrong: 0, failed: 0 }));
      l.serverCpuMs += now - cpu;
      cpu = now;
      if (r.status !== 0) {
        l.failed++;
        continue;
      }
      l.ms.push(r.ms);
      l.matches.push(r.n);
      const want = clipAt > 0 ? Math.min(q.expected, clipAt) : q.expected;
      if (r.n !== want) l.wrong++;
    }
  } finally {
    await a.release().catch(() => a.abort());
  }
  return out;
}


function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  // Nearest rank.
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

interface FindRun {
  engine: string;
  instances: number;
  studies: number;
  /** findScp.maxMatches-like clipping of the engine (0 = none). */
  clip: number;
  lat: Map<QueryType, Latencies>;
  /** Why the queries failed, when they did. */
  error?: string;
}

/** dcmqrscp's and Orthanc's databases, filled once with storescu from the archive's files. */
async function ensurePeerDb(kind: 'dcmqrscp' | 'orthanc', archive: BuiltArchive, layout: ArchiveLayout, instances: number): Promise<string> {
  const dir = join(dataDir(), `${kind}-${archive.instances}-${instances}`);
  const manifest = `${dir}.manifest.json`;
  const spec = `${kind} v${ARCHIVE_DATA_VERSION} from ${archive.root} n=${instances}`;
  try {
    if ((JSON.parse(readFileSync(manifest, 'utf8')) as { spec: string }).spec === spec) return dir;
  } catch { /* built below */ }
  rmSync(dir, { recursive: true, force: true });
  rmSync(manifest, { force: true });
  mkdirSync(dir, { recursive: true });
  note(`filling ${kind} with ${instances} instances of ${archive.root} (one-time) ...`);
  const t0 = Date.now();
  const log = join(dir, `${kind}.log`);
  const s = kind === 'orthanc' ? await startOrthanc(dir, log) : await startDcmqrscp(dir, log);
  try {
    const files: string[] = [];
    for (const inst of archiveInstances(layout, { count: instances })) files.push(join(archive.root, ...instancePath(inst.study.uid, inst.seriesUid, inst.sopUid).split('/')));
    // Chunks of 2,000 files per storescu; Orthanc takes 3 associations at a time, dcmqrscp
    // (--single-process) one.
    const chunks: string[][] = [];
    for (let i = 0; i < files.length; i += 2000) chunks.push(files.slice(i, i + 2000));
    let done = 0;
    const sender = async (): Promise<void> => {
      for (let c = chunks.shift(); c; c = chunks.shift()) {
        const code = await new Promise<number | null>((resolve) => {
          const p = spawn('storescu', ['-aec', s.aet, '127.0.0.1', String(s.port), ...c], { env: DCMTK_ENV, stdio: ['ignore', 'ignore', 'ignore'] });
          p.once('exit', resolve);
        });
        if (code !== 0) throw new Error(`storescu -> ${kind} exited with ${code}`);
        done += c.length;
        if (done % 10000 < 2000) note(`  ${done} / ${files.length} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    };
    await Promise.all(Array.from({ length: kind === 'orthanc' ? 3 : 1 }, sender));
  } finally {
    await s.stop();
  }
  spawnSync('sync');
  writeFileSync(manifest, JSON.stringify({ spec, seconds: (Date.now() - t0) / 1000 }) + '\n');
  return dir;
}

/**
 * A private copy of a peer's database: the stored files hard-linked (neither peer writes into a
 * stored file during C-FIND), the index copied; configuration and log are written afresh.
 */
function copyPeerDb(kind: 'dcmqrscp' | 'orthanc', src: string, dst: string): void {
  const files = kind === 'orthanc' ? 'storage' : 'db';
  mkdirSync(dst, { recursive: true });
  const r = spawnSync('cp', ['-al', join(src, files), join(dst, files)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -al: ${r.stderr}`);
  if (kind === 'orthanc') {
    mkdirSync(join(dst, 'index'));
    for (const f of readdirSync(join(src, 'index'))) copyFileSync(join(src, 'index', f), join(dst, 'index', f));
  } else {
    rmSync(join(dst, 'db', 'index.dat'));
    copyFileSync(join(src, 'db', 'index.dat'), join(dst, 'db', 'index.dat'));
  }
}

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

function ingestTable(results: IngestResult[], sets: { name: string; set: DataSet; label: string }[], fullSize: number): string[] {
  const lines: string[] = [];
  const best = (set: string, r: ReceiverKind): number | undefined => {
    const x = results.find((y) => y.set === set && y.receiver === r);
    return x && x.times.length ? Math.min(...x.times) : undefined;
  };
  /** The receiver's CPU time in its fastest run, ms. */
  const cpuOf = (set: string, r: ReceiverKind): number | undefined => {
    const x = results.find((y) => y.set === set && y.receiver === r);
    return x && x.times.length ? x.cpu[x.times.indexOf(Math.min(...x.times))] : undefined;
  };
  const label: Record<ReceiverKind, string> = {
    'tracer-empty': '**tracer serve**, empty archive',
    'tracer-full': `**tracer serve**, archive holding ${fullSize.toLocaleString('en')} instances`,
    'tracer-nofsync': 'tracer serve, empty, store.fsync false (no fsync, as storescp)',
    'tracer-afw': 'tracer serve, empty, storage.ackMode afterFileWrite (file fsynced, rows in batches of 20)',
    storescp: 'storescp (storing alone, no fsync)',
    'storescp+fsync': 'storescp+fsync (storing alone, shim)',
    dcmqrscp: 'dcmqrscp, empty (files + index.dat)',
    orthanc: 'Orthanc 1.10, empty (files + SQLite index)',
  };
  for (const { name, set, label: setLabel } of sets) {
    const n = set.files.length;
    const mb = set.bytes / 1e6;
    lines.push(`### Ingest: ${setLabel} (${n} files, ${mb.toFixed(1)} MB), storescu, one association`, '');
    lines.push('| receiver | seconds | instances/s | MB/s | receiver CPU ms/instance | speed ratio (its s / tracer empty s) |');
    lines.push('|---|---:|---:|---:|---:|---:|');
    const te = best(name, 'tracer-empty');
    for (const r of Object.keys(label) as ReceiverKind[]) {
      const t = best(name, r);
      if (t === undefined) continue;
      lines.push(`| ${label[r]} | ${t.toFixed(3)} | ${Math.round(n / t)} | ${(mb / t).toFixed(0)} | ${((cpuOf(name, r) ?? NaN) / n).toFixed(2)} | ${te ? (t / te).toFixed(2) : ''} |`);
    }
    const tf = best(name, 'tracer-full'), sp = best(name, 'storescp'), sf = best(name, 'storescp+fsync'), or = best(name, 'orthanc');
    lines.push('');
    lines.push('Goals:');
    const tn = best(name, 'tracer-nofsync');
    if (te && sp) lines.push(`- at least as fast as storescp storing alone: ${(sp / te).toFixed(2)}x storescp (no fsync), ${sf ? (sf / te).toFixed(2) : '?'}x storescp+fsync: **${sp / te >= 1 ? 'met' : sf && sf / te >= 1 ? 'met against storescp+fsync only' : 'not met'}**${tn ? `; without fsync on both sides (store.fsync false): ${(sp / tn).toFixed(2)}x: **${sp / tn >= 1 ? 'met' : 'not met'}**` : ''}`);
    const ta = best(name, 'tracer-afw');
    if (te && or) lines.push(`- at least 3x Orthanc: ${(or / te).toFixed(2)}x: **${or / te >= 3 ? 'met' : 'not met'}**${ta ? `; with storage.ackMode afterFileWrite ${(or / ta).toFixed(2)}x` : ''}`);
    if (te && tf) lines.push(`- flat from 0 to ${fullSize.toLocaleString('en')}: the full archive takes ${(tf / te).toFixed(2)}x the empty one's time: **${tf / te <= 1.1 ? 'met' : 'not met'}** (within 10 %)`);
    lines.push('');
    lines.push('Receiver CPU: user + system time of the receiver process (all threads, from /proc) during the transfer of the fastest run.');
    lines.push('');
    lines.push(`All runs (seconds): ${results.filter((x) => x.set === name).map((x) => `${x.receiver} ${x.times.map((t) => t.toFixed(3)).join(', ')}`).join('; ')}`);
    lines.push('');
  }
  return lines;
}

function findTable(runsOut: FindRun[]): string[] {
  const lines: string[] = [];
  lines.push('### C-FIND, Study Root, STUDY level (one association; ms from C-FIND-RQ to the final response)', '');
  lines.push('| engine | index | query | queries | median ms | p99 ms | max ms | server CPU ms/query | median matches | max matches | wrong counts |');
  lines.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of runsOut) {
    if (r.error) lines.push(`| ${r.engine} | ${r.instances.toLocaleString('en')} inst., ${r.studies.toLocaleString('en')} studies | failed: ${r.error.replace(/\|/g, '/')} | | | | | | | | |`);
    for (const t of QUERY_TYPES) {
      const l = r.lat.get(t);
      if (!l) continue;
      lines.push(`| ${r.engine} | ${r.instances.toLocaleString('en')} inst., ${r.studies.toLocaleString('en')} studies | ${QUERY_LABEL[t]} | ${l.ms.length}${l.failed ? ` (+${l.failed} failed)` : ''} | ${quantile(l.ms, 0.5).toFixed(1)} | ${quantile(l.ms, 0.99).toFixed(1)} | ${Math.max(...l.ms).toFixed(1)} | ${(l.serverCpuMs / (l.ms.length + l.failed)).toFixed(1)} | ${quantile(l.matches, 0.5)} | ${Math.max(...l.matches)} | ${l.wrong} |`);
    }
  }
  lines.push('');
  const big = runsOut.find((r) => r.engine.startsWith('tracer') && r.instances >= 1_000_000) ?? runsOut.find((r) => r.engine.startsWith('tracer'));
  if (big) {
    const worst = Math.max(...QUERY_TYPES.map((t) => quantile(big.lat.get(t)?.ms ?? [], 0.5)));
    lines.push(`Goal "study-level C-FIND on ${big.instances.toLocaleString('en')} instances under 50 ms at the median": worst median ${worst.toFixed(1)} ms: **${worst < 50 ? 'met' : 'not met'}**${big.instances < 1_000_000 ? ' (not the 1,000,000 of the goal: quick run)' : ''}`);
    lines.push('');
  }
  lines.push('"server CPU ms/query": user + system time of the server process (all threads, from /proc) over the queries of that row, divided by their number: what the machine\'s other load does not change much.');
  lines.push('"wrong counts": queries whose number of matches differs from what the layout says should match (Tracer clips at findScp.maxMatches = 500; the peers do not clip).');
  return lines;
}

function machine(base: string): string {
  return machineLines([
    `dcmtk: ${sh('storescu --version | head -1')}`,
    `orthanc: ${sh("dpkg-query -W -f='${Version}' orthanc") || '?'}`,
    `sqlite (better-sqlite3): ${(new Database(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string }).v}`,
    `file system of the data directories: ${sh(`findmnt -n -o FSTYPE,OPTIONS -T ${base}`) || '?'}`,
    `runs: ${quick ? 'quick, ' : ''}ingest ${runs === 1 ? '1 round' : `fastest of ${runs} interleaved rounds`}; ${queryCount} queries of each type`,
  ]);
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const tool of ['storescu', 'storescp', ...(withDcmqrscp ? ['dcmqrscp'] : [])]) {
    if (spawnSync(tool, ['--version']).status !== 0) throw new Error(`bench: ${tool} (DCMTK) not found`);
  }
  const orthanc = withOrthanc && spawnSync('Orthanc', ['--version']).status === 0;
  if (withOrthanc && !orthanc) note('Orthanc not found: left out');
  // The working directories sit on the same file system as the cache (hard links).
  mkdirSync(dataDir(), { recursive: true });
  const base = mkdtempSync(join(dataDir(), 'run-'));
  const out: string[] = [];
  try {
    const nodes = [{ name: 'bench', aeTitle: 'BENCHSCU', host: '127.0.0.1', port: 104 }];
    tracerConfig.fsync = join(base, 'tracer.json');
    writeFileSync(tracerConfig.fsync, JSON.stringify({ nodes }, null, 1));
    tracerConfig.noFsync = join(base, 'tracer-nofsync.json');
    writeFileSync(tracerConfig.noFsync, JSON.stringify({ nodes, store: { fsync: false } }, null, 1));
    tracerConfig.afterFileWrite = join(base, 'tracer-afw.json');
    writeFileSync(tracerConfig.afterFileWrite, JSON.stringify({ nodes, storage: { ackMode: 'afterFileWrite' } }, null, 1));
    console.log(machine(base));
    console.log('');
    const full = ensureArchiveWithFiles(ARCHIVE_SIZE);
    const fullLayout = archiveLayout(2, ARCHIVE_SIZE);
    note(`archive of ${full.instances} instances (${full.studies} studies, ${full.patients} patients, ${du(full.root)}), built once in ${full.buildSeconds.toFixed(0)} s`);
    const dataLines = ['### Data (built once, cached in bench/.data)', '',
      `- archive with files: ${full.instances.toLocaleString('en')} instances, ${full.studies.toLocaleString('en')} studies, ${full.patients.toLocaleString('en')} patients, ${du(full.root)} on disk; built through Archive.receive/commit (no fsync) in ${full.buildSeconds.toFixed(0)} s`];

    // --- start-up -----------------------------------------------------------------------
    const startLines: string[] = ['### `tracer serve` start-up (spawn to the first accepted connection)', '', '| data directory | seconds |', '|---|---:|'];
    const startup = async (label: string, dir: string): Promise<void> => {
      const log = join(base, `startup-${startLines.length}.log`);
      const s = await startTracer(dir, log);
      await s.stop();
      startLines.push(`| ${label} | ${s.startSeconds.toFixed(2)} |`);
      note(`start-up, ${label}: ${s.startSeconds.toFixed(2)} s`);
    };

    // --- ingest -------------------------------------------------------------------------
    if (only !== 'find') {
      const shim = buildShim(base);
      const ct = ensureCTSeries(CT_FILES);
      const small = ensureSmallSet(SMALL_FILES);
      const sets = [
        { name: 'small', set: small, label: `small instances (64x64, ~${Math.round(SMALL_FILES / 10)} studies)` },
        { name: 'ct', set: ct, label: 'CT series (512x512)' },
      ].filter((s) => !opt('--sets') || opt('--sets')!.split(',').includes(s.name));
      for (const s of sets) for (const f of s.set.files) readFileSync(f); // page cache
      const wanted = opt('--receivers')?.split(',');
      const kinds = (['tracer-empty', 'tracer-full', 'tracer-nofsync', 'tracer-afw', 'storescp', ...(shim ? ['storescp+fsync' as const] : []), ...(withDcmqrscp ? ['dcmqrscp' as const] : []), ...(orthanc ? ['orthanc' as const] : [])] as ReceiverKind[])
        .filter((k) => !wanted || wanted.includes(k));
      const results: IngestResult[] = [];
      for (const s of sets) for (const k of kinds) results.push({ set: s.name, receiver: k, times: [], cpu: [] });
      for (let round = 0; round < runs; round++) {
        for (const r of results) {
          const set = sets.find((s) => s.name === r.set)!.set;
          const t = await ingestOnce(r.receiver, set, base, full, shim);
          r.times.push(t.seconds);
          r.cpu.push(t.cpuMs);
          note(`round ${round + 1}/${runs} ${r.set} -> ${r.receiver}: ${t.seconds.toFixed(3)} s (${Math.round(set.files.length / t.seconds)}/s), receiver CPU ${t.cpuMs.toFixed(0)} ms`);
        }
      }
      out.push(...ingestTable(results, sets, full.instances));
    }

    // --- start-up times -------------------------------------------------------------------
    {
      const empty = join(base, 'startup-empty');
      await startup('empty', empty);
      const copy = join(base, 'startup-full');
      copyArchive(full.root, copy);
      spawnSync('sync');
      await startup(`${full.instances.toLocaleString('en')} instances with files, clean stop`, copy);
      setCleanMark(copy, 'running');
      spawnSync('sync');
      await startup(`${full.instances.toLocaleString('en')} instances with files, after an unclean stop (start-up check)`, copy);
      rmSync(copy, { recursive: true, force: true });
      rmSync(empty, { recursive: true, force: true });
    }

    // --- C-FIND -------------------------------------------------------------------------
    if (only !== 'ingest') {
      const findRuns: FindRun[] = [];
      const index = await ensureIndexOnly(INDEX_SIZE);
      const indexLayout = archiveLayout(1, INDEX_SIZE);
      /** One engine's queries; a failure is reported in the table (with the server's log) rather than ending the run. */
      const measure = async (engine: string, instances: number, studies: number, clip: number, s: Server, log: string, qs: readonly Query[]): Promise<void> => {
        try {
          findRuns.push({ engine, instances, studies, clip, lat: await runQueries(s, qs, clip) });
        } catch (err) {
          note(`${engine} (${instances} instances): queries failed: ${(err as Error).message}\n${tail(log)}`);
          findRuns.push({ engine, instances, studies, clip, lat: new Map(), error: (err as Error).message });
        }
      };
      note(`index of ${index.instances} instances (${index.studies} studies, ${index.patients} patients, ${du(index.root)}), built once in ${index.buildSeconds.toFixed(0)} s`);
      dataLines.push(`- index only: ${index.instances.toLocaleString('en')} instances, ${index.studies.toLocaleString('en')} studies, ${index.patients.toLocaleString('en')} patients, ${du(index.root)}; built through SqliteIndex.addInstance in ${index.buildSeconds.toFixed(0)} s`);
      if (engines.includes('large')) {
        // Only C-FIND runs on it, so it is used in place; a run that did not stop cleanly left the
        // rows untouched, and the mark is put back rather than letting the start-up check drop them.
        const was = setCleanMark(index.root, 'clean');
        if (was !== 'clean') note(`${index.root}: clean-stop mark was '${was}' (an interrupted run); put back`);
        spawnSync('sync');
        warm([join(index.root, '.index', 'tracer.sqlite')]);
        const log = join(base, 'tracer-index.log');
        const s = await startTracer(index.root, log);
        startLines.push(`| ${index.instances.toLocaleString('en')} instances, index only, clean stop | ${s.startSeconds.toFixed(2)} |`);
        try {
          await measure('tracer serve', index.instances, index.studies, 500, s, log, makeQueries(indexLayout, indexLayout.studies, queryCount, 11));
        } finally {
          await s.stop();
        }
      }
      const fullQueries = makeQueries(fullLayout, fullLayout.studies, queryCount, 12);
      if (engines.includes('archive')) {
        const copy = join(base, 'find-full');
        copyArchive(full.root, copy);
        warm([join(copy, '.index', 'tracer.sqlite')]);
        const log = join(base, 'tracer-full.log');
        const s = await startTracer(copy, log);
        try {
          await measure('tracer serve', full.instances, full.studies, 500, s, log, fullQueries);
        } finally {
          await s.stop();
          rmSync(copy, { recursive: true, force: true });
        }
      }
      if (orthanc && engines.includes('orthanc')) {
        const db = await ensurePeerDb('orthanc', full, fullLayout, full.instances);
        const copy = join(base, 'find-orthanc');
        copyPeerDb('orthanc', db, copy);
        warm(readdirSync(join(copy, 'index')).map((f) => join(copy, 'index', f)));
        const log = join(base, 'orthanc-find.log');
        const s = await startOrthanc(copy, log);
        try {
          await measure('Orthanc', full.instances, full.studies, 0, s, log, fullQueries);
        } finally {
          await s.stop();
          rmSync(copy, { recursive: true, force: true });
        }
      }
      if (withDcmqrscp && engines.includes('dcmqrscp')) {
        // dcmqrscp and Tracer on the same first studies of the archive (dcmqrscp holds at most 500).
        const studies = fullLayout.studies.slice(0, DCMQRSCP_STUDIES);
        const n = studies.reduce((a, st) => a + st.series.reduce((x, y) => x + y, 0), 0);
        const qs = makeQueries(fullLayout, studies, queryCount, 13);
        const db = await ensurePeerDb('dcmqrscp', full, fullLayout, n);
        const copy = join(base, 'find-dcmqrscp');
        copyPeerDb('dcmqrscp', db, copy);
        warm([join(copy, 'db', 'index.dat')]);
        const log = join(base, 'dcmqrscp-find.log');
        const s = await startDcmqrscp(copy, log);
        try {
          await measure('dcmqrscp', n, studies.length, 0, s, log, qs);
        } finally {
          await s.stop();
          rmSync(copy, { recursive: true, force: true });
        }
        const small = await ensureIndexOnly(n, { tag: 2, of: ARCHIVE_SIZE });
        const log2 = join(base, 'tracer-small.log');
        const t = await startTracer(small.root, log2);
        try {
          await measure('tracer serve', n, small.studies, 500, t, log2, qs);
        } finally {
          await t.stop();
        }
      }
      out.push(...findTable(findRuns));
      out.push('');
    }
    out.push(...startLines, '', ...dataLines);
    console.log(out.join('\n'));
    console.log('');
    console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
