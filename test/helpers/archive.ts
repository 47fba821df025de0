/** What an archive directory holds, read from outside Tracer: its index rows and its instance files. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { listFiles } from './node.js';

/** The paths of the index's instance rows, read straight from the database. */
export function indexRows(root: string): string[] {
  const db = new Database(join(root, '.index', 'tracer.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT path FROM instance ORDER BY path').all() as { path: string }[]).map((r) => r.path);
  } finally {
    db.close();
  }
}

/** The instance files of the store (relative paths, sorted), without .index, .incoming and .quarantine. */
export async function storedFiles(root: string): Promise<string[]> {
  return (await listFiles(root)).filter((f) => !f.startsWith('.')).sort();
}
