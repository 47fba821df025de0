/**
 * Storage SCP (REQUIREMENTS 5) through a running node and Tracer's requestor: files in the
 * layout of 2.3 with correct File Meta (PS3.10 7.1) and the data set bytes as sent; the status
 * codes of 5.7 (A700 low disk and disk full, A900 command/data-set mismatch, C000 unparseable,
 * 0122, B007, eNTEGRA private codes); aborted transfers leave nothing; stale partial files go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { CStoreRq, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, VERIFICATION_SOP_CLASS, IMPLICIT_VR_LITTLE_ENDIAN } from '../../src/net/index.js';
import { fsyncDir, nodeIo, type FileStoreIo } from '../../src/archive/file-store.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../../src/dicom/implementation.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import { CT, NM, SERIES, STUDY, connect, datasetOffset, makeDataset, metaOf, startTestNode, until, type TestNode } from '../helpers/node.js';
import { explicitLE, text } from '../helpers/build.js';
import type { TracerConfig } from '../../src/node/config.js';

const SOP = '1.2.826.0.1.3680043.9.7.100.1.1';

async function store(node: TestNode, dataset: Buffer | AsyncIterable<Buffer>, cmd: { sopClass?: string; sopInstance?: string; pcId?: number } = {}, contexts?: Parameters<typeof connect>[1]) {
  const a = await connect(node.port, contexts);
  try {
    const rsp = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: cmd.sopClass ?? CT, AffectedSOPInstanceUID: cmd.sopInstance ?? SOP }), { dataset, presentationContextId: cmd.pcId });
    return rsp;
  } finally {
    await a.release();
  }
}

function warnings(node: TestNode): Record<string, unknown>[] {
  return node.logs.filter((l) => l.level === 'warn');
}

test('C-STORE: Part 10 file at <root>/<Study>/<Series>/<SOP>.dcm, meta from the command and the AE, data set bytes as sent', async () => {
  const node = await startTestNode();
  try {
    const ds = makeDataset({ sopInstance: SOP }, 100_000);
    const rsp = await store(node, ds);
    assert.equal(rsp.Status, 0);
    assert.equal(rsp.AffectedSOPInstanceUID, SOP);
    assert.deepEqual(await node.files(), [`${STUDY}/${SERIES}/${SOP}.dcm`]);
    const file = await readFile(join(node.root, STUDY, SERIES, `${SOP}.dcm`));
    assert.equal(file.subarray(0, 128).every((b) => b === 0), true, 'zero preamble');
    assert.deepEqual(file.subarray(datasetOffset(file)), ds);
    const meta = metaOf(file);
    assert.equal(meta['0002,0001'], '\0\x01');
    assert.equal(meta['0002,0002'], CT);
    assert.equal(meta['0002,0003'], SOP);
    assert.equal(meta['0002,0010'], EXPLICIT_VR_LITTLE_ENDIAN);
    assert.equal(meta['0002,0012'], IMPLEMENTATION_CLASS_UID);
    assert.equal(meta['0002,0013'], IMPLEMENTATION_VERSION_NAME);
    assert.equal(meta['0002,0016'], 'TESTSCU');
    // group length (0002,0000) covers the rest of the meta
    assert.equal(file.readUInt32LE(132 + 8), datasetOffset(file) - (132 + 12));
    const back = readDicomFile(join(node.root, STUDY, SERIES, `${SOP}.dcm`));
    assert.equal(back.dataset.string('SOPInstanceUID'), SOP);
    back.source.close();
    const stored = node.logs.find((l) => l.msg === 'stored')!;
    assert.equal(stored.sopInstanceUid, SOP);
    assert.equal(stored.bytes, ds.length);
    assert.equal(typeof stored.ms, 'number');
    assert.ok(node.logs.some((l) => l.msg === 'association accepted' && l.calling === 'TESTSCU' && l.called === 'TRACER'));
  } finally {
    await node.stop();
  }
});

test('a header longer than the first bytes the store keeps in memory (16 KiB): the rest is read from the file', async () => {
  const node = await startTestNode();
  try {
    // Image Type (0008,0008) with 40 KB of values comes before the SOP Instance UID and the
    // Study and Series UIDs, so that those lie beyond the bytes kept as they were written.
    const imageType = explicitLE(0x0008, 0x0008, 'CS', text(Array.from({ length: 5000 }, (_, i) => `V${String(i).padStart(7, '0')}`).join('\\')));
    const ds = Buffer.concat([imageType, makeDataset({ sopInstance: SOP }, 300_000)]);
    assert.ok(imageType.length > 40_000);
    const rsp = await store(node, ds);
    assert.equal(rsp.Status, 0, String(rsp.ErrorComment));
    assert.deepEqual(await node.files(), [`${STUDY}/${SERIES}/${SOP}.dcm`]);
    const file = await readFile(join(node.root, STUDY, SERIES, `${SOP}.dcm`));
    assert.deepEqual(file.subarray(datasetOffset(file)), ds);
  } finally {
    await node.stop();
  }
});

test('C-ECHO on the node answers Success (VER-001)', async () => {
  const node = await startTestNode();
  try {
    const a = await connect(node.port, [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [IMPLICIT_VR_LITTLE_ENDIAN] }]);
    assert.equal(await a.echo(), 0);
    await a.release();
    await until(() => node.logs.some((l) => l.msg === 'association released'), 2000, 'release logged');
  } finally {
    await node.stop();
  }
});

test('duplicate SOP Instance UID (STOR-040): ignore keeps the first (0000), overwrite replaces it, reject answers 0111; per calling node', async () => {
  const first = makeDataset({ sopInstance: SOP }, 10);
  const second = makeDataset({ sopInstance: SOP }, 20);
  const content = async (node: TestNode) => {
    const file = await readFile(join(node.root, STUDY, SERIES, `${SOP}.dcm`));
    return file.subarray(datasetOffset(file));
  };
  const ignore = await startTestNode();
  try {
    assert.equal((await store(ignore, first)).Status, 0);
    assert.equal((await store(ignore, second)).Status, 0);
    assert.deepEqual(await ignore.files(), [`${STUDY}/${SERIES}/${SOP}.dcm`]);
    assert.deepEqual(await content(ignore), first);
    assert.ok(ignore.logs.some((l) => l.msg === 'duplicate ignored: the stored instance is kept'));
  } finally {
    await ignore.stop();
  }
  const overwrite = await startTestNode((c) => (c.storage.duplicatePolicy = 'overwrite'));
  try {
    assert.equal((await store(overwrite, first)).Status, 0);
    assert.equal((await store(overwrite, second)).Status, 0);
    assert.deepEqual(await overwrite.files(), [`${STUDY}/${SERIES}/${SOP}.dcm`]);
    assert.deepEqual(await content(overwrite), second);
    assert.ok(overwrite.logs.some((l) => l.msg === 'stored' && l.replaced === true));
    assert.equal((await overwrite.archive.index.counts()).instances, 1);
  } finally {
    await overwrite.stop();
  }
  // reject, except for a node whose own policy is overwrite
  const reject = await startTestNode((c) => {
    c.storage.duplicatePolicy = 'reject';
    c.nodes = [{ name: 'mod', aeTitle: 'MODALITY', host: '127.0.0.1', port: 104, duplicatePolicy: 'overwrite' } as TracerConfig['nodes'][number]];
  });
  try {
    assert.equal((await store(reject, first)).Status, 0);
    const r = await store(reject, second);
    assert.equal(r.Status, 0x0111);
    assert.deepEqual(await content(reject), first);
    const a = await connect(reject.port, undefined, { callingAETitle: 'MODALITY' });
    assert.equal((await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: SOP }), { dataset: second })).Status, 0);
    await a.release();
    assert.deepEqual(await content(reject), second);
  } finally {
    await reject.stop();
  }
});

test('A900: SOP Instance UID of the data set differs from the command (STOR-021); logged with calling AE, UID and reason', async () => {
  const node = await startTestNode();
  try {
    const rsp = await store(node, makeDataset({ sopInstance: '1.2.3.999' }), { sopInstance: SOP });
    assert.equal(rsp.Status, 0xa900);
    assert.match(rsp.ErrorComment ?? '', /SOP Instance UID/);
    assert.deepEqual(rsp.OffendingElement, [0x00080018]);
    assert.deepEqual(await node.files(), []);
    const w = warnings(node).find((l) => l.msg === 'C-STORE failed')!;
    assert.equal(w.calling, 'TESTSCU');
    assert.equal(w.sopInstanceUid, SOP);
    assert.match(String(w.status), /A900/);
    assert.match(String(w.reason), /1\.2\.3\.999/);
  } finally {
    await node.stop();
  }
});

test('B007 and stored when storage.validationFailure = warn', async () => {
  const node = await startTestNode((c) => (c.storage.validationFailure = 'warn'));
  try {
    const rsp = await store(node, makeDataset({ sopInstance: '1.2.3.998' }), { sopInstance: SOP });
    assert.equal(rsp.Status, 0xb007);
    assert.deepEqual(await node.files(), [`${STUDY}/${SERIES}/1.2.3.998.dcm`]);
    assert.ok(warnings(node).some((l) => l.msg === 'stored with a warning'));
  } finally {
    await node.stop();
  }
});

test('C000: an unparseable data set and a missing Study Instance UID; A730 instead with eNTEGRA codes', async () => {
  const node = await startTestNode();
  try {
    const garbage = Buffer.concat([Buffer.from([0x08, 0x00, 0x16, 0x00, 0x55, 0x49, 0xff, 0x7f]), Buffer.alloc(40, 0x41)]);
    const r1 = await store(node, garbage);
    assert.equal(r1.Status, 0xc000);
    assert.match(r1.ErrorComment ?? '', /cannot be parsed/);
    const r2 = await store(node, makeDataset({ sopInstance: SOP }, 8, [0x0020000d]));
    assert.equal(r2.Status, 0xc000);
    assert.match(r2.ErrorComment ?? '', /Study Instance UID/);
    // UIDs become path components: anything but digits and dots is refused
    const r3 = await store(node, makeDataset({ sopInstance: SOP, series: '../../etc' }));
    assert.equal(r3.Status, 0xc000);
    assert.deepEqual(await node.files(), []);
    assert.equal(warnings(node).filter((l) => l.msg === 'C-STORE failed').length, 3);
  } finally {
    await node.stop();
  }
  const entegra = await startTestNode((c) => (c.storage.privateStatusCodes = 'entegra'));
  try {
    const r = await store(entegra, Buffer.alloc(30, 0x41));
    assert.equal(r.Status, 0xa730);
  } finally {
    await entegra.stop();
  }
});

test('0122: C-STORE of a SOP class on a presentation context negotiated for another', async () => {
  const node = await startTestNode();
  try {
    const a = await connect(node.port);
    const pcId = [...a.negotiated!.contexts.keys()][0]!;
    const rsp = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: NM, AffectedSOPInstanceUID: SOP }), { dataset: makeDataset({ sopClass: NM, sopInstance: SOP }), presentationContextId: pcId });
    assert.equal(rsp.Status, 0x0122);
    await a.release();
    assert.deepEqual(await node.files(), []);
  } finally {
    await node.stop();
  }
});

test('A700: free disk below storage.minFreeDiskMb refuses before reading; the association goes on', async () => {
  const node = await startTestNode((c) => (c.storage.minFreeDiskMb = 1e12));
  try {
    const a = await connect(node.port);
    const r = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: SOP }), { dataset: makeDataset({ sopInstance: SOP }, 200_000) });
    assert.equal(r.Status, 0xa700);
    assert.match(r.ErrorComment ?? '', /minFreeDiskMb/);
    const r2 = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: SOP }), { dataset: makeDataset({ sopInstance: SOP }) });
    assert.equal(r2.Status, 0xa700);
    await a.release();
    assert.deepEqual(await node.files(), []);
  } finally {
    await node.stop();
  }
});

test('A700: ENOSPC while writing (injected file layer): status A700, no partial file left', async () => {
  // The disk fills up after 1 MB, whatever the store's write batching.
  let written = 0;
  const io: FileStoreIo = {
    ...nodeIo,
    writev: (fd, bufs) => {
      written += bufs.reduce((n, b) => n + b.byteLength, 0);
      if (written > 1_000_000) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
      return nodeIo.writev(fd, bufs);
    },
  };
  const node = await startTestNode(() => undefined, { io });
  try {
    const rsp = await store(node, makeDataset({ sopInstance: SOP }, 2_000_000));
    assert.equal(rsp.Status, 0xa700);
    assert.match(rsp.ErrorComment ?? '', /ENOSPC/);
    assert.deepEqual(await node.files(), []);
  } finally {
    await node.stop();
  }
});

test('A700: the directory fsync after the rename fails (EIO, injected): no file, no index row', async () => {
  // The row is written while the directory's fsync runs (src/archive/ingest.ts place()): a
  // failing fsync must take both back before the response.
  const io: FileStoreIo = {
    ...nodeIo,
    syncDir: async (dir) => {
      if (dir.endsWith(SERIES)) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5 });
      await fsyncDir(dir);
    },
  };
  const node = await startTestNode(() => undefined, { io });
  try {
    const rsp = await store(node, makeDataset({ sopInstance: SOP }, 10_000));
    assert.equal(rsp.Status, 0xa700);
    assert.match(rsp.ErrorComment ?? '', /EIO/);
    assert.deepEqual(await node.files(), []);
    assert.deepEqual(await node.archive.index.instancesBySop(SOP), []);
    assert.deepEqual(await node.archive.index.pendingDeletions(), []);
  } finally {
    await node.stop();
  }
});

test('store.fsync: every stored file, its directory and new directories\' parents are fsynced before success; false skips all', async () => {
  for (const fsync of [true, false]) {
    let fileSyncs = 0;
    /** Directories (relative to the root) whose fsync finished, in order, and when the file was renamed. */
    const dirSyncs: string[] = [];
    let node: TestNode | undefined;
    const io: FileStoreIo = {
      ...nodeIo,
      fsync: (fd) => (fileSyncs++, nodeIo.fsync(fd)),
      syncDir: async (dir) => {
        const rel = relative(node!.root, dir) || '.';
        // The parents' syncs made slow: the rename must still wait for them.
        if (rel !== `${STUDY}/${SERIES}`) await new Promise((r) => setTimeout(r, 50));
        await fsyncDir(dir);
        // Whether the file was in place before this sync finished: only after the series directory's.
        const renamed = existsSync(join(node!.root, STUDY, SERIES, `${SOP}.dcm`));
        dirSyncs.push(`${rel}${renamed ? ' (after the rename)' : ''}`);
      },
    };
    node = await startTestNode((c) => (c.store.fsync = fsync), { io });
    try {
      const rsp = await store(node, makeDataset({ sopInstance: SOP }, 1000));
      assert.equal(rsp.Status, 0);
      assert.deepEqual(await node.files(), [`${STUDY}/${SERIES}/${SOP}.dcm`]);
      assert.equal(fileSyncs, fsync ? 1 : 0);
      // The new study and series directories' entries are durable (their parents synced) before
      // the file is renamed into them; the series directory is synced after the rename.
      assert.deepEqual(dirSyncs.slice().sort(), fsync ? ['.', STUDY, `${STUDY}/${SERIES} (after the rename)`] : []);
      if (fsync) assert.equal(dirSyncs[2], `${STUDY}/${SERIES} (after the rename)`);
    } finally {
      await node.stop();
    }
  }
});

test('A700: a real full disk (1 MiB tmpfs; needs root), then storing works again', async (t) => {
  const mnt = await mkdtemp(join(tmpdir(), 'tracer-tmpfs-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  if (m.status !== 0) {
    await rm(mnt, { recursive: true, force: true });
    t.skip('cannot mount a tmpfs here (not root); the injected-ENOSPC test covers the code path');
    return;
  }
  let node: TestNode | undefined;
  try {
    node = await startTestNode(() => undefined, { root: mnt });
    const big = await store(node, makeDataset({ sopInstance: SOP }, 3_000_000));
    assert.equal(big.Status, 0xa700);
    assert.match(big.ErrorComment ?? '', /ENOSPC/);
    assert.deepEqual(await node.files(), []);
    const small = await store(node, makeDataset({ sopInstance: SOP }, 1000));
    assert.equal(small.Status, 0);
    assert.deepEqual(await node.files(), [`${STUDY}/${SERIES}/${SOP}.dcm`]);
  } finally {
    await node?.stop();
    spawnSync('umount', [mnt]);
    await rm(mnt, { recursive: true, force: true });
  }
});

test('association aborted in the middle of a C-STORE: no file, no partial file, one log line', async () => {
  const node = await startTestNode();
  try {
    const a = await connect(node.port);
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const full = makeDataset({ sopInstance: SOP }, 4_000_000);
    async function* slow(): AsyncGenerator<Buffer> {
      yield full.subarray(0, 1_000_000);
      await hold;
      yield full.subarray(1_000_000);
    }
    const op = a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: SOP }), { dataset: slow() });
    await until(async () => (await node.files()).some((f) => f.startsWith('.incoming/')), 5000, 'a partial file');
    await a.abort();
    release();
    await assert.rejects(Promise.resolve(op), /abort/i);
    await until(() => node.logs.some((l) => String(l.msg).startsWith('C-STORE abandoned')), 5000, 'the log line');
    assert.deepEqual(await node.files(), []);
    const line = node.logs.find((l) => String(l.msg).startsWith('C-STORE abandoned'))!;
    assert.equal(line.sopInstanceUid, SOP);
    assert.equal(line.calling, 'TESTSCU');
  } finally {
    await node.stop();
  }
});

test('startup removes partial files left by an earlier run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tracer-stale-'));
  try {
    await mkdir(join(dir, '.incoming'), { recursive: true });
    await writeFile(join(dir, '.incoming', 'old.part'), 'partial');
    const node = await startTestNode(() => undefined, { root: dir });
    try {
      assert.deepEqual(await node.files(), []);
      assert.ok(node.logs.some((l) => l.msg === 'removed partial files of an earlier run' && l.count === 1));
    } finally {
      await node.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Deflated Explicit VR Little Endian: stored deflated as received, header parsed through a streaming inflate', async () => {
  const node = await startTestNode();
  try {
    const plain = makeDataset({ sopInstance: SOP }, 50_000);
    const deflated = deflateRawSync(plain);
    const rsp = await store(node, deflated, {}, [{ abstractSyntax: CT, transferSyntaxes: [DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN] }]);
    assert.equal(rsp.Status, 0);
    const file = await readFile(join(node.root, STUDY, SERIES, `${SOP}.dcm`));
    assert.equal(metaOf(file)['0002,0010'], DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN);
    assert.deepEqual(file.subarray(datasetOffset(file)), deflated);
    // a corrupt deflate stream is C000
    const bad = Buffer.from(deflated);
    bad.fill(0xff, 10, 40);
    const r2 = await store(node, bad, {}, [{ abstractSyntax: CT, transferSyntaxes: [DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN] }]);
    assert.equal(r2.Status, 0xc000);
  } finally {
    await node.stop();
  }
});
