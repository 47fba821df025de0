/**
 * The WebAssembly codec library: dcmjs-codecs (npm, MIT), one module built with Emscripten
 * from the IJG libjpeg 6b family with 8/12/16-bit and lossless support (the same code line
 * DCMTK's dcmjpeg uses), CharLS 2.3.4, OpenJPEG 2.5.0 and OpenJPH 0.18.2. Loaded once, on
 * first use, so that commands that never touch compressed pixels do not pay for it. This
 * file is the only one that knows that library's API.
 *
 * Its bundle takes dcmjs (a 1.4 MB library, 100-150 ms to load) as a webpack external, used
 * only by its data set classes (Transcoder, DicomImage and the helpers they call); Tracer
 * uses NativeCodecs and Context, which never touch it. So the bundle is evaluated here with a
 * stand-in for dcmjs whose members throw if anything ever calls them, and dcmjs is not
 * loaded; should the bundle not take that (another version), it is loaded the ordinary way.
 * Nothing in node_modules is changed. What is left is compiling the 4 MB module (about
 * 0.1 s).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { runInThisContext } from 'node:vm';
import type { PixelDescription } from '../frame.js';

interface WasmContext {
  getDecodedBuffer(): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  getPhotometricInterpretation(): string | undefined;
  getBitsAllocated(): number | undefined;
  getBitsStored(): number | undefined;
  getPlanarConfiguration(): number | undefined;
  getPixelRepresentation(): number | undefined;
}
type CodecFn = (ctx: WasmContext, params?: Record<string, unknown>) => WasmContext;
export interface WasmLibrary {
  NativeCodecs: Record<'decodeJpeg' | 'encodeJpeg' | 'decodeJpegLs' | 'encodeJpegLs' | 'decodeJpeg2000' | 'encodeJpeg2000' | 'decodeHtJpeg2000' | 'encodeHtJpeg2000', CodecFn> & {
    initializeAsync(opts?: Record<string, unknown>): Promise<void>;
  };
  Context: new (attrs: Record<string, unknown>) => WasmContext;
  log: { setLevel(level: string): void };
}

export const WASM_LIBRARY = 'dcmjs-codecs';
let lib: WasmLibrary | undefined;
let loading: Promise<void> | undefined;

/** A dcmjs whose every member throws when used: the bundle only destructures it on load. */
function dcmjsStandIn(): unknown {
  const fail = (): never => { throw new Error('dcmjs is not loaded: Tracer uses dcmjs-codecs\' NativeCodecs only'); };
  const member: ProxyHandler<object> = { get: () => new Proxy(fail, { apply: fail, construct: fail, get: fail }), set: () => true };
  return new Proxy({}, { get: () => new Proxy({}, member), set: () => true });
}

/** The dcmjs-codecs bundle evaluated as CommonJS with the stand-in for its dcmjs external. */
function requireWithoutDcmjs(req: NodeRequire): WasmLibrary {
  const file = req.resolve('dcmjs-codecs');
  const wrapper = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, { filename: file }) as
    (e: object, r: (id: string) => unknown, m: { exports: object }, f: string, d: string) => void;
  const module = { exports: {} };
  const standIn = dcmjsStandIn();
  const bundleRequire = createRequire(file);
  wrapper(module.exports, (id) => (id === 'dcmjs' ? standIn : bundleRequire(id)), module, file, dirname(file));
  const m = module.exports as Partial<WasmLibrary>;
  if (typeof m.NativeCodecs?.initializeAsync !== 'function' || typeof m.Context !== 'function' || typeof m.log?.setLevel !== 'function') {
    throw new Error('dcmjs-codecs bundle has another shape');
  }
  return m as WasmLibrary;
}

/** Loads and instantiates the WebAssembly module (once). */
export function loadWasm(): Promise<void> {
  loading ??= (async () => {
    const req = createRequire(import.meta.url);
    let m: WasmLibrary;
    try {
      m = requireWithoutDcmjs(req);
    } catch {
      m = req('dcmjs-codecs') as WasmLibrary;
    }
    // The library logs codec warnings through loglevel; errors reach us as exceptions.
    m.log.setLevel('silent');
    await m.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
    lib = m;
  })();
  return loading;
}

export function wasmLoaded(): boolean {
  return lib !== undefined;
}

function library(): WasmLibrary {
  if (!lib) throw new Error('the WebAssembly codecs are not loaded: call `await loadCodec(transferSyntaxUID)` (or use getFrame, which does)');
  return lib;
}

const KNOWN_PI = ['MONOCHROME1', 'MONOCHROME2', 'PALETTE COLOR', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_PARTIAL_422', 'YBR_PARTIAL_420', 'YBR_ICT', 'YBR_RCT'];

function contextAttrs(d: PixelDescription): Record<string, unknown> {
  return {
    width: d.columns,
    height: d.rows,
    bitsAllocated: d.bitsAllocated,
    bitsStored: d.bitsStored,
    samplesPerPixel: d.samplesPerPixel,
    pixelRepresentation: d.pixelRepresentation,
    planarConfiguration: 0,
    photometricInterpretation: KNOWN_PI.includes(d.photometricInterpretation) ? d.photometricInterpretation : d.samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2',
  };
}

export interface WasmOutput {
  bytes: Uint8Array;
  photometricInterpretation?: string;
  bitsStored?: number;
  pixelRepresentation?: number;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function wasmDecode(fn: 'decodeJpeg' | 'decodeJpegLs' | 'decodeJpeg2000' | 'decodeHtJpeg2000', encoded: Uint8Array, d: PixelDescription, params: Record<string, unknown> = {}): WasmOutput {
  const { NativeCodecs, Context } = library();
  const ctx = new Context({ ...contextAttrs(d), encodedBuffer: encoded });
  let out: WasmContext;
  try {
    out = NativeCodecs[fn](ctx, params);
  } catch (err) {
    throw new Error(`${fn.replace('decode', '')} decoding failed: ${message(err)}`);
  }
  return { bytes: out.getDecodedBuffer(), photometricInterpretation: out.getPhotometricInterpretation(), pixelRepresentation: out.getPixelRepresentation() };
}

export function wasmEncode(fn: 'encodeJpeg' | 'encodeJpegLs' | 'encodeJpeg2000' | 'encodeHtJpeg2000', decoded: Uint8Array, d: PixelDescription, params: Record<string, unknown> = {}): WasmOutput {
  const { NativeCodecs, Context } = library();
  const ctx = new Context({ ...contextAttrs(d), decodedBuffer: decoded });
  let out: WasmContext;
  try {
    out = NativeCodecs[fn](ctx, params);
  } catch (err) {
    throw new Error(`${fn.replace('encode', '')} encoding failed: ${message(err)}`);
  }
  return { bytes: out.getEncodedBuffer(), photometricInterpretation: out.getPhotometricInterpretation() };
}
