// Shared by the peer scripts: the same file walk and output handling as `tracer dump --json`
// (src/cli/files.ts, src/cli/dump.ts), so that only the parsing library differs.
import { readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** FILE|DIR arguments to files, directories recursed in sorted order. */
export function* expandPaths(paths) {
  for (const p of paths) {
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

function* walk(dir) {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

/** Binary VRs whose values become InlineBinary or BulkDataURI (PS3.18 F.2.7). */
export const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
export const NUMBER_TEXT_VRS = new Set(['DS', 'IS']);
/** Text VRs holding one value (no backslash splitting, PS3.5 6.4). */
export const SINGLE_TEXT_VRS = new Set(['LT', 'ST', 'UT', 'UR']);

/** Writes the JSON documents like `tracer dump --json`: one object, or an array for several files. */
export function writeDocs(docs) {
  const text = docs.length === 1 ? docs[0] + '\n' : `[${docs.join(',\n')}]\n`;
  const b = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(1, b, off, b.length - off);
    } catch (err) {
      if (err.code === 'EAGAIN') continue;
      if (err.code === 'EPIPE') return;
      throw err;
    }
  }
}

/** --bulk-threshold N (default 1024, as Tracer's). */
export function parseArgs(argv) {
  let threshold = 1024;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--bulk-threshold') threshold = Number(argv[++i]);
    else files.push(argv[i]);
  }
  return { threshold, files };
}
