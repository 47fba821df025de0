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
  constants?: { PhotometricInterpretation?: Record<string, string> };
}

/**
 * The module's own exports, which NativeCodecs keeps (once initialised) as `wasmApi`, each
 * under its C name with a 'wasm' prefix (CodecsContext.cpp, DecoderParameters.cpp and
 * Decoders.cpp of dcmjs-codecs). Pointers and size_t are 32-bit numbers.
 */
interface WasmApi {
  wasmMemory: { readonly buffer: ArrayBuffer };
  wasmCreateCodecsContext(): number;
  wasmReleaseCodecsContext(ctx: number): void;
  wasmSetColumns(ctx: number, v: number): void;
  wasmSetRows(ctx: number, v: number): void;
  wasmSetBitsAllocated(ctx: number, v: number): void;
  wasmSetBitsStored(ctx: number, v: number): void;
  wasmSetSamplesPerPixel(ctx: number, v: number): void;
  wasmSetPixelRepresentation(ctx: number, v: number): void;
  wasmSetPlanarConfiguration(ctx: number, v: number): void;
  wasmSetPhotometricInterpretation(ctx: number, v: number): void;
  wasmSetEncodedBufferSize(ctx: number, n: number): void;
  wasmGetEncodedBuffer(ctx: number): number;
  wasmSetDecodedBufferSize(ctx: number, n: number): void;
  wasmGetDecodedBuffer(ctx: number): number;
  wasmGetDecodedBufferSize(ctx: number): number;
  wasmCreateDecoderParameters(): number;
  wasmReleaseDecoderParameters(params: number): void;
  wasmSetConvertColorspaceToRgb(params: number, v: number): void;
  wasmDecodeJpeg(ctx: number, params: number): void;
  wasmDecodeJpegLs(ctx: number, params: number): void;
  wasmDecodeJpeg2000(ctx: number, params: number): void;
  wasmDecodeHtJpeg2000(ctx: number, params: number): void;
}
const API_FUNCTIONS = ['wasmCreateCodecsContext', 'wasmReleaseCodecsContext', 'wasmSetColumns', 'wasmSetRows', 'wasmSetBitsAllocated', 'wasmSetBitsStored',
  'wasmSetSamplesPerPixel', 'wasmSetPixelRepresentation', 'wasmSetPlanarConfiguration', 'wasmSetPhotometricInterpretation', 'wasmSetEncodedBufferSize',
  'wasmGetEncodedBuffer', 'wasmSetDecodedBufferSize', 'wasmGetDecodedBuffer', 'wasmGetDecodedBufferSize', 'wasmCreateDecoderParameters',
  'wasmReleaseDecoderParameters', 'wasmSetConvertColorspaceToRgb', 'wasmDecodeJpeg', 'wasmDecodeJpegLs', 'wasmDecodeJpeg2000', 'wasmDecodeHtJpeg2000'] as const;

export const WASM_LIBRARY = 'dcmjs-codecs';
let lib: WasmLibrary | undefined;
/** The module's exports for decoding, when this version of the bundle has them as expected. */
let api: { fns: WasmApi; photometric: string[] } | undefined;
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
    api = directApi(m);
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

function contextAttrs(d: PixelDescription) {
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

/** One call through the library's own NativeCodecs, a failure reported as `<what> <verb> failed: ...`. */
function libraryCall(fn: DecodeFn | EncodeFn, buffer: { encodedBuffer: Uint8Array } | { decodedBuffer: Uint8Array }, d: PixelDescription, params: Record<string, unknown>, failed: string): WasmContext {
  const { NativeCodecs, Context } = library();
  const ctx = new Context({ ...contextAttrs(d), ...buffer });
  try {
    return NativeCodecs[fn](ctx, params);
  } catch (err) {
    throw new Error(`${failed} failed: ${message(err)}`);
  }
}

/** The decoding exports and the photometric enumeration (CodecsContext.h), or undefined when the bundle differs. */
function directApi(m: WasmLibrary): { fns: WasmApi; photometric: string[] } | undefined {
  const fns = (m.NativeCodecs as unknown as { wasmApi?: Partial<WasmApi> }).wasmApi;
  const pi = m.constants?.PhotometricInterpretation;
  if (!fns || !(fns.wasmMemory?.buffer instanceof ArrayBuffer) || !pi || API_FUNCTIONS.some((f) => typeof fns[f] !== 'function')) return undefined;
  return { fns: fns as WasmApi, photometric: Object.values(pi) };
}

/**
 * One codec context and one parameter block in the module's memory, used by every decode
 * call in turn (calls are synchronous, so never by two at once). Every field is set again on
 * each call: the JPEG decoders change the context's Photometric Interpretation and Planar
 * Configuration when they convert colour, which must not carry over to the next frame.
 * Dropped after a failed decode, whose state nobody should trust.
 */
let shared: { ctx: number; params: number } | undefined;

type DecodeFn = 'decodeJpeg' | 'decodeJpegLs' | 'decodeJpeg2000' | 'decodeHtJpeg2000';
type EncodeFn = 'encodeJpeg' | 'encodeJpegLs' | 'encodeJpeg2000' | 'encodeHtJpeg2000';

/**
 * Decodes one frame and hands the decoded bytes to `use`, whose result is returned. The bytes
 * may be a view of the WebAssembly module's memory: valid only until `use` returns, so `use`
 * copies what it keeps (samplesFromCodec does).
 *
 * Through the module's exports directly, this costs per frame the copy of the encoded bytes
 * in and of the decoded bytes out, straight to where the caller wants them. The library's own
 * NativeCodecs.decode* functions create a context and parameters per call, validate and build
 * two Context objects, and copy the decoded bytes into a new ArrayBuffer (`slice`) on the way
 * out: on a VM that bills every first touch of fresh memory, that copy alone cost as much as
 * the decoding of 16-bit NM frames (bench/codec, 2026-12-02). The library's path stays as the
 * fallback for a bundle of another shape.
 */
export function wasmDecode<T>(fn: DecodeFn, encoded: Uint8Array, d: PixelDescription, params: { convertColorspaceToRgb?: boolean }, use: (bytes: Uint8Array) => T): T {
  const what = fn.replace('decode', '');
  library();
  if (!api) return use(libraryCall(fn, { encodedBuffer: encoded }, d, params, `${what} decoding`).getDecodedBuffer());
  const { fns, photometric } = api;
  const attrs = contextAttrs(d);
  // As the library's Context.validate() does before every call, with its messages.
  const invalid = !attrs.width ? `Width has an invalid value [${attrs.width}]` : !attrs.height ? `Height has an invalid value [${attrs.height}]`
    : !attrs.bitsStored ? `Bits stored has an invalid value [${attrs.bitsStored}]` : !attrs.bitsAllocated ? `Bits allocated has an invalid value [${attrs.bitsAllocated}]`
    : !attrs.samplesPerPixel ? `Sample per pixel has an invalid value [${attrs.samplesPerPixel}]` : undefined;
  if (invalid) throw new Error(`${what} decoding failed: ${invalid}`);
  shared ??= { ctx: fns.wasmCreateCodecsContext(), params: fns.wasmCreateDecoderParameters() };
  const { ctx, params: p } = shared;
  let bytes: Uint8Array;
  try {
    fns.wasmSetColumns(ctx, attrs.width);
    fns.wasmSetRows(ctx, attrs.height);
    fns.wasmSetBitsAllocated(ctx, attrs.bitsAllocated);
    fns.wasmSetBitsStored(ctx, attrs.bitsStored);
    fns.wasmSetSamplesPerPixel(ctx, attrs.samplesPerPixel);
    fns.wasmSetPixelRepresentation(ctx, attrs.pixelRepresentation);
    fns.wasmSetPlanarConfiguration(ctx, attrs.planarConfiguration);
    fns.wasmSetPhotometricInterpretation(ctx, photometric.indexOf(attrs.photometricInterpretation));
    fns.wasmSetConvertColorspaceToRgb(p, params.convertColorspaceToRgb ? 1 : 0);
    fns.wasmSetEncodedBufferSize(ctx, encoded.length);
    new Uint8Array(fns.wasmMemory.buffer, fns.wasmGetEncodedBuffer(ctx), encoded.length).set(encoded);
    fns[`wasm${fn[0]!.toUpperCase()}${fn.slice(1)}` as 'wasmDecodeJpeg'](ctx, p);
    // Viewed after the call: decoding may have grown the memory, which detaches older views.
    bytes = new Uint8Array(fns.wasmMemory.buffer, fns.wasmGetDecodedBuffer(ctx), fns.wasmGetDecodedBufferSize(ctx));
  } catch (err) {
    shared = undefined;
    try { fns.wasmReleaseDecoderParameters(p); fns.wasmReleaseCodecsContext(ctx); } catch { /* nothing more to free */ }
    throw new Error(`${what} decoding failed: ${message(err)}`);
  }
  try {
    return use(bytes);
  } finally {
    // The frame's buffers are freed in the module's heap; the context is kept for the next frame.
    fns.wasmSetEncodedBufferSize(ctx, 0);
    fns.wasmSetDecodedBufferSize(ctx, 0);
  }
}

export function wasmEncode(fn: EncodeFn, decoded: Uint8Array, d: PixelDescription, params: Record<string, unknown> = {}): WasmOutput {
  const out = libraryCall(fn, { decodedBuffer: decoded }, d, params, `${fn.replace('encode', '')} encoding`);
  return { bytes: out.getEncodedBuffer(), photometricInterpretation: out.getPhotometricInterpretation() };
}
