/**
 * The WebAssembly codec library: dcmjs-codecs (npm, MIT), one module built with Emscripten
 * from the IJG libjpeg 6b family with 8/12/16-bit and lossless support (the same code line
 * DCMTK's dcmjpeg uses), CharLS 2.3.4, OpenJPEG 2.5.0 and OpenJPH 0.18.2. Loaded once, on
 * first use (about 0.2 s, 4 MB), so that commands that never touch compressed pixels do not
 * pay for it. This file is the only one that knows that library's API.
 */
import { createRequire } from 'node:module';
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

/** Loads and instantiates the WebAssembly module (once). */
export function loadWasm(): Promise<void> {
  loading ??= (async () => {
    const req = createRequire(import.meta.url);
    const m = req('dcmjs-codecs') as WasmLibrary;
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
