/**
 * Protocol data units of the DICOM upper layer (PS3.8 9.3). Every PDU is
 * type(1) reserved(1) length(4, big endian) then `length` bytes.
 *
 * The association PDUs are small and decoded whole. P-DATA-TF is decoded whole here only for
 * tests and tools; the association streams it through `PduReader` (framer.ts) instead.
 */
import { PduDecodeError } from './errors.js';
import {
  Cursor,
  ItemType,
  decodePresentationContextAc,
  decodePresentationContextRq,
  decodeUserInformation,
  encodePresentationContextAc,
  encodePresentationContextRq,
  encodeUserInformation,
  item,
  readItem,
  uidString,
  type PresentationContextAc,
  type PresentationContextRq,
  type UserInformation,
} from './pdu-items.js';
import { DICOM_APPLICATION_CONTEXT } from './uids.js';

export * from './pdu-items.js';

export const PduType = {
  AAssociateRq: 0x01,
  AAssociateAc: 0x02,
  AAssociateRj: 0x03,
  PDataTf: 0x04,
  AReleaseRq: 0x05,
  AReleaseRp: 0x06,
  AAbort: 0x07,
} as const;

export const PDU_NAMES: Record<number, string> = {
  1: 'A-ASSOCIATE-RQ',
  2: 'A-ASSOCIATE-AC',
  3: 'A-ASSOCIATE-RJ',
  4: 'P-DATA-TF',
  5: 'A-RELEASE-RQ',
  6: 'A-RELEASE-RP',
  7: 'A-ABORT',
};

/** Size of the PDU header: type, reserved, 4-byte length. */
export const PDU_HEADER_LENGTH = 6;

/** A-ASSOCIATE-RQ (PS3.8 9.3.2) and A-ASSOCIATE-AC (9.3.3) share one layout. */
interface AssociateFields {
  /** Bit 0 set: version 1, the only one (PS3.8 9.3.2). */
  protocolVersion: number;
  calledAETitle: string;
  callingAETitle: string;
  applicationContextName: string;
  userInformation: UserInformation;
}

export interface AAssociateRq extends AssociateFields {
  type: 'A-ASSOCIATE-RQ';
  presentationContexts: PresentationContextRq[];
}

export interface AAssociateAc extends AssociateFields {
  type: 'A-ASSOCIATE-AC';
  presentationContexts: PresentationContextAc[];
}

/** A-ASSOCIATE-RJ (PS3.8 9.3.4): result 1 permanent / 2 transient; source 1-3; reason per source. */
export interface AAssociateRj {
  type: 'A-ASSOCIATE-RJ';
  result: number;
  source: number;
  reason: number;
}

/** Presentation data value item (PS3.8 9.3.5.1, Annex E.2). */
export interface Pdv {
  presentationContextId: number;
  /** Message control header: bit 0 command (1) or data (0); bit 1 last fragment (1). */
  messageControlHeader: number;
  data: Buffer;
}

export interface PDataTf {
  type: 'P-DATA-TF';
  pdvs: Pdv[];
}

export interface AReleaseRq {
  type: 'A-RELEASE-RQ';
}
export interface AReleaseRp {
  type: 'A-RELEASE-RP';
}

/** A-ABORT (PS3.8 9.3.8): source 0 service-user, 2 service-provider; reason significant for 2. */
export interface AAbort {
  type: 'A-ABORT';
  source: number;
  reason: number;
}

export type Pdu = AAssociateRq | AAssociateAc | AAssociateRj | PDataTf | AReleaseRq | AReleaseRp | AAbort;

// ---------------------------------------------------------------- encoding

export function pduHeader(type: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(PDU_HEADER_LENGTH);
  h[0] = type;
  h[1] = 0;
  h.writeUInt32BE(length, 2);
  return h;
}

/** AE titles: 16 bytes, ISO 646, space padded (PS3.8 9.3.2). */
function aeTitle(s: string): Buffer {
  if (s.length > 16) throw new RangeError(`AE title "${s}" is longer than 16 characters`);
  return Buffer.from(s.padEnd(16, ' '), 'latin1');
}

function encodeAssociate(type: number, p: AssociateFields, pcs: Buffer[]): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(p.protocolVersion, 0);
  aeTitle(p.calledAETitle).copy(fixed, 4);
  aeTitle(p.callingAETitle).copy(fixed, 20);
  const body = Buffer.concat([fixed, item(ItemType.ApplicationContext, Buffer.from(p.applicationContextName, 'latin1')), ...pcs, encodeUserInformation(p.userInformation)]);
  return Buffer.concat([pduHeader(type, body.length), body]);
}

export function encodePdu(pdu: Pdu): Buffer {
  switch (pdu.type) {
    case 'A-ASSOCIATE-RQ':
      return encodeAssociate(PduType.AAssociateRq, pdu, pdu.presentationContexts.map(encodePresentationContextRq));
    case 'A-ASSOCIATE-AC':
      return encodeAssociate(PduType.AAssociateAc, pdu, pdu.presentationContexts.map(encodePresentationContextAc));
    case 'A-ASSOCIATE-RJ':
      return Buffer.concat([pduHeader(PduType.AAssociateRj, 4), Buffer.from([0, pdu.result, pdu.source, pdu.reason])]);
    case 'P-DATA-TF': {
      const parts: Buffer[] = [];
      let len = 0;
      for (const v of pdu.pdvs) {
        const h = pdvHeader(v.data.length, v.presentationContextId, v.messageControlHeader);
        parts.push(h, v.data);
        len += h.length + v.data.length;
      }
      return Buffer.concat([pduHeader(PduType.PDataTf, len), ...parts]);
    }
    case 'A-RELEASE-RQ':
      return Buffer.from([PduType.AReleaseRq, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    case 'A-RELEASE-RP':
      return Buffer.from([PduType.AReleaseRp, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    case 'A-ABORT':
      return Buffer.from([PduType.AAbort, 0, 0, 0, 0, 4, 0, 0, pdu.source, pdu.reason]);
  }
}

/** PDV item header: item-length(4) presentation-context-ID(1) message control header(1). */
export function pdvHeader(dataLength: number, pcId: number, mch: number): Buffer {
  const h = Buffer.allocUnsafe(6);
  h.writeUInt32BE(dataLength + 2, 0);
  h[4] = pcId;
  h[5] = mch;
  return h;
}

/** A P-DATA-TF PDU header followed by one PDV header: the 12 bytes before a fragment. */
export function pDataHeaders(dataLength: number, pcId: number, mch: number): Buffer {
  const h = Buffer.allocUnsafe(12);
  h[0] = PduType.PDataTf;
  h[1] = 0;
  h.writeUInt32BE(dataLength + 6, 2);
  h.writeUInt32BE(dataLength + 2, 6);
  h[10] = pcId;
  h[11] = mch;
  return h;
}

export function associateRq(p: Omit<AAssociateRq, 'type' | 'protocolVersion' | 'applicationContextName'> & Partial<AAssociateRq>): AAssociateRq {
  return { protocolVersion: 1, applicationContextName: DICOM_APPLICATION_CONTEXT, ...p, type: 'A-ASSOCIATE-RQ' };
}

// ---------------------------------------------------------------- decoding

/**
 * Decodes the body (bytes after the 6-byte header) of a PDU of the given type.
 * Throws PduDecodeError for malformed content, with offsets from the PDU's first byte.
 */
export function decodePduBody(type: number, body: Buffer): Pdu {
  const name = PDU_NAMES[type];
  if (!name) throw new PduDecodeError(`unrecognized PDU type ${type}`, `PDU type ${type}`, 0, undefined, 1);
  // Cursor positions are relative to the body; report them relative to the PDU start.
  const c = new OffsetCursor(body, name);
  switch (type) {
    case PduType.AAssociateRq:
    case PduType.AAssociateAc:
      return decodeAssociate(type, c);
    case PduType.AAssociateRj: {
      fixedLength(c, 4);
      c.u8('reserved');
      return { type: 'A-ASSOCIATE-RJ', result: c.u8('result'), source: c.u8('source'), reason: c.u8('reason/diag') };
    }
    case PduType.PDataTf:
      return decodePData(c);
    case PduType.AReleaseRq:
      fixedLength(c, 4);
      return { type: 'A-RELEASE-RQ' };
    case PduType.AReleaseRp:
      fixedLength(c, 4);
      return { type: 'A-RELEASE-RP' };
    default: {
      fixedLength(c, 4);
      c.u16('reserved');
      return { type: 'A-ABORT', source: c.u8('source'), reason: c.u8('reason/diag') };
    }
  }
}

/** Decodes one complete PDU, header included. */
export function decodePdu(buf: Buffer): Pdu {
  if (buf.length < PDU_HEADER_LENGTH) throw new PduDecodeError(`only ${buf.length} bytes, a PDU header has 6`, 'PDU', 0);
  const len = buf.readUInt32BE(2);
  const name = PDU_NAMES[buf[0]!] ?? `PDU type ${buf[0]}`;
  if (buf.length - PDU_HEADER_LENGTH !== len) {
    throw new PduDecodeError(`PDU-length ${len} but ${buf.length - PDU_HEADER_LENGTH} bytes follow the header`, name, 2);
  }
  return decodePduBody(buf[0]!, buf.subarray(PDU_HEADER_LENGTH));
}

/** A cursor whose error offsets include the 6-byte PDU header. */
class OffsetCursor extends Cursor {
  override fail(message: string, item?: string, at = this.pos, reason: 1 | 4 | 5 | 6 = 6): never {
    throw new PduDecodeError(message, this.pdu, at + PDU_HEADER_LENGTH, item, reason);
  }
}

function fixedLength(c: Cursor, n: number): void {
  if (c.remaining !== n) c.fail(`PDU-length must be ${n}, is ${c.remaining}`, undefined, -4);
}

function decodeAssociate(type: number, c: Cursor): AAssociateRq | AAssociateAc {
  const protocolVersion = c.u16('protocol-version');
  c.u16('reserved');
  const calledAETitle = uidString(c.bytes(16, 'called-AE-title'));
  const callingAETitle = uidString(c.bytes(16, 'calling-AE-title'));
  c.bytes(32, 'reserved');
  let applicationContextName: string | undefined;
  let userInformation: UserInformation | undefined;
  const rqs: PresentationContextRq[] = [];
  const acs: PresentationContextAc[] = [];
  while (c.remaining > 0) {
    const it = readItem(c, 'variable items');
    switch (it.type) {
      case ItemType.ApplicationContext:
        applicationContextName = uidString(it.value.bytes(it.value.remaining, 'application-context-name', 'Application Context (10H)'));
        break;
      case ItemType.PresentationContextRq:
        if (type === PduType.AAssociateRq) rqs.push(decodePresentationContextRq(it.value));
        else c.fail('Presentation Context RQ item (20H) in an A-ASSOCIATE-AC', undefined, it.at, 5);
        break;
      case ItemType.PresentationContextAc:
        if (type === PduType.AAssociateAc) acs.push(decodePresentationContextAc(it.value));
        else c.fail('Presentation Context AC item (21H) in an A-ASSOCIATE-RQ', undefined, it.at, 5);
        break;
      case ItemType.UserInformation:
        userInformation = decodeUserInformation(it.value);
        break;
      default:
        break; // unknown items are ignored and skipped (PS3.8 9.3.1)
    }
  }
  if (applicationContextName === undefined) c.fail('no Application Context item (10H)');
  if (userInformation === undefined) c.fail('no User Information item (50H)');
  const common = { protocolVersion, calledAETitle, callingAETitle, applicationContextName, userInformation };
  if (type === PduType.AAssociateRq) {
    if (rqs.length === 0) c.fail('no Presentation Context item (20H)');
    return { type: 'A-ASSOCIATE-RQ', ...common, presentationContexts: rqs };
  }
  return { type: 'A-ASSOCIATE-AC', ...common, presentationContexts: acs };
}

function decodePData(c: Cursor): PDataTf {
  const pdvs: Pdv[] = [];
  while (c.remaining > 0) {
    const at = c.pos;
    const len = c.u32('PDV item-length', 'PDV');
    if (len < 2) c.fail(`PDV item-length ${len} is less than 2`, 'PDV', at);
    if (len > c.remaining) c.fail(`PDV item-length ${len} exceeds the ${c.remaining} bytes left in the PDU`, 'PDV', at);
    const presentationContextId = c.u8('presentation-context-ID', 'PDV');
    const messageControlHeader = c.u8('message control header', 'PDV');
    pdvs.push({ presentationContextId, messageControlHeader, data: c.bytes(len - 2, 'PDV data', 'PDV') });
  }
  if (pdvs.length === 0) c.fail('P-DATA-TF without PDV items');
  return { type: 'P-DATA-TF', pdvs };
}
