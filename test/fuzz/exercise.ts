/**
 * What the fuzzer does with one input, shared by the Jazzer.js target (reader.fuzz.ts) and the
 * regression replay test (reader-fuzz.test.ts).
 *
 * The contract under test (issue "Foundation"): whatever the bytes, reading gives a file or a
 * DicomParseError whose one-line message names the file and a byte offset; never another
 * exception, a hang or a large allocation. Everything a user does with a file that did read
 * (raw bytes, decoded values, DICOM JSON, dump, writing it in each uncompressed transfer
 * syntax) must work too. Any other exception escaping `exercise` is a finding.
 */
import { DicomError, DicomParseError } from '../../src/dicom/errors.js';
import { readDicomBuffer, type DicomFile } from '../../src/dicom/part10.js';
import type { Dataset } from '../../src/dicom/dataset.js';
import { toJSON } from '../../src/dicom/json.js';
import { dumpDataset } from '../../src/dicom/dump.js';
import { encodeDicomFile, TS } from '../../src/dicom/write.js';

export const NAME = 'fuzz-input.dcm';

/** The uncompressed transfer syntaxes the writer supports (PS3.5 A.1, A.2, A.5; A.3 is retired but still written). */
export const UNCOMPRESSED = [
  TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.ExplicitVRBigEndian, TS.DeflatedExplicitVRLittleEndian,
] as const;

/** A finding: carries the original exception as cause. */
export class FuzzFinding extends Error {
  override name = 'FuzzFinding';
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** A DicomParseError as the issue wants it: one line, file named, offset in range. */
function checkParseError(e: unknown, stage: string, size: number): void {
  if (!(e instanceof DicomParseError)) {
    throw new FuzzFinding(`${stage}: threw ${describe(e)} instead of a DicomParseError`, { cause: e });
  }
  const m = e.message;
  const inflated = e.path?.endsWith('(inflated)') ?? false;
  const ok = !/[\r\n]/.test(m)
    && (m.startsWith(`${NAME}: `) || m.startsWith(`${NAME} (inflated): `))
    && m.endsWith(` at byte offset ${e.offset}`)
    && Number.isSafeInteger(e.offset) && e.offset >= 0 && (inflated || e.offset <= size);
  if (!ok) throw new FuzzFinding(`${stage}: malformed DicomParseError (offset ${e.offset}, size ${size}): ${JSON.stringify(m)}`, { cause: e });
}

/** Touches every element of a data set the way an application would. */
function walk(ds: Dataset): void {
  void ds.charset;
  for (const el of ds.elements()) {
    el.bytes();
    ds.values(el.tag);
    for (const f of el.fragments ?? []) el.fragmentBytes(f);
    for (const it of el.items ?? []) walk(it);
  }
}

/** Unencodable data the writer may refuse with a DicomError (anything else it throws is a bug). */
function legitimateWriteError(e: unknown, ts: string): boolean {
  return e instanceof DicomError && !(e instanceof DicomParseError)
    // PS3.5 A.4: encapsulated (compressed) pixel data only exists in little endian syntaxes.
    && ts === TS.ExplicitVRBigEndian && e.message.startsWith('encapsulated pixel data cannot be written big endian');
}

/**
 * A big endian data set whose first element is in group 0x0200 begins with the bytes 02 00,
 * which read as group 0002 of the little endian meta: the meta ends where group 0002 ends
 * (PS3.10 7.1, as pydicom reads it too), so such a file is ambiguous whoever writes it.
 * Group 0200 is not a DICOM group; only garbage has it.
 */
function ambiguousAfterMeta(ds: Dataset, ts: string): boolean {
  if (ts !== TS.ExplicitVRBigEndian) return false;
  const first = ds.elements().find((el) => el.tag >>> 16 !== 0x0002);
  return first !== undefined && first.tag >>> 16 === 0x0200;
}

function use(f: DicomFile, size: number, lenient: boolean): void {
  const mode = lenient ? 'lenient' : 'strict';
  try {
    walk(f.meta);
    walk(f.dataset);
    JSON.stringify(toJSON(f.meta));
    JSON.stringify(toJSON(f.dataset));
    dumpDataset(f.meta);
    dumpDataset(f.dataset);
  } catch (e) {
    if (e instanceof FuzzFinding) throw e;
    checkParseError(e, `${mode} read succeeded, then using the data set`, size);
    return;
  }
  for (const ts of UNCOMPRESSED) {
    let out: Buffer;
    try {
      out = Buffer.concat([...encodeDicomFile({ dataset: f.dataset, meta: f.meta, transferSyntaxUID: ts, preamble: f.preamble })]);
    } catch (e) {
      if (legitimateWriteError(e, ts)) continue;
      throw new FuzzFinding(`${mode} read succeeded, writing ${ts} threw ${describe(e)}`, { cause: e });
    }
    // What Tracer writes in an explicit VR syntax reads back strictly, also after a lenient
    // read repaired the input. (Implicit VR output may legitimately not: a value whose VR the
    // dictionary does not give, e.g. garbage in an SQ attribute, cannot be told apart there.)
    if (ts !== TS.ImplicitVRLittleEndian && !ambiguousAfterMeta(f.dataset, ts)) {
      try {
        readDicomBuffer(out, {}, NAME);
      } catch (e) {
        throw new FuzzFinding(`${mode} read succeeded, but Tracer's own ${ts} output does not read back: ${describe(e)}`, { cause: e });
      }
    }
  }
}

/** Runs one input through the reader (strict and lenient) and everything downstream. */
export function exercise(data: Buffer): void {
  for (const lenient of [false, true]) {
    const warnings: string[] = [];
    let f: DicomFile;
    try {
      f = readDicomBuffer(data, lenient ? { lenient: true, warnings } : {}, NAME);
    } catch (e) {
      checkParseError(e, lenient ? 'lenient read' : 'strict read', data.length);
      continue;
    }
    use(f, data.length, lenient);
  }
}

/**
 * Makes any single Buffer allocation above `limit` bytes a finding (libFuzzer's -malloc_limit_mb
 * needs sanitizer malloc hooks, which Jazzer.js's libFuzzer does not have; -rss_limit_mb still
 * catches everything else). Returns a function that removes the guard.
 */
export function installAllocationGuard(limit: number): () => void {
  const B = Buffer as unknown as Record<'alloc' | 'allocUnsafe' | 'allocUnsafeSlow' | 'concat', (...a: unknown[]) => Buffer>;
  const saved = { alloc: B.alloc, allocUnsafe: B.allocUnsafe, allocUnsafeSlow: B.allocUnsafeSlow, concat: B.concat };
  const check = (n: number, fn: string) => {
    if (n > limit) throw new FuzzFinding(`Buffer.${fn}(${n}): allocation larger than ${limit} bytes`);
  };
  for (const fn of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
    const orig = saved[fn];
    B[fn] = function (this: unknown, ...a: unknown[]) { check(Number(a[0]), fn); return orig.apply(this, a); };
  }
  B.concat = function (this: unknown, ...a: unknown[]) {
    const list = a[0] as readonly Uint8Array[];
    check(a[1] !== undefined ? Number(a[1]) : list.reduce((n, b) => n + b.length, 0), 'concat');
    return saved.concat.apply(this, a);
  };
  return () => Object.assign(B, saved);
}
