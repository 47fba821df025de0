/**
 * `tracer delete`: removes a patient, study, series or instance from the local archive
 * (REQUIREMENTS 19.6, SYS-023): index rows first with their files recorded as pending deletion,
 * then the files; a crash in between is finished at the next start.
 */
import { defaultConfig, loadConfig } from '../node/config.js';
import { createLogger } from '../node/log.js';
import { archiveFromConfig } from '../node/node.js';
import type { InstanceSelector } from '../archive/index.js';
import { UsageError, parse } from './args.js';

const HELP = `Usage: tracer delete [--config FILE] [--data DIR] (--patient ID | --study UID | --series UID | --instance UID)...

Deletes instances from the local archive (store.root): every instance of the patients with
that Patient ID, of the studies, series, or the instances themselves. Options may repeat.
Instances that no archive has committed (storage commitment) are deleted with a warning.

  -c, --config FILE   configuration file (YAML or JSON)
  -d, --data DIR      data directory (store.root)
      --patient ID    Patient ID (0010,0020)
      --study UID     Study Instance UID
      --series UID    Series Instance UID
      --instance UID  SOP Instance UID
  -n, --dry-run       list what would be deleted
  -h, --help          show this help`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    config: { type: 'string', short: 'c' },
    data: { type: 'string', short: 'd' },
    patient: { type: 'string', multiple: true },
    study: { type: 'string', multiple: true },
    series: { type: 'string', multiple: true },
    instance: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean', short: 'n' },
  }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'\n${HELP}`);
  const selectors: InstanceSelector[] = [];
  for (const p of (v.patient as string[] | undefined) ?? []) selectors.push({ level: 'PATIENT', patientIds: [p] });
  for (const s of (v.study as string[] | undefined) ?? []) selectors.push({ level: 'STUDY', studyInstanceUids: [s] });
  for (const s of (v.series as string[] | undefined) ?? []) selectors.push({ level: 'SERIES', seriesInstanceUids: [s] });
  for (const s of (v.instance as string[] | undefined) ?? []) selectors.push({ level: 'IMAGE', sopInstanceUids: [s] });
  if (selectors.length === 0) throw new UsageError(`nothing to delete: give --patient, --study, --series or --instance\n${HELP}`);
  const cfg = v.config ? loadConfig(v.config) : defaultConfig();
  if (v.data) cfg.store.root = String(v.data);
  const archive = archiveFromConfig(cfg, createLogger({ level: 'warn', format: cfg.log.format }));
  await archive.open({ check: false });
  let total = 0;
  let missing = 0;
  try {
    for (const sel of selectors) {
      const what = `${sel.level.toLowerCase()} ${[...(sel.patientIds ?? []), ...(sel.studyInstanceUids ?? []), ...(sel.seriesInstanceUids ?? []), ...(sel.sopInstanceUids ?? [])].join(',')}`;
      // COMMIT-030: deleting what no archive has committed may delete the only copy: say so.
      const selected = (await archive.index.selectInstances(sel)).map((i) => i.path);
      let uncommitted = 0;
      for (const p of selected) if (!(await archive.index.commitMarkOf(p))) uncommitted++;
      if (uncommitted > 0) console.error(`warning: ${uncommitted} of the ${selected.length} instance(s) of ${what} were not committed by an archive (storage commitment): this may be the only copy`);
      const paths = v['dry-run'] ? selected : await archive.delete(sel);
      if (paths.length === 0) {
        missing++;
        console.error(`not found: ${what}`);
      } else console.log(`${v['dry-run'] ? 'would delete' : 'deleted'} ${what}: ${paths.length} instance(s)`);
      total += paths.length;
    }
  } finally {
    await archive.close();
  }
  return missing > 0 ? 1 : 0;
}
