/**
 * `tracer quarantine`: the administrator's list of quarantined instances (REQUIREMENTS STOR-042),
 * where they can be deleted or released into the index. Instances are quarantined for a Series
 * Instance UID already used in another study (storage.seriesUidConflict), a SOP Instance UID
 * already used in another series (storage.sopUidConflict), an invalid instance kept by
 * storage.storeInvalid, or a file the start-up check could not index. Works on the data
 * directory like `tracer import` and `tracer delete`, beside a running `tracer serve`.
 */
import { QuarantineNotFoundError, type Archive } from '../archive/ingest.js';
import type { QuarantineEntry } from '../archive/index.js';
import { defaultConfig, loadConfig } from '../node/config.js';
import { createLogger } from '../node/log.js';
import { archiveFromConfig } from '../node/node.js';
import { StoreFailure, storeStatusFor } from '../services/storage-scp.js';
import { formatStatus } from '../net/index.js';
import { UsageError, parse, type Values } from './args.js';

const HELP = `Usage: tracer quarantine list [--json] [--config FILE] [--data DIR]
       tracer quarantine release (ID... | --all) [--config FILE] [--data DIR]
       tracer quarantine delete (ID... | --all) [--dry-run] [--config FILE] [--data DIR]

Instances kept out of the index (STOR-041/042): a Series Instance UID already used in another
study, a SOP Instance UID already used in another series, an invalid instance kept by
storage.storeInvalid, or a file the start-up check could not index.

  list      one line per quarantined instance: ID, when received, SOP Instance UID, reason
  release   store the instance through the same ingest path as C-STORE and tracer import,
            the UID conflict accepted this time (storage.seriesUidConflict and sopUidConflict
            read as 'store'; every other storage.* option applies); it leaves the quarantine
            in the index transaction that adds it. A duplicate of an indexed instance leaves
            the quarantine too; an instance that fails (invalid, unreadable) stays
  delete    remove the instance's file and its entry

  -c, --config FILE   configuration file (YAML or JSON)
  -d, --data DIR      data directory (store.root)
      --all           every quarantined instance
      --json          list: a JSON array; release, delete: one JSON line per instance
  -n, --dry-run       delete: list what would be deleted
  -h, --help          show this help

Exit code 0 when every instance named was listed, released or deleted, 1 otherwise.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    config: { type: 'string', short: 'c' },
    data: { type: 'string', short: 'd' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    'dry-run': { type: 'boolean', short: 'n' },
  }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  const [action, ...rest] = parsed.positionals;
  if (action !== 'list' && action !== 'release' && action !== 'delete') {
    throw new UsageError(`${action === undefined ? 'missing action' : `unknown action '${action}'`}: give list, release or delete\n${HELP}`);
  }
  if (action === 'list' && (rest.length > 0 || v.all)) throw new UsageError(`list takes no ID or --all\n${HELP}`);
  if (action !== 'delete' && v['dry-run']) throw new UsageError(`--dry-run goes with delete\n${HELP}`);
  const ids = rest.map((r) => {
    if (!/^\d+$/.test(r)) throw new UsageError(`'${r}' is not a quarantine ID (a number from tracer quarantine list)`);
    return Number(r);
  });
  if (action !== 'list' && (ids.length > 0) === !!v.all) throw new UsageError(`${action}: give one or more IDs or --all, not both\n${HELP}`);

  const cfg = v.config ? loadConfig(v.config as string) : defaultConfig();
  if (v.data) cfg.store.root = String(v.data);
  const archive = archiveFromConfig(cfg, createLogger({ level: 'warn', format: cfg.log.format }));
  await archive.open({ check: false });
  try {
    const entries = await archive.listQuarantine();
    if (action === 'list') return list(entries, v);
    const chosen = v.all ? entries.map((e) => e.id) : ids;
    return action === 'release' ? await release(archive, chosen, v, cfg.storage.privateStatusCodes) : await discard(archive, entries, chosen, v);
  } finally {
    await archive.close();
  }
}

function list(entries: QuarantineEntry[], v: Values): number {
  if (v.json) {
    process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
    return 0;
  }
  if (entries.length === 0) {
    console.log('quarantine is empty');
    return 0;
  }
  const rows = entries.map((e) => [String(e.id), e.receivedAt, e.sopInstanceUid ?? '-', e.reason]);
  const heads = ['ID', 'RECEIVED', 'SOP INSTANCE UID', 'REASON'];
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  console.log([fmt(heads), ...rows.map(fmt)].join('\n'));
  return 0;
}

async function release(archive: Archive, ids: number[], v: Values, privateStatusCodes: 'none' | 'entegra'): Promise<number> {
  let failed = 0;
  for (const id of ids) {
    try {
      const r = await archive.releaseQuarantined(id);
      const warn = r.status !== undefined && r.status !== 0 ? ` (${formatStatus(r.status)}: ${r.reason})` : '';
      if (v.json) console.log(JSON.stringify({ id, outcome: r.outcome, status: formatStatus(r.status ?? 0), reason: r.reason, path: r.location }));
      else console.log(`released ${id}: ${r.outcome === 'ignored' ? 'already in the archive (duplicate ignored)' : r.outcome} ${r.location}${warn}`);
    } catch (err) {
      failed++;
      const status = err instanceof StoreFailure ? formatStatus(storeStatusFor(err.kind, privateStatusCodes)) : undefined;
      const why = (err as Error).message;
      if (v.json) console.log(JSON.stringify({ id, outcome: 'failed', status, reason: why }));
      else console.error(err instanceof QuarantineNotFoundError ? `not found: ${why}` : `not released ${id}: ${status ? `${status}: ` : ''}${why} (it stays in quarantine)`);
    }
  }
  return failed > 0 ? 1 : 0;
}

async function discard(archive: Archive, entries: QuarantineEntry[], ids: number[], v: Values): Promise<number> {
  let missing = 0;
  for (const id of ids) {
    try {
      const e = v['dry-run'] ? entries.find((x) => x.id === id) : await archive.deleteQuarantined(id);
      if (!e) throw new QuarantineNotFoundError(id);
      if (v.json) console.log(JSON.stringify({ id, outcome: v['dry-run'] ? 'would delete' : 'deleted', path: e.path, sopInstanceUid: e.sopInstanceUid }));
      else console.log(`${v['dry-run'] ? 'would delete' : 'deleted'} ${id}: ${e.sopInstanceUid ?? e.path} (${e.reason})`);
    } catch (err) {
      if (!(err instanceof QuarantineNotFoundError)) throw err;
      missing++;
      console.error(`not found: ${err.message}`);
    }
  }
  return missing > 0 ? 1 : 0;
}
