/**
 * The reader under a coverage-guided fuzzer (Jazzer.js / libFuzzer, scripts/fuzz.mjs): a short
 * run must find nothing, and every input a fuzzer ever found (test/fuzz/regressions/) replays
 * through the same checks (test/fuzz/exercise.ts) without a finding, quickly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exercise, FuzzFinding, installAllocationGuard } from './exercise.js';
import { readDicomBuffer } from '../../src/dicom/part10.js';
import { encodeDicomFile, TS } from '../../src/dicom/write.js';
import { explicitLE, part10 } from '../helpers/build.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const REGRESSIONS = join(ROOT, 'test/fuzz/regressions');
const SHORT_RUN_SECONDS = 30;

function regressionFiles(): string[] {
  if (!existsSync(REGRESSIONS)) return [];
  return readdirSync(REGRESSIONS).filter((n) => !n.startsWith('.') && !n.endsWith('.md')).sort();
}

test('inputs the fuzzer found replay without a finding', () => {
  const files = regressionFiles();
  assert.ok(files.length > 0, 'no regression inputs in test/fuzz/regressions');
  const restore = installAllocationGuard(64 * 1024 * 1024);
  try {
    for (const name of files) {
      const data = readFileSync(join(REGRESSIONS, name));
      assert.ok(data.length < 4096, `${name}: regression inputs are kept under 4 KB`);
      const t0 = performance.now();
      try {
        exercise(data);
      } catch (e) {
        const cause = e instanceof Error && e.cause instanceof Error ? `\ncaused by: ${e.cause.stack}` : '';
        assert.fail(`${name}: ${e instanceof Error ? e.stack : String(e)}${cause}`);
      }
      const ms = performance.now() - t0;
      assert.ok(ms < 2000, `${name}: took ${Math.round(ms)} ms`);
    }
  } finally {
    restore();
  }
});

test('SV and UV have 32-bit lengths in explicit VR (PS3.5 Table 7.1-1), as DCMTK and pydicom read them', () => {
  const sv = Buffer.alloc(8); sv.writeBigInt64LE(-5n);
  const uv = Buffer.alloc(8); uv.writeBigUInt64LE(5n);
  const ds = Buffer.concat([explicitLE(0x0072, 0x0082, 'SV', sv), explicitLE(0x0072, 0x0083, 'UV', uv)]);
  assert.equal(ds.length, 2 * (12 + 8));
  const f = readDicomBuffer(part10(TS.ExplicitVRLittleEndian, ds));
  assert.deepEqual(f.dataset.values(0x00720082), [-5n]);
  assert.deepEqual(f.dataset.values(0x00720083), [5n]);
  const out = Buffer.concat([...encodeDicomFile({ dataset: f.dataset, transferSyntaxUID: TS.ExplicitVRLittleEndian })]);
  assert.ok(out.includes(Buffer.concat([Buffer.from([0x72, 0x00, 0x82, 0x00]), Buffer.from('SV\0\0'), Buffer.from([8, 0, 0, 0])])));
});

test('group 0002 elements of a data set are not written after the meta (PS3.10 7.1)', () => {
  // No recognisable meta (the group length element is in group 000B), so the group 0002
  // elements are read as part of the data set; written back they must not follow the new meta.
  const ds = Buffer.concat([
    explicitLE(0x000b, 0x0000, 'UL', Buffer.from([4, 0, 0, 0])),
    explicitLE(0x0002, 0x0010, 'UI', Buffer.from('1.2.840.10008.1.2\0')),
    explicitLE(0x0010, 0x0020, 'LO', Buffer.from('ID')),
  ]);
  const input = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), ds]);
  const f = readDicomBuffer(input);
  assert.ok(f.dataset.has(0x00020010));
  const out = Buffer.concat([...encodeDicomFile({ dataset: f.dataset, meta: f.meta, transferSyntaxUID: TS.ExplicitVRLittleEndian })]);
  const back = readDicomBuffer(out);
  assert.equal(back.transferSyntaxUID, TS.ExplicitVRLittleEndian);
  assert.equal(back.dataset.string(0x00100020), 'ID');
  assert.equal(back.dataset.has(0x00020010), false);
});

test('the allocation guard turns a huge Buffer into a finding', () => {
  const restore = installAllocationGuard(1024);
  try {
    assert.throws(() => Buffer.alloc(4096), FuzzFinding);
    assert.throws(() => Buffer.concat([Buffer.alloc(600), Buffer.alloc(600)]), FuzzFinding);
    assert.equal(Buffer.alloc(10).length, 10);
  } finally {
    restore();
  }
  assert.equal(Buffer.alloc(4096).length, 4096);
});

test(`a ${SHORT_RUN_SECONDS} s coverage-guided fuzz run of the reader finds nothing`, { timeout: 180_000 }, () => {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/fuzz.mjs'), '--seconds', String(SHORT_RUN_SECONDS), '--quiet'], {
    cwd: ROOT, encoding: 'utf8', timeout: 170_000, maxBuffer: 64 << 20,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('FUZZ-RESULT '));
  assert.ok(line, `no result from scripts/fuzz.mjs (exit ${r.status ?? r.signal}):\n${r.stderr.slice(-6000)}`);
  const res = JSON.parse(line.slice('FUZZ-RESULT '.length)) as {
    ok: boolean; input?: string; error?: string; executedUnits?: number;
    inited?: { cov?: number }; final?: { cov?: number };
  };
  assert.ok(res.ok && r.status === 0, `fuzzer finding in ${res.input ?? '?'}:\n${res.error ?? ''}\n${r.stderr.slice(-6000)}`);
  // Coverage feedback must really come from the DICOM code (instrumented ES modules).
  assert.ok((res.inited?.cov ?? 0) > 300, `coverage too low: ${JSON.stringify(res)}`);
  assert.ok((res.final?.cov ?? 0) >= (res.inited?.cov ?? 0));
  assert.ok((res.executedUnits ?? 0) > 500, `too few executions: ${JSON.stringify(res)}`);
  console.log(`# fuzz: ${res.executedUnits} inputs, cov ${res.inited?.cov} -> ${res.final?.cov}, ${Math.round((Date.now() - t0) / 1000)} s`);
});
