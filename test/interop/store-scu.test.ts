/**
 * `tracer store` and `tracer echo` against DCMTK's storescp (Debian dcmtk 3.6.7, run with
 * TCP_NODELAY=1). What storescp wrote is compared with what was sent: the data set bytes when
 * the transfer syntax is unchanged (storescp +B writes them as received), dcmdump's listing
 * of the data set when Tracer converted it (ILE/EBE -> ELE) or the syntax is deflated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYDICOM_DATA, requirePydicom, requireTools } from '../helpers/peers.js';
import { datasetOffsetOf, dcmtkEnv, freePort, startStorescp, tracer } from '../helpers/storescp.js';
import { makeInstances } from '../helpers/instances.js';

const T = (f: string): string => join(PYDICOM_DATA, 'test_files', f);

/** dcmdump's listing of the data set only (meta excluded), every value in full, lengths left out. */
function dumpDataset(path: string): string {
  const out = execFileSync('dcmdump', ['-q', '+L', path], { env: dcmtkEnv, encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = out.split('\n');
  const start = lines.indexOf('# Dicom-Data-Set');
  assert.ok(start >= 0, `no data set in dcmdump output of ${path}`);
  // Lengths of explicit-length sequences and items change with the VR encoding (ILE -> ELE):
  // compare what each line holds, not the length column.
  return lines.slice(start + 2).map((l) => l.replace(/#\s*\d+,/, '#')).join('\n');
}

function transferSyntaxOf(path: string): string {
  const line = execFileSync('dcmdump', ['-q', '-Un', '+P', '0002,0010', path], { env: dcmtkEnv, encoding: 'utf8' });
  return /\[([0-9.]+)\]/.exec(line)?.[1] ?? line;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tracer-storescu-'));
}

const CORPUS = [
  'CT_small.dcm', // ELE
  'MR_small_implicit.dcm', // ILE
  'MR_small_bigendian.dcm', // EBE
  'ExplVR_BigEndNoMeta.dcm', // EBE, no File Meta Information
  'image_dfl.dcm', // Deflated ELE, odd-length bit stream
  'MR_small_RLE.dcm',
  'JPEG2000.dcm',
  'MR_small_jpeg_ls_lossless.dcm',
  'JPGExtended.dcm',
  'SC_rgb_jpeg_dcmtk.dcm',
  'rtplan.dcm',
  'waveform_ecg.dcm',
  'liver_1frame.dcm',
  'SC_rgb_small_odd.dcm',
];

test('tracer store: the pydicom corpus into storescp +xa; what storescp wrote equals what was sent', async (t) => {
  if (!requireTools(t, 'storescp', 'dcmdump') || !requirePydicom(t)) return;
  const dir = tmp();
  const scp = await startStorescp(dir, ['+B', '+xa']);
  try {
    const files = CORPUS.map(T);
    const r = await tracer(['store', '--aec', 'STORESCP', '--json', '127.0.0.1', String(scp.port), ...files]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { sent: number; results: { path: string; fileTransferSyntax: string; transferSyntax: string; converted: boolean; outcome: string }[] };
    assert.equal(report.sent, files.length);
    const got = scp.received();
    assert.equal(got.length, files.length, scp.log());
    let converted = 0;
    let bytesEqual = 0;
    for (const [i, res] of report.results.entries()) {
      const out = got[i]!;
      assert.equal(transferSyntaxOf(out), res.transferSyntax, `${res.path}: syntax written by storescp`);
      if (!res.converted && !res.transferSyntax.endsWith('.99')) {
        const a = readFileSync(res.path);
        const b = readFileSync(out);
        assert.deepEqual(b.subarray(datasetOffsetOf(b)), a.subarray(datasetOffsetOf(a)), `${res.path}: data set bytes`);
        bytesEqual++;
      } else {
        assert.equal(dumpDataset(out), dumpDataset(res.path), `${res.path}: dcmdump of the data set`);
        if (res.converted) converted++;
      }
    }
    // storescp prefers ELE: the ILE and EBE files went converted, compressed ones as they are.
    assert.ok(converted >= 3, `converted: ${converted}`);
    assert.ok(bytesEqual >= 8, `byte-equal: ${bytesEqual}`);
    assert.match(scp.log(), /Association Received/);
  } finally {
    await scp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tracer store --propose ile: ILE files go as they are (bytes equal), ELE ones are converted to ILE', async (t) => {
  if (!requireTools(t, 'storescp', 'dcmdump') || !requirePydicom(t)) return;
  const dir = tmp();
  const scp = await startStorescp(dir, ['+B', '+xa']);
  try {
    const r = await tracer(['store', '--propose', 'ile', '--aec', 'STORESCP', '127.0.0.1', String(scp.port), T('MR_small_implicit.dcm'), T('CT_small.dcm')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /COMPLETED: 2 of 2 file\(s\) stored .*1 converted/);
    const [mr, ct] = scp.received();
    assert.equal(transferSyntaxOf(mr!), '1.2.840.10008.1.2');
    assert.equal(transferSyntaxOf(ct!), '1.2.840.10008.1.2');
    const a = readFileSync(T('MR_small_implicit.dcm'));
    const b = readFileSync(mr!);
    assert.deepEqual(b.subarray(datasetOffsetOf(b)), a.subarray(datasetOffsetOf(a)));
    assert.equal(dumpDataset(ct!), dumpDataset(T('CT_small.dcm')));
  } finally {
    await scp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tracer echo -> storescp: success, exit 0; no peer: failure, exit 1', async (t) => {
  if (!requireTools(t, 'storescp')) return;
  const dir = tmp();
  const scp = await startStorescp(dir);
  try {
    const r = await tracer(['echo', '--aec', 'STORESCP', '-r', '2', '127.0.0.1', String(scp.port)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /C-ECHO 2\/2 to STORESCP@127\.0\.0\.1:\d+: Success \(0000\)/);
    assert.match(r.stdout, /Verification of STORESCP@127\.0\.0\.1:\d+ succeeded \(peer implementation OFFIS_DCMTK_\d+\)/);
    const down = await tracer(['echo', '127.0.0.1', String(await freePort())]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /Verification of ANY-SCP@127\.0\.0\.1:\d+ failed: cannot connect/);
  } finally {
    await scp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tracer store --associations 3: a directory of 60 files over three associations in parallel', async (t) => {
  if (!requireTools(t, 'storescp')) return;
  const dir = tmp();
  const src = join(dir, 'src');
  execFileSync('mkdir', ['-p', join(src, 'a', 'b')]);
  makeInstances(join(src, 'a'), 30);
  makeInstances(join(src, 'a', 'b'), 30, { first: 100 });
  writeFileSync(join(src, 'README.txt'), 'not DICOM\n');
  const scp = await startStorescp(dir);
  try {
    const r = await tracer(['store', '-a', '3', '127.0.0.1', String(scp.port), src]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /COMPLETED: 60 of 61 file\(s\) stored .* 0 failed, 1 skipped; .* 3 association\(s\)/);
    // The file that is not DICOM is reported, not fatal.
    assert.match(r.stdout, /Skipped, not sent \(1\):\n {2}.*README\.txt: not a DICOM file/);
    assert.equal(scp.received().length, 60);
    // Three associations, plus the one that checked storescp was listening.
    assert.equal(scp.log().match(/Association Received/g)?.length, 4);
  } finally {
    await scp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('storescp --refuse: every file fails with the rejection, exit 1, no retry', async (t) => {
  if (!requireTools(t, 'storescp') || !requirePydicom(t)) return;
  const dir = tmp();
  const scp = await startStorescp(dir, ['--refuse']);
  try {
    const r = await tracer(['store', '--retries', '3', '--retry-interval', '5', '127.0.0.1', String(scp.port), T('CT_small.dcm'), T('MR_small.dcm')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Failed \(2\):\n {2}.*CT_small\.dcm: association rejected by ANY-SCP@127\.0\.0\.1:\d+: rejected-permanent/);
    assert.match(r.stdout, /FAILED: 0 of 2 file\(s\) stored/);
    assert.doesNotMatch(r.stderr, /retry/);
  } finally {
    await scp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the peer comes up while tracer store waits to retry: the files are stored', async (t) => {
  if (!requireTools(t, 'storescp') || !requirePydicom(t)) return;
  const dir = tmp();
  const port = await freePort();
  const files = ['CT_small.dcm', 'MR_small.dcm'].map((f) => {
    copyFileSync(T(f), join(dir, f));
    return join(dir, f);
  });
  const running = tracer(['store', '--retries', '20', '--retry-interval', '0.5', '--timeout', '5', '127.0.0.1', String(port), ...files]);
  await new Promise((r) => setTimeout(r, 1200));
  const scp = await startStorescp(dir, [], { port });
  try {
    const r = await running;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /retry 1 of 20: 2 instance\(s\) in 0\.5 s \(cannot connect to 127\.0\.0\.1:\d+/);
    assert.match(r.stdout, /COMPLETED: 2 of 2 file\(s\) stored/);
    assert.equal(scp.received().length, 2);
  } finally {
    await scp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
