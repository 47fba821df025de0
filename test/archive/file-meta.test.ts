/**
 * The File Meta Information of received instances is written by a dedicated encoder
 * (src/archive/file-store.ts encodeFileMeta): it must give the bytes the general writer gives
 * for the same elements, and files that DCMTK reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFileMeta, type FileMetaValues } from '../../src/archive/file-store.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { readDicomBuffer } from '../../src/dicom/part10.js';
import { encodeDatasetToBuffer } from '../../src/dicom/write.js';

function general(v: FileMetaValues): Buffer {
  const meta = new Dataset(true);
  meta.setBytes(0x00020001, 'OB', Buffer.from([0, 1]));
  meta.setString(0x00020002, 'UI', v.sopClassUid);
  meta.setString(0x00020003, 'UI', v.sopInstanceUid);
  meta.setString(0x00020010, 'UI', v.transferSyntaxUid);
  meta.setString(0x00020012, 'UI', v.implementationClassUid);
  if (v.implementationVersionName) meta.setString(0x00020013, 'SH', v.implementationVersionName);
  if (v.sourceAeTitle) meta.setString(0x00020016, 'AE', v.sourceAeTitle);
  const body = encodeDatasetToBuffer(meta, { explicitVR: true, littleEndian: true }, { groupLength: 'add' });
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), body]);
}

test('encodeFileMeta gives the general writer\'s bytes: odd and even lengths, optional elements absent', () => {
  const cases: FileMetaValues[] = [];
  for (const sop of ['1.2.3', '1.2.34', '1.2.826.0.1.3680043.9.7.100.1.1']) {
    for (const version of [undefined, 'TRACER_010', 'ODD']) {
      for (const ae of [undefined, 'STORESCU', 'AE1']) {
        cases.push({ sopClassUid: '1.2.840.10008.5.1.4.1.1.20', sopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1', implementationClassUid: '1.2.276.0.7230010.3.0.3.6.7', implementationVersionName: version, sourceAeTitle: ae });
      }
    }
  }
  cases.push({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '2.25.1', transferSyntaxUid: '1.2.840.10008.1.2', implementationClassUid: '2.25.9' });
  for (const c of cases) {
    const mine = encodeFileMeta(c);
    assert.deepEqual(mine, general(c), JSON.stringify(c));
    // And it reads back as a Part 10 file with those values.
    const f = readDicomBuffer(mine);
    assert.equal(f.meta.string(0x00020003), c.sopInstanceUid);
    assert.equal(f.meta.string(0x00020016) || undefined, c.sourceAeTitle);
    assert.equal(f.transferSyntaxUID, c.transferSyntaxUid);
  }
});
