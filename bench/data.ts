/**
 * Synthetic, realistic DICOM data for the benchmarks, generated once into a cache directory
 * (bench/.data/, git-ignored) with Tracer's own writer:
 *
 *  - a CT series: 512x512 16-bit slices in Explicit VR Little Endian with a full header
 *    (patient, study, series, equipment, image plane, CT image, VOI LUT modules, code
 *    sequences, two private blocks): about 100 elements, 0.5 MiB per file;
 *  - NM multi-frame files (NM Image Storage): 128x128 16-bit SPECT acquisitions of 120-360
 *    frames with Energy Window, Detector and Rotation Information sequences, per-frame
 *    vectors and a Frame Increment Pointer: 4-12 MiB per file.
 *
 * Content is deterministic (seeded), so every machine benchmarks the same bytes. A manifest
 * (<set>.manifest.json beside the set's directory, so that the directory holds DICOM files
 * only) is written last and marks a complete set; a set with a missing or outdated manifest
 * is rebuilt.
 *
 * Later benchmarks reuse these functions: `ensureCTSeries()`, `ensureNMSet()`, or build their
 * own sets with `ctSlice()` / `nmMultiframe()` and `ensureSet()`.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dataset } from '../src/dicom/dataset.js';
import { TS } from '../src/dicom/dictionary/index.js';
import type { VR } from '../src/dicom/vr.js';
import { writeDicomFile } from '../src/dicom/write.js';

/** Bump when the generated content changes: older caches are then rebuilt. */
export const DATA_VERSION = 3;

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const NM_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.20';
const ROOT_UID = '1.2.826.0.1.3680043.10.1137'; // a synthetic-data root; every UID below derives from it

export interface DataSet {
  /** Directory holding the files, and nothing else. */
  dir: string;
  /** The DICOM files, sorted. */
  files: string[];
  /** Total size of the files in bytes. */
  bytes: number;
}

interface Manifest {
  version: number;
  spec: string;
  files: string[];
  bytes: number;
}

/** The repository root (where package.json is), found from this module's location. */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'bench'))) return d;
    const up = dirname(d);
    if (up === d) throw new Error('bench: cannot find the repository root');
    d = up;
  }
}

/** The cache directory: $TRACER_BENCH_DATA, else bench/.data in the repository. */
export function dataDir(): string {
  return process.env.TRACER_BENCH_DATA ? resolve(process.env.TRACER_BENCH_DATA) : join(repoRoot(), 'bench', '.data');
}

/**
 * A set of files generated once: `make(i)` gives file i's data set. Rebuilt when the manifest
 * is missing or was made for another `spec` / DATA_VERSION.
 */
export function ensureSet(name: string, spec: string, count: number, make: (i: number) => Dataset, log: (s: string) => void = defaultLog): DataSet {
  const dir = join(dataDir(), name);
  const manifestPath = `${dir}.manifest.json`;
  if (existsSync(manifestPath)) {
    try {
      const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      if (m.version === DATA_VERSION && m.spec === spec && m.files.every((f) => existsSync(join(dir, f)))) {
        return { dir, files: m.files.map((f) => join(dir, f)), bytes: m.bytes };
      }
    } catch { /* rebuilt below */ }
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(manifestPath, { force: true });
  mkdirSync(dir, { recursive: true });
  log(`bench: generating ${name} (${count} files) in ${dir} ...`);
  const names: string[] = [];
  let bytes = 0;
  const width = String(count).length;
  for (let i = 0; i < count; i++) {
    const ds = make(i);
    const file = `${name}-${String(i + 1).padStart(Math.max(4, width), '0')}.dcm`;
    writeDicomFile(join(dir, file), { dataset: ds, transferSyntaxUID: TS.ExplicitVRLittleEndian, sourceAET: 'TRACER_BENCH' });
    bytes += statSync(join(dir, file)).size;
    names.push(file);
  }
  const manifest: Manifest = { version: DATA_VERSION, spec, files: names, bytes };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  return { dir, files: names.map((f) => join(dir, f)), bytes };
}

function defaultLog(s: string): void {
  process.stderr.write(s + '\n');
}

/** The DICOM files of a directory (the benchmark tools get the directory itself). */
export function listFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(dir, f));
}

// ---------------------------------------------------------------------------------------
// Deterministic helpers
// ---------------------------------------------------------------------------------------

/** xorshift32: fast, seeded, good enough for noise. */
export function rng(seed: number): () => number {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

/** A DS value as scanners write it: at most 16 characters. */
function ds(n: number, digits = 6): string {
  let s = Number(n.toFixed(digits)).toString();
  if (s.length > 16) s = n.toPrecision(10);
  return s;
}

function item(build: (it: Dataset) => void): Dataset {
  const it = new Dataset(true);
  build(it);
  return it;
}

function code(value: string, scheme: string, meaning: string): Dataset {
  return item((it) => {
    it.setString(0x00080100, 'SH', value);
    it.setString(0x00080102, 'SH', scheme);
    it.setString(0x00080104, 'LO', meaning);
  });
}

function set(d: Dataset, t: number, vr: VR, v: string | readonly string[]): void {
  d.setString(t, vr, v);
}

interface Patient { name: string; id: string; birth: string; sex: string; age: string; size: string; weight: string }

function patient(k: number): Patient {
  const last = ['DOE', 'MUSTERMANN', 'ROSSI', 'DUPONT', 'NOWAK', 'SMITH', 'GARCIA', 'MÜLLER'][k % 8]!;
  const first = ['JANE', 'ERIKA', 'MARIO', 'JEAN', 'ANNA', 'JOHN', 'LUCIA', 'KLAUS'][k % 8]!;
  return {
    name: `${last}^${first}^^^`,
    id: `BENCH${String(100000 + k * 7919).slice(-6)}`,
    birth: `19${50 + (k % 40)}0${1 + (k % 9)}1${k % 10}`,
    sex: k % 2 ? 'M' : 'F',
    age: `0${String(30 + (k % 45)).padStart(2, '0')}Y`,
    size: ds(1.6 + (k % 30) / 100),
    weight: ds(55 + (k % 40)),
  };
}

function setPatientStudy(d: Dataset, p: Patient, studyUID: string, k: number, date: string, time: string): void {
  set(d, 0x00080020, 'DA', date);
  set(d, 0x00080030, 'TM', time);
  set(d, 0x00080050, 'SH', `ACC${2024000 + k}`);
  set(d, 0x00080090, 'PN', 'HOUSE^GREGORY^^DR.');
  set(d, 0x00100010, 'PN', p.name);
  set(d, 0x00100020, 'LO', p.id);
  set(d, 0x00100021, 'LO', 'TRACER-BENCH-HOSPITAL');
  set(d, 0x00100030, 'DA', p.birth);
  set(d, 0x00100040, 'CS', p.sex);
  set(d, 0x00101010, 'AS', p.age);
  set(d, 0x00101020, 'DS', p.size);
  set(d, 0x00101030, 'DS', p.weight);
  set(d, 0x0020000d, 'UI', studyUID);
  set(d, 0x00200010, 'SH', String(5000 + k));
  d.setSequence(0x00400275, [item((it) => {
    set(it, 0x00400009, 'SH', `SPS${k}`);
    set(it, 0x00401001, 'SH', `RP${k}`);
    set(it, 0x00321060, 'LO', 'SYNTHETIC BENCHMARK PROCEDURE');
  })]);
}

function setEquipment(d: Dataset, manufacturer: string, model: string, station: string, serial: string, software: string): void {
  set(d, 0x00080070, 'LO', manufacturer);
  set(d, 0x00080080, 'LO', 'Tracer Benchmark Hospital');
  set(d, 0x00080081, 'ST', '1 Synthetic Way\r\nNowhere 00000');
  set(d, 0x00081010, 'SH', station);
  set(d, 0x00081040, 'LO', 'Radiology');
  set(d, 0x00081090, 'LO', model);
  set(d, 0x00181000, 'LO', serial);
  set(d, 0x00181020, 'LO', software);
}

// ---------------------------------------------------------------------------------------
// CT
// ---------------------------------------------------------------------------------------

export interface CTOptions {
  /** Slices in the series (for positions and the Referenced Image Sequence). */
  slices: number;
  rows?: number;
  columns?: number;
  /** Seed for patient/UIDs: series with different seeds belong to different patients. */
  series?: number;
}

/** Slice `i` of a synthetic helical chest CT: ~100 elements and a noisy elliptical phantom. */
export function ctSlice(i: number, opts: CTOptions): Dataset {
  const rows = opts.rows ?? 512, cols = opts.columns ?? 512;
  const k = opts.series ?? 1;
  const p = patient(k);
  const studyUID = `${ROOT_UID}.1.${k}`;
  const seriesUID = `${studyUID}.2`;
  const forUID = `${studyUID}.3`;
  const sopUID = `${seriesUID}.${i + 1}`;
  const thickness = 0.625;
  const z = -50 - i * thickness;
  const date = '20240315';
  const acqTime = (93012.25 + i * 0.05).toFixed(6).padStart(13, '0');
  const d = new Dataset(true);
  set(d, 0x00080005, 'CS', 'ISO_IR 100');
  set(d, 0x00080008, 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']);
  set(d, 0x00080012, 'DA', date);
  set(d, 0x00080013, 'TM', '093512.000000');
  set(d, 0x00080016, 'UI', CT_IMAGE_STORAGE);
  set(d, 0x00080018, 'UI', sopUID);
  set(d, 0x00080021, 'DA', date);
  set(d, 0x00080022, 'DA', date);
  set(d, 0x00080023, 'DA', date);
  set(d, 0x00080031, 'TM', '093001.000000');
  set(d, 0x00080032, 'TM', acqTime);
  set(d, 0x00080033, 'TM', acqTime);
  set(d, 0x00080060, 'CS', 'CT');
  setPatientStudy(d, p, studyUID, k, date, '092500.000000');
  setEquipment(d, 'GE MEDICAL SYSTEMS', 'Revolution CT', 'CT01', `CT${4711 + k}`, 'revo_ct_22mw.54');
  set(d, 0x00081030, 'LO', 'CT CHEST W CONTRAST');
  set(d, 0x0008103e, 'LO', 'Chest 0.625mm STND');
  d.setSequence(0x00081032, [code('CTCHESTC', 'GEIIS', 'CT CHEST WITH CONTRAST')]);
  set(d, 0x00081050, 'PN', 'CURIE^MARIE');
  set(d, 0x00081070, 'PN', 'ROENTGEN^WILHELM');
  const refs: Dataset[] = [];
  for (const j of [i - 1, i + 1]) {
    if (j < 0 || j >= opts.slices) continue;
    refs.push(item((it) => {
      set(it, 0x00081150, 'UI', CT_IMAGE_STORAGE);
      set(it, 0x00081155, 'UI', `${seriesUID}.${j + 1}`);
    }));
  }
  d.setSequence(0x00081140, refs);
  // GE-style private identification block.
  set(d, 0x00090010, 'LO', 'GEMS_IDEN_01');
  set(d, 0x00091001, 'LO', 'CT_LIGHTSPEED');
  set(d, 0x00091002, 'SH', 'CT01');
  set(d, 0x00091004, 'SH', 'Revolution CT');
  d.setNumbers(0x00091027, 'SL', [1710495012 + i]);
  set(d, 0x000910e3, 'UI', `${seriesUID}.9.${i + 1}`);
  set(d, 0x00180010, 'LO', 'OMNIPAQUE 350');
  set(d, 0x00180015, 'CS', 'CHEST');
  set(d, 0x00180022, 'CS', ['HELICAL MODE']);
  set(d, 0x00180050, 'DS', ds(thickness));
  set(d, 0x00180060, 'DS', '120');
  set(d, 0x00180088, 'DS', ds(thickness));
  set(d, 0x00180090, 'DS', '500');
  set(d, 0x00181030, 'LO', 'CHEST ROUTINE 5.1');
  set(d, 0x00181100, 'DS', '360');
  set(d, 0x00181110, 'DS', '1086.5');
  set(d, 0x00181111, 'DS', '626.5');
  set(d, 0x00181120, 'DS', '0');
  set(d, 0x00181130, 'DS', '167.5');
  set(d, 0x00181140, 'CS', 'CW');
  set(d, 0x00181150, 'IS', '500');
  set(d, 0x00181151, 'IS', String(180 + (i % 60)));
  set(d, 0x00181152, 'IS', '10');
  set(d, 0x00181160, 'SH', 'BODY FILTER');
  set(d, 0x00181170, 'IS', String(21600 + (i % 60) * 120));
  set(d, 0x00181190, 'DS', ['0.7', '1.2']);
  set(d, 0x00181210, 'SH', 'STANDARD');
  set(d, 0x00185100, 'CS', 'FFS');
  d.setNumbers(0x00189306, 'FD', [0.625]);
  d.setNumbers(0x00189307, 'FD', [80]);
  d.setNumbers(0x00189309, 'FD', [158.75]);
  d.setNumbers(0x00189310, 'FD', [79.375]);
  d.setNumbers(0x00189311, 'FD', [0.992188]);
  d.setNumbers(0x00189345, 'FD', [8.41 + (i % 17) / 100]);
  d.setSequence(0x00189346, [code('113691', 'DCM', 'IEC Body Dosimetry Phantom')]);
  set(d, 0x0020000e, 'UI', seriesUID);
  set(d, 0x00200011, 'IS', '3');
  set(d, 0x00200012, 'IS', '1');
  set(d, 0x00200013, 'IS', String(i + 1));
  set(d, 0x00200032, 'DS', ['-180', '-180', ds(z)]);
  set(d, 0x00200037, 'DS', ['1', '0', '0', '0', '1', '0']);
  set(d, 0x00200052, 'UI', forUID);
  set(d, 0x00201040, 'LO', 'SN');
  set(d, 0x00201041, 'DS', ds(z));
  d.setNumbers(0x00280002, 'US', [1]);
  set(d, 0x00280004, 'CS', 'MONOCHROME2');
  d.setNumbers(0x00280010, 'US', [rows]);
  d.setNumbers(0x00280011, 'US', [cols]);
  set(d, 0x00280030, 'DS', ['0.703125', '0.703125']);
  d.setNumbers(0x00280100, 'US', [16]);
  d.setNumbers(0x00280101, 'US', [16]);
  d.setNumbers(0x00280102, 'US', [15]);
  d.setNumbers(0x00280103, 'US', [1]);
  set(d, 0x00281050, 'DS', ['40', '-600']);
  set(d, 0x00281051, 'DS', ['400', '1500']);
  set(d, 0x00281052, 'DS', '-1024');
  set(d, 0x00281053, 'DS', '1');
  set(d, 0x00281054, 'LO', 'HU');
  set(d, 0x00281055, 'LO', ['WINDOW1', 'WINDOW2']);
  // GE-style private parameter block.
  set(d, 0x00430010, 'LO', 'GEMS_PARM_01');
  d.setNumbers(0x00431010, 'US', [0]);
  set(d, 0x00431027, 'SH', '/1.0:1');
  set(d, 0x00431039, 'IS', ['0', '0', '0', '0']);
  d.setNumbers(0x00431040, 'FL', [0, 0, 0]);
  set(d, 0x00400244, 'DA', date);
  set(d, 0x00400245, 'TM', '092510.000000');
  set(d, 0x00400253, 'SH', `PPS${k}`);
  set(d, 0x00400254, 'LO', 'CT CHEST W CONTRAST');
  d.setBytes(0x7fe00010, 'OW', ctPixels(i, rows, cols, k));
  return d;
}

/** A noisy chest-like phantom in stored values (HU + 1024 with intercept -1024, signed). */
function ctPixels(i: number, rows: number, cols: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(rows * cols * 2);
  const r = rng(seed * 100003 + i * 7 + 1);
  const cx = cols / 2, cy = rows / 2;
  const ax = cols * 0.42, ay = rows * 0.3 * (1 + 0.05 * Math.sin(i / 40));
  let o = 0;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const dx = (x - cx) / ax, dy = (y - cy) / ay;
      const body = dx * dx + dy * dy;
      let hu: number;
      if (body > 1) hu = -1000;
      else {
        const lx = Math.abs(x - cx) / (cols * 0.16) - 1.2, ly = (y - cy) / (rows * 0.2);
        const lung = lx * lx + ly * ly;
        const sx = (x - cx) / (cols * 0.03), sy = (y - cy - rows * 0.22) / (rows * 0.03);
        hu = sx * sx + sy * sy < 1 ? 900 : lung < 1 ? -820 : body > 0.85 ? -90 : 45;
      }
      const v = hu + (r() + r() + r() - 1.5) * 24;
      b.writeInt16LE(Math.round(v), o);
      o += 2;
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------------
// NM
// ---------------------------------------------------------------------------------------

export interface NMOptions {
  frames: number;
  rows?: number;
  columns?: number;
  detectors?: number;
  /** Seed for patient/UIDs. */
  series?: number;
}

/**
 * A synthetic SPECT (TOMO) acquisition in one NM multi-frame object: Tc-99m, dual head,
 * `frames` frames, per-frame vectors and the Frame Increment Pointer of PS3.3 C.8.4.8.
 */
export function nmMultiframe(opts: NMOptions): Dataset {
  const rows = opts.rows ?? 128, cols = opts.columns ?? 128;
  const detectors = opts.detectors ?? 2;
  const frames = opts.frames;
  if (frames % detectors !== 0) throw new Error('frames must be a multiple of detectors');
  const views = frames / detectors;
  const k = opts.series ?? 1;
  const p = patient(k + 1000);
  const studyUID = `${ROOT_UID}.5.${k}`;
  const seriesUID = `${studyUID}.2`;
  const date = '20240316';
  const step = 360 / frames;
  const d = new Dataset(true);
  set(d, 0x00080005, 'CS', 'ISO_IR 100');
  set(d, 0x00080008, 'CS', ['ORIGINAL', 'PRIMARY', 'TOMO', 'EMISSION']);
  set(d, 0x00080012, 'DA', date);
  set(d, 0x00080013, 'TM', '110233.000000');
  set(d, 0x00080016, 'UI', NM_IMAGE_STORAGE);
  set(d, 0x00080018, 'UI', `${seriesUID}.1`);
  set(d, 0x00080021, 'DA', date);
  set(d, 0x00080022, 'DA', date);
  set(d, 0x00080023, 'DA', date);
  set(d, 0x00080031, 'TM', '104500.000000');
  set(d, 0x00080032, 'TM', '104512.000000');
  set(d, 0x00080033, 'TM', '110233.000000');
  set(d, 0x00080060, 'CS', 'NM');
  setPatientStudy(d, p, studyUID, k, date, '103000.000000');
  setEquipment(d, 'GE MEDICAL SYSTEMS', 'Discovery NM/CT 670', 'NM01', `NM${815 + k}`, 'GENIE 3.0');
  set(d, 0x00081030, 'LO', 'MYOCARDIAL PERFUSION REST');
  set(d, 0x0008103e, 'LO', 'SPECT REST TC99M');
  d.setSequence(0x00081032, [code('NMHRTSPECT', 'GEIIS', 'NM MYOCARDIAL SPECT')]);
  set(d, 0x00081050, 'PN', 'ANGER^HAL');
  set(d, 0x00081070, 'PN', 'HEVESY^GEORGE');
  // GE Genie private blocks (VRs as in the vendor's statement).
  set(d, 0x00090010, 'LO', 'GEMS_GENIE_1');
  set(d, 0x00091010, 'LO', 'MPI REST');
  d.setNumbers(0x00091011, 'SL', [0]);
  d.setNumbers(0x00091012, 'SL', [1]);
  set(d, 0x0009101e, 'UI', `${seriesUID}.9`);
  set(d, 0x00091020, 'LO', 'SPECT REST');
  d.setNumbers(0x00091026, 'SL', [1]);
  d.setNumbers(0x00091027, 'SL', [detectors]);
  set(d, 0x00091040, 'PN', p.name);
  set(d, 0x00091042, 'DA', date);
  set(d, 0x00091043, 'TM', '103000');
  set(d, 0x00180015, 'CS', 'HEART');
  set(d, 0x00180070, 'IS', String(6_000_000 + k * 1000));
  set(d, 0x00180071, 'CS', 'TIME');
  set(d, 0x00181030, 'LO', 'MPI SPECT REST');
  set(d, 0x0020000e, 'UI', seriesUID);
  set(d, 0x00200011, 'IS', '1');
  set(d, 0x00200013, 'IS', '1');
  set(d, 0x00200020, 'CS', ['L', 'H']);
  d.setNumbers(0x00280002, 'US', [1]);
  set(d, 0x00280004, 'CS', 'MONOCHROME2');
  set(d, 0x00280008, 'IS', String(frames));
  // Frame Increment Pointer: frames vary by energy window, detector, rotation, angular view.
  d.setNumbers(0x00280009, 'AT', [0x00540010, 0x00540020, 0x00540050, 0x00540090]);
  d.setNumbers(0x00280010, 'US', [rows]);
  d.setNumbers(0x00280011, 'US', [cols]);
  set(d, 0x00280030, 'DS', ['4.41806', '4.41806']);
  set(d, 0x00280051, 'CS', ['UNIF', 'COR']);
  d.setNumbers(0x00280100, 'US', [16]);
  d.setNumbers(0x00280101, 'US', [16]);
  d.setNumbers(0x00280102, 'US', [15]);
  d.setNumbers(0x00280103, 'US', [0]);
  set(d, 0x00400244, 'DA', date);
  set(d, 0x00400245, 'TM', '104500.000000');
  set(d, 0x00400253, 'SH', `PPS${k}`);
  set(d, 0x00400254, 'LO', 'MPI SPECT REST');
  // Per-frame vectors (PS3.3 C.8.4.8): frame f is detector floor(f / views) + 1, view f % views + 1.
  d.setNumbers(0x00540010, 'US', new Array<number>(frames).fill(1));
  d.setNumbers(0x00540011, 'US', [1]);
  d.setSequence(0x00540012, [item((it) => {
    it.setSequence(0x00540013, [item((r) => {
      set(r, 0x00540014, 'DS', '126');
      set(r, 0x00540015, 'DS', '154');
    })]);
    set(it, 0x00540018, 'SH', 'EM');
  })]);
  d.setSequence(0x00540016, [item((it) => {
    set(it, 0x00181071, 'DS', '0');
    set(it, 0x00181074, 'DS', '925');
    it.setSequence(0x00540300, [code('44588005', 'SCT', 'Technetium^99m^')]);
    it.setSequence(0x00540304, [code('C-B1031', 'SRT', 'Tc-99m Sestamibi')]);
  })]);
  d.setNumbers(0x00540020, 'US', Array.from({ length: frames }, (_, f) => Math.floor(f / views) + 1));
  d.setNumbers(0x00540021, 'US', [detectors]);
  const detItems: Dataset[] = [];
  for (let det = 0; det < detectors; det++) {
    detItems.push(item((it) => {
      set(it, 0x00181145, 'DS', ds(0.12 * (det + 1)));
      set(it, 0x00181147, 'CS', 'RECTANGLE');
      set(it, 0x00181149, 'IS', ['540', '400']);
      set(it, 0x00181180, 'SH', 'LEHR');
      set(it, 0x00181181, 'CS', 'PARA');
      set(it, 0x00181182, 'IS', '0');
      set(it, 0x00181183, 'DS', '0');
      set(it, 0x00181184, 'DS', '0');
      // Radial Position: one value per view, body-contoured orbit.
      set(it, 0x00181142, 'DS', Array.from({ length: views }, (_, v) => ds(220 + 60 * Math.abs(Math.sin((v * step * Math.PI) / 180)), 2)));
      set(it, 0x00200032, 'DS', ['-282.756', '-282.756', '0']);
      set(it, 0x00200037, 'DS', ['1', '0', '0', '0', '0', '-1']);
      set(it, 0x00280031, 'DS', ['1', '1']);
      set(it, 0x00280032, 'DS', ['0', '0']);
      set(it, 0x00540200, 'DS', ds(det * 180));
    }));
  }
  d.setSequence(0x00540022, detItems);
  d.setNumbers(0x00540050, 'US', new Array<number>(frames).fill(1));
  d.setNumbers(0x00540051, 'US', [1]);
  d.setSequence(0x00540052, [item((it) => {
    set(it, 0x00181140, 'CS', 'CW');
    set(it, 0x00181143, 'DS', '180');
    set(it, 0x00181144, 'DS', ds(step * detectors / 2));
    set(it, 0x00181242, 'IS', '25000');
    it.setNumbers(0x00540053, 'US', [views]);
    set(it, 0x00540200, 'DS', '0');
  })]);
  d.setNumbers(0x00540090, 'US', Array.from({ length: frames }, (_, f) => (f % views) + 1));
  set(d, 0x00540400, 'SH', 'SPECT REST');
  d.setSequence(0x00540410, [item((it) => {
    for (const [t, v] of [[0x00080100, '102538003'], [0x00080102, 'SCT'], [0x00080104, 'recumbent']] as const) set(it, t, t === 0x00080104 ? 'LO' : 'SH', v);
    it.setSequence(0x00540412, [code('40199007', 'SCT', 'supine')]);
  })]);
  d.setSequence(0x00540414, [code('102540008', 'SCT', 'headfirst')]);
  d.setBytes(0x7fe00010, 'OW', nmPixels(frames, rows, cols, k));
  return d;
}

/** Projections of a hot ring (myocardium) over a warm background, Poisson-like noise. */
function nmPixels(frames: number, rows: number, cols: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(frames * rows * cols * 2);
  const r = rng(seed * 7717 + 3);
  let o = 0;
  for (let f = 0; f < frames; f++) {
    const a = (2 * Math.PI * f) / frames;
    const hx = cols / 2 + Math.cos(a) * cols * 0.12, hy = rows * 0.45;
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        const dx = x - hx, dy = y - hy;
        const d2 = Math.sqrt(dx * dx + dy * dy);
        const body = Math.abs(x - cols / 2) < cols * 0.3 && Math.abs(y - rows / 2) < rows * 0.4 ? 6 : 0.5;
        const mean = body + (d2 > 6 && d2 < 11 ? 60 : 0);
        const v = Math.max(0, Math.round(mean + Math.sqrt(mean) * (r() + r() + r() + r() - 2) * 1.7));
        b.writeUInt16LE(v, o);
        o += 2;
      }
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------------
// The sets the benchmarks use
// ---------------------------------------------------------------------------------------

/** Frames of the NM set, 120-360 (multiples of 2 for the two heads). */
export const NM_FRAMES: readonly number[] = [120, 128, 180, 240, 360, 120, 128, 180, 240, 360];

/** 1,000 CT slices (512x512, 16-bit): ~0.5 GB. */
export function ensureCTSeries(count = 1000, log?: (s: string) => void): DataSet {
  return ensureSet(`ct-${count}`, `ct slices=${count} 512x512`, count, (i) => ctSlice(i, { slices: count }), log);
}

/**
 * Another CT series (other patient, study and series UIDs than ensureCTSeries'): what a receiver
 * stores before a timed transfer, to be measured running rather than just started.
 */
export function ensureCTWarmup(count: number, log?: (s: string) => void): DataSet {
  return ensureSet(`ct-warmup-${count}`, `ct slices=${count} 512x512 series=2`, count, (i) => ctSlice(i, { slices: count, series: 2 }), log);
}

/** NM multi-frame files (128x128, 16-bit, NM_FRAMES frames): ~60 MB. */
export function ensureNMSet(frames: readonly number[] = NM_FRAMES, log?: (s: string) => void): DataSet {
  return ensureSet(`nm-${frames.length}`, `nm frames=${frames.join(',')} 128x128`, frames.length, (i) => nmMultiframe({ frames: frames[i]!, series: i + 1 }), log);
}

// `node dist/bench/data.js` generates both sets and prints where they are.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ct = ensureCTSeries();
  const nm = ensureNMSet();
  for (const s of [ct, nm]) console.log(`${s.dir}: ${s.files.length} files, ${(s.bytes / 1e6).toFixed(1)} MB`);
}
