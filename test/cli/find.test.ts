/** `tracer find`, `move`, `get` as commands: help and usage errors (the peers are in test/interop/qr-scu.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracer } from '../helpers/storescp.js';

test('--help for find, move and get; listed by tracer --help', async () => {
  const f = await tracer(['find', '--help']);
  assert.equal(f.code, 0);
  assert.match(f.stdout, /Usage: tracer find \[options\] -k KEY\[=VALUE\]\.\.\. HOST PORT/);
  assert.match(f.stdout, /--max-results N/);
  for (const flag of ['--append-wildcard M', '--allow-empty', '--duplicates M', '--relational']) assert.ok(f.stdout.includes(flag), flag);
  const m = await tracer(['move', '-h']);
  assert.match(m.stdout, /Usage: tracer move \[options\] --dest AE/);
  assert.match(m.stdout, /--target T +retrieveAeTitle \(default, moveScu\.target\)/);
  const g = await tracer(['get', '-h']);
  assert.match(g.stdout, /Usage: tracer get \[options\] --out DIR/);
  const all = await tracer(['--help']);
  assert.match(all.stdout, /find .*C-FIND/);
  assert.match(all.stdout, /move .*C-MOVE/);
  assert.match(all.stdout, /get .*C-GET/);
});

test('usage errors say what is wrong and exit 1', async () => {
  const cases: [string[], RegExp][] = [
    [['find', '-k', 'NoSuchKey=1', '127.0.0.1', '104'], /unknown attribute 'NoSuchKey'/],
    [['find', '-L', 'FRAME', '127.0.0.1', '104'], /unknown query\/retrieve level 'FRAME'/],
    [['find', '-m', 'worklist', '127.0.0.1', '104'], /--model: expected study or patient/],
    [['find', '-L', 'PATIENT', '127.0.0.1', '104'], /--level PATIENT needs --model patient/],
    [['find', 'somehost'], /'somehost' is not a registered node/],
    [['move', '-k', 'StudyInstanceUID=1', '127.0.0.1', '104'], /--dest AE is required/],
    [['move', '--dest', 'A\\B', '127.0.0.1', '104'], /--dest 'A\\B' is not a valid AE title/],
    [['get', '127.0.0.1', '104'], /--out DIR is required/],
    [['get', '--out', '/tmp/x', '--retries', 'x', '127.0.0.1', '104'], /--retries: expected an integer/],
  ];
  for (const [args, re] of cases) {
    const r = await tracer(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
