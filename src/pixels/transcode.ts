/**
 * Transcoding a data set's pixel data into another transfer syntax (REQUIREMENTS SEND-021,
 * SEND-023; PS3.5 8, A.4): decode each frame, encode it in the target syntax, one frame at a
 * time. Everything but the Image Pixel attributes that describe the new encoding is kept
 * as it was, private attributes included. Lossy targets need an explicit `allowLossy`; they
 * set Lossy Image Compression (0028,2110) "01", its Ratio (0028,2112) and Method (0028,2114)
 * (PS3.3 C.7.6.1.1.5) and get a new SOP Instance UID.
 */
import { randomBytes } from 'node:crypto';
import { Dataset } from '../dicom/dataset.js';
import { Element } from '../dicom/element.js';
import type { ByteSource } from '../dicom/source.js';
import { transferSyntax } from '../dicom/dictionary/index.js';
import { encapsulate } from './encapsulation.js';
import { canDecode, encoderFor, loadCodec, whyNotEncodable, type EncodeOptions, type FrameEncoder } from './codecs/registry.js';
import { describePixels, frameBytes, getFrameInto, getFrameSync, PixelDataTag, type Frame, type PixelDescription } from './frame.js';

export interface TranscodeOptions extends EncodeOptions {
  /** Lossy targets are refused unless this is true (SEND-021). */
  allowLossy?: boolean;
  /** Makes the new SOP Instance UID of a lossy result (default: a 2.25 UUID-derived UID). */
  newUid?: () => string;
  /**
   * Into a native syntax: decode the frames after the first as the result's Pixel Data is
   * read, not now. For a caller that writes the result once with writeDicomFile while the
   * source stays open (`tracer convert`): the writer then reuses one buffer, and memory holds
   * one frame instead of the whole image. Decoding errors of those frames surface from the
   * reading, as FrameDecodeError.
   */
  decodeWhenRead?: boolean;
}

/** A frame of pixel data decoded on demand (TranscodeOptions.decodeWhenRead) failed: `message` is the decoder's. */
export class FrameDecodeError extends Error {}

export interface TranscodeResult {
  dataset: Dataset;
  /** Pixel data were compressed lossily in this step. */
  lossy: boolean;
  /** The SOP Instance UID given to the lossy result, when it changed. */
  newSopInstanceUID?: string;
  /** Compression ratio achieved (uncompressed / compressed), for compressed targets. */
  ratio?: number;
}

/** A failure that concerns this data set only (the caller goes on with the next). */
export class TranscodeError extends Error {}

/** A UID under 2.25 (PS3.5 B.2) from 128 random bits. */
export function newUid(): string {
  return `2.25.${BigInt('0x' + randomBytes(16).toString('hex')).toString()}`;
}

function isEncapsulated(ts: string): boolean {
  return transferSyntax(ts)?.encapsulated ?? false;
}

/**
 * Why pixel data in `fromTs` cannot be converted to `toTs`, or undefined when it can (as far
 * as the syntaxes go; the image itself may still be refused by the encoder).
 */
export function conversionProblem(fromTs: string, toTs: string, allowLossy: boolean): string | undefined {
  if (fromTs === toTs) return undefined;
  const from = transferSyntax(fromTs);
  const to = transferSyntax(toTs);
  if (!from) return `unknown transfer syntax ${fromTs}`;
  if (!to) return `unknown transfer syntax ${toTs}`;
  if (from.encapsulated && !canDecode(fromTs)) return `Tracer has no decoder for ${from.name}`;
  if (to.encapsulated) {
    const refusal = whyNotEncodable(toTs);
    if (refusal) return refusal;
    if (lossyTarget(toTs) && !allowLossy) return `${to.name} is lossy, and lossy compression is not allowed (use --lossy, or allowLossy for the node)`;
  }
  return undefined;
}

/** Whether encoding into this syntax loses information (per the encoder Tracer uses). */
export function lossyTarget(ts: string): boolean {
  const t = transferSyntax(ts);
  if (!t?.encapsulated) return false;
  // Encoders for lossy-capable syntaxes are configured lossy: Baseline, Extended, J2K (.91), JPEG-LS near-lossless.
  return t.lossy;
}

/** Why this image cannot be encoded in `toTs` (encoder limits), or undefined. */
export async function encodeProblem(d: PixelDescription, toTs: string): Promise<string | undefined> {
  if (!isEncapsulated(toTs)) return undefined;
  await loadCodec(toTs);
  const enc = encoderFor(toTs);
  if (!enc) return whyNotEncodable(toTs) ?? `Tracer has no encoder for ${transferSyntax(toTs)?.name ?? toTs}`;
  return enc.unsupported(d);
}

/**
 * A new data set holding `ds` with its pixel data in `toTs`. `ds` is not changed (its
 * elements are shared with the result, which only replaces what the new encoding changes).
 */
export async function transcode(ds: Dataset, fromTs: string, toTs: string, opts: TranscodeOptions = {}): Promise<TranscodeResult> {
  const problem = conversionProblem(fromTs, toTs, opts.allowLossy ?? false);
  if (problem) throw new TranscodeError(problem);
  const out = shallowCopy(ds);
  const pixel = ds.get(PixelDataTag);
  const fromEnc = isEncapsulated(fromTs);
  const toEnc = isEncapsulated(toTs);
  if (!pixel || fromTs === toTs || (!fromEnc && !toEnc)) {
    // No pixel data, or only the byte order / VR encoding changes: the writer does that.
    return { dataset: out, lossy: false };
  }
  if (transferSyntax(fromTs)?.lossy && !ds.has(0x00282110)) {
    // Once lossy, always lossy (PS3.3 C.7.6.1.1.5): a receiver must assume a lossy syntax lost data.
    out.setString(0x00282110, 'CS', '01');
  }
  if (fromEnc) await loadCodec(fromTs);
  if (toEnc) await loadCodec(toTs);
  const d = describePixels(ds);
  const src = { dataset: ds, transferSyntaxUID: fromTs };
  if (!toEnc) return { dataset: opts.decodeWhenRead && d.numberOfFrames > 1 && out.littleEndian ? toNativeWhenRead(out, src, d) : toNative(out, src, d), lossy: false };

  const enc = encoderFor(toTs)!;
  const encoded: Uint8Array[] = [];
  let desc: Partial<PixelDescription> = {};
  let rawBytes = 0;
  let encBytes = 0;
  for (let i = 0; i < d.numberOfFrames; i++) {
    const frame = getFrameSync(src, i);
    // Checked on the decoded frame, whose description may differ from the data set's
    // (YBR decoded to RGB, native YBR_FULL_422 upsampled to YBR_FULL).
    if (i === 0) {
      if (frame.photometricInterpretation === 'YBR_PARTIAL') {
        // The standard has no 4:4:4 partial-range term to label the upsampled samples with.
        throw new TranscodeError('native YBR_PARTIAL_422 (retired, PS3.3 C.7.6.3.1.2) has no Photometric Interpretation to be stored under once upsampled; convert it to another uncompressed syntax only');
      }
      const w = enc.unsupported(frame);
      if (w) throw new TranscodeError(`cannot encode in ${transferSyntax(toTs)!.name}: ${w}`);
    }
    const e = encodeFrame(enc, frame, opts, toTs);
    rawBytes += frame.data.byteLength;
    encBytes += e.data.length;
    encoded.push(e.data);
    desc = { ...frameChanges(d, frame), ...e.description };
  }
  encapsulate(out, encoded);
  applyDescription(out, d, desc);
  const ratio = encBytes > 0 ? rawBytes / encBytes : undefined;
  if (!enc.lossy) return { dataset: out, lossy: false, ratio };
  markLossy(out, ratio ?? 1, enc.method ?? 'ISO_10918_1');
  const uid = (opts.newUid ?? newUid)();
  out.setString(0x00080018, 'UI', uid);
  return { dataset: out, lossy: true, newSopInstanceUID: uid, ratio };
}

function encodeFrame(enc: FrameEncoder, frame: Frame, opts: EncodeOptions, toTs: string) {
  try {
    return enc.encode(frame, opts, toTs);
  } catch (err) {
    throw new TranscodeError(`frame ${frame.index}: ${(err as Error).message}`);
  }
}

function shallowCopy(ds: Dataset): Dataset {
  const out = new Dataset(ds.littleEndian, ds.parent);
  out.explicitVR = ds.explicitVR;
  for (const el of ds.elements()) out.add(el);
  return out;
}

/** What decoding changed in a frame's description (photometric, planar configuration). */
function frameChanges(d: PixelDescription, f: Frame): Partial<PixelDescription> {
  const c: Partial<PixelDescription> = {};
  if (f.photometricInterpretation !== d.photometricInterpretation) c.photometricInterpretation = f.photometricInterpretation;
  if (f.planarConfiguration !== d.planarConfiguration) c.planarConfiguration = f.planarConfiguration;
  return c;
}

/**
 * Refuses a frame that decodes to another description than frame 0 did: one Photometric
 * Interpretation and Planar Configuration must hold for all the frames of a native object
 * (PS3.3 C.7.6.3).
 */
function checkSameAsFirst(first: Partial<PixelDescription>, d: PixelDescription, f: Frame, k: number): void {
  const c = frameChanges(d, f);
  if (c.photometricInterpretation !== first.photometricInterpretation || c.planarConfiguration !== first.planarConfiguration) {
    throw new FrameDecodeError(`frame ${k} decodes to ${f.photometricInterpretation} (planar configuration ${f.planarConfiguration}), unlike frame 0`);
  }
}

function applyDescription(ds: Dataset, d: PixelDescription, c: Partial<PixelDescription>): void {
  if (c.photometricInterpretation && c.photometricInterpretation !== d.photometricInterpretation) ds.setString(0x00280004, 'CS', c.photometricInterpretation);
  // An encoder that narrows the container (JPEG-LS near-lossless of 8 bits stored in 16).
  if (c.bitsAllocated !== undefined && c.bitsAllocated !== d.bitsAllocated) ds.setNumbers(0x00280100, 'US', [c.bitsAllocated]);
  if (d.samplesPerPixel > 1 && c.planarConfiguration !== undefined && (c.planarConfiguration !== d.planarConfiguration || !ds.has(0x00280006))) {
    ds.setNumbers(0x00280006, 'US', [c.planarConfiguration]);
  }
}

/**
 * Decodes every frame into native Pixel Data (one buffer: a native object is one value). The
 * description the result carries is frame 0's; a later frame that decodes otherwise is refused.
 */
function toNative(out: Dataset, src: { dataset: Dataset; transferSyntaxUID: string }, d: PixelDescription): Dataset {
  let changes: Partial<PixelDescription> = {};
  // Each frame is copied into one buffer as it is decoded, rather than all frames held and
  // joined at the end: half the memory, and the decoded frames die young (a multi-frame file
  // of 256 frames spent more in Buffer.concat than in decoding, bench/codec 2026-12-02).
  // Frames after the first are decoded straight into their place in it (getFrameInto), with
  // the description worked out once: per frame, no array of its own to allocate, fill and
  // copy, nor the data set's attributes to parse again. On a VM that bills the first touch
  // of every fresh page, the per-frame arrays cost as much as decoding (bench/codec).
  let buf: Buffer | undefined;
  let at = 0;
  let size = 0;
  for (let i = 0; i < d.numberOfFrames; i++) {
    const f = buf ? getFrameInto(src, d, i, buf.subarray(at, at + size)) : getFrameSync(src, i);
    const b = frameBytes(f);
    // Every frame has the first one's size (same description); sized when the first is known.
    if (!buf) {
      size = b.length;
      buf = Buffer.allocUnsafe(size * d.numberOfFrames + ((size * d.numberOfFrames) % 2));
    }
    if (at + b.length > buf.length || (i > 0 && b.length !== size)) throw new FrameDecodeError(`frame ${i} decodes to ${b.length} bytes, unlike frame 0`);
    if (i === 0) changes = frameChanges(d, f);
    else checkSameAsFirst(changes, d, f, i);
    if (b.buffer !== buf.buffer || b.byteOffset !== buf.byteOffset + at) buf.set(b, at);
    at += b.length;
  }
  if (!buf) buf = Buffer.alloc(0);
  // An odd total length gets its pad byte (PS3.5 8.1.1).
  if (at < buf.length) buf.fill(0, at);
  if (!out.littleEndian && d.bitsAllocated === 16) buf.swap16();
  if (!out.littleEndian && d.bitsAllocated === 32) buf.swap32();
  out.delete(0x7fe00001);
  out.delete(0x7fe00002);
  out.setBytes(PixelDataTag, d.bitsAllocated > 8 ? 'OW' : 'OB', buf);
  applyDescription(out, d, changes);
  return out;
}

/**
 * As toNative, with the frames after the first decoded when the value is read: a lazy Pixel
 * Data value whose source decodes frame by frame into one frame buffer. Frame 0 is decoded
 * now, for the value's size and the description the result carries (Photometric
 * Interpretation after colour conversion); a later frame that decodes otherwise is refused,
 * as one description must hold for all (PS3.3 C.7.6.3).
 */
function toNativeWhenRead(out: Dataset, src: { dataset: Dataset; transferSyntaxUID: string }, d: PixelDescription): Dataset {
  const first = getFrameSync(src, 0);
  const changes = frameChanges(d, first);
  const firstBytes = frameBytes(first);
  const size = firstBytes.length;
  const frames = d.numberOfFrames;
  // An odd total length gets its pad byte (PS3.5 8.1.1): a zero past the last frame.
  const length = size * frames + ((size * frames) % 2);
  // The one frame held: frame 0 as decoded, then each frame decoded into its own buffer.
  let held = 0;
  let frame: Uint8Array = firstBytes;
  let buffer: Buffer | undefined;
  const load = (k: number): Uint8Array => {
    if (k === held) return frame;
    try {
      buffer ??= Buffer.allocUnsafe(size);
      const f = getFrameInto(src, d, k, buffer);
      const b = frameBytes(f);
      if (b.length !== size) throw new Error(`frame ${k} decodes to ${b.length} bytes, unlike frame 0`);
      checkSameAsFirst(changes, d, f, k);
      frame = b.buffer === buffer.buffer && b.byteOffset === buffer.byteOffset ? buffer : (buffer.set(b), buffer);
      held = k;
      return frame;
    } catch (err) {
      held = -1;
      throw err instanceof FrameDecodeError ? err : new FrameDecodeError((err as Error).message, { cause: err });
    }
  };
  const readInto = (pos: number, target: Uint8Array): void => {
    if (pos < 0 || pos + target.length > length) throw new RangeError(`bytes ${pos}-${pos + target.length} are past the end of the decoded Pixel Data (${length} bytes)`);
    let o = 0;
    while (o < target.length) {
      const at = pos + o;
      const k = Math.floor(at / size);
      if (k >= frames) {
        target.fill(0, o);
        break;
      }
      const from = at - k * size;
      const n = Math.min(size - from, target.length - o);
      target.set(load(k).subarray(from, from + n), o);
      o += n;
    }
  };
  const source: ByteSource = {
    size: length,
    name: 'Pixel Data decoded frame by frame',
    read: (pos, n) => {
      const b = Buffer.allocUnsafe(n);
      readInto(pos, b);
      return b;
    },
    readInto,
    close: () => undefined,
  };
  out.delete(0x7fe00001);
  out.delete(0x7fe00002);
  out.set(new Element(PixelDataTag, d.bitsAllocated > 8 ? 'OW' : 'OB', length, 0, undefined, source));
  applyDescription(out, d, changes);
  return out;
}

/** PS3.3 C.7.6.1.1.5: "01", and ratio and method appended to those of earlier compressions. */
function markLossy(ds: Dataset, ratio: number, method: string): void {
  const ratios = ds.strings(0x00282112).filter((s) => s.trim() !== '');
  const methods = ds.strings(0x00282114).filter((s) => s.trim() !== '');
  ds.setString(0x00282110, 'CS', '01');
  ds.setString(0x00282112, 'DS', [...ratios, formatDS(ratio)]);
  ds.setString(0x00282114, 'CS', [...methods, method]);
}

function formatDS(n: number): string {
  const s = n.toFixed(n >= 100 ? 1 : 3);
  return s.length <= 16 ? s : n.toPrecision(10);
}
