/**
 * Options of associations (REQUIREMENTS 3.2-3.5): PDU sizes, timeouts, what the requestor
 * proposes, and the acceptor's negotiation hook.
 */
import type { Duplex } from 'node:stream';
import type { Association } from './association.js';
import type { NegotiationResult } from './negotiation.js';
import type { AAssociateRq } from './pdu.js';
import type { RoleSelection, SopClassCommonExtendedNegotiation, SopClassExtendedNegotiation, UserIdentityRq } from './pdu-items.js';
import type { Handlers } from './dimse/handlers.js';
import type { DatasetSource } from './dimse/sender.js';

/** Timeouts of REQUIREMENTS 3.3, in milliseconds; 0 disables one. */
export interface Timeouts {
  connect: number;
  /** ARTIM (PS3.8 9.1.5), and the wait for the A-ASSOCIATE-AC/RJ. */
  acse: number;
  release: number;
  /** Wait for each response of an operation. */
  dimse: number;
  /** Gap in the data of one PDU or message. */
  interPdu: number;
  /** Release after this long without DIMSE activity. */
  idle: number;
  /** Abort after this association lifetime. */
  session: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connect: 60_000, acse: 60_000, release: 30_000, dimse: 60_000, interPdu: 60_000, idle: 0, session: 0 };

export interface AssociationOptions {
  /** Maximum Length (51H) we advertise and enforce; 0 = unlimited (REQUIREMENTS 3.2). Default 32768. */
  maxPduReceive?: number;
  /** PDU size we send when the peer advertises 0 (unlimited). Default 65536. */
  maxPduSendUnlimited?: number;
  /** Cap on the PDUs we send whatever the peer allows; 0 = as negotiated. */
  maxPduSend?: number;
  /** Limit for A-ASSOCIATE and other non P-DATA PDUs. Default 1 MiB. */
  maxAssociatePduLength?: number;
  /** Largest response data set collected (C-FIND identifiers). Default 64 MiB. */
  maxResponseDataset?: number;
  timeouts?: Partial<Timeouts>;
  /** Handlers for requests the peer sends (acceptor side; C-STORE sub-operations of C-GET). */
  handlers?: Handlers;
}

export interface ProposedContext {
  /** Odd number 1-255; assigned in order when omitted. */
  id?: number;
  abstractSyntax: string;
  transferSyntaxes: readonly string[];
}

export interface RequestorOptions extends AssociationOptions {
  host?: string;
  port?: number;
  /** A custom transport (e.g. a TLS socket, already connected); replaces host/port. */
  connect?: () => Duplex | Promise<Duplex>;
  callingAETitle: string;
  calledAETitle: string;
  presentationContexts: ProposedContext[];
  implementationClassUid?: string;
  implementationVersionName?: string;
  /** Propose an Asynchronous Operations Window (ASSOC-041); 0 = unlimited. */
  asyncOperations?: { maxInvoked: number; maxPerformed: number };
  roleSelections?: RoleSelection[];
  extendedNegotiations?: SopClassExtendedNegotiation[];
  commonExtendedNegotiations?: SopClassCommonExtendedNegotiation[];
  userIdentity?: UserIdentityRq;
}

export interface AcceptorOptions extends AssociationOptions {
  /** Builds the A-ASSOCIATE-AC or -RJ for a request (see negotiateAssociation in negotiation.ts). */
  negotiate: (rq: AAssociateRq, assoc: Association) => NegotiationResult | Promise<NegotiationResult>;
}

export interface SendOptions {
  dataset?: DatasetSource;
  /** Use this presentation context; otherwise the first accepted one for the SOP class (and transferSyntax). */
  presentationContextId?: number;
  transferSyntax?: string;
  /** Response timeout for this operation (e.g. REQUIREMENTS moveResponseTimeout); default timeouts.dimse. */
  timeout?: number;
}

