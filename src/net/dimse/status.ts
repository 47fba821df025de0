/**
 * DIMSE status values (PS3.7 Annex C): the category of a Status (0000,0900) decides whether an
 * operation goes on (Pending), ended well (Success, Warning) or not (Failure, Cancel).
 */
export const Status = {
  Success: 0x0000,
  Pending: 0xff00,
  PendingWarning: 0xff01,
  Cancel: 0xfe00,
  /** PS3.7 C.4: Refused: SOP class not supported. */
  SOPClassNotSupported: 0x0122,
  /** PS3.7 C.5.x: processing failure. */
  ProcessingFailure: 0x0110,
  UnrecognizedOperation: 0x0211,
  DuplicateInvocation: 0x0210,
  MistypedArgument: 0x0212,
  ResourceLimitation: 0x0213,
  NoSuchSOPClass: 0x0118,
  NoSuchSOPInstance: 0x0112,
  NotAuthorized: 0x0124,
} as const;

export type StatusCategory = 'Success' | 'Pending' | 'Cancel' | 'Warning' | 'Failure';

/** PS3.7 C.1 to C.3 and Annex C of PS3.4 (Bxxx warnings). */
export function statusCategory(s: number): StatusCategory {
  if (s === 0x0000) return 'Success';
  if (s === 0xff00 || s === 0xff01) return 'Pending';
  if (s === 0xfe00) return 'Cancel';
  if (s === 0x0001 || s === 0x0107 || s === 0x0116 || (s >= 0xb000 && s <= 0xbfff)) return 'Warning';
  return 'Failure';
}

export function isPending(s: number): boolean {
  return s === 0xff00 || s === 0xff01;
}

export function formatStatus(s: number): string {
  return `0x${s.toString(16).toUpperCase().padStart(4, '0')} (${statusCategory(s)})`;
}
