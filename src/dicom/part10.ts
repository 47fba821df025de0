/**
 * DICOM files (PS3.10 7.1): optional 128-byte preamble and "DICM", File Meta Information in
 * Explicit VR Little Endian, then the data set in the transfer syntax the meta names. Files
 * without preamble or meta (bare data sets, as some old systems write them) are recognised
 * by looking at their first bytes.
 */
import { createRequire } from 'node:module';
import type { Dataset } from './dataset.js';
import { transferSyntax, TS } from './dictionary/index.js';
import { DicomParseError } from './errors.js';
import { readDataset, readDatasetWithEnd, type Encoding, type ReadOptions } from './read.js';
import { BufferSource, FileSource, type ByteSource } from './source.js';
import { isVR } from './vr.js';

export interface DicomFile {
  /** The 128-byte preamble, when the file had one. */
  preamble?: Buffer;
  /** File Meta Information (group 0002); empty for a bare data set. */
  meta: Dataset;
  dataset: Dataset;
  /** Transfer syntax of the data set (from the meta, or guessed for a bare data set). */
  transferSyntaxUID: string;
  /** Byte offset where the data set starts in the file. */
  datasetOffset: number;
  /** The source the values live in; close() it when done with lazy values. */
  source: ByteSource;
  /** Deviations from the standard that were tolerated (and, in lenient mode, repaired). */
  warnings: string[];
}

/**
 * node:zlib, loaded when a deflated data set is met: an ESM import of it loads the stream
 * machinery too, a cost every CLI start-up would pay for a rare transfer syntax.
 */
let zlib: typeof import('node:zlib') | undefined;
function inflateRawSync(b: Buffer, opts: import('node:zlib').ZlibOptions): Buffer {
  zlib ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
  return zlib.inflateRawSync(b, opts);
}

export interface FileReadOptions extends ReadOptions {
  /** Largest inflated size accepted for Deflated Explicit VR Little Endian (default 1 GiB). */
  maxInflatedSize?: number;
}


/** Reads a DICOM file from disk, leaving bulk values on disk until they are read. */
export function readDicomFile(path: string, opts: FileReadOptions = {}): DicomFile {
  return readDicomFileFrom(new FileSource(path), path, opts);
}

/**
 * As readDicomFile, through a source of the file's bytes made by the caller (some of them
 * already in memory): the source is closed when the file cannot be read, and a parse error
 * names `path`.
 */
export function readDicomFileFrom(src: ByteSource, path: string, opts: FileReadOptions = {}): DicomFile {
  try {
    return readDicom(src, opts);
  } catch (err) {
    src.close();
    if (err instanceof DicomParseError) throw err.withPath(path);
    throw err;
  }
}

/** Reads a DICOM file held in memory. */
export function readDicomBuffer(buf: Buffer, opts: FileReadOptions = {}, name?: string): DicomFile {
  return readDicom(new BufferSource(buf, name), opts);
}

/** Encoding (explicit VR, byte order) of a transfer syntax; throws for unknown ones. */
export function encodingOf(tsUID: string): Encoding & { deflated: boolean; encapsulated: boolean } {
  // Only a UID names a transfer syntax in a file (PS3.10 7.1); aliases are for people.
  const ts = /^[0-9]+(\.[0-9]+)*$/.test(tsUID) ? transferSyntax(tsUID) : undefined;
  if (!ts) {
    // PS3.5 10: unknown syntaxes are most likely encapsulated in Explicit VR Little Endian.
    return { explicitVR: true, littleEndian: true, deflated: false, encapsulated: true };
  }
  return { explicitVR: ts.explicitVR, littleEndian: ts.littleEndian, deflated: ts.deflated, encapsulated: ts.encapsulated };
}

export function readDicom(src: ByteSource, opts: FileReadOptions = {}): DicomFile {
  const warnings: string[] = opts.warnings ?? [];
  const ropts: FileReadOptions = { ...opts, warnings };
  let pos = 0;
  let preamble: Buffer | undefined;
  if (src.size >= 132 && src.read(128, 4).toString('latin1') === 'DICM') {
    preamble = src.read(0, 128);
    pos = 132;
  } else if (src.size >= 4 && src.read(0, 4).toString('latin1') === 'DICM') {
    pos = 4; // "DICM" without preamble: seen in the wild, read as DCMTK does
    warnings.push('no 128-byte preamble before "DICM"');
  }
  let meta: Dataset;
  let tsUID: string | undefined;
  if (looksLikeMeta(src, pos)) {
    // The meta ends where group 0002 ends (PS3.10 7.1), whatever its group length says.
    const r = readDatasetWithEnd(src, pos, src.size, { explicitVR: true, littleEndian: true }, { ...ropts, stopAtTag: 0x00030000, stopAtGroupChange: true });
    meta = r.dataset;
    pos = r.end;
    tsUID = meta.string(0x00020010) || undefined;
    if (!tsUID) warnings.push('File Meta Information has no Transfer Syntax UID (0002,0010); guessed from the data');
  } else {
    meta = readDataset(src, 0, 0, { explicitVR: true, littleEndian: true });
  }
  if (!tsUID) tsUID = guessTransferSyntax(src, pos);
  const enc = encodingOf(tsUID);
  let dataSrc = src;
  let dsStart = pos;
  if (enc.deflated) {
    // PS3.5 A.5: the whole data set is a raw deflate stream.
    const limit = opts.maxInflatedSize ?? 1 << 30;
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(src.read(pos, src.size - pos), { maxOutputLength: limit });
    } catch (err) {
      throw new DicomParseError(`deflated data set cannot be inflated (${(err as Error).message})`, pos, src.name);
    }
    dataSrc = new BufferSource(inflated, src.name ? `${src.name} (inflated)` : undefined);
    dsStart = 0;
  }
  let dsEnc: Encoding = enc;
  if (enc.explicitVR && !enc.deflated && looksImplicit(dataSrc, dsStart)) {
    // The meta says explicit VR but the data set is implicit: a known defect of some writers,
    // which pydicom also tolerates. The data decide.
    dsEnc = { explicitVR: false, littleEndian: true };
    warnings.push(`data set is Implicit VR Little Endian although the meta says ${tsUID}`);
  }
  const dataset = readDataset(dataSrc, dsStart, dataSrc.size, dsEnc, ropts);
  return { preamble, meta, dataset, transferSyntaxUID: tsUID, datasetOffset: pos, source: dataSrc, warnings };
}

/**
 * The first element is not explicit (no VR after the tag) but reads as a plausible implicit
 * element: a small group and a length that fits the data.
 */
function looksImplicit(src: ByteSource, pos: number): boolean {
  if (pos + 8 > src.size) return false;
  const b = src.read(pos, 8);
  if (isVR(b.toString('latin1', 4, 6))) return false;
  const group = b.readUInt16LE(0);
  const len = b.readUInt32LE(4);
  return group >= 0x0008 && group <= 0x0030 && (len === 0xffffffff || pos + 8 + len <= src.size);
}

/** Group 0002 in Explicit VR Little Endian starts here (PS3.10 7.1). */
function looksLikeMeta(src: ByteSource, pos: number): boolean {
  if (pos + 6 > src.size) return false;
  const b = src.read(pos, 6);
  return b.readUInt16LE(0) === 0x0002 && isVR(b.toString('latin1', 4, 6));
}

/**
 * The syntax of a bare data set, from its first element: a valid VR after the tag means
 * explicit; a group number that only makes sense byte-swapped means big endian.
 */
function guessTransferSyntax(src: ByteSource, pos: number): string {
  if (pos + 8 > src.size) throw new DicomParseError('not a DICOM file: too short for a data set', pos, src.name);
  const b = src.read(pos, 8);
  const groupLE = b.readUInt16LE(0);
  const groupBE = b.readUInt16BE(0);
  const explicit = isVR(b.toString('latin1', 4, 6));
  const plausible = (g: number) => g === 0x0008 || g === 0x0002 || (g > 0 && g <= 0x0030);
  if (!plausible(groupLE) && !plausible(groupBE)) {
    throw new DicomParseError(`not a DICOM file: no preamble, and the first tag (${groupLE.toString(16).padStart(4, '0')},…) does not start a data set`, pos, src.name);
  }
  if (plausible(groupLE)) return explicit ? TS.ExplicitVRLittleEndian : TS.ImplicitVRLittleEndian;
  return TS.ExplicitVRBigEndian;
}
