/** The `tracer dump` and `tracer convert` commands as a user runs them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDicomFile } from '../../src/dicom/part10.js';
import { explicitLE, part10, text } from '../helpers/build.js';
import { requireTools } from '../helpers/peers.js';

const TRACER = fileURLToPath(new URL('../../../bin/tracer', import.meta.url));
const tracer = (...args: string[]) => spawnSync(process.execPath, [TRACER, ...args], { encoding: 'utf8' });

function sample(dir: string): string {
  const p = join(dir, 'nm.dcm');
  writeFileSync(p, part10('1.2.840.10008.1.2.1', Buffer.concat([
    explicitLE(0x0008, 0x0016, 'UI', text('1.2.840.10008.5.1.4.1.1.20', '\0')),
    explicitLE(0x0008, 0x0018, 'UI', text('1.2.3.4', '\0')),
    explicitLE(0x0010, 0x0010, 'PN', text('Doe^Jane')),
    explicitLE(0x7011, 0x0010, 'LO', text('TOSHIBA_MEC_NM3A')),
    explicitLE(0x7011, 0x1010, 'SL', Buffer.from([7, 0, 0, 0])),
    explicitLE(0x7fe0, 0x0010, 'OW', Buffer.alloc(4096)),
  ]), '1.2.840.10008.5.1.4.1.1.20', '1.2.3.4'));
  return p;
}

test('dump lists tag, VR, value, length, VM and keyword; private tags by their creator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-cli-'));
  try {
    const r = tracer('dump', sample(dir));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\(0010,0010\) PN \[Doe\^Jane\] +#\s+8, 1 PatientName$/m);
    assert.match(r.stdout, /^\(7011,1010\) SL 7 +#\s+4, 1 OMLinePosition$/m);
    assert.match(r.stdout, /^\(0002,0010\) UI \[1\.2\.840\.10008\.1\.2\.1\] +#\s+20, 1 TransferSyntaxUID$/m);
    assert.match(r.stdout, /\(7FE0,0010\) OW \(4096 bytes of binary data\)/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('dump --json prints PS3.18 JSON, bulk data as a file URI, meta only with --meta', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-cli-'));
  try {
    const p = sample(dir);
    const j = JSON.parse(tracer('dump', '--json', p).stdout);
    assert.deepEqual(j['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] });
    assert.match(j['7FE00010'].BulkDataURI, /^file:\/\/.*nm\.dcm\?offset=\d+&length=4096$/);
    assert.equal(j['00020010'], undefined);
    const m = JSON.parse(tracer('dump', '--json', '--meta', '--bulk-threshold', 'inline', p).stdout);
    assert.equal(m['00020010'].Value[0], '1.2.840.10008.1.2.1');
    assert.equal(Buffer.from(m['7FE00010'].InlineBinary, 'base64').length, 4096);
    const two = JSON.parse(tracer('dump', '--json', p, p).stdout);
    assert.equal(two.length, 2);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('convert rewrites into each uncompressed syntax; dcmdump reads the result', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-cli-'));
  try {
    const p = sample(dir);
    for (const ts of ['implicit', 'big', 'deflate', '1.2.840.10008.1.2.1']) {
      const out = join(dir, `${ts}.dcm`);
      const r = tracer('convert', '--ts', ts, p, out);
      assert.equal(r.status, 0, r.stderr);
      const f = readDicomFile(out);
      assert.equal(f.dataset.string('PatientName'), 'Doe^Jane');
      assert.deepEqual(f.dataset.values(0x70111010), [7]);
      f.source.close();
      if (requireTools(t, 'dcmdump')) {
        const d = spawnSync('dcmdump', [out], { encoding: 'utf8' });
        assert.equal(d.status, 0, d.stderr);
        assert.match(d.stdout, /\(0010,0010\) PN \[Doe\^Jane\]/);
      }
    }
    const bad = tracer('convert', '--ts', 'nonsense', p, join(dir, 'x.dcm'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /unknown transfer syntax 'nonsense'/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('every command answers --help', () => {
  for (const c of ['dump', 'convert', 'config', 'serve', 'echo', 'store']) {
    const r = tracer(c, '--help');
    assert.equal(r.status, 0, `${c}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: tracer/);
  }
  assert.equal(tracer('--help').status, 0);
  assert.equal(tracer('nonsense').status, 1);
});
