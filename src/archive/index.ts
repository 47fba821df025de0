/**
 * The archive index (REQUIREMENTS 2.3 SYS-020, 8.3): patient, study, series and instance
 * levels, each with indexed columns for the matching keys of 8.3, the entity's header as DICOM
 * JSON (so C-FIND never opens a file) and the aggregates of PS3.4 C.6 kept up to date.
 *
 * The interface is narrow and asynchronous so that a PostgreSQL implementation can follow the
 * embedded SQLite one (sqlite-index.ts). Matching semantics are not the index's: every
 * implementation narrows with its own query language and then applies matching.ts.
 */
import type { Dataset } from '../dicom/dataset.js';
import type { JsonDataset, ToJsonOptions } from '../dicom/json.js';
import type { Level, QueryModel } from './attributes.js';
import type { MatchOptions, QueryKey } from './matching.js';

/** What the ingest path hands the index for one stored instance. */
export interface InstanceEntry {
  /** File location relative to store.root ('<Study>/<Series>/<SOP>.dcm'). */
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  /** File size in bytes. */
  size: number;
  /** (0002,0016) of the file: who sent it. */
  sourceAeTitle?: string;
  /** The instance's whole header without bulk data, as DICOM JSON (HEADER_JSON). */
  header: JsonDataset;
  /**
   * The data set `header` is made of, when at hand (ingest): an index may make what it keeps
   * straight from it, and the header is then only made if something reads it.
   */
  dataset?: Dataset;
}

/**
 * What the header kept in the index holds: every element but bulk values (binary values over
 * 1 KiB, and pixel data, are named 'omitted').
 */
export const HEADER_JSON: ToJsonOptions = { bulkDataThreshold: 1024, bulkDataURI: () => 'omitted' };

/** One difference between an entity in the index and a newly received instance (STOR-050). */
export interface DemographicChange {
  level: 'PATIENT' | 'STUDY' | 'SERIES';
  /** Study or Series Instance UID; for the patient, the study through which it changed. */
  uid: string;
  tag: number;
  old: string;
  new: string;
  /** Whether the index now holds the new value (latestWins). */
  applied: boolean;
}

export type DemographicUpdate = 'latestWins' | 'keepExisting' | 'flagOnly';

export interface AddOptions {
  /** storage.demographicUpdate. */
  demographicUpdate: DemographicUpdate;
  /** Replace an instance already indexed in the same series (duplicatePolicy overwrite). */
  replace: boolean;
  /**
   * The quarantine entry this instance is released from (STOR-042): the entry is removed, and
   * its file recorded as pending deletion, in the transaction that adds the instance, so that
   * the instance is never both indexed and quarantined.
   */
  releasedFromQuarantine?: number;
}

export interface AddResult {
  replaced: boolean;
  changes: DemographicChange[];
}

/**
 * Storage commitment of an instance by an archive (REQUIREMENTS 7.1 COMMIT-006): which AE
 * committed it and when. Committed instances become eligible for watermark deletion (COMMIT-008,
 * COMMIT-030). A replaced instance (duplicatePolicy overwrite) loses its mark: the new bytes
 * were never committed.
 */
export interface CommitMark {
  /** AE title of the archive that committed the instance. */
  aeTitle: string;
  /** When the commitment was reported (ISO 8601). */
  at: string;
}

/** A study as watermark deletion weighs it (REQUIREMENTS 7.3). */
export interface RecyclableStudy {
  studyInstanceUid: string;
  /** When its most recent instance was received (ISO 8601): the least recently received go first. */
  lastReceivedAt: string;
  instances: number;
  /** Sum of the instances' data set sizes in the index (the files are slightly larger). */
  bytes: number;
}

/** An instance already in the index (duplicate and UID-conflict checks, STOR-040/041). */
export interface IndexedInstance {
  path: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
}

/** A stored instance as retrieve needs it (C-MOVE / C-GET sub-operations). */
export interface StoredInstance extends IndexedInstance {
  sopClassUid: string;
  transferSyntaxUid: string;
  size: number;
}

/** A C-FIND request as the index sees it: keys at or above `level`, checked by the service. */
export interface FindQuery {
  model: QueryModel;
  level: Level;
  keys: QueryKey[];
  match: MatchOptions;
}

/**
 * One matching entity: the headers of it and of its ancestors (with the aggregates), by the
 * level they are stored at (patient attributes are always under PATIENT, also in Study Root).
 */
export interface FindMatch {
  headers: Partial<Record<Level, JsonDataset>>;
}

export interface QuarantineEntry {
  id: number;
  /** Relative to store.root, under .quarantine/. */
  path: string;
  reason: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  receivedAt: string;
}

/** Which instances a retrieve (or a deletion) names: unique keys, lists allowed (QR-040). */
export interface InstanceSelector {
  level: Level;
  patientIds?: string[];
  studyInstanceUids?: string[];
  seriesInstanceUids?: string[];
  sopInstanceUids?: string[];
}

export interface ArchiveIndex {
  /** Instances with this SOP Instance UID, in any series. */
  instancesBySop(sopInstanceUid: string): Promise<IndexedInstance[]>;
  /** The Study Instance UIDs holding a series with this UID. */
  studiesOfSeries(seriesInstanceUid: string): Promise<string[]>;
  /** Enters (or with `replace`, re-enters) an instance, in one transaction with its aggregates. */
  addInstance(entry: InstanceEntry, opts: AddOptions): Promise<AddResult>;
  /**
   * Optional: does the CPU work of a coming addInstance for this entry (header texts, key
   * columns) ahead of time, e.g. while the file's fsync runs; the entry must not change after.
   */
  prepareInstance?(entry: InstanceEntry): void;
  /**
   * Optional: enters several instances in one transaction (SYS-022 batches, and the group
   * commit of concurrent ingests), each as addInstance would, in a savepoint of its own: an
   * entry that fails (its Error in its place of the result) takes nothing of the others with it.
   * Throws when the transaction as a whole fails (nothing of it is kept).
   */
  addInstances?(items: readonly { entry: InstanceEntry; opts: AddOptions }[]): Promise<(AddResult | Error)[]>;
  /** C-FIND: matches one by one (paged underneath; stop iterating to cancel). */
  find(query: FindQuery): AsyncIterable<FindMatch>;
  /** The instances a C-FIND-like query at `level` selects, for retrieve. */
  findInstances(query: FindQuery): AsyncIterable<StoredInstance>;
  /** The instances named by unique keys (C-MOVE / C-GET identifiers, `tracer delete`). */
  selectInstances(sel: InstanceSelector): Promise<StoredInstance[]>;
  /**
   * Removes instances from the index and records their paths as pending deletion in the same
   * transaction; the caller removes the files, then calls deletionDone. A crash in between
   * is finished at the next start (pendingDeletions). With `requireCommitted` nothing is removed
   * (false) unless every path still indexed carries a commit mark, checked in that transaction
   * (COMMIT-030: an instance replaced meanwhile is not committed).
   */
  removeInstances(paths: readonly string[], opts?: { requireCommitted?: boolean }): Promise<boolean>;
  pendingDeletions(): Promise<string[]>;
  deletionDone(paths: readonly string[]): Promise<void>;
  /** Indexed paths under a directory prefix ('<Study>/<Series>/'), for the start-up check. */
  pathsUnder(prefix: string): Promise<string[]>;
  /** Every series directory ('<Study>/<Series>') the index has instances in. */
  seriesDirectories(): Promise<string[]>;
  /**
   * Sets (or with undefined clears) the commit mark of every indexed instance with one of these
   * SOP Instance UIDs (storage commitment N-EVENT-REPORT, COMMIT-006); returns how many changed.
   */
  markCommitted(sopInstanceUids: readonly string[], mark: CommitMark | undefined): Promise<number>;
  /** The commit mark of the instance at this path; undefined when uncommitted or not indexed. */
  commitMarkOf(path: string): Promise<CommitMark | undefined>;
  /**
   * Studies, least recently received first (watermark deletion, 7.3); with `onlyCommitted` only
   * those whose every instance carries a commit mark (COMMIT-030). Paged underneath: studies
   * may be deleted while iterating.
   */
  studiesByAge(opts: { onlyCommitted: boolean }): AsyncIterable<RecyclableStudy>;
  addQuarantine(e: Omit<QuarantineEntry, 'id' | 'receivedAt'>): Promise<void>;
  /** Quarantined instances, in the order they were quarantined (STOR-042). */
  listQuarantine(): Promise<QuarantineEntry[]>;
  getQuarantine(id: number): Promise<QuarantineEntry | undefined>;
  removeQuarantine(id: number): Promise<void>;
  /**
   * Removes a quarantine entry and records its file as pending deletion in the same transaction
   * (the caller removes the file, then calls deletionDone); undefined when there is no such entry.
   */
  discardQuarantine(id: number): Promise<QuarantineEntry | undefined>;
  counts(): Promise<{ patients: number; studies: number; series: number; instances: number }>;
  /** A flag kept across runs (the clean-shutdown mark of the start-up check). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string | undefined): Promise<void>;
  close(): Promise<void>;
}

/** The unique-key error of the index: the instance exists in that series already. */
export class DuplicateInstanceError extends Error {
  override name = 'DuplicateInstanceError';
}
