/**
 * `tracer find`: C-FIND SCU (PS3.4 C.4.1, REQUIREMENTS 8.5), like DCMTK's findscu, printing a
 * table or DICOM JSON. The findScu.* options of the configuration are its defaults, each with a
 * flag: appended wildcards (QR-022), a key with a value required (QR-023, and nodes[].forceFilter
 * whatever the flags say), duplicate responses (QR-028), relational queries (QR-032).
 */
import { toJSON } from '../dicom/json.js';
import { lookupTag } from '../dicom/dictionary/index.js';
import type { Dataset } from '../dicom/dataset.js';
import { appendWildcards, buildIdentifier, describeFindStatus, find, hasValueToMatch, type AppendWildcard } from '../services/query-scu.js';
import { UsageError, parse } from './args.js';
import { intOption } from './peer.js';
import { COMMON_HELP, COMMON_OPTIONS, setup } from './qr-common.js';

const HELP = `Usage: tracer find [options] -k KEY[=VALUE]... HOST PORT
       tracer find [options] -k KEY[=VALUE]... NODE

Sends one C-FIND (Query/Retrieve, PS3.4 C.4.1) and prints the matches as a table (one column
per key) or, with --json, as a DICOM JSON array (PS3.18 F.2). Unless --only-keys is given, the
usual return keys of the level are asked as well. Above --max-results matches Tracer sends
C-CANCEL and says the list is truncated. Unlike findscu, a query needs at least one key with a
value, and '*' is appended to Patient's Name (findScu.* in the configuration; the flags below).
Responses are never filtered locally. Exit code 0 on success (also when truncated), 1 otherwise.

  tracer find -L SERIES -k StudyInstanceUID=1.2.3 -k Modality 127.0.0.1 11112

Options:
  --json              print the matches as DICOM JSON on stdout
  --only-keys         ask only the -k keys (and the level)
  --max-results N     cancel the query above N matches (default 100, findScu.maxResults;
                      0 = unlimited)
  --append-wildcard M append '*' to the -k values: patientName (default,
                      findScu.appendWildcard), allStrings (every text key) or none
  --allow-empty       send the query even when no key has a value to match (a universal query;
                      findScu.requireNonEmptyKey false); a node with forceFilter still refuses
  --duplicates M      a later response for the same entity replaces the earlier one: replace
                      (default, findScu.duplicates), or keepAll
  --relational        propose relational queries (PS3.4 C.5.1.1.1; nodes[].relationalQuery):
                      keys of any level above the query level are matched
${COMMON_HELP}`;

const APPEND_WILDCARD: readonly AppendWildcard[] = ['none', 'patientName', 'allStrings'];

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...COMMON_OPTIONS,
    json: { type: 'boolean' },
    'only-keys': { type: 'boolean' },
    'max-results': { type: 'string' },
    'append-wildcard': { type: 'string' },
    'allow-empty': { type: 'boolean' },
    duplicates: { type: 'string' },
    relational: { type: 'boolean' },
  }, HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  const s = setup(v, parsed.positionals, HELP, { defaultKeys: !v['only-keys'] });
  const scu = s.peer.config.findScu;
  const appendWildcard = (v['append-wildcard'] as string | undefined) ?? scu.appendWildcard;
  if (!APPEND_WILDCARD.includes(appendWildcard as AppendWildcard)) throw new UsageError(`--append-wildcard: expected ${APPEND_WILDCARD.join(', ')}, got '${appendWildcard}'`);
  const duplicates = (v.duplicates as string | undefined) ?? scu.duplicates;
  if (duplicates !== 'replace' && duplicates !== 'keepAll') throw new UsageError(`--duplicates: expected replace or keepAll, got '${duplicates}'`);
  // QR-023: checked before anything goes on the network.
  if (!hasValueToMatch(s.keys)) {
    const node = s.peer.node;
    if (node.forceFilter) throw new UsageError(`node '${node.name}' needs a key with a value (nodes[].forceFilter): give -k KEY=VALUE`);
    if (scu.requireNonEmptyKey && !v['allow-empty']) throw new UsageError(`no key has a value to match: give -k KEY=VALUE, or --allow-empty for a universal query (findScu.requireNonEmptyKey)`);
  }
  const keys = appendWildcards(s.keys, appendWildcard as AppendWildcard);
  const maxResults = intOption(v, 'max-results', 0) ?? scu.maxResults;
  const r = await find(s.peer.destination, buildIdentifier(s.level, keys), {
    ...s.opts, model: s.model, maxResults, duplicates, relational: !!v.relational || s.peer.node.relationalQuery,
  });
  if (r.error && !r.matches.length) {
    console.error(`C-FIND on ${s.who} failed: ${r.error}`);
    return 1;
  }
  if (v.json) {
    process.stdout.write(JSON.stringify(r.matches.map((m) => toJSON(m)), null, 2) + '\n');
  } else if (!v.quiet) {
    const columns = s.keys.map((k) => k.tag);
    process.stdout.write(table(columns, r.matches));
  }
  const end = r.truncated
    ? `more than ${maxResults} matches: list truncated (C-CANCEL sent, ${r.status === undefined ? 'no final status' : describeFindStatus(r.status)})`
    : r.status !== undefined ? describeFindStatus(r.status) : '';
  if (r.error) {
    console.error(`C-FIND on ${s.who} failed after ${r.matches.length} match(es): ${r.error}`);
    return 1;
  }
  const dup = r.duplicates ? `; ${r.duplicates} duplicate response(s) ${duplicates === 'replace' ? 'replaced earlier ones' : 'kept'}` : '';
  if (!v.quiet) process.stderr.write(`${r.matches.length} match(es) from ${s.who}; ${end}${r.warnings ? `; ${r.warnings} response(s) with warning FF01` : ''}${dup}\n`);
  return 0;
}

function cell(ds: Dataset, tag: number): string {
  if (!ds.has(tag)) return '';
  try {
    return ds.strings(tag).join('\\');
  } catch {
    return '?';
  }
}

function table(columns: number[], rows: Dataset[]): string {
  const heads = columns.map((t) => lookupTag(t)?.keyword || `(${(t >>> 16).toString(16).padStart(4, '0')},${(t & 0xffff).toString(16).padStart(4, '0')})`);
  const data = rows.map((ds) => columns.map((t) => cell(ds, t)));
  const widths = heads.map((h, i) => Math.max(h.length, ...data.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(heads), fmt(widths.map((w) => '-'.repeat(w))), ...data.map(fmt)].join('\n') + '\n';
}
