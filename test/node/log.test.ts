import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createLogger } from '../../src/node/log.js';

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

function capture(opts: Parameters<typeof createLogger>[0] = {}): { lines: string[]; opts: Parameters<typeof createLogger>[0] } {
  const lines: string[] = [];
  return { lines, opts: { ...opts, write: (l) => lines.push(l) } };
}

test('text format: level, message, then the logger\'s fields and the event\'s, in that order; an event\'s value wins in place', () => {
  const c = capture();
  const log = createLogger(c.opts).child({ assoc: 3, calling: 'MODALITY' });
  log.info('stored', { bytes: 512, calling: 'OTHER', path: 'a b', empty: '', none: undefined, eq: 'x=y', quote: 'say "hi"' });
  log.warn('aborted');
  assert.equal(c.lines.length, 2);
  assert.match(c.lines[0]!, TIME);
  assert.equal(c.lines[0]!.replace(TIME, ''), 'INFO  stored assoc=3 calling=OTHER bytes=512 path="a b" empty="" eq="x=y" quote="say \\"hi\\""');
  assert.equal(c.lines[1]!.replace(TIME, ''), 'WARN  aborted assoc=3 calling=MODALITY');
});

test('levels below the logger\'s are dropped; enabled() says which pass', () => {
  const c = capture({ level: 'warn' });
  const log = createLogger(c.opts);
  log.info('no');
  log.debug('no');
  log.error('yes', { n: 1 });
  assert.deepEqual(c.lines.map((l) => l.replace(TIME, '')), ['ERROR yes n=1']);
  assert.equal(log.enabled('warn'), true);
  assert.equal(log.enabled('info'), false);
});

test('JSON format: one object per line with time, level, msg and the merged fields; bigints as strings', () => {
  const c = capture({ format: 'json' });
  createLogger(c.opts, { assoc: 1, x: 1 }).info('j', { x: 2, big: 2n ** 70n });
  const o = JSON.parse(c.lines[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(o), ['time', 'level', 'msg', 'assoc', 'x', 'big']);
  assert.deepEqual({ ...o, time: undefined }, { time: undefined, level: 'info', msg: 'j', assoc: 1, x: 2, big: (2n ** 70n).toString() });
});

test('stderr redirected to a file (written to its descriptor directly): every line, in order with other stderr writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-log-'));
  try {
    const file = join(dir, 'err.log');
    const fd = openSync(file, 'w');
    const mod = pathToFileURL(join(import.meta.dirname, '../../src/node/log.js')).href;
    const script = `const { createLogger } = await import(${JSON.stringify(mod)});
      const log = createLogger();
      for (let i = 0; i < 3; i++) { log.info('line', { i }); process.stderr.write('raw ' + i + '\\n'); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    assert.equal(r.status, 0);
    const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.replace(TIME, ''));
    assert.deepEqual(lines, ['INFO  line i=0', 'raw 0', 'INFO  line i=1', 'raw 1', 'INFO  line i=2', 'raw 2', '']);
    // and through a pipe (the stream): the same lines
    const p = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(p.status, 0);
    assert.deepEqual(p.stderr.split('\n').map((l) => l.replace(TIME, '')), lines);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
