/**
 * The fast DICOM JSON writer of `dump --json` (toJSONText) and the JSON model (toJSON) give
 * the same documents for every corpus file at every bulk data threshold: the two must change
 * together, and this test says when they do not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toJSON, toJSONText } from '../../src/dicom/json.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import { corpusFiles } from '../helpers/corpus.js';
import { requirePydicom } from '../helpers/peers.js';

test('toJSONText equals JSON.stringify(toJSON) over the corpus', (t) => {
  if (!requirePydicom(t)) return;
  let compared = 0;
  const diffs: string[] = [];
  for (const f of corpusFiles()) {
    for (const bt of [0, 1024, Infinity]) {
      let file;
      try { file = readDicomFile(f, { bulkThreshold: Math.min(Number.isFinite(bt) ? bt : 1 << 30, 64 * 1024) }); } catch { continue; }
      try {
        for (const ds of [file.meta, file.dataset]) {
          const model = toJSON(ds, { bulkDataThreshold: bt });
          const text = toJSONText(ds, { bulkDataThreshold: bt });
          // Key order may differ (all-digit keys sort first in JS objects); content must not.
          assert.doesNotThrow(() => JSON.parse(text), `${f}: toJSONText is not valid JSON`);
          if (JSON.stringify(JSON.parse(text)) !== JSON.stringify(model)) diffs.push(`${f} (threshold ${bt})`);
          compared++;
        }
      } finally {
        file.source.close();
      }
    }
  }
  assert.ok(compared > 300, `only ${compared} documents compared`);
  assert.deepEqual(diffs, []);
});
