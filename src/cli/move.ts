/** `tracer move`: C-MOVE SCU (PS3.4 C.4.2, REQUIREMENTS 8.7), like DCMTK's movescu without its built-in SCP. */
import { move } from '../services/retrieve-scu.js';
import { UsageError, parse } from './args.js';
import { COMMON_HELP, COMMON_OPTIONS, RETRY_HELP, RETRY_OPTIONS, runRetrieve, setup, summarize } from './qr-common.js';

const HELP = `Usage: tracer move [options] --dest AE -k KEY=VALUE... HOST PORT
       tracer move [options] --dest AE -k KEY=VALUE... NODE

Asks the peer to send the matching instances to the AE title given by --dest (C-MOVE, PS3.4
C.4.2); the peer must know that AE's address. Prints progress from the sub-operation counters
and a summary; Ctrl-C sends C-CANCEL. Exit code 0 when the peer reports completion (0000, or
B000 with failures, which is reported as a warning), 1 otherwise.

  tracer move --dest NMWS -k StudyInstanceUID=1.2.3 127.0.0.1 11112
  tracer move --dest NMWS -L SERIES -k StudyInstanceUID=1.2.3 -k SeriesInstanceUID=1.2.3.4 pacs

Options:
  --dest AE           move destination (required)
${RETRY_HELP}
${COMMON_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, { ...COMMON_OPTIONS, ...RETRY_OPTIONS, dest: { type: 'string' } }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  const dest = v.dest as string | undefined;
  if (!dest) throw new UsageError(`--dest AE is required\n${HELP}`);
  if (!/^(?=.*[^ ])[ -[\]-~]{1,16}$/.test(dest)) throw new UsageError(`--dest '${dest}' is not a valid AE title`);
  const s = setup(v, parsed.positionals, HELP);
  const { result: r, seconds } = await runRetrieve(v, (ui) => move(s.peer.destination, s.identifier, dest, { ...s.opts, model: s.model, ...ui }));
  return summarize('C-MOVE', r, s.who, seconds, v, ` to ${dest}`);
}
