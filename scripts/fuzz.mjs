#!/usr/bin/env node
// Coverage-guided fuzzing of the DICOM reader with Jazzer.js (libFuzzer), see test/fuzz/.
//
// Usage: node scripts/fuzz.mjs [--long] [--seconds N] [--quiet] [-- extra libFuzzer flags]
//   default      a short run (40 s), as the test suite does
//   --long       10 minutes (npm run fuzz)
//   --seconds N  run for N seconds
//   --quiet      only the summary (and the finding, if any), not libFuzzer's progress lines
// Needs the build (npm run build): the target is dist/test/fuzz/reader.fuzz.js.
//
// Exit status 0: no finding. 1: a finding; the crashing input was written under
// .fuzz-artifacts/ and its path and error are printed (replay it with
// `node scripts/fuzz.mjs --replay <file>`, then copy it to test/fuzz/regressions/).
// 2: the fuzzer could not run. The last line of output is `FUZZ-RESULT {json}`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = join(ROOT, 'dist/test/fuzz/reader.fuzz.js');
const SEEDS_MODULE = join(ROOT, 'dist/test/fuzz/seeds.js');
const EXERCISE_MODULE = join(ROOT, 'dist/test/fuzz/exercise.js');
const COMPAT = join(ROOT, 'test/fuzz/jazzer-compat.cjs');
const DICT = join(ROOT, 'test/fuzz/dicom.dict');
const REGRESSIONS = join(ROOT, 'test/fuzz/regressions');
const CORPUS = join(ROOT, '.fuzz-corpus/reader');
const SEEDS = join(ROOT, '.fuzz-corpus/seeds');
const ARTIFACTS = join(ROOT, '.fuzz-artifacts');

/** Per-input limits: a hang or a large allocation is a finding, like an exception. */
const LIMITS = { timeoutMs: 5000, rssLimitMb: 2048, mallocLimitMb: 256, maxLen: 16384 };

function parseArgs(argv) {
  const o = { seconds: 40, quiet: false, extra: [], replay: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--long') o.seconds = 600;
    else if (a === '--seconds') o.seconds = Number(argv[++i]);
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--replay') o.replay = argv[++i];
    else if (a === '--') { o.extra = argv.slice(i + 1); break; } else {
      console.error(`fuzz: unknown argument '${a}'`);
      process.exit(2);
    }
  }
  if (!(o.seconds > 0)) { console.error('fuzz: --seconds needs a positive number'); process.exit(2); }
  return o;
}

function result(obj, code) {
  console.log(`FUZZ-RESULT ${JSON.stringify(obj)}`);
  process.exit(code);
}

async function replay(file) {
  const { exercise } = await import(pathToFileURL(EXERCISE_MODULE).href);
  try {
    exercise(readFileSync(file));
    console.log(`fuzz: ${file}: no finding`);
    result({ ok: true, replay: file }, 0);
  } catch (e) {
    console.error(`fuzz: ${file}: ${e?.stack ?? e}`);
    if (e?.cause) console.error(`caused by: ${e.cause?.stack ?? e.cause}`);
    result({ ok: false, replay: file, error: String(e?.message ?? e) }, 1);
  }
}

/** Numbers from libFuzzer's status lines ("#1234 INITED cov: 812 ft: 2301 corp: 120/90Kb exec/s: 0 rss: 180Mb"). */
function stats(text) {
  const lines = text.split('\n');
  const status = (kind) => {
    const l = lines.filter((x) => new RegExp(`^#\\d+\\s+${kind}\\b`).test(x)).pop();
    if (!l) return undefined;
    const n = (re) => { const m = re.exec(l); return m ? Number(m[1]) : undefined; };
    return { runs: n(/^#(\d+)/), cov: n(/cov: (\d+)/), ft: n(/ft: (\d+)/), corpus: n(/corp: (\d+)/), execPerSec: n(/exec\/s: (\d+)/), rssMb: n(/rss: (\d+)Mb/) };
  };
  const stat = (name) => { const m = new RegExp(`stat::${name}:\\s+(\\d+)`).exec(text); return m ? Number(m[1]) : undefined; };
  const last = lines.filter((x) => /^#\d+\s+(NEW|REDUCE|pulse|DONE)\b/.test(x)).pop();
  return {
    inited: status('INITED'),
    final: status('DONE') ?? (last ? status(last.split(/\s+/)[1]) : undefined),
    executedUnits: stat('number_of_executed_units'),
    averageExecPerSec: stat('average_exec_per_sec'),
    peakRssMb: stat('peak_rss_mb'),
  };
}

/** The crashing input (new in the artifact directory) and the error, from Jazzer.js / libFuzzer output. */
function finding(text, before) {
  const fresh = readdirSync(ARTIFACTS).filter((n) => !before.has(n)).map((n) => join(ARTIFACTS, n));
  const unit = /Test unit written to (\S+)/.exec(text)?.[1] ?? fresh.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  const lines = text.split('\n');
  let error;
  const i = lines.findIndex((l) => /^==\d+== |ERROR: libFuzzer:|^ALARM:|Uncaught Exception/.test(l));
  if (i >= 0) error = lines.slice(i, i + 12).filter((l) => !/^(MS:|base64:|0x)/.test(l)).join('\n').trim();
  return { input: unit ? resolve(ROOT, unit) : undefined, error };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.replay) return replay(opts.replay);
  for (const f of [TARGET, SEEDS_MODULE]) {
    if (!existsSync(f)) {
      console.error(`fuzz: ${relative(ROOT, f)} is missing: build first (npm run build)`);
      result({ ok: false, error: 'not built' }, 2);
    }
  }
  const { writeSeeds } = await import(pathToFileURL(SEEDS_MODULE).href);
  const nSeeds = writeSeeds(SEEDS);
  mkdirSync(CORPUS, { recursive: true });
  mkdirSync(ARTIFACTS, { recursive: true });

  const require = createRequire(import.meta.url);
  const cli = require.resolve('@jazzer.js/core/dist/cli.js');
  const args = [
    '--require', COMPAT, cli, TARGET,
    '--sync', // the target is synchronous: much faster than the async mode
    '--includes', 'dist/src/dicom', '--excludes', 'node_modules',
    '--timeout', String(LIMITS.timeoutMs),
    '--',
    CORPUS, SEEDS, ...(existsSync(REGRESSIONS) ? [REGRESSIONS] : []),
    `-max_total_time=${opts.seconds}`,
    `-dict=${DICT}`,
    `-max_len=${LIMITS.maxLen}`,
    `-rss_limit_mb=${LIMITS.rssLimitMb}`,
    // Effective only with sanitizer malloc hooks (absent in Jazzer.js's libFuzzer); the target
    // therefore also guards Buffer allocations itself (test/fuzz/exercise.ts).
    `-malloc_limit_mb=${LIMITS.mallocLimitMb}`,
    `-artifact_prefix=${ARTIFACTS}/`,
    '-print_final_stats=1',
    ...opts.extra,
  ];
  console.error(`fuzz: ${nSeeds} seeds, corpus ${relative(ROOT, CORPUS)}, ${opts.seconds} s, limits ${JSON.stringify(LIMITS)}`);
  const before = new Set(readdirSync(ARTIFACTS));
  const started = Date.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const take = (stream, out) => stream.on('data', (d) => {
    text += d.toString();
    if (text.length > 4 << 20) text = text.slice(-(2 << 20));
    if (!opts.quiet) out.write(d);
  });
  take(child.stdout, process.stdout);
  take(child.stderr, process.stderr);
  // libFuzzer stops itself; this only guards against the fuzzer itself wedging.
  const watchdog = setTimeout(() => { text += '\nfuzz: watchdog: fuzzer overran, killed\n'; child.kill('SIGKILL'); }, (opts.seconds + 120) * 1000);
  const [code, signal] = await new Promise((res) => child.on('close', (c, s) => res([c, s])));
  clearTimeout(watchdog);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const s = stats(text);
  const summary = { seconds, seeds: nSeeds, ...s };
  const cov = s.inited && s.final ? `cov ${s.inited.cov} -> ${s.final.cov}, ft ${s.inited.ft} -> ${s.final.ft}, corpus ${s.final.corpus}` : 'no coverage lines';
  console.error(`fuzz: ${s.executedUnits ?? '?'} inputs in ${seconds} s (${s.averageExecPerSec ?? '?'} exec/s), ${cov}, peak RSS ${s.peakRssMb ?? '?'} MB`);
  const f = finding(text, before);
  if (code === 0 && !f.input) result({ ok: true, ...summary }, 0);
  if (f.input) {
    if (opts.quiet) process.stderr.write(text.slice(-8000));
    console.error(`\nfuzz: FINDING. Crashing input: ${f.input}\n${f.error ?? '(see output above)'}`);
    console.error(`fuzz: replay with: node scripts/fuzz.mjs --replay ${relative(ROOT, f.input)}`);
    result({ ok: false, ...summary, input: f.input, error: f.error }, 1);
  }
  process.stderr.write(text.slice(-8000));
  console.error(`fuzz: the fuzzer failed without a finding (exit ${code ?? signal})`);
  result({ ok: false, ...summary, error: `fuzzer exit ${code ?? signal}` }, 2);
}

await main();
