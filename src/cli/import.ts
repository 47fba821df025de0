/**
 * `tracer import PATH...`: stores DICOM files (directories recursively) into the local archive
 * through the same ingest path as the Storage SCP (REQUIREMENTS 5.3-5.7): validation, fix-ups,
 * duplicate and UID-conflict policies, demographic updates. Safe beside a running `tracer
 * serve` on the same data directory (the index is shared through SQLite's locking).
 *
 * Several files are imported at once (--jobs, default 4), as concurrent C-STOREs are: while one
 * waits for its fsyncs another is read, and their index rows share a commit. Results are
 * printed in the order of the files.
 */
import { defaultConfig, loadConfig } from '../node/config.js';
import { createLogger } from '../node/log.js';
import { archiveFromConfig } from '../node/node.js';
import { StoreFailure, storeStatusFor } from '../services/storage-scp.js';
import { formatStatus } from '../net/index.js';
import { UsageError, parse } from './args.js';
import { expandPaths } from './files.js';
import { intOption } from './peer.js';
import type { IngestResult } from '../archive/ingest.js';

const HELP = `Usage: tracer import [--config FILE] [--data DIR] [options] FILE|DIR...

Stores DICOM files into the local archive (store.root), as if they had been received by
C-STORE: the storage.* options of the configuration apply. Files that are not DICOM are
reported and skipped. Exit code 0 when every file was stored (warnings included), 1 otherwise.

  -c, --config FILE   configuration file (YAML or JSON)
  -d, --data DIR      data directory (store.root)
  -j, --jobs N        files imported at once (default 4). Where order matters (one Series
                      Instance UID in two studies: which is stored and which quarantined;
                      demographic updates: which values are the latest), it is then the order
                      in which files are ingested; --jobs 1 imports strictly in the order given
      --json          print one JSON line per file
  -q, --quiet         print only failures and the summary
  -h, --help          show this help`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, { config: { type: 'string', short: 'c' }, data: { type: 'string', short: 'd' }, jobs: { type: 'string', short: 'j' }, json: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  if (parsed.positionals.length === 0) throw new UsageError(`no FILE or DIR given\n${HELP}`);
  const jobs = intOption(v, 'jobs', 1, 64) ?? 4;
  const cfg = v.config ? loadConfig(v.config) : defaultConfig();
  if (v.data) cfg.store.root = String(v.data);
  const logger = createLogger({ level: 'warn', format: cfg.log.format });
  const archive = archiveFromConfig(cfg, logger);
  await archive.open({ check: false });
  const counts = { stored: 0, replaced: 0, ignored: 0, quarantined: 0, warnings: 0, failed: 0 };
  type Outcome = { file: string; ok: true; r: IngestResult } | { file: string; ok: false; err: unknown };
  const report = (o: Outcome): void => {
    const { file } = o;
    if (o.ok) {
      const r = o.r;
      counts[r.outcome]++;
      const warn = r.status !== undefined && r.status !== 0;
      if (warn) counts.warnings++;
      if (v.json) console.log(JSON.stringify({ file, outcome: r.outcome, status: formatStatus(r.status ?? 0), reason: r.reason, path: r.location }));
      else if (!v.quiet || warn) console.log(`${r.outcome.padEnd(11)} ${file}${warn ? ` (${formatStatus(r.status!)}: ${r.reason})` : ''}`);
    } else {
      const err = o.err;
      counts.failed++;
      const f = err instanceof StoreFailure ? err : undefined;
      const status = f ? formatStatus(storeStatusFor(f.kind, cfg.storage.privateStatusCodes)) : 'error';
      if (v.json) console.log(JSON.stringify({ file, outcome: 'failed', status, reason: (err as Error).message }));
      else console.error(`failed      ${file} (${status}: ${(err as Error).message})`);
    }
  };
  // A window of files in flight, reported in the order given.
  const inFlight: Promise<Outcome>[] = [];
  try {
    for (const file of expandPaths(parsed.positionals)) {
      inFlight.push(archive.importFile(file).then((r): Outcome => ({ file, ok: true, r }), (err: unknown): Outcome => ({ file, ok: false, err })));
      if (inFlight.length >= jobs) report(await inFlight.shift()!);
    }
  } finally {
    // Also when the walk fails (a path that does not exist): what is under way ends, and is
    // reported, before the archive closes.
    for (const p of inFlight.splice(0)) report(await p);
    await archive.close();
  }
  if (!v.json) console.log(`${counts.stored} stored, ${counts.replaced} replaced, ${counts.ignored} duplicates ignored, ${counts.quarantined} quarantined, ${counts.failed} failed${counts.warnings ? ` (${counts.warnings} with warnings)` : ''}`);
  return counts.failed > 0 ? 1 : 0;
}
