/**
 * Writing: every corpus file Tracer reads is written back byte-identical in its own transfer
 * syntax, and converted files read back identically in DCMTK's dcmdump.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDicomFile } from '../../src/dicom/part10.js';
import { encodeDicomFile, writeDicomFile } from '../../src/dicom/write.js';
import { TS } from '../../src/dicom/dictionary/index.js';
import { corpusFiles } from '../helpers/corpus.js';
import { requirePydicom, requireTools } from '../helpers/peers.js';

function tryRead(f: string) {
  try { return readDicomFile(f); } catch { return undefined; }
}

test('corpus files written back unchanged are byte-identical', (t) => {
  if (!requirePydicom(t)) return;
  let n = 0;
  const diffs: string[] = [];
  for (const f of corpusFiles()) {
    const file = tryRead(f);
    if (!file) continue;
    // Bare data sets, and metas without the mandatory group length, get a correct meta written: not identical by design.
    // Files whose defects were tolerated on reading are written correctly, so not identically.
    if (file.meta.size === 0 || !file.meta.has(0x00020000) || file.warnings.length > 0) { file.source.close(); continue; }
    const out = Buffer.concat([...encodeDicomFile({ dataset: file.dataset, meta: file.meta, transferSyntaxUID: file.transferSyntaxUID, preamble: file.preamble })]);
    const orig = readFileSync(f);
    file.source.close();
    n++;
    if (/\.99$/.test(file.transferSyntaxUID)) continue; // deflate output depends on the compressor settings
    if (!out.equals(orig)) {
      let i = 0;
      while (i < out.length && out[i] === orig[i]) i++;
      diffs.push(`${f}: first difference at byte ${i} (sizes ${orig.length} / ${out.length})`);
    }
  }
  assert.ok(n >= 50, `only ${n} files written`);
  assert.deepEqual(diffs, []);
});

/** dcmdump's view of a data set: tag, VR and value, without lengths and group lengths. */
function dcmdumpView(path: string, skipPrivate = false): string[] {
  const r = spawnSync('dcmdump', ['+L', path], { encoding: 'latin1', maxBuffer: 1 << 28 });
  // In Implicit VR an unknown private sequence is found by its undefined length (CP-246), which DCMTK notes.
  const warnings = r.stderr.split('\n').filter((l) => l.trim() !== '' && !(skipPrivate && l.includes('CP-246')));
  if (r.status !== 0 || warnings.length > 0) throw new Error(`dcmdump ${path}: ${r.stderr}`);
  const lines: string[] = [];
  let inMeta = false;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# Dicom-Meta-Information-Header')) { inMeta = true; continue; }
    if (line.startsWith('# Dicom-Data-Set')) { inMeta = false; continue; }
    if (inMeta || !line.trim().startsWith('(')) continue;
    const m = /^(\s*)\(([0-9a-f]{4}),([0-9a-f]{4})\) (\w\w) (.*?)\s*#\s*([^,#]+),/.exec(line);
    if (!m) continue;
    if (m[3] === '0000') continue; // group lengths depend on the encoding
    // Implicit VR cannot carry the VR of private elements DCMTK's dictionary does not know.
    if (skipPrivate && (parseInt(m[2]!, 16) & 1) === 1) continue;
    let value = m[5]!;
    // Sequence/item headers name their length form, which conversion may change.
    value = value.replace(/with (explicit|undefined) length/, 'with length');
    let vr = m[4];
    if (vr === 'OW' || vr === 'OB') {
      // Implicit VR pixel data is OW (PS3.5 A.1): compare binary values as little-endian bytes.
      value = binaryAsBytes(value, vr);
      vr = 'OX';
    }
    lines.push(`${m[1]}(${m[2]},${m[3]}) ${vr} ${value}`);
  }
  return lines;
}

/** dcmdump prints OB as bytes and OW as 16-bit words; both become the bytes in little-endian order. */
function binaryAsBytes(value: string, vr: string): string {
  if (!/^[0-9a-f]+(\\[0-9a-f]+)*$/.test(value)) return value;
  const parts = value.split('\\');
  if (vr === 'OB') return parts.join('');
  return parts.map((w) => w.padStart(4, '0')).map((w) => w.slice(2) + w.slice(0, 2)).join('');
}

test('converted corpus files read back identically in dcmdump', (t) => {
  if (!requirePydicom(t) || !requireTools(t, 'dcmdump')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-conv-'));
  try {
    const problems: string[] = [];
    let n = 0;
    for (const f of corpusFiles()) {
      const file = tryRead(f);
      if (!file) continue;
      const encapsulated = file.dataset.get(0x7fe00010)?.fragments !== undefined;
      const hasUN = file.dataset.elements().some((e) => e.vr === 'UN');
      if (encapsulated || hasUN) { file.source.close(); continue; }
      // Only files DCMTK itself reads without a warning can be compared through it.
      let beforeAll: string[], beforePublic: string[];
      try { beforeAll = dcmdumpView(f); beforePublic = dcmdumpView(f, true); } catch { file.source.close(); continue; }
      for (const ts of [TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian, TS.ExplicitVRBigEndian, TS.DeflatedExplicitVRLittleEndian]) {
        const out = join(dir, `${n}-${ts}.dcm`);
        writeDicomFile(out, { dataset: file.dataset, meta: file.meta.size ? file.meta : undefined, transferSyntaxUID: ts });
        const implicit = ts === TS.ImplicitVRLittleEndian;
        const before = implicit ? beforePublic : beforeAll;
        const after = dcmdumpView(out, implicit);
        if (JSON.stringify(after) !== JSON.stringify(before)) {
          const i = after.findIndex((l, k) => l !== before[k]);
          problems.push(`${f} -> ${ts}: line ${i}: dcmdump before '${before[i]?.slice(0, 160)}' after '${after[i]?.slice(0, 160)}'`);
        }
      }
      file.source.close();
      n++;
    }
    assert.ok(n >= 25, `only ${n} files converted`);
    assert.deepEqual(problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
