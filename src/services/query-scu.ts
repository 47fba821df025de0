/**
 * Query/Retrieve C-FIND SCU (PS3.4 C.4.1; REQUIREMENTS 8.5): builds the identifier from
 * findscu-style keys (`KEYWORD=VALUE` or `gggg,eeee=VALUE`; a key without value is a return
 * key), sends one C-FIND on one association (QR-024, one attempt: QR-030) and hands every
 * match over as it arrives (QR-025). Above `maxResults` matches it sends C-CANCEL and marks the
 * result truncated (QR-026). Matches are not filtered locally; duplicate responses for one
 * entity replace each other or are all kept (QR-028); FF01 is logged (QR-029). Specific
 * Character Set is sent only when a value is not ASCII (QR-031). Relational queries are
 * proposed by extended negotiation when asked (QR-032). Before the identifier is built,
 * entered values may get a trailing '*' (QR-022) and a query without any value to match may be
 * refused (QR-023): appendWildcards and hasValueToMatch.
 */
import { Association, CFindRq, type CFindRsp } from '../net/index.js';
import { Dataset, resolveTag } from '../dicom/dataset.js';
import { TS, lookupTag } from '../dicom/dictionary/index.js';
import { encodingOf } from '../dicom/part10.js';
import { readDataset } from '../dicom/read.js';
import { BufferSource } from '../dicom/source.js';
import { encodeDatasetToBuffer } from '../dicom/write.js';
import type { VR } from '../dicom/vr.js';
import { silentLogger } from '../node/log.js';
import { classifyFailure, requestorBase, type Destination, type FailureKind, type ScuOptions } from './scu-connection.js';
import { UNIQUE_KEY } from '../archive/attributes.js';

export type QueryModel = 'patient' | 'study';
export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

/** SOP Class UIDs of the Q/R information models (PS3.4 C.6). */
export const QR_SOP_CLASSES: Record<QueryModel, { find: string; move: string; get: string }> = {
  patient: { find: '1.2.840.10008.5.1.4.1.2.1.1', move: '1.2.840.10008.5.1.4.1.2.1.2', get: '1.2.840.10008.5.1.4.1.2.1.3' },
  study: { find: '1.2.840.10008.5.1.4.1.2.2.1', move: '1.2.840.10008.5.1.4.1.2.2.2', get: '1.2.840.10008.5.1.4.1.2.2.3' },
};

export const QueryRetrieveLevel = 0x00080052;

/** Return keys asked at each level when the caller adds the defaults (QR-021). */
export const DEFAULT_RETURN_KEYS: Record<QueryLevel, string[]> = {
  PATIENT: ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'NumberOfPatientRelatedStudies'],
  STUDY: ['PatientName', 'PatientID', 'StudyDate', 'StudyTime', 'AccessionNumber', 'StudyID', 'StudyDescription', 'ModalitiesInStudy', 'NumberOfStudyRelatedInstances', 'StudyInstanceUID'],
  SERIES: ['StudyInstanceUID', 'SeriesInstanceUID', 'Modality', 'SeriesNumber', 'SeriesDescription', 'SeriesDate', 'NumberOfSeriesRelatedInstances'],
  IMAGE: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID', 'InstanceNumber'],
};

export function parseLevel(s: string): QueryLevel {
  const u = s.toUpperCase();
  if (u === 'PATIENT' || u === 'STUDY' || u === 'SERIES' || u === 'IMAGE') return u;
  if (u === 'INSTANCE') return 'IMAGE';
  throw new Error(`unknown query/retrieve level '${s}' (PATIENT, STUDY, SERIES or IMAGE)`);
}

export interface QueryKey {
  tag: number;
  vr: VR;
  /** undefined or '' = universal matching / return key. */
  value?: string;
}

/** Parses `KEY=VALUE` / `KEY` (KEY a keyword or gggg,eeee) as findscu -k does. */
export function parseKey(spec: string): QueryKey {
  const eq = spec.indexOf('=');
  const name = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  const value = eq < 0 ? undefined : spec.slice(eq + 1);
  let tag: number;
  try {
    tag = resolveTag(name);
  } catch {
    throw new Error(`-k '${spec}': unknown attribute '${name}' (give a keyword such as PatientName or a tag as gggg,eeee)`);
  }
  const entry = lookupTag(tag);
  let vr = (entry?.vr.split(' ')[0] ?? '') as VR;
  if (!vr) vr = 'LO';
  if (vr === 'SQ') throw new Error(`-k '${spec}': sequence keys are not supported`);
  return { tag, vr, value };
}

const NUMERIC: ReadonlySet<string> = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV']);

/**
 * The C-FIND / C-MOVE / C-GET identifier: Query/Retrieve Level, then the keys (later ones
 * replace earlier ones), Specific Character Set ISO_IR 192 only when a value needs it.
 */
export function buildIdentifier(level: QueryLevel, keys: readonly QueryKey[]): Dataset {
  const ds = new Dataset(true);
  // Set first: string values are encoded in the data set's character set as they are set.
  if (keys.some((k) => /[^\x00-\x7f]/.test(k.value ?? ''))) ds.setString(0x00080005, 'CS', 'ISO_IR 192');
  ds.setString(QueryRetrieveLevel, 'CS', level);
  for (const k of keys) {
    if (k.tag === QueryRetrieveLevel || k.tag === 0x00080005) continue;
    const v = k.value ?? '';
    if (NUMERIC.has(k.vr)) {
      if (v === '') ds.setBytes(k.tag, k.vr, Buffer.alloc(0));
      else ds.setNumbers(k.tag, k.vr, v.split('\\').map(Number));
    } else if (k.vr === 'OB' || k.vr === 'OW' || k.vr === 'UN') {
      ds.setBytes(k.tag, k.vr, Buffer.alloc(0));
    } else {
      ds.setString(k.tag, k.vr, v === '' ? [] : v.split('\\'));
    }
  }
  return ds;
}

/** findScu.appendWildcard (QR-022). */
export type AppendWildcard = 'none' | 'patientName' | 'allStrings';

/**
 * The VRs that take wildcard matching (PS3.4 C.2.2.2.4): text, but not dates, times, numbers
 * in text (DS, IS), ages or UIDs.
 */
const WILDCARD_VRS: ReadonlySet<string> = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);

const PatientNameTag = 0x00100010;

/**
 * QR-022: '*' appended to entered values, as SPECTsyngo's query form does: of Patient's Name
 * only ('patientName', the proposed default) or of every key whose VR takes wildcards
 * ('allStrings'). Empty values stay universal; values already ending with '*' and lists
 * (backslash) are left as entered.
 */
export function appendWildcards(keys: readonly QueryKey[], mode: AppendWildcard): QueryKey[] {
  if (mode === 'none') return [...keys];
  return keys.map((k) => {
    const v = k.value ?? '';
    const eligible = mode === 'allStrings' ? WILDCARD_VRS.has(k.vr) : k.tag === PatientNameTag;
    if (!eligible || v.trim() === '' || v.endsWith('*') || v.includes('\\')) return k;
    return { ...k, value: `${v}*` };
  });
}

/**
 * QR-023: whether some key has a value to match. A value of only '*' is universal matching
 * (PS3.4 C.2.2.2.4) and does not count.
 */
export function hasValueToMatch(keys: readonly QueryKey[]): boolean {
  return keys.some((k) => k.tag !== QueryRetrieveLevel && !/^\**$/.test((k.value ?? '').trim()));
}

/** The keys of `keys` plus the level's defaults not already given (defaults first, in order). */
export function withDefaultKeys(level: QueryLevel, keys: readonly QueryKey[]): QueryKey[] {
  const given = new Set(keys.map((k) => k.tag));
  const defaults = DEFAULT_RETURN_KEYS[level].map((n) => parseKey(n)).filter((k) => !given.has(k.tag));
  return [...defaults, ...keys];
}

export interface FindOptions extends ScuOptions {
  model?: QueryModel;
  /** QR-026: cancel above this many matches; 0 = unlimited. Default 100. */
  maxResults?: number;
  /**
   * QR-028 findScu.duplicates: 'replace' (default) keeps one match per entity, the later
   * response in place of the earlier; 'keepAll' keeps every response.
   */
  duplicates?: 'replace' | 'keepAll';
  /** QR-032 nodes[].relationalQuery: propose relational queries (PS3.4 C.5.1.1.1). */
  relational?: boolean;
  /**
   * Called for each match as it arrives (QR-025), with its position in `matches`: a duplicate
   * replacing an earlier match comes with that match's position.
   */
  onMatch?: (match: Dataset, index: number) => void;
}

export interface FindResult {
  ok: boolean;
  matches: Dataset[];
  /** Final status; undefined when none arrived. */
  status?: number;
  /** QR-026: C-CANCEL was sent because of maxResults. */
  truncated: boolean;
  /** Responses with FF01 (optional keys not supported). */
  warnings: number;
  /** Responses for an entity already matched (QR-028): replaced or kept per `duplicates`. */
  duplicates: number;
  /** Whether the peer accepted relational queries (only proposed with `relational`). */
  relational: boolean;
  error?: string;
  failure?: FailureKind;
}

/** The unique keys that identify an entity at each level, top down (PS3.4 C.6.1.1, C.6.2.1). */
const ENTITY_KEYS: Record<QueryLevel, number[]> = {
  PATIENT: [0x00100020, 0x00100021],
  STUDY: [0x0020000d],
  SERIES: [0x0020000d, 0x0020000e],
  IMAGE: [0x0020000d, 0x0020000e, 0x00080018],
};

/**
 * Which entity a C-FIND response names, for QR-028: its unique keys down to the query level
 * (the SOP Instance UID alone would merge instances that storage.sopUidConflict 'store' keeps
 * apart). Undefined when the level's own key is empty: such a response names nothing and is
 * always kept.
 */
export function entityKey(m: Dataset, level: QueryLevel): string | undefined {
  const text = (t: number): string => {
    try {
      return m.strings(t).join('\\').trim();
    } catch {
      return '';
    }
  };
  if (!text(UNIQUE_KEY[level])) return undefined;
  return ENTITY_KEYS[level].map(text).join('|');
}

/** Decodes a response identifier in the transfer syntax of its presentation context. */
export function decodeIdentifier(buf: Buffer, transferSyntax: string): Dataset {
  const enc = encodingOf(transferSyntax);
  return readDataset(new BufferSource(buf), 0, buf.length, enc, { lenient: true });
}

const PROPOSED_TS = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian];

/** Sends one C-FIND (PS3.4 C.4.1.2); never throws for network failures: see `ok`/`error`. */
export async function find(dest: Destination, identifier: Dataset, opts: FindOptions = {}): Promise<FindResult> {
  const log = (opts.logger ?? silentLogger).child({ peer: `${dest.aeTitle}@${dest.host}:${dest.port}` });
  const sopClass = QR_SOP_CLASSES[opts.model ?? 'study'].find;
  const max = opts.maxResults ?? 100;
  const replace = (opts.duplicates ?? 'replace') === 'replace';
  let level: QueryLevel | undefined;
  try {
    level = parseLevel(identifier.string(QueryRetrieveLevel) ?? '');
  } catch {
    level = undefined; // the peer will say what is wrong; duplicates cannot be told apart
  }
  /** Position in `matches` of each entity seen. */
  const seen = new Map<string, number>();
  const result: FindResult = { ok: false, matches: [], truncated: false, warnings: 0, duplicates: 0, relational: false };
  let a: Association | undefined;
  try {
    // PS3.4 C.5.1.1.1: byte 1 of the service-class-application-information = relational queries.
    const extendedNegotiations = opts.relational ? [{ sopClassUid: sopClass, serviceClassApplicationInformation: Buffer.from([1]) }] : undefined;
    a = await Association.request({ ...requestorBase(dest, opts), presentationContexts: [{ abstractSyntax: sopClass, transferSyntaxes: PROPOSED_TS }], extendedNegotiations });
    const ctx = a.findContext(sopClass);
    if (!ctx) throw new Error(`${dest.aeTitle} accepted no presentation context for the C-FIND SOP class ${sopClass}`);
    if (opts.relational) {
      const answer = a.ac?.userInformation.extendedNegotiations?.find((e) => e.sopClassUid === sopClass);
      result.relational = answer?.serviceClassApplicationInformation[0] === 1;
      if (!result.relational) log.warn('the peer did not accept relational queries: keys above the query level other than unique keys may be refused or ignored');
    }
    const id = encodeDatasetToBuffer(identifier, encodingOf(ctx.transferSyntax));
    const op = a.sendRequest(new CFindRq({ AffectedSOPClassUID: sopClass }), { dataset: id });
    for await (const r of op as AsyncIterable<CFindRsp>) {
      if (r.Status === 0xff00 || r.Status === 0xff01) {
        if (r.Status === 0xff01) {
          result.warnings++;
          if (result.warnings === 1) log.warn('C-FIND pending with warning FF01: optional keys not supported by the peer');
        }
        if (result.truncated) continue; // responses in flight after C-CANCEL
        if (!r.dataset) {
          log.warn('pending C-FIND response without identifier');
          continue;
        }
        const m = decodeIdentifier(r.dataset as Buffer, ctx.transferSyntax);
        const key = level && entityKey(m, level);
        const earlier = key === undefined ? undefined : seen.get(key);
        if (earlier !== undefined) {
          result.duplicates++;
          if (result.duplicates === 1) log.info(`duplicate response for an entity already matched (findScu.duplicates ${replace ? 'replace' : 'keepAll'})`, { entity: key });
          if (replace) {
            result.matches[earlier] = m;
            opts.onMatch?.(m, earlier);
            continue;
          }
        }
        if (max > 0 && result.matches.length >= max) {
          result.truncated = true;
          log.info('more matches than maxResults: sending C-CANCEL', { maxResults: max });
          await op.cancel();
          continue;
        }
        result.matches.push(m);
        if (key !== undefined && earlier === undefined) seen.set(key, result.matches.length - 1);
        opts.onMatch?.(m, result.matches.length - 1);
      } else {
        result.status = r.Status;
      }
    }
    await a.release();
    const s = result.status;
    result.ok = s === 0 || (s === 0xfe00 && result.truncated);
    if (!result.ok) result.error = `C-FIND answered with status ${s === undefined ? '(none)' : describeFindStatus(s)}`;
  } catch (err) {
    result.failure = classifyFailure(err);
    result.error = result.failure.text;
    if (a) await a.abort();
    log.warn('query failed', { error: result.error });
  }
  return result;
}

/** QR-029 messages. */
export function describeFindStatus(s: number): string {
  const hex = s.toString(16).toUpperCase().padStart(4, '0');
  if (s === 0) return `${hex} Search Completed`;
  if (s === 0xfe00) return `${hex} Search Cancelled`;
  if (s === 0xa700) return `${hex} Refused: Out of Resources`;
  if (s === 0xa900) return `${hex} Identifier does not match SOP Class`;
  if (s === 0x0122) return `${hex} SOP Class not supported`;
  if ((s & 0xf000) === 0xc000) return `${hex} Unable to process`;
  return hex;
}
