#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's own test runner, which prints
// the closing summary (tests, pass, fail, skipped) that CI reads.
// Usage: node scripts/run-tests.mjs [filter-substring...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk('dist/test', []).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) { console.error('no test files found under dist/test'); process.exit(1); }
// TRACER_POISON_READS: each socket read's bytes are overwritten once handed on (src/net/transport.ts),
// so that code keeping a view of a reused read buffer fails the tests (servers the tests spawn inherit it).
const env = { ...process.env, TRACER_POISON_READS: process.env.TRACER_POISON_READS ?? '1' };
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
