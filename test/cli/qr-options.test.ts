/**
 * The Q/R SCU options of REQUIREMENTS 8.5 and 8.7 through `tracer find` and `tracer move`, against
 * Tracer nodes holding studies imported from files: appended wildcards (QR-022), a key with a
 * value required, also per node (QR-023), relational queries negotiated (QR-032), and the
 * C-MOVE sent to the node named by the Retrieve AE Title of the matches (QR-052), which moves
 * the study to a third node. A scripted peer answers what a Tracer node never does: duplicate
 * responses (QR-028) and a Retrieve AE Title naming another node.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AssociationServer, Status } from '../../src/net/index.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { ExplicitLittle, readDataset } from '../../src/dicom/read.js';
import { BufferSource } from '../../src/dicom/source.js';
import { encodeDatasetToBuffer } from '../../src/dicom/write.js';
import type { JsonDataset } from '../../src/dicom/json.js';
import { adHocNode } from '../../src/node/config.js';
import { QR_SOP_CLASSES } from '../../src/services/query-scu.js';
import { ctFile } from '../helpers/instances.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { tracer } from '../helpers/storescp.js';

const ROOT = '1.2.826.0.1.3680043.9.7.340';
const STUDY1 = `${ROOT}.1`, STUDY2 = `${ROOT}.2`;
const STUDY1_SOPS = [`${ROOT}.1.1.1`, `${ROOT}.1.1.2`];

let dest: TestNode;
let arch: TestNode;
let peer: AssociationServer;
let peerPort = 0;
const peerCalls = { find: 0, move: [] as string[][] };

before(async () => {
  dest = await startTestNode((c) => (c.localAEs[0]!.aeTitle = 'DEST'));
  arch = await startTestNode((c) => {
    c.localAEs[0]!.aeTitle = 'ARCH';
    // The command line calls as TRACER from 127.0.0.1 (acl.queryRetrieve: known nodes only); DEST is a move destination.
    c.nodes = [adHocNode({ name: 'scu', aeTitle: 'TRACER', host: '127.0.0.1', port: 1 }), adHocNode({ name: 'dest', aeTitle: 'DEST', host: '127.0.0.1', port: dest.port })];
  });
  const files: [string, Buffer][] = [
    ['1.dcm', ctFile({ study: STUDY1, series: `${ROOT}.1.1`, sop: STUDY1_SOPS[0]!, patientName: 'Doe^Jane', patientId: 'P1', studyDescription: 'Brain' })],
    ['2.dcm', ctFile({ study: STUDY1, series: `${ROOT}.1.1`, sop: STUDY1_SOPS[1]!, patientName: 'Doe^Jane', patientId: 'P1', studyDescription: 'Brain' })],
    ['3.dcm', ctFile({ study: STUDY2, series: `${ROOT}.2.1`, sop: `${ROOT}.2.1.1`, patientName: 'Smith^John', patientId: 'P2', studyDescription: 'Heart' })],
  ];
  for (const [name, bytes] of files) {
    await writeFile(join(arch.dir, name), bytes);
    assert.equal((await arch.archive.importFile(join(arch.dir, name))).outcome, 'stored');
  }
  // The scripted peer QUERY: two responses for one study (QR-028), Retrieve AE Title ARCH (QR-052).
  const qr = QR_SOP_CLASSES.study;
  peer = new AssociationServer({
    policy: { abstractSyntaxes: { [qr.find]: true, [qr.move]: true } },
    handlers: {
      'C-FIND': async function* () {
        peerCalls.find++;
        for (const description of ['first', 'second']) {
          const ds = new Dataset(true);
          ds.setString(0x00080052, 'CS', 'STUDY');
          ds.setString(0x00080054, 'AE', 'ARCH');
          ds.setString(0x00081030, 'LO', description);
          ds.setString(0x00100010, 'PN', 'Doe^Jane');
          ds.setString(0x0020000d, 'UI', STUDY1);
          yield { Status: Status.Pending, dataset: encodeDatasetToBuffer(ds, ExplicitLittle) };
        }
      },
      'C-MOVE': async function* (_rq, ctx) {
        const bytes = await ctx.dataset!.toBuffer(1 << 20);
        peerCalls.move.push(readDataset(new BufferSource(bytes), 0, bytes.length, ExplicitLittle).strings(0x0020000d));
        yield { Status: 0, NumberOfCompletedSuboperations: 0, NumberOfFailedSuboperations: 0, NumberOfWarningSuboperations: 0 };
      },
    },
  });
  peerPort = (await peer.listen(0, '127.0.0.1')).port;
});

after(async () => {
  await peer?.close();
  await arch?.stop();
  await dest?.stop();
});

const archPeer = () => ['--aec', 'ARCH', '127.0.0.1', String(arch.port)];

/** A configuration file with `arch` (and QUERY) registered, and these extra YAML lines. */
async function config(name: string, extra = '', archOptions = ''): Promise<string> {
  const file = join(arch.dir, `${name}.yaml`);
  await writeFile(file, [
    'nodes:',
    '  - name: arch',
    '    aeTitle: ARCH',
    '    host: 127.0.0.1',
    `    port: ${arch.port}`,
    ...(archOptions ? [`    ${archOptions}`] : []),
    '  - name: query',
    '    aeTitle: QUERY',
    '    host: 127.0.0.1',
    `    port: ${peerPort}`,
    extra,
  ].join('\n'));
  return file;
}

async function studies(args: string[]): Promise<{ code: number; uids: string[]; stderr: string }> {
  const r = await tracer(['find', '--json', '--only-keys', '-k', 'StudyInstanceUID', ...args]);
  return { code: r.code, uids: r.code === 0 ? (JSON.parse(r.stdout) as JsonDataset[]).map((m) => String(m['0020000D']?.Value?.[0])).sort() : [], stderr: r.stderr };
}

const findsAtArch = () => arch.logs.filter((l) => l.msg === 'C-FIND' || l.msg === 'C-FIND failed').length;

test("QR-022: '*' appended to Patient's Name by default, to every text key with allStrings, to none with none", async () => {
  assert.deepEqual((await studies(['-k', 'PatientName=Do', ...archPeer()])).uids, [STUDY1]);
  assert.deepEqual((await studies(['--append-wildcard', 'none', '-k', 'PatientName=Do', ...archPeer()])).uids, []);
  const none = await config('wild-none', 'findScu:\n  appendWildcard: none');
  assert.deepEqual((await studies(['-c', none, '-k', 'PatientName=Do', 'arch'])).uids, []);
  assert.deepEqual((await studies(['-k', 'StudyDescription=Hea', ...archPeer()])).uids, [], "only Patient's Name by default");
  assert.deepEqual((await studies(['--append-wildcard', 'allStrings', '-k', 'StudyDescription=Hea', ...archPeer()])).uids, [STUDY2]);
  const bad = await tracer(['find', '--append-wildcard', 'always', '-k', 'PatientName=Do', ...archPeer()]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--append-wildcard: expected none, patientName, allStrings, got 'always'/);
});

test('QR-023: a query without a value to match is refused before it is sent, unless allowed; nodes[].forceFilter refuses it always', async () => {
  const before = findsAtArch();
  const refused = await studies([...archPeer()]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /no key has a value to match: give -k KEY=VALUE, or --allow-empty/);
  assert.equal((await studies(['-k', 'PatientName=*', ...archPeer()])).code, 1, "'*' alone matches everything");
  assert.equal(findsAtArch(), before, 'no C-FIND reached the node');
  assert.deepEqual((await studies(['--allow-empty', ...archPeer()])).uids, [STUDY1, STUDY2]);
  const off = await config('allow', 'findScu:\n  requireNonEmptyKey: false');
  assert.deepEqual((await studies(['-c', off, 'arch'])).uids, [STUDY1, STUDY2]);
  const forced = await config('force', 'findScu:\n  requireNonEmptyKey: false', 'forceFilter: true');
  for (const extra of [[], ['--allow-empty']]) {
    const r = await studies(['-c', forced, ...extra, 'arch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /node 'arch' needs a key with a value \(nodes\[\]\.forceFilter\)/);
  }
  assert.deepEqual((await studies(['-c', forced, '-k', 'PatientID=P2', 'arch'])).uids, [STUDY2]);
});

test('QR-032: a series query by patient name needs relational queries; --relational or nodes[].relationalQuery negotiates them', async () => {
  const args = ['-L', 'SERIES', '-k', 'PatientName=Smith', '-k', 'SeriesInstanceUID'];
  const hierarchical = await tracer(['find', '--only-keys', ...args, ...archPeer()]);
  assert.equal(hierarchical.code, 1);
  assert.match(hierarchical.stderr, /A900/);
  const flag = await tracer(['find', '--json', '--only-keys', '--relational', ...args, ...archPeer()]);
  assert.equal(flag.code, 0, flag.stderr);
  assert.deepEqual((JSON.parse(flag.stdout) as JsonDataset[]).map((m) => m['0020000E']?.Value?.[0]), [`${ROOT}.2.1`]);
  const cfg = await config('relational', '', 'relationalQuery: true');
  const node = await tracer(['find', '--json', '--only-keys', '-c', cfg, ...args, 'arch']);
  assert.equal(node.code, 0, node.stderr);
  assert.equal((JSON.parse(node.stdout) as JsonDataset[]).length, 1);
});

test('QR-028: a second response for a study replaces the first (replace) or both are listed (keepAll)', async () => {
  const q = ['find', '--only-keys', '-k', 'PatientName=Doe', '-k', 'StudyInstanceUID', '-k', 'StudyDescription', '--aec', 'QUERY', '127.0.0.1', String(peerPort)];
  const replaced = await tracer(q);
  assert.equal(replaced.code, 0, replaced.stderr);
  const rows = (out: string) => out.trimEnd().split('\n').slice(2);
  assert.equal(rows(replaced.stdout).length, 1);
  assert.match(rows(replaced.stdout)[0]!, /second/);
  assert.match(replaced.stderr, /1 match\(es\) from QUERY@.*; 1 duplicate response\(s\) replaced earlier ones/);
  const kept = await tracer([...q, '--duplicates', 'keepAll']);
  assert.deepEqual(rows(kept.stdout).map((r) => /first|second/.exec(r)?.[0]), ['first', 'second']);
  assert.match(kept.stderr, /2 match\(es\) .*; 1 duplicate response\(s\) kept/);
  const bad = await tracer([...q, '--duplicates', 'some']);
  assert.match(bad.stderr, /--duplicates: expected replace or keepAll/);
});

test('QR-052: the C-MOVE goes to the registered node named by the Retrieve AE Title of the matches; --target queriedNode sends it to the peer queried', async () => {
  const cfg = await config('move');
  const finds = peerCalls.find;
  const r = await tracer(['move', '-c', cfg, '--dest', 'DEST', '--retries', '0', '--no-progress', '-k', `StudyInstanceUID=${STUDY1}`, 'query']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(peerCalls.find, finds + 1, 'QUERY was asked for the Retrieve AE Title');
  assert.deepEqual(peerCalls.move, [], 'QUERY got no C-MOVE');
  assert.match(r.stderr, /1 match\(es\) have Retrieve AE Title ARCH: C-MOVE sent to ARCH@127\.0\.0\.1:\d+ \(arch\)/);
  assert.match(r.stdout, /C-MOVE from ARCH@127\.0\.0\.1:\d+ \(arch\): Fetch Completed \(0000\): 2 completed, 0 warning, 0 failed to DEST/);
  const got = await dest.archive.index.selectInstances({ level: 'STUDY', studyInstanceUids: [STUDY1] });
  assert.deepEqual(got.map((i) => i.sopInstanceUid).sort(), STUDY1_SOPS);

  const direct = await tracer(['move', '-c', cfg, '--target', 'queriedNode', '--dest', 'DEST', '--retries', '0', '-k', `StudyInstanceUID=${STUDY1}`, 'query']);
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(peerCalls.find, finds + 1, 'no C-FIND with queriedNode');
  assert.deepEqual(peerCalls.move, [[STUDY1]]);
  assert.match(direct.stdout, /C-MOVE from QUERY@127\.0\.0\.1:\d+ \(query\)/);
  const byConfig = await config('move-queried', 'moveScu:\n  target: queriedNode');
  assert.equal((await tracer(['move', '-c', byConfig, '--dest', 'DEST', '--retries', '0', '-k', `StudyInstanceUID=${STUDY1}`, 'query'])).code, 0);
  assert.equal(peerCalls.move.length, 2);
  // No other node registered: nothing a Retrieve AE Title could name, no C-FIND first.
  const adHoc = await tracer(['move', '--dest', 'DEST', '--retries', '0', '-k', `StudyInstanceUID=${STUDY1}`, '--aec', 'QUERY', '127.0.0.1', String(peerPort)]);
  assert.equal(adHoc.code, 0, adHoc.stderr);
  assert.equal(peerCalls.find, finds + 1);
  assert.equal(peerCalls.move.length, 3);
  const bad = await tracer(['move', '--target', 'there', '--dest', 'DEST', '-k', `StudyInstanceUID=${STUDY1}`, '127.0.0.1', '104']);
  assert.match(bad.stderr, /--target: expected retrieveAeTitle or queriedNode/);
});
