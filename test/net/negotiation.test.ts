/** Acceptor negotiation by REQUIREMENTS 3.5-3.8 and PS3.7 D.3.3. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  JPEG_BASELINE,
  JPEG_LOSSLESS_SV1,
  RLE_LOSSLESS,
  associateRq,
  negotiateAssociation,
  negotiated,
  selectTransferSyntax,
  type AcceptorPolicy,
} from '../../src/net/index.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const COMMIT = '1.2.840.10008.1.20.1';
const ALL = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, JPEG_LOSSLESS_SV1, JPEG_BASELINE, RLE_LOSSLESS];

test('transfer syntax policies of REQUIREMENTS 3.8', () => {
  const proposed = [JPEG_BASELINE, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, JPEG_LOSSLESS_SV1];
  // callerOrder: first acceptable, but never lossy when a lossless one is offered
  assert.equal(selectTransferSyntax(proposed, ALL, 'callerOrder'), IMPLICIT_VR_LITTLE_ENDIAN);
  assert.equal(selectTransferSyntax([JPEG_BASELINE], ALL, 'callerOrder'), JPEG_BASELINE);
  assert.equal(selectTransferSyntax(proposed, ALL, 'localOrder'), EXPLICIT_VR_LITTLE_ENDIAN);
  assert.equal(selectTransferSyntax(proposed, ALL, 'explicitFirst'), EXPLICIT_VR_LITTLE_ENDIAN);
  assert.equal(selectTransferSyntax(proposed, ALL, 'jpegLosslessFirst'), JPEG_LOSSLESS_SV1);
  assert.equal(selectTransferSyntax([IMPLICIT_VR_LITTLE_ENDIAN, RLE_LOSSLESS], ALL, 'compressedFirst'), RLE_LOSSLESS);
  assert.equal(selectTransferSyntax(proposed, ALL, [JPEG_BASELINE, IMPLICIT_VR_LITTLE_ENDIAN]), JPEG_BASELINE, 'a fixed list is followed as given');
  assert.equal(selectTransferSyntax([EXPLICIT_VR_BIG_ENDIAN], [IMPLICIT_VR_LITTLE_ENDIAN]), undefined);
});

const policy: AcceptorPolicy = {
  aeTitles: ['TRACER'],
  abstractSyntaxes: { [CT]: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN], [COMMIT]: true },
  implementationClassUid: '1.2.3',
  implementationVersionName: 'T_1',
  maxPduReceive: 16384,
};

const rqWith = (pcs: { id: number; abstractSyntax: string; transferSyntaxes: string[] }[], extra: object = {}) =>
  associateRq({ calledAETitle: 'TRACER', callingAETitle: 'X', presentationContexts: pcs, userInformation: { maxLength: 0, ...extra } });

test('each context judged alone: duplicates accepted, reasons 3 and 4 for the others (ASSOC-062)', () => {
  const r = negotiateAssociation(
    rqWith([
      { id: 1, abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] },
      { id: 3, abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] },
      { id: 5, abstractSyntax: CT, transferSyntaxes: [JPEG_BASELINE] },
      { id: 7, abstractSyntax: MR, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] },
    ]),
    policy,
  );
  assert.ok(r.ac);
  assert.deepEqual(r.ac.presentationContexts.map((p) => [p.id, p.result]), [[1, 0], [3, 0], [5, 4], [7, 3]]);
  assert.deepEqual(r.ac.userInformation.maxLength, 16384);
  assert.equal(r.ac.userInformation.implementationVersionName, 'T_1');
  assert.equal(r.ac.calledAETitle, 'TRACER');
  const n = negotiated(rqWith([{ id: 1, abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }]), r.ac, 'requestor');
  assert.deepEqual([...n.contexts.keys()], [1]);
  assert.equal(n.maxOutgoing, 1);
  assert.equal(n.peerMaxPdu, 16384);
});

test('rejection codes of ASSOC-063', () => {
  const pc = [{ id: 1, abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }];
  const rj = (p: AcceptorPolicy, rq = rqWith(pc)) => {
    const r = negotiateAssociation(rq, p);
    assert.ok(r.rj, 'rejected');
    return [r.rj.result, r.rj.source, r.rj.reason];
  };
  assert.deepEqual(rj(policy, { ...rqWith(pc), calledAETitle: 'OTHER' }), [1, 1, 7]);
  assert.deepEqual(rj({ ...policy, callingAETitles: ['Y'] }), [1, 1, 3]);
  assert.deepEqual(rj(policy, { ...rqWith(pc), applicationContextName: '1.2' }), [1, 1, 2]);
  assert.deepEqual(rj(policy, rqWith([{ id: 1, abstractSyntax: MR, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }])), [1, 2, 1]);
  assert.deepEqual(rj({ ...policy, userIdentity: () => ({ accept: false }) }, rqWith(pc, { userIdentityRq: { userIdentityType: 1, positiveResponseRequested: false, primaryField: Buffer.from('u'), secondaryField: Buffer.alloc(0) } })), [1, 1, 1]);
});

test('role selection: accepted where allowed, default roles otherwise (ASSOC-050/051)', () => {
  const rq = rqWith(
    [
      { id: 1, abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] },
      { id: 3, abstractSyntax: COMMIT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] },
    ],
    { roleSelections: [{ sopClassUid: CT, scuRole: true, scpRole: true }, { sopClassUid: COMMIT, scuRole: false, scpRole: true }] },
  );
  const r = negotiateAssociation(rq, { ...policy, acceptRoleSelection: (uid) => uid === COMMIT });
  assert.deepEqual(r.ac!.userInformation.roleSelections, [
    { sopClassUid: CT, scuRole: true, scpRole: false },
    { sopClassUid: COMMIT, scuRole: false, scpRole: true },
  ]);
  const n = negotiated(rq, r.ac!, 'acceptor');
  assert.equal(n.contexts.get(3)!.requestorIsScp, true);
  assert.equal(n.contexts.get(3)!.requestorIsScu, false);
  assert.equal(n.contexts.get(1)!.requestorIsScp, false);
});

test('asynchronous operations window: minimum of both sides, 0 = unlimited, absent when not enabled (ASSOC-040/041)', () => {
  const pc = [{ id: 1, abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }];
  const rq = rqWith(pc, { asyncOperationsWindow: { maxOperationsInvoked: 0, maxOperationsPerformed: 3 } });
  assert.equal(negotiateAssociation(rq, policy).ac!.userInformation.asyncOperationsWindow, undefined);
  const ac = negotiateAssociation(rq, { ...policy, asyncOperations: { maxInvoked: 5, maxPerformed: 16 } }).ac!;
  assert.deepEqual(ac.userInformation.asyncOperationsWindow, { maxOperationsInvoked: 16, maxOperationsPerformed: 3 });
  const asAcceptor = negotiated(rq, ac, 'acceptor');
  assert.equal(asAcceptor.maxIncoming, 16);
  assert.equal(asAcceptor.maxOutgoing, 3);
  const asRequestor = negotiated(rq, ac, 'requestor');
  assert.equal(asRequestor.maxOutgoing, 16);
});

test('extended negotiation ignored by default, answered when the policy says so; user identity response', () => {
  const pc = [{ id: 1, abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }];
  const rq = rqWith(pc, {
    extendedNegotiations: [{ sopClassUid: CT, serviceClassApplicationInformation: Buffer.from([2, 0, 0]) }],
    userIdentityRq: { userIdentityType: 2, positiveResponseRequested: true, primaryField: Buffer.from('u'), secondaryField: Buffer.from('p') },
  });
  assert.equal(negotiateAssociation(rq, policy).ac!.userInformation.extendedNegotiations, undefined);
  const r = negotiateAssociation(rq, { ...policy, extendedNegotiation: () => Buffer.from([1]), userIdentity: (u) => ({ accept: u.secondaryField.toString() === 'p', serverResponse: Buffer.from('ok') }) });
  assert.deepEqual(r.ac!.userInformation.extendedNegotiations, [{ sopClassUid: CT, serviceClassApplicationInformation: Buffer.from([1]) }]);
  assert.deepEqual(r.ac!.userInformation.userIdentityAc, { serverResponse: Buffer.from('ok') });
});
