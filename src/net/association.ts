/**
 * An association (PS3.8 7, PS3.7 7): one transport connection driven by the state machine of
 * PS3.8 9.2 (fsm.ts), carrying DIMSE messages in both directions. The requestor side is opened
 * with `Association.request()`; the acceptor side is created by `AssociationServer` (server.ts)
 * or `Association.accept()` for any connected Duplex (TLS included).
 *
 *   const assoc = await Association.request({ host, port, callingAETitle: 'TRACER', calledAETitle: 'PACS',
 *     presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }] });
 *   await assoc.echo();
 *   await assoc.release();
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { DEFAULT_TIMEOUTS, type AcceptorOptions, type AssociationOptions, type RequestorOptions, type SendOptions, type Timeouts } from './options.js';
import { AssociationAbortedError, AssociationRejectedError, AssociationStateError, DimseTimeoutError, PduDecodeError, describeAbort } from './errors.js';
import { PduReader, type FramingFault } from './framer.js';
import { StateMachine, type EventData, type EventName, type Indication, type State, type UpperLayerProvider } from './fsm.js';
import { negotiated as combine, type Negotiated, type NegotiatedContext } from './negotiation.js';
import { PduType, decodePduBody, encodePdu, type AAssociateAc, type AAssociateRj, type AAssociateRq, type Pdu } from './pdu.js';
import { readTransient, remoteOf, tcpConnect, tuneSocket } from './transport.js';
import { DEFAULT_IMPLEMENTATION_CLASS_UID, DEFAULT_IMPLEMENTATION_VERSION_NAME, DICOM_APPLICATION_CONTEXT } from './uids.js';
import { MessageAssembler } from './dimse/assembler.js';
import { DATA_SET_PRESENT, NO_DATA_SET, encodeCommandSet } from './dimse/command-set.js';
import type { DatasetStream } from './dimse/dataset-stream.js';
import type { Handlers } from './dimse/handlers.js';
import { IncomingRequests } from './dimse/incoming.js';
import { OutgoingOperations } from './dimse/outgoing.js';
import { CCancelRq, CEchoRq, DimseRequest, DimseResponse, type AnyMessage, type AnyRequest, type DimseMessage, type ResponseFor } from './dimse/messages.js';
import { DimseOperation } from './dimse/operation.js';
import { sendMessage, type DatasetSource, type PDataWriter } from './dimse/sender.js';

const noop = (): void => undefined;

/** P-DATA writes smaller than this are held until the end of the tick (Association.sendPData). */
const HOLD_BELOW = 16 * 1024;

export class Association extends EventEmitter implements UpperLayerProvider {
  readonly isRequestor: boolean;
  readonly fsm: StateMachine;
  readonly timeouts: Timeouts;
  handlers: Handlers;
  rq: AAssociateRq | undefined;
  ac: AAssociateAc | undefined;
  rj: AAssociateRj | undefined;
  negotiated: Negotiated | undefined;
  socket: Duplex | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** Why the association ended abnormally; undefined after a normal release. */
  error: Error | undefined;
  /** Resolves when the transport is closed and everything is cleaned up; never rejects. */
  readonly closed: Promise<void>;

  private readonly opts: AssociationOptions;
  private readonly reader: PduReader;
  private readonly assembler: MessageAssembler;
  private resolveClosed!: () => void;
  private ended = false;
  private released = false;
  private established: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private releasing: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private artim: NodeJS.Timeout | undefined;
  private timers: Partial<Record<'acse' | 'release' | 'interPdu' | 'idle' | 'session', NodeJS.Timeout>> = {};
  private writeOk = true;
  private paused = false;
  private drainWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private idleWaiters: (() => void)[] = [];
  private sendChain: Promise<void> = Promise.resolve();
  private sending = 0;
  private readonly outgoing: OutgoingOperations;
  private readonly incoming: IncomingRequests;

  protected constructor(side: 'requestor' | 'acceptor', opts: AssociationOptions) {
    super();
    this.isRequestor = side === 'requestor';
    this.opts = opts;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.handlers = { ...opts.handlers };
    this.fsm = new StateMachine(this);
    this.closed = new Promise((r) => (this.resolveClosed = r));
    this.reader = new PduReader(this.readerSink(), { maxPDataLength: opts.maxPduReceive ?? 32768, maxOtherPduLength: opts.maxAssociatePduLength ?? 1 << 20 });
    this.assembler = new MessageAssembler({
      transferSyntaxOf: (id) => this.negotiated?.contexts.get(id)?.transferSyntax,
      message: (m, id, ds) => this.onMessage(m, id, ds),
      pause: () => this.pauseInput(),
      resume: () => this.resumeInput(),
      protocolError: (why, reason) => this.fireIf('Evt19', { abort: { source: 2, reason }, cause: why }),
    });
    this.outgoing = new OutgoingOperations({
      maxOutgoing: () => this.negotiated?.maxOutgoing ?? 1,
      timedOut: (id, ms) => this.timeoutAbort('dimse', `no response to message ${id} from ${this.peer} within ${ms} ms`),
      stray: (rsp) => this.emit('protocol-error', new Error(`${rsp.type} from ${this.peer} answers message ${rsp.MessageIDBeingRespondedTo}, which is not outstanding`)),
      maxResponseDataset: opts.maxResponseDataset ?? 64 << 20,
    });
    this.incoming = new IncomingRequests({
      association: this,
      handlers: () => this.handlers,
      maxIncoming: () => this.negotiated?.maxIncoming ?? 1,
      context: (pcId) => this.negotiated!.contexts.get(pcId)!,
      send: (pcId, msg, ds) => this.send(pcId, msg, ds),
      canSend: () => !this.ended && this.fsm.accepts('Evt9'),
      handlerError: (err, rq) => this.emit('handler-error', err, rq),
      idle: () => this.checkIdle(),
    });
  }

  // ------------------------------------------------------------------ opening

  /** Opens an association as requestor (PS3.8 7.1): resolves once the A-ASSOCIATE-AC accepted a context. */
  static async request(opts: RequestorOptions): Promise<Association> {
    const a = new Association('requestor', opts);
    let next = 1;
    a.rq = {
      type: 'A-ASSOCIATE-RQ',
      protocolVersion: 1,
      calledAETitle: opts.calledAETitle,
      callingAETitle: opts.callingAETitle,
      applicationContextName: DICOM_APPLICATION_CONTEXT,
      presentationContexts: opts.presentationContexts.map((p) => {
        const id = p.id ?? next;
        next = Math.max(next, id) + 2;
        return { id, abstractSyntax: p.abstractSyntax, transferSyntaxes: [...p.transferSyntaxes] };
      }),
      userInformation: {
        maxLength: opts.maxPduReceive ?? 32768,
        implementationClassUid: opts.implementationClassUid ?? DEFAULT_IMPLEMENTATION_CLASS_UID,
        implementationVersionName: opts.implementationVersionName ?? DEFAULT_IMPLEMENTATION_VERSION_NAME,
        asyncOperationsWindow: opts.asyncOperations && { maxOperationsInvoked: opts.asyncOperations.maxInvoked, maxOperationsPerformed: opts.asyncOperations.maxPerformed },
        roleSelections: opts.roleSelections,
        extendedNegotiations: opts.extendedNegotiations,
        commonExtendedNegotiations: opts.commonExtendedNegotiations,
        userIdentityRq: opts.userIdentity,
      },
    };
    const ready = new Promise<void>((resolve, reject) => (a.established = { resolve, reject }));
    a.fsm.fire('Evt1'); // AE-1: connect
    await ready;
    return a;
  }

  /** Serves an accepted transport connection as acceptor (PS3.8 7.1, AE-5). */
  static accept(socket: Duplex, opts: AcceptorOptions): Association {
    const a = new Association('acceptor', opts);
    a.acceptorNegotiate = opts.negotiate;
    a.attach(socket);
    a.fsm.fire('Evt5');
    return a;
  }

  private acceptorNegotiate: AcceptorOptions['negotiate'] | undefined;

  get state(): State {
    return this.fsm.state;
  }
  get callingAETitle(): string | undefined {
    return this.rq?.callingAETitle;
  }
  get calledAETitle(): string | undefined {
    return this.rq?.calledAETitle;
  }
  /** True in Sta6: DIMSE messages may be exchanged. */
  get isEstablished(): boolean {
    return this.fsm.state === 'Sta6';
  }
  get peer(): string {
    const ae = this.isRequestor ? this.rq?.calledAETitle : this.rq?.callingAETitle;
    return `${ae ?? '?'}@${this.remoteAddress ?? '?'}:${this.remotePort ?? '?'}`;
  }

  private attach(s: Duplex): void {
    this.socket = s;
    tuneSocket(s);
    const r = remoteOf(s);
    this.remoteAddress = r.address;
    this.remotePort = r.port;
    // Each chunk is valid only during onData (transport.ts): whatever is kept is copied.
    readTransient(s, (chunk) => this.onData(chunk));
    s.on('drain', () => {
      this.writeOk = true;
      for (const w of this.drainWaiters.splice(0)) w.resolve();
    });
    s.on('error', (e: Error) => {
      if (!this.error && !this.released) this.error = new AssociationAbortedError(`transport error with ${this.peer}: ${e.message}`);
    });
    s.on('close', () => this.onTransportClosed());
    s.on('end', () => s.end()); // half-close from the peer: finish our side too
    if (this.timeouts.session > 0) {
      this.timers.session = setTimeout(() => this.timeoutAbort('session', `association lifetime of ${this.timeouts.session} ms exceeded`), this.timeouts.session);
      this.timers.session.unref?.();
    }
  }

  // ------------------------------------------------------------------ UpperLayerProvider (fsm.ts)

  transportConnect(): void {
    const o = this.opts as RequestorOptions;
    void (async () => {
      let s: Duplex;
      try {
        s = o.connect ? await o.connect() : await tcpConnect(o.host ?? '127.0.0.1', o.port ?? 104, this.timeouts.connect, { transient: true });
      } catch (e) {
        this.error = e as Error;
        this.fireIf('Evt17', { cause: (e as Error).message });
        return;
      }
      if (this.fsm.state !== 'Sta4') return void s.destroy();
      this.attach(s);
      this.arm('acse', this.timeouts.acse, () => this.timeoutAbort('acse', `no A-ASSOCIATE-AC/RJ from ${this.peer} within ${this.timeouts.acse} ms`));
      this.fsm.fire('Evt2', { pdu: this.rq });
    })();
  }

  sendPdu(pdu: Pdu): void {
    const s = this.socket;
    this.flushHeld();
    if (s && !s.destroyed && s.writable) s.write(encodePdu(pdu));
    this.emit('pdu-sent', pdu);
  }

  /**
   * Small P-DATA writes (a C-FIND, C-STORE or C-ECHO response, a command) are held corked until
   * the end of the tick, so that a burst of them (the pending responses of a C-FIND) goes out in
   * one system call instead of one each; large ones are written at once, after what is held.
   * Non-zero while a tick's writes are held: the generation of the uncork scheduled for them.
   */
  private held = 0;
  private heldGeneration = 0;

  sendPData(parts: Buffer[]): void {
    const s = this.socket;
    if (!s || s.destroyed || !s.writable) throw this.error ?? new AssociationStateError('transport closed');
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    if (!this.held) s.cork();
    let ok = true;
    for (const p of parts) ok = s.write(p);
    if (bytes >= HOLD_BELOW) {
      this.held = 0;
      s.uncork();
    } else if (!this.held) {
      const gen = (this.held = ++this.heldGeneration);
      process.nextTick(() => {
        if (this.held !== gen) return;
        this.held = 0;
        s.uncork();
      });
    }
    this.writeOk = ok && s.writableLength < s.writableHighWaterMark;
  }

  /** Writes what sendPData holds now (before another PDU, or the end of the transport). */
  private flushHeld(): void {
    if (!this.held) return;
    this.held = 0;
    this.socket?.uncork();
  }

  closeTransport(): void {
    const s = this.socket;
    if (!s) return;
    this.flushHeld();
    if (s.destroyed) return;
    const t = setTimeout(() => s.destroy(), 2000);
    t.unref?.();
    s.once('close', () => clearTimeout(t));
    s.end(() => s.destroy());
  }

  startArtim(): void {
    this.stopArtim();
    if (this.timeouts.acse <= 0) return;
    this.artim = setTimeout(() => {
      this.artim = undefined;
      this.fireIf('Evt18');
    }, this.timeouts.acse);
    this.artim.unref?.();
  }

  stopArtim(): void {
    if (this.artim) clearTimeout(this.artim);
    this.artim = undefined;
  }

  checkAssociateRq(rq: AAssociateRq): AAssociateRj | null {
    // Only protocol version 1 exists; bit 0 must be set (PS3.8 9.3.2). Rejection 1/2/2 (ASSOC-063).
    if ((rq.protocolVersion & 1) === 0) return { type: 'A-ASSOCIATE-RJ', result: 1, source: 2, reason: 2 };
    return null;
  }

  indicate(ind: Indication): void {
    switch (ind.primitive) {
      case 'A-ASSOCIATE confirmation (accept)':
        return this.onAccepted(ind.pdu);
      case 'A-ASSOCIATE confirmation (reject)':
        this.clear('acse');
        this.rj = ind.pdu;
        this.error = new AssociationRejectedError(ind.pdu.result, ind.pdu.source, ind.pdu.reason, this.peer);
        return this.failAll(this.error);
      case 'A-ASSOCIATE indication':
        return this.onAssociateIndication(ind.pdu);
      case 'P-DATA indication':
        return;
      case 'A-RELEASE indication':
        this.emit('release-requested', ind.collision);
        if (!ind.collision) {
          // Answer once our own responses are out (PS3.7 A.4: no operation outstanding).
          void this.whenIdle().then(() => {
            this.fireIf('Evt14', {}, 'Sta8');
            // AR-4 sent the A-RELEASE-RP (now Sta13): a normal release, not an abort.
            if (this.fsm.state === 'Sta13') this.released = true;
          });
        } else if (this.fsm.state === 'Sta9') {
          this.fsm.fire('Evt14'); // AR-9
        }
        return;
      case 'A-RELEASE confirmation':
        this.clear('release');
        this.released = true;
        if (this.fsm.state === 'Sta12') this.fsm.fire('Evt14'); // AR-4: collision, acceptor side
        this.releasing?.resolve();
        return;
      case 'A-ABORT indication':
        this.error ??= new AssociationAbortedError(`association aborted by ${this.peer} (${describeAbort(ind.pdu.source, ind.pdu.reason)})`, ind.pdu.source, ind.pdu.reason);
        this.failAll(this.error);
        return;
      case 'A-P-ABORT indication':
        this.error ??= new AssociationAbortedError(`association with ${this.peer} aborted by the upper layer provider: ${ind.cause ?? describeAbort(2, ind.reason)}`, 2, ind.reason);
        this.failAll(this.error);
        if (!this.socket) this.finish();
        return;
      case 'transport closed':
        if (!this.socket) this.finish();
        return;
    }
  }

  // ------------------------------------------------------------------ receiving

  private readerSink(): ConstructorParameters<typeof PduReader>[0] {
    return {
      pdu: (type, body) => {
        let pdu: Pdu;
        try {
          pdu = decodePduBody(type, body);
        } catch (e) {
          const err = e as PduDecodeError;
          this.emit('protocol-error', err);
          return this.fireIf('Evt19', { abort: { source: 2, reason: err.abortReason ?? 6 }, cause: err.message });
        }
        this.emit('pdu-received', pdu);
        const ev: Record<number, EventName> = {
          [PduType.AAssociateRq]: 'Evt6',
          [PduType.AAssociateAc]: 'Evt3',
          [PduType.AAssociateRj]: 'Evt4',
          [PduType.AReleaseRq]: 'Evt12',
          [PduType.AReleaseRp]: 'Evt13',
          [PduType.AAbort]: 'Evt16',
        };
        this.fireIf(ev[type]!, { pdu, abort: type === PduType.AAssociateRq && this.fsm.state === 'Sta13' ? { source: 2, reason: 2 } : undefined });
      },
      pDataStart: () => {
        if (!this.fsm.accepts('Evt10')) return false;
        const action = this.fsm.fire('Evt10', { cause: 'unexpected P-DATA-TF' });
        return action === 'DT-2' || action === 'AR-6';
      },
      pdvStart: (pc, mch, len) => this.assembler.pdvStart(pc, mch, len),
      pdvData: (chunk) => this.assembler.pdvData(chunk),
      pdvEnd: () => this.assembler.pdvEnd(),
      pDataEnd: noop,
      fault: (f: FramingFault) => {
        this.emit('protocol-error', f.error);
        if (f.kind === 'too-long' && f.pduType === PduType.PDataTf && this.fsm.accepts('Evt15')) {
          // ASSOC-012 / ASSOC-065: A-ABORT source 0, reason 0 for a PDU over our maximum.
          this.error ??= new AssociationAbortedError(`${this.peer}: ${f.error.message}`, 0, 0);
          this.failAll(this.error);
          return void this.fsm.fire('Evt15', { abort: { source: 0, reason: 0 } });
        }
        this.fireIf('Evt19', { abort: { source: 2, reason: f.kind === 'unrecognized' ? 1 : 6 }, cause: f.error.message });
      },
    };
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    if (this.timeouts.interPdu > 0 && (this.reader.midPdu || this.assembler.inMessage) && !this.paused) {
      this.arm('interPdu', this.timeouts.interPdu, () => this.timeoutAbort('interPdu', `no data from ${this.peer} for ${this.timeouts.interPdu} ms in the middle of a message`));
    } else {
      this.clear('interPdu');
    }
  }

  private pauseInput(): void {
    if (this.paused) return;
    this.paused = true;
    this.clear('interPdu');
    this.socket?.pause();
  }

  private resumeInput(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket?.resume();
  }

  private onTransportClosed(): void {
    this.fireIf('Evt17', { cause: `${this.peer} closed the connection` });
    this.finish();
  }

  /** Fires `event` when the current state has a cell for it (and is `only`, if given); else ignores it. */
  private fireIf(event: EventName, data: EventData = {}, only?: State): void {
    if (this.ended && event !== 'Evt17') return;
    if (only && this.fsm.state !== only) return;
    if (this.fsm.accepts(event)) this.fsm.fire(event, data);
  }

  // ------------------------------------------------------------------ establishment

  private onAccepted(ac: AAssociateAc): void {
    this.clear('acse');
    this.ac = ac;
    this.negotiated = combine(this.rq!, ac, 'requestor');
    if (this.negotiated.contexts.size === 0) {
      // ASSOC-065: an AC that accepts no context is aborted (source 0, reason 0).
      this.error = new AssociationRejectedError(0, 0, 0, this.peer);
      this.error.message = `${this.peer} accepted none of the proposed presentation contexts (${this.negotiated.results.map((r) => `${r.id}:${r.result}`).join(', ')})`;
      this.failAll(this.error);
      this.fsm.fire('Evt15', { abort: { source: 0, reason: 0 } });
      return;
    }
    this.onEstablished();
  }

  private onAssociateIndication(rq: AAssociateRq): void {
    this.rq = rq;
    const negotiate = this.acceptorNegotiate!;
    Promise.resolve()
      .then(() => negotiate(rq, this))
      .then(
        (res) => {
          if (this.fsm.state !== 'Sta3') return;
          if (res.ac) {
            this.ac = res.ac;
            this.negotiated = combine(rq, res.ac, 'acceptor');
            this.reader.limits.maxPDataLength = res.ac.userInformation.maxLength ?? this.reader.limits.maxPDataLength;
            this.fsm.fire('Evt7', { pdu: res.ac });
            this.onEstablished();
          } else {
            this.rj = res.rj;
            this.fsm.fire('Evt8', { pdu: res.rj });
            this.emit('rejected', res.rj, res.why);
          }
        },
        (err: Error) => {
          // The policy failed: resource failure, rejected-transient 2/3/1 (ASSOC-063).
          this.emit('handler-error', err);
          this.rj = { type: 'A-ASSOCIATE-RJ', result: 2, source: 3, reason: 1 };
          if (this.fsm.state === 'Sta3') this.fsm.fire('Evt8', { pdu: this.rj });
        },
      );
  }

  private onEstablished(): void {
    this.touch();
    this.established?.resolve();
    this.established = undefined;
    this.emit('established', this);
  }

  // ------------------------------------------------------------------ ending

  /** Releases the association (PS3.8 7.2) once our outstanding operations have completed. */
  async release(): Promise<void> {
    while (this.outgoing.size > 0 || this.sending > 0) await Promise.race([this.outgoing.nextSettled(), this.closed]);
    if (this.fsm.state !== 'Sta6') {
      if (this.ended) return;
      throw new AssociationStateError(`cannot release in ${this.fsm.state}`);
    }
    const done = new Promise<void>((resolve, reject) => (this.releasing = { resolve, reject }));
    done.catch(noop);
    this.arm('release', this.timeouts.release, () => this.timeoutAbort('release', `no A-RELEASE-RP from ${this.peer} within ${this.timeouts.release} ms`));
    this.fsm.fire('Evt11');
    await Promise.race([done, this.closed]);
    await this.closed;
    if (!this.released) throw this.error ?? new AssociationAbortedError('association ended during release');
  }

  /** Aborts the association (PS3.8 7.3, A-ABORT source 0); resolves when the transport is closed. */
  abort(): Promise<void> {
    if (!this.ended && this.fsm.accepts('Evt15')) {
      this.error ??= new AssociationAbortedError(`association with ${this.peer} aborted locally`, 0, 0);
      this.failAll(this.error);
      this.fsm.fire('Evt15', { abort: { source: 0, reason: 0 } });
    }
    return this.closed;
  }

  private timeoutAbort(which: keyof Timeouts, message: string): void {
    this.error ??= new DimseTimeoutError(message, which);
    this.failAll(this.error);
    if (this.fsm.accepts('Evt15')) this.fsm.fire('Evt15', { abort: { source: 0, reason: 0 } });
    else this.socket?.destroy();
  }

  private failAll(err: Error): void {
    this.established?.reject(err);
    this.established = undefined;
    this.releasing?.reject(err);
    this.releasing = undefined;
    this.outgoing.failAll(err);
    this.incoming.abortAll(err);
    this.assembler.abort(err);
    for (const w of this.drainWaiters.splice(0)) w.reject(err);
    this.resumeInput();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopArtim();
    for (const k of Object.keys(this.timers) as (keyof typeof this.timers)[]) this.clear(k);
    if (!this.released && !this.error) this.error = new AssociationAbortedError(`connection to ${this.peer} closed`);
    this.failAll(this.error ?? new AssociationAbortedError(`association with ${this.peer} released`));
    for (const w of this.idleWaiters.splice(0)) w();
    this.resolveClosed();
    this.emit('close', this.error);
  }

  // ------------------------------------------------------------------ timers

  private arm(which: keyof Association['timers'], ms: number, fn: () => void): void {
    this.clear(which);
    if (ms <= 0 || this.ended) return;
    const t = setTimeout(fn, ms);
    t.unref?.();
    this.timers[which] = t;
  }

  private clear(which: keyof Association['timers']): void {
    const t = this.timers[which];
    if (t) clearTimeout(t);
    delete this.timers[which];
  }

  /** DIMSE activity: restarts the idle timer (REQUIREMENTS idleAssociationTimeout: release, ASSOC-021). */
  private touch(): void {
    if (this.timeouts.idle <= 0) return;
    this.arm('idle', this.timeouts.idle, () => {
      if (this.fsm.state === 'Sta6' && this.outgoing.size === 0 && this.isIdle()) {
        this.emit('idle');
        this.release().catch(noop);
      } else this.touch();
    });
  }

  // ------------------------------------------------------------------ DIMSE: sending

  /** Largest data per PDV for the peer's Maximum Length (REQUIREMENTS ASSOC-011). */
  get maxFragment(): number {
    const peer = this.negotiated?.peerMaxPdu ?? 0;
    let max = peer === 0 ? (this.opts.maxPduSendUnlimited ?? 65536) : peer;
    if (this.opts.maxPduSend && this.opts.maxPduSend > 0) max = Math.min(max, this.opts.maxPduSend);
    return Math.max(max - 6, 1);
  }

  private readonly writer: PDataWriter = {
    maxFragment: 0,
    write: (parts) => {
      if (this.ended || !this.fsm.accepts('Evt9')) throw this.error ?? new AssociationStateError(`cannot send P-DATA in ${this.fsm.state}`);
      this.fsm.fire('Evt9', { pdata: parts });
      return this.writeOk;
    },
    drained: () =>
      this.writeOk
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            if (this.ended) return reject(this.error);
            this.drainWaiters.push({ resolve, reject });
          }),
  };

  /** Sends one message; messages never interleave on the wire (PS3.8 9.3.5). */
  private send(pcId: number, msg: DimseMessage, dataset?: DatasetSource): Promise<void> {
    const cs = msg.toCommandSet();
    cs.CommandDataSetType = dataset === undefined ? NO_DATA_SET : DATA_SET_PRESENT;
    const cmd = encodeCommandSet(cs);
    this.sending++;
    const w = Object.create(this.writer, { maxFragment: { value: this.maxFragment } }) as PDataWriter;
    const p = this.sendChain.then(() => sendMessage(w, pcId, cmd, dataset));
    this.sendChain = p.then(noop, noop);
    return p.then(
      () => {
        this.sending--;
        this.touch();
        this.checkIdle();
      },
      (err: Error) => {
        this.sending--;
        this.checkIdle();
        // A message cut in the middle cannot be recovered: abort (unless already ending).
        if (!this.ended && !(err instanceof AssociationStateError)) {
          this.error ??= new AssociationAbortedError(`sending ${msg.type} to ${this.peer} failed: ${err.message}`);
          void this.abort();
        }
        throw err;
      },
    );
  }

  /**
   * Whether every byte given to send() so far has left this process: no message is being
   * sent and the transport holds nothing unwritten. A caller that lent a data set Buffer may
   * reuse it once this is true (checked after the response, so normally true).
   */
  get outputFlushed(): boolean {
    const s = this.socket;
    return this.sending === 0 && (s === undefined || s.writableLength === 0);
  }

  /** The accepted presentation context for a SOP class (and transfer syntax), or undefined. */
  findContext(abstractSyntax: string, transferSyntax?: string): NegotiatedContext | undefined {
    for (const c of this.negotiated?.contexts.values() ?? []) {
      if (c.abstractSyntax === abstractSyntax && (!transferSyntax || c.transferSyntax === transferSyntax)) return c;
    }
    return undefined;
  }

  /**
   * Sends a request and returns its operation: await it for the final response, iterate it for
   * every response. Several may be outstanding when the Asynchronous Operations Window allows
   * (PS3.7 D.3.3.3); beyond it, requests wait for a free slot.
   */
  sendRequest<R extends AnyRequest>(msg: R, opts: SendOptions = {}): DimseOperation<ResponseFor<R>> {
    const op = new DimseOperation<ResponseFor<R>>((o) => this.cancel(o as unknown as DimseOperation<DimseResponse>));
    void this.startRequest(msg, op as unknown as DimseOperation<DimseResponse>, opts);
    return op;
  }

  /** C-ECHO (PS3.7 9.3.5); resolves to the response Status. */
  async echo(opts: { timeout?: number } = {}): Promise<number> {
    return (await this.sendRequest(new CEchoRq(), opts)).Status;
  }

  private async startRequest(msg: DimseRequest, op: DimseOperation<DimseResponse>, opts: SendOptions): Promise<void> {
    let slot = false;
    try {
      if (!this.negotiated || this.ended) throw this.error ?? new AssociationStateError('association not established');
      const m = msg as unknown as Record<string, string | undefined>;
      const sop = m.AffectedSOPClassUID ?? m.RequestedSOPClassUID ?? '';
      const pc = opts.presentationContextId !== undefined ? this.negotiated.contexts.get(opts.presentationContextId) : this.findContext(sop, opts.transferSyntax);
      if (!pc) throw new AssociationStateError(`no accepted presentation context for ${sop}${opts.transferSyntax ? ` with ${opts.transferSyntax}` : ''} on the association with ${this.peer}`);
      await this.outgoing.acquire();
      slot = true;
      if (this.ended) throw this.error ?? new AssociationStateError('association ended');
      msg.MessageID = this.outgoing.register(op, pc.id, opts.timeout ?? this.timeouts.dimse, typeof msg.MessageID === 'number' ? msg.MessageID : undefined);
      await this.send(pc.id, msg, opts.dataset);
      this.outgoing.sent(msg.MessageID);
    } catch (e) {
      op.fail(e as Error);
      if (op.messageId !== undefined) this.outgoing.complete(op.messageId);
      else if (slot) this.outgoing.release();
    }
  }

  private async cancel(op: DimseOperation<DimseResponse>): Promise<void> {
    const pcId = op.messageId === undefined ? undefined : this.outgoing.pcIdOf(op.messageId);
    // C-CANCEL-RQ goes on the context of the operation it cancels (PS3.7 9.3.2.3).
    if (pcId !== undefined) await this.send(pcId, new CCancelRq({ MessageIDBeingRespondedTo: op.messageId! }));
  }

  // ------------------------------------------------------------------ DIMSE: receiving

  private onMessage(msg: AnyMessage, pcId: number, ds: DatasetStream | undefined): void {
    this.touch();
    if (ds) ds.on('close', () => this.resumeInput());
    if (msg instanceof DimseResponse) return this.outgoing.response(msg, ds);
    if (msg instanceof CCancelRq) {
      this.incoming.cancel(msg.MessageIDBeingRespondedTo);
      ds?.resume();
      return;
    }
    this.incoming.request(msg as AnyRequest, pcId, ds);
  }

  private whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return this.incoming.isIdle && this.sending === 0;
  }

  private checkIdle(): void {
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }
}

