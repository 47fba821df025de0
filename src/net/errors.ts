/**
 * Errors of the upper layer. Each says what went wrong and where (PDU, item, byte offset,
 * peer), so a log line is enough to find the cause without a packet capture.
 */

/** A PDU or item that does not follow PS3.8 9.3. `offset` counts from the PDU's first byte. */
export class PduDecodeError extends Error {
  override readonly name = 'PduDecodeError';
  constructor(
    message: string,
    /** PDU name, e.g. 'A-ASSOCIATE-RQ'. */
    readonly pdu: string,
    /** Byte offset from the first byte of the PDU. */
    readonly offset: number,
    /** Item name, e.g. 'Presentation Context (20H)', when the fault is inside an item. */
    readonly item?: string,
    /**
     * A-ABORT reason the state machine sends for this fault (PS3.8 9.3.8):
     * 1 unrecognized-PDU, 4 unrecognized-PDU parameter, 6 invalid-PDU-parameter value.
     */
    readonly abortReason: 1 | 4 | 5 | 6 = 6,
  ) {
    super(`${pdu}${item ? ` ${item}` : ''} at byte ${offset}: ${message}`);
  }
}

/** The peer answered the A-ASSOCIATE-RQ with an A-ASSOCIATE-RJ (PS3.8 9.3.4). */
export class AssociationRejectedError extends Error {
  override readonly name = 'AssociationRejectedError';
  constructor(
    readonly result: number,
    readonly source: number,
    readonly reason: number,
    readonly peer: string,
  ) {
    super(`association rejected by ${peer}: ${describeReject(result, source, reason)}`);
  }
}

/** The association ended abnormally: A-ABORT received or sent, A-P-ABORT, or transport loss. */
export class AssociationAbortedError extends Error {
  override readonly name = 'AssociationAbortedError';
  constructor(
    message: string,
    /** A-ABORT source (0 service-user, 2 service-provider) when an A-ABORT PDU was involved. */
    readonly source?: number,
    readonly reason?: number,
  ) {
    super(message);
  }
}

/** A timeout of REQUIREMENTS 3.3 expired; the association was aborted (ASSOC-021). */
export class DimseTimeoutError extends Error {
  override readonly name = 'DimseTimeoutError';
  constructor(message: string, readonly timeout: string) {
    super(message);
  }
}

/** A call that the current state of the association does not allow (e.g. send after release). */
export class AssociationStateError extends Error {
  override readonly name = 'AssociationStateError';
}

/** A DIMSE command set that cannot be decoded or is incomplete (PS3.7 9.3, Annex E). */
export class DimseDecodeError extends Error {
  override readonly name = 'DimseDecodeError';
  constructor(message: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} (command set byte ${offset})`);
  }
}

const RESULT: Record<number, string> = { 1: 'rejected-permanent', 2: 'rejected-transient' };
const SOURCE: Record<number, string> = {
  1: 'DICOM UL service-user',
  2: 'DICOM UL service-provider (ACSE related function)',
  3: 'DICOM UL service-provider (Presentation related function)',
};
const REASON: Record<string, string> = {
  '1/1': 'no-reason-given',
  '1/2': 'application-context-name-not-supported',
  '1/3': 'calling-AE-title-not-recognized',
  '1/7': 'called-AE-title-not-recognized',
  '2/1': 'no-reason-given',
  '2/2': 'protocol-version-not-supported',
  '3/1': 'temporary-congestion',
  '3/2': 'local-limit-exceeded',
};

/** Human text of an A-ASSOCIATE-RJ result/source/reason triple (PS3.8 Table 9-21). */
export function describeReject(result: number, source: number, reason: number): string {
  const r = REASON[`${source}/${reason}`] ?? `reason ${reason}`;
  return `${RESULT[result] ?? `result ${result}`}, source ${SOURCE[source] ?? source}, ${r}`;
}

const ABORT_REASON: Record<number, string> = {
  0: 'reason-not-specified',
  1: 'unrecognized-PDU',
  2: 'unexpected-PDU',
  4: 'unrecognized-PDU parameter',
  5: 'unexpected-PDU parameter',
  6: 'invalid-PDU-parameter value',
};

/** Human text of an A-ABORT source/reason pair (PS3.8 9.3.8). */
export function describeAbort(source: number, reason: number): string {
  if (source === 0) return 'service-user initiated abort';
  return `service-provider initiated abort: ${ABORT_REASON[reason] ?? `reason ${reason}`}`;
}
