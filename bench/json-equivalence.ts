/**
 * Checks that the fast DICOM JSON writer (JsonWriter / toJSONText, used by `dump --json`)
 * gives the same documents as JSON.stringify(toJSON(...)), the JSON model, over pydicom's
 * corpus (when installed) and the benchmark data, at three bulk data thresholds. The two
 * must change together: run this after touching either.
 *
 *   npm run build && node dist/bench/json-equivalence.js
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { toJSON, toJSONText } from '../src/dicom/json.js';
import { readDicomFile } from '../src/dicom/part10.js';
import { dataDir } from './data.js';

const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data';

function walk(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (!/\.(txt|json|dump|gz|py)$/i.test(n)) out.push(p);
  }
  return out;
}

const files = [...walk(join(PYDICOM, 'test_files'), []), ...walk(join(PYDICOM, 'charset_files'), [])];
for (const set of ['nm-10', 'ct-1000']) {
  const d = join(dataDir(), set);
  if (existsSync(d)) files.push(...readdirSync(d).sort().slice(0, 3).map((f) => join(d, f)));
}

let same = 0, reordered = 0, unreadable = 0;
const diffs: string[] = [];
for (const f of files) {
  for (const bt of [0, 1024, Infinity]) {
    let file;
    try {
      file = readDicomFile(f, { bulkThreshold: Math.min(Number.isFinite(bt) ? bt : 1 << 30, 64 * 1024) });
    } catch {
      unreadable++;
      continue;
    }
    try {
      for (const ds of [file.meta, file.dataset]) {
        let a: string, b: string;
        try { a = JSON.stringify(toJSON(ds, { bulkDataThreshold: bt })); } catch (e) { a = `error: ${(e as Error).message}`; }
        try { b = toJSONText(ds, { bulkDataThreshold: bt }); } catch (e) { b = `error: ${(e as Error).message}`; }
        if (a === b) same++;
        // All-digit keys ("30060020") come first in a JSON.stringify'd object, in tag order in the text.
        else if (!a.startsWith('error') && !b.startsWith('error') && JSON.stringify(JSON.parse(b)) === a) reordered++;
        else diffs.push(`${f} (threshold ${bt}):\n  toJSON:     ${a.slice(0, 300)}\n  toJSONText: ${b.slice(0, 300)}`);
      }
    } finally {
      file.source.close();
    }
  }
}
console.log(`${files.length} files: ${same} documents identical, ${reordered} identical but for key order, ${diffs.length} different (${unreadable} unreadable, skipped)`);
for (const d of diffs.slice(0, 10)) console.log(d);
process.exitCode = diffs.length > 0 ? 1 : 0;
