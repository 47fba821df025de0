/**
 * What a Storage SCU does with each C-STORE response status (REQUIREMENTS 6.4, SEND-030/031;
 * PS3.4 B.2.3 and Annex C of PS3.7 for the codes): the text shown to the user, whether the
 * instance counts as stored, and what happens to the association and the job, per the node's
 * `onRefused`, `onInstanceFailure` and `warningsAsSuccess`.
 */
import type { NodeConfig } from '../node/config.js';

export type StorePolicy = Pick<NodeConfig, 'onRefused' | 'onInstanceFailure' | 'warningsAsSuccess'>;

export const DEFAULT_STORE_POLICY: StorePolicy = { onRefused: 'retryJob', onInstanceFailure: 'continue', warningsAsSuccess: true };

/**
 * - 'continue': go on with the next instance on the same association;
 * - 'newAssociation': go on, but on a new association (eNTEGRA for Cxxx, SEND-030 default);
 * - 'retryLater': the instance is not stored; abort the association and resend it on the
 *   next attempt of the job (SEND-040: A7xx with retryJob, Cxxx with abortAndRetry);
 * - 'stopJob': the instance failed and nothing more is sent (failJob / stopJob).
 */
export type StoreAction = 'continue' | 'newAssociation' | 'retryLater' | 'stopJob';

export interface StatusVerdict {
  /** 'warning' counts as stored (unless warningsAsSuccess is false: then 'failure'). */
  outcome: 'success' | 'warning' | 'failure';
  action: StoreAction;
  text: string;
}

/**
 * eNTEGRA's private refused codes, shown whatever the peer (SEND-031); A700 keeps the
 * standard's meaning next to eNTEGRA's.
 */
const ENTEGRA: Record<number, string> = {
  0xa700: 'Refused: Out of Resources (eNTEGRA: DICOM Protocol Error)',
  0xa710: 'Refused: Remote Database could not write dataset',
  0xa720: 'Refused: Internal Error on the Remote Station',
  0xa730: 'Refused: Translation Failed. Cannot send Dataset',
  0xa740: 'Refused: Remote Station could not find Pixel Data',
};

/** Texts of the C-STORE statuses of PS3.4 B.2.3 and the general ones of PS3.7 C. */
const TEXTS: Record<number, string> = {
  0x0000: 'Success',
  0x0001: 'Warning: Requested optional attributes are not supported',
  0x0107: 'Warning: Attribute list error',
  0x0116: 'Warning: Attribute value out of range',
  0xb000: 'Warning: Coercion of data elements',
  0xb006: 'Warning: Elements discarded',
  0xb007: 'Warning: Data set does not match SOP class',
  0x0111: 'Duplicate SOP instance: already on the remote node, not overwritten',
  0x0122: 'Refused: SOP class not supported',
  0x0124: 'Refused: Not authorized',
  0x0110: 'Failure: Processing failure',
  0x0117: 'Failure: Invalid object instance',
  0x0210: 'Failure: Duplicate invocation',
  0x0211: 'Failure: Unrecognized operation',
  0x0212: 'Failure: Mistyped argument',
  0x0213: 'Failure: Resource limitation',
  0xa900: 'Error: Data set does not match SOP class',
  0xc000: 'Error: Cannot understand (Unknown Error returned from Remote Station)',
  0xfe00: 'Cancelled',
};

export function hex4(status: number): string {
  return status.toString(16).toUpperCase().padStart(4, '0');
}

/** The user's text for a C-STORE response status, e.g. "A710 Refused: Remote Database could not write dataset". */
export function describeStoreStatus(status: number, errorComment?: string): string {
  let t = TEXTS[status] ?? ENTEGRA[status];
  if (!t) {
    if (status >= 0xa700 && status <= 0xa7ff) t = 'Refused: Out of Resources';
    else if (status >= 0xa900 && status <= 0xa9ff) t = 'Error: Data set does not match SOP class';
    else if (status >= 0xc000 && status <= 0xcfff) t = 'Error: Cannot understand (Unknown Error returned from Remote Station)';
    else if (status >= 0xb000 && status <= 0xbfff) t = 'Warning';
    else t = 'Failure';
  }
  const comment = errorComment?.trim();
  return `${hex4(status)} ${t}${comment ? ` (${comment})` : ''}`;
}

function isWarning(s: number): boolean {
  return s === 0x0001 || s === 0x0107 || s === 0x0116 || (s >= 0xb000 && s <= 0xbfff);
}

/** SEND-030: the verdict on one C-STORE response under a node's policy. */
export function judgeStoreStatus(status: number, policy: StorePolicy = DEFAULT_STORE_POLICY, errorComment?: string): StatusVerdict {
  const text = describeStoreStatus(status, errorComment);
  if (status === 0x0000) return { outcome: 'success', action: 'continue', text };
  // 0111: SPECTsyngo goes on and ends the job with a warning that images already exist remotely.
  if (status === 0x0111 || isWarning(status)) {
    return { outcome: policy.warningsAsSuccess ? 'warning' : 'failure', action: 'continue', text };
  }
  if (status >= 0xa700 && status <= 0xa7ff) {
    switch (policy.onRefused) {
      case 'retryJob':
        return { outcome: 'failure', action: 'retryLater', text };
      case 'failJob':
        return { outcome: 'failure', action: 'stopJob', text };
      default:
        return { outcome: 'failure', action: 'continue', text };
    }
  }
  const cxxx = status >= 0xc000 && status <= 0xcfff;
  switch (policy.onInstanceFailure) {
    case 'stopJob':
      return { outcome: 'failure', action: 'stopJob', text };
    case 'abortAndRetry':
      // GCA-9300R retries the job for Cxxx only; A9xx, 0122 and the rest are permanent (SEND-040).
      return { outcome: 'failure', action: cxxx ? 'retryLater' : 'continue', text };
    default:
      // eNTEGRA: after "Unknown Error returned from Remote Station" it continues on a new association.
      return { outcome: 'failure', action: cxxx ? 'newAssociation' : 'continue', text };
  }
}
