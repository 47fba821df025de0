/**
 * Variable items of the A-ASSOCIATE-RQ/AC PDUs (PS3.8 9.3.2, 9.3.3) and the user information
 * sub-items of PS3.8 Annex D and PS3.7 Annex D.3.3. Every item is
 * type(1) reserved(1) length(2) value(length). Unknown item types are skipped (PS3.8 9.3.1).
 */
import { PduDecodeError } from './errors.js';

export const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaximumLength: 0x51,
  ImplementationClassUid: 0x52,
  AsynchronousOperationsWindow: 0x53,
  RoleSelection: 0x54,
  ImplementationVersionName: 0x55,
  SopClassExtendedNegotiation: 0x56,
  SopClassCommonExtendedNegotiation: 0x57,
  UserIdentityRq: 0x58,
  UserIdentityAc: 0x59,
} as const;

/** Presentation context item of an A-ASSOCIATE-RQ (PS3.8 9.3.2.2). */
export interface PresentationContextRq {
  /** Odd integer 1-255. */
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

/** Result/Reason of a presentation context item of an A-ASSOCIATE-AC (PS3.8 9.3.3.2). */
export const PcResult = {
  Acceptance: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const;
export type PcResult = (typeof PcResult)[keyof typeof PcResult];

/** Presentation context item of an A-ASSOCIATE-AC (PS3.8 9.3.3.2). */
export interface PresentationContextAc {
  id: number;
  result: number;
  /** Significant only when result is 0 (acceptance). */
  transferSyntax: string;
}

/** SCP/SCU Role Selection sub-item 54H (PS3.7 D.3.3.4). */
export interface RoleSelection {
  sopClassUid: string;
  scuRole: boolean;
  scpRole: boolean;
}

/** SOP Class Extended Negotiation sub-item 56H (PS3.7 D.3.3.5). */
export interface SopClassExtendedNegotiation {
  sopClassUid: string;
  serviceClassApplicationInformation: Buffer;
}

/** SOP Class Common Extended Negotiation sub-item 57H (PS3.7 D.3.3.6). */
export interface SopClassCommonExtendedNegotiation {
  sopClassUid: string;
  serviceClassUid: string;
  relatedGeneralSopClassUids: string[];
}

/** User Identity sub-item 58H, requestor side (PS3.7 D.3.3.7.1). */
export interface UserIdentityRq {
  /** 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT. */
  userIdentityType: number;
  positiveResponseRequested: boolean;
  primaryField: Buffer;
  secondaryField: Buffer;
}

/** User Identity sub-item 59H, acceptor side (PS3.7 D.3.3.7.2). */
export interface UserIdentityAc {
  serverResponse: Buffer;
}

/** Asynchronous Operations Window sub-item 53H (PS3.7 D.3.3.3); 0 means unlimited. */
export interface AsyncOperationsWindow {
  maxOperationsInvoked: number;
  maxOperationsPerformed: number;
}

/** User Information item 50H (PS3.8 9.3.2.3) with its sub-items. */
export interface UserInformation {
  /** Maximum Length 51H (PS3.8 D.1): largest P-DATA-TF variable field the sender receives; 0 = no limit. */
  maxLength?: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
  asyncOperationsWindow?: AsyncOperationsWindow;
  roleSelections?: RoleSelection[];
  extendedNegotiations?: SopClassExtendedNegotiation[];
  commonExtendedNegotiations?: SopClassCommonExtendedNegotiation[];
  userIdentityRq?: UserIdentityRq;
  userIdentityAc?: UserIdentityAc;
}

// ---------------------------------------------------------------- encoding

/** Writes type, reserved and a 2-byte length before `value`. */
export function item(type: number, value: Buffer): Buffer {
  if (value.length > 0xffff) throw new RangeError(`item ${hex(type)}: value of ${value.length} bytes exceeds 65535`);
  const h = Buffer.allocUnsafe(4);
  h[0] = type;
  h[1] = 0;
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value]);
}

function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

function u16(n: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(n, 0);
  return b;
}

/** A UID preceded by its 2-byte length, as in sub-items 54H, 56H, 57H. */
function lengthPrefixed(b: Buffer): Buffer {
  return Buffer.concat([u16(b.length), b]);
}

export function encodePresentationContextRq(pc: PresentationContextRq): Buffer {
  const parts = [Buffer.from([pc.id, 0, 0, 0]), item(ItemType.AbstractSyntax, ascii(pc.abstractSyntax))];
  for (const ts of pc.transferSyntaxes) parts.push(item(ItemType.TransferSyntax, ascii(ts)));
  return item(ItemType.PresentationContextRq, Buffer.concat(parts));
}

export function encodePresentationContextAc(pc: PresentationContextAc): Buffer {
  const parts = [Buffer.from([pc.id, 0, pc.result, 0]), item(ItemType.TransferSyntax, ascii(pc.transferSyntax))];
  return item(ItemType.PresentationContextAc, Buffer.concat(parts));
}

export function encodeUserInformation(u: UserInformation): Buffer {
  const parts: Buffer[] = [];
  if (u.maxLength !== undefined) {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(u.maxLength >>> 0, 0);
    parts.push(item(ItemType.MaximumLength, b));
  }
  if (u.implementationClassUid !== undefined) parts.push(item(ItemType.ImplementationClassUid, ascii(u.implementationClassUid)));
  if (u.asyncOperationsWindow) {
    const w = u.asyncOperationsWindow;
    parts.push(item(ItemType.AsynchronousOperationsWindow, Buffer.concat([u16(w.maxOperationsInvoked), u16(w.maxOperationsPerformed)])));
  }
  for (const r of u.roleSelections ?? []) {
    parts.push(item(ItemType.RoleSelection, Buffer.concat([lengthPrefixed(ascii(r.sopClassUid)), Buffer.from([r.scuRole ? 1 : 0, r.scpRole ? 1 : 0])])));
  }
  if (u.implementationVersionName !== undefined) parts.push(item(ItemType.ImplementationVersionName, ascii(u.implementationVersionName)));
  for (const e of u.extendedNegotiations ?? []) {
    parts.push(item(ItemType.SopClassExtendedNegotiation, Buffer.concat([lengthPrefixed(ascii(e.sopClassUid)), e.serviceClassApplicationInformation])));
  }
  for (const c of u.commonExtendedNegotiations ?? []) {
    const related = Buffer.concat(c.relatedGeneralSopClassUids.map((x) => lengthPrefixed(ascii(x))));
    parts.push(
      item(
        ItemType.SopClassCommonExtendedNegotiation,
        Buffer.concat([lengthPrefixed(ascii(c.sopClassUid)), lengthPrefixed(ascii(c.serviceClassUid)), lengthPrefixed(related)]),
      ),
    );
  }
  if (u.userIdentityRq) {
    const i = u.userIdentityRq;
    parts.push(
      item(
        ItemType.UserIdentityRq,
        Buffer.concat([Buffer.from([i.userIdentityType, i.positiveResponseRequested ? 1 : 0]), lengthPrefixed(i.primaryField), lengthPrefixed(i.secondaryField)]),
      ),
    );
  }
  if (u.userIdentityAc) parts.push(item(ItemType.UserIdentityAc, lengthPrefixed(u.userIdentityAc.serverResponse)));
  return item(ItemType.UserInformation, Buffer.concat(parts));
}

// ---------------------------------------------------------------- decoding

/**
 * Bounds-checked reader over one PDU. Offsets reported in errors are from the PDU's first byte,
 * so `base` is the position of `buf[0]` within the PDU.
 */
export class Cursor {
  constructor(
    readonly buf: Buffer,
    readonly pdu: string,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  fail(message: string, item?: string, at = this.pos, reason: 1 | 4 | 5 | 6 = 6): never {
    throw new PduDecodeError(message, this.pdu, at, item, reason);
  }

  need(n: number, what: string, item?: string): void {
    if (this.pos + n > this.end) this.fail(`${what} needs ${n} byte(s) but only ${this.end - this.pos} remain`, item);
  }

  u8(what: string, item?: string): number {
    this.need(1, what, item);
    return this.buf[this.pos++]!;
  }

  u16(what: string, item?: string): number {
    this.need(2, what, item);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string, item?: string): number {
    this.need(4, what, item);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(n: number, what: string, item?: string): Buffer {
    this.need(n, what, item);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A sub-cursor over the next `n` bytes. */
  sub(n: number, what: string, item?: string): Cursor {
    this.need(n, what, item);
    const c = new Cursor(this.buf, this.pdu, this.pos, this.pos + n);
    this.pos += n;
    return c;
  }

  get remaining(): number {
    return this.end - this.pos;
  }
}

/** UID and AE strings: trailing NUL and spaces are padding some peers add (PS3.5 9.1). */
export function uidString(b: Buffer): string {
  let e = b.length;
  while (e > 0 && (b[e - 1] === 0 || b[e - 1] === 0x20)) e--;
  let s = 0;
  while (s < e && b[s] === 0x20) s++;
  return b.toString('latin1', s, e);
}

/** Reads one item header; returns the item type and a cursor over its value. */
export function readItem(c: Cursor, context: string): { type: number; at: number; value: Cursor } {
  const at = c.pos;
  if (c.remaining < 4) c.fail(`truncated item header (${c.remaining} byte(s) left)`, context);
  const type = c.u8('item type', context);
  c.u8('reserved', context);
  const len = c.u16('item length', context);
  if (len > c.remaining) c.fail(`item ${hex(type)} declares ${len} bytes but only ${c.remaining} remain`, context, at);
  return { type, at, value: c.sub(len, 'item value', context) };
}

export function decodePresentationContextRq(v: Cursor): PresentationContextRq {
  const name = 'Presentation Context (20H)';
  const id = v.u8('presentation-context-ID', name);
  v.bytes(3, 'reserved', name);
  let abstractSyntax: string | undefined;
  const transferSyntaxes: string[] = [];
  while (v.remaining > 0) {
    const it = readItem(v, name);
    if (it.type === ItemType.AbstractSyntax) {
      if (abstractSyntax !== undefined) v.fail('more than one Abstract Syntax sub-item', name, it.at);
      abstractSyntax = uidString(it.value.bytes(it.value.remaining, 'abstract syntax name'));
    } else if (it.type === ItemType.TransferSyntax) {
      transferSyntaxes.push(uidString(it.value.bytes(it.value.remaining, 'transfer syntax name')));
    } // others: skipped (PS3.8 9.3.1)
  }
  if (abstractSyntax === undefined) v.fail(`presentation context ${id} has no Abstract Syntax sub-item`, name);
  if (transferSyntaxes.length === 0) v.fail(`presentation context ${id} has no Transfer Syntax sub-item`, name);
  return { id, abstractSyntax, transferSyntaxes };
}

export function decodePresentationContextAc(v: Cursor): PresentationContextAc {
  const name = 'Presentation Context (21H)';
  const id = v.u8('presentation-context-ID', name);
  v.u8('reserved', name);
  const result = v.u8('result/reason', name);
  v.u8('reserved', name);
  let transferSyntax: string | undefined;
  while (v.remaining > 0) {
    const it = readItem(v, name);
    if (it.type === ItemType.TransferSyntax) transferSyntax = uidString(it.value.bytes(it.value.remaining, 'transfer syntax name'));
  }
  // Not significant unless accepted (PS3.8 9.3.3.2), so it may be missing then.
  if (transferSyntax === undefined && result === PcResult.Acceptance) v.fail(`accepted presentation context ${id} has no Transfer Syntax sub-item`, name);
  return { id, result, transferSyntax: transferSyntax ?? '' };
}

export function decodeUserInformation(v: Cursor): UserInformation {
  const u: UserInformation = {};
  while (v.remaining > 0) {
    const it = readItem(v, 'User Information (50H)');
    const c = it.value;
    const name = `sub-item ${hex(it.type)}`;
    switch (it.type) {
      case ItemType.MaximumLength:
        if (c.remaining !== 4) c.fail(`Maximum Length item must have length 4, has ${c.remaining}`, name, it.at);
        u.maxLength = c.u32('maximum-length-received', name);
        break;
      case ItemType.ImplementationClassUid:
        u.implementationClassUid = uidString(c.bytes(c.remaining, 'implementation-class-uid', name));
        break;
      case ItemType.ImplementationVersionName:
        u.implementationVersionName = uidString(c.bytes(c.remaining, 'implementation-version-name', name));
        break;
      case ItemType.AsynchronousOperationsWindow:
        if (c.remaining !== 4) c.fail(`Asynchronous Operations Window item must have length 4, has ${c.remaining}`, name, it.at);
        u.asyncOperationsWindow = { maxOperationsInvoked: c.u16('max-operations-invoked', name), maxOperationsPerformed: c.u16('max-operations-performed', name) };
        break;
      case ItemType.RoleSelection: {
        const uid = uidString(c.bytes(c.u16('UID-length', name), 'SOP-class-uid', name));
        const scuRole = c.u8('SCU-role', name) === 1;
        const scpRole = c.u8('SCP-role', name) === 1;
        (u.roleSelections ??= []).push({ sopClassUid: uid, scuRole, scpRole });
        break;
      }
      case ItemType.SopClassExtendedNegotiation: {
        const uid = uidString(c.bytes(c.u16('SOP-class-uid-length', name), 'SOP-class-uid', name));
        (u.extendedNegotiations ??= []).push({ sopClassUid: uid, serviceClassApplicationInformation: Buffer.from(c.bytes(c.remaining, 'information', name)) });
        break;
      }
      case ItemType.SopClassCommonExtendedNegotiation: {
        const sop = uidString(c.bytes(c.u16('SOP-class-uid-length', name), 'SOP-class-uid', name));
        const svc = uidString(c.bytes(c.u16('service-class-uid-length', name), 'service-class-uid', name));
        const rel = c.sub(c.u16('related-general-sop-class-identification-length', name), 'related general SOP classes', name);
        const related: string[] = [];
        while (rel.remaining > 0) related.push(uidString(rel.bytes(rel.u16('related-general-sop-class-uid-length', name), 'related UID', name)));
        (u.commonExtendedNegotiations ??= []).push({ sopClassUid: sop, serviceClassUid: svc, relatedGeneralSopClassUids: related });
        break;
      }
      case ItemType.UserIdentityRq: {
        const userIdentityType = c.u8('user-identity-type', name);
        const positiveResponseRequested = c.u8('positive-response-requested', name) === 1;
        const primaryField = Buffer.from(c.bytes(c.u16('primary-field-length', name), 'primary-field', name));
        const secondaryField = Buffer.from(c.bytes(c.u16('secondary-field-length', name), 'secondary-field', name));
        u.userIdentityRq = { userIdentityType, positiveResponseRequested, primaryField, secondaryField };
        break;
      }
      case ItemType.UserIdentityAc:
        u.userIdentityAc = { serverResponse: Buffer.from(c.bytes(c.u16('server-response-length', name), 'server-response', name)) };
        break;
      default:
        break; // unknown sub-items are skipped (PS3.7 D.3.3)
    }
  }
  return u;
}

export function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0') + 'H';
}
