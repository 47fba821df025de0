/**
 * The DICOM upper layer state machine (PS3.8 9.2): states Sta1-Sta13 (Tables 9-1..9-5),
 * events Evt1-Evt19 and actions AE-n, DT-n, AR-n, AA-n (Tables 9-6..9-9), driven only by the
 * state transition table (Table 9-10). The machine does no I/O itself: each action calls the
 * `UpperLayerProvider` (the association), the way pynetdicom's fsm.py calls its DUL.
 */
import { AssociationStateError } from './errors.js';
import type { AAbort, AAssociateAc, AAssociateRj, AAssociateRq, Pdu } from './pdu.js';

export type State = 'Sta1' | 'Sta2' | 'Sta3' | 'Sta4' | 'Sta5' | 'Sta6' | 'Sta7' | 'Sta8' | 'Sta9' | 'Sta10' | 'Sta11' | 'Sta12' | 'Sta13';

/** PS3.8 Tables 9-1 to 9-5. */
export const STATES: Record<State, string> = {
  Sta1: 'Idle',
  Sta2: 'Transport connection open (Awaiting A-ASSOCIATE-RQ PDU)',
  Sta3: 'Awaiting local A-ASSOCIATE response primitive (from local user)',
  Sta4: 'Awaiting transport connection opening to complete (from local transport service)',
  Sta5: 'Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU',
  Sta6: 'Association established and ready for data transfer',
  Sta7: 'Awaiting A-RELEASE-RP PDU',
  Sta8: 'Awaiting local A-RELEASE response primitive (from local user)',
  Sta9: 'Release collision requestor side; awaiting A-RELEASE response (from local user)',
  Sta10: 'Release collision acceptor side; awaiting A-RELEASE-RP PDU',
  Sta11: 'Release collision requestor side; awaiting A-RELEASE-RP PDU',
  Sta12: 'Release collision acceptor side; awaiting A-RELEASE response primitive (from local user)',
  Sta13: 'Awaiting Transport Connection Close Indication (Association no longer exists)',
};

/** PS3.8 Table 9-10, first column. */
export const EVENTS = {
  Evt1: 'A-ASSOCIATE request (local user)',
  Evt2: 'Transport connect confirmation (local transport service)',
  Evt3: 'A-ASSOCIATE-AC PDU (received on transport connection)',
  Evt4: 'A-ASSOCIATE-RJ PDU (received on transport connection)',
  Evt5: 'Transport connection indication (local transport service)',
  Evt6: 'A-ASSOCIATE-RQ PDU (received on transport connection)',
  Evt7: 'A-ASSOCIATE response primitive (accept)',
  Evt8: 'A-ASSOCIATE response primitive (reject)',
  Evt9: 'P-DATA request primitive',
  Evt10: 'P-DATA-TF PDU',
  Evt11: 'A-RELEASE request primitive',
  Evt12: 'A-RELEASE-RQ PDU (received on open transport connection)',
  Evt13: 'A-RELEASE-RP PDU (received on transport connection)',
  Evt14: 'A-RELEASE response primitive',
  Evt15: 'A-ABORT request primitive',
  Evt16: 'A-ABORT PDU (received on open transport connection)',
  Evt17: 'Transport connection closed indication (local transport service)',
  Evt18: 'ARTIM timer expired (Association reject/release timer)',
  Evt19: 'Unrecognized or invalid PDU received',
} as const;
export type EventName = keyof typeof EVENTS;

export type ActionName =
  | 'AE-1' | 'AE-2' | 'AE-3' | 'AE-4' | 'AE-5' | 'AE-6' | 'AE-7' | 'AE-8'
  | 'DT-1' | 'DT-2'
  | 'AR-1' | 'AR-2' | 'AR-3' | 'AR-4' | 'AR-5' | 'AR-6' | 'AR-7' | 'AR-8' | 'AR-9' | 'AR-10'
  | 'AA-1' | 'AA-2' | 'AA-3' | 'AA-4' | 'AA-5' | 'AA-6' | 'AA-7' | 'AA-8';

/** What an event carries: the PDU received or to send, P-DATA to send, abort parameters. */
export interface EventData {
  pdu?: Pdu;
  /** DT-1 / AR-7: the bytes of one or more complete P-DATA-TF PDUs. */
  pdata?: Buffer[];
  /** A-ABORT source and reason to send (AA-1, AA-7, AA-8). */
  abort?: { source: number; reason: number };
  /** Human description of why (logged, passed to the indication). */
  cause?: string;
}

/** Primitives the state machine issues to its user (PS3.8 7). */
export type Indication =
  | { primitive: 'A-ASSOCIATE confirmation (accept)'; pdu: AAssociateAc }
  | { primitive: 'A-ASSOCIATE confirmation (reject)'; pdu: AAssociateRj }
  | { primitive: 'A-ASSOCIATE indication'; pdu: AAssociateRq }
  | { primitive: 'P-DATA indication' }
  | { primitive: 'A-RELEASE indication'; collision: boolean }
  | { primitive: 'A-RELEASE confirmation' }
  | { primitive: 'A-ABORT indication'; pdu: AAbort }
  | { primitive: 'A-P-ABORT indication'; reason: number; cause?: string }
  | { primitive: 'transport closed' };

/** The I/O a state machine action may perform; implemented by the association. */
export interface UpperLayerProvider {
  readonly isRequestor: boolean;
  /** AE-1: issue TRANSPORT CONNECT; completion fires Evt2, failure Evt17. */
  transportConnect(): void;
  sendPdu(pdu: Pdu): void;
  /** DT-1 / AR-7: write already framed P-DATA-TF PDUs. */
  sendPData(parts: Buffer[]): void;
  closeTransport(): void;
  startArtim(): void;
  stopArtim(): void;
  /** AE-6: the service-provider's own checks of an A-ASSOCIATE-RQ (e.g. protocol version); null if acceptable. */
  checkAssociateRq(rq: AAssociateRq): AAssociateRj | null;
  /** Primitives to the local user, delivered after the state has changed. */
  indicate(ind: Indication): void;
}

type Action = (p: UpperLayerProvider, d: EventData, ev: EventName, emit: (i: Indication) => void) => State;

function need<T extends Pdu['type']>(d: EventData, type: T): Extract<Pdu, { type: T }> {
  if (d.pdu?.type !== type) throw new Error(`state machine: ${type} expected`);
  return d.pdu as Extract<Pdu, { type: T }>;
}

/** PS3.8 Tables 9-6 to 9-9. */
export const ACTIONS: Record<ActionName, { description: string; run: Action }> = {
  'AE-1': { description: 'Issue TRANSPORT CONNECT request primitive to local transport service', run: (p) => (p.transportConnect(), 'Sta4') },
  'AE-2': { description: 'Send A-ASSOCIATE-RQ-PDU', run: (p, d) => (p.sendPdu(need(d, 'A-ASSOCIATE-RQ')), 'Sta5') },
  'AE-3': { description: 'Issue A-ASSOCIATE confirmation (accept) primitive', run: (_p, d, _e, emit) => (emit({ primitive: 'A-ASSOCIATE confirmation (accept)', pdu: need(d, 'A-ASSOCIATE-AC') }), 'Sta6') },
  'AE-4': {
    description: 'Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection',
    run: (p, d, _e, emit) => (emit({ primitive: 'A-ASSOCIATE confirmation (reject)', pdu: need(d, 'A-ASSOCIATE-RJ') }), p.closeTransport(), 'Sta1'),
  },
  'AE-5': { description: 'Issue Transport connection response primitive; start ARTIM timer', run: (p) => (p.startArtim(), 'Sta2') },
  'AE-6': {
    description: 'Stop ARTIM timer and if A-ASSOCIATE-RQ acceptable by service-provider: issue A-ASSOCIATE indication primitive; otherwise: issue A-ASSOCIATE-RJ-PDU and start ARTIM timer',
    run: (p, d, _e, emit) => {
      p.stopArtim();
      const rq = need(d, 'A-ASSOCIATE-RQ');
      const rj = p.checkAssociateRq(rq);
      if (!rj) {
        emit({ primitive: 'A-ASSOCIATE indication', pdu: rq });
        return 'Sta3';
      }
      p.sendPdu(rj);
      p.startArtim();
      return 'Sta13';
    },
  },
  'AE-7': { description: 'Send A-ASSOCIATE-AC PDU', run: (p, d) => (p.sendPdu(need(d, 'A-ASSOCIATE-AC')), 'Sta6') },
  'AE-8': { description: 'Send A-ASSOCIATE-RJ PDU and start ARTIM timer', run: (p, d) => (p.sendPdu(need(d, 'A-ASSOCIATE-RJ')), p.startArtim(), 'Sta13') },
  'DT-1': { description: 'Send P-DATA-TF PDU', run: (p, d) => (p.sendPData(d.pdata ?? []), 'Sta6') },
  'DT-2': { description: 'Send P-DATA indication primitive', run: (_p, _d, _e, emit) => (emit({ primitive: 'P-DATA indication' }), 'Sta6') },
  'AR-1': { description: 'Send A-RELEASE-RQ PDU', run: (p) => (p.sendPdu({ type: 'A-RELEASE-RQ' }), 'Sta7') },
  'AR-2': { description: 'Issue A-RELEASE indication primitive', run: (_p, _d, _e, emit) => (emit({ primitive: 'A-RELEASE indication', collision: false }), 'Sta8') },
  'AR-3': {
    description: 'Issue A-RELEASE confirmation primitive, and close transport connection',
    run: (p, _d, _e, emit) => (emit({ primitive: 'A-RELEASE confirmation' }), p.closeTransport(), 'Sta1'),
  },
  'AR-4': { description: 'Issue A-RELEASE-RP PDU and start ARTIM timer', run: (p) => (p.sendPdu({ type: 'A-RELEASE-RP' }), p.startArtim(), 'Sta13') },
  'AR-5': { description: 'Stop ARTIM timer', run: (p, _d, _e, emit) => (p.stopArtim(), emit({ primitive: 'transport closed' }), 'Sta1') },
  'AR-6': { description: 'Issue P-DATA indication', run: (_p, _d, _e, emit) => (emit({ primitive: 'P-DATA indication' }), 'Sta7') },
  'AR-7': { description: 'Issue P-DATA-TF PDU', run: (p, d) => (p.sendPData(d.pdata ?? []), 'Sta8') },
  'AR-8': {
    description: 'Issue A-RELEASE indication (release collision): if association-requestor, next state is Sta9, if not, next state is Sta10',
    run: (p, _d, _e, emit) => (emit({ primitive: 'A-RELEASE indication', collision: true }), p.isRequestor ? 'Sta9' : 'Sta10'),
  },
  'AR-9': { description: 'Send A-RELEASE-RP PDU', run: (p) => (p.sendPdu({ type: 'A-RELEASE-RP' }), 'Sta11') },
  'AR-10': { description: 'Issue A-RELEASE confirmation primitive', run: (_p, _d, _e, emit) => (emit({ primitive: 'A-RELEASE confirmation' }), 'Sta12') },
  'AA-1': {
    description: 'Send A-ABORT PDU (service-user source) and start (or restart if already started) ARTIM timer',
    run: (p, d, ev) => {
      // Evt15 is the local user's A-ABORT request: service-user source. In Sta2 (AA-1 on an
      // unexpected PDU) no user exists yet, so the abort is the provider's: source 2 with the
      // reason of the fault (REQUIREMENTS ASSOC-065).
      const abort = d.abort ?? (ev === 'Evt15' ? { source: 0, reason: 0 } : { source: 2, reason: 2 });
      p.sendPdu({ type: 'A-ABORT', ...abort });
      p.stopArtim();
      p.startArtim();
      return 'Sta13';
    },
  },
  'AA-2': {
    description: 'Stop ARTIM timer if running. Close transport connection',
    run: (p, _d, _e, emit) => (p.stopArtim(), p.closeTransport(), emit({ primitive: 'transport closed' }), 'Sta1'),
  },
  'AA-3': {
    description: 'If (service-user initiated abort): issue A-ABORT indication and close transport connection; otherwise (service-provider initiated abort): issue A-P-ABORT indication and close transport connection',
    run: (p, d, _e, emit) => {
      const pdu = need(d, 'A-ABORT');
      emit(pdu.source === 2 ? { primitive: 'A-P-ABORT indication', reason: pdu.reason } : { primitive: 'A-ABORT indication', pdu });
      p.closeTransport();
      return 'Sta1';
    },
  },
  'AA-4': { description: 'Issue A-P-ABORT indication primitive', run: (_p, d, _e, emit) => (emit({ primitive: 'A-P-ABORT indication', reason: 0, cause: d.cause ?? 'transport connection closed' }), 'Sta1') },
  'AA-5': { description: 'Stop ARTIM timer', run: (p, _d, _e, emit) => (p.stopArtim(), emit({ primitive: 'transport closed' }), 'Sta1') },
  'AA-6': { description: 'Ignore PDU', run: () => 'Sta13' },
  'AA-7': { description: 'Send A-ABORT PDU', run: (p, d) => (p.sendPdu({ type: 'A-ABORT', ...(d.abort ?? { source: 2, reason: 2 }) }), 'Sta13') },
  'AA-8': {
    description: 'Send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, and start ARTIM timer',
    run: (p, d, _e, emit) => {
      const abort = d.abort ?? { source: 2, reason: 2 };
      p.sendPdu({ type: 'A-ABORT', ...abort });
      emit({ primitive: 'A-P-ABORT indication', reason: abort.reason, cause: d.cause });
      p.startArtim();
      return 'Sta13';
    },
  },
};

const RECEIVED_IN_ASSOCIATION = ['Sta3', 'Sta5', 'Sta6', 'Sta7', 'Sta8', 'Sta9', 'Sta10', 'Sta11', 'Sta12'] as const;

/** Fills `states` with `action` in a row of the table. */
function row(entries: Partial<Record<State, ActionName>>, states: readonly State[] = [], action?: ActionName): Partial<Record<State, ActionName>> {
  const r: Partial<Record<State, ActionName>> = {};
  if (action) for (const s of states) r[s] = action;
  return Object.assign(r, entries);
}

/** PS3.8 Table 9-10: TRANSITIONS[event][state] is the action; a missing cell is an invalid event. */
export const TRANSITIONS: Record<EventName, Partial<Record<State, ActionName>>> = {
  Evt1: { Sta1: 'AE-1' },
  Evt2: { Sta4: 'AE-2' },
  Evt3: row({ Sta2: 'AA-1', Sta5: 'AE-3', Sta13: 'AA-6' }, RECEIVED_IN_ASSOCIATION, 'AA-8'),
  Evt4: row({ Sta2: 'AA-1', Sta5: 'AE-4', Sta13: 'AA-6' }, RECEIVED_IN_ASSOCIATION, 'AA-8'),
  Evt5: { Sta1: 'AE-5' },
  Evt6: row({ Sta2: 'AE-6', Sta13: 'AA-7' }, RECEIVED_IN_ASSOCIATION, 'AA-8'),
  Evt7: { Sta3: 'AE-7' },
  Evt8: { Sta3: 'AE-8' },
  Evt9: { Sta6: 'DT-1', Sta8: 'AR-7' },
  Evt10: row({ Sta2: 'AA-1', Sta6: 'DT-2', Sta7: 'AR-6', Sta13: 'AA-6' }, RECEIVED_IN_ASSOCIATION, 'AA-8'),
  Evt11: { Sta6: 'AR-1' },
  Evt12: row({ Sta2: 'AA-1', Sta6: 'AR-2', Sta7: 'AR-8', Sta13: 'AA-6' }, RECEIVED_IN_ASSOCIATION, 'AA-8'),
  Evt13: row({ Sta2: 'AA-1', Sta7: 'AR-3', Sta10: 'AR-10', Sta11: 'AR-3', Sta13: 'AA-6' }, RECEIVED_IN_ASSOCIATION, 'AA-8'),
  Evt14: { Sta8: 'AR-4', Sta9: 'AR-9', Sta12: 'AR-4' },
  Evt15: row({ Sta4: 'AA-2' }, RECEIVED_IN_ASSOCIATION, 'AA-1'),
  Evt16: row({ Sta2: 'AA-2', Sta13: 'AA-2' }, RECEIVED_IN_ASSOCIATION, 'AA-3'),
  Evt17: row({ Sta2: 'AA-5', Sta4: 'AA-4', Sta13: 'AR-5' }, RECEIVED_IN_ASSOCIATION, 'AA-4'),
  Evt18: { Sta2: 'AA-2', Sta13: 'AA-2' },
  Evt19: row({ Sta2: 'AA-1', Sta13: 'AA-7' }, RECEIVED_IN_ASSOCIATION, 'AA-8'),
};

export interface Transition {
  from: State;
  event: EventName;
  action: ActionName;
  to: State;
}

/**
 * One association's state machine. `fire` runs the action of Table 9-10 for the event in the
 * current state; indications reach the provider only after the new state is set, so a user
 * reacting to one (e.g. answering an A-RELEASE indication) fires its event from a consistent state.
 */
export class StateMachine {
  state: State = 'Sta1';
  /** Every transition taken, oldest first (bounded), for logs and tests. */
  readonly history: Transition[] = [];
  private readonly queue: Indication[] = [];
  private draining = false;

  constructor(private readonly provider: UpperLayerProvider) {}

  /** True when `event` has a cell in the current state. */
  accepts(event: EventName): boolean {
    return TRANSITIONS[event][this.state] !== undefined;
  }

  fire(event: EventName, data: EventData = {}): ActionName {
    const from = this.state;
    const action = TRANSITIONS[event][from];
    if (!action) throw new AssociationStateError(`${event} (${EVENTS[event]}) is not valid in ${from} (${STATES[from]})`);
    const to = ACTIONS[action].run(this.provider, data, event, (i) => this.queue.push(i));
    this.state = to;
    if (this.history.length >= 64) this.history.shift();
    this.history.push({ from, event, action, to });
    this.drain();
    return action;
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let i = this.queue.shift(); i; i = this.queue.shift()) this.provider.indicate(i);
    } finally {
      this.draining = false;
    }
  }
}
