/**
 * PDU and item encode/decode against byte layouts written out by hand from PS3.8 9.3 and
 * PS3.7 D.3.3 (not produced by the encoder under test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePdu, encodePdu, PduDecodeError, type AAssociateRq, type AAssociateAc } from '../../src/net/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
/** item: type, reserved, 2-byte length, value */
const item = (type: number, valueHex: string): string => {
  const v = valueHex.replace(/\s+/g, '');
  return type.toString(16).padStart(2, '0') + '00' + (v.length / 2).toString(16).padStart(4, '0') + v;
};
const u16 = (n: number): string => n.toString(16).padStart(4, '0');
const u32 = (n: number): string => n.toString(16).padStart(8, '0');
const pdu = (type: number, bodyHex: string): Buffer => {
  const b = bodyHex.replace(/\s+/g, '');
  return hex(type.toString(16).padStart(2, '0') + '00' + u32(b.length / 2) + b);
};

const AE = (s: string): string => ascii(s.padEnd(16, ' '));
const APP = '1.2.840.10008.3.1.1.1';
const VERIF = '1.2.840.10008.1.1';
const ILE = '1.2.840.10008.1.2';
const ELE = '1.2.840.10008.1.2.1';

// PS3.8 Table 9-11 (fixed fields) + 9-12 (app context) + 9-13 (PC) + 9-16 (user info)
const buildRq = (withUnknown: boolean): Buffer => pdu(
  0x01,
  u16(1) + '0000' + AE('STORESCP') + AE('ECHOSCU') + '00'.repeat(32) +
    item(0x10, ascii(APP)) +
    item(0x20, '01000000' + item(0x30, ascii(VERIF)) + item(0x40, ascii(ELE)) + item(0x40, ascii(ILE))) +
    (withUnknown ? item(0x99, 'deadbeef') : '') + // unknown item: skipped (PS3.8 9.3.1)
    item(
      0x50,
      item(0x51, u32(16384)) +
        item(0x52, ascii('1.2.3.4')) +
        item(0x53, u16(5) + u16(3)) +
        item(0x54, u16(VERIF.length) + ascii(VERIF) + '01' + '01') +
        item(0x55, ascii('TEST_1')) +
        item(0x56, u16(VERIF.length) + ascii(VERIF) + '0102') +
        item(0x57, u16(3) + ascii('1.2') + u16(3) + ascii('3.4') + u16(2 + 3 + 2 + 1) + u16(3) + ascii('5.6') + u16(1) + ascii('7')) +
        item(0x58, '02' + '01' + u16(4) + ascii('user') + u16(4) + ascii('pass')) +
        (withUnknown ? item(0x7f, 'aa') : ''), // unknown sub-item: skipped
    ),
);
const rqBytes = buildRq(true);

const rqValue: AAssociateRq = {
  type: 'A-ASSOCIATE-RQ',
  protocolVersion: 1,
  calledAETitle: 'STORESCP',
  callingAETitle: 'ECHOSCU',
  applicationContextName: APP,
  presentationContexts: [{ id: 1, abstractSyntax: VERIF, transferSyntaxes: [ELE, ILE] }],
  userInformation: {
    maxLength: 16384,
    implementationClassUid: '1.2.3.4',
    asyncOperationsWindow: { maxOperationsInvoked: 5, maxOperationsPerformed: 3 },
    roleSelections: [{ sopClassUid: VERIF, scuRole: true, scpRole: true }],
    implementationVersionName: 'TEST_1',
    extendedNegotiations: [{ sopClassUid: VERIF, serviceClassApplicationInformation: hex('0102') }],
    commonExtendedNegotiations: [{ sopClassUid: '1.2', serviceClassUid: '3.4', relatedGeneralSopClassUids: ['5.6', '7'] }],
    userIdentityRq: { userIdentityType: 2, positiveResponseRequested: true, primaryField: Buffer.from('user'), secondaryField: Buffer.from('pass') },
  },
};

test('A-ASSOCIATE-RQ decodes from the PS3.8 9.3.2 layout, skipping unknown items', () => {
  assert.deepEqual(decodePdu(rqBytes), rqValue);
});

test('A-ASSOCIATE-RQ encodes to the exact bytes (without the unknown items)', () => {
  const enc = encodePdu(rqValue);
  assert.deepEqual(enc, buildRq(false));
  assert.equal(enc[0], 0x01);
  assert.equal(enc.readUInt32BE(2), enc.length - 6);
  assert.equal(enc.subarray(10, 26).toString('latin1'), 'STORESCP        ');
  assert.equal(enc.subarray(26, 42).toString('latin1'), 'ECHOSCU         ');
  assert.ok(enc.subarray(42, 74).equals(Buffer.alloc(32)));
  // first variable item: application context 10H
  assert.equal(enc[74], 0x10);
  assert.equal(enc.readUInt16BE(76), APP.length);
  assert.equal(rqBytes.length - enc.length, 8 + 5); // the unknown item (4+4) and sub-item (4+1)
});

test('A-ASSOCIATE-AC with accepted and rejected contexts and 59H round-trips byte-exact', () => {
  const bytes = pdu(
    0x02,
    u16(1) + '0000' + AE('STORESCP') + AE('ECHOSCU') + '00'.repeat(32) +
      item(0x10, ascii(APP)) +
      item(0x21, '01' + '00' + '00' + '00' + item(0x40, ascii(ILE))) +
      item(0x21, '03' + '00' + '04' + '00' + item(0x40, ascii(ELE))) +
      item(0x50, item(0x51, u32(0)) + item(0x52, ascii('1.2.3')) + item(0x53, u16(1) + u16(0)) + item(0x54, u16(VERIF.length) + ascii(VERIF) + '00' + '01') + item(0x55, ascii('V')) + item(0x59, u16(2) + 'abcd')),
  );
  const ac = decodePdu(bytes) as AAssociateAc;
  assert.equal(ac.type, 'A-ASSOCIATE-AC');
  assert.deepEqual(ac.presentationContexts, [
    { id: 1, result: 0, transferSyntax: ILE },
    { id: 3, result: 4, transferSyntax: ELE },
  ]);
  assert.deepEqual(ac.userInformation, {
    maxLength: 0,
    implementationClassUid: '1.2.3',
    asyncOperationsWindow: { maxOperationsInvoked: 1, maxOperationsPerformed: 0 },
    roleSelections: [{ sopClassUid: VERIF, scuRole: false, scpRole: true }],
    implementationVersionName: 'V',
    userIdentityAc: { serverResponse: hex('abcd') },
  });
  assert.deepEqual(encodePdu(ac), bytes);
});

test('A-ASSOCIATE-RJ, A-RELEASE-RQ/RP, A-ABORT have the fixed layouts of PS3.8 9.3.4, 9.3.6-9.3.8', () => {
  assert.deepEqual(encodePdu({ type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 7 }), hex('03 00 00000004 00 01 01 07'));
  assert.deepEqual(encodePdu({ type: 'A-RELEASE-RQ' }), hex('05 00 00000004 00000000'));
  assert.deepEqual(encodePdu({ type: 'A-RELEASE-RP' }), hex('06 00 00000004 00000000'));
  assert.deepEqual(encodePdu({ type: 'A-ABORT', source: 2, reason: 6 }), hex('07 00 00000004 00 00 02 06'));
  assert.deepEqual(decodePdu(hex('03 00 00000004 ff 02 03 02')), { type: 'A-ASSOCIATE-RJ', result: 2, source: 3, reason: 2 });
  assert.deepEqual(decodePdu(hex('07 00 00000004 ff ff 00 00')), { type: 'A-ABORT', source: 0, reason: 0 });
});

test('P-DATA-TF with two PDVs and their message control headers (PS3.8 9.3.5, E.2)', () => {
  const bytes = hex('04 00 0000000e  00000003 01 03 aa  00000003 01 02 bb');
  const p = decodePdu(bytes);
  assert.deepEqual(p, {
    type: 'P-DATA-TF',
    pdvs: [
      { presentationContextId: 1, messageControlHeader: 3, data: hex('aa') },
      { presentationContextId: 1, messageControlHeader: 2, data: hex('bb') },
    ],
  });
  assert.deepEqual(encodePdu(p), bytes);
});

test('decode errors name the PDU, the item and the offset, never a raw RangeError', () => {
  const cases: [Buffer, RegExp][] = [
    [hex('05 00 00000006 000000000000'), /A-RELEASE-RQ at byte 2: PDU-length must be 4/],
    [hex('04 00 00000006 00000009 01 03'), /P-DATA-TF PDV at byte 6: PDV item-length 9 exceeds/],
    [hex('04 00 00000006 00000001 01 03'), /item-length 1 is less than 2/],
    [hex('09 00 00000004 00000000'), /unrecognized PDU type 9/],
    [hex('04 00 00000010 00'), /PDU-length 16 but 1 bytes follow/],
  ];
  for (const [b, re] of cases) {
    assert.throws(() => decodePdu(b), (e: unknown) => e instanceof PduDecodeError && re.test(e.message), b.toString('hex'));
  }
  // an item whose length runs past the PDU
  const bad = Buffer.from(rqBytes);
  bad.writeUInt16BE(0xffff, 76); // application context item length
  assert.throws(() => decodePdu(bad), (e: unknown) => e instanceof PduDecodeError && /at byte 74: item 10H declares 65535 bytes/.test(e.message));
  // truncated user information sub-item
  const rq = encodePdu({ ...rqValue, userInformation: { maxLength: 1 } });
  const cut = Buffer.from(rq);
  cut.writeUInt16BE(3, cut.length - 6); // 51H length 4 -> 3
  assert.throws(() => decodePdu(cut), (e: unknown) => e instanceof PduDecodeError && /User Information|sub-item 51H/.test(e.message));
  // no presentation context
  assert.throws(() => decodePdu(encodePdu({ ...rqValue, presentationContexts: [] })), /no Presentation Context item/);
});

test('UIDs padded with NUL and AE titles with spaces are trimmed', () => {
  const bytes = pdu(
    0x01,
    u16(1) + '0000' + ascii('  CALLED        ') + AE('X') + '00'.repeat(32) + item(0x10, ascii(APP) + '00') +
      item(0x20, '01000000' + item(0x30, ascii(VERIF) + '00') + item(0x40, ascii(ILE) + '00')) +
      item(0x50, item(0x51, u32(0))),
  );
  const rq = decodePdu(bytes) as AAssociateRq;
  assert.equal(rq.calledAETitle, 'CALLED');
  assert.equal(rq.applicationContextName, APP);
  assert.deepEqual(rq.presentationContexts[0], { id: 1, abstractSyntax: VERIF, transferSyntaxes: [ILE] });
});
