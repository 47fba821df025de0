/**
 * `tracer move`: C-MOVE SCU (PS3.4 C.4.2, REQUIREMENTS 8.7), like DCMTK's movescu without its
 * built-in SCP. With moveScu.target 'retrieveAeTitle' (QR-052, the default) and other nodes
 * registered, a C-FIND first asks the peer for the Retrieve AE Title of the matches, and each
 * goes to the registered node that AE title names (services/move-target.ts).
 */
import { destinationOf } from '../services/scu-connection.js';
import { buildIdentifier, find } from '../services/query-scu.js';
import { planMoves, retrieveAeQueryKeys, type MoveRequest, type MoveScuTarget } from '../services/move-target.js';
import { move } from '../services/retrieve-scu.js';
import type { NodeConfig } from '../node/config.js';
import { UsageError, parse } from './args.js';
import { COMMON_HELP, COMMON_OPTIONS, RETRY_HELP, RETRY_OPTIONS, runRetrieve, setup, summarize, whoOf, type QrSetup } from './qr-common.js';

const HELP = `Usage: tracer move [options] --dest AE -k KEY=VALUE... HOST PORT
       tracer move [options] --dest AE -k KEY=VALUE... NODE

Asks the peer to send the matching instances to the AE title given by --dest (C-MOVE, PS3.4
C.4.2); the peer must know that AE's address. Prints progress from the sub-operation counters
and a summary; Ctrl-C sends C-CANCEL. Exit code 0 when the peer reports completion (0000, or
B000 with failures, which is reported as a warning), 1 otherwise.

When other nodes are registered (--config), the peer is first asked (C-FIND) for the Retrieve
AE Title (0008,0054) of the matches: those whose AE title names a registered node are moved
from that node, the others from the peer (moveScu.target retrieveAeTitle, QR-052).

  tracer move --dest NMWS -k StudyInstanceUID=1.2.3 127.0.0.1 11112
  tracer move --dest NMWS -L SERIES -k StudyInstanceUID=1.2.3 -k SeriesInstanceUID=1.2.3.4 pacs

Options:
  --dest AE           move destination (required)
  --target T          retrieveAeTitle (default, moveScu.target): from the node named by the
                      matches' Retrieve AE Title when registered, else from the peer;
                      queriedNode: always from the peer, without a C-FIND first
${RETRY_HELP}
${COMMON_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, { ...COMMON_OPTIONS, ...RETRY_OPTIONS, dest: { type: 'string' }, target: { type: 'string' } }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  const dest = v.dest as string | undefined;
  if (!dest) throw new UsageError(`--dest AE is required\n${HELP}`);
  if (!/^(?=.*[^ ])[ -[\]-~]{1,16}$/.test(dest)) throw new UsageError(`--dest '${dest}' is not a valid AE title`);
  const s = setup(v, parsed.positionals, HELP);
  const target = (v.target as string | undefined) ?? s.peer.config.moveScu.target;
  if (target !== 'retrieveAeTitle' && target !== 'queriedNode') throw new UsageError(`--target: expected retrieveAeTitle or queriedNode, got '${target}'`);
  const requests = await plan(s, target);
  let code = 0;
  for (const rq of requests) {
    const queried = rq.node === s.peer.node;
    const to = queried ? s.peer.destination : destinationOf(rq.node);
    const who = queried ? s.who : whoOf(to);
    if (rq.note) s.log.warn(rq.note);
    if (rq.viaRetrieveAeTitle && !v.quiet) process.stderr.write(`${rq.matches} match(es) have Retrieve AE Title ${rq.node.aeTitle}: C-MOVE sent to ${who} (moveScu.target retrieveAeTitle)\n`);
    const opts = queried ? s.opts : s.optsFor(rq.node);
    const { result: r, seconds } = await runRetrieve(v, (ui) => move(to, rq.identifier, dest, { ...opts, model: s.model, ...ui }), s.peer.config.moveScu.retry);
    code = Math.max(code, summarize('C-MOVE', r, who, seconds, v, ` to ${dest}`));
    if (r.cancelled) break;
  }
  return code;
}

/**
 * QR-052: the C-MOVE requests. A C-FIND is worth sending only when a Retrieve AE Title could
 * name a registered node other than the peer; when it fails, the peer gets the C-MOVE as given.
 */
async function plan(s: QrSetup, target: MoveScuTarget): Promise<MoveRequest<NodeConfig>[]> {
  const direct: MoveRequest<NodeConfig>[] = [{ node: s.peer.node, identifier: s.identifier, viaRetrieveAeTitle: false }];
  const known = s.peer.config.nodes;
  if (target === 'queriedNode' || !known.some((n) => n.aeTitle !== s.peer.node.aeTitle)) return direct;
  const q = await find(s.peer.destination, buildIdentifier(s.level, retrieveAeQueryKeys(s.model, s.level, s.keys)), {
    ...s.opts, model: s.model, maxResults: 0, relational: s.peer.node.relationalQuery,
  });
  if (!q.ok) {
    s.log.warn('C-FIND for the Retrieve AE Title failed: the C-MOVE goes to the queried node', { error: q.error });
    return direct;
  }
  return planMoves({ model: s.model, level: s.level, identifier: s.identifier, matches: q.matches, queried: s.peer.node, known });
}
