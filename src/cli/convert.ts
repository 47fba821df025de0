/** `tracer convert --ts SYNTAX IN OUT`: rewrites a file in another transfer syntax. */
import { transferSyntax } from '../dicom/dictionary/index.js';
import { readDicomFile } from '../dicom/part10.js';
import { writeDicomFile } from '../dicom/write.js';
import { parse } from './args.js';

const HELP = `Usage: tracer convert --ts SYNTAX [options] IN OUT

Rewrites a DICOM file in another transfer syntax (name, keyword or UID), e.g.
  implicit | explicit | big | deflate | 1.2.840.10008.1.2.1

Options:
  --ts SYNTAX            target transfer syntax (required)
  --group-length MODE    keep | add | remove group length elements (default keep)
  --lengths MODE         keep | defined | undefined sequence and item lengths (default keep)
  -h, --help             show this help`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ts: { type: 'string' },
    'group-length': { type: 'string' },
    lengths: { type: 'string' },
  }, HELP);
  if (!parsed) return 0;
  const [input, output] = parsed.positionals;
  if (!parsed.values.ts || !input || !output || parsed.positionals.length !== 2) throw new Error(`need --ts, IN and OUT\n${HELP}`);
  const ts = transferSyntax(parsed.values.ts);
  if (!ts) throw new Error(`unknown transfer syntax '${parsed.values.ts}'`);
  const gl = parsed.values['group-length'] ?? 'keep';
  const sl = parsed.values.lengths ?? 'keep';
  if (!['keep', 'add', 'remove'].includes(gl)) throw new Error(`--group-length must be keep, add or remove (got '${gl}')`);
  if (!['keep', 'defined', 'undefined'].includes(sl)) throw new Error(`--lengths must be keep, defined or undefined (got '${sl}')`);
  const file = readDicomFile(input);
  try {
    const from = transferSyntax(file.transferSyntaxUID);
    const encapsulated = file.dataset.get(0x7fe00010)?.fragments !== undefined;
    if (ts.encapsulated || encapsulated) {
      if (ts.uid !== file.transferSyntaxUID) {
        throw new Error(`${input}: conversion from ${from?.name ?? file.transferSyntaxUID} to ${ts.name} needs a pixel codec, which this build does not have`);
      }
    }
    writeDicomFile(output, { dataset: file.dataset, meta: file.meta.size ? file.meta : undefined, transferSyntaxUID: ts.uid, preamble: file.preamble },
      { groupLength: gl as 'keep', sequenceLength: sl as 'keep' });
  } finally {
    file.source.close();
  }
  return 0;
}
