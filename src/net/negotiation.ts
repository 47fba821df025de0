/**
 * Association negotiation (PS3.8 7.1.1.13, PS3.7 D.3.3): the acceptor's answer to an
 * A-ASSOCIATE-RQ, built by policy (REQUIREMENTS 3.5-3.8), and the negotiated result both sides
 * use afterwards (presentation contexts, roles, asynchronous operations window, PDU sizes).
 */
import type { AAssociateAc, AAssociateRj, AAssociateRq } from './pdu.js';
import { PcResult, type AsyncOperationsWindow, type PresentationContextAc, type RoleSelection, type SopClassExtendedNegotiation, type UserIdentityRq } from './pdu-items.js';
import { DEFAULT_ACCEPTED_TRANSFER_SYNTAXES, DICOM_APPLICATION_CONTEXT, EXPLICIT_VR_LITTLE_ENDIAN, JPEG_2000_LOSSLESS, JPEG_LOSSLESS_P14, JPEG_LOSSLESS_SV1, RLE_LOSSLESS, TRANSFER_SYNTAXES } from './uids.js';

/**
 * How the acceptor picks one transfer syntax per presentation context (REQUIREMENTS 3.8):
 * - 'callerOrder': the first of the proposer's list we accept (ASSOC-070 default);
 * - 'localOrder': the first of our accepted list (ordered) that was proposed;
 * - 'explicitFirst': Explicit VR Little Endian when proposed, otherwise callerOrder;
 * - 'compressedFirst' / 'jpegLosslessFirst': a lossless compressed syntax when proposed
 *   (JPEG Lossless SV1, JPEG Lossless, JPEG 2000 Lossless, RLE), otherwise explicitFirst;
 * - string[]: a fixed preference list; the first listed that was proposed and is accepted.
 * In every policy but a fixed list, a lossy syntax is never chosen when the same context also
 * offers an acceptable lossless one (REQUIREMENTS 3.8, Proposed).
 */
export type TransferSyntaxPolicy = 'callerOrder' | 'localOrder' | 'explicitFirst' | 'compressedFirst' | 'jpegLosslessFirst' | readonly string[];

const LOSSLESS_COMPRESSED = [JPEG_LOSSLESS_SV1, JPEG_LOSSLESS_P14, JPEG_2000_LOSSLESS, RLE_LOSSLESS];

function isLossy(uid: string): boolean {
  return TRANSFER_SYNTAXES.get(uid)?.lossy ?? false;
}

/** Chooses one of `proposed` that is in `accepted`, by `policy`; undefined when none fits. */
export function selectTransferSyntax(proposed: readonly string[], accepted: readonly string[], policy: TransferSyntaxPolicy = 'callerOrder'): string | undefined {
  const ok = new Set(accepted);
  const candidates = proposed.filter((ts) => ok.has(ts));
  if (candidates.length === 0) return undefined;
  if (Array.isArray(policy)) return (policy as readonly string[]).find((ts) => candidates.includes(ts));
  const lossless = candidates.filter((ts) => !isLossy(ts));
  const pool = lossless.length > 0 ? lossless : candidates;
  switch (policy) {
    case 'localOrder':
      return accepted.find((ts) => pool.includes(ts));
    case 'explicitFirst':
      return pool.includes(EXPLICIT_VR_LITTLE_ENDIAN) ? EXPLICIT_VR_LITTLE_ENDIAN : pool[0];
    case 'compressedFirst':
    case 'jpegLosslessFirst':
      return LOSSLESS_COMPRESSED.find((ts) => pool.includes(ts)) ?? (pool.includes(EXPLICIT_VR_LITTLE_ENDIAN) ? EXPLICIT_VR_LITTLE_ENDIAN : pool[0]);
    default:
      return pool[0];
  }
}

/** min of two window values where 0 means unlimited (PS3.7 D.3.3.3). */
export function minWindow(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

export interface AcceptorPolicy {
  /** Our AE titles; when set, a called AE title outside the list is rejected (1/1/7). */
  aeTitles?: readonly string[];
  /** Known calling AE titles; when set, others are rejected (1/1/3). */
  callingAETitles?: readonly string[];
  /**
   * Accepted abstract syntaxes with their accepted transfer syntaxes (ordered, for 'localOrder').
   * A function may decide per abstract syntax; undefined/empty = abstract-syntax-not-supported.
   */
  abstractSyntaxes: ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[] | true>> | ((abstractSyntax: string) => readonly string[] | undefined);
  transferSyntaxPolicy?: TransferSyntaxPolicy;
  /** Our Maximum Length (51H) to advertise; 0 = unlimited. Default 32768 (REQUIREMENTS 3.2). */
  maxPduReceive?: number;
  implementationClassUid: string;
  implementationVersionName?: string;
  /** Asynchronous Operations Window (ASSOC-041); absent = synchronous, the item is not returned. */
  asyncOperations?: { maxInvoked: number; maxPerformed: number };
  /** SOP classes whose proposed SCP/SCU roles are accepted (ASSOC-050/051); others get the default roles. */
  acceptRoleSelection?: (sopClassUid: string, proposed: RoleSelection) => boolean;
  /** Answer to a SOP Class Extended Negotiation item (56H); undefined = no answer (ASSOC-053). */
  extendedNegotiation?: (item: SopClassExtendedNegotiation) => Buffer | undefined;
  /** User Identity (58H): accept or reject, optionally with a server response (ASSOC-054). */
  userIdentity?: (item: UserIdentityRq) => { accept: boolean; serverResponse?: Buffer };
  /** When no proposed context is acceptable: reject (1/2/1, default, ASSOC-063) or accept with all contexts rejected. */
  rejectWhenNoContext?: boolean;
}

export type NegotiationResult = { ac: AAssociateAc; rj?: undefined } | { rj: AAssociateRj; ac?: undefined; why: string };

const rj = (result: number, source: number, reason: number, why: string): NegotiationResult => ({ rj: { type: 'A-ASSOCIATE-RJ', result, source, reason }, why });

function acceptedFor(policy: AcceptorPolicy, abstractSyntax: string): readonly string[] | undefined {
  const a = policy.abstractSyntaxes;
  if (typeof a === 'function') return a(abstractSyntax);
  if (a instanceof Map) return a.get(abstractSyntax);
  const v = (a as Record<string, readonly string[] | true>)[abstractSyntax];
  return v === true ? DEFAULT_ACCEPTED_TRANSFER_SYNTAXES : v;
}

/**
 * The acceptor's answer to an A-ASSOCIATE-RQ by the rules of REQUIREMENTS 3.7: rejections with
 * the result/source/reason of ASSOC-063, else an A-ASSOCIATE-AC with each presentation context
 * judged independently (duplicates included, ASSOC-062).
 */
export function negotiateAssociation(rq: AAssociateRq, policy: AcceptorPolicy): NegotiationResult {
  if (rq.applicationContextName !== DICOM_APPLICATION_CONTEXT) {
    return rj(1, 1, 2, `application context ${rq.applicationContextName} not supported`);
  }
  if (policy.aeTitles && !policy.aeTitles.includes(rq.calledAETitle)) return rj(1, 1, 7, `called AE title "${rq.calledAETitle}" is not ours`);
  if (policy.callingAETitles && !policy.callingAETitles.includes(rq.callingAETitle)) return rj(1, 1, 3, `calling AE title "${rq.callingAETitle}" is not known`);

  const ui = rq.userInformation;
  let userIdentityAc: { serverResponse: Buffer } | undefined;
  if (ui.userIdentityRq && policy.userIdentity) {
    const r = policy.userIdentity(ui.userIdentityRq);
    if (!r.accept) return rj(1, 1, 1, 'user identity not accepted');
    if (ui.userIdentityRq.positiveResponseRequested) userIdentityAc = { serverResponse: r.serverResponse ?? Buffer.alloc(0) };
  }

  const tsPolicy = policy.transferSyntaxPolicy ?? 'callerOrder';
  const contexts: PresentationContextAc[] = rq.presentationContexts.map((pc) => {
    const accepted = acceptedFor(policy, pc.abstractSyntax);
    if (!accepted || accepted.length === 0) return { id: pc.id, result: PcResult.AbstractSyntaxNotSupported, transferSyntax: pc.transferSyntaxes[0] ?? '' };
    const ts = selectTransferSyntax(pc.transferSyntaxes, accepted, tsPolicy);
    if (!ts) return { id: pc.id, result: PcResult.TransferSyntaxesNotSupported, transferSyntax: pc.transferSyntaxes[0] ?? '' };
    return { id: pc.id, result: PcResult.Acceptance, transferSyntax: ts };
  });
  if (!contexts.some((c) => c.result === PcResult.Acceptance) && policy.rejectWhenNoContext !== false) {
    return rj(1, 2, 1, 'no proposed presentation context is acceptable');
  }

  const proposedAbstract = new Set(rq.presentationContexts.map((p) => p.abstractSyntax));
  const roleSelections = (ui.roleSelections ?? [])
    .filter((r) => proposedAbstract.has(r.sopClassUid))
    .map((r) =>
      policy.acceptRoleSelection?.(r.sopClassUid, r)
        ? { sopClassUid: r.sopClassUid, scuRole: r.scuRole, scpRole: r.scpRole }
        : // default roles: the requestor is SCU only (PS3.7 D.3.3.4)
          { sopClassUid: r.sopClassUid, scuRole: r.scuRole, scpRole: false },
    );

  let asyncOperationsWindow: AsyncOperationsWindow | undefined;
  if (ui.asyncOperationsWindow && policy.asyncOperations) {
    // AC fields are the acceptor's view (PS3.7 D.3.3.3): how many the requestor may invoke,
    // and how many the acceptor will invoke; each is the minimum of both sides' limits.
    asyncOperationsWindow = {
      maxOperationsInvoked: minWindow(ui.asyncOperationsWindow.maxOperationsInvoked, policy.asyncOperations.maxPerformed),
      maxOperationsPerformed: minWindow(ui.asyncOperationsWindow.maxOperationsPerformed, policy.asyncOperations.maxInvoked),
    };
  }

  const extendedNegotiations: SopClassExtendedNegotiation[] = [];
  for (const e of ui.extendedNegotiations ?? []) {
    const answer = policy.extendedNegotiation?.(e);
    if (answer) extendedNegotiations.push({ sopClassUid: e.sopClassUid, serviceClassApplicationInformation: answer });
  }

  return {
    ac: {
      type: 'A-ASSOCIATE-AC',
      protocolVersion: 1,
      // Sent back as received (PS3.8 9.3.3; ASSOC-061).
      calledAETitle: rq.calledAETitle,
      callingAETitle: rq.callingAETitle,
      applicationContextName: DICOM_APPLICATION_CONTEXT,
      presentationContexts: contexts,
      userInformation: {
        maxLength: policy.maxPduReceive ?? 32768,
        implementationClassUid: policy.implementationClassUid,
        implementationVersionName: policy.implementationVersionName,
        asyncOperationsWindow,
        roleSelections: roleSelections.length ? roleSelections : undefined,
        extendedNegotiations: extendedNegotiations.length ? extendedNegotiations : undefined,
        userIdentityAc,
      },
    },
  };
}

/** One accepted presentation context as both sides use it after negotiation. */
export interface NegotiatedContext {
  id: number;
  abstractSyntax: string;
  transferSyntax: string;
  /** Roles of the association-requestor for this abstract syntax (PS3.7 D.3.3.4). */
  requestorIsScu: boolean;
  requestorIsScp: boolean;
}

export interface Negotiated {
  /** Accepted presentation contexts by ID. */
  contexts: Map<number, NegotiatedContext>;
  /** Every context the requestor proposed, with the acceptor's result (for logs). */
  results: { id: number; abstractSyntax: string; result: number; transferSyntax: string }[];
  /** Our requests that may be outstanding at once; 0 = unlimited. */
  maxOutgoing: number;
  /** The peer's requests we perform at once; 0 = unlimited. */
  maxIncoming: number;
  /** Largest P-DATA-TF variable field the peer accepts; 0 = unlimited (PS3.8 D.1). */
  peerMaxPdu: number;
  peerImplementationClassUid?: string;
  peerImplementationVersionName?: string;
}

/** Combines the RQ and its AC into the negotiated parameters, from one side's point of view. */
export function negotiated(rq: AAssociateRq, ac: AAssociateAc, side: 'requestor' | 'acceptor'): Negotiated {
  const contexts = new Map<number, NegotiatedContext>();
  const results: Negotiated['results'] = [];
  const roles = new Map((ac.userInformation.roleSelections ?? []).map((r) => [r.sopClassUid, r]));
  const proposed = new Map(rq.presentationContexts.map((p) => [p.id, p]));
  for (const pc of ac.presentationContexts) {
    const p = proposed.get(pc.id);
    if (!p) continue; // an answer to a context never proposed is ignored
    results.push({ id: pc.id, abstractSyntax: p.abstractSyntax, result: pc.result, transferSyntax: pc.transferSyntax });
    if (pc.result !== PcResult.Acceptance) continue;
    const r = roles.get(p.abstractSyntax);
    contexts.set(pc.id, { id: pc.id, abstractSyntax: p.abstractSyntax, transferSyntax: pc.transferSyntax, requestorIsScu: r ? r.scuRole : true, requestorIsScp: r ? r.scpRole : false });
  }
  const w = ac.userInformation.asyncOperationsWindow;
  // Without the item both limits are 1 (PS3.7 D.3.3.3).
  const requestorInvokes = w ? w.maxOperationsInvoked : 1;
  const acceptorInvokes = w ? w.maxOperationsPerformed : 1;
  const peer = side === 'requestor' ? ac.userInformation : rq.userInformation;
  return {
    contexts,
    results,
    maxOutgoing: side === 'requestor' ? requestorInvokes : acceptorInvokes,
    maxIncoming: side === 'requestor' ? acceptorInvokes : requestorInvokes,
    peerMaxPdu: peer.maxLength ?? 0,
    peerImplementationClassUid: peer.implementationClassUid,
    peerImplementationVersionName: peer.implementationVersionName,
  };
}
