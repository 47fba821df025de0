/**
 * Bad input gets a DicomParseError naming the file and byte offset: truncated files, lengths
 * past the end, absurd lengths, items that never close, invalid VRs, garbage. Nothing hangs
 * and nothing allocates by a length it has not checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDicomBuffer, readDicomFile } from '../../src/dicom/part10.js';
import { DicomParseError } from '../../src/dicom/errors.js';
import { explicitLE, implicitLE, part10, text } from '../helpers/build.js';

const ELE = '1.2.840.10008.1.2.1';
const ILE = '1.2.840.10008.1.2';
const TRACER = fileURLToPath(new URL('../../../bin/tracer', import.meta.url));

const good = Buffer.concat([
  explicitLE(0x0008, 0x0016, 'UI', text('1.2.840.10008.5.1.4.1.1.7', '\0')),
  explicitLE(0x0010, 0x0010, 'PN', text('Doe^John')),
  explicitLE(0x0010, 0x0020, 'LO', text('ID1')),
]);

function expectParseError(buf: Buffer, pattern: RegExp, offset?: number): DicomParseError {
  let caught: unknown;
  try { readDicomBuffer(buf, {}, 'mem.dcm'); } catch (e) { caught = e; }
  assert.ok(caught instanceof DicomParseError, `expected DicomParseError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.match(caught.message, /^mem\.dcm: .* at byte offset \d+$/);
  if (offset !== undefined) assert.equal(caught.offset, offset);
  return caught;
}

test('a good hand-made file reads', () => {
  const f = readDicomBuffer(part10(ELE, good));
  assert.equal(f.dataset.string('PatientName'), 'Doe^John');
  assert.equal(f.dataset.string(0x00100020), 'ID1');
});

test('truncated in the middle of a value', () => {
  const buf = part10(ELE, good);
  const cut = buf.subarray(0, buf.length - 3);
  expectParseError(cut, /runs past the end of the data/);
});

test('truncated in an element header', () => {
  const buf = Buffer.concat([part10(ELE, good), Buffer.from([0x10, 0x00, 0x30])]);
  expectParseError(buf, /truncated element header|unexpected end/);
});

test('an absurd length (4 GB in a small file) is refused before any allocation', () => {
  const el = Buffer.concat([implicitLE(0x0010, 0x0010, Buffer.alloc(0), 0xfffffff0)]);
  const buf = part10(ILE, Buffer.concat([el, Buffer.alloc(16)]));
  const before = process.memoryUsage().arrayBuffers;
  const err = expectParseError(buf, /length 4294967280 of \(0010,0010\) runs past the end/);
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 24);
  assert.equal(err.offset, buf.length - 16 - 4);
});

test('an undefined-length item that never closes', () => {
  const seq = Buffer.concat([
    Buffer.from([0x08, 0x00, 0x15, 0x11, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff]), // (0008,1115) SQ undefined
    Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]), // item, undefined length
    explicitLE(0x0008, 0x1150, 'UI', text('1.2', '\0')),
  ]);
  expectParseError(part10(ELE, seq), /never closed/);
});

test('a sequence whose length runs past the end', () => {
  const seq = Buffer.concat([
    Buffer.from([0x08, 0x00, 0x15, 0x11, 0x53, 0x51, 0, 0, 0x00, 0x10, 0x00, 0x00]),
    Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0x04, 0x00, 0x00, 0x00]),
  ]);
  expectParseError(part10(ELE, seq), /runs past the end/);
});

test('an invalid VR names the tag and offset', () => {
  const bad = Buffer.from([0x10, 0x00, 0x10, 0x00, 0x5a, 0x5a, 0x02, 0x00, 0x41, 0x42]);
  const buf = part10(ELE, bad);
  expectParseError(buf, /invalid VR 'ZZ' for \(0010,0010\)/, buf.length - bad.length + 4);
});

test('deeply nested sequences are refused, not a stack overflow', () => {
  let inner = Buffer.alloc(0);
  for (let i = 0; i < 200; i++) {
    const item = Buffer.concat([Buffer.from([0xfe, 0xff, 0x00, 0xe0]), u32(inner.length + 12), Buffer.from([0x08, 0x00, 0x15, 0x11, 0x53, 0x51, 0, 0]), u32(inner.length), inner]);
    inner = item.subarray(0, item.length);
  }
  const seq = Buffer.concat([Buffer.from([0x08, 0x00, 0x15, 0x11, 0x53, 0x51, 0, 0]), u32(inner.length), inner]);
  expectParseError(part10(ELE, seq), /nested deeper than/);
});

test('garbage is not a DICOM file', () => {
  const junk = Buffer.from('this is certainly not a DICOM file, just some text of no meaning');
  expectParseError(junk, /not a DICOM file/);
});

test('random bytes never throw anything but DicomParseError', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const base = part10(ELE, good);
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(base);
    const flips = 1 + Math.floor(rand() * 8);
    for (let k = 0; k < flips; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    const cut = b.subarray(0, Math.floor(rand() * b.length) + 1);
    try {
      const f = readDicomBuffer(cut, {}, 'x');
      for (const el of f.dataset.elements()) el.bytes();
    } catch (e) {
      if (!(e instanceof DicomParseError)) throw new Error(`case ${i}: ${(e as Error).stack}`);
    }
  }
});

test('tracer dump prints one line with path and offset, exit 1, no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-bad-'));
  try {
    const p = join(dir, 'cut.dcm');
    const buf = part10(ELE, good);
    writeFileSync(p, buf.subarray(0, buf.length - 3));
    const r = spawnSync(process.execPath, [TRACER, 'dump', p], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^tracer dump: ${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .* at byte offset \\d+$`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readDicomFile attributes errors to the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-bad-'));
  try {
    const p = join(dir, 'x.dcm');
    writeFileSync(p, Buffer.from('DICM'));
    assert.throws(() => readDicomFile(p), (e: unknown) => e instanceof DicomParseError && e.message.startsWith(p));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}
