/** `tracer get`: C-GET SCU (PS3.4 C.4.3, REQUIREMENTS 8.7), like DCMTK's getscu. */
import { get } from '../services/retrieve-scu.js';
import { UsageError, parse } from './args.js';
import { COMMON_HELP, COMMON_OPTIONS, RETRY_HELP, RETRY_OPTIONS, runRetrieve, setup, summarize } from './qr-common.js';

const HELP = `Usage: tracer get [options] --out DIR -k KEY=VALUE... HOST PORT
       tracer get [options] --out DIR -k KEY=VALUE... NODE

Retrieves the matching instances on the association itself (C-GET, PS3.4 C.4.3) and writes
them as DICOM files under DIR/<study>/<series>/<sop instance>.dcm. Prints progress and a
summary; Ctrl-C sends C-CANCEL. Exit code 0 when the peer reports completion (0000, or B000
with failures, reported as a warning), 1 otherwise.

  tracer get --out ./studies -k StudyInstanceUID=1.2.3 127.0.0.1 11112

Options:
  -o, --out DIR       output directory (required; created when missing)
${RETRY_HELP}
${COMMON_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, { ...COMMON_OPTIONS, ...RETRY_OPTIONS, out: { type: 'string', short: 'o' } }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  const out = v.out as string | undefined;
  if (!out) throw new UsageError(`--out DIR is required\n${HELP}`);
  const s = setup(v, parsed.positionals, HELP);
  const { result: r, seconds } = await runRetrieve(v, (ui) => get(s.peer.destination, s.identifier, out, {
    ...s.opts,
    model: s.model,
    ...ui,
    onStore: (rep) => {
      if (rep.status !== 0) s.log.warn('sub-operation not stored', { sop: rep.request.sopInstanceUid, status: rep.status.toString(16), reason: rep.reason });
    },
  }));
  return summarize('C-GET', r, s.who, seconds, v, `; ${r.files.length} file(s) written to ${out}`);
}
