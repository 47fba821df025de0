/**
 * The UIDs the upper layer itself names: the application context (PS3.7 A.2.1), Verification
 * (PS3.4 A.4) and the network transfer syntaxes of REQUIREMENTS 1.2, with the properties that
 * transfer-syntax selection (REQUIREMENTS 3.8) needs, taken from the data layer's dictionary.
 */
import { allTransferSyntaxes } from '../dicom/dictionary/index.js';

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

/** Every transfer syntax of the standard (PS3.6 Annex A), from the data layer's dictionary. */
export const TRANSFER_SYNTAXES: ReadonlyMap<string, TransferSyntaxInfo> = new Map(
  allTransferSyntaxes.map((t) => [t.uid, { uid: t.uid, name: t.name, compressed: t.encapsulated, lossy: t.lossy, explicitVr: t.explicitVR }]),
);

/**
 * What a Storage SCP accepts by default (REQUIREMENTS 3.8): the syntaxes of matrix 1.2, and the
 * other image compressions Tracer can store as received (JPEG-LS, JPEG 2000 Part 2, HTJ2K), but
 * not the Philips private syntax (enabled per node) nor references (JPIP) or video.
 */
export const DEFAULT_ACCEPTED_TRANSFER_SYNTAXES: readonly string[] = [
  IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  RLE_LOSSLESS, JPEG_BASELINE, JPEG_EXTENDED, JPEG_SPECTRAL_SELECTION, JPEG_FULL_PROGRESSION, JPEG_LOSSLESS_P14,
  JPEG_LOSSLESS_SV1, JPEG_2000_LOSSLESS, JPEG_2000,
  '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81', // JPEG-LS lossless, near-lossless
  '1.2.840.10008.1.2.4.92', '1.2.840.10008.1.2.4.93', // JPEG 2000 Part 2 multi-component
  '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203', // HTJ2K
];

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
