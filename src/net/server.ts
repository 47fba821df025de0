/**
 * AssociationServer: the acceptor side (PS3.8 7.1, REQUIREMENTS 3.4, 3.7). Accepts transport
 * connections, enforces the inbound association limit (ASSOC-030: 2/3/2), asks the negotiation
 * policy for an A-ASSOCIATE-AC or -RJ, and serves each association with the registered DIMSE
 * handlers. It knows nothing of storage: handlers do.
 *
 *   const server = new AssociationServer({
 *     policy: { aeTitles: ['TRACER'], abstractSyntaxes: { [VERIFICATION_SOP_CLASS]: true }, implementationClassUid },
 *     handlers: { 'C-ECHO': () => 0 },
 *   });
 *   const { port } = await server.listen(0, '127.0.0.1');
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Association } from './association.js';
import { createTcpServer } from './transport.js';
import type { AssociationOptions } from './options.js';
import { negotiateAssociation, type AcceptorPolicy, type NegotiationResult } from './negotiation.js';
import type { AAssociateRq } from './pdu.js';
import type { Handler, Handlers } from './dimse/handlers.js';
import type { DimseService } from './dimse/messages.js';
import { DEFAULT_IMPLEMENTATION_CLASS_UID, DEFAULT_IMPLEMENTATION_VERSION_NAME } from './uids.js';

export interface ServerOptions extends AssociationOptions {
  /** The standard policy of negotiation.ts; ignored when `negotiate` is given. */
  policy?: Partial<AcceptorPolicy> & Pick<AcceptorPolicy, 'abstractSyntaxes'>;
  /** Full control over the answer; runs after the association limit check. */
  negotiate?: (rq: AAssociateRq, assoc: Association) => NegotiationResult | Promise<NegotiationResult>;
  /** Simultaneous associations (REQUIREMENTS maxInboundAssociations); 0 = unlimited. Default 12. */
  maxAssociations?: number;
}

export class AssociationServer extends EventEmitter {
  readonly associations = new Set<Association>();
  private readonly handlers: Handlers;
  /** Listening sockets: plain TCP from listen(), TLS (or any net.Server) from listenOn(). */
  private readonly servers = new Set<net.Server>();

  constructor(private readonly opts: ServerOptions) {
    super();
    this.handlers = { ...opts.handlers };
    if (!opts.policy && !opts.negotiate) throw new Error('AssociationServer needs a policy or a negotiate function');
  }

  /** Registers the handler of a DIMSE service for every association accepted from now on. */
  handle<S extends DimseService>(service: S, handler: Handler<S>): this {
    (this.handlers as Record<string, unknown>)[service] = handler;
    return this;
  }

  /** Listens for TCP connections; resolves with the bound address (port 0 picks a free one). */
  listen(port: number, host = '127.0.0.1'): Promise<net.AddressInfo> {
    return this.listenOn(createTcpServer((s) => this.accept(s)), port, host);
  }

  /**
   * Listens with a server built elsewhere whose connection handler calls `accept()` (e.g. the
   * tls.Server of tls.ts's `listenTls`, PS3.15 B.1); close() stops it with the others.
   */
  listenOn(server: net.Server, port: number, host = '127.0.0.1'): Promise<net.AddressInfo> {
    this.servers.add(server);
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => {
        this.servers.delete(server);
        reject(e);
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  /** Serves one connected transport (a TCP socket, or a TLS socket from a tls.Server). */
  accept(socket: Duplex): Association {
    const assoc = Association.accept(socket, {
      ...this.opts,
      handlers: this.handlers,
      negotiate: (rq, a) => this.negotiate(rq, a),
    });
    this.associations.add(assoc);
    void assoc.closed.then(() => {
      this.associations.delete(assoc);
      this.emit('association-closed', assoc);
    });
    this.emit('association', assoc);
    return assoc;
  }

  private negotiate(rq: AAssociateRq, assoc: Association): NegotiationResult | Promise<NegotiationResult> {
    const max = this.opts.maxAssociations ?? 12;
    // The association being negotiated counts itself; reject when the others already fill the limit.
    if (max > 0 && this.associations.size > max) {
      return { rj: { type: 'A-ASSOCIATE-RJ', result: 2, source: 3, reason: 2 }, why: `inbound association limit ${max} reached` };
    }
    if (this.opts.negotiate) return this.opts.negotiate(rq, assoc);
    const p = this.opts.policy!;
    return negotiateAssociation(rq, {
      implementationClassUid: DEFAULT_IMPLEMENTATION_CLASS_UID,
      implementationVersionName: DEFAULT_IMPLEMENTATION_VERSION_NAME,
      maxPduReceive: this.opts.maxPduReceive ?? 32768,
      ...p,
    });
  }

  /** Stops listening; aborts open associations unless `graceful`, then waits for them to close. */
  async close(graceful = false): Promise<void> {
    const listening = [...this.servers];
    this.servers.clear();
    const closing = Promise.all(listening.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (!graceful) {
      for (const a of this.associations) {
        void a.abort();
        // A peer that does not close after our A-ABORT is cut off rather than waited for (Sta13).
        setTimeout(() => a.socket?.destroy(), 1000).unref();
      }
    }
    await Promise.all([...this.associations].map((a) => a.closed));
    await closing;
  }
}
