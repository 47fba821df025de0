/** `tracer render FILE [options] [-o OUT.png]`: renders one frame to PNG, like dcm2pnm. */
import { writeFileSync } from 'node:fs';
import { readDicomFile } from '../dicom/part10.js';
import { numberOfFrames } from '../pixels/frame.js';
import { encodePng } from '../pixels/png.js';
import { renderImage, type RenderOptions } from '../pixels/render.js';
import type { VoiFunction } from '../pixels/lut.js';
import { parse } from './args.js';

const HELP = `Usage: tracer render FILE [options] [-o OUT.png]

Renders one frame of a DICOM image to an 8-bit grayscale or RGB PNG: Modality LUT,
VOI (window or VOI LUT), Presentation LUT Shape / MONOCHROME1 for grayscale images;
RGB, YBR_FULL, YBR_FULL_422, YBR_PARTIAL_422 and PALETTE COLOR converted to RGB.

VOI by default: the first window in the file, else its first VOI LUT, else the
minimum and maximum of the frame (dcm2pnm +Wi 1, +Wl 1, +Wm).

Options:
  -f, --frame N          frame to render, 1-based as dcm2pnm +F (default 1)
  -w, --window C,W       window centre and width (negative centre: --window=-600,1500)
      --use-window N     the N-th window of the file (1-based, dcm2pnm +Wi)
      --voi-lut N        the N-th VOI LUT of the file (1-based, dcm2pnm +Wl)
      --function F       VOI LUT function for --window: LINEAR, LINEAR_EXACT, SIGMOID
      --min-max          window from the frame's minimum and maximum (dcm2pnm +Wm)
      --no-windowing     no VOI: the full range of the stored bits (dcm2pnm -W)
      --no-modality      ignore Rescale Slope/Intercept and Modality LUT (dcm2pnm -M)
      --presentation S   IDENTITY or INVERSE, overriding the file's polarity
  -o, --output FILE      PNG to write ('-' or none: standard output, unless a terminal)
  -v, --verbose          print the size and the VOI applied on standard error
  -h, --help             show this help`;

function positiveInt(s: string, name: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer (got '${s}')`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    frame: { type: 'string', short: 'f' },
    window: { type: 'string', short: 'w' },
    'use-window': { type: 'string' },
    'voi-lut': { type: 'string' },
    function: { type: 'string' },
    'min-max': { type: 'boolean' },
    'no-windowing': { type: 'boolean' },
    'no-modality': { type: 'boolean' },
    presentation: { type: 'string' },
    output: { type: 'string', short: 'o' },
    verbose: { type: 'boolean', short: 'v' },
  }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  if (parsed.positionals.length !== 1) throw new Error(`need exactly one FILE\n${HELP}`);
  const input = parsed.positionals[0]!;
  const opts: RenderOptions = {};
  if (v.frame !== undefined) opts.frame = positiveInt(v.frame, '--frame') - 1;
  let fn: VoiFunction | undefined;
  if (v.function !== undefined) {
    const f = String(v.function).toUpperCase();
    if (f !== 'LINEAR' && f !== 'LINEAR_EXACT' && f !== 'SIGMOID') throw new Error(`--function must be LINEAR, LINEAR_EXACT or SIGMOID (got '${v.function}')`);
    fn = f;
  }
  const voiChoices = ['window', 'use-window', 'voi-lut', 'min-max', 'no-windowing'].filter((k) => v[k] !== undefined);
  if (voiChoices.length > 1) throw new Error(`choose one of --${voiChoices.join(', --')}`);
  if (v.window !== undefined) {
    const m = /^\s*([-+]?[0-9.eE+-]+)\s*[,\\/ ]\s*([-+]?[0-9.eE+-]+)\s*$/.exec(v.window);
    const c = m ? Number(m[1]) : NaN, w = m ? Number(m[2]) : NaN;
    if (!Number.isFinite(c) || !Number.isFinite(w)) throw new Error(`--window takes CENTRE,WIDTH (got '${v.window}')`);
    opts.window = { center: c, width: w, function: fn };
  } else if (fn) {
    throw new Error('--function applies to --window');
  }
  if (v['use-window'] !== undefined) opts.windowIndex = positiveInt(v['use-window'], '--use-window') - 1;
  if (v['voi-lut'] !== undefined) opts.voiLutIndex = positiveInt(v['voi-lut'], '--voi-lut') - 1;
  if (v['min-max']) opts.voi = 'minmax';
  if (v['no-windowing']) opts.voi = 'none';
  if (v['no-modality']) opts.modality = false;
  if (v.presentation !== undefined) {
    const p = String(v.presentation).toUpperCase();
    if (p !== 'IDENTITY' && p !== 'INVERSE') throw new Error(`--presentation must be IDENTITY or INVERSE (got '${v.presentation}')`);
    opts.presentation = p;
  }
  const out: string | undefined = v.output;
  if ((out === undefined || out === '-') && process.stdout.isTTY) throw new Error('the PNG would go to a terminal: give -o OUT.png');

  const file = readDicomFile(input);
  let png: Buffer;
  try {
    const frames = numberOfFrames(file.dataset);
    if ((opts.frame ?? 0) >= frames) throw new Error(`${input}: frame ${(opts.frame ?? 0) + 1} requested, the image has ${frames} frame(s)`);
    const img = await renderImage(file, opts);
    if (v.verbose) {
      const voi = img.voi;
      const what = !voi ? 'colour' : voi.kind === 'window' ? `window ${voi.center}/${voi.width} ${voi.function} (${voi.source})` : voi.kind === 'lut' ? `VOI LUT ${voi.index + 1}` : 'no VOI';
      console.error(`${input}: frame ${(opts.frame ?? 0) + 1}, ${img.width}×${img.height}, ${img.channels === 1 ? 'grayscale' : 'RGB'}, ${what}${img.presentation === 'INVERSE' ? ', inverted' : ''}`);
    }
    png = encodePng(img);
  } finally {
    file.source.close();
  }
  if (out === undefined || out === '-') process.stdout.write(png);
  else writeFileSync(out, png);
  return 0;
}
