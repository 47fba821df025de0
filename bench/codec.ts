/**
 * Codec throughput: Tracer's decoders and encoders against DCMTK's command-line codecs
 * (dcmdjpeg, dcmdjpls, dcmdrle / dcmcjpeg, dcmcjpls, dcmcrle) and GDCM for JPEG 2000
 * (gdcmconv --raw / --j2k) on the same files. MB/s are of uncompressed pixel data.
 *
 * Fairness: the peers run as one process per file (that is how they are used); their time
 * includes start-up, reading and writing the file. Tracer is timed both ways: in-process
 * (decode or encode of every frame, file already parsed, codec loaded: the cost inside the
 * Storage SCU or a viewer) and as `tracer convert` per file (start-up, WebAssembly load,
 * read, transcode, write: the same job as the peers). Each figure is the median of 5 runs.
 *
 * Usage: npm run bench:codec  (adds the run, newest first, to bench/RESULTS.md's bench/codec section)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TS, transferSyntax } from '../src/dicom/dictionary/index.js';
import { readDicomFile } from '../src/dicom/part10.js';
import { loadCodec } from '../src/pixels/codecs/registry.js';
import { getFrameSync, numberOfFrames } from '../src/pixels/frame.js';
import { transcode } from '../src/pixels/transcode.js';
import { writeImage, type SyntheticImage } from '../test/helpers/images.js';

const TRACER = fileURLToPath(new URL('../../bin/tracer', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
const RUNS = 5;

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

interface Codec {
  name: string;
  ts: string;
  /** Peer that compresses a native file (args: in, out). */
  peerEncode: [string, string[]];
  /** Peer that decompresses (args: in, out). */
  peerDecode: [string, string[]];
  /** Which images it applies to. */
  applies: (im: SyntheticImage) => boolean;
}

const CODECS: Codec[] = [
  { name: 'RLE', ts: TS.RLELossless, peerEncode: ['dcmcrle', []], peerDecode: ['dcmdrle', []], applies: () => true },
  { name: 'JPEG Lossless SV1', ts: TS.JPEGLosslessSV1, peerEncode: ['dcmcjpeg', ['+e1']], peerDecode: ['dcmdjpeg', []], applies: () => true },
  { name: 'JPEG-LS lossless', ts: TS.JPEGLSLossless, peerEncode: ['dcmcjpls', []], peerDecode: ['dcmdjpls', []], applies: () => true },
  { name: 'JPEG 2000 lossless', ts: TS.JPEG2000Lossless, peerEncode: ['gdcmconv', ['--j2k']], peerDecode: ['gdcmconv', ['--raw']], applies: () => true },
  { name: 'JPEG Baseline (lossy)', ts: TS.JPEGBaseline8Bit, peerEncode: ['dcmcjpeg', ['+eb']], peerDecode: ['dcmdjpeg', []], applies: (im) => im.bitsStored === 8 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeProcess(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, TCP_NODELAY: '1' } });
  const dt = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${String(r.stderr)}`);
  return dt;
}

function timeIt(fn: () => void): number {
  fn(); // warm
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    fn();
    xs.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return median(xs);
}

async function timeItAsync(fn: () => Promise<void>): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    xs.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return median(xs);
}

function mbps(bytes: number, s: number): string {
  return (bytes / 1e6 / s).toFixed(1);
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const [label, im] of Object.entries(IMAGES)) {
    const native = join(dir, `${label.replace(/[^a-z0-9]+/gi, '_')}.dcm`);
    writeImage(native, im);
    const rawBytes = im.rows * im.columns * im.samplesPerPixel * (im.bitsAllocated / 8) * im.frames;
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
  const header = [
    '| Image | Codec | Ratio | Decode in-process | Decode `tracer convert` | Decode peer (process) | Tracer/peer time, process | Encode in-process | Encode `tracer convert` | Encode peer (process) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const date = new Date().toISOString().slice(0, 10);
  const heading = '## bench/codec: decode and encode throughput against DCMTK and GDCM';
  const run = [
    `### ${date} (node ${process.version}, ${process.platform}/${process.arch})`,
    '',
    'MB/s of uncompressed pixel data, median of 5 runs. Peers run one process per file (start-up, read, write included), as does `tracer convert` (which also loads the 4 MB WebAssembly module on each start); "in-process" is Tracer decoding or encoding every frame of an already parsed file with the codec loaded. The compressed inputs are the peers\' own encodings. "Tracer/peer time, process" below 1 means `tracer convert` was faster than the peer.',
    '',
    ...header,
    ...rows,
    '',
  ].join('\n');
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
