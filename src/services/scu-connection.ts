/**
 * What every SCU of Tracer needs to open an association to a remote node: where it is
 * (REQUIREMENTS 2.2), our identity and PDU sizes (3.1, 3.2), the timeouts (3.3) and the
 * transport: plain TCP, or TLS through a connect factory (SEC, src/net/tls.ts). Also the
 * classification of association failures into transient (retried, SEND-040) and permanent.
 */
import type { Duplex } from 'node:stream';
import { tlsConnector } from '../net/tls.js';
import { tcpConnect } from '../net/transport.js';
import { AssociationAbortedError, AssociationRejectedError, AssociationStateError, DimseTimeoutError, describeReject, type Timeouts } from '../net/index.js';
import type { NodeConfig, TracerConfig } from '../node/config.js';
import { silentLogger, type Logger } from '../node/log.js';
import { Semaphore } from './semaphore.js';

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

/**
 * REQUIREMENTS 3.4 `network.maxOutboundAssociations`: how many associations this process may
 * have open as requestor at once (0 = unlimited). Every SCU built from one configuration shares
 * one limit, so a node's C-MOVE sub-associations, forwarding and jobs all count. A connection
 * waits (in order of asking) for a free slot, and frees it when its transport closes.
 */
export class OutboundLimit {
  private active = 0;
  /** None when unlimited. */
  private readonly slots: Semaphore | undefined;

  constructor(readonly max: number) {
    this.slots = max > 0 ? new Semaphore(max) : undefined;
  }

  /** Associations open (or connecting) now. */
  get open(): number {
    return this.active;
  }

  /** Resolves once a slot is ours; call the returned function to give it back (once). */
  async acquire(): Promise<() => void> {
    await this.slots?.acquire();
    this.active++;
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.active--;
      this.slots?.release();
    };
  }

  /** A connector that waits for a slot before connecting and frees it when the connection closes. */
  wrap(connect: Connector): Connector {
    return async () => {
      const free = await this.acquire();
      try {
        const s = await connect();
        if (s.destroyed) free();
        else s.once('close', free);
        return s;
      } catch (err) {
        free();
        throw err;
      }
    };
  }
}

const outboundLimits = new WeakMap<TracerConfig, OutboundLimit>();

/** The process's outbound association limit for this configuration (shared by every SCU made from it). */
export function outboundLimitOf(config: TracerConfig): OutboundLimit {
  let l = outboundLimits.get(config);
  if (!l) outboundLimits.set(config, (l = new OutboundLimit(config.network.maxOutboundAssociations)));
  return l;
}

export function destinationOf(node: NodeConfig): Destination {
  return { host: node.host, port: node.port, aeTitle: node.aeTitle, name: node.name };
}

const ms = (s: number): number => Math.round(s * 1000);

/**
 * SCU options from the configuration: the first local AE's identity, network.*, the node's caps,
 * and the transport: to `dest` (the node's address unless given), TLS when the node says so,
 * within the process's outbound association limit.
 */
export function scuOptionsFromConfig(config: TracerConfig, node?: NodeConfig, logger: Logger = silentLogger, dest?: Destination): ScuOptions {
  // ASSOC-020: the node's own timeouts over the global ones.
  const n = { ...config.network, ...node?.timeouts };
  const ae = config.localAEs[0];
  const timeoutMs = ms(n.connectTimeout);
  const to = dest ?? (node ? destinationOf(node) : undefined);
  let connect: Connector | undefined;
  if (node?.tls.enabled) {
    // SEC-001..004: certificates from the node, else the local AE; pins and EKU checked after the handshake.
    connect = tlsConnector(to ? { ...node, host: to.host, port: to.port } : node, config.tls, ae?.tls, { timeoutMs, log: logger });
  } else if (to && n.maxOutboundAssociations > 0) {
    // The connect timeout as the options hold it when connecting (a command may change it).
    connect = () => tcpConnect(to.host, to.port, o.timeouts?.connect ?? timeoutMs, { transient: true });
  }
  if (connect && n.maxOutboundAssociations > 0) connect = outboundLimitOf(config).wrap(connect);
  const o: ScuOptions = {
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
  return o;
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
