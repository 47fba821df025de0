/**
 * Transfer syntax → decoder and encoder. The one table that says what Tracer can read and
 * write in each encapsulated syntax (the README's table follows it).
 */
import { TS, transferSyntax } from '../../dicom/dictionary/index.js';
import { deflateDecoder, deflateEncoder } from './deflate.js';
import { jpegBaselineEncoder, jpegDecoder, jpegLosslessEncoder } from './jpeg.js';
import { htj2kDecoder, htj2kLosslessEncoder, jpeg2000Decoder, jpeg2000LosslessEncoder, jpeg2000LossyEncoder } from './jpeg2000.js';
import { jpegLsDecoder, jpegLsLosslessEncoder, jpegLsNearLosslessEncoder } from './jpeg-ls.js';
import { rleDecoder, rleEncoder } from './rle.js';
import type { FrameDecoder, FrameEncoder } from './types.js';
import { samplesFromBytes } from '../frame.js';
import { interleavedBytes } from './samples.js';
import { loadWasm, wasmLoaded } from './wasm.js';

export type { DecodedFrame, EncodedFrame, EncodeOptions, FrameDecoder, FrameEncoder } from './types.js';

/** Encapsulated Uncompressed (PS3.5 A.4.11): native frame bytes, one per fragment. */
const identityDecoder: FrameDecoder = { library: 'Tracer', decode: (encoded, d) => ({ data: samplesFromBytes(encoded, d) }) };
const identityEncoder: FrameEncoder = {
  library: 'Tracer', lossy: false,
  unsupported: (d) => (d.bitsAllocated === 1 ? 'single-bit frames are not encapsulated' : undefined),
  encode: (f) => ({ data: interleavedBytes(f), description: { planarConfiguration: 0 } }),
};

interface Entry {
  decoder: FrameDecoder;
  encoder?: FrameEncoder;
  /** Needs the WebAssembly module. */
  wasm: boolean;
}

/** Built on first use: codec modules import frame.ts, which imports this registry. */
let table: Record<string, Entry> | undefined;
function tableOf(): Record<string, Entry> {
  return (table ??= {
  [TS.RLELossless]: { decoder: rleDecoder, encoder: rleEncoder, wasm: false },
  [TS.JPEGBaseline8Bit]: { decoder: jpegDecoder, encoder: jpegBaselineEncoder, wasm: true },
  // The WebAssembly build encodes lossy JPEG in 8 bits only: Extended (12-bit) is decoded, not encoded (NOT_ENCODED says why).
  [TS.JPEGExtended12Bit]: { decoder: jpegDecoder, wasm: true },
  [TS.JPEGExtended35]: { decoder: jpegDecoder, wasm: true },
  [TS.JPEGSpectralSelectionNonHierarchical68]: { decoder: jpegDecoder, wasm: true },
  [TS.JPEGSpectralSelectionNonHierarchical79]: { decoder: jpegDecoder, wasm: true },
  [TS.JPEGFullProgressionNonHierarchical1012]: { decoder: jpegDecoder, wasm: true },
  [TS.JPEGFullProgressionNonHierarchical1113]: { decoder: jpegDecoder, wasm: true },
  [TS.JPEGLossless]: { decoder: jpegDecoder, encoder: jpegLosslessEncoder, wasm: true },
  [TS.JPEGLosslessNonHierarchical15]: { decoder: jpegDecoder, wasm: true },
  [TS.JPEGLosslessSV1]: { decoder: jpegDecoder, encoder: jpegLosslessEncoder, wasm: true },
  [TS.JPEGLSLossless]: { decoder: jpegLsDecoder, encoder: jpegLsLosslessEncoder, wasm: true },
  [TS.JPEGLSNearLossless]: { decoder: jpegLsDecoder, encoder: jpegLsNearLosslessEncoder, wasm: true },
  [TS.JPEG2000Lossless]: { decoder: jpeg2000Decoder, encoder: jpeg2000LosslessEncoder, wasm: true },
  [TS.JPEG2000]: { decoder: jpeg2000Decoder, encoder: jpeg2000LossyEncoder, wasm: true },
  [TS.JPEG2000MCLossless]: { decoder: jpeg2000Decoder, wasm: true },
  [TS.JPEG2000MC]: { decoder: jpeg2000Decoder, wasm: true },
  [TS.HTJ2KLossless]: { decoder: htj2kDecoder, encoder: htj2kLosslessEncoder, wasm: true },
  [TS.HTJ2KLosslessRPCL]: { decoder: htj2kDecoder, wasm: true },
  [TS.HTJ2K]: { decoder: htj2kDecoder, wasm: true },
  [TS.EncapsulatedUncompressedExplicitVRLittleEndian]: { decoder: identityDecoder, encoder: identityEncoder, wasm: false },
  [TS.DeflatedImageFrameCompression]: { decoder: deflateDecoder, encoder: deflateEncoder, wasm: false },
  });
}

/**
 * Why Tracer writes no pixel data in syntaxes it reads: the reasons its messages give, with
 * what to use instead. (Syntaxes Tracer cannot read at all get the generic message.)
 */
const NOT_ENCODED: Record<string, string> = {
  [TS.JPEGExtended12Bit]:
    'its codec library, dcmjs-codecs 0.0.8 (IJG libjpeg 6b in WebAssembly), encodes lossy (DCT) JPEG with 8-bit samples only and refuses every other depth ("Unsupported lossy Jpeg bit depth"); its 12-bit build serves lossless encoding and decoding only. '
    + 'Use jpeg-baseline for 8-bit images; for 9 to 16 bits j2k (lossy JPEG 2000, --ratio) or jpeg-ls-lossy (near-lossless, --near), or a lossless syntax (jpeg-lossless, jpeg-ls, j2k-lossless, htj2k-lossless). DCMTK\'s dcmcjpeg +ee writes JPEG Extended',
  [TS.JPEGExtended35]: 'the syntax is retired (PS3.5 A.4.1) and no encoder Tracer uses writes arithmetic-coded JPEG; Tracer reads it only',
  [TS.JPEGSpectralSelectionNonHierarchical68]: 'the syntax is retired (PS3.5 A.4.1) and dcmjs-codecs writes sequential JPEG only; Tracer reads it only (use jpeg-baseline)',
  [TS.JPEGSpectralSelectionNonHierarchical79]: 'the syntax is retired (PS3.5 A.4.1) and dcmjs-codecs writes sequential JPEG only; Tracer reads it only',
  [TS.JPEGFullProgressionNonHierarchical1012]: 'the syntax is retired (PS3.5 A.4.1) and dcmjs-codecs writes sequential JPEG only; Tracer reads it only (use jpeg-baseline)',
  [TS.JPEGFullProgressionNonHierarchical1113]: 'the syntax is retired (PS3.5 A.4.1) and dcmjs-codecs writes sequential JPEG only; Tracer reads it only',
  [TS.JPEGLosslessNonHierarchical15]: 'the syntax is retired (PS3.5 A.4.1); use jpeg-lossless (Process 14) instead',
  [TS.JPEG2000MCLossless]: 'dcmjs-codecs\' OpenJPEG build applies no Part 2 multi-component transform; use j2k-lossless',
  [TS.JPEG2000MC]: 'dcmjs-codecs\' OpenJPEG build applies no Part 2 multi-component transform; use j2k',
  [TS.HTJ2KLosslessRPCL]: 'the syntax requires a codestream profile (RPCL progression and its options) that Tracer\'s encoder has not been verified to meet; use htj2k-lossless',
  [TS.HTJ2K]: 'dcmjs-codecs drives OpenJPH\'s lossy mode with its default quantization step and no rate control: measured, its streams were no smaller than lossless ones (8-bit RGB 8270 against 7564 bytes), so it would lose data for nothing; use htj2k-lossless, or j2k for lossy',
};

/**
 * Why Tracer cannot write pixel data in this syntax (a sentence naming the syntax), or
 * undefined when it can or the syntax is not encapsulated.
 */
export function whyNotEncodable(tsUID: string): string | undefined {
  const ts = transferSyntax(tsUID);
  if (!ts?.encapsulated || canEncode(tsUID)) return undefined;
  const why = NOT_ENCODED[tsUID];
  return why ? `Tracer cannot write ${ts.name} (${tsUID}): ${why}` : `Tracer has no encoder for ${ts.name} (${tsUID})`;
}

/** The decoder for an encapsulated transfer syntax, or undefined when Tracer has none. */
export function decoderFor(tsUID: string): FrameDecoder | undefined {
  const e = tableOf()[tsUID];
  if (!e) return undefined;
  if (e.wasm && !wasmLoaded()) throw new Error('the WebAssembly codecs are not loaded: call `await loadCodec(transferSyntaxUID)` first (getFrame does)');
  return e.decoder;
}

/** The encoder for an encapsulated transfer syntax, or undefined when Tracer cannot write it. */
export function encoderFor(tsUID: string): FrameEncoder | undefined {
  const e = tableOf()[tsUID];
  if (!e?.encoder) return undefined;
  if (e.wasm && !wasmLoaded()) throw new Error('the WebAssembly codecs are not loaded: call `await loadCodec(transferSyntaxUID)` first');
  return e.encoder;
}

/** The encoder of a syntax for its limits (`unsupported`) only: usable before the codec is loaded. */
export function encoderLimits(tsUID: string): FrameEncoder | undefined {
  return tableOf()[tsUID]?.encoder;
}

/** Whether Tracer can decode / encode pixel data in this encapsulated syntax (without loading anything). */
export function canDecode(tsUID: string): boolean {
  return tableOf()[tsUID] !== undefined;
}
export function canEncode(tsUID: string): boolean {
  return tableOf()[tsUID]?.encoder !== undefined;
}

/** Encapsulated syntaxes Tracer can write. */
export function encodableSyntaxes(): string[] {
  return Object.keys(tableOf()).filter((k) => tableOf()[k]!.encoder);
}

/** Loads what the syntax's codec needs (the WebAssembly module for all but RLE and Deflate). */
export async function loadCodec(tsUID: string): Promise<void> {
  if (tableOf()[tsUID]?.wasm) await loadWasm();
}

/** Library behind a syntax, for messages and the README. */
export function libraryFor(tsUID: string): { decode?: string; encode?: string } {
  const e = tableOf()[tsUID];
  return { decode: e?.decoder.library, encode: e?.encoder?.library };
}
