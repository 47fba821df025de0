/** pydicom's corpus and pydicom's reading of it, for comparison tests. */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEBIAN_PYTHON, PYDICOM_DATA } from './peers.js';

export interface PyElement { path: string; vr: string; items?: number; value?: unknown }
export type PyResult = Record<string, { error?: string; elements?: PyElement[] }>;

const SCRIPT = fileURLToPath(new URL('../../../test/interop/scripts/pydicom_elements.py', import.meta.url));

export function corpusFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/\.(txt|json|dump|gz|py)$/i.test(n)) out.push(p);
    }
  };
  walk(join(PYDICOM_DATA, 'test_files'));
  walk(join(PYDICOM_DATA, 'charset_files'));
  return out;
}

export function pydicomRead(files: string[]): PyResult {
  const r = spawnSync(DEBIAN_PYTHON, [SCRIPT], { input: files.join('\n'), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`pydicom script failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PyResult;
}

