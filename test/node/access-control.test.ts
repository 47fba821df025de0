/**
 * Association acceptance from the configuration (REQUIREMENTS 3.7 ASSOC-060..063, 3.8, 16.2),
 * seen by Tracer's requestor and by a raw peer: each rejection with its result/source/reason,
 * the inbound limit, per-service decisions, transfer syntax selection, responding AE title.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AssociationRejectedError,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  PcResult,
  VERIFICATION_SOP_CLASS,
  associateRq,
  decodePdu,
  type AAssociateRj,
} from '../../src/net/index.js';
import { addressAllowed, buildAllowList, normalizeAddress } from '../../src/node/access-control.js';
import type { TracerConfig } from '../../src/node/config.js';
import { RawPeer } from '../net/raw-peer.js';
import { CT, connect, startTestNode, type TestNode } from '../helpers/node.js';

const ECHO = [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }];
const ECHO_AND_CT = [...ECHO, { abstractSyntax: CT, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }];
const pacs = { name: 'pacs', aeTitle: 'PACS', host: '127.0.0.1', port: 104 };

async function withNode(patch: (c: TracerConfig) => void, fn: (n: TestNode) => Promise<void>): Promise<void> {
  const node = await startTestNode(patch);
  try {
    await fn(node);
  } finally {
    await node.stop();
  }
}

async function rejected(p: Promise<unknown>): Promise<[number, number, number]> {
  try {
    const a = (await p) as { release(): Promise<void> };
    await a.release();
  } catch (e) {
    assert.ok(e instanceof AssociationRejectedError, String(e));
    return [e.result, e.source, e.reason];
  }
  assert.fail('association was accepted');
}

async function accepted(p: ReturnType<typeof connect>) {
  const a = await p;
  const ac = a.ac!;
  await a.release();
  return ac;
}

test('called AE title not ours: 1/1/7; with the check off: accepted, responding AE = called AE (ASSOC-061)', async () => {
  await withNode(() => undefined, async (n) => {
    assert.deepEqual(await rejected(connect(n.port, ECHO, { calledAETitle: 'SOMEONE' })), [1, 1, 7]);
    assert.ok(n.logs.some((l) => l.msg === 'association rejected' && l.reason === 7 && l.called === 'SOMEONE'));
  });
  await withNode((c) => {
    c.acl.verification.checkCalledAeTitle = false;
  }, async (n) => {
    const ac = await accepted(connect(n.port, ECHO, { calledAETitle: 'SOMEONE' }));
    assert.equal(ac.calledAETitle, 'SOMEONE');
    // storage still checks the called AE title: its contexts alone are rejected 1/1/7
    assert.deepEqual(await rejected(connect(n.port, [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }], { calledAETitle: 'SOMEONE' })), [1, 1, 7]);
  });
});

test('unknown calling AE title when required: 1/1/3; a registered node is accepted', async () => {
  await withNode((c) => {
    c.acl.verification.requireKnownCallingAe = true;
    c.nodes = [pacs as TracerConfig['nodes'][number]];
  }, async (n) => {
    assert.deepEqual(await rejected(connect(n.port, ECHO)), [1, 1, 3]);
    await accepted(connect(n.port, ECHO, { callingAETitle: 'PACS' }));
  });
});

test('per service: storage restricted, verification open (SEC-011)', async () => {
  await withNode((c) => {
    c.acl.storage.requireKnownCallingAe = true;
  }, async (n) => {
    // verification alone: accepted
    await accepted(connect(n.port, ECHO));
    // verification proposed beside storage does not decide: rejected with storage's reason
    assert.deepEqual(await rejected(connect(n.port, ECHO_AND_CT)), [1, 1, 3]);
  });
  await withNode((c) => {
    c.acl.verification.requireKnownCallingAe = true;
  }, async (n) => {
    // storage allowed, verification not: accepted, the verification context user-rejected
    const ac = await accepted(connect(n.port, ECHO_AND_CT));
    assert.deepEqual(ac.presentationContexts.map((p) => p.result), [PcResult.UserRejection, PcResult.Acceptance]);
  });
});

test('IP allow list: CIDR ranges and knownNodes (resolved host names); 1/1/1 otherwise', async () => {
  await withNode((c) => (c.acl.verification.ipAllowList = ['10.0.0.0/8', '192.168.1.7']), async (n) => {
    assert.deepEqual(await rejected(connect(n.port, ECHO)), [1, 1, 1]);
  });
  await withNode((c) => (c.acl.verification.ipAllowList = ['127.0.0.0/8']), async (n) => {
    await accepted(connect(n.port, ECHO));
  });
  await withNode((c) => {
    c.acl.verification.ipAllowList = 'knownNodes';
    c.nodes = [{ ...pacs, host: 'localhost' } as TracerConfig['nodes'][number]];
  }, async (n) => {
    await accepted(connect(n.port, ECHO));
  });
  await withNode((c) => {
    c.acl.verification.ipAllowList = 'knownNodes';
    c.nodes = [{ ...pacs, host: '192.0.2.10' } as TracerConfig['nodes'][number]];
  }, async (n) => {
    assert.deepEqual(await rejected(connect(n.port, ECHO)), [1, 1, 1]);
  });
  assert.equal(normalizeAddress('::ffff:10.1.2.3'), '10.1.2.3');
  const l = buildAllowList(['10.1.0.0/16', '2001:db8::/32']);
  assert.equal(addressAllowed(l, '::ffff:10.1.200.3'), true);
  assert.equal(addressAllowed(l, '10.2.0.1'), false);
  assert.equal(addressAllowed(l, '2001:db8::5'), true);
  assert.throws(() => buildAllowList(['example.org']), /not an IP address/);
});

test('inbound association limit: 2/3/2 (ASSOC-030), accepted again once one ends', async () => {
  await withNode((c) => (c.network.maxInboundAssociations = 1), async (n) => {
    const first = await connect(n.port, ECHO);
    assert.deepEqual(await rejected(connect(n.port, ECHO)), [2, 3, 2]);
    await first.release();
    await accepted(connect(n.port, ECHO));
  });
});

test('no acceptable presentation context: 1/2/1; a storage AE without the storage service does not accept CT', async () => {
  await withNode(() => undefined, async (n) => {
    // Modality Worklist FIND: not a service of this node (yet)
    assert.deepEqual(await rejected(connect(n.port, [{ abstractSyntax: '1.2.840.10008.5.1.4.31', transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }])), [1, 2, 1]);
    // a storage class with only syntaxes we do not accept
    assert.deepEqual(await rejected(connect(n.port, [{ abstractSyntax: CT, transferSyntaxes: ['1.2.840.10008.1.2.4.100'] }])), [1, 2, 1]);
  });
  await withNode((c) => (c.localAEs[0]!.services = ['verification']), async (n) => {
    const ac = await accepted(connect(n.port, ECHO_AND_CT));
    assert.deepEqual(ac.presentationContexts.map((p) => p.result), [PcResult.Acceptance, PcResult.AbstractSyntaxNotSupported]);
  });
});

test('application context other than DICOM: 1/1/2 (raw peer)', async () => {
  await withNode(() => undefined, async (n) => {
    const peer = await RawPeer.connect(n.port);
    try {
      peer.send(associateRq({
        calledAETitle: 'TRACER',
        callingAETitle: 'RAW',
        applicationContextName: '1.2.3.4.5',
        presentationContexts: [{ id: 1, abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }],
        userInformation: { maxLength: 16384, implementationClassUid: '1.2.3' },
      }));
      const rj = decodePdu((await peer.readPdu())!) as AAssociateRj;
      assert.equal(rj.type, 'A-ASSOCIATE-RJ');
      assert.deepEqual([rj.result, rj.source, rj.reason], [1, 1, 2]);
    } finally {
      peer.destroy();
    }
  });
});

test('transfer syntax selection: callerOrder (default) and localOrder over network.acceptedTransferSyntaxes (ASSOC-070)', async () => {
  const proposal = [{ abstractSyntax: CT, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN] }];
  await withNode(() => undefined, async (n) => {
    const ac = await accepted(connect(n.port, proposal));
    assert.equal(ac.presentationContexts[0]!.transferSyntax, IMPLICIT_VR_LITTLE_ENDIAN);
  });
  await withNode((c) => {
    c.network.tsSelection = 'localOrder';
    c.network.acceptedTransferSyntaxes = ['ExplicitVRLittleEndian', IMPLICIT_VR_LITTLE_ENDIAN];
  }, async (n) => {
    const ac = await accepted(connect(n.port, proposal));
    assert.equal(ac.presentationContexts[0]!.transferSyntax, EXPLICIT_VR_LITTLE_ENDIAN);
    // Big Endian is not in the configured list
    assert.deepEqual(await rejected(connect(n.port, [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT_VR_BIG_ENDIAN] }])), [1, 2, 1]);
  });
});

test('Query/Retrieve is restricted by default (SEC-010, QR-060): unknown calling AE 1/1/3, a known node accepted', async () => {
  const FIND = '1.2.840.10008.5.1.4.1.2.2.1';
  const ctx = [{ abstractSyntax: FIND, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }];
  await withNode((c) => (c.nodes = [{ ...pacs } as TracerConfig['nodes'][number]]), async (n) => {
    assert.deepEqual(await rejected(connect(n.port, ctx)), [1, 1, 3]);
    const ac = await accepted(connect(n.port, ctx, { callingAETitle: 'PACS' }));
    assert.deepEqual(ac.presentationContexts.map((p) => p.result), [PcResult.Acceptance]);
    // storage beside it stays open to anyone (STOR-015): Q/R contexts refused, storage accepted
    const mixed = await accepted(connect(n.port, [...ctx, { abstractSyntax: CT, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }]));
    assert.deepEqual(mixed.presentationContexts.map((p) => p.result), [PcResult.UserRejection, PcResult.Acceptance]);
  });
});
