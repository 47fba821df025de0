#!/usr/bin/env node
// Generates Tracer's data dictionary (src/dicom/dictionary/*.gen.ts).
//
//   node scripts/gen-dictionary.mjs          (or: npm run gen:dictionary)
//
// Inputs (read-only, shared between projects; override the folder with TRACER_SHARED):
//   <shared>/dicom-standard/attributes.json   PS3.6 Table 6-1/7-1 data elements
//   <shared>/dicom-standard/sops.json         PS3.4 Annex B storage SOP classes
//   <shared>/spec/REQUIREMENTS.md             §18.2 private dictionary, §18.3 private UIDs
// plus the tables below, transcribed from PS3.6 Annex A (UID registry), PS3.7 Annex E
// (command dictionary) and PS3.5 Section 10 / Annex A (transfer syntax encodings).
//
// Output is committed, so it must be byte-for-byte deterministic: no timestamps, no
// absolute paths, sorted tables. The data are emitted as a few long strings that
// src/dicom/dictionary/index.ts splits lazily on first lookup; a JS string literal costs
// almost nothing to load, whereas thousands of object literals would cost milliseconds
// of parse and allocation at every CLI start.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(process.env.TRACER_SHARED ?? join(repoRoot, '..', 'shared'));
const outDir = join(repoRoot, 'src', 'dicom', 'dictionary');

const sources = {
  attributes: 'dicom-standard/attributes.json',
  sops: 'dicom-standard/sops.json',
  requirements: 'spec/REQUIREMENTS.md',
};
const text = {};
for (const [k, rel] of Object.entries(sources)) {
  try {
    text[k] = readFileSync(join(shared, rel), 'utf8');
  } catch (e) {
    fail(`cannot read ${join(shared, rel)} (${e.code ?? e.message}); set TRACER_SHARED to the shared/ folder`);
  }
}
const sha = (s) => createHash('sha256').update(s).digest('hex').slice(0, 16);

const warnings = [];
function fail(msg) {
  console.error(`gen-dictionary: ${msg}`);
  process.exit(1);
}
/** Fields are joined with TAB and records with LF, so neither may appear inside a field. */
function field(s) {
  if (/[\t\n\r]/.test(s)) fail(`field contains a tab or newline: ${JSON.stringify(s)}`);
  return s;
}
const record = (...fields) => fields.map(field).join('\t');
/** The non-empty lines of one of the tab-separated tables below. */
const tableRows = (s) => s.split('\n').filter((l) => l.trim() !== '');

// ---------------------------------------------------------------------------------------
// 1. Data elements (PS3.6 Section 6, Table 6-1; Section 7, Table 7-1; Section 8, Table 8-1)
// ---------------------------------------------------------------------------------------

/**
 * Command elements, group 0000: PS3.7 Annex E, Table E.1-1 (and retired ones, Table E.2-1).
 * They are not in attributes.json (which holds PS3.6 Tables 6-1..8-1) but every dump of a
 * DIMSE message shows them, so the dictionary carries them too.
 */
const COMMAND_ELEMENTS = `
00000000	CommandGroupLength	UL	1		Command Group Length
00000001	CommandLengthToEnd	UL	1	R	Command Length to End
00000002	AffectedSOPClassUID	UI	1		Affected SOP Class UID
00000003	RequestedSOPClassUID	UI	1		Requested SOP Class UID
00000010	CommandRecognitionCode	SH	1	R	Command Recognition Code
00000100	CommandField	US	1		Command Field
00000110	MessageID	US	1		Message ID
00000120	MessageIDBeingRespondedTo	US	1		Message ID Being Responded To
00000200	Initiator	AE	1	R	Initiator
00000300	Receiver	AE	1	R	Receiver
00000400	FindLocation	AE	1	R	Find Location
00000600	MoveDestination	AE	1		Move Destination
00000700	Priority	US	1		Priority
00000800	CommandDataSetType	US	1		Command Data Set Type
00000850	NumberOfMatches	US	1	R	Number of Matches
00000860	ResponseSequenceNumber	US	1	R	Response Sequence Number
00000900	Status	US	1		Status
00000901	OffendingElement	AT	1-n		Offending Element
00000902	ErrorComment	LO	1		Error Comment
00000903	ErrorID	US	1		Error ID
00001000	AffectedSOPInstanceUID	UI	1		Affected SOP Instance UID
00001001	RequestedSOPInstanceUID	UI	1		Requested SOP Instance UID
00001002	EventTypeID	US	1		Event Type ID
00001005	AttributeIdentifierList	AT	1-n		Attribute Identifier List
00001008	ActionTypeID	US	1		Action Type ID
00001020	NumberOfRemainingSuboperations	US	1		Number of Remaining Sub-operations
00001021	NumberOfCompletedSuboperations	US	1		Number of Completed Sub-operations
00001022	NumberOfFailedSuboperations	US	1		Number of Failed Sub-operations
00001023	NumberOfWarningSuboperations	US	1		Number of Warning Sub-operations
00001030	MoveOriginatorApplicationEntityTitle	AE	1		Move Originator Application Entity Title
00001031	MoveOriginatorMessageID	US	1		Move Originator Message ID
00004000	DialogReceiver	LT	1	R	Dialog Receiver
00004010	TerminalType	LT	1	R	Terminal Type
00005010	MessageSetID	SH	1	R	Message Set ID
00005020	EndMessageID	SH	1	R	End Message ID
00005110	DisplayFormat	LT	1	R	Display Format
00005120	PagePositionID	LT	1	R	Page Position ID
00005130	TextFormatID	CS	1	R	Text Format ID
00005140	NormalReverse	CS	1	R	Normal/Reverse
00005150	AddGrayScale	CS	1	R	Add Gray Scale
00005160	Borders	CS	1	R	Borders
00005170	Copies	IS	1	R	Copies
00005180	CommandMagnificationType	CS	1	R	Command Magnification Type
00005190	Erase	CS	1	R	Erase
000051A0	Print	CS	1	R	Print
000051B0	Overlays	US	1-n	R	Overlays
`;

function buildAttributes() {
  const rows = JSON.parse(text.attributes);
  const out = [];
  const seenTag = new Set();
  const seenKeyword = new Set();
  const add = (tag, keyword, vr, vm, retired, name) => {
    if (!/^[0-9A-FX]{8}$/.test(tag)) fail(`bad tag ${tag}`);
    if (seenTag.has(tag)) fail(`duplicate tag ${tag}`);
    seenTag.add(tag);
    if (keyword) {
      if (seenKeyword.has(keyword)) fail(`duplicate keyword ${keyword}`);
      seenKeyword.add(keyword);
    }
    out.push({ tag, line: record(tag, keyword, vr, vm, retired ? 'R' : '', name) });
  };
  for (const r of rows) {
    const m = /^\(([0-9A-Fa-fXx]{4}),([0-9A-Fa-fXx]{4})\)$/.exec(r.tag);
    if (!m) fail(`attributes.json: unreadable tag ${JSON.stringify(r.tag)}`);
    // attributes.json writes repeating-group digits as upper-case X: (60XX,3000), (1000,XXX0).
    const tag = (m[1] + m[2]).toUpperCase();
    let vr = r.valueRepresentation.trim();
    // Item and delimitation items (FFFE,E000/E00D/E0DD) have no VR; PS3.6 Table 6-1 says
    // "See Note 2" (PS3.5 7.5). A few retired rows have no VR at all.
    if (vr === 'See Note 2') vr = '';
    if (vr !== '' && !/^(?:[A-Z]{2})(?: or [A-Z]{2})*$/.test(vr)) fail(`attributes.json: unexpected VR ${JSON.stringify(vr)} at ${r.tag}`);
    if (!r.keyword) warnings.push(`attribute ${r.tag} has no keyword/name in the standard (kept, retired, VR ${vr || 'none'})`);
    add(tag, r.keyword, vr, r.valueMultiplicity, r.retired === 'Y', r.name);
  }
  for (const line of tableRows(COMMAND_ELEMENTS)) {
    const [tag, keyword, vr, vm, ret, name] = line.split('\t');
    add(tag, keyword, vr, vm, ret === 'R', name);
  }
  // Sorted by tag text so the output is stable whatever the order of the JSON.
  out.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return out.map((e) => e.line);
}

// ---------------------------------------------------------------------------------------
// 2. UIDs (PS3.6 Annex A, Table A-1)
// ---------------------------------------------------------------------------------------

/**
 * Transfer syntaxes, PS3.6 Table A-1, with the encoding facts of PS3.5 Section 10 and
 * Annex A. Columns: uid, keyword, flags, name. Flags:
 *   E explicit VR   B big endian (absent: little)   D deflated data set (PS3.5 A.5)
 *   C encapsulated pixel data (PS3.5 A.4)   L may be lossy   R retired
 * "Lossy" means the syntax allows irreversible compression (e.g. JPEG 2000 .91 may carry
 * reversible code streams too, but a receiver cannot assume it did).
 * JPIP Referenced (.94/.95/.204/.205) carry no pixel data in the data set (PS3.5 A.6), so
 * they are not encapsulated. Deflated Image Frame Compression (1.2.840.10008.1.2.8.1)
 * deflates each frame, not the data set, so it is C, not D (PS3.5 A.4.11).
 */
const TRANSFER_SYNTAXES = `
1.2.840.10008.1.2	ImplicitVRLittleEndian		Implicit VR Little Endian
1.2.840.10008.1.2.1	ExplicitVRLittleEndian	E	Explicit VR Little Endian
1.2.840.10008.1.2.1.98	EncapsulatedUncompressedExplicitVRLittleEndian	EC	Encapsulated Uncompressed Explicit VR Little Endian
1.2.840.10008.1.2.1.99	DeflatedExplicitVRLittleEndian	ED	Deflated Explicit VR Little Endian
1.2.840.10008.1.2.2	ExplicitVRBigEndian	EBR	Explicit VR Big Endian
1.2.840.10008.1.2.4.50	JPEGBaseline8Bit	ECL	JPEG Baseline (Process 1)
1.2.840.10008.1.2.4.51	JPEGExtended12Bit	ECL	JPEG Extended (Process 2 and 4)
1.2.840.10008.1.2.4.52	JPEGExtended35	ECLR	JPEG Extended (Process 3 and 5)
1.2.840.10008.1.2.4.53	JPEGSpectralSelectionNonHierarchical68	ECLR	JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)
1.2.840.10008.1.2.4.54	JPEGSpectralSelectionNonHierarchical79	ECLR	JPEG Spectral Selection, Non-Hierarchical (Process 7 and 9)
1.2.840.10008.1.2.4.55	JPEGFullProgressionNonHierarchical1012	ECLR	JPEG Full Progression, Non-Hierarchical (Process 10 and 12)
1.2.840.10008.1.2.4.56	JPEGFullProgressionNonHierarchical1113	ECLR	JPEG Full Progression, Non-Hierarchical (Process 11 and 13)
1.2.840.10008.1.2.4.57	JPEGLossless	EC	JPEG Lossless, Non-Hierarchical (Process 14)
1.2.840.10008.1.2.4.58	JPEGLosslessNonHierarchical15	ECR	JPEG Lossless, Non-Hierarchical (Process 15)
1.2.840.10008.1.2.4.59	JPEGExtendedHierarchical1618	ECLR	JPEG Extended, Hierarchical (Process 16 and 18)
1.2.840.10008.1.2.4.60	JPEGExtendedHierarchical1719	ECLR	JPEG Extended, Hierarchical (Process 17 and 19)
1.2.840.10008.1.2.4.61	JPEGSpectralSelectionHierarchical2022	ECLR	JPEG Spectral Selection, Hierarchical (Process 20 and 22)
1.2.840.10008.1.2.4.62	JPEGSpectralSelectionHierarchical2123	ECLR	JPEG Spectral Selection, Hierarchical (Process 21 and 23)
1.2.840.10008.1.2.4.63	JPEGFullProgressionHierarchical2426	ECLR	JPEG Full Progression, Hierarchical (Process 24 and 26)
1.2.840.10008.1.2.4.64	JPEGFullProgressionHierarchical2527	ECLR	JPEG Full Progression, Hierarchical (Process 25 and 27)
1.2.840.10008.1.2.4.65	JPEGLosslessHierarchical28	ECR	JPEG Lossless, Hierarchical (Process 28)
1.2.840.10008.1.2.4.66	JPEGLosslessHierarchical29	ECR	JPEG Lossless, Hierarchical (Process 29)
1.2.840.10008.1.2.4.70	JPEGLosslessSV1	EC	JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])
1.2.840.10008.1.2.4.80	JPEGLSLossless	EC	JPEG-LS Lossless Image Compression
1.2.840.10008.1.2.4.81	JPEGLSNearLossless	ECL	JPEG-LS Lossy (Near-Lossless) Image Compression
1.2.840.10008.1.2.4.90	JPEG2000Lossless	EC	JPEG 2000 Image Compression (Lossless Only)
1.2.840.10008.1.2.4.91	JPEG2000	ECL	JPEG 2000 Image Compression
1.2.840.10008.1.2.4.92	JPEG2000MCLossless	EC	JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)
1.2.840.10008.1.2.4.93	JPEG2000MC	ECL	JPEG 2000 Part 2 Multi-component Image Compression
1.2.840.10008.1.2.4.94	JPIPReferenced	E	JPIP Referenced
1.2.840.10008.1.2.4.95	JPIPReferencedDeflate	ED	JPIP Referenced Deflate
1.2.840.10008.1.2.4.100	MPEG2MPML	ECL	MPEG2 Main Profile / Main Level
1.2.840.10008.1.2.4.100.1	MPEG2MPMLF	ECL	Fragmentable MPEG2 Main Profile / Main Level
1.2.840.10008.1.2.4.101	MPEG2MPHL	ECL	MPEG2 Main Profile / High Level
1.2.840.10008.1.2.4.101.1	MPEG2MPHLF	ECL	Fragmentable MPEG2 Main Profile / High Level
1.2.840.10008.1.2.4.102	MPEG4HP41	ECL	MPEG-4 AVC/H.264 High Profile / Level 4.1
1.2.840.10008.1.2.4.102.1	MPEG4HP41F	ECL	Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1
1.2.840.10008.1.2.4.103	MPEG4HP41BD	ECL	MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1
1.2.840.10008.1.2.4.103.1	MPEG4HP41BDF	ECL	Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1
1.2.840.10008.1.2.4.104	MPEG4HP422D	ECL	MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video
1.2.840.10008.1.2.4.104.1	MPEG4HP422DF	ECL	Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video
1.2.840.10008.1.2.4.105	MPEG4HP423D	ECL	MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video
1.2.840.10008.1.2.4.105.1	MPEG4HP423DF	ECL	Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video
1.2.840.10008.1.2.4.106	MPEG4HP42STEREO	ECL	MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2
1.2.840.10008.1.2.4.106.1	MPEG4HP42STEREOF	ECL	Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2
1.2.840.10008.1.2.4.107	HEVCMP51	ECL	HEVC/H.265 Main Profile / Level 5.1
1.2.840.10008.1.2.4.108	HEVCM10P51	ECL	HEVC/H.265 Main 10 Profile / Level 5.1
1.2.840.10008.1.2.4.110	JPEGXLLossless	EC	JPEG XL Lossless
1.2.840.10008.1.2.4.111	JPEGXLJPEGRecompression	ECL	JPEG XL JPEG Recompression
1.2.840.10008.1.2.4.112	JPEGXL	ECL	JPEG XL
1.2.840.10008.1.2.4.201	HTJ2KLossless	EC	High-Throughput JPEG 2000 Image Compression (Lossless Only)
1.2.840.10008.1.2.4.202	HTJ2KLosslessRPCL	EC	High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)
1.2.840.10008.1.2.4.203	HTJ2K	ECL	High-Throughput JPEG 2000 Image Compression
1.2.840.10008.1.2.4.204	JPIPHTJ2KReferenced	E	JPIP HTJ2K Referenced
1.2.840.10008.1.2.4.205	JPIPHTJ2KReferencedDeflate	ED	JPIP HTJ2K Referenced Deflate
1.2.840.10008.1.2.5	RLELossless	EC	RLE Lossless
1.2.840.10008.1.2.6.1	RFC2557MIMEEncapsulation	ER	RFC 2557 MIME encapsulation
1.2.840.10008.1.2.6.2	XMLEncoding	ER	XML Encoding
1.2.840.10008.1.2.7.1	SMPTEST211020UncompressedProgressiveActiveVideo	E	SMPTE ST 2110-20 Uncompressed Progressive Active Video
1.2.840.10008.1.2.7.2	SMPTEST211020UncompressedInterlacedActiveVideo	E	SMPTE ST 2110-20 Uncompressed Interlaced Active Video
1.2.840.10008.1.2.7.3	SMPTEST211030PCMDigitalAudio	E	SMPTE ST 2110-30 PCM Digital Audio
1.2.840.10008.1.2.8.1	DeflatedImageFrameCompression	EC	Deflated Image Frame Compression
1.2.840.10008.1.20	Papyrus3ImplicitVRLittleEndian	R	Papyrus 3 Implicit VR Little Endian
`;

/**
 * Transfer syntaxes outside the standard that Tracer must recognise (REQUIREMENTS 1.2,
 * 18.3, PRIV-007). The Philips one is plain Explicit VR Little Endian under a private UID.
 */
const PRIVATE_TRANSFER_SYNTAXES = `
1.3.46.670589.33.1.4.1	PhilipsPrivateExplicitVRLittleEndian	E	Philips Private Explicit VR Little Endian
`;

/**
 * Non-storage UIDs of PS3.6 Table A-1 (SOP classes of PS3.4 other than Annex B storage,
 * meta SOP classes, well-known instances, the application context, service classes,
 * well-known frames of reference, coding schemes), and storage SOP classes that sops.json
 * leaves out (retired ones, DICOS, DICONDE, and a few added to the standard after it).
 * LDAP OIDs (PS3.15) are left out: they never appear in a data set or an association.
 * Columns: uid, type, flags, keyword, name. Type: C SOP class, S storage SOP class,
 * M meta SOP class, W well-known SOP instance, A application context name, O other.
 * Flag R: retired.
 */
const OTHER_UIDS = `
1.2.840.10008.1.1	C		Verification	Verification SOP Class
1.2.840.10008.1.4.1.1	O		TalairachBrainAtlas	Talairach Brain Atlas Frame of Reference
1.2.840.10008.1.4.1.2	O		SPM2T1	SPM2 T1 Frame of Reference
1.2.840.10008.1.4.1.3	O		SPM2T2	SPM2 T2 Frame of Reference
1.2.840.10008.1.4.1.4	O		SPM2PD	SPM2 PD Frame of Reference
1.2.840.10008.1.4.1.5	O		SPM2EPI	SPM2 EPI Frame of Reference
1.2.840.10008.1.4.1.6	O		SPM2FILT1	SPM2 FIL T1 Frame of Reference
1.2.840.10008.1.4.1.7	O		SPM2PET	SPM2 PET Frame of Reference
1.2.840.10008.1.4.1.8	O		SPM2TRANSM	SPM2 TRANSM Frame of Reference
1.2.840.10008.1.4.1.9	O		SPM2SPECT	SPM2 SPECT Frame of Reference
1.2.840.10008.1.4.1.10	O		SPM2GRAY	SPM2 GRAY Frame of Reference
1.2.840.10008.1.4.1.11	O		SPM2WHITE	SPM2 WHITE Frame of Reference
1.2.840.10008.1.4.1.12	O		SPM2CSF	SPM2 CSF Frame of Reference
1.2.840.10008.1.4.1.13	O		SPM2BRAINMASK	SPM2 BRAINMASK Frame of Reference
1.2.840.10008.1.4.1.14	O		SPM2AVG305T1	SPM2 AVG305T1 Frame of Reference
1.2.840.10008.1.4.1.15	O		SPM2AVG152T1	SPM2 AVG152T1 Frame of Reference
1.2.840.10008.1.4.1.16	O		SPM2AVG152T2	SPM2 AVG152T2 Frame of Reference
1.2.840.10008.1.4.1.17	O		SPM2AVG152PD	SPM2 AVG152PD Frame of Reference
1.2.840.10008.1.4.1.18	O		SPM2SINGLESUBJT1	SPM2 SINGLESUBJT1 Frame of Reference
1.2.840.10008.1.4.2.1	O		ICBM452T1	ICBM 452 T1 Frame of Reference
1.2.840.10008.1.4.2.2	O		ICBMSingleSubjectMRI	ICBM Single Subject MRI Frame of Reference
1.2.840.10008.1.4.3.1	O		IEC61217FixedCoordinateSystem	IEC 61217 Fixed Coordinate System Frame of Reference
1.2.840.10008.1.4.3.2	O		StandardRoboticArmCoordinateSystem	Standard Robotic-Arm Coordinate System Frame of Reference
1.2.840.10008.1.4.3.3	O		IEC61217TableTopCoordinateSystem	IEC 61217 Table Top Coordinate System Frame of Reference
1.2.840.10008.1.4.4.1	O		SRI24	SRI24 Frame of Reference
1.2.840.10008.1.4.5.1	O		Colin27	Colin27 Frame of Reference
1.2.840.10008.1.4.6.1	O		LPBA40AIR	LPBA40/AIR Frame of Reference
1.2.840.10008.1.4.6.2	O		LPBA40FLIRT	LPBA40/FLIRT Frame of Reference
1.2.840.10008.1.4.6.3	O		LPBA40SPM5	LPBA40/SPM5 Frame of Reference
1.2.840.10008.1.5.1	W		HotIronPalette	Hot Iron Color Palette SOP Instance
1.2.840.10008.1.5.2	W		PETPalette	PET Color Palette SOP Instance
1.2.840.10008.1.5.3	W		HotMetalBluePalette	Hot Metal Blue Color Palette SOP Instance
1.2.840.10008.1.5.4	W		PET20StepPalette	PET 20 Step Color Palette SOP Instance
1.2.840.10008.1.5.5	W		SpringPalette	Spring Color Palette SOP Instance
1.2.840.10008.1.5.6	W		SummerPalette	Summer Color Palette SOP Instance
1.2.840.10008.1.5.7	W		FallPalette	Fall Color Palette SOP Instance
1.2.840.10008.1.5.8	W		WinterPalette	Winter Color Palette SOP Instance
1.2.840.10008.1.9	C	R	BasicStudyContentNotification	Basic Study Content Notification SOP Class
1.2.840.10008.1.20.1	C		StorageCommitmentPushModel	Storage Commitment Push Model SOP Class
1.2.840.10008.1.20.1.1	W		StorageCommitmentPushModelInstance	Storage Commitment Push Model SOP Instance
1.2.840.10008.1.20.2	C	R	StorageCommitmentPullModel	Storage Commitment Pull Model SOP Class
1.2.840.10008.1.20.2.1	W	R	StorageCommitmentPullModelInstance	Storage Commitment Pull Model SOP Instance
1.2.840.10008.1.40	C		ProceduralEventLogging	Procedural Event Logging SOP Class
1.2.840.10008.1.40.1	W		ProceduralEventLoggingInstance	Procedural Event Logging SOP Instance
1.2.840.10008.1.42	C		SubstanceAdministrationLogging	Substance Administration Logging SOP Class
1.2.840.10008.1.42.1	W		SubstanceAdministrationLoggingInstance	Substance Administration Logging SOP Instance
1.2.840.10008.2.6.1	O		DCMUID	DICOM UID Registry
1.2.840.10008.2.16.4	O		DCM	DICOM Controlled Terminology
1.2.840.10008.2.16.5	O		MA	Adult Mouse Anatomy Ontology
1.2.840.10008.2.16.6	O		UBERON	Uberon Ontology
1.2.840.10008.2.16.7	O		ITIS_TSN	Integrated Taxonomic Information System (ITIS) Taxonomic Serial Number (TSN)
1.2.840.10008.2.16.8	O		MGI	Mouse Genome Initiative (MGI)
1.2.840.10008.2.16.9	O		PUBCHEM_CID	PubChem Compound CID
1.2.840.10008.2.16.10	O		DC	Dublin Core
1.2.840.10008.2.16.11	O		NYUMCCG	New York University Melanoma Clinical Cooperative Group
1.2.840.10008.2.16.12	O		MAYONRISBSASRG	Mayo Clinic Non-radiological Images Specific Body Structure Anatomical Surface Region Guide
1.2.840.10008.2.16.13	O		IBSI	Image Biomarker Standardisation Initiative
1.2.840.10008.2.16.14	O		RO	Radiomics Ontology
1.2.840.10008.2.16.15	O		RADELEMENT	RadElement
1.2.840.10008.2.16.16	O		I11	ICD-11
1.2.840.10008.2.16.17	O		UNS	Unified numbering system (UNS) for metals and alloys
1.2.840.10008.2.16.18	O		RRID	Research Resource Identification
1.2.840.10008.3.1.1.1	A		DICOMApplicationContext	DICOM Application Context Name
1.2.840.10008.3.1.2.1.1	C	R	DetachedPatientManagement	Detached Patient Management SOP Class
1.2.840.10008.3.1.2.1.4	M	R	DetachedPatientManagementMeta	Detached Patient Management Meta SOP Class
1.2.840.10008.3.1.2.2.1	C	R	DetachedVisitManagement	Detached Visit Management SOP Class
1.2.840.10008.3.1.2.3.1	C	R	DetachedStudyManagement	Detached Study Management SOP Class
1.2.840.10008.3.1.2.3.2	C	R	StudyComponentManagement	Study Component Management SOP Class
1.2.840.10008.3.1.2.3.3	C		ModalityPerformedProcedureStep	Modality Performed Procedure Step SOP Class
1.2.840.10008.3.1.2.3.4	C		ModalityPerformedProcedureStepRetrieve	Modality Performed Procedure Step Retrieve SOP Class
1.2.840.10008.3.1.2.3.5	C		ModalityPerformedProcedureStepNotification	Modality Performed Procedure Step Notification SOP Class
1.2.840.10008.3.1.2.5.1	C	R	DetachedResultsManagement	Detached Results Management SOP Class
1.2.840.10008.3.1.2.5.4	M	R	DetachedResultsManagementMeta	Detached Results Management Meta SOP Class
1.2.840.10008.3.1.2.5.5	M	R	DetachedStudyManagementMeta	Detached Study Management Meta SOP Class
1.2.840.10008.3.1.2.6.1	C	R	DetachedInterpretationManagement	Detached Interpretation Management SOP Class
1.2.840.10008.4.2	O		Storage	Storage Service Class
1.2.840.10008.5.1.1.1	C		BasicFilmSession	Basic Film Session SOP Class
1.2.840.10008.5.1.1.2	C		BasicFilmBox	Basic Film Box SOP Class
1.2.840.10008.5.1.1.4	C		BasicGrayscaleImageBox	Basic Grayscale Image Box SOP Class
1.2.840.10008.5.1.1.4.1	C		BasicColorImageBox	Basic Color Image Box SOP Class
1.2.840.10008.5.1.1.4.2	C	R	ReferencedImageBox	Referenced Image Box SOP Class
1.2.840.10008.5.1.1.9	M		BasicGrayscalePrintManagementMeta	Basic Grayscale Print Management Meta SOP Class
1.2.840.10008.5.1.1.9.1	M	R	ReferencedGrayscalePrintManagementMeta	Referenced Grayscale Print Management Meta SOP Class
1.2.840.10008.5.1.1.14	C		PrintJob	Print Job SOP Class
1.2.840.10008.5.1.1.15	C		BasicAnnotationBox	Basic Annotation Box SOP Class
1.2.840.10008.5.1.1.16	C		Printer	Printer SOP Class
1.2.840.10008.5.1.1.16.376	C		PrinterConfigurationRetrieval	Printer Configuration Retrieval SOP Class
1.2.840.10008.5.1.1.17	W		PrinterInstance	Printer SOP Instance
1.2.840.10008.5.1.1.17.376	W		PrinterConfigurationRetrievalInstance	Printer Configuration Retrieval SOP Instance
1.2.840.10008.5.1.1.18	M		BasicColorPrintManagementMeta	Basic Color Print Management Meta SOP Class
1.2.840.10008.5.1.1.18.1	M	R	ReferencedColorPrintManagementMeta	Referenced Color Print Management Meta SOP Class
1.2.840.10008.5.1.1.22	C		VOILUTBox	VOI LUT Box SOP Class
1.2.840.10008.5.1.1.23	C		PresentationLUT	Presentation LUT SOP Class
1.2.840.10008.5.1.1.24	C	R	ImageOverlayBox	Image Overlay Box SOP Class
1.2.840.10008.5.1.1.24.1	C	R	BasicPrintImageOverlayBox	Basic Print Image Overlay Box SOP Class
1.2.840.10008.5.1.1.25	W	R	PrintQueueInstance	Print Queue SOP Instance
1.2.840.10008.5.1.1.26	C	R	PrintQueueManagement	Print Queue Management SOP Class
1.2.840.10008.5.1.1.27	S	R	StoredPrintStorage	Stored Print Storage SOP Class
1.2.840.10008.5.1.1.29	S	R	HardcopyGrayscaleImageStorage	Hardcopy Grayscale Image Storage SOP Class
1.2.840.10008.5.1.1.30	S	R	HardcopyColorImageStorage	Hardcopy Color Image Storage SOP Class
1.2.840.10008.5.1.1.31	C	R	PullPrintRequest	Pull Print Request SOP Class
1.2.840.10008.5.1.1.32	M	R	PullStoredPrintManagementMeta	Pull Stored Print Management Meta SOP Class
1.2.840.10008.5.1.1.33	C		MediaCreationManagement	Media Creation Management SOP Class UID
1.2.840.10008.5.1.1.40	C		DisplaySystem	Display System SOP Class
1.2.840.10008.5.1.1.40.1	W		DisplaySystemInstance	Display System SOP Instance
1.2.840.10008.5.1.4.1.1.3	S	R	UltrasoundMultiFrameImageStorageRetired	Ultrasound Multi-frame Image Storage
1.2.840.10008.5.1.4.1.1.5	S	R	NuclearMedicineImageStorageRetired	Nuclear Medicine Image Storage
1.2.840.10008.5.1.4.1.1.6	S	R	UltrasoundImageStorageRetired	Ultrasound Image Storage
1.2.840.10008.5.1.4.1.1.8	S	R	StandaloneOverlayStorage	Standalone Overlay Storage
1.2.840.10008.5.1.4.1.1.9	S	R	StandaloneCurveStorage	Standalone Curve Storage
1.2.840.10008.5.1.4.1.1.9.1	S	R	WaveformStorageTrial	Waveform Storage - Trial
1.2.840.10008.5.1.4.1.1.10	S	R	StandaloneModalityLUTStorage	Standalone Modality LUT Storage
1.2.840.10008.5.1.4.1.1.11	S	R	StandaloneVOILUTStorage	Standalone VOI LUT Storage
1.2.840.10008.5.1.4.1.1.12.3	S	R	XRayAngiographicBiPlaneImageStorage	X-Ray Angiographic Bi-Plane Image Storage
1.2.840.10008.5.1.4.1.1.66.7	S		LabelMapSegmentationStorage	Label Map Segmentation Storage
1.2.840.10008.5.1.4.1.1.66.8	S		HeightMapSegmentationStorage	Height Map Segmentation Storage
1.2.840.10008.5.1.4.1.1.77.1	S	R	VLImageStorageTrial	VL Image Storage - Trial
1.2.840.10008.5.1.4.1.1.77.2	S	R	VLMultiFrameImageStorageTrial	VL Multi-frame Image Storage - Trial
1.2.840.10008.5.1.4.1.1.88.1	S	R	TextSRStorageTrial	Text SR Storage - Trial
1.2.840.10008.5.1.4.1.1.88.2	S	R	AudioSRStorageTrial	Audio SR Storage - Trial
1.2.840.10008.5.1.4.1.1.88.3	S	R	DetailSRStorageTrial	Detail SR Storage - Trial
1.2.840.10008.5.1.4.1.1.88.4	S	R	ComprehensiveSRStorageTrial	Comprehensive SR Storage - Trial
1.2.840.10008.5.1.4.1.1.88.77	S		WaveformAnnotationSRStorage	Waveform Annotation SR Storage
1.2.840.10008.5.1.4.1.1.129	S	R	StandalonePETCurveStorage	Standalone PET Curve Storage
1.2.840.10008.5.1.4.1.1.200.4	C		ProtocolApprovalInformationModelFind	Protocol Approval Information Model - FIND
1.2.840.10008.5.1.4.1.1.200.5	C		ProtocolApprovalInformationModelMove	Protocol Approval Information Model - MOVE
1.2.840.10008.5.1.4.1.1.200.6	C		ProtocolApprovalInformationModelGet	Protocol Approval Information Model - GET
1.2.840.10008.5.1.4.1.1.201.1.1	W		StorageManagementInstance	Storage Management SOP Instance
1.2.840.10008.5.1.4.1.1.201.2	C		InventoryFind	Inventory - FIND
1.2.840.10008.5.1.4.1.1.201.3	C		InventoryMove	Inventory - MOVE
1.2.840.10008.5.1.4.1.1.201.4	C		InventoryGet	Inventory - GET
1.2.840.10008.5.1.4.1.1.201.5	C		InventoryCreation	Inventory Creation
1.2.840.10008.5.1.4.1.1.201.6	C		RepositoryQuery	Repository Query
1.2.840.10008.5.1.4.1.1.501.1	S		DICOSCTImageStorage	DICOS CT Image Storage
1.2.840.10008.5.1.4.1.1.501.2.1	S		DICOSDigitalXRayImageStorageForPresentation	DICOS Digital X-Ray Image Storage - For Presentation
1.2.840.10008.5.1.4.1.1.501.2.2	S		DICOSDigitalXRayImageStorageForProcessing	DICOS Digital X-Ray Image Storage - For Processing
1.2.840.10008.5.1.4.1.1.501.3	S		DICOSThreatDetectionReportStorage	DICOS Threat Detection Report Storage
1.2.840.10008.5.1.4.1.1.501.4	S		DICOS2DAITStorage	DICOS 2D AIT Storage
1.2.840.10008.5.1.4.1.1.501.5	S		DICOS3DAITStorage	DICOS 3D AIT Storage
1.2.840.10008.5.1.4.1.1.501.6	S		DICOSQuadrupoleResonanceStorage	DICOS Quadrupole Resonance (QR) Storage
1.2.840.10008.5.1.4.1.1.601.1	S		EddyCurrentImageStorage	Eddy Current Image Storage
1.2.840.10008.5.1.4.1.1.601.2	S		EddyCurrentMultiFrameImageStorage	Eddy Current Multi-frame Image Storage
1.2.840.10008.5.1.4.1.1.601.3	S		ThermographyImageStorage	Thermography Image Storage
1.2.840.10008.5.1.4.1.1.601.4	S		ThermographyMultiFrameImageStorage	Thermography Multi-frame Image Storage
1.2.840.10008.5.1.4.1.2.1.1	C		PatientRootQueryRetrieveInformationModelFind	Patient Root Query/Retrieve Information Model - FIND
1.2.840.10008.5.1.4.1.2.1.2	C		PatientRootQueryRetrieveInformationModelMove	Patient Root Query/Retrieve Information Model - MOVE
1.2.840.10008.5.1.4.1.2.1.3	C		PatientRootQueryRetrieveInformationModelGet	Patient Root Query/Retrieve Information Model - GET
1.2.840.10008.5.1.4.1.2.2.1	C		StudyRootQueryRetrieveInformationModelFind	Study Root Query/Retrieve Information Model - FIND
1.2.840.10008.5.1.4.1.2.2.2	C		StudyRootQueryRetrieveInformationModelMove	Study Root Query/Retrieve Information Model - MOVE
1.2.840.10008.5.1.4.1.2.2.3	C		StudyRootQueryRetrieveInformationModelGet	Study Root Query/Retrieve Information Model - GET
1.2.840.10008.5.1.4.1.2.3.1	C	R	PatientStudyOnlyQueryRetrieveInformationModelFind	Patient/Study Only Query/Retrieve Information Model - FIND
1.2.840.10008.5.1.4.1.2.3.2	C	R	PatientStudyOnlyQueryRetrieveInformationModelMove	Patient/Study Only Query/Retrieve Information Model - MOVE
1.2.840.10008.5.1.4.1.2.3.3	C	R	PatientStudyOnlyQueryRetrieveInformationModelGet	Patient/Study Only Query/Retrieve Information Model - GET
1.2.840.10008.5.1.4.1.2.4.2	C		CompositeInstanceRootRetrieveMove	Composite Instance Root Retrieve - MOVE
1.2.840.10008.5.1.4.1.2.4.3	C		CompositeInstanceRootRetrieveGet	Composite Instance Root Retrieve - GET
1.2.840.10008.5.1.4.1.2.5.3	C		CompositeInstanceRetrieveWithoutBulkDataGet	Composite Instance Retrieve Without Bulk Data - GET
1.2.840.10008.5.1.4.20.1	C		DefinedProcedureProtocolInformationModelFind	Defined Procedure Protocol Information Model - FIND
1.2.840.10008.5.1.4.20.2	C		DefinedProcedureProtocolInformationModelMove	Defined Procedure Protocol Information Model - MOVE
1.2.840.10008.5.1.4.20.3	C		DefinedProcedureProtocolInformationModelGet	Defined Procedure Protocol Information Model - GET
1.2.840.10008.5.1.4.31	C		ModalityWorklistInformationModelFind	Modality Worklist Information Model - FIND
1.2.840.10008.5.1.4.32	M	R	GeneralPurposeWorklistManagementMeta	General Purpose Worklist Management Meta SOP Class
1.2.840.10008.5.1.4.32.1	C	R	GeneralPurposeWorklistInformationModelFind	General Purpose Worklist Information Model - FIND
1.2.840.10008.5.1.4.32.2	C	R	GeneralPurposeScheduledProcedureStep	General Purpose Scheduled Procedure Step SOP Class
1.2.840.10008.5.1.4.32.3	C	R	GeneralPurposePerformedProcedureStep	General Purpose Performed Procedure Step SOP Class
1.2.840.10008.5.1.4.33	C		InstanceAvailabilityNotification	Instance Availability Notification SOP Class
1.2.840.10008.5.1.4.34.1	S	R	RTBeamsDeliveryInstructionStorageTrial	RT Beams Delivery Instruction Storage - Trial
1.2.840.10008.5.1.4.34.2	C	R	RTConventionalMachineVerificationTrial	RT Conventional Machine Verification - Trial
1.2.840.10008.5.1.4.34.3	C	R	RTIonMachineVerificationTrial	RT Ion Machine Verification - Trial
1.2.840.10008.5.1.4.34.4	O	R	UnifiedWorklistAndProcedureStepTrial	Unified Worklist and Procedure Step Service Class - Trial
1.2.840.10008.5.1.4.34.4.1	C	R	UnifiedProcedureStepPushTrial	Unified Procedure Step - Push SOP Class - Trial
1.2.840.10008.5.1.4.34.4.2	C	R	UnifiedProcedureStepWatchTrial	Unified Procedure Step - Watch SOP Class - Trial
1.2.840.10008.5.1.4.34.4.3	C	R	UnifiedProcedureStepPullTrial	Unified Procedure Step - Pull SOP Class - Trial
1.2.840.10008.5.1.4.34.4.4	C	R	UnifiedProcedureStepEventTrial	Unified Procedure Step - Event SOP Class - Trial
1.2.840.10008.5.1.4.34.5	W		UPSGlobalSubscriptionInstance	UPS Global Subscription SOP Instance
1.2.840.10008.5.1.4.34.5.1	W		UPSFilteredGlobalSubscriptionInstance	UPS Filtered Global Subscription SOP Instance
1.2.840.10008.5.1.4.34.6	O		UnifiedWorklistAndProcedureStep	Unified Worklist and Procedure Step Service Class
1.2.840.10008.5.1.4.34.6.1	C		UnifiedProcedureStepPush	Unified Procedure Step - Push SOP Class
1.2.840.10008.5.1.4.34.6.2	C		UnifiedProcedureStepWatch	Unified Procedure Step - Watch SOP Class
1.2.840.10008.5.1.4.34.6.3	C		UnifiedProcedureStepPull	Unified Procedure Step - Pull SOP Class
1.2.840.10008.5.1.4.34.6.4	C		UnifiedProcedureStepEvent	Unified Procedure Step - Event SOP Class
1.2.840.10008.5.1.4.34.6.5	C		UnifiedProcedureStepQuery	Unified Procedure Step - Query SOP Class
1.2.840.10008.5.1.4.34.8	C		RTConventionalMachineVerification	RT Conventional Machine Verification
1.2.840.10008.5.1.4.34.9	C		RTIonMachineVerification	RT Ion Machine Verification
1.2.840.10008.5.1.4.37.1	C		GeneralRelevantPatientInformationQuery	General Relevant Patient Information Query
1.2.840.10008.5.1.4.37.2	C		BreastImagingRelevantPatientInformationQuery	Breast Imaging Relevant Patient Information Query
1.2.840.10008.5.1.4.37.3	C		CardiacRelevantPatientInformationQuery	Cardiac Relevant Patient Information Query
1.2.840.10008.5.1.4.38.2	C		HangingProtocolInformationModelFind	Hanging Protocol Information Model - FIND
1.2.840.10008.5.1.4.38.3	C		HangingProtocolInformationModelMove	Hanging Protocol Information Model - MOVE
1.2.840.10008.5.1.4.38.4	C		HangingProtocolInformationModelGet	Hanging Protocol Information Model - GET
1.2.840.10008.5.1.4.39.2	C		ColorPaletteQueryRetrieveInformationModelFind	Color Palette Query/Retrieve Information Model - FIND
1.2.840.10008.5.1.4.39.3	C		ColorPaletteQueryRetrieveInformationModelMove	Color Palette Query/Retrieve Information Model - MOVE
1.2.840.10008.5.1.4.39.4	C		ColorPaletteQueryRetrieveInformationModelGet	Color Palette Query/Retrieve Information Model - GET
1.2.840.10008.5.1.4.41	C		ProductCharacteristicsQuery	Product Characteristics Query SOP Class
1.2.840.10008.5.1.4.42	C		SubstanceApprovalQuery	Substance Approval Query SOP Class
1.2.840.10008.5.1.4.43.2	C		GenericImplantTemplateInformationModelFind	Generic Implant Template Information Model - FIND
1.2.840.10008.5.1.4.43.3	C		GenericImplantTemplateInformationModelMove	Generic Implant Template Information Model - MOVE
1.2.840.10008.5.1.4.43.4	C		GenericImplantTemplateInformationModelGet	Generic Implant Template Information Model - GET
1.2.840.10008.5.1.4.44.2	C		ImplantAssemblyTemplateInformationModelFind	Implant Assembly Template Information Model - FIND
1.2.840.10008.5.1.4.44.3	C		ImplantAssemblyTemplateInformationModelMove	Implant Assembly Template Information Model - MOVE
1.2.840.10008.5.1.4.44.4	C		ImplantAssemblyTemplateInformationModelGet	Implant Assembly Template Information Model - GET
1.2.840.10008.5.1.4.45.2	C		ImplantTemplateGroupInformationModelFind	Implant Template Group Information Model - FIND
1.2.840.10008.5.1.4.45.3	C		ImplantTemplateGroupInformationModelMove	Implant Template Group Information Model - MOVE
1.2.840.10008.5.1.4.45.4	C		ImplantTemplateGroupInformationModelGet	Implant Template Group Information Model - GET
1.2.840.10008.7.1.1	O		NativeDICOMModel	Native DICOM Model
1.2.840.10008.7.1.2	O		AbstractMultiDimensionalImageModel	Abstract Multi-Dimensional Image Model
1.2.840.10008.8.1.1	O		DICOMContentMappingResource	DICOM Content Mapping Resource
1.2.840.10008.10.1	C		VideoEndoscopicImageRealTimeCommunication	Video Endoscopic Image Real-Time Communication
1.2.840.10008.10.2	C		VideoPhotographicImageRealTimeCommunication	Video Photographic Image Real-Time Communication
1.2.840.10008.10.3	C		AudioWaveformRealTimeCommunication	Audio Waveform Real-Time Communication
1.2.840.10008.10.4	C		RenditionSelectionDocumentRealTimeCommunication	Rendition Selection Document Real-Time Communication
1.2.840.10008.15.1.1	O		UTC	Universal Coordinated Time
`;

/**
 * Keywords of PS3.6 Table A-1 that are not simply the SOP class name with spaces and
 * punctuation removed and each word capitalised (the standard assigns them by hand).
 */
const SOP_KEYWORD_EXCEPTIONS = new Map([
  ['1.2.840.10008.5.1.4.1.1.9.1.1', 'TwelveLeadECGWaveformStorage'],
  ['1.2.840.10008.5.1.4.1.1.9.1.4', 'General32bitECGWaveformStorage'],
  ['1.2.840.10008.5.1.4.1.1.9.6.2', 'MultichannelRespiratoryWaveformStorage'],
  ['1.2.840.10008.5.1.4.1.1.77.1.5.8', 'OphthalmicOpticalCoherenceTomographyBscanVolumeAnalysisStorage'],
]);
/** sops.json names that differ from PS3.6 Table A-1. */
const SOP_NAME_FIXES = new Map([
  ['1.2.840.10008.5.1.4.1.1.79.1', 'Macular Grid Thickness and Volume Report Storage'],
]);
/**
 * sops.json lists the Basic Directory IOD (DICOMDIR) among its SOP classes, but Media
 * Storage Directory Storage is a Media Storage SOP class only (PS3.4 Annex I, Table I.4-1),
 * absent from the Storage Service Class (PS3.4 Table B.5-1): it is never sent by C-STORE.
 * Keep it in the registry, but not as a storage SOP class.
 */
const NOT_STORAGE = new Set(['1.2.840.10008.1.3.10']);

/** PS3.6 keyword style: words capitalised and run together, punctuation dropped. */
function standardKeyword(name) {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
}

function buildUids() {
  const entries = new Map(); // uid -> {type, flags, keyword, name}
  const add = (uid, type, flags, keyword, name, origin) => {
    if (!/^[0-9]+(\.[0-9]+)*$/.test(uid) || uid.length > 64) fail(`${origin}: bad UID ${uid}`);
    if (entries.has(uid)) fail(`${origin}: duplicate UID ${uid}`);
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(keyword)) fail(`${origin}: bad keyword ${keyword} for ${uid}`);
    entries.set(uid, { type, flags, keyword, name });
  };

  for (const s of JSON.parse(text.sops)) {
    const name = SOP_NAME_FIXES.get(s.id) ?? s.name.trim();
    const keyword = SOP_KEYWORD_EXCEPTIONS.get(s.id) ?? standardKeyword(name);
    add(s.id, NOT_STORAGE.has(s.id) ? 'C' : 'S', '', keyword, name, 'sops.json');
  }
  for (const line of tableRows(OTHER_UIDS)) {
    const [uid, type, flags, keyword, name] = line.split('\t');
    add(uid, type, flags, keyword, name, 'OTHER_UIDS');
  }
  for (const line of tableRows(TRANSFER_SYNTAXES + PRIVATE_TRANSFER_SYNTAXES)) {
    const [uid, keyword, flags, name] = line.split('\t');
    add(uid, 'T', flags.includes('R') ? 'R' : '', keyword, name, 'TRANSFER_SYNTAXES');
  }
  for (const p of parsePrivateUids()) add(p.uid, p.type, '', p.keyword, p.name, 'REQUIREMENTS §18.3');

  const keywords = new Set();
  for (const [uid, e] of entries) {
    if (keywords.has(e.keyword)) fail(`duplicate UID keyword ${e.keyword} (${uid})`);
    keywords.add(e.keyword);
  }
  const cmp = (a, b) => {
    const pa = a.split('.'), pb = b.split('.');
    for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
      const d = Number(pa[i]) - Number(pb[i]);
      if (d) return d;
    }
    return pa.length - pb.length;
  };
  return [...entries.keys()].sort(cmp).map((uid) => {
    const e = entries.get(uid);
    return record(uid, e.type, e.flags, e.keyword, e.name);
  });
}

/** Rows of a markdown pipe table under the heading that starts with `heading`. */
function markdownTable(heading) {
  const lines = text.requirements.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) fail(`REQUIREMENTS.md: heading "${heading}" not found`);
  const rows = [];
  let header;
  for (let i = start + 1; i < lines.length && !/^#{1,3} /.test(lines[i]); i++) {
    const l = lines[i].trim();
    if (!l.startsWith('|')) continue;
    const cells = l.slice(1, l.endsWith('|') ? -1 : undefined).split('|').map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    if (!header) header = cells;
    else rows.push({ line: i + 1, cells });
  }
  if (!header) fail(`REQUIREMENTS.md: no table under "${heading}"`);
  return { header, rows };
}

/**
 * REQUIREMENTS §18.3: private SOP classes and UIDs. Transfer syntaxes there must already be
 * in PRIVATE_TRANSFER_SYNTAXES (their encoding flags cannot be parsed from prose); rows
 * whose first cell holds no UID (private coding scheme designators) are not UIDs.
 */
function parsePrivateUids() {
  const { rows } = markdownTable('### 18.3 ');
  const out = [];
  for (const { line, cells } of rows) {
    const uids = cells[0].split(' / ').map((s) => s.trim());
    if (!uids.every((u) => /^[0-9]+(\.[0-9]+)+$/.test(u))) {
      warnings.push(`REQUIREMENTS.md:${line}: §18.3 row "${cells[0]}" is not a UID (coding scheme designators), skipped`);
      continue;
    }
    const meanings = cells[1].split(' / ');
    if (meanings.length !== uids.length) fail(`REQUIREMENTS.md:${line}: cannot pair UIDs with meanings`);
    uids.forEach((uid, i) => {
      let name = meanings[i].trim();
      const internal = /\(internal\)/.test(cells[1]);
      if (internal && !/\(internal\)/.test(name)) name += ' (internal)';
      const lower = name.toLowerCase();
      if (lower.includes('transfer syntax')) {
        if (!PRIVATE_TRANSFER_SYNTAXES.includes(uid)) fail(`REQUIREMENTS.md:${line}: transfer syntax ${uid} missing from PRIVATE_TRANSFER_SYNTAXES`);
        return;
      }
      // Storage SOP classes are those Tracer stores (the Tracer column says "store");
      // the Siemens internal ones are "never exchanged".
      const type = /\bstore\b/.test(cells[3] ?? '') ? 'S' : lower.includes('sop class') || internal ? 'C' : 'O';
      const keyword = standardKeyword(name.replace(/\([^)]*\)/g, ''));
      out.push({ uid, type, keyword, name });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// 3. Private dictionaries (REQUIREMENTS §18.2)
// ---------------------------------------------------------------------------------------

/** A CamelCase keyword for a vendor's element name ("Number of repeats / phases"). */
function privateKeyword(name) {
  const k = standardKeyword(name.replace(/\(retired\)/gi, ''));
  return /^[0-9]/.test(k) ? `_${k}` : k;
}

function buildPrivate() {
  const { header, rows } = markdownTable('### 18.2 ');
  const want = ['Creator', 'Tag', 'VR', 'VM', 'Name'];
  if (want.some((h, i) => header[i] !== h)) fail(`REQUIREMENTS.md §18.2: unexpected header ${header.join('|')}`);
  const out = new Map(); // `${creator}\t${group}\t${offset}` -> line
  const skip = (line, why) => warnings.push(`REQUIREMENTS.md:${line}: ${why}`);
  for (const { line, cells } of rows) {
    const [creator, tagText, vrText, vmText, name] = cells;
    if (!creator || creator.startsWith('(')) {
      // "(not checked; Manufacturer = GE)" rows are read at absolute tags by PRIV-003 and
      // have no creator to key them by; "(creator not printed)" cannot be keyed either.
      skip(line, `${tagText} "${name}": no Private Creator ("${creator}"), skipped`);
      continue;
    }
    // "(gggg,xxee)" in any block; "(gggg,10ee)" printed in block 0x10 (PRIV-002);
    // "(gggg,10ee)–(gggg,10ff)" a range of elements; "(gggg,00xx)" / "(gggg,0010)" the
    // creator element itself, which lookupTag answers generically.
    const range = /^\(([0-9A-F]{4}),(xx|[0-9A-F]{2})([0-9A-F]{2})\)(?:\s*[–-]\s*\(\1,\2([0-9A-F]{2})\))?$/i.exec(tagText);
    if (!range) {
      if (/^\([0-9A-F]{4},00(xx|[0-9A-F]{2})\)$/i.test(tagText)) continue; // creator element
      skip(line, `unreadable tag "${tagText}", skipped`);
      continue;
    }
    const group = parseInt(range[1], 16);
    const block = range[2].toLowerCase();
    const first = parseInt(range[3], 16);
    const last = range[4] ? parseInt(range[4], 16) : first;
    if (block === '00') continue; // (gggg,00ee): creator elements
    if (block !== 'xx' && parseInt(block, 16) < 0x10) {
      skip(line, `${tagText} is not a private data element (PS3.5 7.8.1), skipped`);
      continue;
    }
    if ((group & 1) === 0 || group <= 7) {
      skip(line, `${tagText}: group is not private, skipped`);
      continue;
    }
    // "—" = not given by the vendor's statement. An unknown VR becomes UN, as PRIV-004
    // prescribes for unknown private elements, and the name is kept for display and
    // de-identification; an unknown VM becomes '' (nothing to validate against).
    let vr = vrText === '—' ? 'UN' : vrText;
    if (vrText === '—') skip(line, `${creator} ${tagText} "${name}": VR not given, recorded as UN`);
    if (!/^[A-Z]{2}$/.test(vr)) fail(`REQUIREMENTS.md:${line}: unexpected VR "${vrText}"`);
    let vm = vmText === '—' ? '' : vmText;
    if (vm === 'n') vm = '1-n'; // eNTEGRA writes a bare "n" once (0035,xx01)
    if (vm && !/^[0-9]+(-([0-9]+)?n?)?$/.test(vm)) fail(`REQUIREMENTS.md:${line}: unexpected VM "${vmText}"`);
    for (let ee = first; ee <= last; ee++) {
      const key = `${creator}\t${group}\t${ee}`;
      if (out.has(key)) {
        skip(line, `${creator} ${tagText} duplicates an earlier row, skipped`);
        continue;
      }
      out.set(key, { creator, group, ee, vr, vm, name });
    }
  }
  // Keywords: derived from the name; where one creator uses the same name for several
  // elements (Philips "Private"), each gets its group and offset appended.
  const list = [...out.values()];
  const count = new Map();
  for (const e of list) {
    e.keyword = privateKeyword(e.name);
    const k = `${e.creator}\t${e.keyword}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const hex = (n, w) => n.toString(16).toUpperCase().padStart(w, '0');
  for (const e of list) {
    if (count.get(`${e.creator}\t${e.keyword}`) > 1) e.keyword += `${hex(e.group, 4)}xx${hex(e.ee, 2)}`;
  }
  list.sort((a, b) => (a.creator < b.creator ? -1 : a.creator > b.creator ? 1 : a.group - b.group || a.ee - b.ee));
  return list.map((e) => record(e.creator, hex(e.group, 4), hex(e.ee, 2), e.vr, e.vm, e.keyword, e.name));
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

function header(what, srcKeys, tables) {
  const src = srcKeys.map((k) => `//   shared/${sources[k]} (sha256 ${sha(text[k])}…)`).join('\n');
  return `// GENERATED FILE, do not edit: run \`node scripts/gen-dictionary.mjs\`.
// ${what}
// Generated from:
${src}${tables ? `\n//   and the tables in scripts/gen-dictionary.mjs (${tables}).` : ''}
// Records are separated by "\\n" and fields by "\\t"; src/dicom/dictionary/index.ts parses
// them lazily, on first lookup, to keep module load time near zero.
/* eslint-disable */
`;
}

const str = (lines) => JSON.stringify(lines.join('\n'));

const attributes = buildAttributes();
const uids = buildUids();
const priv = buildPrivate();
const tsLines = tableRows(TRANSFER_SYNTAXES + PRIVATE_TRANSFER_SYNTAXES).map((l) => {
  const [uid, keyword, flags, name] = l.split('\t');
  return record(uid, keyword, flags, name);
});

const files = {
  'attributes.gen.ts':
    header('Data elements of PS3.6 (Tables 6-1, 7-1, 8-1) and commands of PS3.7 (Table E.1-1, E.2-1).', ['attributes'], 'COMMAND_ELEMENTS: PS3.7 Annex E') +
    `\n/** ${attributes.length} records: tag (8 hex digits, X = repeating-group digit), keyword ('' = none), VR, VM, "R" if retired, name. */\n` +
    `export const ATTRIBUTES: string = ${str(attributes)};\n`,
  'uids.gen.ts':
    header('UIDs of PS3.6 Annex A (Table A-1), storage SOP classes of PS3.4 Annex B, private UIDs of REQUIREMENTS §18.3.', ['sops', 'requirements'], 'OTHER_UIDS, TRANSFER_SYNTAXES: PS3.6 Annex A, PS3.5 Annex A') +
    `\n/** ${uids.length} records: UID, type (S storage SOP class, C SOP class, M meta SOP class, W well-known instance, A application context, T transfer syntax, O other), "R" if retired, keyword, name. */\n` +
    `export const UIDS: string = ${str(uids)};\n` +
    `\n/** ${tsLines.length} records: UID, keyword, flags (E explicit VR, B big endian, D deflated, C encapsulated, L lossy, R retired), name. */\n` +
    `export const TRANSFER_SYNTAXES: string = ${str(tsLines)};\n` +
    `\n/** Transfer syntax UIDs by keyword (PS3.6 Table A-1 keywords; Philips private one per REQUIREMENTS 18.3). */\n` +
    `export const TS = {\n${tsLines.map((l) => { const [uid, kw] = l.split('\t'); return `  ${kw}: '${uid}',`; }).join('\n')}\n} as const;\n`,
  'private.gen.ts':
    header('Vendor private data elements of REQUIREMENTS §18.2 (consolidated from the vendors\' conformance statements).', ['requirements']) +
    `\n/** ${priv.length} records: Private Creator, group (4 hex), element offset ee (2 hex, block-relative), VR, VM ('' = not given), keyword, name. */\n` +
    `export const PRIVATE: string = ${str(priv)};\n`,
};

mkdirSync(outDir, { recursive: true });
for (const [f, content] of Object.entries(files)) writeFileSync(join(outDir, f), content);

const quiet = process.argv.includes('--quiet');
if (!quiet) {
  for (const w of warnings) console.warn(`note: ${w}`);
  console.log(`gen-dictionary: ${attributes.length} attributes, ${uids.length} UIDs (${tsLines.length} transfer syntaxes), ${priv.length} private elements -> ${outDir}`);
}
