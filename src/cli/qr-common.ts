/**
 * What `tracer find`, `move` and `get` share: the peer (peer.ts), the Q/R options (model,
 * level, -k keys as findscu), the SCU options from the configuration, and the progress lines
 * and summary of a retrieve.
 */
import type { NodeConfig } from '../node/config.js';
import { createLogger, type Logger } from '../node/log.js';
import { scuOptionsFromConfig, type Destination, type ScuOptions } from '../services/scu-connection.js';
import { buildIdentifier, parseKey, parseLevel, withDefaultKeys, type QueryKey, type QueryLevel, type QueryModel } from '../services/query-scu.js';
import type { RetrieveProgress, RetrieveResult } from '../services/retrieve-scu.js';
import type { Dataset } from '../dicom/dataset.js';
import { UsageError, type Options, type Values } from './args.js';
import { intOption, numberOption, resolvePeer, type Peer } from './peer.js';

export const COMMON_OPTIONS: Options = {
  aet: { type: 'string' },
  aec: { type: 'string' },
  config: { type: 'string', short: 'c' },
  model: { type: 'string', short: 'm' },
  level: { type: 'string', short: 'L' },
  key: { type: 'string', short: 'k', multiple: true },
  timeout: { type: 'string' },
  'max-pdu': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
};

export const COMMON_HELP = `  -m, --model M       information model: study (default) or patient
  -L, --level L       PATIENT, STUDY (default), SERIES or IMAGE
  -k, --key K[=V]     a key: keyword or gggg,eeee, with a value to match (wildcards * ?, ranges
                      20240101-20241231, UID lists with \\) or none to return it; repeatable
  --aet TITLE         our (calling) AE title (default: TRACER, or the first local AE of --config)
  --aec TITLE         the peer's (called) AE title (default: ANY-SCP, or the node's)
  -c, --config FILE   configuration file (nodes, timeouts, PDU sizes)
  --timeout S         connect, association and response timeout in seconds
  --max-pdu N         our maximum PDU length (4096-524288, 0 = unlimited)
  -q, --quiet         print only errors
  -v, --verbose       log the association and each response
  -h, --help          show this help`;

export interface QrSetup {
  peer: Peer;
  /** The SCU options for the peer. */
  opts: ScuOptions;
  /** The SCU options for another registered node, with the same command-line overrides. */
  optsFor(node: NodeConfig): ScuOptions;
  model: QueryModel;
  level: QueryLevel;
  keys: QueryKey[];
  identifier: Dataset;
  who: string;
  log: Logger;
}

export function setup(v: Values, positionals: string[], help: string, o: { defaultKeys?: boolean } = {}): QrSetup {
  const peer = resolvePeer(v, positionals, help);
  if (peer.rest.length) throw new UsageError(`unexpected argument '${peer.rest[0]}'\n${help}`);
  const model = ((v.model as string | undefined) ?? 'study').toLowerCase();
  if (model !== 'study' && model !== 'patient') throw new UsageError(`--model: expected study or patient, got '${v.model as string}'`);
  const level = parseLevel((v.level as string | undefined) ?? 'STUDY');
  if (model === 'study' && level === 'PATIENT') throw new UsageError('--level PATIENT needs --model patient');
  let keys = ((v.key as string[] | undefined) ?? []).map(parseKey);
  if (o.defaultKeys) keys = withDefaultKeys(level, keys);
  const cfgLevel = peer.config.log.level;
  const log = createLogger({ level: v.quiet ? 'error' : v.verbose ? 'debug' : cfgLevel === 'info' ? 'warn' : cfgLevel, format: peer.config.log.format, write: (l) => process.stderr.write(l + '\n') });
  const maxPdu = intOption(v, 'max-pdu', 0, 524288);
  const timeout = numberOption(v, 'timeout', 0);
  const optsFor = (node: NodeConfig): ScuOptions => {
    const opts = scuOptionsFromConfig(peer.config, node, log, node === peer.node ? peer.destination : undefined);
    opts.callingAETitle = peer.callingAETitle;
    if (maxPdu !== undefined) opts.maxPduReceive = maxPdu;
    if (timeout !== undefined) {
      const ms = timeout * 1000;
      opts.timeouts = { ...opts.timeouts, connect: ms, acse: ms, dimse: ms, release: ms };
    }
    return opts;
  };
  return { peer, opts: optsFor(peer.node), optsFor, model, level, keys, identifier: buildIdentifier(level, keys), who: whoOf(peer.destination), log };
}

/** A peer as messages name it: AE@host:port (name). */
export function whoOf(d: Destination): string {
  return `${d.aeTitle}@${d.host}:${d.port}${d.name && d.name !== d.aeTitle ? ` (${d.name})` : ''}`;
}

export const RETRY_OPTIONS: Options = {
  retries: { type: 'string' },
  'retry-interval': { type: 'string' },
  'no-progress': { type: 'boolean' },
};

export const RETRY_HELP = `  --retries N         attempts after a failure worth retrying (A701, A702, Cxxx, B000, network
                      failures and timeouts; never A801, A900 or a cancel); default 3
                      (tracer move: moveScu.retry.count)
  --retry-interval S  seconds between attempts (default 60; tracer move: moveScu.retry.intervalSeconds)
  --no-progress       no progress lines`;

export type Retry = { count: number; intervalSeconds: number };

/** QR-057: --retries and --retry-interval over the defaults (3 and 60 s, or moveScu.retry). */
export function retryOf(v: Values, defaults: Retry = { count: 3, intervalSeconds: 60 }): Retry {
  return { count: intOption(v, 'retries', 0) ?? defaults.count, intervalSeconds: numberOption(v, 'retry-interval', 0) ?? defaults.intervalSeconds };
}

/** Progress lines on stderr: rewritten in place on a terminal, at most one per 2 s otherwise. */
export function progressPrinter(v: Values): { progress: (p: RetrieveProgress) => void; retry: (attempt: number, reason: string, delayMs: number) => void; end: () => void } {
  const tty = !!process.stderr.isTTY;
  const quiet = !!v.quiet || !!v['no-progress'];
  let last = 0;
  let open = false;
  const text = (p: RetrieveProgress) => `${p.completed} completed, ${p.warning} warning, ${p.failed} failed${p.remaining !== undefined ? `, ${p.remaining} remaining` : ''}`;
  return {
    progress: (p) => {
      if (quiet) return;
      if (tty) {
        process.stderr.write(`\r${text(p)}\x1b[K`);
        open = true;
        return;
      }
      const now = performance.now();
      if (now - last < 2000 && p.remaining !== 0) return;
      last = now;
      process.stderr.write(`${text(p)}\n`);
    },
    retry: (attempt, reason, delayMs) => {
      if (open) process.stderr.write('\n');
      open = false;
      process.stderr.write(`attempt ${attempt} failed (${reason}); retrying in ${(delayMs / 1000).toFixed(0)} s\n`);
    },
    end: () => {
      if (open) process.stderr.write('\n');
      open = false;
    },
  };
}

/** The summary line of a retrieve; returns the exit code. */
export function summarize(what: 'C-MOVE' | 'C-GET', r: RetrieveResult, who: string, seconds: number, v: Values, extra = ''): number {
  const p = r.progress;
  const counts = `${p.completed} completed, ${p.warning} warning, ${p.failed} failed`;
  const attempts = r.attempts > 1 ? `, ${r.attempts} attempts` : '';
  if (r.ok) {
    if (!v.quiet || r.warning) process.stdout.write(`${what} from ${who}: ${r.message}: ${counts}${extra}; ${seconds.toFixed(2)} s${attempts}\n`);
    return 0;
  }
  process.stderr.write(`${what} from ${who} failed: ${r.error ?? r.message}${r.status !== undefined || p.completed + p.failed + p.warning > 0 ? ` (${counts}${extra})` : ''}${attempts}\n`);
  return 1;
}

/** What every retrieve command hands to the SCU: retries, Ctrl-C as C-CANCEL, progress. */
export interface RetrieveUi {
  retry: { count: number; intervalSeconds: number };
  signal: AbortSignal;
  onProgress: (p: RetrieveProgress) => void;
  onRetry: (attempt: number, reason: string, delayMs: number) => void;
}

/**
 * Runs a C-MOVE or C-GET with the shared command-line behaviour: progress lines, Ctrl-C sends
 * C-CANCEL (PS3.7 9.3.2.3), and the elapsed time for the summary.
 */
export async function runRetrieve<R>(v: Values, op: (ui: RetrieveUi) => Promise<R>, retryDefaults?: Retry): Promise<{ result: R; seconds: number }> {
  const pp = progressPrinter(v);
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  const t0 = performance.now();
  try {
    const result = await op({ retry: retryOf(v, retryDefaults), signal: ac.signal, onProgress: pp.progress, onRetry: pp.retry });
    return { result, seconds: (performance.now() - t0) / 1000 };
  } finally {
    pp.end();
    process.off('SIGINT', onSigint);
  }
}
