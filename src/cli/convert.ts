/** `tracer convert --ts SYNTAX IN OUT`: rewrites a file in another transfer syntax, transcoding pixel data when needed. */
import { transferSyntax } from '../dicom/dictionary/index.js';
import { readDicomFile } from '../dicom/part10.js';
import { writeDicomFile } from '../dicom/write.js';
import { parse } from './args.js';

/**
 * The pixel modules (transcoding, the codec table and the codecs) are loaded only when a
 * compressed syntax is involved: between native syntaxes the writer does all the work (byte
 * order, VR encoding), and the process starts without them.
 */
async function pixelModules() {
  const [registry, transcoding] = await Promise.all([import('../pixels/codecs/registry.js'), import('../pixels/transcode.js')]);
  return { whyNotEncodable: registry.whyNotEncodable, lossyTarget: transcoding.lossyTarget, transcode: transcoding.transcode, FrameDecodeError: transcoding.FrameDecodeError };
}

const HELP = `Usage: tracer convert --ts SYNTAX [options] IN OUT

Rewrites a DICOM file in another transfer syntax (name, keyword, alias or UID), e.g.
  implicit | explicit | big | deflate                 uncompressed
  rle | jpeg-lossless (SV1) | jpeg-p14 | jpeg-ls | j2k-lossless | htj2k-lossless   lossless
  jpeg-baseline | j2k | jpeg-ls-lossy                                          lossy (need --lossy)
JPEG Extended (12-bit lossy) and the retired JPEG processes are read, not written.
Compressed pixel data are decoded and re-encoded frame by frame. Lossy targets set Lossy
Image Compression (0028,2110) = 01 with ratio and method, and a new SOP Instance UID.

Options:
  --ts SYNTAX            target transfer syntax (required)
  --lossy                allow a lossy target syntax
  --quality N            JPEG Baseline quality 1-100 (default 90)
  --ratio R              JPEG 2000 lossy compression ratio (default 10)
  --near N               JPEG-LS near-lossless error bound (default 2)
  --group-length MODE    keep | add | remove group length elements (default keep)
  --lengths MODE         keep | defined | undefined sequence and item lengths (default keep)
  -h, --help             show this help`;

function numberOption(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max} (got '${String(v)}')`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ts: { type: 'string' },
    lossy: { type: 'boolean' },
    quality: { type: 'string' },
    ratio: { type: 'string' },
    near: { type: 'string' },
    'group-length': { type: 'string' },
    lengths: { type: 'string' },
  }, HELP);
  if (!parsed) return 0;
  const [input, output] = parsed.positionals;
  if (!parsed.values.ts || !input || !output || parsed.positionals.length !== 2) throw new Error(`need --ts, IN and OUT\n${HELP}`);
  const ts = transferSyntax(parsed.values.ts as string);
  if (!ts) throw new Error(`unknown transfer syntax '${String(parsed.values.ts)}'`);
  const gl = (parsed.values['group-length'] as string | undefined) ?? 'keep';
  const sl = (parsed.values.lengths as string | undefined) ?? 'keep';
  if (!['keep', 'add', 'remove'].includes(gl)) throw new Error(`--group-length must be keep, add or remove (got '${gl}')`);
  if (!['keep', 'defined', 'undefined'].includes(sl)) throw new Error(`--lengths must be keep, defined or undefined (got '${sl}')`);
  const allowLossy = parsed.values.lossy === true;
  let pixels = ts.encapsulated ? await pixelModules() : undefined;
  if (pixels) {
    // A syntax Tracer cannot write is refused for that reason first, not for a missing --lossy.
    const refusal = pixels.whyNotEncodable(ts.uid);
    if (refusal) throw new Error(refusal);
    if (pixels.lossyTarget(ts.uid) && !allowLossy) throw new Error(`${ts.name} is a lossy syntax: add --lossy to allow lossy compression`);
  }
  const quality = numberOption(parsed.values.quality, 'quality', 1, 100);
  const ratio = numberOption(parsed.values.ratio, 'ratio', 1, 1000);
  const near = numberOption(parsed.values.near, 'near', 0, 255);
  const file = readDicomFile(input);
  try {
    const from = file.transferSyntaxUID;
    const failed = (err: unknown) => new Error(`${input}: conversion from ${transferSyntax(from)?.name ?? from} to ${ts.name} failed: ${(err as Error).message}`);
    // Unknown source syntaxes go through transcode() too, which says why it cannot convert them.
    const fromTs = transferSyntax(from);
    if (!fromTs || fromTs.encapsulated) pixels ??= await pixelModules();
    let r: { dataset: typeof file.dataset; lossy: boolean; newSopInstanceUID?: string; ratio?: number };
    try {
      // Into a native syntax, frames after the first are decoded as the writer writes them, one
      // frame in memory at a time (the file stays open until written).
      r = pixels ? await pixels.transcode(file.dataset, from, ts.uid, { allowLossy, quality, ratio, near, decodeWhenRead: true }) : { dataset: file.dataset, lossy: false };
    } catch (err) {
      throw failed(err);
    }
    const meta = file.meta.size ? file.meta : undefined;
    if (meta && r.newSopInstanceUID) meta.setString(0x00020003, 'UI', r.newSopInstanceUID);
    try {
      writeDicomFile(output, { dataset: r.dataset, meta, transferSyntaxUID: ts.uid, preamble: file.preamble },
        { groupLength: gl as 'keep', sequenceLength: sl as 'keep' });
    } catch (err) {
      // A frame that fails to decode while written is reported as if transcode() had met it.
      if (pixels && err instanceof pixels.FrameDecodeError) throw failed(err);
      throw err;
    }
    if (r.lossy) process.stderr.write(`lossy: ratio ${r.ratio?.toFixed(2)}:1, new SOP Instance UID ${r.newSopInstanceUID}\n`);
  } finally {
    file.source.close();
  }
  return 0;
}
