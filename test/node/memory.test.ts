/**
 * Memory stays bounded while a large object arrives (issue "DICOM networking"): a C-STORE of
 * ~1 GiB, generated on the fly by the requestor (one 1 MiB buffer sent again and again), to a
 * `tracer serve` child process whose peak resident set (VmHWM, /proc/PID/status) may grow by
 * less than 64 MiB. The stored file is checked by size and by its last bytes only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CStoreRq } from '../../src/net/index.js';
import { explicitLE } from '../helpers/build.js';
import { startServe } from '../helpers/serve-process.js';
import { CT, SERIES, STUDY, connect, makeDataset } from '../helpers/node.js';

const SIZE = Number(process.env.TRACER_BIG_OBJECT_MB ?? 1024) * 1024 * 1024;
const LIMIT = 64 * 1024 * 1024;

async function kb(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(s);
  return Number(m![1]) * 1024;
}

test(`a ${Math.round(SIZE / 1048576)} MiB C-STORE grows the receiving process by less than 64 MiB`, { timeout: 120_000 }, async (t) => {
  if (!existsSync('/proc/self/status')) return t.skip('needs /proc to read the peak resident set');
  const cwd = await mkdtemp(join(tmpdir(), 'tracer-big-'));
  // The free-disk minimum (default 2 GiB) is not what is measured here.
  await writeFile(join(cwd, 'tracer.yaml'), 'storage:\n  minFreeDiskMb: 0\n');
  const s = await startServe(cwd, ['--config', join(cwd, 'tracer.yaml'), '--data', join(cwd, 'data')]);
  try {
    const pid = s.proc.pid!;
    const a = await connect(s.port);
    // Warm up: code paths compiled, buffers allocated, before the baseline is taken.
    for (let i = 0; i < 3; i++) {
      const sop = `1.2.826.0.1.3680043.9.7.200.${i}`;
      assert.equal((await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: sop }), { dataset: makeDataset({ sopInstance: sop }, 4 << 20) })).Status, 0);
    }
    const base = await kb(pid, 'VmHWM');
    const sop = '1.2.826.0.1.3680043.9.7.200.99';
    const header = makeDataset({ sopInstance: sop }, 0).subarray(0, -12); // everything but the empty pixel data
    const chunk = Buffer.alloc(1 << 20, 0x33);
    const tail = Buffer.from('TRACER-END');
    async function* big(): AsyncGenerator<Buffer> {
      yield header;
      const el = explicitLE(0x7fe0, 0x0010, 'OB', Buffer.alloc(0));
      el.writeUInt32LE(SIZE, 8);
      yield el;
      for (let n = 0; n < SIZE - chunk.length; n += chunk.length) yield chunk;
      yield Buffer.concat([chunk.subarray(0, chunk.length - tail.length), tail]);
    }
    const t0 = Date.now();
    const rsp = await a.sendRequest(new CStoreRq({ AffectedSOPClassUID: CT, AffectedSOPInstanceUID: sop }), { dataset: big(), timeout: 110_000 });
    const ms = Date.now() - t0;
    assert.equal(rsp.Status, 0, rsp.ErrorComment);
    await a.release();
    const peak = await kb(pid, 'VmHWM');
    const growth = peak - base;
    t.diagnostic(`received ${SIZE} bytes in ${ms} ms (${Math.round(SIZE / 1048576 / (ms / 1000))} MiB/s); peak RSS ${Math.round(base / 1048576)} -> ${Math.round(peak / 1048576)} MiB (+${(growth / 1048576).toFixed(1)} MiB)`);
    assert.ok(growth < LIMIT, `peak RSS grew by ${(growth / 1048576).toFixed(1)} MiB`);
    const path = join(cwd, 'data', STUDY, SERIES, `${sop}.dcm`);
    const st = await stat(path);
    const fh = await open(path, 'r');
    try {
      const end = Buffer.alloc(tail.length);
      await fh.read(end, 0, tail.length, st.size - tail.length);
      assert.deepEqual(end, tail);
    } finally {
      await fh.close();
    }
    assert.ok(st.size > SIZE + header.length);
    assert.ok(s.logs.some((l) => l.msg === 'stored' && l.sopInstanceUid === sop && Number(l.bytes) === header.length + 12 + SIZE));
  } finally {
    await s.stop();
    await rm(cwd, { recursive: true, force: true });
  }
});
