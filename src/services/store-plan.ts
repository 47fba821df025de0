/**
 * Planning a C-STORE job (REQUIREMENTS 6.2, 6.3, 3.4): reading each file's header, the
 * presentation contexts to propose (SEND-011 pcStrategy, SEND-012 pcLayout, within
 * maxPresentationContexts, split over several associations when more are needed: ASSOC-031),
 * and, once the peer has answered, the accepted context and transfer syntax for each file
 * (SEND-020 preference list; a conversion between uncompressed syntaxes when needed).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readDicomFile, readDicomFileFrom, type DicomFile } from '../dicom/part10.js';
import { FIRST_WINDOW, PrefixedFileSource } from '../dicom/source.js';
import { lookupUid, transferSyntax, TS } from '../dicom/dictionary/index.js';
import type { NegotiatedContext, Negotiated, ProposedContext } from '../net/index.js';
import { canDecode, canEncode, encoderLimits, whyNotEncodable } from '../pixels/codecs/registry.js';
import { describePixels, type PixelDescription } from '../pixels/frame.js';

/** Media Storage Directory Storage: a DICOMDIR describes files; it is not an instance to store. */
const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';
/** PS3.8 9.3.2.2: presentation context IDs are odd numbers 1-255, so at most 128 per association. */
export const MAX_PRESENTATION_CONTEXTS = 128;
/** The syntaxes Tracer can write any non-encapsulated data set in (data layer writer). */
export const UNCOMPRESSED = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian] as const;

/** One file of a job, as found by its header. */
export interface StoreItem {
  /** Position in the job: results come back in this order. */
  index: number;
  path: string;
  sopClassUID: string;
  sopInstanceUID: string;
  /** Syntax the data set bytes in the file are really in. */
  transferSyntaxUID: string;
  /** Where the data set starts in the file (after preamble and File Meta Information). */
  datasetOffset: number;
  /** Data set bytes in the file. */
  datasetBytes: number;
  /** Image Pixel description, read when a compressed syntax is considered (null: not an image). */
  pixels?: PixelDescription | null;
}

export interface ProposalSettings {
  pcLayout: 'onePcPerTs' | 'singlePcAllTs';
  pcStrategy: 'jobClasses' | 'allConfigured';
  /** SOP classes proposed on every association with pcStrategy 'allConfigured' (cmr42). */
  configuredSopClasses?: readonly string[];
  /** PCs per association (ASSOC-031); never more than 128. */
  maxPresentationContexts: number;
  /** Ordered preference; syntaxes not listed are excluded (SEND-020). */
  storeTransferSyntaxes?: readonly string[];
  /** Syntaxes enabled for the node (ASSOC-071). */
  enabledTransferSyntaxes?: readonly string[];
  /** GEMINI: only Implicit VR Little Endian for this node (ASSOC-071). */
  disableExplicitVr: boolean;
  /** Lossy compression may be applied when sending to this node (SEND-021; default false). */
  allowLossy?: boolean;
}

export const DEFAULT_PROPOSAL: ProposalSettings = { pcLayout: 'onePcPerTs', pcStrategy: 'jobClasses', maxPresentationContexts: MAX_PRESENTATION_CONTEXTS, disableExplicitVr: false };

export function sopClassName(uid: string): string {
  const e = lookupUid(uid);
  return e ? `${e.name} (${uid})` : uid;
}

export function tsName(uid: string): string {
  return transferSyntax(uid)?.name ?? uid;
}

/**
 * One buffer for the first bytes of every file scanned, read into again and again: a fresh one
 * per file cost page faults and garbage collection (a third of the scan of 1,000 CT slices).
 * Safe because nothing scanFile returns refers to the bytes (UIDs are decoded into strings).
 */
let scanBuffer: Buffer | undefined;

/**
 * The header of a file up to the SOP Instance UID, parsed from its first bytes (the rest read
 * only if needed), and the file's size.
 */
function readHead(path: string): { file: DicomFile; size: number } {
  const buf = (scanBuffer ??= Buffer.allocUnsafe(FIRST_WINDOW));
  const fd = openSync(path, 'r');
  let n = 0;
  let size: number;
  try {
    size = fstatSync(fd).size;
    n = readSync(fd, buf, 0, Math.min(buf.length, size), 0);
  } finally {
    closeSync(fd);
  }
  return { file: readDicomFileFrom(new PrefixedFileSource(buf.subarray(0, n), path, size), path, { stopAtTag: 0x00080019 }), size };
}

/**
 * Reads a file's header only (up to the SOP Instance UID: pixel data and the rest stay on
 * disk) and describes it for sending; a string says why the file cannot be sent.
 */
export function scanFile(path: string, index: number): StoreItem | string {
  let file;
  let size: number;
  try {
    ({ file, size } = readHead(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) return `cannot read file (${code})`;
    const msg = (err as Error).message.replace(`${path}: `, '');
    return msg.startsWith('not a DICOM file') ? msg : `not a DICOM file: ${msg}`;
  }
  try {
    const ds = file.dataset;
    const sopClassUID = ds.string(0x00080016) || file.meta.string(0x00020002);
    const sopInstanceUID = ds.string(0x00080018) || file.meta.string(0x00020003);
    if (!sopClassUID) return 'no SOP Class UID (0008,0016) in the data set nor in the File Meta Information';
    if (!sopInstanceUID) return 'no SOP Instance UID (0008,0018) in the data set nor in the File Meta Information';
    if (sopClassUID === MEDIA_STORAGE_DIRECTORY) return 'a DICOMDIR (Media Storage Directory), not an instance to store';
    let ts = file.transferSyntaxUID;
    const info = transferSyntax(ts);
    // The reader found an implicit data set behind a meta that says explicit: the bytes decide.
    if (info && !info.deflated && info.explicitVR && ds.explicitVR === false) ts = TS.ImplicitVRLittleEndian;
    return { index, path, sopClassUID, sopInstanceUID, transferSyntaxUID: ts, datasetOffset: file.datasetOffset, datasetBytes: Math.max(0, size - file.datasetOffset) };
  } finally {
    file.source.close();
  }
}

/** Whether data in this syntax can be re-encoded into the uncompressed ones (native, or a syntax Tracer decodes). */
export function convertible(ts: string): boolean {
  const t = transferSyntax(ts);
  return !!t && (!t.encapsulated || canDecode(ts));
}

/**
 * Compressed syntaxes a file may be compressed into when sending (SEND-020, SEND-022): only
 * those the node's list names, that Tracer encodes, lossless unless the node allows lossy,
 * and only for data that are not compressed already.
 */
function compressionTargets(fileTs: string, s: ProposalSettings): string[] {
  const t = transferSyntax(fileTs);
  if (!t || t.encapsulated || !s.storeTransferSyntaxes) return [];
  // `lossy` of an encapsulated syntax is what pixels/transcode's lossyTarget() tells, read here
  // without loading the transcoder at start-up.
  return s.storeTransferSyntaxes.filter((ts) => ts !== fileTs && transferSyntax(ts)?.encapsulated && canEncode(ts) && (s.allowLossy || !transferSyntax(ts)!.lossy));
}

const JPEG_LOSSLESS_PI = ['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422'];
const LOSSY_PI = ['MONOCHROME1', 'MONOCHROME2', 'RGB'];

/**
 * SEND-022: whether an image may be compressed into `ts` (SPECTsyngo's table), then whether
 * Tracer's encoder takes it. A string says why not.
 */
export function compressionIneligible(d: PixelDescription | null, ts: string): string | undefined {
  if (!d) return 'not an image';
  const pi = d.photometricInterpretation;
  const ba = d.bitsAllocated;
  const bs = d.bitsStored;
  const hbOk = d.highBit === bs - 1;
  switch (ts) {
    case TS.JPEGLossless:
    case TS.JPEGLosslessSV1:
      if (!JPEG_LOSSLESS_PI.includes(pi) || (ba !== 8 && ba !== 16) || bs <= 8 || !hbOk || d.pixelRepresentation !== 0) return 'SEND-022: JPEG lossless needs MONOCHROME1/2, RGB or YBR_FULL(_422), Bits Allocated 8 or 16, Bits Stored > 8, High Bit = Bits Stored - 1, unsigned';
      break;
    case TS.JPEGBaseline8Bit:
    case TS.JPEGExtended12Bit:
      if (!LOSSY_PI.includes(pi) || (ba !== 8 && ba !== 16) || (bs !== 8 && bs !== 12) || !hbOk || d.pixelRepresentation !== 0) return 'SEND-022: lossy JPEG needs MONOCHROME1/2 or RGB, Bits Allocated 8 or 16, Bits Stored 8 or 12, High Bit = Bits Stored - 1, unsigned';
      break;
    case TS.JPEG2000Lossless:
      if (!JPEG_LOSSLESS_PI.includes(pi) || (ba !== 8 && ba !== 16)) return 'SEND-022: JPEG 2000 lossless needs MONOCHROME1/2, RGB or YBR_FULL(_422) and Bits Allocated 8 or 16';
      break;
    case TS.JPEG2000:
      if (!LOSSY_PI.includes(pi) || (bs !== 8 && bs !== 12)) return 'SEND-022: JPEG 2000 lossy needs MONOCHROME1/2 or RGB and Bits Stored 8 or 12';
      break;
  }
  const enc = encoderLimits(ts);
  if (!enc) return whyNotEncodable(ts) ?? `Tracer has no encoder for ${tsName(ts)}`;
  return enc.unsupported(d);
}

/** The Image Pixel description of a file, read once (header only; pixel values stay on disk). */
function pixelsOf(item: StoreItem): PixelDescription | null {
  if (item.pixels !== undefined) return item.pixels;
  let d: PixelDescription | null = null;
  try {
    const file = readDicomFile(item.path, { stopAtTag: 0x7fe00011 });
    try {
      d = describePixels(file.dataset);
    } finally {
      file.source.close();
    }
  } catch {
    d = null;
  }
  item.pixels = d;
  return d;
}

function allowed(ts: string, s: ProposalSettings): boolean {
  if (s.enabledTransferSyntaxes && !s.enabledTransferSyntaxes.includes(ts)) return false;
  if (s.storeTransferSyntaxes && !s.storeTransferSyntaxes.includes(ts)) return false;
  if (s.disableExplicitVr && ts !== TS.ImplicitVRLittleEndian) return false;
  return true;
}

/**
 * Syntaxes a file may travel in, best first (SEND-020): the node's list when configured,
 * otherwise the file's own syntax, then ELE, ILE, EBE; only those reachable from the file
 * (itself, or an uncompressed one when the data set is not encapsulated).
 */
export function candidateSyntaxes(fileTs: string, s: ProposalSettings): string[] {
  const reachable = new Set<string>([fileTs, ...(convertible(fileTs) ? UNCOMPRESSED : []), ...compressionTargets(fileTs, s)]);
  const order = s.storeTransferSyntaxes ? [...s.storeTransferSyntaxes] : [fileTs, ...UNCOMPRESSED];
  return [...new Set(order)].filter((ts) => reachable.has(ts) && allowed(ts, s));
}

/** Why a file has no syntax to travel in (its candidate list is empty). */
export function noSyntaxReason(fileTs: string, s: ProposalSettings): string {
  const why = s.disableExplicitVr ? 'explicit VR syntaxes are disabled for the node' : 'the node configuration excludes every syntax it could be sent in';
  const conv = convertible(fileTs) ? '' : `; Tracer cannot decode ${tsName(fileTs)}`;
  return `the file is in ${tsName(fileTs)} and ${why}${conv}`;
}

export interface AssociationPlan {
  contexts: ProposedContext[];
  items: StoreItem[];
}

/**
 * The associations a job needs: presentation contexts per pcLayout/pcStrategy, at most
 * maxPresentationContexts (and 128) on each; files needing more contexts are split over
 * several associations (ASSOC-031). Files with no possible syntax come back in `unsendable`.
 */
export function planAssociations(items: readonly StoreItem[], s: ProposalSettings): { plans: AssociationPlan[]; unsendable: { item: StoreItem; reason: string }[] } {
  const cap = Math.max(1, Math.min(s.maxPresentationContexts, MAX_PRESENTATION_CONTEXTS));
  const keys = new Map<string, { pc: ProposedContext; items: StoreItem[] }>();
  const unsendable: { item: StoreItem; reason: string }[] = [];
  for (const item of items) {
    const cands = candidateSyntaxes(item.transferSyntaxUID, s);
    if (cands.length === 0) {
      unsendable.push({ item, reason: noSyntaxReason(item.transferSyntaxUID, s) });
      continue;
    }
    // onePcPerTs (cmr42, SEND-012 default): one context per stored syntax, the uncompressed ones
    // grouped as fallbacks behind the file's own; singlePcAllTs (GEMINI): one per SOP class.
    const key = s.pcLayout === 'singlePcAllTs' ? item.sopClassUID : `${item.sopClassUID}|${cands.join(',')}`;
    let k = keys.get(key);
    if (!k) {
      k = { pc: { abstractSyntax: item.sopClassUID, transferSyntaxes: [] }, items: [] };
      keys.set(key, k);
    }
    const tss = k.pc.transferSyntaxes as string[];
    for (const ts of cands) if (!tss.includes(ts)) tss.push(ts);
    k.items.push(item);
  }
  const all = [...keys.values()];
  const plans: AssociationPlan[] = [];
  for (let i = 0; i < all.length; i += cap) {
    const chunk = all.slice(i, i + cap);
    plans.push({ contexts: chunk.map((c) => c.pc), items: chunk.flatMap((c) => c.items).sort((a, b) => a.index - b.index) });
  }
  if (s.pcStrategy === 'allConfigured' && s.configuredSopClasses?.length) {
    // cmr42 proposes every configured class each time: fill the spare room of each association.
    const ts = UNCOMPRESSED.filter((t) => allowed(t, s));
    if (ts.length) {
      for (const plan of plans) {
        const have = new Set(plan.contexts.map((c) => c.abstractSyntax));
        for (const cls of s.configuredSopClasses) {
          if (plan.contexts.length >= cap) break;
          if (!have.has(cls)) plan.contexts.push({ abstractSyntax: cls, transferSyntaxes: [...ts] });
        }
      }
    }
  }
  return { plans, unsendable };
}

export interface ContextChoice {
  pc: NegotiatedContext;
  transferSyntax: string;
  /** The data set must be re-encoded from the file's syntax into `transferSyntax`. */
  convert: boolean;
  /** Lossy compression is allowed for this node (the chosen syntax may then be lossy). */
  allowLossy?: boolean;
}

/** The accepted context for a file, by the SEND-020 preference; a string says why there is none. */
export function chooseContext(item: StoreItem, negotiated: Negotiated, s: ProposalSettings, peer: string): ContextChoice | string {
  const accepted = [...negotiated.contexts.values()].filter((c) => c.abstractSyntax === item.sopClassUID);
  const cands = candidateSyntaxes(item.transferSyntaxUID, s);
  const skipped: string[] = [];
  for (const ts of cands) {
    const pc = accepted.find((c) => c.transferSyntax === ts);
    if (!pc) continue;
    if (ts !== item.transferSyntaxUID && transferSyntax(ts)?.encapsulated) {
      // SEND-022: an image that may not be compressed this way is sent in the next syntax.
      const why = compressionIneligible(pixelsOf(item), ts);
      if (why) {
        skipped.push(`${tsName(ts)}: ${why}`);
        continue;
      }
    }
    return { pc, transferSyntax: ts, convert: ts !== item.transferSyntaxUID, allowLossy: s.allowLossy ?? false };
  }
  if (accepted.length === 0) {
    const results = negotiated.results.filter((r) => r.abstractSyntax === item.sopClassUID);
    const reason = results.length === 0 ? 'it was not proposed on this association'
      : results.every((r) => r.result === 3) ? 'abstract syntax not supported'
      : results.every((r) => r.result === 4) ? 'none of the proposed transfer syntaxes supported'
      : 'rejected';
    return `${peer} did not accept ${sopClassName(item.sopClassUID)}: ${reason} (file in ${tsName(item.transferSyntaxUID)})`;
  }
  const got = [...new Set(accepted.map((c) => tsName(c.transferSyntax)))].join(', ');
  const conv = convertible(item.transferSyntaxUID) ? '' : `; Tracer cannot decode ${tsName(item.transferSyntaxUID)}`;
  const notes = skipped.length ? `; not eligible: ${skipped.join('; ')}` : '';
  return `${peer} accepted ${sopClassName(item.sopClassUID)} only in ${got}; the file is in ${tsName(item.transferSyntaxUID)}${conv}${notes}`;
}
