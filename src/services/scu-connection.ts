/**
 * What every SCU of Tracer needs to open an association to a remote node: where it is
 * (REQUIREMENTS 2.2), our identity and PDU sizes (3.1, 3.2), the timeouts (3.3) and the
 * transport: plain TCP, or TLS through a connect factory (SEC, src/net/tls.ts). Also the
 * classification of association failures into transient (retried, SEND-040) and permanent.
 */
import type { Duplex } from 'node:stream';
import { tlsConnector } from '../net/tls.js';
import { AssociationAbortedError, AssociationRejectedError, AssociationStateError, DimseTimeoutError, describeReject, type Timeouts } from '../net/index.js';
import type { NodeConfig, TracerConfig } from '../node/config.js';
import { silentLogger, type Logger } from '../node/log.js';

/** The peer: a registered node or a HOST PORT given on the command line. */
export interface Destination {
  host: string;
  port: number;
  /** Called AE title. */
  aeTitle: string;
  /** The node's logical name, for logs. */
  name?: string;
}

/** Our own AE title when none is given (as DCMTK's tools use their own names). */
export const DEFAULT_CALLING_AE = 'TRACER';
/** DCMTK's storescu/echoscu default called AE title. */
export const DEFAULT_CALLED_AE = 'ANY-SCP';

export type Connector = () => Duplex | Promise<Duplex>;

export interface ScuOptions {
  callingAETitle?: string;
  /** Our Maximum Length (ASSOC-010). */
  maxPduReceive?: number;
  /** Cap on the PDUs we send (nodes[].maxPduSend, ASSOC-011); 0 = as negotiated. */
  maxPduSend?: number;
  maxPduSendUnlimited?: number;
  timeouts?: Partial<Timeouts>;
  implementationClassUid?: string;
  implementationVersionName?: string;
  /**
   * The transport. Absent: TCP to host:port; for TLS nodes a connector from src/net/tls.ts.
   */
  connect?: Connector;
  logger?: Logger;
}

export function destinationOf(node: NodeConfig): Destination {
  return { host: node.host, port: node.port, aeTitle: node.aeTitle, name: node.name };
}

const ms = (s: number): number => Math.round(s * 1000);

/** SCU options from the configuration: the first local AE's identity, network.*, and the node's caps. */
export function scuOptionsFromConfig(config: TracerConfig, node?: NodeConfig, logger: Logger = silentLogger): ScuOptions {
  const n = config.network;
  const ae = config.localAEs[0];
  let connect: Connector | undefined;
  if (node?.tls.enabled) {
    // SEC-001..004: certificates from the node, else the local AE; pins and EKU checked after the handshake.
    connect = tlsConnector(node, config.tls, ae?.tls, { timeoutMs: ms(config.network.connectTimeout), log: logger });
  }
  return {
    callingAETitle: ae?.aeTitle ?? DEFAULT_CALLING_AE,
    maxPduReceive: n.maxPduReceive,
    maxPduSend: node?.maxPduSend ?? 0,
    maxPduSendUnlimited: n.maxPduSendUnlimited,
    implementationClassUid: ae?.implementationClassUid,
    implementationVersionName: ae?.implementationVersionName,
    timeouts: {
      connect: ms(n.connectTimeout),
      acse: ms(n.acseTimeout),
      release: ms(n.releaseTimeout),
      dimse: ms(n.dimseTimeout),
      interPdu: ms(n.interPduTimeout),
      idle: 0, // an SCU job releases as soon as it is done
      session: ms(n.sessionTimeout),
    },
    connect,
    logger,
  };
}

/** The RequestorOptions fields common to every SCU (everything but contexts and async window). */
export function requestorBase(dest: Destination, o: ScuOptions) {
  return {
    host: dest.host,
    port: dest.port,
    connect: o.connect,
    callingAETitle: o.callingAETitle ?? DEFAULT_CALLING_AE,
    calledAETitle: dest.aeTitle,
    maxPduReceive: o.maxPduReceive,
    maxPduSend: o.maxPduSend,
    maxPduSendUnlimited: o.maxPduSendUnlimited,
    implementationClassUid: o.implementationClassUid,
    implementationVersionName: o.implementationVersionName,
    timeouts: o.timeouts,
  };
}

export interface FailureKind {
  /** Worth another attempt later (SEND-040): unreachable, timeouts, abort, rejected-transient. */
  transient: boolean;
  /** 'connect', 'rejected', 'no-context', 'timeout', 'aborted' or 'other'. */
  kind: 'connect' | 'rejected' | 'no-context' | 'timeout' | 'aborted' | 'other';
  text: string;
}

/** Classifies why an association could not be opened or ended abnormally (SEND-032, SEND-040). */
export function classifyFailure(err: unknown): FailureKind {
  const e = err as Error;
  const text = e?.message ?? String(err);
  if (e instanceof AssociationRejectedError) {
    // result 0 is how the association reports an A-ASSOCIATE-AC that accepted no context.
    if (e.result === 0) return { transient: false, kind: 'no-context', text };
    return { transient: e.result === 2, kind: 'rejected', text: `association rejected by ${e.peer}: ${describeReject(e.result, e.source, e.reason)}` };
  }
  if (e instanceof DimseTimeoutError) return { transient: true, kind: 'timeout', text };
  if (e instanceof AssociationAbortedError) return { transient: true, kind: 'aborted', text };
  if (e instanceof AssociationStateError) return { transient: false, kind: 'other', text };
  if (/cannot connect|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EPIPE/.test(text)) return { transient: true, kind: 'connect', text };
  return { transient: true, kind: 'other', text };
}
