/**
 * Query/Retrieve Service Class, C-FIND SCP (PS3.4 C.4.1, REQUIREMENTS 8.1-8.4): Patient Root and
 * Study Root, levels PATIENT (Patient Root), STUDY, SERIES, IMAGE; hierarchical or relational
 * (QR-010); the key checks and statuses of QR-011/QR-017; the result cap (QR-015); C-CANCEL
 * (QR-016). It knows the index only through `FindProvider`: what matches is decided there (by
 * archive/matching.ts); this module turns identifiers into queries and matches into responses.
 */
import { chooseSpecificCharacterSet } from '../dicom/charset.js';
import type { Dataset } from '../dicom/dataset.js';
import { fromJSON, type JsonAttribute, type JsonDataset, type JsonPN } from '../dicom/json.js';
import { encodingOf } from '../dicom/part10.js';
import { readDataset } from '../dicom/read.js';
import { BufferSource } from '../dicom/source.js';
import { tagKey, formatTag } from '../dicom/tag.js';
import { encodeDatasetToBuffer } from '../dicom/write.js';
import { inflateRawSync } from 'node:zlib';
import { Status, type Handler, type RequestContext } from '../net/index.js';
import { depth, isKnownKey, levelOf, levelsOf, storageLevelOf, UNIQUE_KEY, type Level, type QueryModel } from '../archive/attributes.js';
import type { FindMatch, FindQuery } from '../archive/index.js';
import { isUniversal, returnedValue, selectItems, type MatchOptions, type QueryKey } from '../archive/matching.js';

export const PATIENT_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.1.1';
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';

/** The index as the C-FIND SCP sees it. */
export interface FindProvider {
  find(query: FindQuery): AsyncIterable<FindMatch>;
}

export const FindStatus = {
  Pending: 0xff00,
  /** Pending, but one or more keys were not supported (QR-011). */
  PendingWarning: 0xff01,
  Success: 0x0000,
  Cancel: 0xfe00,
  OutOfResources: 0xa700,
  IdentifierDoesNotMatchSopClass: 0xa900,
  /** Unable to process: the database query failed (SPECTsyngo C001). */
  UnableToProcess: 0xc001,
  CannotUnderstand: 0xc000,
} as const;

export interface FindReport {
  callingAETitle: string;
  model: QueryModel;
  level?: string;
  status: number;
  matches: number;
  clipped: boolean;
  relational: boolean;
  unsupported: string[];
  reason?: string;
  ms: number;
}

export interface QueryScpOptions {
  index: FindProvider;
  /** findScp.relational. */
  relational: 'hierarchical' | 'ifNegotiated' | 'always';
  /** findScp.maxMatches; 0 = unlimited. */
  maxMatches: number;
  match: MatchOptions;
  /** findScp.instanceAvailability, returned in (0008,0056). */
  instanceAvailability: string;
  /** The AE title returned in Retrieve AE Title (0008,0054): the called local AE by default. */
  retrieveAeTitle?: (ctx: RequestContext) => string;
  onReport?: (r: FindReport) => void;
}

/** A C-FIND identifier judged: the query, or the failure to answer with. */
export interface ParsedIdentifier {
  level: Level;
  query: FindQuery;
  /** Every requested attribute (the keys to return), in the identifier's order. */
  requested: QueryKey[];
  /** Keys neither matched nor returned (QR-011). */
  unsupported: number[];
  charset: string[];
}

export class IdentifierError extends Error {
  override name = 'IdentifierError';
  constructor(message: string, readonly offending?: number[]) {
    super(message);
  }
}

/** The keys of a data set (or of a sequence item), values decoded by its character set. */
export function keysOf(ds: Dataset): QueryKey[] {
  const out: QueryKey[] = [];
  for (const el of ds.elements()) {
    if (el.tag % 0x10000 === 0 || el.tag >>> 16 === 0x0002) continue;
    if (el.vr === 'SQ') {
      out.push({ tag: el.tag, vr: 'SQ', values: [], items: (el.items ?? []).map((it) => keysOf(it)) });
      continue;
    }
    const values = el.length === 0 ? [] : ds.strings(el.tag);
    out.push({ tag: el.tag, vr: el.vr, values });
  }
  return out;
}

/**
 * Judges an identifier (PS3.4 C.4.1.2.1, C.4.1.3; REQUIREMENTS 8.4): the level, keys below it
 * (A900, QR-010), in hierarchical mode the unique keys of the levels above (C.4.1.3.1), and the
 * keys that are not supported (QR-011).
 */
export function parseIdentifier(ds: Dataset, model: QueryModel, relational: boolean, match: MatchOptions): ParsedIdentifier {
  const levelText = (ds.string(0x00080052) ?? '').trim().toUpperCase();
  const levels = levelsOf(model);
  if (!levels.includes(levelText as Level)) {
    throw new IdentifierError(`Query/Retrieve Level '${levelText}' is not one of ${levels.join(', ')}`, [0x00080052]);
  }
  const level = levelText as Level;
  const all = keysOf(ds).filter((k) => k.tag !== 0x00080005 && k.tag !== 0x00080052);
  const keys: QueryKey[] = [];
  const requested: QueryKey[] = [];
  const unsupported: number[] = [];
  for (const k of all) {
    // Returned on every response anyway (8.3); never matched.
    if (k.tag === 0x00080054 || k.tag === 0x00080056) continue;
    const l = levelOf(k.tag, model);
    if (depth(l) > depth(level)) {
      if (isKnownKey(k.tag)) throw new IdentifierError(`${formatTag(k.tag)} is a ${l} key, below the ${level} level of the query (QR-010)`, [k.tag]);
      unsupported.push(k.tag);
      continue;
    }
    requested.push(k);
    const above = depth(l) < depth(level);
    // Hierarchical: above the level only unique keys are matched (PS3.4 C.4.1.2.2.1).
    if (above && !relational && k.tag !== UNIQUE_KEY[l]) continue;
    keys.push(k);
  }
  if (!relational) {
    for (const l of levels) {
      if (depth(l) >= depth(level)) break;
      const u = all.find((k) => k.tag === UNIQUE_KEY[l]);
      if (!u || isUniversal(u)) throw new IdentifierError(`hierarchical query at ${level} level needs the unique key ${formatTag(UNIQUE_KEY[l])} of the ${l} level`, [UNIQUE_KEY[l]]);
    }
  }
  const charset = ds.strings(0x00080005).map((s) => s.trim());
  return { level, query: { model, level, keys, match }, requested, unsupported, charset };
}

function texts(json: JsonDataset, out: string[]): void {
  for (const a of Object.values(json)) {
    for (const v of a.Value ?? []) {
      if (typeof v === 'string') out.push(v);
      else if (v && typeof v === 'object') {
        if (a.vr === 'SQ') texts(v as JsonDataset, out);
        else out.push(...Object.values(v as JsonPN).filter((x): x is string => typeof x === 'string'));
      }
    }
  }
}

/**
 * The response identifier of one match (QR-012, 8.3): every requested key with the entity's
 * value (empty when it has none), the unique keys of the levels above and at the query level,
 * Query/Retrieve Level, Retrieve AE Title, Instance Availability, and the Specific Character
 * Set the values need: the query's when it can hold them, else ISO_IR 100 or ISO_IR 192.
 */
export function responseOf(p: ParsedIdentifier, m: FindMatch, extra: { retrieveAeTitle: string; instanceAvailability: string }): JsonDataset {
  const out: JsonDataset = {};
  const headerFor = (tag: number): JsonDataset | undefined => m.headers[storageLevelOf(tag)];
  for (const k of p.requested) {
    const attr = headerFor(k.tag)?.[tagKey(k.tag)];
    out[tagKey(k.tag)] = k.vr === 'SQ' ? selectItems(k, attr, p.query.match) : returnedValue(k, attr);
  }
  for (const l of levelsOf(p.query.model)) {
    if (depth(l) > depth(p.level)) break;
    const t = UNIQUE_KEY[l];
    const attr: JsonAttribute | undefined = headerFor(t)?.[tagKey(t)];
    out[tagKey(t)] = attr ?? { vr: t === 0x00100020 ? 'LO' : 'UI' };
  }
  out[tagKey(0x00080052)] = { vr: 'CS', Value: [p.level] };
  out[tagKey(0x00080054)] = { vr: 'AE', Value: [extra.retrieveAeTitle] };
  out[tagKey(0x00080056)] = { vr: 'CS', Value: [extra.instanceAvailability] };
  const t: string[] = [];
  texts(out, t);
  const auto = chooseSpecificCharacterSet(t);
  if (auto) {
    const asked = p.charset.join('\\');
    const cs = asked === 'ISO_IR 192' || (asked === 'ISO_IR 100' && auto === 'ISO_IR 100') ? asked : auto;
    out[tagKey(0x00080005)] = { vr: 'CS', Value: [cs] };
  }
  return out;
}

function modelOf(sopClass: string): QueryModel | undefined {
  if (sopClass === PATIENT_ROOT_FIND) return 'PATIENT_ROOT';
  if (sopClass === STUDY_ROOT_FIND) return 'STUDY_ROOT';
  return undefined;
}

/** Whether relational queries were negotiated for this SOP class (PS3.4 C.5.1.1.1, byte 1). */
export function relationalNegotiated(ctx: RequestContext, sopClass: string): boolean {
  const items = ctx.association.ac?.userInformation.extendedNegotiations ?? [];
  return items.some((e) => e.sopClassUid === sopClass && e.serviceClassApplicationInformation[0] === 1);
}

/** The C-FIND handler. */
export function queryScp(opts: QueryScpOptions): Handler<'C-FIND'> {
  return async function* (rq, ctx) {
    const t0 = performance.now();
    const sopClass = ctx.presentationContext.abstractSyntax;
    const model = modelOf(sopClass) ?? modelOf(rq.AffectedSOPClassUID);
    const relational = opts.relational === 'always' || (opts.relational === 'ifNegotiated' && relationalNegotiated(ctx, sopClass));
    const report = (r: Omit<FindReport, 'callingAETitle' | 'model' | 'relational' | 'ms'>): void =>
      opts.onReport?.({ callingAETitle: ctx.association.callingAETitle ?? '', model: model ?? 'STUDY_ROOT', relational, ms: Math.round(performance.now() - t0), ...r });
    if (!model) {
      report({ status: FindStatus.CannotUnderstand, matches: 0, clipped: false, unsupported: [], reason: `SOP class ${sopClass} is not a C-FIND model we serve` });
      yield { Status: FindStatus.CannotUnderstand, ErrorComment: 'not a supported C-FIND information model' };
      return;
    }
    let parsed: ParsedIdentifier;
    const ts = ctx.presentationContext.transferSyntax;
    try {
      if (!ctx.dataset) throw new IdentifierError('C-FIND-RQ without an identifier');
      let bytes = await ctx.dataset.toBuffer(16 * 1024 * 1024);
      const enc = encodingOf(ts);
      if (enc.deflated) bytes = inflateRawSync(bytes);
      const ds = readDataset(new BufferSource(bytes, 'C-FIND identifier'), 0, bytes.length, enc);
      parsed = parseIdentifier(ds, model, relational, opts.match);
    } catch (err) {
      const e = err as Error;
      const status = FindStatus.IdentifierDoesNotMatchSopClass;
      report({ status, matches: 0, clipped: false, unsupported: [], reason: e.message });
      yield { Status: status, ErrorComment: e.message, OffendingElement: err instanceof IdentifierError ? err.offending : undefined };
      return;
    }
    const pending = parsed.unsupported.length > 0 ? FindStatus.PendingWarning : FindStatus.Pending;
    const enc = encodingOf(ts);
    const extra = { retrieveAeTitle: opts.retrieveAeTitle?.(ctx) ?? ctx.association.calledAETitle ?? '', instanceAvailability: opts.instanceAvailability };
    let n = 0;
    let clipped = false;
    const unsupported = parsed.unsupported.map(formatTag);
    try {
      for await (const m of opts.index.find(parsed.query)) {
        if (ctx.signal.aborted) break;
        if (opts.maxMatches > 0 && n >= opts.maxMatches) {
          clipped = true;
          break;
        }
        const json = responseOf(parsed, m, extra);
        const out = fromJSON(json);
        yield { Status: pending, dataset: encodeDatasetToBuffer(out, { explicitVR: enc.explicitVR, littleEndian: enc.littleEndian }) };
        n++;
      }
    } catch (err) {
      const reason = `query failed: ${(err as Error).message}`;
      report({ level: parsed.level, status: FindStatus.UnableToProcess, matches: n, clipped, unsupported, reason });
      yield { Status: FindStatus.UnableToProcess, ErrorComment: reason };
      return;
    }
    const cancelled = ctx.signal.aborted;
    report({ level: parsed.level, status: cancelled ? FindStatus.Cancel : FindStatus.Success, matches: n, clipped, unsupported });
    // QR-015: clipped results still end with Success (the clipping is logged by the caller).
    if (cancelled) {
      yield { Status: Status.Cancel };
      return;
    }
  };
}
