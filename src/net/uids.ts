/**
 * The few UIDs the upper layer itself must know: the application context (PS3.7 A.2.1),
 * Verification (PS3.4 A.4) and the network transfer syntaxes of REQUIREMENTS 1.2 with the
 * properties that transfer-syntax selection (REQUIREMENTS 3.8) needs. The full UID dictionary
 * lives in src/dicom; this small table keeps src/net free of it.
 */

/** DICOM Application Context Name (PS3.7 Annex A.2.1). */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

/** Implicit VR Little Endian: every DIMSE command set is encoded in it (PS3.7 6.3.1). */
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const RLE_LOSSLESS = '1.2.840.10008.1.2.5';
export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
export const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';
export const JPEG_SPECTRAL_SELECTION = '1.2.840.10008.1.2.4.53';
export const JPEG_FULL_PROGRESSION = '1.2.840.10008.1.2.4.55';
export const JPEG_LOSSLESS_P14 = '1.2.840.10008.1.2.4.57';
export const JPEG_LOSSLESS_SV1 = '1.2.840.10008.1.2.4.70';
export const JPEG_2000_LOSSLESS = '1.2.840.10008.1.2.4.90';
export const JPEG_2000 = '1.2.840.10008.1.2.4.91';
export const PHILIPS_PRIVATE_ELE = '1.3.46.670589.33.1.4.1';

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  /** Pixel data compressed (encapsulated). */
  compressed: boolean;
  /** Lossy compression. */
  lossy: boolean;
  /** Explicit VR encoding of the data set. */
  explicitVr: boolean;
}

const TS: TransferSyntaxInfo[] = [
  { uid: IMPLICIT_VR_LITTLE_ENDIAN, name: 'Implicit VR Little Endian', compressed: false, lossy: false, explicitVr: false },
  { uid: EXPLICIT_VR_LITTLE_ENDIAN, name: 'Explicit VR Little Endian', compressed: false, lossy: false, explicitVr: true },
  { uid: EXPLICIT_VR_BIG_ENDIAN, name: 'Explicit VR Big Endian', compressed: false, lossy: false, explicitVr: true },
  { uid: DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, name: 'Deflated Explicit VR Little Endian', compressed: false, lossy: false, explicitVr: true },
  { uid: RLE_LOSSLESS, name: 'RLE Lossless', compressed: true, lossy: false, explicitVr: true },
  { uid: JPEG_BASELINE, name: 'JPEG Baseline (Process 1)', compressed: true, lossy: true, explicitVr: true },
  { uid: JPEG_EXTENDED, name: 'JPEG Extended (Process 2 & 4)', compressed: true, lossy: true, explicitVr: true },
  { uid: JPEG_SPECTRAL_SELECTION, name: 'JPEG Spectral Selection (retired)', compressed: true, lossy: true, explicitVr: true },
  { uid: JPEG_FULL_PROGRESSION, name: 'JPEG Full Progression (retired)', compressed: true, lossy: true, explicitVr: true },
  { uid: JPEG_LOSSLESS_P14, name: 'JPEG Lossless (Process 14)', compressed: true, lossy: false, explicitVr: true },
  { uid: JPEG_LOSSLESS_SV1, name: 'JPEG Lossless SV1', compressed: true, lossy: false, explicitVr: true },
  { uid: JPEG_2000_LOSSLESS, name: 'JPEG 2000 Lossless', compressed: true, lossy: false, explicitVr: true },
  { uid: JPEG_2000, name: 'JPEG 2000', compressed: true, lossy: true, explicitVr: true },
  { uid: PHILIPS_PRIVATE_ELE, name: 'Philips Private Explicit VR Little Endian', compressed: false, lossy: false, explicitVr: true },
];

export const TRANSFER_SYNTAXES: ReadonlyMap<string, TransferSyntaxInfo> = new Map(TS.map((t) => [t.uid, t]));

/** Every network transfer syntax of REQUIREMENTS 1.2 except the Philips private one (3.8 default). */
export const DEFAULT_ACCEPTED_TRANSFER_SYNTAXES: readonly string[] = TS.filter((t) => t.uid !== PHILIPS_PRIVATE_ELE).map((t) => t.uid);

/** The uncompressed syntaxes, explicit first: what an SCU usually proposes. */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: readonly string[] = [
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
];

/**
 * Implementation Class UID used when the configuration gives none (REQUIREMENTS ASSOC-002/003).
 * A UUID-derived UID (PS3.5 B.2) standing in until the project has its own UID root.
 */
// One implementation identity for associations and File Meta alike (ASSOC-003).
export {
  IMPLEMENTATION_CLASS_UID as DEFAULT_IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME as DEFAULT_IMPLEMENTATION_VERSION_NAME,
} from '../dicom/implementation.js';
