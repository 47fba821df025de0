/**
 * The data dictionary, checked against the standard (PS3.5, PS3.6) and, where installed,
 * against other toolkits' dictionaries (DCMTK's dicom.dic / private.dic, pydicom's UID
 * registry), never against Tracer's own output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  allTransferSyntaxes,
  isStorageSopClass,
  lookupKeyword,
  lookupPrivate,
  lookupTag,
  lookupUid,
  lookupUidByKeyword,
  transferSyntax,
  TS,
} from '../../src/dicom/dictionary/index.js';
import { tag } from '../../src/dicom/tag.js';

// dist/test/dicom/ -> repository root -> ../shared, as scripts/gen-dictionary.mjs does.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const shared = resolve(process.env.TRACER_SHARED ?? join(repoRoot, '..', 'shared'));

function firstExisting(...paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

describe('lookupTag: data elements of PS3.6', () => {
  it('knows ordinary elements with their VR and VM', () => {
    const pn = lookupTag(tag(0x0010, 0x0010));
    assert.equal(pn?.keyword, 'PatientName');
    assert.equal(pn?.name, "Patient's Name");
    assert.equal(pn?.vr, 'PN');
    assert.equal(pn?.vm, '1');
    assert.equal(pn?.retired, false);
    assert.equal(lookupTag(tag(0x0008, 0x0018))?.keyword, 'SOPInstanceUID');
    assert.equal(lookupTag(tag(0x0008, 0x0018))?.vr, 'UI');
    assert.equal(lookupTag(tag(0x0008, 0x0008))?.vm, '2-n'); // Image Type
    assert.equal(lookupTag(tag(0x0054, 0x0016))?.vr, 'SQ'); // Radiopharmaceutical Information Sequence
    assert.equal(lookupTag(tag(0x0002, 0x0010))?.keyword, 'TransferSyntaxUID');
  });

  it('keeps the ambiguous VRs as the standard writes them', () => {
    assert.equal(lookupTag(tag(0x7fe0, 0x0010))?.vr, 'OB or OW'); // Pixel Data
    assert.equal(lookupTag(tag(0x0028, 0x0106))?.vr, 'US or SS'); // Smallest Image Pixel Value
    assert.equal(lookupTag(tag(0x0028, 0x3006))?.vr, 'US or OW'); // LUT Data
    assert.equal(lookupTag(tag(0x0028, 0x1101))?.vr, 'US or SS'); // Red Palette Color LUT Descriptor
  });

  it('gives items and delimiters no VR (PS3.5 7.5)', () => {
    for (const [t, kw] of [[0xfffee000, 'Item'], [0xfffee00d, 'ItemDelimitationItem'], [0xfffee0dd, 'SequenceDelimitationItem']] as const) {
      const e = lookupTag(t);
      assert.equal(e?.keyword, kw);
      assert.equal(e?.vr, '');
    }
  });

  it('marks retired elements', () => {
    assert.equal(lookupTag(tag(0x0008, 0x0001))?.keyword, 'LengthToEnd');
    assert.equal(lookupTag(tag(0x0008, 0x0001))?.retired, true);
  });

  it('matches repeating groups (PS3.5 7.6) and repeating elements', () => {
    const ov = lookupTag(tag(0x6002, 0x3000));
    assert.equal(ov?.keyword, 'OverlayData');
    assert.equal(ov?.vr, 'OB or OW');
    assert.equal(ov?.tag, tag(0x6002, 0x3000), 'the entry carries the tag asked for');
    assert.equal(lookupTag(tag(0x6000, 0x0010))?.keyword, 'OverlayRows');
    assert.equal(lookupTag(tag(0x601e, 0x0011))?.keyword, 'OverlayColumns');
    assert.equal(lookupTag(tag(0x5004, 0x3000))?.keyword, 'CurveData');
    assert.equal(lookupTag(tag(0x7f02, 0x0010))?.keyword, 'VariablePixelData');
    assert.equal(lookupTag(tag(0x0020, 0x3105))?.keyword, 'SourceImageIDs');
    assert.equal(lookupTag(tag(0x0028, 0x0410))?.keyword, 'RowsForNthOrderCoefficients');
    assert.equal(lookupTag(tag(0x1000, 0x0120))?.keyword, 'EscapeTriplet');
    assert.equal(lookupTag(tag(0x1000, 0x0125))?.keyword, 'ShiftTableTriplet');
    assert.equal(lookupTag(tag(0x1010, 0x1234))?.keyword, 'ZonalMap');
    // Exact entries win over patterns: (0028,0400) is Transform Label, not (0028,04x0).
    assert.equal(lookupTag(tag(0x0028, 0x0400))?.keyword, 'TransformLabel');
  });

  it('never matches an odd (private) group against a repeating group', () => {
    assert.equal(lookupTag(tag(0x6001, 0x3000)), undefined);
    assert.equal(lookupTag(tag(0x6001, 0x0010))?.keyword, 'PrivateCreator');
  });

  it('answers any unknown group length generically (PS3.5 7.2)', () => {
    const gl = lookupTag(tag(0x0011, 0x0000));
    assert.equal(gl?.keyword, 'GenericGroupLength');
    assert.equal(gl?.vr, 'UL');
    assert.equal(gl?.vm, '1');
    assert.equal(lookupTag(tag(0x0010, 0x0000))?.keyword, 'GenericGroupLength');
    assert.equal(lookupTag(tag(0x6000, 0x0000))?.keyword, 'GenericGroupLength');
    assert.equal(lookupTag(tag(0x1000, 0x0000))?.keyword, 'GenericGroupLength', 'not (1000,xxx0) Escape Triplet');
    assert.equal(lookupTag(tag(0x0002, 0x0000))?.keyword, 'FileMetaInformationGroupLength');
    assert.equal(lookupTag(tag(0x0000, 0x0000))?.keyword, 'CommandGroupLength');
  });

  it('answers private creator elements (PS3.5 7.8.1)', () => {
    for (const t of [tag(0x0009, 0x0010), tag(0x7011, 0x0013), tag(0x0029, 0x00ff)]) {
      const e = lookupTag(t);
      assert.equal(e?.keyword, 'PrivateCreator');
      assert.equal(e?.vr, 'LO');
      assert.equal(e?.vm, '1');
    }
    assert.equal(lookupTag(tag(0x0009, 0x0005)), undefined, 'elements 01-0F of a private group are not creators');
    assert.equal(lookupTag(tag(0x0009, 0x1010)), undefined, 'private data elements need lookupPrivate');
    assert.equal(lookupTag(tag(0x0005, 0x0010)), undefined, 'group 0005 is not private');
  });

  it('knows the command elements of PS3.7 Table E.1-1', () => {
    assert.equal(lookupTag(tag(0x0000, 0x0100))?.keyword, 'CommandField');
    assert.equal(lookupTag(tag(0x0000, 0x0100))?.vr, 'US');
    assert.equal(lookupTag(tag(0x0000, 0x0002))?.keyword, 'AffectedSOPClassUID');
    assert.equal(lookupTag(tag(0x0000, 0x0901))?.vr, 'AT');
    assert.equal(lookupKeyword('MoveDestination')?.tag, tag(0x0000, 0x0600));
  });

  it('returns undefined for unknown standard tags', () => {
    assert.equal(lookupTag(tag(0x0010, 0x0001)), undefined);
  });
});

describe('lookupKeyword', () => {
  it('finds exact keywords only', () => {
    assert.equal(lookupKeyword('PatientID')?.tag, tag(0x0010, 0x0020));
    assert.equal(lookupKeyword('PixelData')?.tag, tag(0x7fe0, 0x0010));
    assert.equal(lookupKeyword('OverlayData')?.tag, tag(0x6000, 0x3000));
    assert.equal(lookupKeyword('patientid'), undefined);
    assert.equal(lookupKeyword(''), undefined);
    assert.equal(lookupKeyword('NoSuchKeyword'), undefined);
  });
});

describe('every element of attributes.json', () => {
  const file = join(shared, 'dicom-standard', 'attributes.json');
  it('round-trips through lookupTag and lookupKeyword', (t) => {
    if (!existsSync(file)) return t.skip(`${file} not found (set TRACER_SHARED)`);
    const rows = JSON.parse(readFileSync(file, 'utf8')) as { tag: string; keyword: string; valueRepresentation: string; valueMultiplicity: string; retired: string }[];
    assert.ok(rows.length > 5000);
    let checked = 0;
    for (const r of rows) {
      const m = /^\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)$/.exec(r.tag);
      if (!m) {
        // A repeating entry: try it with x = 2 (even, so groups stay public).
        const concrete = r.tag.replace(/x/gi, '2');
        const mm = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(concrete)!;
        const e = lookupTag(tag(parseInt(mm[1]!, 16), parseInt(mm[2]!, 16)));
        assert.equal(e?.keyword, r.keyword, `${r.tag} as ${concrete}`);
        continue;
      }
      const e = lookupTag(tag(parseInt(m[1]!, 16), parseInt(m[2]!, 16)));
      assert.ok(e, r.tag);
      assert.equal(e.keyword, r.keyword, r.tag);
      assert.equal(e.retired, r.retired === 'Y', r.tag);
      assert.equal(e.vm, r.valueMultiplicity, r.tag);
      if (r.valueRepresentation !== 'See Note 2') assert.equal(e.vr, r.valueRepresentation, r.tag);
      if (r.keyword) assert.equal(lookupKeyword(r.keyword)?.tag, e.tag, r.keyword);
      checked++;
    }
    assert.ok(checked > 5000);
  });
});

describe('VRs agree with DCMTK dicom.dic', () => {
  const dic = firstExisting('/usr/share/libdcmtk17/dicom.dic', '/usr/share/libdcmtk16/dicom.dic', '/usr/share/dcmtk/dicom.dic');
  it('for every plain tag both dictionaries know', (t) => {
    if (!dic) return t.skip('DCMTK dictionary not installed');
    // DCMTK's pseudo-VRs for the standard's ambiguous ones ('lt' is its LUT data VR).
    const special: Record<string, string[]> = { ox: ['OB or OW'], px: ['OB or OW'], xs: ['US or SS'], lt: ['US or OW', 'US or SS or OW'] };
    const mismatches: string[] = [];
    let compared = 0;
    for (const line of readFileSync(dic, 'latin1').split('\n')) {
      const m = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)\s+(\S+)\s+(\S+)/.exec(line);
      if (!m) continue; // comments, ranges, repeating groups
      const e = lookupTag(tag(parseInt(m[1]!, 16), parseInt(m[2]!, 16)));
      if (!e || e.keyword === 'GenericGroupLength' || e.vr === '') continue;
      const theirs = special[m[3]!] ?? [m[3]!];
      if (!special[m[3]!] && !/^[A-Z]{2}$/.test(m[3]!)) continue; // DCMTK-internal VRs (up, na, ...)
      compared++;
      if (!theirs.includes(e.vr)) mismatches.push(`(${m[1]},${m[2]}) ${e.keyword}: DCMTK ${m[3]} vs ${e.vr}`);
    }
    assert.ok(compared > 4000, `compared only ${compared}`);
    assert.deepEqual(mismatches, []);
  });
});

describe('lookupPrivate: REQUIREMENTS 18.2', () => {
  it('finds a Toshiba element in any block', () => {
    // (7011,xx10) OM Line Position, SL: block 0x10 is (7011,1010), block 0x13 is (7011,1310).
    for (const t of [0x70111010, 0x70111310, 0x7011ff10]) {
      const e = lookupPrivate('TOSHIBA_MEC_NM3A', t);
      assert.equal(e?.keyword, 'OMLinePosition', t.toString(16));
      assert.equal(e?.vr, 'SL');
      assert.equal(e?.vm, '1');
      assert.equal(e?.group, 0x7011);
      assert.equal(e?.offset, 0x10);
      assert.equal(e?.creator, 'TOSHIBA_MEC_NM3A');
    }
    assert.equal(lookupPrivate('TOSHIBA_MEC_NM3A', 0x70111301)?.name, 'Number of Phases');
    assert.equal(lookupPrivate('TOSHIBA_MEC_NM3A', 0x70111301)?.vr, 'SS');
  });

  it('trims the padding of the creator value (PS3.5 6.2)', () => {
    assert.equal(lookupPrivate('TOSHIBA_MEC_NM3A ', 0x70111010)?.keyword, 'OMLinePosition');
    assert.equal(lookupPrivate('GEMS_GENIE_1\0', 0x00111019)?.vr, lookupPrivate('GEMS_GENIE_1', 0x00111019)?.vr);
  });

  it('matches creator, group and offset exactly', () => {
    assert.equal(lookupPrivate('TOSHIBA_MEC_NM3B', 0x70111010), undefined);
    assert.equal(lookupPrivate('toshiba_mec_nm3a', 0x70111010), undefined);
    assert.equal(lookupPrivate('TOSHIBA_MEC_NM3A', 0x70131010), undefined);
    assert.equal(lookupPrivate('TOSHIBA_MEC_NM3A', 0x70111012), undefined);
  });

  it('answers only private data elements', () => {
    assert.equal(lookupPrivate('TOSHIBA_MEC_NM3A', 0x70110010), undefined, 'creator element');
    assert.equal(lookupPrivate('TOSHIBA_MEC_NM3A', 0x70110000), undefined, 'group length');
    assert.equal(lookupPrivate('TOSHIBA_MEC_NM3A', 0x70101010), undefined, 'even group');
  });

  it('places statements printed at absolute tags in block 0x10 (PRIV-002)', () => {
    const suv = lookupPrivate('Philips PET Private Group', 0x70531000);
    assert.equal(suv?.name, 'SUV Scale Factor');
    assert.equal(suv?.vr, 'DS');
    assert.equal(lookupPrivate('Philips PET Private Group', 0x70532000)?.name, 'SUV Scale Factor');
    // (7053,1013)-(7053,1018): six SS elements.
    for (let ee = 0x13; ee <= 0x18; ee++) assert.equal(lookupPrivate('Philips PET Private Group', 0x70531000 + ee)?.vr, 'SS');
    assert.equal(lookupPrivate('CMR42 CIRCLECVI', 0x00251030)?.vr, 'OB');
  });

  it('records elements without a published VR as UN (PRIV-004)', () => {
    const e = lookupPrivate('SIEMENS CSA HEADER', 0x00291010);
    assert.equal(e?.name, 'Modality Image Header Info');
    assert.equal(e?.vr, 'UN');
  });

  it('agrees with DCMTK private.dic on the VRs both give', (t) => {
    const dic = firstExisting('/usr/share/libdcmtk17/private.dic', '/usr/share/libdcmtk16/private.dic', '/usr/share/dcmtk/private.dic');
    if (!dic) return t.skip('DCMTK private dictionary not installed');
    // Where GE's eNTEGRA conformance statement (the source of REQUIREMENTS 18.2) and DCMTK
    // (which mostly lists these as "Unknown") disagree, the vendor's statement is kept.
    const knownDisagreements = new Set([
      '0009,GEMS_GENIE_1,40', // Patient Object Name: PN in the statement, LO in DCMTK
      '0011,GEMS_GENIE_1,37', // Acquisition Specific Correction Name: LT vs LO
      '0013,GEMS_GENIE_1,12', // RAL Flags: UL vs SL
      '0013,GEMS_GENIE_1,1c', // Axial Acceptance Angle: SL vs FD
      '0013,GEMS_GENIE_1,1d', // Theta Acceptance Value: SL vs FD
    ]);
    let compared = 0;
    const mismatches: string[] = [];
    for (const line of readFileSync(dic, 'latin1').split('\n')) {
      const m = /^\(([0-9A-Fa-f]{4}),"([^"]+)",([0-9A-Fa-f]{2})\)\s+([A-Z]{2})\s/.exec(line);
      if (!m) continue;
      const e = lookupPrivate(m[2]!, parseInt(m[1]!, 16) * 0x10000 + 0x1000 + parseInt(m[3]!, 16));
      if (!e || e.vr === 'UN') continue;
      compared++;
      if (e.vr !== m[4] && !knownDisagreements.has(`${m[1]},${m[2]},${m[3]!.toLowerCase()}`)) {
        mismatches.push(`(${m[1]},"${m[2]}",${m[3]}) ${e.name}: DCMTK ${m[4]} vs ${e.vr}`);
      }
    }
    assert.ok(compared > 50, `compared only ${compared}`);
    assert.deepEqual(mismatches, []);
  });
});

describe('UIDs', () => {
  it('knows the storage SOP classes of PS3.4 Annex B with the standard keywords', () => {
    const nm = lookupUid('1.2.840.10008.5.1.4.1.1.20');
    assert.equal(nm?.keyword, 'NuclearMedicineImageStorage');
    assert.equal(nm?.name, 'Nuclear Medicine Image Storage');
    assert.equal(nm?.type, 'SOP Class');
    assert.equal(nm?.retired, false);
    assert.equal(lookupUid('1.2.840.10008.5.1.4.1.1.128')?.keyword, 'PositronEmissionTomographyImageStorage');
    assert.equal(lookupUid('1.2.840.10008.5.1.4.1.1.2')?.keyword, 'CTImageStorage');
    assert.equal(lookupUid('1.2.840.10008.5.1.4.1.1.9.1.1')?.keyword, 'TwelveLeadECGWaveformStorage');
    assert.equal(lookupUidByKeyword('SecondaryCaptureImageStorage')?.uid, '1.2.840.10008.5.1.4.1.1.7');
    assert.equal(lookupUidByKeyword('EnhancedPETImageStorage')?.uid, '1.2.840.10008.5.1.4.1.1.130');
    assert.ok(isStorageSopClass('1.2.840.10008.5.1.4.1.1.20'));
    assert.ok(isStorageSopClass('1.2.840.10008.5.1.4.1.1.128'));
    assert.ok(isStorageSopClass('1.2.840.10008.5.1.4.1.1.88.59')); // Key Object Selection
  });

  it('keeps retired storage SOP classes, still storable', () => {
    const old = lookupUid('1.2.840.10008.5.1.4.1.1.5');
    assert.equal(old?.retired, true);
    assert.equal(old?.keyword, 'NuclearMedicineImageStorageRetired');
    assert.ok(isStorageSopClass('1.2.840.10008.5.1.4.1.1.5'));
  });

  it('tells storage from other SOP classes', () => {
    assert.equal(isStorageSopClass('1.2.840.10008.1.1'), false); // Verification
    assert.equal(isStorageSopClass('1.2.840.10008.1.20.1'), false); // Storage Commitment
    assert.equal(isStorageSopClass('1.2.840.10008.1.3.10'), false); // DICOMDIR
    assert.equal(isStorageSopClass('1.2.840.10008.5.1.4.1.2.2.1'), false); // Study Root FIND
    assert.equal(isStorageSopClass('1.2.840.10008.5.1.4.1.1.200.4'), false); // Protocol Approval FIND
    assert.equal(isStorageSopClass('1.2.840.10008.1.2.1'), false); // a transfer syntax
    assert.equal(isStorageSopClass('1.2.3.4'), false);
  });

  it('knows the services of REQUIREMENTS Appendix B and PS3.4', () => {
    const expect: [string, string, UidType][] = [
      ['1.2.840.10008.1.1', 'Verification', 'SOP Class'],
      ['1.2.840.10008.3.1.1.1', 'DICOMApplicationContext', 'Application Context Name'],
      ['1.2.840.10008.1.20.1', 'StorageCommitmentPushModel', 'SOP Class'],
      ['1.2.840.10008.1.20.1.1', 'StorageCommitmentPushModelInstance', 'Well-known SOP Instance'],
      ['1.2.840.10008.5.1.4.1.2.1.1', 'PatientRootQueryRetrieveInformationModelFind', 'SOP Class'],
      ['1.2.840.10008.5.1.4.1.2.1.2', 'PatientRootQueryRetrieveInformationModelMove', 'SOP Class'],
      ['1.2.840.10008.5.1.4.1.2.1.3', 'PatientRootQueryRetrieveInformationModelGet', 'SOP Class'],
      ['1.2.840.10008.5.1.4.1.2.2.1', 'StudyRootQueryRetrieveInformationModelFind', 'SOP Class'],
      ['1.2.840.10008.5.1.4.1.2.2.2', 'StudyRootQueryRetrieveInformationModelMove', 'SOP Class'],
      ['1.2.840.10008.5.1.4.1.2.2.3', 'StudyRootQueryRetrieveInformationModelGet', 'SOP Class'],
      ['1.2.840.10008.5.1.4.31', 'ModalityWorklistInformationModelFind', 'SOP Class'],
      ['1.2.840.10008.3.1.2.3.3', 'ModalityPerformedProcedureStep', 'SOP Class'],
      ['1.2.840.10008.5.1.4.34.6.1', 'UnifiedProcedureStepPush', 'SOP Class'],
      ['1.2.840.10008.5.1.4.34.6.2', 'UnifiedProcedureStepWatch', 'SOP Class'],
      ['1.2.840.10008.5.1.4.34.6.3', 'UnifiedProcedureStepPull', 'SOP Class'],
      ['1.2.840.10008.5.1.4.34.6.4', 'UnifiedProcedureStepEvent', 'SOP Class'],
      ['1.2.840.10008.5.1.1.9', 'BasicGrayscalePrintManagementMeta', 'Meta SOP Class'],
      ['1.2.840.10008.5.1.1.18', 'BasicColorPrintManagementMeta', 'Meta SOP Class'],
      ['1.2.840.10008.5.1.1.1', 'BasicFilmSession', 'SOP Class'],
      ['1.2.840.10008.5.1.1.2', 'BasicFilmBox', 'SOP Class'],
      ['1.2.840.10008.5.1.1.4', 'BasicGrayscaleImageBox', 'SOP Class'],
      ['1.2.840.10008.5.1.1.4.1', 'BasicColorImageBox', 'SOP Class'],
      ['1.2.840.10008.5.1.1.16', 'Printer', 'SOP Class'],
      ['1.2.840.10008.5.1.1.17', 'PrinterInstance', 'Well-known SOP Instance'],
      ['1.2.840.10008.5.1.1.14', 'PrintJob', 'SOP Class'],
      ['1.2.840.10008.5.1.1.23', 'PresentationLUT', 'SOP Class'],
      ['1.2.840.10008.1.3.10', 'MediaStorageDirectoryStorage', 'SOP Class'],
      ['1.2.840.10008.5.1.4.33', 'InstanceAvailabilityNotification', 'SOP Class'],
      ['1.2.840.10008.5.1.4.38.2', 'HangingProtocolInformationModelFind', 'SOP Class'],
    ];
    for (const [uid, keyword, type] of expect) {
      const e = lookupUid(uid);
      assert.equal(e?.keyword, keyword, uid);
      assert.equal(e?.type, type, uid);
      assert.equal(lookupUidByKeyword(keyword)?.uid, uid, keyword);
    }
    const patientStudyOnly = lookupUid('1.2.840.10008.5.1.4.1.2.3.1');
    assert.equal(patientStudyOnly?.keyword, 'PatientStudyOnlyQueryRetrieveInformationModelFind');
    assert.equal(patientStudyOnly?.retired, true);
  });

  it('knows the private UIDs of REQUIREMENTS 18.3', () => {
    assert.ok(isStorageSopClass('1.2.840.113619.4.27')); // eNTEGRA protocol data
    assert.ok(isStorageSopClass('1.3.12.2.1107.5.9.1')); // Siemens CSA Non-Image
    assert.equal(lookupUid('1.3.46.670589.33.1.4.1')?.type, 'Transfer Syntax');
  });

  it('strips the NUL padding of UI values (PS3.5 6.2)', () => {
    assert.equal(lookupUid('1.2.840.10008.1.1\0')?.keyword, 'Verification');
    assert.ok(isStorageSopClass('1.2.840.10008.5.1.4.1.1.20\0'));
  });

  it('agrees with pydicom\'s UID registry where both know a UID', (t) => {
    const file = firstExisting('/usr/lib/python3/dist-packages/pydicom/_uid_dict.py');
    if (!file) return t.skip('pydicom not installed');
    // Keywords renamed in later editions of PS3.6 than the installed pydicom's.
    const renamed = new Set(['1.2.840.10008.5.1.1.25']);
    let compared = 0;
    for (const m of readFileSync(file, 'utf8').matchAll(/^\s*'([0-9.]+)': \('([^']*)', '([^']*)', '[^']*', '([^']*)', '([^']*)'\)/gm)) {
      const [, uid, name, , retired, keyword] = m as unknown as [string, string, string, string, string, string];
      const e = lookupUid(uid);
      if (!e || renamed.has(uid)) continue;
      compared++;
      assert.equal(e.keyword, keyword, uid);
      assert.equal(e.name, name, uid);
      assert.equal(e.retired, retired === 'Retired', uid);
    }
    assert.ok(compared > 400, `compared only ${compared}`);
  });
});

type UidType = NonNullable<ReturnType<typeof lookupUid>>['type'];

describe('transfer syntaxes (PS3.5 Section 10, Annex A)', () => {
  it('describes the uncompressed ones', () => {
    const ile = transferSyntax('1.2.840.10008.1.2')!;
    assert.deepEqual([ile.explicitVR, ile.littleEndian, ile.deflated, ile.encapsulated, ile.lossy, ile.retired], [false, true, false, false, false, false]);
    const ele = transferSyntax('1.2.840.10008.1.2.1')!;
    assert.deepEqual([ele.explicitVR, ele.littleEndian, ele.encapsulated], [true, true, false]);
    const ebe = transferSyntax('1.2.840.10008.1.2.2')!;
    assert.deepEqual([ebe.explicitVR, ebe.littleEndian, ebe.retired, ebe.encapsulated], [true, false, true, false]);
    const dle = transferSyntax('1.2.840.10008.1.2.1.99')!;
    assert.deepEqual([dle.explicitVR, dle.littleEndian, dle.deflated, dle.encapsulated], [true, true, true, false]);
  });

  it('knows which compressions are lossy', () => {
    const lossless = ['.57', '.70', '.80', '.90', '.92', '.201', '.202'].map((s) => `1.2.840.10008.1.2.4${s}`).concat('1.2.840.10008.1.2.5');
    const lossy = ['.50', '.51', '.81', '.91', '.93', '.203', '.100', '.102', '.107'].map((s) => `1.2.840.10008.1.2.4${s}`);
    for (const uid of lossless) {
      const ts = transferSyntax(uid);
      assert.equal(ts?.lossy, false, uid);
      assert.equal(ts?.encapsulated, true, uid);
      assert.equal(ts?.explicitVR, true, uid);
      assert.equal(ts?.littleEndian, true, uid);
    }
    for (const uid of lossy) {
      assert.equal(transferSyntax(uid)?.lossy, true, uid);
      assert.equal(transferSyntax(uid)?.encapsulated, true, uid);
    }
    assert.equal(transferSyntax('1.2.840.10008.1.2.4.53')?.retired, true);
    assert.equal(transferSyntax('1.2.840.10008.1.2.4.55')?.retired, true);
    assert.equal(transferSyntax('1.2.840.10008.1.2.4.50')?.retired, false);
  });

  it('knows the Philips private Explicit VR Little Endian (REQUIREMENTS 18.3)', () => {
    const ts = transferSyntax('1.3.46.670589.33.1.4.1');
    assert.deepEqual([ts?.explicitVR, ts?.littleEndian, ts?.encapsulated, ts?.deflated], [true, true, false, false]);
  });

  it('accepts keywords, names and short aliases', () => {
    assert.equal(transferSyntax('ExplicitVRLittleEndian')?.uid, '1.2.840.10008.1.2.1');
    assert.equal(transferSyntax('explicitvrlittleendian')?.uid, '1.2.840.10008.1.2.1');
    assert.equal(transferSyntax('Implicit VR Little Endian')?.uid, '1.2.840.10008.1.2');
    const aliases: [string, string][] = [
      ['implicit', '1.2.840.10008.1.2'], ['ile', '1.2.840.10008.1.2'],
      ['explicit', '1.2.840.10008.1.2.1'], ['ele', '1.2.840.10008.1.2.1'], ['ELE', '1.2.840.10008.1.2.1'],
      ['big', '1.2.840.10008.1.2.2'], ['ebe', '1.2.840.10008.1.2.2'],
      ['deflate', '1.2.840.10008.1.2.1.99'],
      ['jpeg-baseline', '1.2.840.10008.1.2.4.50'], ['jpeg_baseline', '1.2.840.10008.1.2.4.50'],
      ['jpeg-lossless', '1.2.840.10008.1.2.4.70'], ['jpeg-ls', '1.2.840.10008.1.2.4.80'],
      ['j2k-lossless', '1.2.840.10008.1.2.4.90'], ['j2k', '1.2.840.10008.1.2.4.91'],
      ['rle', '1.2.840.10008.1.2.5'], ['htj2k-lossless', '1.2.840.10008.1.2.4.201'],
    ];
    for (const [alias, uid] of aliases) assert.equal(transferSyntax(alias)?.uid, uid, alias);
    // The keyword JPEGLossless is Process 14 (.57), unlike the alias 'jpeg-lossless'.
    assert.equal(transferSyntax('JPEGLossless')?.uid, '1.2.840.10008.1.2.4.57');
    assert.equal(transferSyntax('no-such-syntax'), undefined);
    assert.equal(transferSyntax('1.2.840.10008.1.2.1\0')?.keyword, 'ExplicitVRLittleEndian');
  });

  it('exports a constant per keyword and a complete list', () => {
    assert.equal(TS.ImplicitVRLittleEndian, '1.2.840.10008.1.2');
    assert.equal(TS.ExplicitVRLittleEndian, '1.2.840.10008.1.2.1');
    assert.equal(TS.ExplicitVRBigEndian, '1.2.840.10008.1.2.2');
    assert.equal(TS.DeflatedExplicitVRLittleEndian, '1.2.840.10008.1.2.1.99');
    assert.equal(TS.JPEGLosslessSV1, '1.2.840.10008.1.2.4.70');
    assert.equal(TS.RLELossless, '1.2.840.10008.1.2.5');
    const byUid = new Map(allTransferSyntaxes.map((ts) => [ts.uid, ts]));
    for (const [keyword, uid] of Object.entries(TS)) {
      assert.equal(byUid.get(uid)?.keyword, keyword);
      assert.equal(lookupUid(uid)?.type, 'Transfer Syntax', uid);
    }
    assert.equal(Object.keys(TS).length, allTransferSyntaxes.length);
    // The syntaxes of REQUIREMENTS 1.2 are all there.
    for (const s of ['2', '2.1', '2.2', '2.1.99', '2.5', '2.4.50', '2.4.51', '2.4.53', '2.4.55', '2.4.57', '2.4.70', '2.4.90', '2.4.91']) {
      assert.ok(byUid.has(`1.2.840.10008.1.${s}`), s);
    }
  });
});
