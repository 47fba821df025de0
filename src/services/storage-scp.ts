/**
 * Storage Service Class, SCP side (PS3.4 Annex B; REQUIREMENTS 5). This module holds the rules
 * of the service: which requests are refused before any byte is read, the command/data-set
 * consistency check (STOR-021), the minimal header validation (STOR-020 `uids`), the status
 * code of each outcome (PS3.4 B.2.3, REQUIREMENTS 5.7) and the report of every outcome
 * (STOR-070). Where and how the bytes are kept is the business of a `StorageSink` (Orthanc's
 * IStoreRequestHandler): the filesystem store of src/archive/file-store.ts today, the archive
 * with its index later. The service never learns where a file went.
 *
 * The C-STORE data set is handed to the sink as the stream of bytes that arrived, in the
 * presentation context's transfer syntax: the sink writes it as it comes (memory bounded by
 * the association's back-pressure), parses the header, and keeps the instance pending until the
 * service has judged it; only then is it committed (made durable and visible) or discarded.
 */
import { Status, type Handler, type RequestContext } from '../net/index.js';
import type { Dataset } from '../dicom/dataset.js';

/** Why a C-STORE failed, independent of the code sent (which depends on configuration). */
export type StoreFailureKind =
  /** Disk below the configured minimum, disk full, quota, I/O error (A700, PS3.4 B.2.3). */
  | 'outOfResources'
  /** Written but not entered in the index (eNTEGRA A710; A700 otherwise). */
  | 'notIndexed'
  /** A fault of ours (C000; eNTEGRA A720). */
  | 'internal'
  /** The data set cannot be parsed, or a required UID is missing or malformed (C000; eNTEGRA A730). */
  | 'cannotUnderstand'
  /** Pixel data required but absent (A900; eNTEGRA A740). */
  | 'pixelDataMissing'
  /** The data set does not match the command or the SOP class (A900; B007 with validationFailure = warn). */
  | 'datasetMismatch'
  /** The SOP class is not accepted on this presentation context (0122). */
  | 'sopClassNotSupported'
  /** Duplicate refused by policy (0111). */
  | 'duplicate'
  /** The association ended while the data set was arriving: no response can be sent. */
  | 'aborted';

export class StoreFailure extends Error {
  override name = 'StoreFailure';
  constructor(
    readonly kind: StoreFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the service knows of a C-STORE before its data set has been read. */
export interface StoreRequest {
  /** Affected SOP Class / Instance UID of the C-STORE-RQ (PS3.7 9.1.1.1). */
  sopClassUid: string;
  sopInstanceUid: string;
  /** Transfer syntax of the presentation context: the encoding of the data set bytes. */
  transferSyntaxUid: string;
  callingAETitle: string;
  calledAETitle: string;
  peerAddress?: string;
  messageId: number;
  /** Set for the C-STORE sub-operations of a C-MOVE (PS3.7 9.1.1.1). */
  moveOriginatorAETitle?: string;
  moveOriginatorMessageId?: number;
}

/** A received data set held by the sink until the service decides (commit or discard). */
export interface ReceivedInstance {
  /** Bytes of the data set as received. */
  readonly size: number;
  /** The parsed data set (bulk values left in the sink's storage until read). */
  readonly dataset: Dataset;
  /**
   * Makes the instance durable and visible; resolves only once it is on stable storage. A sink
   * that judges instances itself (`validates`) throws a StoreFailure for a refusal and may
   * give the status of a stored instance (B000 coercion, B007) with its reason.
   */
  commit(): Promise<CommitResult>;
  /** Forgets the instance, leaving no trace. */
  discard(): Promise<void>;
}

/** What a commit reports: where the instance went and, from a validating sink, the status. */
export interface CommitResult {
  location: string;
  replaced: boolean;
  /** Success (default), or a warning status for a stored instance (B000, B007). */
  status?: number;
  /** The reason of a warning status, or what happened to a success (duplicate ignored, quarantined). */
  reason?: string;
  kind?: StoreFailureKind;
}

/** Where received instances go (REQUIREMENTS 2.3): the archive (src/archive/ingest.ts) or a bare file store. */
export interface StorageSink {
  /**
   * The sink runs the checks of REQUIREMENTS 5.3 itself (the archive's single ingest path, which
   * `tracer import` shares): the service then leaves checkInstance to it.
   */
  readonly validates?: boolean;
  /** Refuses early, before the data set is read (e.g. free disk below the minimum): throw a StoreFailure. */
  admit?(rq: StoreRequest): void | Promise<void>;
  /**
   * Consumes the data set bytes (in order, as they come) into temporary storage and parses the
   * header. Throws StoreFailure: 'aborted' when the stream fails (association ended),
   * 'outOfResources' on write errors, 'cannotUnderstand' when the bytes do not parse. Nothing
   * may remain after a throw.
   */
  receive(rq: StoreRequest, dataset: AsyncIterable<Buffer>, signal: AbortSignal): Promise<ReceivedInstance>;
}

/** One C-STORE's outcome, for the service log (STOR-070) and statistics. */
export interface StoreReport {
  request: StoreRequest;
  status: number;
  /** Failure or warning category; undefined on plain success. */
  kind?: StoreFailureKind;
  /** Why, in words: the reason logged with every non-0000 status. */
  reason?: string;
  /** Data set bytes received. */
  size?: number;
  location?: string;
  replaced?: boolean;
  /** Milliseconds from the C-STORE-RQ to the decision. */
  ms: number;
}

export interface StorageScpOptions {
  sink: StorageSink;
  /** REQUIREMENTS 5.7 `storage.privateStatusCodes`: eNTEGRA refinements A710-A740 of A700. */
  privateStatusCodes?: 'none' | 'entegra';
  /** REQUIREMENTS 5.7 `storage.validationFailure`: 'warn' stores a mismatching data set with B007. */
  validationFailure?: 'reject' | 'warn';
  /** SOP classes accepted on this node (STOR-002); default: every class the negotiation accepted. */
  acceptsSopClass?: (sopClassUid: string, ctx: RequestContext) => boolean;
  /** Every outcome, success or not. */
  onReport?: (report: StoreReport) => void;
}

/** Status codes of PS3.4 B.2.3 and REQUIREMENTS 5.7. */
export const StoreStatus = {
  Success: 0x0000,
  /** Warning: coercion of data elements. */
  CoercionOfDataElements: 0xb000,
  /** Warning: data set does not match SOP class. */
  DatasetDoesNotMatchSopClassWarning: 0xb007,
  /** Warning: elements discarded. */
  ElementsDiscarded: 0xb006,
  DuplicateSopInstance: 0x0111,
  SopClassNotSupported: Status.SOPClassNotSupported,
  /** Refused: out of resources (A7xx). */
  OutOfResources: 0xa700,
  /** Error: data set does not match SOP class (A9xx). */
  DatasetDoesNotMatchSopClass: 0xa900,
  /** Error: cannot understand (Cxxx). */
  CannotUnderstand: 0xc000,
  /** eNTEGRA private codes (REQUIREMENTS 5.7, 18.4, SEND-031). */
  EntegraNotWrittenToDatabase: 0xa710,
  EntegraInternalError: 0xa720,
  EntegraStreamNotUnderstood: 0xa730,
  EntegraPixelDataNotAccessible: 0xa740,
} as const;

/** The status sent for a failure kind (REQUIREMENTS 5.7). */
export function storeStatusFor(kind: StoreFailureKind, privateStatusCodes: 'none' | 'entegra' = 'none'): number {
  const entegra = privateStatusCodes === 'entegra';
  switch (kind) {
    case 'outOfResources':
      return StoreStatus.OutOfResources;
    case 'notIndexed':
      return entegra ? StoreStatus.EntegraNotWrittenToDatabase : StoreStatus.OutOfResources;
    case 'internal':
      return entegra ? StoreStatus.EntegraInternalError : StoreStatus.CannotUnderstand;
    case 'cannotUnderstand':
      return entegra ? StoreStatus.EntegraStreamNotUnderstood : StoreStatus.CannotUnderstand;
    case 'pixelDataMissing':
      return entegra ? StoreStatus.EntegraPixelDataNotAccessible : StoreStatus.DatasetDoesNotMatchSopClass;
    case 'datasetMismatch':
      return StoreStatus.DatasetDoesNotMatchSopClass;
    case 'sopClassNotSupported':
      return StoreStatus.SopClassNotSupported;
    case 'duplicate':
      return StoreStatus.DuplicateSopInstance;
    case 'aborted':
      return StoreStatus.OutOfResources; // never sent: the association is gone
  }
}

/** PS3.5 9.1: a UID is 1-64 characters, components of digits without leading zeros, separated by dots. */
export function isValidUid(uid: string | undefined): boolean {
  return uid !== undefined && uid.length > 0 && uid.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(uid);
}

/**
 * Header checks run on every instance (STOR-020 `uids`, STOR-021). Returns the failure to
 * report, or undefined when the instance may be stored.
 */
export function checkInstance(rq: StoreRequest, ds: Dataset): StoreFailure | undefined {
  const sopClass = ds.string(0x00080016);
  const sopInstance = ds.string(0x00080018);
  // STOR-022: a required UID missing or empty is C000; malformed ones too, as they would also
  // be unusable as keys (and as file names).
  const required: [string, number][] = [['SOP Class UID (0008,0016)', 0x00080016], ['SOP Instance UID (0008,0018)', 0x00080018], ['Study Instance UID (0020,000D)', 0x0020000d], ['Series Instance UID (0020,000E)', 0x0020000e]];
  for (const [name, tag] of required) {
    const v = ds.string(tag);
    if (!v) return new StoreFailure('cannotUnderstand', `${name} missing or empty`);
    if (!isValidUid(v)) return new StoreFailure('cannotUnderstand', `${name} is not a valid UID: ${JSON.stringify(v.slice(0, 70))}`);
  }
  // STOR-021: the command and the data set must name the same instance.
  if (sopClass !== rq.sopClassUid) return new StoreFailure('datasetMismatch', `SOP Class UID of the data set ${sopClass} differs from the C-STORE's Affected SOP Class UID ${rq.sopClassUid}`);
  if (sopInstance !== rq.sopInstanceUid) return new StoreFailure('datasetMismatch', `SOP Instance UID of the data set ${sopInstance} differs from the C-STORE's Affected SOP Instance UID ${rq.sopInstanceUid}`);
  return undefined;
}

const OFFENDING: Partial<Record<string, number[]>> = {
  'SOP Class': [0x00080016],
  'SOP Instance': [0x00080018],
};

/** The C-STORE handler of the Storage SCP. */
export function storageScp(opts: StorageScpOptions): Handler<'C-STORE'> {
  const privateCodes = opts.privateStatusCodes ?? 'none';
  return async (rq, ctx) => {
    const t0 = performance.now();
    const assoc = ctx.association;
    const request: StoreRequest = {
      sopClassUid: rq.AffectedSOPClassUID,
      sopInstanceUid: rq.AffectedSOPInstanceUID,
      transferSyntaxUid: ctx.presentationContext.transferSyntax,
      callingAETitle: assoc.callingAETitle ?? '',
      calledAETitle: assoc.calledAETitle ?? '',
      peerAddress: assoc.remoteAddress,
      messageId: rq.MessageID,
      moveOriginatorAETitle: rq.MoveOriginatorApplicationEntityTitle,
      moveOriginatorMessageId: rq.MoveOriginatorMessageID,
    };
    const report = (r: Omit<StoreReport, 'request' | 'ms'>): void => opts.onReport?.({ request, ms: Math.round(performance.now() - t0), ...r });
    let size: number | undefined;
    try {
      if (!ctx.dataset) throw new StoreFailure('cannotUnderstand', 'C-STORE-RQ without a data set');
      // PS3.7 9.1.1.1: the Affected SOP Class UID is the abstract syntax of the context it comes on.
      if (rq.AffectedSOPClassUID !== ctx.presentationContext.abstractSyntax) {
        throw new StoreFailure('sopClassNotSupported', `C-STORE for ${rq.AffectedSOPClassUID} on presentation context ${ctx.presentationContext.id}, which was negotiated for ${ctx.presentationContext.abstractSyntax}`);
      }
      if (opts.acceptsSopClass && !opts.acceptsSopClass(rq.AffectedSOPClassUID, ctx)) {
        throw new StoreFailure('sopClassNotSupported', `SOP class ${rq.AffectedSOPClassUID} is not accepted`);
      }
      await opts.sink.admit?.(request);
      const inst = await opts.sink.receive(request, ctx.dataset, ctx.signal);
      size = inst.size;
      let status: number = StoreStatus.Success;
      let warning: StoreFailure | undefined;
      try {
        const problem = opts.sink.validates ? undefined : checkInstance(request, inst.dataset);
        if (problem) {
          if (problem.kind === 'datasetMismatch' && opts.validationFailure === 'warn') {
            // REQUIREMENTS 5.7: B007 and stored, when so configured.
            status = StoreStatus.DatasetDoesNotMatchSopClassWarning;
            warning = problem;
          } else throw problem;
        }
        const stored = await inst.commit();
        if (stored.status !== undefined && stored.status !== StoreStatus.Success) {
          report({ status: stored.status, size, location: stored.location, replaced: stored.replaced, kind: stored.kind, reason: stored.reason });
          return { Status: stored.status, ErrorComment: stored.reason };
        }
        report({ status, size, location: stored.location, replaced: stored.replaced, kind: warning?.kind ?? stored.kind, reason: warning?.message ?? stored.reason });
        if (warning) return { Status: status, ErrorComment: warning.message, OffendingElement: offendingOf(warning) };
        return status;
      } catch (err) {
        await inst.discard().catch(() => undefined);
        throw err;
      }
    } catch (err) {
      const f = err instanceof StoreFailure ? err : new StoreFailure('internal', `internal error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      const kind = ctx.signal.aborted && f.kind !== 'aborted' ? 'aborted' : f.kind;
      const status = storeStatusFor(kind, privateCodes);
      report({ status, kind, reason: f.message, size });
      return { Status: status, ErrorComment: f.message, OffendingElement: offendingOf(f) };
    }
  };
}

function offendingOf(f: StoreFailure): number[] | undefined {
  if (f.kind !== 'datasetMismatch') return undefined;
  return OFFENDING[f.message.startsWith('SOP Class') ? 'SOP Class' : 'SOP Instance'];
}
