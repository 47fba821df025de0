/** The retrieve identifier rules of QR-040 (services/retrieve-scp.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJSON, type JsonDataset } from '../../src/dicom/json.js';
import { parseRetrieveIdentifier, retrieveModelOf, STUDY_ROOT_GET, PATIENT_ROOT_MOVE } from '../../src/services/retrieve-scp.js';

const ds = (o: Record<string, string[]>) => {
  const tags: Record<string, [string, string]> = { level: ['00080052', 'CS'], pid: ['00100020', 'LO'], study: ['0020000D', 'UI'], series: ['0020000E', 'UI'], sop: ['00080018', 'UI'] };
  const j: JsonDataset = {};
  for (const [k, v] of Object.entries(o)) j[tags[k]![0]] = { vr: tags[k]![1], Value: v } as JsonDataset[string];
  return fromJSON(j);
};

test('models of the MOVE and GET SOP classes', () => {
  assert.equal(retrieveModelOf(STUDY_ROOT_GET), 'STUDY_ROOT');
  assert.equal(retrieveModelOf(PATIENT_ROOT_MOVE), 'PATIENT_ROOT');
  assert.equal(retrieveModelOf('1.2.3'), undefined);
});

test('unique keys: the level\'s is required, lists accepted, those above used, those below refused', () => {
  assert.deepEqual(parseRetrieveIdentifier(ds({ level: ['STUDY'], study: ['1.2', '1.3'] }), 'STUDY_ROOT'), { level: 'STUDY', studyInstanceUids: ['1.2', '1.3'] });
  assert.deepEqual(parseRetrieveIdentifier(ds({ level: ['SERIES'], study: ['1.2'], series: ['1.2.1'] }), 'STUDY_ROOT'), { level: 'SERIES', studyInstanceUids: ['1.2'], seriesInstanceUids: ['1.2.1'] });
  assert.deepEqual(parseRetrieveIdentifier(ds({ level: ['PATIENT'], pid: ['P1'] }), 'PATIENT_ROOT'), { level: 'PATIENT', patientIds: ['P1'] });
  // Patient ID is no Study Root unique key: ignored there.
  assert.deepEqual(parseRetrieveIdentifier(ds({ level: ['STUDY'], pid: ['P1'], study: ['1.2'] }), 'STUDY_ROOT'), { level: 'STUDY', studyInstanceUids: ['1.2'] });
  assert.throws(() => parseRetrieveIdentifier(ds({ level: ['SERIES'], study: ['1.2'] }), 'STUDY_ROOT'), /needs the unique key/);
  assert.throws(() => parseRetrieveIdentifier(ds({ level: ['STUDY'], study: ['1.2'], sop: ['1.2.1.1'] }), 'STUDY_ROOT'), /below the STUDY level/);
  assert.throws(() => parseRetrieveIdentifier(ds({ level: ['PATIENT'], pid: ['P1'] }), 'STUDY_ROOT'), /not one of/);
  assert.throws(() => parseRetrieveIdentifier(ds({ level: ['STUDY'], study: ['1.2*'] }), 'STUDY_ROOT'), /wildcards/);
});
