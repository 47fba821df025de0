/**
 * The index's header texts written straight from a data set (headerTexts, used at ingest) against
 * the texts of the JSON model split by level (headerOf + splitHeader + JSON.stringify, used for
 * entries without a data set and by earlier versions): over pydicom's whole corpus, character
 * sets included, they must hold the same attributes, and the same text where JSON.stringify keeps
 * the tag order. The ingest path compares a new instance's texts with the stored ones to skip
 * the demographic merge; a different spelling of the same header would defeat that.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerOf } from '../../src/archive/ingest.js';
import { headerTexts, splitHeader } from '../../src/archive/sqlite-index.js';
import { readDicomFile } from '../../src/dicom/part10.js';
import type { VR } from '../../src/dicom/vr.js';
import { corpusFiles } from '../helpers/corpus.js';
import { requirePydicom } from '../helpers/peers.js';

/** Keys JavaScript orders before all others in an object (canonical array indices). */
const INTEGER_LIKE = /^[1-9]\d*$/;

test('header texts from the data set equal the split JSON model\'s, level by level, over pydicom\'s corpus', async (t) => {
  if (!requirePydicom(t)) return;
  let files = 0;
  let compared = 0;
  for (const path of corpusFiles()) {
    let ds;
    try {
      ds = (await readDicomFile(path)).dataset;
    } catch {
      continue; // not a Part 10 file, or deliberately broken: the reader's tests cover those
    }
    let model;
    try {
      model = splitHeader(headerOf(ds));
    } catch (err) {
      // A header the JSON model cannot make cannot be written as text either.
      assert.throws(() => headerTexts(ds), Error, `${path}: ${(err as Error).message}`);
      continue;
    }
    const texts = headerTexts(ds);
    files++;
    for (const level of ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'] as const) {
      // Compared as stored: the model's -0 is written 0 by JSON.stringify too.
      assert.deepEqual(JSON.parse(texts[level]), JSON.parse(JSON.stringify(model[level])), `${path} ${level}`);
      if (!Object.keys(model[level]).some((k) => INTEGER_LIKE.test(k))) {
        assert.equal(texts[level], JSON.stringify(model[level]), `${path} ${level} text`);
        compared++;
      }
    }
  }
  t.diagnostic(`${files} files, ${compared} level texts compared as text`);
  assert.ok(files >= 60, `${files} corpus files compared`);
  assert.ok(compared >= 4 * 50, `${compared} level texts compared as text`);
});

test('header texts after a data set that fails half-way start afresh', async (t) => {
  if (!requirePydicom(t)) return;
  const [a, b] = ['CT_small.dcm', 'MR_small.dcm'].map((n) => corpusFiles().find((f) => f.endsWith(`/${n}`))!);
  const broken = (await readDicomFile(a!)).dataset;
  const other = (await readDicomFile(b!)).dataset;
  const before = headerTexts(other);
  // The last element made unwritable (a VR of no known kind): the writers stop half-way.
  broken.elements().at(-1)!.vr = 'XX' as VR;
  assert.throws(() => headerTexts(broken));
  assert.deepEqual(headerTexts(other), before);
});
