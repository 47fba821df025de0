/**
 * Which attribute belongs to which level of the Query/Retrieve information models (PS3.4 C.6.1,
 * C.6.2; REQUIREMENTS 8.3), and the matching keys of 8.3 that the index keeps as columns.
 *
 * The index stores, per entity, the header of that level (the attributes of the level's set,
 * taken from the instances it received) beside one column per matching key, so that C-FIND is
 * answered from the index alone (dcm4chee's design). Everything that is not a patient, study or
 * series attribute is an instance (IMAGE level) attribute: the instance row keeps the whole
 * non-bulk header.
 */
import type { VR } from '../dicom/vr.js';

export type Level = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';
export const LEVELS: readonly Level[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];
export type QueryModel = 'PATIENT_ROOT' | 'STUDY_ROOT';

/** A matching key of REQUIREMENTS 8.3 kept as an indexed column. */
export interface KeyColumn {
  tag: number;
  vr: VR;
  /** Column name in the entity's table. */
  column: string;
  /** Multi-valued (values joined with '\' in the column): only JavaScript matching applies. */
  multi?: boolean;
  /** Computed by the index (aggregates), not taken from instances. */
  computed?: boolean;
}

const k = (tag: number, vr: VR, column: string, extra: Partial<KeyColumn> = {}): KeyColumn => ({ tag, vr, column, ...extra });

export const PATIENT_KEYS: readonly KeyColumn[] = [
  k(0x00100010, 'PN', 'patient_name'),
  k(0x00100020, 'LO', 'patient_id'),
  k(0x00100021, 'LO', 'issuer_of_patient_id'),
  k(0x00100030, 'DA', 'patient_birth_date'),
  k(0x00100032, 'TM', 'patient_birth_time'),
  k(0x00100040, 'CS', 'patient_sex'),
];

export const STUDY_KEYS: readonly KeyColumn[] = [
  k(0x0020000d, 'UI', 'study_instance_uid'),
  k(0x00080020, 'DA', 'study_date'),
  k(0x00080030, 'TM', 'study_time'),
  k(0x00080050, 'SH', 'accession_number'),
  k(0x00200010, 'SH', 'study_id'),
  k(0x00081030, 'LO', 'study_description'),
  k(0x00080061, 'CS', 'modalities_in_study', { multi: true, computed: true }),
  k(0x00080090, 'PN', 'referring_physician_name'),
  k(0x00081060, 'PN', 'physicians_reading_study', { multi: true }),
  k(0x00321032, 'PN', 'requesting_physician'),
  k(0x00324000, 'LT', 'study_comments'),
  k(0x00400254, 'LO', 'pps_description'),
];

export const SERIES_KEYS: readonly KeyColumn[] = [
  k(0x0020000e, 'UI', 'series_instance_uid'),
  k(0x00080060, 'CS', 'modality'),
  k(0x00200011, 'IS', 'series_number'),
  k(0x00080021, 'DA', 'series_date'),
  k(0x00080031, 'TM', 'series_time'),
  k(0x0008103e, 'LO', 'series_description'),
  k(0x00181030, 'LO', 'protocol_name'),
  k(0x00180015, 'CS', 'body_part_examined'),
  k(0x00080070, 'LO', 'manufacturer'),
  k(0x00081090, 'LO', 'manufacturer_model_name'),
  k(0x00081010, 'SH', 'station_name'),
  k(0x00080080, 'LO', 'institution_name'),
  k(0x00080081, 'ST', 'institution_address'),
  k(0x00081040, 'LO', 'institutional_department_name'),
  k(0x00081050, 'PN', 'performing_physician_name', { multi: true }),
  k(0x00400244, 'DA', 'pps_start_date'),
  k(0x00400245, 'TM', 'pps_start_time'),
];

export const INSTANCE_KEYS: readonly KeyColumn[] = [
  k(0x00080018, 'UI', 'sop_instance_uid'),
  k(0x00080016, 'UI', 'sop_class_uid'),
  k(0x00200013, 'IS', 'instance_number'),
  k(0x00080008, 'CS', 'image_type', { multi: true }),
  k(0x00280002, 'US', 'samples_per_pixel'),
  k(0x00280004, 'CS', 'photometric_interpretation'),
  k(0x00080012, 'DA', 'instance_creation_date'),
  k(0x00080013, 'TM', 'instance_creation_time'),
  k(0x00080022, 'DA', 'acquisition_date'),
  k(0x00080032, 'TM', 'acquisition_time'),
  k(0x00080023, 'DA', 'content_date'),
  k(0x00080033, 'TM', 'content_time'),
  k(0x00200052, 'UI', 'frame_of_reference_uid'),
];

export const KEYS_BY_LEVEL: Readonly<Record<'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE', readonly KeyColumn[]>> = {
  PATIENT: PATIENT_KEYS,
  STUDY: STUDY_KEYS,
  SERIES: SERIES_KEYS,
  IMAGE: INSTANCE_KEYS,
};

/** The unique key of each level (PS3.4 C.6.1.1, C.6.2.1). */
export const UNIQUE_KEY: Readonly<Record<Level, number>> = {
  PATIENT: 0x00100020,
  STUDY: 0x0020000d,
  SERIES: 0x0020000e,
  IMAGE: 0x00080018,
};

/** Aggregates computed by the index (PS3.4 C.3.4, C.6.1.1.x): returned, never taken from instances. */
export const AGGREGATES = {
  NumberOfPatientRelatedStudies: 0x00201200,
  NumberOfPatientRelatedSeries: 0x00201202,
  NumberOfPatientRelatedInstances: 0x00201204,
  ModalitiesInStudy: 0x00080061,
  SopClassesInStudy: 0x00080062,
  NumberOfStudyRelatedSeries: 0x00201206,
  NumberOfStudyRelatedInstances: 0x00201208,
  NumberOfSeriesRelatedInstances: 0x00201209,
} as const;

/**
 * Patient attributes (Patient module; REQUIREMENTS 8.3 patient table): group 0010 but for the
 * Patient Study module's attributes, which 8.3 puts at the study level.
 */
const PATIENT_STUDY_ATTRS = new Set([0x00101010, 0x00101020, 0x00101030, 0x001021b0, 0x00102180]);
const PATIENT_EXTRA = new Set([0x00380050, 0x00403001, 0x00380500, 0x00201200, 0x00201202, 0x00201204]);

const STUDY_ATTRS = new Set([
  0x00080020, 0x00080030, 0x00080050, 0x00080051, 0x00080061, 0x00080062, 0x00080090, 0x00080096, 0x00081030, 0x00081032,
  0x00081048, 0x00081049, 0x00081060, 0x00081062, 0x00081080, 0x00081110, 0x0020000d, 0x00200010, 0x00201070, 0x00201206,
  0x00201208, 0x00321032, 0x00321033, 0x00321060, 0x00324000, 0x00380010, 0x00380400, 0x00400254, 0x00080201,
]);

const SERIES_ATTRS = new Set([
  0x00080021, 0x00080031, 0x00080060, 0x00080070, 0x00080080, 0x00080081, 0x00081010, 0x0008103e, 0x00081040, 0x00081050,
  0x00081070, 0x00081090, 0x00081111, 0x00180015, 0x00181000, 0x00181030, 0x00185100, 0x0020000e, 0x00200011, 0x00200060,
  0x00400244, 0x00400245, 0x00400253, 0x00400275, 0x00541000, 0x00541001, 0x00541002, 0x00201209,
]);

/** Every tag named in the tables of REQUIREMENTS 8.3 (for "key below the level" errors, QR-010). */
const KNOWN_8_3 = new Set<number>([
  ...PATIENT_KEYS, ...STUDY_KEYS, ...SERIES_KEYS, ...INSTANCE_KEYS].map((c) => c.tag).concat([
  0x00080008, 0x00540400, 0x00280010, 0x00280011, 0x00280100, 0x00280008, 0x00180050, 0x00201041, 0x00200037, 0x00200032,
  0x00200020, 0x00280030, 0x00180060, 0x00180010, 0x0008002a, 0x00200012, 0x00204000,
]));

/** The level an attribute belongs to in a model (patient attributes are study keys in Study Root, 8.2). */
export function levelOf(tag: number, model: QueryModel): Level {
  if (isPatientAttr(tag)) return model === 'PATIENT_ROOT' ? 'PATIENT' : 'STUDY';
  if (STUDY_ATTRS.has(tag)) return 'STUDY';
  if (SERIES_ATTRS.has(tag)) return 'SERIES';
  return 'IMAGE';
}

/** The level an attribute is stored at in the index (patient attributes always with the patient). */
export function storageLevelOf(tag: number): Level {
  if (isPatientAttr(tag)) return 'PATIENT';
  if (STUDY_ATTRS.has(tag)) return 'STUDY';
  if (SERIES_ATTRS.has(tag)) return 'SERIES';
  return 'IMAGE';
}

export function isPatientAttr(tag: number): boolean {
  return (tag >>> 16 === 0x0010 && !PATIENT_STUDY_ATTRS.has(tag)) || PATIENT_EXTRA.has(tag);
}

export function isKnownKey(tag: number): boolean {
  return KNOWN_8_3.has(tag);
}

export function depth(level: Level): number {
  return LEVELS.indexOf(level);
}

/** The levels of a model from the top: Patient Root has PATIENT, Study Root starts at STUDY. */
export function levelsOf(model: QueryModel): Level[] {
  return model === 'PATIENT_ROOT' ? ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'] : ['STUDY', 'SERIES', 'IMAGE'];
}

/** Attributes compared on demographic updates (REQUIREMENTS 5.6 STOR-050). */
export const DEMOGRAPHIC_ATTRS: Readonly<Record<'PATIENT' | 'STUDY' | 'SERIES', readonly number[]>> = {
  PATIENT: [0x00100010, 0x00100020, 0x00100030, 0x00100032, 0x00100040, 0x00101000, 0x00101001, 0x00101010, 0x00101020, 0x00101030, 0x00102160, 0x00102180, 0x001021b0, 0x00104000],
  STUDY: [0x00080020, 0x00080030, 0x00080050, 0x00080090, 0x00081060, 0x00081080, 0x00081030, 0x00200010, 0x00201070],
  SERIES: [0x00080021, 0x00080031, 0x00080060, 0x00080070, 0x00080080, 0x0008103e, 0x00081090, 0x00180015, 0x00180022, 0x00181030, 0x00200011],
};
