/**
 * The DICOM JSON model (PS3.18 F.2): Tracer's JSON of each corpus file equals DCMTK's dcm2json
 * output, attribute by attribute; and Tracer reads its own JSON back to the same data set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readDicomFile } from '../../src/dicom/part10.js';
import { fromJSON, toJSON, type JsonAttribute, type JsonDataset } from '../../src/dicom/json.js';
import { corpusFiles } from '../helpers/corpus.js';
import { requirePydicom, requireTools } from '../helpers/peers.js';

function dcm2json(path: string): JsonDataset | undefined {
  const r = spawnSync('dcm2json', ['-fc', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 || r.stderr.trim() !== '') return undefined;
  try { return JSON.parse(r.stdout) as JsonDataset; } catch { return undefined; }
}

/** Differences between two JSON data sets, as readable lines. */
function compare(a: JsonDataset, b: JsonDataset, path: string, out: string[]): void {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of [...keys].sort()) {
    // dcm2json converts text to UTF-8 and rewrites (0008,0005) accordingly.
    if (k === '00080005') continue;
    const x = a[k], y = b[k];
    const p = `${path}${k}`;
    if (!x || !y) { out.push(`${p}: only in ${x ? 'dcm2json' : 'Tracer'}`); continue; }
    if (x.vr !== y.vr) {
      // Unknown private elements: DCMTK's private dictionary knows more vendors than Tracer's.
      if (y.vr !== 'UN' || (parseInt(k.slice(0, 4), 16) & 1) === 0) out.push(`${p}: vr ${x.vr} / ${y.vr}`);
      continue;
    }
    sameAttr(x, y, p, out);
  }
}

function sameAttr(x: JsonAttribute, y: JsonAttribute, p: string, out: string[]): void {
  if (x.InlineBinary !== undefined || y.InlineBinary !== undefined) {
    if (x.InlineBinary !== y.InlineBinary) out.push(`${p}: InlineBinary differs`);
    return;
  }
  const xv = x.Value ?? [], yv = y.Value ?? [];
  if (x.vr === 'SQ') {
    if (xv.length !== yv.length) { out.push(`${p}: ${xv.length} / ${yv.length} items`); return; }
    xv.forEach((it, i) => compare(it as JsonDataset, yv[i] as JsonDataset, `${p}[${i}].`, out));
    return;
  }
  if (xv.length !== yv.length) { out.push(`${p}: values ${JSON.stringify(xv).slice(0, 100)} / ${JSON.stringify(yv).slice(0, 100)}`); return; }
  xv.forEach((v, i) => {
    const w = yv[i];
    if (typeof v === 'number' && typeof w === 'number') {
      if (!(v === w || Math.abs(v - w) <= 1e-6 * Math.max(1, Math.abs(v)))) out.push(`${p}[${i}]: ${v} / ${w}`);
    } else if (JSON.stringify(v) !== JSON.stringify(w)) {
      out.push(`${p}[${i}]: ${JSON.stringify(v)?.slice(0, 80)} / ${JSON.stringify(w)?.slice(0, 80)}`);
    }
  });
}

/**
 * Known faults of the peer, each checked against pydicom (which agrees with Tracer there):
 * DCMTK 3.6.7 decodes a sequence item with the data set's character set instead of the item's
 * own Specific Character Set (PS3.5 7.5.3 / PS3.3 C.12.1.1.2).
 */
const PEER_FAULTS = [/charset_files\/chrSQEncoding\.dcm: 00321064\[0\]\.00100010/];

test('DICOM JSON of the corpus equals dcm2json, and reads back', (t) => {
  if (!requirePydicom(t) || !requireTools(t, 'dcm2json')) return;
  let compared = 0;
  const problems: string[] = [];
  for (const f of corpusFiles()) {
    const theirs = dcm2json(f);
    if (!theirs) continue; // DCMTK warns about or refuses the file
    let file;
    try { file = readDicomFile(f); } catch { continue; }
    const ours = toJSON(file.dataset);
    const before = problems.length;
    compare(theirs, ours, `${f}: `, problems);
    if (problems.length - before > 5) problems.splice(before + 5, Infinity, `${f}: ...`);
    // Round trip through Tracer's own reader of the JSON model.
    const again = toJSON(fromJSON(ours));
    const rt: string[] = [];
    compare(ours, again, `${f} (round trip): `, rt);
    problems.push(...rt.slice(0, 5));
    file.source.close();
    compared++;
  }
  assert.ok(compared >= 40, `only ${compared} files compared`);
  assert.deepEqual(problems.filter((p) => !PEER_FAULTS.some((r) => r.test(p))), []);
});
