/**
 * DIMSE messages of PS3.7 sections 9 (DIMSE-C) and 10 (DIMSE-N), one class per request and
 * response, with the command fields of PS3.7 Annex E under their standard keywords. The data
 * set of a message is not part of these objects: it travels beside them as a stream.
 */
import { DimseDecodeError } from '../errors.js';
import { VERIFICATION_SOP_CLASS } from '../uids.js';
import type { CommandSet } from './command-set.js';

/** Command Field (0000,0100) values, PS3.7 E.1. */
export const CommandField = {
  'C-STORE-RQ': 0x0001,
  'C-STORE-RSP': 0x8001,
  'C-GET-RQ': 0x0010,
  'C-GET-RSP': 0x8010,
  'C-FIND-RQ': 0x0020,
  'C-FIND-RSP': 0x8020,
  'C-MOVE-RQ': 0x0021,
  'C-MOVE-RSP': 0x8021,
  'C-ECHO-RQ': 0x0030,
  'C-ECHO-RSP': 0x8030,
  'N-EVENT-REPORT-RQ': 0x0100,
  'N-EVENT-REPORT-RSP': 0x8100,
  'N-GET-RQ': 0x0110,
  'N-GET-RSP': 0x8110,
  'N-SET-RQ': 0x0120,
  'N-SET-RSP': 0x8120,
  'N-ACTION-RQ': 0x0130,
  'N-ACTION-RSP': 0x8130,
  'N-CREATE-RQ': 0x0140,
  'N-CREATE-RSP': 0x8140,
  'N-DELETE-RQ': 0x0150,
  'N-DELETE-RSP': 0x8150,
  'C-CANCEL-RQ': 0x0fff,
} as const;
export type MessageType = keyof typeof CommandField;

/** Priority (0000,0700): PS3.7 9.1.1.1. */
export const Priority = { Medium: 0x0000, High: 0x0001, Low: 0x0002 } as const;

/** The name of a DIMSE service, e.g. 'C-STORE'. */
export type DimseService = 'C-ECHO' | 'C-STORE' | 'C-FIND' | 'C-GET' | 'C-MOVE' | 'N-EVENT-REPORT' | 'N-GET' | 'N-SET' | 'N-ACTION' | 'N-CREATE' | 'N-DELETE';

type DataKeys<T> = { [K in keyof T]: T[K] extends (...a: never[]) => unknown ? never : K }[keyof T];
/** Constructor argument: every command field, MessageID / type / service optional or computed. */
export type Init<T> = Omit<Pick<T, DataKeys<T>>, 'type' | 'service' | 'commandField' | 'MessageID' | 'MessageIDBeingRespondedTo' | 'isRequest' | 'dataset'> & {
  MessageID?: number;
  MessageIDBeingRespondedTo?: number;
};

export abstract class DimseMessage {
  declare readonly type: MessageType;
  /** Fields the peer sent that this class does not declare (kept, re-encoded if sent again). */
  constructor(type: MessageType, init: object) {
    Object.defineProperty(this, 'type', { value: type, enumerable: false });
    Object.assign(this, init);
  }
  get commandField(): number {
    return CommandField[this.type];
  }
  get service(): DimseService {
    return this.type.replace(/-(RQ|RSP)$/, '') as DimseService;
  }
  /** Command set to encode: every own field plus CommandField (CommandDataSetType is set by the sender). */
  toCommandSet(): CommandSet {
    return { ...(this as unknown as CommandSet), CommandField: this.commandField };
  }
}

export abstract class DimseRequest extends DimseMessage {
  /** Set by the association when the request is sent, unless given. */
  declare MessageID: number;
  get isRequest(): true {
    return true;
  }
}

export abstract class DimseResponse extends DimseMessage {
  declare MessageIDBeingRespondedTo: number;
  /** A received response's data set (C-FIND identifier, N-GET attributes...), collected; never encoded. */
  declare dataset?: Buffer;
  declare Status: number;
  declare ErrorComment?: string;
  declare ErrorID?: number;
  declare OffendingElement?: number[];
  get isRequest(): false {
    return false;
  }
}

// ---------------------------------------------------------------- DIMSE-C, PS3.7 9.3

export class CEchoRq extends DimseRequest {
  declare readonly type: 'C-ECHO-RQ';
  declare AffectedSOPClassUID: string;
  constructor(init: Partial<Init<CEchoRq>> = {}) {
    super('C-ECHO-RQ', { AffectedSOPClassUID: VERIFICATION_SOP_CLASS, ...init });
  }
}
export class CEchoRsp extends DimseResponse {
  declare readonly type: 'C-ECHO-RSP';
  declare AffectedSOPClassUID?: string;
  constructor(init: Partial<Init<CEchoRsp>> = {}) {
    super('C-ECHO-RSP', { Status: 0, ...init });
  }
}

export class CStoreRq extends DimseRequest {
  declare readonly type: 'C-STORE-RQ';
  declare AffectedSOPClassUID: string;
  declare AffectedSOPInstanceUID: string;
  declare Priority: number;
  declare MoveOriginatorApplicationEntityTitle?: string;
  declare MoveOriginatorMessageID?: number;
  constructor(init: Omit<Init<CStoreRq>, 'Priority'> & { Priority?: number }) {
    super('C-STORE-RQ', { Priority: Priority.Medium, ...init });
  }
}
export class CStoreRsp extends DimseResponse {
  declare readonly type: 'C-STORE-RSP';
  declare AffectedSOPClassUID?: string;
  declare AffectedSOPInstanceUID?: string;
  constructor(init: Partial<Init<CStoreRsp>> = {}) {
    super('C-STORE-RSP', { Status: 0, ...init });
  }
}

export class CFindRq extends DimseRequest {
  declare readonly type: 'C-FIND-RQ';
  declare AffectedSOPClassUID: string;
  declare Priority: number;
  constructor(init: Omit<Init<CFindRq>, 'Priority'> & { Priority?: number }) {
    super('C-FIND-RQ', { Priority: Priority.Medium, ...init });
  }
}
export class CFindRsp extends DimseResponse {
  declare readonly type: 'C-FIND-RSP';
  declare AffectedSOPClassUID?: string;
  constructor(init: Partial<Init<CFindRsp>> = {}) {
    super('C-FIND-RSP', { Status: 0, ...init });
  }
}

/** Sub-operation counters of C-GET-RSP and C-MOVE-RSP (PS3.7 9.3.3.1.1, 9.3.4.1.1). */
interface SubOperations {
  NumberOfRemainingSuboperations?: number;
  NumberOfCompletedSuboperations?: number;
  NumberOfFailedSuboperations?: number;
  NumberOfWarningSuboperations?: number;
}

export class CGetRq extends DimseRequest {
  declare readonly type: 'C-GET-RQ';
  declare AffectedSOPClassUID: string;
  declare Priority: number;
  constructor(init: Omit<Init<CGetRq>, 'Priority'> & { Priority?: number }) {
    super('C-GET-RQ', { Priority: Priority.Medium, ...init });
  }
}
export interface CGetRsp extends SubOperations {}
export class CGetRsp extends DimseResponse {
  declare readonly type: 'C-GET-RSP';
  declare AffectedSOPClassUID?: string;
  constructor(init: Partial<Init<CGetRsp>> = {}) {
    super('C-GET-RSP', { Status: 0, ...init });
  }
}

export class CMoveRq extends DimseRequest {
  declare readonly type: 'C-MOVE-RQ';
  declare AffectedSOPClassUID: string;
  declare Priority: number;
  declare MoveDestination: string;
  constructor(init: Omit<Init<CMoveRq>, 'Priority'> & { Priority?: number }) {
    super('C-MOVE-RQ', { Priority: Priority.Medium, ...init });
  }
}
export interface CMoveRsp extends SubOperations {}
export class CMoveRsp extends DimseResponse {
  declare readonly type: 'C-MOVE-RSP';
  declare AffectedSOPClassUID?: string;
  constructor(init: Partial<Init<CMoveRsp>> = {}) {
    super('C-MOVE-RSP', { Status: 0, ...init });
  }
}

/** C-CANCEL-RQ (PS3.7 9.3.2.3): has no response; refers to the operation it cancels. */
export class CCancelRq extends DimseMessage {
  declare readonly type: 'C-CANCEL-RQ';
  declare MessageIDBeingRespondedTo: number;
  constructor(init: { MessageIDBeingRespondedTo: number }) {
    super('C-CANCEL-RQ', init);
  }
  get isRequest(): true {
    return true;
  }
}

// ---------------------------------------------------------------- DIMSE-N, PS3.7 10.3

export class NEventReportRq extends DimseRequest {
  declare readonly type: 'N-EVENT-REPORT-RQ';
  declare AffectedSOPClassUID: string;
  declare AffectedSOPInstanceUID: string;
  declare EventTypeID: number;
  constructor(init: Init<NEventReportRq>) {
    super('N-EVENT-REPORT-RQ', init);
  }
}
export class NEventReportRsp extends DimseResponse {
  declare readonly type: 'N-EVENT-REPORT-RSP';
  declare AffectedSOPClassUID?: string;
  declare AffectedSOPInstanceUID?: string;
  declare EventTypeID?: number;
  constructor(init: Partial<Init<NEventReportRsp>> = {}) {
    super('N-EVENT-REPORT-RSP', { Status: 0, ...init });
  }
}

export class NGetRq extends DimseRequest {
  declare readonly type: 'N-GET-RQ';
  declare RequestedSOPClassUID: string;
  declare RequestedSOPInstanceUID: string;
  declare AttributeIdentifierList?: number[];
  constructor(init: Init<NGetRq>) {
    super('N-GET-RQ', init);
  }
}
export class NGetRsp extends DimseResponse {
  declare readonly type: 'N-GET-RSP';
  declare AffectedSOPClassUID?: string;
  declare AffectedSOPInstanceUID?: string;
  constructor(init: Partial<Init<NGetRsp>> = {}) {
    super('N-GET-RSP', { Status: 0, ...init });
  }
}

export class NSetRq extends DimseRequest {
  declare readonly type: 'N-SET-RQ';
  declare RequestedSOPClassUID: string;
  declare RequestedSOPInstanceUID: string;
  constructor(init: Init<NSetRq>) {
    super('N-SET-RQ', init);
  }
}
export class NSetRsp extends DimseResponse {
  declare readonly type: 'N-SET-RSP';
  declare AffectedSOPClassUID?: string;
  declare AffectedSOPInstanceUID?: string;
  constructor(init: Partial<Init<NSetRsp>> = {}) {
    super('N-SET-RSP', { Status: 0, ...init });
  }
}

export class NActionRq extends DimseRequest {
  declare readonly type: 'N-ACTION-RQ';
  declare RequestedSOPClassUID: string;
  declare RequestedSOPInstanceUID: string;
  declare ActionTypeID: number;
  constructor(init: Init<NActionRq>) {
    super('N-ACTION-RQ', init);
  }
}
export class NActionRsp extends DimseResponse {
  declare readonly type: 'N-ACTION-RSP';
  declare AffectedSOPClassUID?: string;
  declare AffectedSOPInstanceUID?: string;
  declare ActionTypeID?: number;
  constructor(init: Partial<Init<NActionRsp>> = {}) {
    super('N-ACTION-RSP', { Status: 0, ...init });
  }
}

export class NCreateRq extends DimseRequest {
  declare readonly type: 'N-CREATE-RQ';
  declare AffectedSOPClassUID: string;
  declare AffectedSOPInstanceUID?: string;
  constructor(init: Init<NCreateRq>) {
    super('N-CREATE-RQ', init);
  }
}
export class NCreateRsp extends DimseResponse {
  declare readonly type: 'N-CREATE-RSP';
  declare AffectedSOPClassUID?: string;
  declare AffectedSOPInstanceUID?: string;
  constructor(init: Partial<Init<NCreateRsp>> = {}) {
    super('N-CREATE-RSP', { Status: 0, ...init });
  }
}

export class NDeleteRq extends DimseRequest {
  declare readonly type: 'N-DELETE-RQ';
  declare RequestedSOPClassUID: string;
  declare RequestedSOPInstanceUID: string;
  constructor(init: Init<NDeleteRq>) {
    super('N-DELETE-RQ', init);
  }
}
export class NDeleteRsp extends DimseResponse {
  declare readonly type: 'N-DELETE-RSP';
  declare AffectedSOPClassUID?: string;
  declare AffectedSOPInstanceUID?: string;
  constructor(init: Partial<Init<NDeleteRsp>> = {}) {
    super('N-DELETE-RSP', { Status: 0, ...init });
  }
}

/** Request and response classes by service, for typed handlers. */
export interface RequestOf {
  'C-ECHO': CEchoRq;
  'C-STORE': CStoreRq;
  'C-FIND': CFindRq;
  'C-GET': CGetRq;
  'C-MOVE': CMoveRq;
  'N-EVENT-REPORT': NEventReportRq;
  'N-GET': NGetRq;
  'N-SET': NSetRq;
  'N-ACTION': NActionRq;
  'N-CREATE': NCreateRq;
  'N-DELETE': NDeleteRq;
}
export interface ResponseOf {
  'C-ECHO': CEchoRsp;
  'C-STORE': CStoreRsp;
  'C-FIND': CFindRsp;
  'C-GET': CGetRsp;
  'C-MOVE': CMoveRsp;
  'N-EVENT-REPORT': NEventReportRsp;
  'N-GET': NGetRsp;
  'N-SET': NSetRsp;
  'N-ACTION': NActionRsp;
  'N-CREATE': NCreateRsp;
  'N-DELETE': NDeleteRsp;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const CLASSES: Record<number, new (init: any) => DimseMessage> = {
  0x0001: CStoreRq,
  0x8001: CStoreRsp,
  0x0010: CGetRq,
  0x8010: CGetRsp,
  0x0020: CFindRq,
  0x8020: CFindRsp,
  0x0021: CMoveRq,
  0x8021: CMoveRsp,
  0x0030: CEchoRq,
  0x8030: CEchoRsp,
  0x0100: NEventReportRq,
  0x8100: NEventReportRsp,
  0x0110: NGetRq,
  0x8110: NGetRsp,
  0x0120: NSetRq,
  0x8120: NSetRsp,
  0x0130: NActionRq,
  0x8130: NActionRsp,
  0x0140: NCreateRq,
  0x8140: NCreateRsp,
  0x0150: NDeleteRq,
  0x8150: NDeleteRsp,
  0x0fff: CCancelRq,
};

/** Response class for a request's command field (request | 0x8000). */
export function responseClassFor(requestField: number): (new (init: object) => DimseResponse) | undefined {
  return CLASSES[requestField | 0x8000] as (new (init: object) => DimseResponse) | undefined;
}

export type AnyRequest = RequestOf[DimseService];
export type AnyResponse = ResponseOf[DimseService];
export type AnyMessage = AnyRequest | AnyResponse | CCancelRq;

/** The response class of a request class, e.g. ResponseFor<CFindRq> = CFindRsp. */
export type ResponseFor<R extends { type: MessageType }> = R['type'] extends `${infer S}-RQ` ? (S extends DimseService ? ResponseOf[S] : never) : never;

/** The message class instance for a decoded command set (PS3.7 9.3, 10.3). */
export function messageFromCommandSet(cs: CommandSet): AnyMessage {
  const field = cs.CommandField;
  if (field === undefined) throw new DimseDecodeError('command set has no CommandField (0000,0100)');
  const cls = CLASSES[field];
  if (!cls) throw new DimseDecodeError(`unknown CommandField 0x${field.toString(16).padStart(4, '0')}`);
  const init: Record<string, unknown> = { ...cs };
  delete init.CommandField;
  delete init.CommandGroupLength;
  delete init.CommandDataSetType;
  const m = new cls(init) as AnyMessage;
  if (m instanceof DimseRequest && typeof m.MessageID !== 'number') throw new DimseDecodeError(`${m.type} without MessageID (0000,0110)`);
  if ((m instanceof DimseResponse || m instanceof CCancelRq) && typeof m.MessageIDBeingRespondedTo !== 'number') {
    throw new DimseDecodeError(`${m.type} without MessageIDBeingRespondedTo (0000,0120)`);
  }
  if (m instanceof DimseResponse && typeof m.Status !== 'number') throw new DimseDecodeError(`${m.type} without Status (0000,0900)`);
  return m;
}
