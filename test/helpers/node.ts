/**
 * Helpers for tests of the running node: an in-process node on 127.0.0.1 and a free port with a
 * temporary data directory and a captured log, and data sets encoded by hand (PS3.5 7.1, via
 * build.ts) so that what the node stores is compared with bytes Tracer did not write.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { defaultConfig, type TracerConfig } from '../../src/node/config.js';
import { createLogger } from '../../src/node/log.js';
import { startNode, type NodeHandle, type StartNodeOptions } from '../../src/node/node.js';
import { Association, EXPLICIT_VR_LITTLE_ENDIAN, type ProposedContext, type RequestorOptions } from '../../src/net/index.js';
import { explicitLE, text } from './build.js';

export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const NM = '1.2.840.10008.5.1.4.1.1.20';

export interface TestNode extends NodeHandle {
  dir: string;
  root: string;
  config: TracerConfig;
  /** Log lines (JSON objects) written so far. */
  logs: Record<string, unknown>[];
  /** Files under the root, relative to it (the temporary directory included; the index's database not). */
  files(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startTestNode(patch: (c: TracerConfig) => void = () => undefined, opts: StartNodeOptions & { root?: string } = {}): Promise<TestNode> {
  const dir = await mkdtemp(join(tmpdir(), 'tracer-node-'));
  const config = defaultConfig();
  config.localAEs[0]!.port = 0;
  config.localAEs[0]!.host = '127.0.0.1';
  config.store.root = opts.root ?? join(dir, 'data');
  config.storage.minFreeDiskMb = 0;
  patch(config);
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  const node = await startNode(config, logger, opts);
  const root = config.store.root;
  return Object.assign(node, {
    dir,
    root,
    config,
    logs,
    files: () => listFiles(root),
    stop: async () => {
      await node.close(1000);
      await rm(dir, { recursive: true, force: true });
    },
  });
}

export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      // The index's database is not a stored file.
      if (d === root && n === '.index') continue;
      const p = join(d, n);
      const st = await import('node:fs/promises').then((f) => f.stat(p));
      if (st.isDirectory()) await walk(p);
      else out.push(relative(root, p));
    }
  };
  await walk(root);
  return out;
}

export interface InstanceUids {
  sopClass?: string;
  sopInstance: string;
  study?: string;
  series?: string;
}

export const STUDY = '1.2.826.0.1.3680043.9.7.100';
export const SERIES = '1.2.826.0.1.3680043.9.7.100.1';

/** An Explicit VR Little Endian data set, encoded element by element; `pixels` bytes of OB pixel data. */
export function makeDataset(u: InstanceUids, pixels = 64, omit: number[] = []): Buffer {
  const els: [number, Buffer][] = [
    [0x00080016, explicitLE(0x0008, 0x0016, 'UI', text(u.sopClass ?? CT, '\0'))],
    [0x00080018, explicitLE(0x0008, 0x0018, 'UI', text(u.sopInstance, '\0'))],
    [0x00080060, explicitLE(0x0008, 0x0060, 'CS', text('CT'))],
    [0x00100010, explicitLE(0x0010, 0x0010, 'PN', text('Test^Store'))],
    [0x00100020, explicitLE(0x0010, 0x0020, 'LO', text('TRACER-SCP'))],
    [0x0020000d, explicitLE(0x0020, 0x000d, 'UI', text(u.study ?? STUDY, '\0'))],
    [0x0020000e, explicitLE(0x0020, 0x000e, 'UI', text(u.series ?? SERIES, '\0'))],
    [0x7fe00010, explicitLE(0x7fe0, 0x0010, 'OB', Buffer.alloc(pixels, 0x5a))],
  ];
  return Buffer.concat(els.filter(([t]) => !omit.includes(t)).map(([, b]) => b));
}

export function connect(port: number, contexts: ProposedContext[] = [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }], extra: Partial<RequestorOptions> = {}): Promise<Association> {
  return Association.request({ port, callingAETitle: 'TESTSCU', calledAETitle: 'TRACER', presentationContexts: contexts, ...extra });
}

/** Offset of the data set in a Part 10 file: after preamble, 'DICM' and the group 0002 (PS3.10 7.1). */
export function datasetOffset(file: Buffer): number {
  if (file.toString('latin1', 128, 132) !== 'DICM') throw new Error('no DICM prefix');
  let pos = 132;
  while (pos < file.length && file.readUInt16LE(pos) === 0x0002) {
    const vr = file.toString('latin1', pos + 4, pos + 6);
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)) pos += 12 + file.readUInt32LE(pos + 8);
    else pos += 8 + file.readUInt16LE(pos + 6);
  }
  return pos;
}

/** The meta elements of a Part 10 file as strings, read by hand (tag -> value without padding). */
export function metaOf(file: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 132;
  while (pos < file.length && file.readUInt16LE(pos) === 0x0002) {
    const el = file.readUInt16LE(pos + 2);
    const vr = file.toString('latin1', pos + 4, pos + 6);
    let len: number;
    let start: number;
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)) {
      len = file.readUInt32LE(pos + 8);
      start = pos + 12;
    } else {
      len = file.readUInt16LE(pos + 6);
      start = pos + 8;
    }
    out[`0002,${el.toString(16).padStart(4, '0').toUpperCase()}`] = file.toString('latin1', start, start + len).replace(/[\0 ]+$/, '');
    pos = start + len;
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `cond` holds (polling), failing after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
