/** What a codec module offers the registry: frame-level decode and encode. */
import type { Frame, PixelArray, PixelDescription } from '../frame.js';

/** A decoded frame: samples, and what changed in their description (e.g. YBR decoded to RGB). */
export interface DecodedFrame {
  data: PixelArray;
  description?: Partial<PixelDescription>;
}

/** Options for lossy encoders; lossless encoders ignore them. */
export interface EncodeOptions {
  /** JPEG Baseline/Extended quality 1-100 (libjpeg's scale; default 90). */
  quality?: number;
  /** JPEG 2000 / HTJ2K lossy: target compression ratio (default 10:1). */
  ratio?: number;
  /** JPEG-LS near-lossless: largest allowed error per sample (NEAR; default 2). */
  near?: number;
}

export interface EncodedFrame {
  data: Uint8Array;
  /** Changes to the pixel description the encoded stream implies (YBR_FULL_422 for JPEG Baseline of RGB). */
  description?: Partial<PixelDescription>;
}

export interface FrameDecoder {
  /** Library that does the work, for the README table and diagnostics. */
  readonly library: string;
  /**
   * `into`, when given, is where the caller would like the samples: the frame's bytes
   * (frameByteLength of `d` as decoded) at their place in a larger buffer. A decoder that
   * can writes them there and returns a view of it; any other result is copied by the caller.
   */
  decode(encoded: Uint8Array, d: PixelDescription, tsUID: string, into?: Uint8Array): DecodedFrame;
}

export interface FrameEncoder {
  readonly library: string;
  /** Whether the encoding loses information (sets Lossy Image Compression when true). */
  readonly lossy: boolean;
  /** Lossy Image Compression Method (0028,2114) term, e.g. ISO_10918_1. */
  readonly method?: string;
  /** Why this image cannot be encoded in this syntax, or undefined when it can (REQUIREMENTS SEND-022). */
  unsupported(d: PixelDescription): string | undefined;
  encode(frame: Frame, opts: EncodeOptions, tsUID: string): EncodedFrame;
}
