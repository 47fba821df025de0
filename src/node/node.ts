/**
 * The running node (REQUIREMENTS 2.1 SYS-001): the configuration turned into listening local
 * AEs, their access control and negotiation (node/access-control.ts), and the Verification and
 * Storage SCPs (src/services) wired to the file store (src/archive/file-store.ts). Used by
 * `tracer serve`, by tests, and later by the web API, all in-process:
 *
 *   const node = await startNode(config, logger);
 *   console.log(node.port);
 *   await node.close();
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { FileStore, FileStoreIo } from '../archive/file-store.js';
import { Archive } from '../archive/ingest.js';
import type { MeasureDiskUsage } from '../archive/recycling.js';
import { queryScp, type FindReport } from '../services/query-scp.js';
import { getScp, moveScp, type MoveTarget, type RetrieveReport, type RetrieveScpOptions } from '../services/retrieve-scp.js';
import { storeOptionsFromConfig } from '../services/storage-scu.js';
import { destinationOf } from '../services/scu-connection.js';
import { join } from 'node:path';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/implementation.js';
import { AssociationServer, PcResult, TRANSFER_SYNTAXES, createTcpServer, formatStatus, type Association } from '../net/index.js';
import { storageScp, type StoreReport } from '../services/storage-scp.js';
import { verificationScp } from '../services/verification.js';
import { KnownNodeAddresses, createNegotiator, type AcceptorContext } from './access-control.js';
import type { LocalAEConfig, TracerConfig } from './config.js';
import { silentLogger, type Logger } from './log.js';
import { tracePdus } from './pdu-log.js';

/**
 * Makes the listening server of one local AE endpoint, calling `onConnection` with each
 * transport ready for DICOM (a TCP socket, or a TLS socket once the handshake is done).
 * TLS (REQUIREMENTS 16.1) plugs in here: src/net/tls.ts provides a factory that returns a
 * tls.Server for `ae.tls.enabled`, passed as `StartNodeOptions.listenerFactory`.
 */
export type ListenerFactory = (ae: LocalAEConfig, config: TracerConfig, onConnection: (socket: Duplex) => void) => net.Server;

/** Plain TCP (PS3.8 9.1); refuses TLS endpoints, which need the TLS factory. */
export const createTcpListener: ListenerFactory = (ae, _config, onConnection) => {
  if (ae.tls.enabled) throw new Error(`localAEs ${ae.aeTitle}: TLS is enabled but this build has no TLS listener (src/net/tls.ts); pass listenerFactory`);
  return createTcpServer(onConnection);
};

export interface StartNodeOptions {
  /** Trace every PDU (type, length) at debug level (`tracer serve --verbose`). */
  tracePdus?: boolean;
  listenerFactory?: ListenerFactory;
  /** File operations of the store (tests simulate full disks with it). */
  io?: FileStoreIo;
  /** How watermark deletion measures the disk (default statfs; tests simulate a filling disk). */
  diskUsage?: MeasureDiskUsage;
  /** Minimum time between two watermark checks after ingests, ms (default 5000; tests shorten it). */
  autoDeleteIntervalMs?: number;
}

export interface ListeningAE {
  aeTitles: string[];
  host: string;
  /** The bound port (the configured one, or the one picked for port 0). */
  port: number;
}

export interface NodeHandle {
  /** Bound port of the first local AE. */
  readonly port: number;
  readonly listening: ListeningAE[];
  readonly server: AssociationServer;
  readonly store: FileStore;
  /** The archive: ingest path and index (C-FIND now; C-MOVE/C-GET use archive.index later). */
  readonly archive: Archive;
  /**
   * Stops accepting, lets running associations finish for up to `graceMs` (default 5 s), then
   * aborts what is left.
   */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 5000;

export async function startNode(config: TracerConfig, logger: Logger = silentLogger, opts: StartNodeOptions = {}): Promise<NodeHandle> {
  const aeByTitle = new Map(config.localAEs.map((a) => [a.aeTitle, a]));
  const archive = archiveFromConfig(config, logger, {
    io: opts.io,
    diskUsage: opts.diskUsage,
    autoDeleteIntervalMs: opts.autoDeleteIntervalMs,
    implementation: (rq) => {
      const ae = aeByTitle.get(rq.calledAETitle) ?? config.localAEs[0]!;
      return { classUid: ae.implementationClassUid ?? IMPLEMENTATION_CLASS_UID, versionName: ae.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME };
    },
  });
  const store = archive.store;
  const opened = await archive.open({ check: true });
  if (opened.stale.length > 0) logger.warn('removed partial files of an earlier run', { dir: store.incoming, count: opened.stale.length });

  const retrieve: RetrieveScpOptions = {
    index: {
      instances: async (sel) => (await archive.index.selectInstances(sel)).map((i) => ({ file: join(store.root, i.path), sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid })),
    },
    noMatchStatus: config.moveScp.noMatchStatus,
    resolveDestination: (aet, ctx) => resolveMoveDestination(config, aet, ctx.association.callingAETitle ?? '', ctx.association.remoteAddress, logger),
    logger,
    onReport: (r) => logRetrieve(logger, r),
  };

  const negotiate = createNegotiator(config, new KnownNodeAddresses(config.nodes));
  const contexts = new WeakMap<Duplex, AcceptorContext>();
  const sec = (s: number) => Math.round(s * 1000);
  const server = new AssociationServer({
    maxAssociations: config.network.maxInboundAssociations,
    maxPduReceive: config.network.maxPduReceive,
    maxPduSendUnlimited: config.network.maxPduSendUnlimited,
    timeouts: {
      acse: sec(config.network.acseTimeout),
      release: sec(config.network.releaseTimeout),
      dimse: sec(config.network.dimseTimeout),
      interPdu: sec(config.network.interPduTimeout),
      // As acceptor: an association left idle by the peer is released (ASSOC-021).
      idle: sec(config.network.idleAssociationTimeout),
      session: sec(config.network.sessionTimeout),
    },
    negotiate: async (rq, assoc) => {
      const ctx = (assoc.socket && contexts.get(assoc.socket)) ?? { aes: config.localAEs, remoteAddress: assoc.remoteAddress };
      return negotiate(rq, ctx);
    },
    handlers: {
      'C-ECHO': verificationScp({ onEcho: (ctx) => logger.debug('C-ECHO', { assoc: idOf(ctx.association), calling: ctx.association.callingAETitle }) }),
      'C-STORE': storageScp({
        sink: archive,
        privateStatusCodes: config.storage.privateStatusCodes,
        validationFailure: config.storage.validationFailure,
        acceptsSopClass: (_sop, ctx) => {
          // The SOP class must belong to a service the called AE offers.
          const ae = aeByTitle.get(ctx.association.calledAETitle ?? '') ?? config.localAEs[0]!;
          return ae.services.includes('storage');
        },
        onReport: (r) => logStore(logger, r),
      }),
      'C-FIND': queryScp({
        index: archive.index,
        relational: config.findScp.relational,
        maxMatches: config.findScp.maxMatches,
        match: { caseInsensitive: config.findScp.caseInsensitive, pnMatching: config.findScp.pnMatching, implicitTrailingWildcard: config.findScp.implicitTrailingWildcard },
        instanceAvailability: config.findScp.instanceAvailability,
        onReport: (r) => logFind(logger, r, config.findScp.maxMatches),
      }),
      'C-MOVE': moveScp(retrieve),
      'C-GET': getScp(retrieve),
    },
  });

  let next = 0;
  const ids = new WeakMap<Association, string>();
  const idOf = (a: Association) => ids.get(a) ?? '?';
  server.on('association', (assoc: Association) => {
    const id = `a${++next}`;
    ids.set(assoc, id);
    const log = logger.child({ assoc: id });
    const t0 = Date.now();
    const peer = `${assoc.remoteAddress ?? '?'}:${assoc.remotePort ?? '?'}`;
    if (opts.tracePdus && assoc.socket && logger.enabled('debug')) tracePdus(assoc.socket, (dir, type, length) => log.debug(`PDU ${dir}`, { type, length }));
    log.debug('connection', { peer });
    assoc.on('established', () => {
      const n = assoc.negotiated!;
      const accepted = n.results.filter((r) => r.result === PcResult.Acceptance);
      log.info('association accepted', {
        peer,
        calling: assoc.callingAETitle,
        called: assoc.calledAETitle,
        contexts: `${accepted.length}/${n.results.length}`,
        transferSyntaxes: [...new Set(accepted.map((r) => TRANSFER_SYNTAXES.get(r.transferSyntax)?.name ?? r.transferSyntax))].join(', '),
        peerImplementation: [n.peerImplementationClassUid, n.peerImplementationVersionName].filter(Boolean).join(' '),
        maxPdu: n.peerMaxPdu,
      });
      if (log.enabled('debug')) for (const r of n.results) log.debug('presentation context', { id: r.id, abstractSyntax: r.abstractSyntax, result: r.result, transferSyntax: r.transferSyntax });
    });
    assoc.on('rejected', (rj: { result: number; source: number; reason: number }, why: string) => {
      log.warn('association rejected', { peer, calling: assoc.callingAETitle, called: assoc.calledAETitle, result: rj.result, source: rj.source, reason: rj.reason, why });
    });
    assoc.on('handler-error', (err: Error) => log.error('handler failed', { error: err?.message ?? String(err) }));
    assoc.on('protocol-error', (err: Error) => log.warn('protocol error', { peer, error: err.message }));
    assoc.on('close', (err?: Error) => {
      if (assoc.rj) return;
      const fields = { peer, calling: assoc.callingAETitle, ms: Date.now() - t0 };
      if (!assoc.negotiated) log.debug('connection closed before an association was established', { ...fields, error: err?.message });
      else if (err) log.warn('association aborted', { ...fields, error: err.message });
      else log.info('association released', fields);
    });
  });

  // One listener per address: local AEs sharing a port share it (SYS-002).
  const groups = new Map<string, LocalAEConfig[]>();
  for (const ae of config.localAEs) {
    const key = `${ae.host}|${ae.port}`;
    const g = groups.get(key) ?? [];
    g.push(ae);
    groups.set(key, g);
  }
  const factory = opts.listenerFactory ?? createTcpListener;
  const listeners: net.Server[] = [];
  const listening: ListeningAE[] = [];
  try {
    for (const aes of groups.values()) {
      const first = aes[0]!;
      if (aes.some((a) => a.tls.enabled !== first.tls.enabled)) throw new Error(`localAEs ${aes.map((a) => a.aeTitle).join(', ')} share ${first.host}:${first.port} but not the same TLS setting`);
      const l = factory(first, config, (socket) => {
        const assoc = server.accept(socket);
        contexts.set(socket, { aes, remoteAddress: assoc.remoteAddress });
      });
      listeners.push(l);
      const addr = await new Promise<net.AddressInfo>((resolve, reject) => {
        l.once('error', reject);
        l.listen(first.port, first.host, () => {
          l.off('error', reject);
          resolve(l.address() as net.AddressInfo);
        });
      });
      l.on('error', (err) => logger.error('listener error', { host: first.host, port: addr.port, error: err.message }));
      listening.push({ aeTitles: aes.map((a) => a.aeTitle), host: first.host, port: addr.port });
      logger.info('listening', { aeTitles: aes.map((a) => a.aeTitle).join(','), host: first.host, port: addr.port, services: [...new Set(aes.flatMap((a) => a.services))].join(','), tls: first.tls.enabled });
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
    throw err;
  }
  const aw = config.storage.autoDelete;
  logger.info('store', {
    root: store.root, minFreeDiskMb: config.storage.minFreeDiskMb, check: opened.check ? 'after an unclean stop' : 'clean',
    autoDelete: aw.enabled ? `${aw.highWaterPercent}%/${aw.lowWaterPercent}%${aw.onlyCommitted ? ' committed only' : ''}` : 'off',
  });
  // REQUIREMENTS 7.3: the watermark check at start-up runs beside the listeners, not before them.
  void archive.recycler?.check();

  let closing: Promise<void> | undefined;
  return {
    port: listening[0]!.port,
    listening,
    server,
    store,
    archive,
    close(graceMs = DEFAULT_GRACE_MS) {
      closing ??= (async () => {
        // Stop accepting now; net.Server's close callback only comes once every connection has ended.
        const stopped = Promise.all(listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
        const running = [...server.associations];
        if (running.length > 0) {
          logger.info('waiting for running associations', { count: running.length, graceMs });
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([Promise.all(running.map((a) => a.closed)), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
          clearTimeout(timer);
          if (server.associations.size > 0) logger.warn('aborting associations still running', { count: server.associations.size });
        }
        await server.close(false);
        await stopped;
        await archive.close();
      })();
      return closing;
    },
  };
}

/** The archive of a configuration (store, storage, db options), as `tracer serve`, `import` and `delete` open it. */
export function archiveFromConfig(
  config: TracerConfig,
  logger: Logger,
  extra: { io?: FileStoreIo; implementation?: ConstructorParameters<typeof Archive>[0]['implementation']; diskUsage?: MeasureDiskUsage; autoDeleteIntervalMs?: number } = {},
): Archive {
  const s = config.storage;
  const fill = (v: boolean | string): string | false => (v === false ? false : v === true ? 'Unknown' : v);
  const perNode = new Map(config.nodes.filter((n) => n.duplicatePolicy).map((n) => [n.aeTitle, n.duplicatePolicy!]));
  return new Archive({
    root: config.store.root,
    minFreeDiskMb: s.minFreeDiskMb,
    indexSynchronous: config.store.indexSynchronous,
    // serve, import and delete: the checkpoints' fsyncs off the event loop.
    checkpointInBackground: true,
    fsync: config.store.fsync,
    ackMode: s.ackMode,
    indexBatchSize: config.store.indexBatchSize,
    indexFlushSeconds: config.store.indexFlushSeconds,
    patientMatchKeys: config.db.patientMatchKeys,
    logger,
    io: extra.io,
    implementation: extra.implementation,
    autoDelete: s.autoDelete.enabled
      ? { highWaterPercent: s.autoDelete.highWaterPercent, lowWaterPercent: s.autoDelete.lowWaterPercent, onlyCommitted: s.autoDelete.onlyCommitted, measure: extra.diskUsage, intervalMs: extra.autoDeleteIntervalMs }
      : undefined,
    policy: {
      validation: s.validation,
      validationFailure: s.validationFailure,
      storeInvalid: s.storeInvalid,
      fixups: {
        emptyPatientName: fill(s.fixups.emptyPatientName),
        emptyPatientId: fill(s.fixups.emptyPatientId),
        rowsColumnsFromPixelData: s.fixups.rowsColumnsFromPixelData,
        generateMissingSopInstanceUid: s.fixups.generateMissingSopInstanceUid,
      },
      duplicatePolicy: s.duplicatePolicy,
      duplicatePolicyFor: (aet) => perNode.get(aet),
      seriesUidConflict: s.seriesUidConflict,
      sopUidConflict: s.sopUidConflict,
      demographicUpdate: s.demographicUpdate,
    },
  });
}

/**
 * The destination of a C-MOVE (QR-041): moveScp.destination 'knownNodes' looks the Move
 * Destination up in the node registry; 'callerAddress' sends to the caller's IP address, at the
 * port and AE title of the registry entry of the Move Destination, else of the calling AE.
 */
export function resolveMoveDestination(config: TracerConfig, moveDestination: string, callingAe: string, callerAddress: string | undefined, logger?: Logger): MoveTarget | undefined {
  const node = config.nodes.find((n) => n.aeTitle === moveDestination);
  if (config.moveScp.destination === 'knownNodes') {
    if (!node) return undefined;
    return { destination: destinationOf(node), options: storeOptionsFromConfig(config, node, logger) };
  }
  const entry = node ?? config.nodes.find((n) => n.aeTitle === callingAe);
  if (!entry || !callerAddress) return undefined;
  const host = callerAddress.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  const destination = { ...destinationOf(entry), host, aeTitle: moveDestination };
  return { destination, options: storeOptionsFromConfig(config, entry, logger, destination) };
}

/** C-MOVE / C-GET outcomes: failures at warn, the rest at info. */
function logRetrieve(logger: Logger, r: RetrieveReport): void {
  const f = { calling: r.callingAETitle, model: r.model, level: r.level, destination: r.moveDestination, matches: r.matches, completed: r.completed, failed: r.failed, warning: r.warning, ms: r.ms };
  if (r.status === 0) logger.info(r.service, f);
  else if (r.status === 0xfe00) logger.info(`${r.service} cancelled`, f);
  else logger.warn(`${r.service} ${r.status === 0xb000 ? 'completed with failures or warnings' : 'failed'}`, { ...f, status: formatStatus(r.status), reason: r.reason });
}

/** C-FIND outcomes: failures at warn, clipping logged (QR-015), the rest at info. */
function logFind(logger: Logger, r: FindReport, max: number): void {
  const f = { calling: r.callingAETitle, model: r.model, level: r.level, matches: r.matches, relational: r.relational, ms: r.ms, unsupported: r.unsupported.length ? r.unsupported.join(' ') : undefined };
  if (r.status !== 0 && r.status !== 0xfe00) logger.warn('C-FIND failed', { ...f, status: formatStatus(r.status), reason: r.reason });
  else if (r.clipped) logger.warn(`C-FIND results clipped at findScp.maxMatches (${max})`, f);
  else logger.info(r.status === 0xfe00 ? 'C-FIND cancelled' : 'C-FIND', f);
}

/** STOR-070: every non-0000 status with calling AE, SOP Instance UID and reason; successes at info. */
function logStore(logger: Logger, r: StoreReport): void {
  const base = { calling: r.request.callingAETitle, sopInstanceUid: r.request.sopInstanceUid, sopClassUid: r.request.sopClassUid, bytes: r.size, ms: r.ms };
  if (r.kind === 'aborted') {
    logger.warn('C-STORE abandoned: association ended during the transfer; partial file removed', { ...base, reason: r.reason });
  } else if (r.status === 0) {
    logger.info('stored', { ...base, transferSyntax: r.request.transferSyntaxUid, path: r.location, replaced: r.replaced || undefined });
  } else {
    logger.warn(r.location ? 'stored with a warning' : 'C-STORE failed', { ...base, status: formatStatus(r.status), reason: r.reason, path: r.location });
  }
}
