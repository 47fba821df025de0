/** `tracer echo`: verify a DICOM peer with C-ECHO (REQUIREMENTS 4, VER-003/004), like DCMTK's echoscu. */
import { createLogger } from '../node/log.js';
import { scuOptionsFromConfig } from '../services/scu-connection.js';
import { echo } from '../services/verification-scu.js';
import { describeStoreStatus } from '../services/store-status.js';
import { parse } from './args.js';
import { intOption, numberOption, resolvePeer } from './peer.js';

const HELP = `Usage: tracer echo [options] HOST PORT
       tracer echo [options] NODE

Sends C-ECHO (Verification, PS3.4 A) to a peer and prints the result; exit code 0 when the
peer answered Success, 1 otherwise (rejection, abort, timeout or another status).
NODE is the name (or AE title) of a node registered in the configuration.

Options:
  --aet TITLE         our (calling) AE title (default: TRACER, or the first local AE of --config)
  --aec TITLE         the peer's (called) AE title (default: ANY-SCP, or the node's)
  -c, --config FILE   configuration file (nodes, timeouts, PDU sizes)
  -r, --repeat N      send N C-ECHO requests on the association (default 1)
  --timeout S         connect, association and response timeout in seconds (default from the configuration: 60)
  --max-pdu N         our maximum PDU length (4096-524288, 0 = unlimited)
  -q, --quiet         print nothing; the exit code tells
  -h, --help          show this help`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    aet: { type: 'string' },
    aec: { type: 'string' },
    config: { type: 'string', short: 'c' },
    repeat: { type: 'string', short: 'r' },
    timeout: { type: 'string' },
    'max-pdu': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  const peer = resolvePeer(v, parsed.positionals, HELP);
  if (peer.rest.length) throw new Error(`unexpected argument '${peer.rest[0]}'\n${HELP}`);
  const repeat = intOption(v, 'repeat', 1) ?? 1;
  const timeout = numberOption(v, 'timeout', 0);
  const maxPdu = intOption(v, 'max-pdu', 0, 524288);
  const log = createLogger({ level: peer.config.log.level === 'info' ? 'warn' : peer.config.log.level, format: peer.config.log.format });
  const opts = scuOptionsFromConfig(peer.config, peer.node, log, peer.destination);
  opts.callingAETitle = peer.callingAETitle;
  if (maxPdu !== undefined) opts.maxPduReceive = maxPdu;
  if (timeout !== undefined) {
    const ms = timeout * 1000;
    opts.timeouts = { ...opts.timeouts, connect: ms, acse: ms, dimse: ms, release: ms };
  }
  const d = peer.destination;
  const who = `${d.aeTitle}@${d.host}:${d.port}${d.name && d.name !== d.aeTitle ? ` (${d.name})` : ''}`;
  const r = await echo(d, { ...opts, repeat });
  if (!v.quiet) {
    r.statuses.forEach((s, i) => {
      console.log(`C-ECHO ${i + 1}/${repeat} to ${who}: ${s === 0 ? 'Success (0000)' : describeStoreStatus(s)}, ${r.roundTrips[i]!.toFixed(1)} ms`);
    });
    if (r.ok) {
      const impl = r.peerImplementation?.versionName ?? r.peerImplementation?.classUid;
      console.log(`Verification of ${who} succeeded${impl ? ` (peer implementation ${impl})` : ''} in ${r.totalMs.toFixed(0)} ms`);
    } else {
      console.error(`Verification of ${who} failed: ${r.error ?? 'unknown error'}`);
    }
  }
  return r.ok ? 0 : 1;
}
