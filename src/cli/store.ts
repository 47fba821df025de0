/**
 * `tracer store`: send DICOM files to a peer with C-STORE (REQUIREMENTS 6), like DCMTK's
 * storescu. A thin shell over services/storage-scu.ts: options, a progress bar on a terminal
 * (plain log lines otherwise), a summary and the list of what failed.
 */
import type cliProgress from 'cli-progress';
import { transferSyntax } from '../dicom/dictionary/index.js';
import { createLogger, type Logger } from '../node/log.js';
import { storeFiles, storeOptionsFromConfig, type FileResult, type StoreOptions, type StoreProgress, type StoreReport } from '../services/storage-scu.js';
import { UsageError, parse } from './args.js';
import { expandPaths } from './files.js';
import { intOption, numberOption, resolvePeer } from './peer.js';

const HELP = `Usage: tracer store [options] HOST PORT FILE|DIR...
       tracer store [options] NODE FILE|DIR...

Sends DICOM files (directories recursively) to a peer with C-STORE, many files per
association, and prints a summary. Files that are not DICOM are reported and skipped.
Exit code 0 when every DICOM file was stored (warnings included), 1 otherwise.
NODE is the name (or AE title) of a node registered in the configuration; its options
(presentation contexts, transfer syntaxes, status handling) then apply.

Options:
  --aet TITLE            our (calling) AE title (default: TRACER, or the first local AE of --config)
  --aec TITLE            the peer's (called) AE title (default: ANY-SCP, or the node's)
  -c, --config FILE      configuration file (nodes, timeouts, PDU sizes, retries)
  -a, --associations N   send over N associations in parallel (default 1)
  --max-pdu N            our maximum PDU length (4096-524288, 0 = unlimited)
  --max-send-pdu N       never send PDUs larger than N, whatever the peer accepts
  --retries N            automatic retries of transient failures (default from the configuration: 2)
  --retry-interval S     seconds between retries (default from the configuration: 30)
  --propose TS[,TS...]   transfer syntaxes to send in, by preference; others are not used.
                         Names: ele, ile, ebe, deflate, jpeg-lossless, rle, j2k-lossless... or UIDs.
                         Default: the file's own syntax, then ele, ile, ebe. Compressed
                         syntaxes listed here are used by compressing uncompressed files.
  --allow-lossy          allow lossy compression for syntaxes of --propose that need it
  --layout L             presentation contexts: 'per-ts' (one per stored syntax, uncompressed
                         ones grouped; default) or 'single' (one per SOP class, all syntaxes)
  --max-contexts N       presentation contexts per association (1-128; more files split over
                         several associations)
  --per-association N    open a new association after N instances (0 = never, default)
  --async N              propose an asynchronous operations window of N outstanding C-STOREs
                         (0 = unlimited); used when the peer grants it
  --on-refused A         A7xx statuses: retry (abort and retry the rest later; default),
                         continue, fail (stop the job)
  --on-failure A         A9xx, Cxxx and other failures: continue (default; Cxxx on a new
                         association), abort-retry (Cxxx retried later), stop
  --timeout S            connect, association and response timeout in seconds
  --json                 print the report as JSON on stdout instead of the summary
  -v, --verbose          log every file
  -q, --quiet            print only failures
  --no-progress          no progress bar, even on a terminal
  -h, --help             show this help`;

const ON_REFUSED = { retry: 'retryJob', continue: 'continue', fail: 'failJob' } as const;
const ON_FAILURE = { continue: 'continue', 'abort-retry': 'abortAndRetry', stop: 'stopJob' } as const;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    aet: { type: 'string' },
    aec: { type: 'string' },
    config: { type: 'string', short: 'c' },
    associations: { type: 'string', short: 'a' },
    'max-pdu': { type: 'string' },
    'max-send-pdu': { type: 'string' },
    retries: { type: 'string' },
    'retry-interval': { type: 'string' },
    propose: { type: 'string' },
    'allow-lossy': { type: 'boolean' },
    layout: { type: 'string' },
    'max-contexts': { type: 'string' },
    'per-association': { type: 'string' },
    async: { type: 'string' },
    'on-refused': { type: 'string' },
    'on-failure': { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    quiet: { type: 'boolean', short: 'q' },
    'no-progress': { type: 'boolean' },
  }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  const peer = resolvePeer(v, parsed.positionals, HELP);
  if (peer.rest.length === 0) throw new UsageError(`no FILE or DIR given\n${HELP}`);
  const node = peer.node;
  if (v.layout !== undefined) {
    if (v.layout !== 'per-ts' && v.layout !== 'single') throw new UsageError(`--layout: expected 'per-ts' or 'single', got '${v.layout}'`);
    node.pcLayout = v.layout === 'single' ? 'singlePcAllTs' : 'onePcPerTs';
  }
  if (v['on-refused'] !== undefined) {
    const a = ON_REFUSED[v['on-refused'] as keyof typeof ON_REFUSED];
    if (!a) throw new UsageError(`--on-refused: expected retry, continue or fail, got '${v['on-refused']}'`);
    node.onRefused = a;
  }
  if (v['on-failure'] !== undefined) {
    const a = ON_FAILURE[v['on-failure'] as keyof typeof ON_FAILURE];
    if (!a) throw new UsageError(`--on-failure: expected continue, abort-retry or stop, got '${v['on-failure']}'`);
    node.onInstanceFailure = a;
  }
  if (v.propose !== undefined) {
    node.storeTransferSyntaxes = (v.propose as string).split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
      const t = transferSyntax(s);
      if (!t) throw new UsageError(`--propose: unknown transfer syntax '${s}'`);
      return t.uid;
    });
  }
  if (v['allow-lossy'] === true) node.allowLossy = true;
  node.maxPresentationContexts = intOption(v, 'max-contexts', 1, 128) ?? node.maxPresentationContexts;
  node.maxInstancesPerAssociation = intOption(v, 'per-association', 0) ?? node.maxInstancesPerAssociation;
  node.maxPduSend = intOption(v, 'max-send-pdu', 0) ?? node.maxPduSend;

  let files: string[];
  try {
    files = [...expandPaths(peer.rest)];
  } catch (err) {
    throw new Error(`cannot read ${(err as NodeJS.ErrnoException).path ?? ''}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (files.length === 0) throw new Error(`no files found in ${peer.rest.join(' ')}`);

  const tty = !!process.stderr.isTTY && !v['no-progress'] && !v.quiet && !v.json;
  // Loaded only for a progress bar (start-up time of scripted runs).
  const bars: typeof cliProgress | undefined = tty ? (await import('cli-progress')).default : undefined;
  let bar: cliProgress.MultiBar | undefined;
  const out = (line: string): void => {
    if (bar) bar.log(line + '\n');
    else process.stderr.write(line + '\n');
  };
  const cfgLevel = peer.config.log.level;
  const log: Logger = createLogger({ level: v.quiet ? 'error' : v.verbose ? (cfgLevel === 'trace' ? 'trace' : 'debug') : tty ? 'warn' : cfgLevel, format: peer.config.log.format, write: out });

  const opts: StoreOptions = storeOptionsFromConfig(peer.config, node, log, peer.destination);
  opts.callingAETitle = peer.callingAETitle;
  const maxAssoc = peer.config.network.maxOutboundAssociations;
  const wanted = intOption(v, 'associations', 1, 64) ?? 1;
  opts.associations = maxAssoc > 0 ? Math.min(wanted, maxAssoc) : wanted;
  const maxPdu = intOption(v, 'max-pdu', 0, 524288);
  if (maxPdu !== undefined) opts.maxPduReceive = maxPdu;
  const asyncN = intOption(v, 'async', 0, 65535);
  if (asyncN !== undefined) opts.asyncOperations = { maxInvoked: asyncN };
  const retries = intOption(v, 'retries', 0);
  const interval = numberOption(v, 'retry-interval', 0);
  opts.retry = { count: retries ?? opts.retry!.count, intervalSeconds: interval ?? opts.retry!.intervalSeconds };
  const timeout = numberOption(v, 'timeout', 0);
  if (timeout !== undefined) {
    const ms = timeout * 1000;
    opts.timeouts = { ...opts.timeouts, connect: ms, acse: ms, dimse: ms, release: ms };
  }

  // Ctrl-C: stop sending, abort the associations, report what was done.
  const ac = new AbortController();
  opts.signal = ac.signal;
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);

  const started = performance.now();
  let lastLine = started;
  let totalBytes = 0;
  const progress = (p: StoreProgress): void => {
    if (p.kind === 'scanned') {
      totalBytes = p.bytes;
      if (bars) {
        bar = new bars.MultiBar({
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
          format: ' {bar} {percentage}% | {value}/{total} files | {mb}/{totalMb} MB | {rate} files/s | {failed} failed',
        }, bars.Presets.shades_classic);
        single = bar.create(p.total, 0, { mb: '0.0', totalMb: mb(p.bytes), rate: '0', failed: 0 });
      } else if (!v.quiet && !v.json) {
        out(`sending ${p.sendable} of ${p.total} files (${mb(p.bytes)} MB) to ${who}`);
      }
      return;
    }
    if (p.kind === 'retry') {
      out(`retry ${p.attempt} of ${p.of}: ${p.pending} instance(s) in ${p.delaySeconds} s (${p.reason})`);
      return;
    }
    if (p.kind !== 'file') return;
    if (p.result.outcome === 'failure' || p.result.outcome === 'skipped') failedSoFar++;
    const secs = (performance.now() - started) / 1000;
    if (single) {
      single.update(p.done, { mb: mb(p.bytes), totalMb: mb(totalBytes), rate: (p.done / Math.max(secs, 0.001)).toFixed(0), failed: failedSoFar });
    } else if (!v.quiet && !v.json && !v.verbose) {
      const now = performance.now();
      if (now - lastLine > 5000 || p.done === p.total) {
        lastLine = now;
        out(`${p.done}/${p.total} files, ${mb(p.bytes)} MB, ${(p.done / Math.max(secs, 0.001)).toFixed(0)} files/s, ${failedSoFar} failed or skipped`);
      }
    }
  };
  let single: cliProgress.SingleBar | undefined;
  let failedSoFar = 0;
  const d = peer.destination;
  const who = `${d.aeTitle}@${d.host}:${d.port}${d.name && d.name !== d.aeTitle ? ` (${d.name})` : ''}`;

  let report: StoreReport;
  try {
    report = await storeFiles(files, d, opts, progress);
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
  if (v.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else printSummary(report, who, !!v.quiet);
  return report.failed > 0 || report.state === 'CANCELLED' ? 1 : 0;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

function line(r: FileResult): string {
  const what = r.error && r.error !== r.statusText ? `${r.statusText === 'not sent' ? '' : r.statusText + ': '}${r.error}` : r.statusText;
  return `  ${r.path}: ${what}`;
}

function printSummary(r: StoreReport, who: string, quiet: boolean): void {
  const failed = r.results.filter((x) => x.outcome === 'failure');
  const warned = r.results.filter((x) => x.outcome === 'warning');
  const skipped = r.results.filter((x) => x.outcome === 'skipped');
  const converted = r.results.filter((x) => x.converted && (x.outcome === 'success' || x.outcome === 'warning')).length;
  const lines: string[] = [];
  if (failed.length) lines.push(`Failed (${failed.length}):`, ...failed.map(line));
  if (!quiet && warned.length) lines.push(`Stored with warnings (${warned.length}):`, ...warned.map(line));
  if (!quiet && skipped.length) lines.push(`Skipped, not sent (${skipped.length}):`, ...skipped.map((x) => `  ${x.path}: ${x.error}`));
  const rate = r.seconds > 0 ? (r.bytes / 1e6 / r.seconds).toFixed(1) : '-';
  const fps = r.seconds > 0 ? (r.sent / r.seconds).toFixed(0) : '-';
  lines.push(
    `${r.state}: ${r.sent} of ${r.total} file(s) stored on ${who} (${r.warnings} with warnings${converted ? `, ${converted} converted` : ''}), ${r.failed} failed, ${r.skipped} skipped; ` +
      `${mb(r.bytes)} MB in ${r.seconds.toFixed(2)} s (${rate} MB/s, ${fps} files/s), ${r.associations} association(s)${r.attempts > 1 ? `, ${r.attempts} attempts` : ''}`,
  );
  const text = lines.join('\n') + '\n';
  if (quiet && r.failed === 0) return;
  process.stdout.write(text);
}
