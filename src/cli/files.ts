/** Expands FILE|DIR arguments into files, recursing into directories in a stable order. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function* expandPaths(paths: readonly string[]): Generator<string> {
  for (const p of paths) {
    const st = statSync(p);
    if (st.isDirectory()) yield* walk(p);
    else yield p;
  }
}

function* walk(dir: string): Generator<string> {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}
