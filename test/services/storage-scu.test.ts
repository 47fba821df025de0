/**
 * Storage SCU against Tracer's own acceptor (src/net AssociationServer), which answers with
 * chosen statuses on purpose: status handling of REQUIREMENTS 6.4 (SEND-030/031), retries of
 * 6.5, the asynchronous operations window (3.5), parallel associations, presentation-context
 * splitting (ASSOC-031), uncompressed conversion (SEND-021) and per-file failures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssociationServer, type Reply } from '../../src/net/index.js';
import { readDicomBuffer, readDicomFile } from '../../src/dicom/part10.js';
import { TS } from '../../src/dicom/dictionary/index.js';
import { storeFiles, storeOptionsFromConfig, type StoreOptions } from '../../src/services/storage-scu.js';
import { OutboundLimit, outboundLimitOf } from '../../src/services/scu-connection.js';
import { adHocNode, defaultConfig } from '../../src/node/config.js';
import { echo } from '../../src/services/verification-scu.js';
import { describeStoreStatus, judgeStoreStatus } from '../../src/services/store-status.js';
import { candidateSyntaxes, planAssociations, scanFile, type StoreItem } from '../../src/services/store-plan.js';
import { encodeFileMeta } from '../../src/archive/file-store.js';
import { explicitLE, text } from '../helpers/build.js';
import { CT_IMAGE, MR_IMAGE, NM_IMAGE, SC_IMAGE, instanceUid, makeInstances } from '../helpers/instances.js';

interface Received { uid: string; ts: string; bytes: Buffer; association: number }

interface AcceptorOptions {
  accept?: (abstractSyntax: string) => readonly string[] | undefined;
  window?: number;
  status?: (uid: string, nth: number) => Reply<'C-STORE'>;
  delayMs?: number;
  /** Abort the association instead of answering (uid, nth time seen). */
  abortOn?: (uid: string, nth: number) => boolean;
  reject?: { result: number; source: number; reason: number };
  port?: number;
}

const ALL = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian, TS.DeflatedExplicitVRLittleEndian];

async function acceptor(o: AcceptorOptions = {}) {
  const received: Received[] = [];
  const seen = new Map<string, number>();
  let inflight = 0;
  let maxInflight = 0;
  let associations = 0;
  const contextsProposed: number[] = [];
  const server = new AssociationServer({
    maxAssociations: 0,
    policy: {
      abstractSyntaxes: (a: string) => (o.accept ? o.accept(a) : ALL),
      asyncOperations: o.window !== undefined ? { maxInvoked: 0, maxPerformed: o.window } : undefined,
    },
    negotiate: o.reject ? () => ({ rj: { type: 'A-ASSOCIATE-RJ', ...o.reject! }, why: 'test' }) : undefined,
  });
  const ids = new WeakMap<object, number>();
  server.on('association', (a) => {
    ids.set(a, ++associations);
    a.once('established', () => contextsProposed.push(a.rq!.presentationContexts.length));
  });
  server.handle('C-STORE', async (rq, ctx) => {
    const n = (seen.get(rq.AffectedSOPInstanceUID) ?? 0) + 1;
    seen.set(rq.AffectedSOPInstanceUID, n);
    inflight++;
    maxInflight = Math.max(maxInflight, inflight);
    try {
      const chunks: Buffer[] = [];
      for await (const c of ctx.dataset!) chunks.push(c as Buffer);
      if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
      if (o.abortOn?.(rq.AffectedSOPInstanceUID, n)) {
        void ctx.association.abort();
        return 0;
      }
      received.push({ uid: rq.AffectedSOPInstanceUID, ts: ctx.presentationContext.transferSyntax, bytes: Buffer.concat(chunks), association: ids.get(ctx.association)! });
      return o.status ? o.status(rq.AffectedSOPInstanceUID, n) : 0;
    } finally {
      inflight--;
    }
  });
  const { port } = await server.listen(o.port ?? 0, '127.0.0.1');
  return {
    server,
    port,
    received,
    seen,
    maxInflight: () => maxInflight,
    associations: () => associations,
    contextsProposed,
    dest: { host: '127.0.0.1', port, aeTitle: 'ANY-SCP' },
  };
}

const fast: StoreOptions = { retry: { count: 0, intervalSeconds: 0 }, timeouts: { connect: 2000, acse: 2000, dimse: 5000 } };

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tracer-scu-'));
}

function datasetBytes(path: string): Buffer {
  const f = readDicomFile(path);
  f.source.close();
  return readFileSync(path).subarray(f.datasetOffset);
}

test('many files over one association; each data set arrives byte for byte; results in order', async () => {
  const dir = tmp();
  const peer = await acceptor();
  try {
    const files = makeInstances(dir, 25, { size: 64 });
    const progress: number[] = [];
    const r = await storeFiles(files, peer.dest, fast, (p) => p.kind === 'file' && progress.push(p.done));
    assert.equal(r.state, 'COMPLETED');
    assert.equal(r.sent, 25);
    assert.equal(r.associations, 1);
    assert.equal(peer.associations(), 1);
    assert.deepEqual(r.results.map((x) => x.path), files);
    assert.deepEqual(progress, Array.from({ length: 25 }, (_, i) => i + 1));
    for (const [i, f] of files.entries()) {
      const got = peer.received.find((x) => x.uid === instanceUid(i))!;
      assert.equal(got.ts, TS.ExplicitVRLittleEndian);
      assert.deepEqual(got.bytes, datasetBytes(f));
      assert.equal(r.results[i]!.status, 0);
      assert.equal(r.results[i]!.bytes, got.bytes.length);
    }
    assert.equal(r.bytes, peer.received.reduce((s, x) => s + x.bytes.length, 0));
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('asynchronous operations window: several C-STOREs outstanding, never more than granted (PS3.7 D.3.3.3)', async () => {
  const dir = tmp();
  const peer = await acceptor({ window: 4, delayMs: 20 });
  try {
    const files = makeInstances(dir, 20);
    const r = await storeFiles(files, peer.dest, { ...fast, asyncOperations: { maxInvoked: 8 } });
    assert.equal(r.sent, 20);
    assert.ok(peer.maxInflight() > 1, `outstanding at once: ${peer.maxInflight()}`);
    assert.ok(peer.maxInflight() <= 4, `outstanding at once: ${peer.maxInflight()}`);
    // Without the item (ASSOC-040 default) one operation at a time.
    const peer2 = await acceptor({ window: 4, delayMs: 5 });
    try {
      const r2 = await storeFiles(files, peer2.dest, fast);
      assert.equal(r2.sent, 20);
      assert.equal(peer2.maxInflight(), 1);
    } finally {
      await peer2.server.close();
    }
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--associations N: files shared among N parallel associations, each sent once', async () => {
  const dir = tmp();
  const peer = await acceptor({ delayMs: 5 });
  try {
    const files = makeInstances(dir, 30);
    const r = await storeFiles(files, peer.dest, { ...fast, associations: 3 });
    assert.equal(r.sent, 30);
    assert.equal(r.associations, 3);
    assert.equal(peer.associations(), 3);
    assert.equal(peer.received.length, 30);
    assert.equal(new Set(peer.received.map((x) => x.uid)).size, 30);
    assert.equal(new Set(peer.received.map((x) => x.association)).size, 3);
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('OutboundLimit: at most max slots, then first come first served; 0 = unlimited', async () => {
  const l = new OutboundLimit(2);
  const a = await l.acquire();
  const b = await l.acquire();
  const order: string[] = [];
  const c = l.acquire().then((f) => (order.push('c'), f));
  const d = l.acquire().then((f) => (order.push('d'), f));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, []);
  assert.equal(l.open, 2);
  a();
  a(); // a second call frees nothing more
  const fc = await c;
  assert.deepEqual(order, ['c']);
  b();
  const fd = await d;
  assert.deepEqual(order, ['c', 'd']);
  fc();
  fd();
  assert.equal(l.open, 0);
  const u = new OutboundLimit(0);
  const many = await Promise.all([u.acquire(), u.acquire(), u.acquire()]);
  assert.equal(u.open, 3);
  for (const f of many) f();
});

test('network.maxOutboundAssociations: two jobs from one configuration never hold more associations than the limit (3.4)', async () => {
  const dir = tmp();
  const peer = await acceptor({ delayMs: 5 });
  try {
    const files = makeInstances(dir, 24);
    const config = defaultConfig();
    config.network.maxOutboundAssociations = 2;
    // Counted where the limit is kept: the server notices a closed connection later than the
    // client, which may already have opened the next one in the freed slot.
    const limit = outboundLimitOf(config);
    let maxOpen = 0;
    peer.server.on('association', () => (maxOpen = Math.max(maxOpen, limit.open)));
    const node = adHocNode({ name: 'peer', aeTitle: 'ANY-SCP', host: '127.0.0.1', port: peer.port });
    const opts = (): StoreOptions => ({ ...storeOptionsFromConfig(config, node), ...fast, timeouts: fast.timeouts, associations: 2 });
    const [r1, r2] = await Promise.all([storeFiles(files.slice(0, 12), peer.dest, opts()), storeFiles(files.slice(12), peer.dest, opts())]);
    assert.equal(r1.sent + r2.sent, 24);
    assert.equal(peer.received.length, 24);
    assert.equal(peer.associations(), 4);
    assert.equal(maxOpen, 2);
    assert.equal(limit.open, 0);
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('maxInstancesPerAssociation (--per-association N): a new association after N instances, each sent once', async () => {
  // N = 1 used to loop for ever: the instance taken was put back instead of being sent.
  for (const [n, window] of [[1, undefined], [3, undefined], [1, 4], [3, 4]] as const) {
    const dir = tmp();
    const peer = await acceptor({ window });
    try {
      const files = makeInstances(dir, 7);
      const r = await storeFiles(files, peer.dest, { ...fast, maxInstancesPerAssociation: n, asyncOperations: window ? { maxInvoked: window } : undefined });
      assert.equal(r.state, 'COMPLETED', `N=${n} window=${window}`);
      assert.equal(r.sent, 7);
      assert.equal(peer.received.length, 7, `N=${n} window=${window}: each instance sent once`);
      assert.equal(r.associations, Math.ceil(7 / n));
      assert.equal(peer.associations(), Math.ceil(7 / n));
      const perAssociation = new Map<number, number>();
      for (const x of peer.received) perAssociation.set(x.association, (perAssociation.get(x.association) ?? 0) + 1);
      assert.ok([...perAssociation.values()].every((c) => c <= n));
    } finally {
      await peer.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('statuses: warnings, 0111, 0122, A9xx go on; Cxxx goes on on a new association; texts of SEND-031', async () => {
  const dir = tmp();
  const codes: Record<string, number> = {
    [instanceUid(1)]: 0xb000,
    [instanceUid(2)]: 0x0111,
    [instanceUid(3)]: 0x0122,
    [instanceUid(4)]: 0xa900,
    [instanceUid(5)]: 0xc000,
    [instanceUid(6)]: 0xa710,
  };
  const peer = await acceptor({ status: (uid) => ({ Status: codes[uid] ?? 0, ErrorComment: codes[uid] === 0xa900 ? 'bad IOD' : undefined }) });
  try {
    const files = makeInstances(dir, 8);
    const r = await storeFiles(files, peer.dest, { ...fast, policy: { onRefused: 'continue' } });
    const by = r.results.map((x) => [x.outcome, x.status]);
    assert.deepEqual(by, [
      ['success', 0], ['warning', 0xb000], ['warning', 0x0111], ['failure', 0x0122], ['failure', 0xa900], ['failure', 0xc000], ['failure', 0xa710], ['success', 0],
    ]);
    assert.match(r.results[2]!.statusText, /already on the remote node, not overwritten/);
    assert.match(r.results[4]!.statusText, /^A900 .*\(bad IOD\)$/);
    assert.match(r.results[5]!.statusText, /Unknown Error returned from Remote Station/);
    assert.equal(r.results[6]!.statusText, 'A710 Refused: Remote Database could not write dataset');
    assert.equal(r.warnings, 2);
    assert.equal(r.failed, 4);
    assert.equal(r.state, 'FAILED');
    // eNTEGRA: after Cxxx the rest goes on a new association.
    assert.equal(peer.associations(), 2);
    const second = peer.received.filter((x) => x.association === 2).map((x) => x.uid);
    assert.deepEqual(second, [instanceUid(6), instanceUid(7)]);
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('A7xx with onRefused retryJob: association aborted, only the refused and unsent instances are resent later', async () => {
  const dir = tmp();
  const peer = await acceptor({ status: (uid, n) => (uid === instanceUid(2) && n === 1 ? 0xa700 : 0) });
  try {
    const files = makeInstances(dir, 5);
    const retries: string[] = [];
    const r = await storeFiles(files, peer.dest, { ...fast, retry: { count: 2, intervalSeconds: 0.05 } }, (p) => p.kind === 'retry' && retries.push(p.reason));
    assert.equal(r.state, 'COMPLETED');
    assert.equal(r.sent, 5);
    assert.equal(r.attempts, 2);
    assert.match(retries[0]!, /A700 Refused: Out of Resources \(eNTEGRA: DICOM Protocol Error\)/);
    // 0 and 1 were stored before the refusal and are not resent (SEND-041).
    assert.equal(peer.seen.get(instanceUid(0)), 1);
    assert.equal(peer.seen.get(instanceUid(1)), 1);
    assert.equal(peer.seen.get(instanceUid(2)), 2);
    assert.equal(r.results[2]!.attempts, 2);
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('failJob on A7xx and stopJob on A9xx stop the job; the rest is reported as not sent', async () => {
  const dir = tmp();
  const peer = await acceptor({ status: (uid) => (uid === instanceUid(1) ? 0xa720 : uid === instanceUid(3) ? 0xa901 : 0) });
  try {
    const files = makeInstances(dir, 5);
    const r = await storeFiles(files, peer.dest, { ...fast, policy: { onRefused: 'failJob' } });
    assert.deepEqual(r.results.map((x) => x.outcome), ['success', 'failure', 'failure', 'failure', 'failure']);
    assert.equal(r.results[1]!.statusText, 'A720 Refused: Internal Error on the Remote Station');
    assert.match(r.results[2]!.error!, /not sent: job stopped after A720/);
    const r2 = await storeFiles(files, peer.dest, { ...fast, policy: { onRefused: 'continue', onInstanceFailure: 'stopJob' } });
    assert.deepEqual(r2.results.map((x) => x.outcome), ['success', 'failure', 'success', 'failure', 'failure']);
    assert.match(r2.results[4]!.error!, /job stopped after A901/);
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('warningsAsSuccess false: a warning fails the instance (GCA-9300R B007)', () => {
  assert.equal(judgeStoreStatus(0xb007, { onRefused: 'retryJob', onInstanceFailure: 'continue', warningsAsSuccess: false }).outcome, 'failure');
  assert.equal(judgeStoreStatus(0xb007).outcome, 'warning');
  assert.equal(judgeStoreStatus(0xc123, { onRefused: 'retryJob', onInstanceFailure: 'abortAndRetry', warningsAsSuccess: true }).action, 'retryLater');
  assert.equal(judgeStoreStatus(0xa900, { onRefused: 'retryJob', onInstanceFailure: 'abortAndRetry', warningsAsSuccess: true }).action, 'continue');
  assert.equal(describeStoreStatus(0xa730), 'A730 Refused: Translation Failed. Cannot send Dataset');
  assert.equal(describeStoreStatus(0xa740), 'A740 Refused: Remote Station could not find Pixel Data');
  assert.equal(describeStoreStatus(0xa7ff), 'A7FF Refused: Out of Resources');
});

test('peer accepts only ELE: ILE and EBE files are converted on the fly, values intact (SEND-021)', async () => {
  const dir = tmp();
  const peer = await acceptor({ accept: () => [TS.ExplicitVRLittleEndian] });
  try {
    const ile = makeInstances(dir, 1, { transferSyntax: TS.ImplicitVRLittleEndian, first: 0 });
    const ebe = makeInstances(dir, 1, { transferSyntax: TS.ExplicitVRBigEndian, first: 1 });
    const ele = makeInstances(dir, 1, { transferSyntax: TS.ExplicitVRLittleEndian, first: 2 });
    const r = await storeFiles([...ile, ...ebe, ...ele], peer.dest, fast);
    assert.equal(r.sent, 3);
    assert.deepEqual(r.results.map((x) => x.converted), [true, true, false]);
    assert.deepEqual(r.results.map((x) => x.transferSyntax), [TS.ExplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.ExplicitVRLittleEndian]);
    const ref = readDicomFile(ele[0]!).dataset;
    for (const got of peer.received) {
      assert.equal(got.ts, TS.ExplicitVRLittleEndian);
      // A data set alone, read as the syntax it was sent in.
      const ds = readDicomBuffer(got.bytes).dataset;
      assert.equal(ds.explicitVR, true);
      assert.equal(ds.string(0x00080018), got.uid);
      assert.equal(ds.get(0x7fe00010)!.vr, 'OW');
      assert.deepEqual(ds.numbers(0x00280010), ref.numbers(0x00280010));
      const n = Number(got.uid.split('.').pop());
      assert.deepEqual(ds.numbers(0x7fe00010), Array.from({ length: 256 }, (_, k) => (k * 37 + n) & 0xffff));
    }
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a SOP class the peer does not accept fails per file, with the reason; the others are sent', async () => {
  const dir = tmp();
  const peer = await acceptor({ accept: (a) => (a === CT_IMAGE ? ALL : undefined) });
  try {
    const ct = makeInstances(dir, 2, { sopClass: CT_IMAGE });
    const mr = makeInstances(dir, 1, { sopClass: MR_IMAGE, first: 10 });
    const r = await storeFiles([ct[0]!, mr[0]!, ct[1]!], peer.dest, fast);
    assert.deepEqual(r.results.map((x) => x.outcome), ['success', 'failure', 'success']);
    assert.match(r.results[1]!.error!, /did not accept MR Image Storage \(1\.2\.840\.10008\.5\.1\.4\.1\.1\.4\): abstract syntax not supported/);
    assert.equal(r.attempts, 1, 'not retried');
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('more classes than maxPresentationContexts: the job is split over several associations (ASSOC-031)', async () => {
  const dir = tmp();
  const peer = await acceptor();
  try {
    const files = [
      ...makeInstances(dir, 2, { sopClass: CT_IMAGE }),
      ...makeInstances(dir, 2, { sopClass: MR_IMAGE, first: 10 }),
      ...makeInstances(dir, 2, { sopClass: NM_IMAGE, first: 20 }),
      ...makeInstances(dir, 1, { sopClass: SC_IMAGE, first: 30 }),
    ];
    const r = await storeFiles(files, peer.dest, { ...fast, proposal: { maxPresentationContexts: 3 } });
    assert.equal(r.sent, 7);
    assert.equal(r.associations, 2);
    assert.deepEqual(peer.contextsProposed, [3, 1]);
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('planning: onePcPerTs groups uncompressed syntaxes behind the file\'s own; singlePcAllTs one per class; exclusions', () => {
  const item = (index: number, sop: string, ts: string): StoreItem => ({ index, path: `f${index}`, sopClassUID: sop, sopInstanceUID: `1.${index}`, transferSyntaxUID: ts, datasetOffset: 0, datasetBytes: 10 });
  const items = [item(0, CT_IMAGE, TS.ImplicitVRLittleEndian), item(1, CT_IMAGE, TS.MPEG2MPML), item(2, CT_IMAGE, TS.ImplicitVRLittleEndian), item(3, MR_IMAGE, TS.ExplicitVRLittleEndian)];
  const base = { pcLayout: 'onePcPerTs', pcStrategy: 'jobClasses', maxPresentationContexts: 128, disableExplicitVr: false } as const;
  const a = planAssociations(items, base);
  assert.deepEqual(a.plans[0]!.contexts.map((c) => [c.abstractSyntax, c.transferSyntaxes]), [
    [CT_IMAGE, [TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.ExplicitVRBigEndian]],
    [CT_IMAGE, [TS.MPEG2MPML]],
    [MR_IMAGE, [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian]],
  ]);
  const b = planAssociations(items, { ...base, pcLayout: 'singlePcAllTs' });
  assert.deepEqual(b.plans[0]!.contexts.map((c) => [c.abstractSyntax, c.transferSyntaxes]), [
    [CT_IMAGE, [TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.ExplicitVRBigEndian, TS.MPEG2MPML]],
    [MR_IMAGE, [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian]],
  ]);
  // GEMINI: explicit VR disabled: the file Tracer cannot decode (MPEG-2) has no syntax left.
  const c = planAssociations(items, { ...base, disableExplicitVr: true });
  assert.deepEqual(c.unsendable.map((u) => u.item.index), [1]);
  assert.match(c.unsendable[0]!.reason, /explicit VR syntaxes are disabled.*cannot decode/);
  assert.deepEqual(c.plans[0]!.contexts.map((x) => x.transferSyntaxes), [[TS.ImplicitVRLittleEndian], [TS.ImplicitVRLittleEndian]]);
  // Ordered preference list (SEND-020), split at 1 context per association.
  const d = planAssociations(items, { ...base, storeTransferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian], maxPresentationContexts: 1 });
  assert.equal(d.plans.length, 2);
  assert.deepEqual(d.plans[0]!.contexts[0]!.transferSyntaxes, [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian]);
  assert.deepEqual(d.plans[0]!.items.map((x) => x.index), [0, 2]);
  // A file in a syntax Tracer decodes may be decompressed: its own syntax first, then ELE, ILE, EBE;
  // compressed syntaxes only when the node lists them, lossy ones only when it allows lossy.
  assert.deepEqual(candidateSyntaxes(TS.JPEGLosslessSV1, base), [TS.JPEGLosslessSV1, TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian]);
  assert.deepEqual(candidateSyntaxes(TS.ExplicitVRLittleEndian, { ...base, storeTransferSyntaxes: [TS.JPEGBaseline8Bit, TS.JPEGLSLossless, TS.ExplicitVRLittleEndian] }), [TS.JPEGLSLossless, TS.ExplicitVRLittleEndian]);
  assert.deepEqual(candidateSyntaxes(TS.ExplicitVRLittleEndian, { ...base, allowLossy: true, storeTransferSyntaxes: [TS.JPEGBaseline8Bit, TS.JPEGLSLossless, TS.ExplicitVRLittleEndian] }), [TS.JPEGBaseline8Bit, TS.JPEGLSLossless, TS.ExplicitVRLittleEndian]);
  // allConfigured adds the configured classes in the room left.
  const e = planAssociations(items.slice(0, 1), { ...base, pcStrategy: 'allConfigured', configuredSopClasses: [NM_IMAGE, CT_IMAGE] });
  assert.deepEqual(e.plans[0]!.contexts.map((x) => x.abstractSyntax), [CT_IMAGE, NM_IMAGE]);
});

test('the peer is down, then comes back: the job is retried and completes (SEND-040)', async () => {
  const dir = tmp();
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  let peer: Awaited<ReturnType<typeof acceptor>> | undefined;
  try {
    const files = makeInstances(dir, 3);
    const later = setTimeout(() => void acceptor({ port }).then((p) => (peer = p)), 300);
    const retries: string[] = [];
    const r = await storeFiles(files, { host: '127.0.0.1', port, aeTitle: 'ANY-SCP' }, { ...fast, retry: { count: 20, intervalSeconds: 0.1 } }, (p) => p.kind === 'retry' && retries.push(p.reason));
    clearTimeout(later);
    assert.equal(r.state, 'COMPLETED');
    assert.ok(r.attempts > 1);
    assert.match(retries[0]!, /cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    // No peer and no retries: a clear failure per file.
    const r2 = await storeFiles(files, { host: '127.0.0.1', port: 1, aeTitle: 'X' }, fast);
    assert.equal(r2.failed, 3);
    assert.match(r2.results[0]!.error!, /cannot connect to 127\.0\.0\.1:1.*gave up after 1 attempt$/);
  } finally {
    await peer?.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rejections: rejected-permanent is not retried, rejected-transient is', async () => {
  const dir = tmp();
  const permanent = await acceptor({ reject: { result: 1, source: 1, reason: 7 } });
  const transient = await acceptor({ reject: { result: 2, source: 3, reason: 2 } });
  try {
    const files = makeInstances(dir, 2);
    const opts = { ...fast, retry: { count: 2, intervalSeconds: 0.01 } };
    const r = await storeFiles(files, permanent.dest, opts);
    assert.equal(r.failed, 2);
    assert.equal(r.attempts, 1);
    assert.match(r.results[0]!.error!, /rejected-permanent.*called-AE-title-not-recognized/);
    assert.equal(permanent.associations(), 1);
    const t = await storeFiles(files, transient.dest, opts);
    assert.equal(t.failed, 2);
    assert.equal(t.attempts, 3);
    assert.match(t.results[1]!.error!, /rejected-transient.*local-limit-exceeded; gave up after 3 attempts/);
    assert.equal(transient.associations(), 3);
  } finally {
    await permanent.server.close();
    await transient.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the peer aborts in the middle: the rest continues on a new association, the lost one is resent', async () => {
  const dir = tmp();
  const peer = await acceptor({ abortOn: (uid, n) => uid === instanceUid(3) && n === 1 });
  try {
    const files = makeInstances(dir, 6);
    const r = await storeFiles(files, peer.dest, { ...fast, retry: { count: 1, intervalSeconds: 0.01 } });
    assert.equal(r.state, 'COMPLETED');
    assert.equal(r.sent, 6);
    assert.equal(peer.seen.get(instanceUid(3)), 2);
    assert.equal(peer.seen.get(instanceUid(4)), 1);
    assert.ok(peer.associations() >= 2);
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scanFile: UIDs, data set offset and size from the first 16 KiB, or from the file beyond them; scan after scan', () => {
  const dir = tmp();
  try {
    const file = (name: string, before: Buffer, sop: string, pixels: number): { path: string; ds: Buffer; meta: Buffer } => {
      const ds = Buffer.concat([before, explicitLE(0x0008, 0x0016, 'UI', text(CT_IMAGE, '\0')), explicitLE(0x0008, 0x0018, 'UI', text(sop, '\0')), explicitLE(0x7fe0, 0x0010, 'OB', Buffer.alloc(pixels, 7))]);
      const meta = encodeFileMeta({ sopClassUid: CT_IMAGE, sopInstanceUid: sop, transferSyntaxUid: TS.ExplicitVRLittleEndian, implementationClassUid: '1.2.3.4' });
      const path = join(dir, name);
      writeFileSync(path, Buffer.concat([meta, ds]));
      return { path, ds, meta };
    };
    // 45 KB of Image Type before the UIDs: they lie beyond the first 16 KiB read.
    const imageType = explicitLE(0x0008, 0x0008, 'CS', text(Array.from({ length: 5000 }, (_, i) => `V${String(i).padStart(7, '0')}`).join('\\')));
    const big = file('big.dcm', imageType, '1.2.826.0.1.3680043.9.7.302.1', 100_000);
    const small = file('small.dcm', Buffer.alloc(0), '1.2.826.0.1.3680043.9.7.302.2', 100);
    for (const f of [big, small, big]) {
      const item = scanFile(f.path, 3);
      assert.equal(typeof item, 'object', String(item));
      const it = item as StoreItem;
      assert.equal(it.sopInstanceUID, f === big ? '1.2.826.0.1.3680043.9.7.302.1' : '1.2.826.0.1.3680043.9.7.302.2');
      assert.equal(it.sopClassUID, CT_IMAGE);
      assert.equal(it.transferSyntaxUID, TS.ExplicitVRLittleEndian);
      assert.equal(it.datasetOffset, f.meta.length);
      assert.equal(it.datasetBytes, f.ds.length);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files that are not DICOM, or vanish, are reported per file; the job goes on', async () => {
  const dir = tmp();
  const peer = await acceptor();
  try {
    const files = makeInstances(dir, 2);
    writeFileSync(join(dir, 'notes.txt'), 'this is not DICOM at all\n');
    const r = await storeFiles([files[0]!, join(dir, 'notes.txt'), join(dir, 'missing.dcm'), files[1]!], peer.dest, fast);
    assert.deepEqual(r.results.map((x) => x.outcome), ['success', 'skipped', 'skipped', 'success']);
    assert.match(r.results[1]!.error!, /not a DICOM file/);
    assert.match(r.results[2]!.error!, /cannot read file \(ENOENT\)/);
    assert.equal(r.skipped, 2);
    assert.equal(r.state, 'COMPLETED');
  } finally {
    await peer.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('echo: success, rejection with its reason, unreachable peer (VER-004)', async () => {
  const server = new AssociationServer({ policy: { aeTitles: ['TRACER'], abstractSyntaxes: { '1.2.840.10008.1.1': true } }, handlers: { 'C-ECHO': () => 0 } });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    const ok = await echo({ host: '127.0.0.1', port, aeTitle: 'TRACER' }, { repeat: 3 });
    assert.equal(ok.ok, true);
    assert.deepEqual(ok.statuses, [0, 0, 0]);
    assert.equal(ok.transferSyntax, TS.ExplicitVRLittleEndian, 'ELE proposed first (VER-002)');
    const bad = await echo({ host: '127.0.0.1', port, aeTitle: 'NOBODY' });
    assert.equal(bad.ok, false);
    assert.equal(bad.failure?.kind, 'rejected');
    assert.match(bad.error!, /rejected-permanent.*called-AE-title-not-recognized/);
    const down = await echo({ host: '127.0.0.1', port: 1, aeTitle: 'X' });
    assert.equal(down.ok, false);
    assert.equal(down.failure?.kind, 'connect');
  } finally {
    await server.close();
  }
});
