/**
 * Finding real peer tools (DCMTK, GDCM, dicom3tools, pydicom) for interoperability tests.
 * On a laptop without them the tests skip; in CI (TRACER_REQUIRE_INTEROP=1) a missing peer
 * fails the test, so a green run always means the peers were really exercised.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export const interopRequired = process.env.TRACER_REQUIRE_INTEROP === '1';

const cache = new Map<string, boolean>();

/** True when `tool` runs on this machine (looked up on PATH). */
export function hasTool(tool: string): boolean {
  let v = cache.get(tool);
  if (v === undefined) {
    v = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
    cache.set(tool, v);
  }
  return v;
}

/**
 * Returns true when every tool is present. Otherwise skips the test (returns false), or throws
 * when interoperability tests are mandatory.
 */
export function requireTools(t: TestContext, ...tools: string[]): boolean {
  const missing = tools.filter((x) => !hasTool(x));
  if (missing.length === 0) return true;
  const msg = `peer tool(s) not installed: ${missing.join(', ')}`;
  if (interopRequired) throw new Error(`${msg} (TRACER_REQUIRE_INTEROP=1)`);
  t.skip(msg);
  return false;
}

/** pydicom's corpus from Debian's python3-pydicom. */
export const PYDICOM_DATA = '/usr/lib/python3/dist-packages/pydicom/data';
export const DEBIAN_PYTHON = '/usr/bin/python3';

export function requirePydicom(t: TestContext): boolean {
  const ok = existsSync(`${PYDICOM_DATA}/test_files`) && existsSync(DEBIAN_PYTHON);
  if (ok) return true;
  const msg = 'pydicom corpus not installed (Debian package python3-pydicom)';
  if (interopRequired) throw new Error(`${msg} (TRACER_REQUIRE_INTEROP=1)`);
  t.skip(msg);
  return false;
}
