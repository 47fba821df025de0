/**
 * Synthetic archives for bench/archive: many patients, studies and series with varied names,
 * dates, accession numbers and modalities, generated deterministically (seeded) so that every
 * machine benchmarks the same content.
 *
 * A layout (`archiveLayout(tag, instances)`) plans the studies: about 10 instances per study
 * (CR/DX with 1-4, NM with 1-6, CT/MR/PT with 4-60, US with 1-10), about 3 studies per patient,
 * study dates spread evenly over 2005-2024, one accession number per study. Patient names are
 * FAMILY^GIVEN (some with a middle name), from ~3 family names per 10 patients built out of
 * syllables, a fifth of the patients sharing 60 common family names; 30 % are stored in mixed
 * case ('Karovel^Anna') and 3 % carry a Latin-1 letter (Specific Character Set ISO_IR 100).
 *
 * Each instance is a small image (64x64, 16-bit, 8 KiB of pixel data, about 10 KB as a file)
 * with the patient, study, series, equipment and image attributes a modality sends (~45
 * elements). `tag` keeps the UIDs of different sets apart.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Archive, headerOf, instancePath } from '../src/archive/ingest.js';
import { SqliteIndex } from '../src/archive/sqlite-index.js';
import { Dataset } from '../src/dicom/dataset.js';
import { TS } from '../src/dicom/dictionary/index.js';
import type { VR } from '../src/dicom/vr.js';
import { encodeDatasetToBuffer, encodedSize } from '../src/dicom/write.js';
import { dataDir, repoRoot, rng } from './data.js';

/** Bump when the generated content changes: every cached archive, index and peer database is then rebuilt. */
export const ARCHIVE_DATA_VERSION = 1;

/**
 * Bump when Tracer's archive or index changes how it stores things (the index schema): Tracer's
 * cached archives and indexes are then rebuilt (the peers' databases are kept). 2: index schema 3.
 */
export const TRACER_BUILD_VERSION = 2;

const ROOT = '1.2.826.0.1.3680043.10.1137.9';

type Kind = 'CT' | 'MR' | 'CR' | 'DX' | 'NM' | 'PT' | 'US';

const SOP_CLASS: Record<Kind, string> = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  CR: '1.2.840.10008.5.1.4.1.1.1',
  DX: '1.2.840.10008.5.1.4.1.1.1.1',
  NM: '1.2.840.10008.5.1.4.1.1.20',
  PT: '1.2.840.10008.5.1.4.1.1.128',
  US: '1.2.840.10008.5.1.4.1.1.6.1',
};

interface KindSpec {
  kind: Kind;
  weight: number;
  series: [number, number];
  perSeries: [number, number];
  description: string;
  bodyPart: string;
}

const KINDS: readonly KindSpec[] = [
  { kind: 'CT', weight: 30, series: [1, 3], perSeries: [2, 16], description: 'CT CHEST ABDOMEN', bodyPart: 'CHEST' },
  { kind: 'MR', weight: 15, series: [2, 4], perSeries: [2, 8], description: 'MR BRAIN W/O CONTRAST', bodyPart: 'HEAD' },
  { kind: 'CR', weight: 15, series: [1, 2], perSeries: [1, 2], description: 'XR CHEST 2 VIEWS', bodyPart: 'CHEST' },
  { kind: 'DX', weight: 10, series: [1, 2], perSeries: [1, 2], description: 'XR KNEE LEFT', bodyPart: 'KNEE' },
  { kind: 'NM', weight: 15, series: [1, 3], perSeries: [1, 2], description: 'NM MYOCARDIAL PERFUSION', bodyPart: 'HEART' },
  { kind: 'PT', weight: 5, series: [2, 2], perSeries: [2, 12], description: 'PET/CT WHOLE BODY FDG', bodyPart: 'WHOLEBODY' },
  { kind: 'US', weight: 10, series: [1, 1], perSeries: [1, 10], description: 'US ABDOMEN COMPLETE', bodyPart: 'ABDOMEN' },
];
const KIND_TOTAL = KINDS.reduce((n, k) => n + k.weight, 0);

export interface StudyPlan {
  /** 0-based, in UID order. */
  index: number;
  patient: number;
  uid: string;
  date: string;
  time: string;
  accession: string;
  spec: KindSpec;
  /** Instances of each series. */
  series: number[];
}

export interface ArchiveLayout {
  tag: number;
  instances: number;
  patients: number;
  studies: StudyPlan[];
}

export interface SynthPatient {
  name: string;
  id: string;
  birth: string;
  sex: 'F' | 'M';
  latin1: boolean;
}

const FIRST_DAY = Date.UTC(2005, 0, 1);
const DAYS = 7305; // 2005-01-01 .. 2024-12-31

export function dayString(day: number): string {
  return new Date(FIRST_DAY + day * 86400000).toISOString().slice(0, 10).replace(/-/g, '');
}

export function archiveLayout(tag: number, instances: number): ArchiveLayout {
  const r = rng(0x5eed0000 + tag);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const studies: StudyPlan[] = [];
  let left = instances;
  const patients = Math.max(1, Math.round(instances / 33));
  while (left > 0) {
    const s = studies.length;
    let w = r() * KIND_TOTAL;
    const spec = KINDS.find((k) => (w -= k.weight) < 0) ?? KINDS[0]!;
    const series: number[] = [];
    for (let n = int(spec.series[0], spec.series[1]); n > 0 && left > 0; n--) {
      const k = Math.min(left, int(spec.perSeries[0], spec.perSeries[1]));
      series.push(k);
      left -= k;
    }
    const sec = int(7 * 3600, 19 * 3600);
    studies.push({
      index: s,
      // A scrambled patient per study: about 3 studies each, in no particular order.
      patient: Number((BigInt(s) * 2654435761n) % BigInt(patients)),
      uid: `${ROOT}.${tag}.${s + 1}`,
      date: dayString(int(0, DAYS - 1)),
      time: `${String(Math.floor(sec / 3600)).padStart(2, '0')}${String(Math.floor(sec / 60) % 60).padStart(2, '0')}${String(sec % 60).padStart(2, '0')}`,
      accession: `${String.fromCharCode(65 + (tag % 26))}${String(1000000 + s * 7 + (tag % 7)).padStart(8, '0')}`,
      spec,
      series,
    });
  }
  return { tag, instances, patients, studies };
}

const SYLLABLES = ['KA', 'RO', 'MI', 'SEN', 'TA', 'LO', 'VI', 'NE', 'BER', 'GO', 'DA', 'LIN', 'MAR', 'TO', 'PE', 'RI', 'SU', 'HAN', 'KO', 'WEL',
  'ZA', 'NO', 'FI', 'LA', 'TE', 'MOR', 'BI', 'CHE', 'DU', 'GRA', 'STE', 'VAN', 'OL', 'ES', 'AN', 'IN'];
const LATIN1 = ['MÜL', 'BÖR', 'JOÃ', 'GÓ', 'HÉ', 'SØ'];
const COMMON = ['SMITH', 'MILLER', 'GARCIA', 'MÜLLER', 'ROSSI', 'DUPONT', 'NOWAK', 'JANSEN', 'NIELSEN', 'SCHMIDT', 'JOHNSON', 'BROWN', 'MARTIN',
  'BERNARD', 'WAGNER', 'BECKER', 'HOFFMANN', 'SCHULZ', 'KOCH', 'RICHTER', 'KLEIN', 'WOLF', 'NEUMANN', 'SCHWARZ', 'ZIMMERMANN', 'KRÜGER',
  'HARTMANN', 'LANGE', 'WERNER', 'KRAUSE', 'LEHMANN', 'MAIER', 'KÖHLER', 'WALTER', 'PETERS', 'KÖNIG', 'MAYER', 'HUBER', 'FUCHS', 'VOGEL',
  'BAUER', 'WEBER', 'FISCHER', 'MEYER', 'LOPEZ', 'GONZALEZ', 'RODRIGUEZ', 'PEREZ', 'SANCHEZ', 'RAMIREZ', 'TORRES', 'FLORES', 'RIVERA',
  'GOMEZ', 'DIAZ', 'REYES', 'MORALES', 'CRUZ', 'ORTIZ', 'GUTIERREZ'];
const GIVEN_F = ['ANNA', 'MARIA', 'ERIKA', 'JANE', 'LUCIA', 'SOFIA', 'EMMA', 'OLIVIA', 'CLARA', 'LENA', 'JULIA', 'SARA', 'EVA', 'IDA', 'NORA', 'ALICE'];
const GIVEN_M = ['JOHN', 'KLAUS', 'MARIO', 'JEAN', 'PETER', 'LUCAS', 'DAVID', 'PAUL', 'JONAS', 'FELIX', 'OSKAR', 'HUGO', 'LEON', 'KARL', 'IVAN', 'TOM'];

function mixedCase(s: string): string {
  return s.split('^').map((c) => c.charAt(0) + c.slice(1).toLowerCase()).join('^');
}

/** The family names of a layout's patients: syllable names, plus the common ones. */
function familyName(p: number, patients: number): string {
  const r = rng(0xfa000000 ^ (p * 2246822519));
  if (r() < 0.2) return COMMON[Math.floor(r() * COMMON.length)]!;
  const pool = Math.max(50, Math.floor((patients * 3) / 10));
  const j = Math.floor(r() * pool);
  const s = rng(0x51000000 ^ (j * 3266489917));
  const n = 2 + Math.floor(s() * 2);
  let out = '';
  for (let i = 0; i < n; i++) out += i === 0 && s() < 0.03 ? LATIN1[Math.floor(s() * LATIN1.length)]! : SYLLABLES[Math.floor(s() * SYLLABLES.length)]!;
  return out;
}

export function patientOf(layout: ArchiveLayout, p: number): SynthPatient {
  const r = rng(0x7a000000 ^ (p * 668265263) ^ layout.tag);
  const sex = r() < 0.5 ? 'F' : 'M';
  const given = sex === 'F' ? GIVEN_F : GIVEN_M;
  let name = `${familyName(p, layout.patients)}^${given[Math.floor(r() * given.length)]!}`;
  if (r() < 0.15) name += `^${given[Math.floor(r() * given.length)]!}`;
  if (r() < 0.3) name = mixedCase(name);
  const latin1 = /[^\x00-\x7f]/.test(name);
  const by = 1930 + Math.floor(r() * 85);
  return {
    name,
    id: `P${layout.tag}${String(p + 1).padStart(7, '0')}`,
    birth: `${by}${String(1 + Math.floor(r() * 12)).padStart(2, '0')}${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`,
    sex,
    latin1,
  };
}

let pixels: Buffer | undefined;

/** 64x64 16-bit noise, shared by every instance (8 KiB). */
function pixelData(): Buffer {
  if (!pixels) {
    const r = rng(42);
    pixels = Buffer.alloc(64 * 64 * 2);
    for (let i = 0; i < 64 * 64; i++) pixels.writeUInt16LE(Math.floor(r() * 1024), i * 2);
  }
  return pixels;
}

export interface SynthInstance {
  study: StudyPlan;
  seriesUid: string;
  sopUid: string;
  sopClassUid: string;
  dataset: Dataset;
}

/** Every instance of a layout, in study, series, instance order. */
export function* archiveInstances(layout: ArchiveLayout, opts: { from?: number; count?: number } = {}): Generator<SynthInstance> {
  const from = opts.from ?? 0;
  const end = Math.min(layout.instances, from + (opts.count ?? layout.instances));
  let n = 0;
  for (const st of layout.studies) {
    const size = st.series.reduce((a, b) => a + b, 0);
    if (n + size <= from) {
      n += size;
      continue;
    }
    if (n >= end) return;
    const p = patientOf(layout, st.patient);
    for (let k = 0; k < st.series.length; k++) {
      for (let i = 0; i < st.series[k]!; i++, n++) {
        if (n < from) continue;
        if (n >= end) return;
        yield instance(layout, st, p, k, i);
      }
    }
  }
}

function instance(layout: ArchiveLayout, st: StudyPlan, p: SynthPatient, k: number, i: number): SynthInstance {
  const kind: Kind = st.spec.kind === 'PT' && k === 1 ? 'CT' : st.spec.kind;
  const seriesUid = `${st.uid}.${k + 1}`;
  const sopUid = `${seriesUid}.${i + 1}`;
  const d = new Dataset(true);
  const set = (t: number, vr: VR, v: string | readonly string[]): void => {
    d.setString(t, vr, v);
  };
  // Set first: values are encoded in the data set's character set as they are set.
  if (p.latin1) set(0x00080005, 'CS', 'ISO_IR 100');
  set(0x00080008, 'CS', ['ORIGINAL', 'PRIMARY', kind === 'NM' ? 'STATIC' : 'AXIAL']);
  set(0x00080012, 'DA', st.date);
  set(0x00080013, 'TM', st.time);
  set(0x00080016, 'UI', SOP_CLASS[kind]);
  set(0x00080018, 'UI', sopUid);
  set(0x00080020, 'DA', st.date);
  set(0x00080021, 'DA', st.date);
  set(0x00080023, 'DA', st.date);
  set(0x00080030, 'TM', st.time);
  set(0x00080031, 'TM', st.time);
  set(0x00080033, 'TM', st.time);
  set(0x00080050, 'SH', st.accession);
  set(0x00080060, 'CS', kind);
  set(0x00080070, 'LO', ['GE MEDICAL SYSTEMS', 'SIEMENS', 'Philips', 'Canon Medical Systems'][st.index % 4]!);
  set(0x00080080, 'LO', 'Tracer Benchmark Hospital');
  set(0x00080090, 'PN', ['HOUSE^GREGORY', 'WILSON^JAMES', 'CUDDY^LISA', 'FOREMAN^ERIC'][st.patient % 4]!);
  set(0x00081010, 'SH', `${kind}0${1 + (st.index % 3)}`);
  set(0x00081030, 'LO', st.spec.description);
  set(0x0008103e, 'LO', `${kind} series ${k + 1}`);
  set(0x00081090, 'LO', `Model ${kind}-${1 + (st.index % 5)}`);
  set(0x00100010, 'PN', p.name);
  set(0x00100020, 'LO', p.id);
  set(0x00100030, 'DA', p.birth);
  set(0x00100040, 'CS', p.sex);
  set(0x00180015, 'CS', st.spec.bodyPart);
  set(0x0020000d, 'UI', st.uid);
  set(0x0020000e, 'UI', seriesUid);
  set(0x00200010, 'SH', String(1 + (st.index % 99999)));
  set(0x00200011, 'IS', String(k + 1));
  set(0x00200013, 'IS', String(i + 1));
  set(0x00200020, 'CS', ['L', 'P']);
  set(0x00200052, 'UI', `${st.uid}.0`);
  d.setNumbers(0x00280002, 'US', [1]);
  set(0x00280004, 'CS', 'MONOCHROME2');
  d.setNumbers(0x00280010, 'US', [64]);
  d.setNumbers(0x00280011, 'US', [64]);
  set(0x00280030, 'DS', ['4', '4']);
  d.setNumbers(0x00280100, 'US', [16]);
  d.setNumbers(0x00280101, 'US', [16]);
  d.setNumbers(0x00280102, 'US', [15]);
  d.setNumbers(0x00280103, 'US', [0]);
  set(0x00281050, 'DS', '512');
  set(0x00281051, 'DS', '1024');
  d.setBytes(0x7fe00010, 'OW', pixelData());
  return { study: st, seriesUid, sopUid, sopClassUid: SOP_CLASS[kind], dataset: d };
}

// ---------------------------------------------------------------------------------------
// Cached archives
// ---------------------------------------------------------------------------------------

const ELE = TS.ExplicitVRLittleEndian;
const ELE_ENC = { explicitVR: true, littleEndian: true };

export interface BuiltArchive {
  /** The data directory (store.root): `.index/tracer.sqlite`, and the files when `files`. */
  root: string;
  instances: number;
  studies: number;
  patients: number;
  files: boolean;
  /** Seconds the one-time build took (from the manifest). */
  buildSeconds: number;
}

interface ArchiveManifest {
  version: number;
  spec: string;
  instances: number;
  studies: number;
  patients: number;
  files: boolean;
  buildSeconds: number;
}

function readManifest(path: string, spec: string): ArchiveManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as ArchiveManifest;
    return m.version === ARCHIVE_DATA_VERSION && m.spec === spec ? m : undefined;
  } catch {
    return undefined;
  }
}

function log(s: string): void {
  process.stderr.write(s + '\n');
}

/**
 * An index of `instances` instances without their files (`<dataDir>/archive-index-N/`), built
 * once straight through SqliteIndex.addInstance (the ingest path's index transaction, grouped in
 * transactions of 20,000), with the index's clean-stop mark set so that `tracer serve` opens it
 * without the start-up check (which would remove every row, as no file exists). For C-FIND, which
 * answers from the index alone; nothing may be retrieved from it.
 *
 * By default the layout of tag 1 and that size; with `of`, the first `instances` instances of
 * the layout (tag, of) (the same patients and studies as an archive of that layout).
 */
export async function ensureIndexOnly(instances: number, o: { tag?: number; of?: number } = {}): Promise<BuiltArchive> {
  const tag = o.tag ?? 1;
  const of = o.of ?? instances;
  const name = o.of === undefined ? `archive-index-${instances}` : `archive-index-${tag}-${of}-${instances}`;
  const root = join(dataDir(), name);
  const manifestPath = `${root}.manifest.json`;
  const spec = `index-only tag=${tag} of=${of} instances=${instances} build=${TRACER_BUILD_VERSION}`;
  const m = readManifest(manifestPath, spec);
  if (m && existsSync(join(root, '.index', 'tracer.sqlite'))) return { root, ...m };
  rmSync(root, { recursive: true, force: true });
  rmSync(manifestPath, { force: true });
  mkdirSync(root, { recursive: true });
  const t0 = Date.now();
  const layout = archiveLayout(tag, of);
  log(`bench: building an index of ${instances} instances (layout of ${of}: ${layout.studies.length} studies, ${layout.patients} patients) in ${root} ...`);
  const idx = new SqliteIndex(join(root, '.index', 'tracer.sqlite'));
  // One-time build: durability is irrelevant until the end (the manifest is written last).
  idx.db.pragma('synchronous = OFF');
  // A larger page cache for the build only: the unique indexes (path, UIDs) take random inserts.
  idx.db.pragma('cache_size = -524288');
  const opts = { demographicUpdate: 'latestWins' as const, replace: false };
  let n = 0;
  idx.db.exec('BEGIN');
  for (const inst of archiveInstances(layout, { count: instances })) {
    const ds = inst.dataset;
    await idx.addInstance({
      path: instancePath(inst.study.uid, inst.seriesUid, inst.sopUid), sopClassUid: inst.sopClassUid, sopInstanceUid: inst.sopUid,
      studyInstanceUid: inst.study.uid, seriesInstanceUid: inst.seriesUid, transferSyntaxUid: ELE, size: encodedSize(ds, ELE_ENC) + 200,
      sourceAeTitle: 'BENCH', header: headerOf(ds),
    }, opts);
    if (++n % 20000 === 0) {
      idx.db.exec('COMMIT');
      log(`bench:   ${n} / ${instances} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      idx.db.exec('BEGIN');
    }
  }
  idx.db.exec('COMMIT');
  idx.db.pragma('synchronous = NORMAL');
  const c = await idx.counts();
  await idx.setMeta('state', 'clean');
  await idx.close();
  const manifest: ArchiveManifest = { version: ARCHIVE_DATA_VERSION, spec, instances: c.instances, studies: c.studies, patients: c.patients, files: false, buildSeconds: (Date.now() - t0) / 1000 };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  log(`bench: index built in ${manifest.buildSeconds.toFixed(0)} s`);
  return { root, ...manifest };
}

/**
 * An archive of `instances` instances with their files (`<dataDir>/archive-files-N/`), built once
 * through Archive.receive + commit: the ingest path of a C-STORE without the network (temporary
 * file, header parse, validation, rename into place, index transaction), 8 at a time. The build
 * runs in a child process with bench/peers/no-fsync.c preloaded (no fsync per file; one `sync`
 * at the end), and closes the archive cleanly. Runs copy it (copyArchive) before writing to it.
 */
export function ensureArchiveWithFiles(instances: number, tag = 2): BuiltArchive {
  const name = `archive-files-${instances}`;
  const root = join(dataDir(), name);
  const manifestPath = `${root}.manifest.json`;
  const spec = `files tag=${tag} instances=${instances} build=${TRACER_BUILD_VERSION}`;
  const m = readManifest(manifestPath, spec);
  if (m && existsSync(join(root, '.index', 'tracer.sqlite'))) return { root, ...m };
  rmSync(root, { recursive: true, force: true });
  rmSync(manifestPath, { force: true });
  mkdirSync(root, { recursive: true });
  const t0 = Date.now();
  const shim = join(dataDir(), 'no-fsync.so');
  const cc = spawnSync('cc', ['-O2', '-shared', '-fPIC', '-o', shim, join(repoRoot(), 'bench/peers/no-fsync.c')], { encoding: 'utf8' });
  const env = { ...process.env };
  if (cc.status === 0) env.LD_PRELOAD = shim;
  else log(`bench: cannot build the no-fsync shim (${cc.stderr}); building with fsync (slow)`);
  log(`bench: building an archive of ${instances} instances with files in ${root} (one-time) ...`);
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--build-archive', root, String(instances), String(tag)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench: building ${root} failed (${r.status})`);
  spawnSync('sync');
  const counts = JSON.parse(readFileSync(join(root, '.index', 'counts.json'), 'utf8')) as { instances: number; studies: number; patients: number };
  rmSync(join(root, '.index', 'counts.json'));
  const manifest: ArchiveManifest = { version: ARCHIVE_DATA_VERSION, spec, ...counts, files: true, buildSeconds: (Date.now() - t0) / 1000 };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  log(`bench: archive built in ${manifest.buildSeconds.toFixed(0)} s`);
  return { root, ...manifest };
}

async function buildArchiveChild(root: string, instances: number, tag: number): Promise<void> {
  const t0 = Date.now();
  const archive = new Archive({ root, minFreeDiskMb: 0 });
  await archive.open({ check: true });
  const layout = archiveLayout(tag, instances);
  const it = archiveInstances(layout);
  let n = 0;
  const ac = new AbortController();
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = it.next();
      if (next.done) return;
      const inst = next.value;
      const bytes = encodeDatasetToBuffer(inst.dataset, ELE_ENC);
      const rq = { sopClassUid: inst.sopClassUid, sopInstanceUid: inst.sopUid, transferSyntaxUid: ELE, callingAETitle: 'BENCH', calledAETitle: 'TRACER', messageId: n + 1 };
      const pending = await archive.receive(rq, (async function* () { yield bytes; })(), ac.signal);
      await pending.commit();
      if (++n % 10000 === 0) log(`bench:   ${n} / ${instances} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const counts = await archive.index.counts();
  await archive.close();
  writeFileSync(join(root, '.index', 'counts.json'), JSON.stringify(counts));
}

// `node dist/bench/archive-data.js --build-archive ROOT N TAG`: the child of ensureArchiveWithFiles.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === '--build-archive') {
  await buildArchiveChild(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
}
