/**
 * Codec throughput: Tracer's decoders and encoders against DCMTK's command-line codecs
 * (dcmdjpeg, dcmdjpls, dcmdrle / dcmcjpeg, dcmcjpls, dcmcrle) and GDCM for JPEG 2000
 * (gdcmconv --raw / --j2k) on the same files. MB/s are of uncompressed pixel data.
 *
 * Two measurements, printed (and added to bench/RESULTS.md) on every run:
 *
 * 1. Throughput, start-up cancelled ("marginal"). Per codec, a small and a large multi-frame
 *    file of the same image (16 and 256 frames of 128×128 16-bit NM; 4 and 32 frames of
 *    640×480 8-bit RGB for JPEG Baseline), compressed by the peer itself and cached under
 *    bench/.data/codec-marginal/. In interleaved rounds: the peer decoding small and large
 *    (one process each), `tracer convert` decoding small and large, and Tracer decoding every
 *    frame of the large file in-process. Marginal time = median(large) − median(small): the
 *    cost of the extra frames (reading, decoding, writing them) with start-up, WebAssembly
 *    compile and fixed I/O cancelled, for the peer and for `tracer convert` alike. The issue #5
 *    goal, "within 1.5x of native DCMTK on decode" (GDCM for JPEG 2000), is judged on it.
 *    The same for encoding, printed without a goal; and, as the I/O floor, the native files
 *    rewritten in Implicit VR LE without a codec (`tracer convert --ts implicit`, `dcmconv +ti`).
 *    Every ratio is given by wall-clock time and by CPU time (user + system, from bash's
 *    `times`), which a busy machine disturbs less.
 *
 * 2. Per file (start-up bound). One 0.5 MB image or a 2 MB NM file per process, as the peers
 *    are used from a shell: for files this small the process time is mostly start-up (node,
 *    module graph and the 4 MB WebAssembly module for Tracer, ~0.3-0.45 s on a busy 2-core
 *    machine; ~0.05-0.1 s for DCMTK), so these ratios say little about the codecs.
 *
 * Usage: npm run bench:codec [-- options]   (adds the run, newest first, to bench/RESULTS.md)
 *   --rounds N     interleaved rounds of the marginal measurement (default 7, plus one warm-up)
 *   --runs N       runs per figure in the per-file table (default 5)
 *   --codec S      only codecs whose name contains S (case-insensitive), e.g. rle, 2000
 *   --no-encode    skip the marginal encode measurement
 *   --no-per-file  skip the per-file table
 *   --no-write     print only; leave bench/RESULTS.md alone
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TS, transferSyntax } from '../src/dicom/dictionary/index.js';
import { readDicomFile } from '../src/dicom/part10.js';
import { writeDicomFile } from '../src/dicom/write.js';
import { loadCodec } from '../src/pixels/codecs/registry.js';
import { frameBytes, getFrameSync, numberOfFrames } from '../src/pixels/frame.js';
import { transcode } from '../src/pixels/transcode.js';
import { makeImageDataset, writeImage, type SyntheticImage } from '../test/helpers/images.js';
import { dataDir } from './data.js';
import { machineLines, sh } from './machine.js';

const TRACER = fileURLToPath(new URL('../../bin/tracer', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const RUNS = Math.max(1, Number(opt('--runs')) || 5);
const ROUNDS = Math.max(1, Number(opt('--rounds')) || 7);
const ONLY = opt('--codec')?.toLowerCase();
const WITH_ENCODE = !argv.includes('--no-encode');
const PER_FILE = !argv.includes('--no-per-file');
const WRITE = !argv.includes('--no-write');
/** The goal of issue #5: decode within this factor of the peer's time. */
const GOAL = 1.5;

const dir = mkdtempSync(join(tmpdir(), 'tracer-bench-codec-'));

const IMAGES: Record<string, SyntheticImage> = {
  'CT 512×512, 12 bits in 16': {
    rows: 512, columns: 512, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, signed: false, frames: 1, photometric: 'MONOCHROME2', sopClass: '1.2.840.10008.5.1.4.1.1.2',
    value: (_f, r, c) => Math.round(2048 + 1500 * Math.sin(c / 37) * Math.cos(r / 23) + ((c * 7 + r * 13) % 17)),
  },
  'NM 128×128×64 frames, 16 bits': {
    rows: 128, columns: 128, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, signed: false, frames: 64, photometric: 'MONOCHROME2', sopClass: '1.2.840.10008.5.1.4.1.1.20',
    value: (f, r, c) => Math.max(0, Math.round(3000 * Math.exp(-((r - 64) ** 2 + (c - 64) ** 2) / (800 + 10 * f)) + ((r * 31 + c * 17 + f) % 23))),
  },
  'RGB 512×512, 8 bits': {
    rows: 512, columns: 512, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, signed: false, frames: 1, photometric: 'RGB', sopClass: '1.2.840.10008.5.1.4.1.1.7',
    value: (_f, r, c, s) => Math.round(128 + 100 * Math.sin((c + 40 * s) / 29) * Math.cos(r / 31)) & 255,
  },
};

/**
 * The image pairs of the marginal measurement: the same image with few and with many frames
 * (the small file's frames are the large file's first frames).
 */
interface MarginalImage {
  key: string;
  label: string;
  small: number;
  large: number;
  image: (frames: number) => SyntheticImage;
}

const NM16: MarginalImage = {
  key: 'nm16', label: 'NM 128×128, 16 bits', small: 16, large: 256,
  image: (frames) => ({ ...IMAGES['NM 128×128×64 frames, 16 bits']!, frames }),
};

/** A small integer hash of (f, r, c, s): texture and noise that JPEG has to code. */
function noise(f: number, r: number, c: number, s: number): number {
  let h = (Math.imul(f + 1, 0x9e3779b1) ^ Math.imul(r + 7, 0x85ebca6b) ^ Math.imul(c + 13, 0xc2b2ae35) ^ Math.imul(s + 3, 0x27d4eb2f)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return ((h >>> 24) % 13) - 6;
}

const RGB8: MarginalImage = {
  key: 'rgb8', label: 'US-like RGB 640×480, 8 bits', small: 4, large: 32,
  image: (frames) => ({
    rows: 480, columns: 640, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, signed: false, frames, photometric: 'RGB', sopClass: '1.2.840.10008.5.1.4.1.1.3.1',
    // A sector-like bright region that moves from frame to frame, gradients, and noise.
    value: (f, r, c, s) => {
      const d = Math.hypot(r - 40 - 2 * f, c - 320);
      const inside = d < 420 && Math.abs(c - 320) < 0.8 * (r + 20) ? 1 : 0.15;
      const v = inside * (110 + 70 * Math.sin((c + 3 * f + 25 * s) / 23) * Math.cos((r - 2 * f) / 17)) + noise(f, r, c, s);
      return Math.max(0, Math.min(255, Math.round(v)));
    },
  }),
};

interface Codec {
  name: string;
  /** File name part of the cached compressed files. */
  key: string;
  ts: string;
  /** Peer that compresses a native file (args: in, out). */
  peerEncode: [string, string[]];
  /** Peer that decompresses (args: in, out). */
  peerDecode: [string, string[]];
  /** Which images of the per-file table it applies to. */
  applies: (im: SyntheticImage) => boolean;
  /** The image pair of the marginal measurement. */
  marginal: MarginalImage;
}

const ALL_CODECS: Codec[] = [
  { name: 'RLE', key: 'rle', ts: TS.RLELossless, peerEncode: ['dcmcrle', []], peerDecode: ['dcmdrle', []], applies: () => true, marginal: NM16 },
  { name: 'JPEG Lossless SV1', key: 'jpeg-sv1', ts: TS.JPEGLosslessSV1, peerEncode: ['dcmcjpeg', ['+e1']], peerDecode: ['dcmdjpeg', []], applies: () => true, marginal: NM16 },
  { name: 'JPEG-LS lossless', key: 'jpeg-ls', ts: TS.JPEGLSLossless, peerEncode: ['dcmcjpls', []], peerDecode: ['dcmdjpls', []], applies: () => true, marginal: NM16 },
  { name: 'JPEG 2000 lossless', key: 'j2k', ts: TS.JPEG2000Lossless, peerEncode: ['gdcmconv', ['--j2k']], peerDecode: ['gdcmconv', ['--raw']], applies: () => true, marginal: NM16 },
  { name: 'JPEG Baseline (lossy)', key: 'jpeg-baseline', ts: TS.JPEGBaseline8Bit, peerEncode: ['dcmcjpeg', ['+eb']], peerDecode: ['dcmdjpeg', []], applies: (im) => im.bitsStored === 8, marginal: RGB8 },
];
const CODECS = ALL_CODECS.filter((c) => !ONLY || c.name.toLowerCase().includes(ONLY));

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (i - lo);
}

function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

function timeProcess(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, TCP_NODELAY: '1' } });
  const dt = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${String(r.stderr)}`);
  return dt;
}

function timeSync(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function timeAsync(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function timeIt(fn: () => void): number {
  fn(); // warm
  return median(Array.from({ length: RUNS }, () => timeSync(fn)));
}

async function timeItAsync(fn: () => Promise<void>): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) xs.push(await timeAsync(fn));
  return median(xs);
}

function mbps(bytes: number, s: number): string {
  return s > 0 ? (bytes / 1e6 / s).toFixed(1) : 'n/a';
}

function ms(s: number): string {
  return (s * 1000).toFixed(0);
}

function rawBytesOf(im: SyntheticImage): number {
  return im.rows * im.columns * im.samplesPerPixel * (im.bitsAllocated / 8) * im.frames;
}

function peerVersion(cmd: string): string {
  return sh(`${cmd} --version 2>&1 | head -1`).replace(/^\$dcmtk: /, '').replace(/ \$$/, '').replace(/ \$Date\$$/, '');
}

// ---------------------------------------------------------------------------------------
// The marginal files, generated once into bench/.data/codec-marginal/
// ---------------------------------------------------------------------------------------

/** Bump when the generated images change: cached files are then rebuilt. */
const MARGINAL_VERSION = 1;

interface MarginalFiles {
  frames: { small: number; large: number };
  raw: { small: number; large: number };
  native: { small: string; large: string };
  compressed: { small: string; large: string };
}

function marginalDir(): string {
  return join(dataDir(), 'codec-marginal');
}

/** A cached file: made by `make(path)` unless the manifest says `path` was made from `spec`. */
function cached(name: string, spec: string, make: (path: string) => void): string {
  const d = marginalDir();
  mkdirSync(d, { recursive: true });
  const manifestPath = join(d, 'manifest.json');
  const manifest = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>) : {};
  const path = join(d, name);
  if (manifest[name] === spec && existsSync(path)) return path;
  process.stderr.write(`bench: generating ${path} ...\n`);
  rmSync(path, { force: true });
  make(path);
  manifest[name] = spec;
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  return path;
}

function marginalFiles(c: Codec): MarginalFiles {
  const m = c.marginal;
  const one = (frames: number) => {
    const im = m.image(frames);
    const nativeSpec = `v${MARGINAL_VERSION} ${m.key} ${im.rows}x${im.columns}x${im.samplesPerPixel} ${im.bitsAllocated}/${im.bitsStored} frames=${frames}`;
    const native = cached(`${m.key}-${frames}.dcm`, nativeSpec, (path) => {
      writeDicomFile(path, { dataset: makeImageDataset(im, `1.2.826.0.1.3680043.10.1137.9.${frames}`), transferSyntaxUID: TS.ExplicitVRLittleEndian });
    });
    const [cmd, args] = c.peerEncode;
    const compressed = cached(`${m.key}-${frames}.${c.key}.dcm`, `${nativeSpec} | ${cmd} ${args.join(' ')} (${peerVersion(cmd)})`, (path) => {
      execFileSync(cmd, [...args, native, path]);
      const f = readDicomFile(path);
      const ts = f.transferSyntaxUID;
      f.source.close();
      if (ts !== c.ts) throw new Error(`${cmd} wrote ${ts}, not ${c.ts}`);
    });
    return { native, compressed, raw: rawBytesOf(im) };
  };
  const s = one(m.small), l = one(m.large);
  return { frames: { small: m.small, large: m.large }, raw: { small: s.raw, large: l.raw }, native: { small: s.native, large: l.native }, compressed: { small: s.compressed, large: l.compressed } };
}

/** Tracer's decoding of the peer's large file against the native pixels (lossless: equal; lossy: close). */
function checkDecode(c: Codec, files: MarginalFiles): string {
  const enc = readDicomFile(files.compressed.large);
  const nat = readDicomFile(files.native.large);
  try {
    const n = numberOfFrames(enc.dataset);
    if (n !== files.frames.large) throw new Error(`${c.name}: ${n} frames in ${files.compressed.large}, expected ${files.frames.large}`);
    let sum = 0, count = 0, max = 0;
    for (let i = 0; i < n; i++) {
      const a = frameBytes(getFrameSync(enc, i));
      const b = frameBytes(getFrameSync(nat, i));
      if (a.length !== b.length) throw new Error(`${c.name}: frame ${i} decodes to ${a.length} bytes, native has ${b.length}`);
      if (!transferSyntax(c.ts)!.lossy) {
        if (Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) !== 0) throw new Error(`${c.name}: frame ${i} of the peer's lossless stream does not decode to the original pixels`);
        continue;
      }
      for (let k = 0; k < a.length; k++) {
        const e = Math.abs(a[k]! - b[k]!);
        sum += e; count++;
        if (e > max) max = e;
      }
    }
    return transferSyntax(c.ts)!.lossy ? `mean abs error ${(sum / count).toFixed(2)}, max ${max}` : 'bit-exact';
  } finally {
    enc.source.close();
    nat.source.close();
  }
}

/** Seconds per round: wall-clock, and CPU (user + system) of the process or of this process. */
interface Times {
  small: number[];
  large: number[];
}

interface Marginal {
  /** Codec name, or the job for the I/O floor. */
  name: string;
  /** The peer's command line, without the files. */
  peerName: string;
  image: MarginalImage;
  files: MarginalFiles;
  peer: { wall: Times; cpu: Times };
  tracer: { wall: Times; cpu: Times };
  inProcess: { wall: number[]; cpu: number[] };
}

function marginalSeconds(t: Times): number {
  return median(t.large) - median(t.small);
}

/** Tracer's marginal time over the peer's, round by round (paired), as [q1, q3]. */
function pairedRatioIQR(tracer: Times, peer: Times): [number, number] {
  const r = peer.small.map((_, i) => (tracer.large[i]! - tracer.small[i]!) / (peer.large[i]! - peer.small[i]!));
  return [quantile(r, 0.25), quantile(r, 0.75)];
}

/** The ratios of one measurement: Tracer's time over the peer's (per MB of extra pixel data). */
function ratios(m: Marginal, clock: 'wall' | 'cpu'): { perProcess: number; iqr: [number, number]; inProcess: number } {
  const extra = m.files.raw.large - m.files.raw.small;
  const peerM = marginalSeconds(m.peer[clock]);
  const tracerM = marginalSeconds(m.tracer[clock]);
  const valid = peerM > 0 && tracerM > 0;
  return {
    perProcess: valid ? tracerM / peerM : NaN,
    iqr: pairedRatioIQR(m.tracer[clock], m.peer[clock]),
    inProcess: peerM > 0 ? (median(m.inProcess[clock]) / m.files.raw.large) / (peerM / extra) : NaN,
  };
}

/** A child process's wall-clock and CPU time (user + system, from bash's `times`). */
function timeProcessCpu(cmd: string, args: string[]): { wall: number; cpu: number } {
  const t = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null; s=$?; times; exit $s', 'bash', cmd, ...args], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  // `times` prints the shell's user and system time, then its children's: "0m0.079s 0m0.135s".
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((x) => Number(x[1]) * 60 + Number(x[2]));
  if (secs.length !== 2) throw new Error(`cannot read the CPU time of ${cmd} from "${line}"`);
  return { wall, cpu: secs[0]! + secs[1]! };
}

async function timeInProcess(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c = process.cpuUsage();
  const wall = await timeAsync(fn);
  const d = process.cpuUsage(c);
  return { wall, cpu: (d.user + d.system) / 1e6 };
}

/** One marginal measurement: the peer and `tracer convert` on the small and the large input, in interleaved rounds. */
interface Job {
  name: string;
  image: MarginalImage;
  files: MarginalFiles;
  input: { small: string; large: string };
  peer: [string, string[]];
  tracerArgs: string[];
  /** Tracer's in-process work on the large file, if any. */
  inProcess?: () => Promise<void>;
}

async function measure(job: Job, out: string): Promise<Marginal> {
  const [peerCmd, peerArgs] = job.peer;
  const times = (): Times => ({ small: [], large: [] });
  const m: Marginal = {
    name: job.name, peerName: [peerCmd, ...peerArgs].join(' '), image: job.image, files: job.files,
    peer: { wall: times(), cpu: times() }, tracer: { wall: times(), cpu: times() }, inProcess: { wall: [], cpu: [] },
  };
  for (let round = 0; round <= ROUNDS; round++) {
    // Round 0 warms the page cache and this process's codec; it is not recorded.
    const ps = timeProcessCpu(peerCmd, [...peerArgs, job.input.small, out]);
    const pl = timeProcessCpu(peerCmd, [...peerArgs, job.input.large, out]);
    const ts = timeProcessCpu(TRACER, [...job.tracerArgs, job.input.small, out]);
    const tl = timeProcessCpu(TRACER, [...job.tracerArgs, job.input.large, out]);
    const ip = job.inProcess ? await timeInProcess(job.inProcess) : undefined;
    if (round === 0) continue;
    for (const k of ['wall', 'cpu'] as const) {
      m.peer[k].small.push(ps[k]); m.peer[k].large.push(pl[k]);
      m.tracer[k].small.push(ts[k]); m.tracer[k].large.push(tl[k]);
      if (ip) m.inProcess[k].push(ip[k]);
    }
  }
  return m;
}

async function measureCodec(c: Codec, files: MarginalFiles, mode: 'decode' | 'encode', out: string): Promise<Marginal> {
  await loadCodec(c.ts);
  const lossy = transferSyntax(c.ts)!.lossy;
  const input = mode === 'decode' ? files.compressed : files.native;
  const large = readDicomFile(input.large);
  const n = numberOfFrames(large.dataset);
  try {
    return await measure({
      name: c.name, image: c.marginal, files, input,
      peer: mode === 'decode' ? c.peerDecode : c.peerEncode,
      tracerArgs: mode === 'decode' ? ['convert', '--ts', 'explicit'] : ['convert', '--ts', c.ts, ...(lossy ? ['--lossy'] : [])],
      inProcess: mode === 'decode'
        ? async () => { for (let i = 0; i < n; i++) getFrameSync(large, i); }
        : async () => { await transcode(large.dataset, large.transferSyntaxUID, c.ts, { allowLossy: lossy }); },
    }, out);
  } finally {
    large.source.close();
  }
}

/** The I/O floor: the native files rewritten in Implicit VR Little Endian, no codec involved. */
function measureFloor(image: MarginalImage, files: MarginalFiles, out: string): Promise<Marginal> {
  return measure({
    name: 'no codec: native → Implicit VR LE (I/O floor)', image, files, input: files.native,
    peer: ['dcmconv', ['+ti']], tracerArgs: ['convert', '--ts', 'implicit'],
  }, out);
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

function marginalTable(ms_: Marginal[]): string[] {
  const lines = [
    '| Codec | Image, frames small / large (MB apart) | Peer | Peer small / large ms | Peer marginal MB/s | `tracer convert` small / large ms | Tracer marginal MB/s | Tracer in-process MB/s | Tracer/peer, marginal per process: wall (IQR of rounds) | same, CPU time (IQR of rounds) | Tracer in-process/peer marginal: wall | same, CPU time |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const m of ms_) {
    const extra = m.files.raw.large - m.files.raw.small;
    const w = ratios(m, 'wall'), c = ratios(m, 'cpu');
    const pw = m.peer.wall, tw = m.tracer.wall;
    lines.push(`| ${m.name} | ${m.image.label}, ${m.files.frames.small} / ${m.files.frames.large} (${(extra / 1e6).toFixed(1)} MB) | ${m.peerName} | ${ms(median(pw.small))} / ${ms(median(pw.large))} | ${mbps(extra, marginalSeconds(pw))} | ${ms(median(tw.small))} / ${ms(median(tw.large))} | ${mbps(extra, marginalSeconds(tw))} | ${mbps(m.files.raw.large, median(m.inProcess.wall))} | ${fmt(w.perProcess)} (${fmt(w.iqr[0])}-${fmt(w.iqr[1])}) | ${fmt(c.perProcess)} (${fmt(c.iqr[0])}-${fmt(c.iqr[1])}) | ${fmt(w.inProcess)} | ${fmt(c.inProcess)} |`);
  }
  return lines;
}

function goalLines(ms_: Marginal[]): string[] {
  return ms_.map((m) => {
    const peer = m.peerName.split(' ')[0]!;
    const who = peer === 'gdcmconv' ? 'GDCM' : 'DCMTK';
    const w = ratios(m, 'wall'), c = ratios(m, 'cpu');
    const head = `- ${m.name}: within ${GOAL}x of ${who} (${peer}) on decode, marginal throughput:`;
    if (!Number.isFinite(w.perProcess) || !Number.isFinite(c.perProcess)) return `${head} **UNDECIDED**: a marginal time was not positive (too noisy); run again.`;
    const metW = w.perProcess <= GOAL, metC = c.perProcess <= GOAL;
    const verdict = metW && metC ? 'MET' : !metW && !metC ? 'NOT MET' : `BORDERLINE (${metW ? 'met' : 'not met'} by wall-clock, ${metC ? 'met' : 'not met'} by CPU time)`;
    const noisy = [w, c].some((r) => (r.iqr[0] <= GOAL) !== (r.iqr[1] <= GOAL)) ? `; a round-by-round interquartile range straddles ${GOAL}` : '';
    return `${head} **${verdict}**: \`tracer convert\` takes ${fmt(w.perProcess)}x the peer's wall-clock time per extra MB, ${fmt(c.perProcess)}x its CPU time; in-process decoding ${fmt(w.inProcess)}x / ${fmt(c.inProcess)}x${noisy}.`;
  });
}

// ---------------------------------------------------------------------------------------
// Per file (start-up bound)
// ---------------------------------------------------------------------------------------

async function perFileRows(): Promise<string[]> {
  const rows: string[] = [];
  for (const [label, im] of Object.entries(IMAGES)) {
    const native = join(dir, `${label.replace(/[^a-z0-9]+/gi, '_')}.dcm`);
    writeImage(native, im);
    const rawBytes = rawBytesOf(im);
    for (const c of CODECS) {
      if (!c.applies(im)) continue;
      await loadCodec(c.ts);
      // The same compressed input for both decoders: the peer's encoding.
      const compressed = `${native}.${c.ts}.dcm`;
      execFileSync(c.peerEncode[0], [...c.peerEncode[1], native, compressed]);
      const size = readFileSync(compressed).length;
      const file = readDicomFile(compressed);
      const n = numberOfFrames(file.dataset);
      const decIn = timeIt(() => { for (let i = 0; i < n; i++) getFrameSync(file, i); });
      const out = join(dir, 'out.dcm');
      const decProc = median(Array.from({ length: RUNS }, () => timeProcess(TRACER, ['convert', '--ts', 'explicit', compressed, out])));
      const decPeer = median(Array.from({ length: RUNS }, () => timeProcess(c.peerDecode[0], [...c.peerDecode[1], compressed, out])));
      file.source.close();
      // Encoding from the native file.
      const nf = readDicomFile(native);
      const lossy = transferSyntax(c.ts)!.lossy;
      const encIn = await timeItAsync(async () => { await transcode(nf.dataset, nf.transferSyntaxUID, c.ts, { allowLossy: lossy }); });
      const encArgs = ['convert', '--ts', c.ts, ...(lossy ? ['--lossy'] : []), native, out];
      const encProc = median(Array.from({ length: RUNS }, () => timeProcess(TRACER, encArgs)));
      const encPeer = median(Array.from({ length: RUNS }, () => timeProcess(c.peerEncode[0], [...c.peerEncode[1], native, out])));
      nf.source.close();
      const ratio = (rawBytes / size).toFixed(2);
      rows.push(`| ${label} | ${c.name} | ${ratio} | ${mbps(rawBytes, decIn)} | ${mbps(rawBytes, decProc)} | ${mbps(rawBytes, decPeer)} (${c.peerDecode[0]}) | ${(decProc / decPeer).toFixed(2)} | ${mbps(rawBytes, encIn)} | ${mbps(rawBytes, encProc)} | ${mbps(rawBytes, encPeer)} (${c.peerEncode[0]}) |`);
      console.log(rows[rows.length - 1]);
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const machine = machineLines([
    `dcmtk: ${peerVersion('dcmdjpeg')}`,
    `gdcm: ${peerVersion('gdcmconv')}`,
    `marginal: ${ROUNDS} interleaved rounds after 1 warm-up round; per file: median of ${RUNS} runs after 1 warm-up (in-process)`,
  ]);
  console.log(machine);
  console.log('');
  const out = join(dir, 'out.dcm');

  // 1. Marginal throughput.
  const decode: Marginal[] = [];
  const encode: Marginal[] = [];
  const checks: string[] = [];
  const floorFiles = new Map<MarginalImage, MarginalFiles>();
  for (const c of CODECS) {
    const files = marginalFiles(c);
    await loadCodec(c.ts);
    const check = checkDecode(c, files);
    const size = { small: readFileSync(files.compressed.small).length, large: readFileSync(files.compressed.large).length };
    checks.push(`- ${c.name}: ${c.peerEncode.flat().join(' ')}, ${c.marginal.label}: ${(size.small / 1e6).toFixed(2)} / ${(size.large / 1e6).toFixed(2)} MB compressed (ratio ${(files.raw.large / size.large).toFixed(2)}); Tracer's decoding of the large file: ${check}`);
    console.log(checks[checks.length - 1]);
    floorFiles.set(c.marginal, files);
    decode.push(await measureCodec(c, files, 'decode', out));
    console.log(marginalTable([decode[decode.length - 1]!]).at(-1));
    if (WITH_ENCODE) {
      encode.push(await measureCodec(c, files, 'encode', out));
      console.log(marginalTable([encode[encode.length - 1]!]).at(-1));
    }
  }
  const floor: Marginal[] = [];
  for (const [image, files] of floorFiles) {
    floor.push(await measureFloor(image, files, out));
    console.log(marginalTable([floor[floor.length - 1]!]).at(-1));
  }
  const decodeTable = marginalTable([...decode, ...floor]);
  const encodeTable = WITH_ENCODE ? marginalTable(encode) : [];
  const goals = goalLines(decode);
  console.log('\nDecode, marginal throughput (start-up cancelled):');
  console.log(decodeTable.join('\n'));
  console.log('');
  console.log(goals.join('\n'));
  if (WITH_ENCODE) {
    console.log('\nEncode, marginal throughput (start-up cancelled; no goal):');
    console.log(encodeTable.join('\n'));
  }

  // 2. Per file.
  const rows = PER_FILE ? await perFileRows() : [];
  const loadEnd = `load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
  console.log(loadEnd);

  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const heading = '## bench/codec: decode and encode throughput against DCMTK and GDCM';
  const run = [
    `### ${date} UTC (node ${process.version}, ${process.platform}/${process.arch})`,
    '',
    '```',
    machine,
    loadEnd,
    '```',
    '',
    '#### Throughput with start-up cancelled (marginal)',
    '',
    `Each codec decodes (and encodes) a small and a large multi-frame file of the same image, compressed by the peer itself. Marginal time = median(large) − median(small) over ${ROUNDS} interleaved rounds: the cost of the extra frames (read, decode, write), with process start-up, the WebAssembly compile and fixed I/O cancelled, for the peer and for \`tracer convert\` alike. MB/s are of the extra uncompressed pixel data. The last rows (no codec) rewrite the native files in Implicit VR Little Endian, \`tracer convert --ts implicit\` against \`dcmconv +ti\`: the cost of reading and writing the extra data alone (Tracer's writer fsyncs the file before renaming it into place; DCMTK's tools do not fsync). "In-process" is Tracer decoding every frame of the large file (parsed already, codec loaded; no file I/O), against the peer's marginal time per MB. Ratios are Tracer's time over the peer's: below 1, Tracer is faster. Each ratio is given by wall-clock time and by CPU time (user + system of the process, read with bash's \`times\`; in-process, this process's), which depends less on the load of a shared machine; node's CPU time includes its background threads (WebAssembly tier-up, garbage collection). The interquartile range (IQR of rounds) is of the same ratio taken round by round (each round's large − small, Tracer over peer), a measure of the noise; it need not contain the ratio of the medians. The goal is MET when both per-process ratios are at most ${GOAL}, NOT MET when both are above, BORDERLINE otherwise.`,
    '',
    'Inputs:',
    '',
    ...checks,
    '',
    'Decode:',
    '',
    ...decodeTable,
    '',
    `Goal (issue #5), "within ${GOAL}x of native DCMTK on decode" (GDCM for JPEG 2000), judged on the marginal per-process ratio:`,
    '',
    ...goals,
    '',
    ...(WITH_ENCODE ? ['Encode (no goal; the peers\' encoders and Tracer\'s need not produce the same stream):', '', ...encodeTable, ''] : []),
    ...(PER_FILE ? [
      '#### Per file: start-up bound',
      '',
      `One process per file, median of ${RUNS} runs: peers and \`tracer convert\` alike pay start-up, reading and writing on every file (Tracer also loads the 4 MB WebAssembly module on each start). For these single images (0.5-0.8 MB) and the 2 MB NM file **the process figures measure mostly start-up, not the codecs**; read the marginal table above for throughput. "In-process" is Tracer decoding or encoding every frame of an already parsed file with the codec loaded. The compressed inputs are the peers' own encodings. "Tracer/peer time, process" below 1 means \`tracer convert\` was faster than the peer.`,
      '',
      '| Image | Codec | Ratio | Decode in-process | Decode `tracer convert` | Decode peer (process) | Tracer/peer time, process | Encode in-process | Encode `tracer convert` | Encode peer (process) |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ] : []),
  ].join('\n');
  if (!WRITE) return;
  // Newest first within the section; earlier runs stay (notes on them are added by hand).
  let text = readFileSync(RESULTS, 'utf8');
  const start = text.indexOf(heading);
  if (start >= 0) {
    const at = start + heading.length + 1;
    text = `${text.slice(0, at)}\n${run}\n${text.slice(at).replace(/^\n+/, '')}`;
  } else {
    text = `${text.replace(/\n*$/, '\n\n')}${heading}\n\n${run}`;
  }
  writeFileSync(RESULTS, text);
  console.log(`\nwritten to ${RESULTS}`);
}

main().finally(() => rmSync(dir, { recursive: true, force: true })).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
