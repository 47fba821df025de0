/**
 * `tracer serve`: runs the DICOM node (Verification and Storage SCP) from a configuration file,
 * or from the embedded defaults (AE title TRACER, port 11112, data in ./tracer-data); options on
 * the command line win over the file. SIGINT/SIGTERM stop it gracefully: no new associations,
 * running ones get a few seconds to finish.
 */
import { defaultConfig, loadConfig, type TracerConfig } from '../node/config.js';
import { createLogger } from '../node/log.js';
import { startNode } from '../node/node.js';
import { tlsListenerFactory } from '../net/tls.js';
import { parse, UsageError } from './args.js';

const HELP = `Usage: tracer serve [--config FILE] [--port N] [--aet TITLE] [--data DIR] [options]

Runs the DICOM node: Verification, Storage and Query (C-FIND) SCP on every local AE of the
configuration, over the archive in store.root.
Without --config the embedded defaults apply (tracer config --defaults prints them).

  -c, --config FILE     configuration file (YAML or JSON)
  -p, --port N          listening port of the first local AE (0 = any free port)
      --host ADDR       address to listen on (default from the configuration: 0.0.0.0)
  -a, --aet TITLE       AE title of the first local AE
  -d, --data DIR        data directory (store.root)
  -v, --verbose         debug logging, including every PDU (type and length)
      --log-format F    text or json
      --grace SECONDS   how long running associations may finish at shutdown (default 5)
  -h, --help            show this help`;

/** Applies the command-line overrides to a configuration (exported for tests). */
export function applyOverrides(cfg: TracerConfig, v: Record<string, unknown>): TracerConfig {
  const first = cfg.localAEs[0]!;
  if (v.port !== undefined) {
    const port = Number(v.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: not a port number: ${String(v.port)}`);
    first.port = port;
  }
  if (v.host !== undefined) first.host = String(v.host);
  if (v.aet !== undefined) {
    const aet = String(v.aet);
    if (!/^(?=.*[^ ])[ -[\]-~]{1,16}$/.test(aet)) throw new UsageError(`--aet: not a valid AE title (1-16 characters of the default repertoire, no backslash): ${aet}`);
    first.aeTitle = aet;
  }
  if (v.data !== undefined) cfg.store.root = String(v.data);
  if (v.verbose) cfg.log.level = 'debug';
  if (v['log-format'] !== undefined) {
    const f = String(v['log-format']);
    if (f !== 'text' && f !== 'json') throw new UsageError(`--log-format: text or json, not ${f}`);
    cfg.log.format = f;
  }
  return cfg;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(
    argv,
    {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      aet: { type: 'string', short: 'a' },
      data: { type: 'string', short: 'd' },
      verbose: { type: 'boolean', short: 'v' },
      'log-format': { type: 'string' },
      grace: { type: 'string' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'\n${HELP}`);
  const cfg = applyOverrides(v.config ? loadConfig(v.config) : defaultConfig(), v);
  const grace = v.grace !== undefined ? Number(v.grace) : 5;
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`--grace: not a number of seconds: ${v.grace}`);
  const logger = createLogger({ level: cfg.log.level, format: cfg.log.format });
  logger.info('starting tracer', { config: v.config ?? '(embedded defaults)', pid: process.pid });
  // TLS local AEs (REQUIREMENTS 16.1) get a tls.Server from src/net/tls.ts, the others plain TCP.
  const node = await startNode(cfg, logger, { tracePdus: !!v.verbose, listenerFactory: tlsListenerFactory(logger) });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn('second signal: exiting now', { signal });
        process.exit(1);
      }
      stopping = true;
      logger.info('stopping', { signal });
      node.close(grace * 1000).then(
        () => {
          logger.info('stopped');
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(0);
        },
        (err: Error) => {
          logger.error('error while stopping', { error: err.message });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
