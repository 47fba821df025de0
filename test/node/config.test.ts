/** Configuration: defaults, validation messages, JSON and YAML files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, adHocNode, defaultConfig, findNode, loadConfig, resolveConfig } from '../../src/node/config.js';
import { scuOptionsFromConfig } from '../../src/services/scu-connection.js';
import { tracer } from '../helpers/storescp.js';

test('embedded defaults: TRACER on 11112, data in ./tracer-data, Appendix A defaults', () => {
  const c = defaultConfig();
  assert.equal(c.localAEs[0]!.aeTitle, 'TRACER');
  assert.equal(c.localAEs[0]!.port, 11112);
  assert.equal(c.store.root, './tracer-data');
  assert.equal(c.network.maxPduReceive, 32768);
  assert.equal(c.network.maxInboundAssociations, 12);
  assert.equal(c.network.asyncOps.enabled, false);
  assert.equal(c.tls.minVersion, 'TLSv1.2');
  assert.equal(c.storeScu.retry.count, 2);
  assert.equal(c.acl.storage.requireKnownCallingAe, false);
});

test('a TLS local AE defaults to port 2762 (SEC-001)', () => {
  const c = resolveConfig({ localAEs: [{ tls: { enabled: true, certificate: 'a.crt', privateKey: 'a.key' } }, { aeTitle: 'PLAIN', port: 4242 }] });
  assert.equal(c.localAEs[0]!.port, 2762);
  assert.equal(c.localAEs[1]!.port, 4242);
  assert.equal(resolveConfig({ localAEs: [{ port: 5555, tls: { enabled: true, certificate: 'a', privateKey: 'b' } }] }).localAEs[0]!.port, 5555);
});

test('node defaults are filled in and nodes are found by name', () => {
  const c = resolveConfig({ nodes: [{ name: 'pacs', aeTitle: 'PACS', host: '127.0.0.1', port: 104 }] });
  const n = findNode(c, 'pacs')!;
  assert.equal(n.onRefused, 'retryJob');
  assert.equal(n.pcLayout, 'onePcPerTs');
  assert.equal(n.tls.enabled, false);
});

function errorOf(input: unknown): string {
  try { resolveConfig(input, 'x.yaml'); } catch (e) { assert.ok(e instanceof ConfigError); return e.message; }
  assert.fail('expected a ConfigError');
}

test('errors name the option and say what is wrong', () => {
  assert.match(errorOf({ localAEs: [{ aeTitle: 'A\\B' }] }), /localAEs\.0\.aeTitle: not a valid AE title/);
  assert.match(errorOf({ localAEs: [{ aeTitle: 'SEVENTEEN_CHARS_X' }] }), /localAEs\.0\.aeTitle/);
  assert.match(errorOf({ network: { maxPduReceive: 100 } }), /network\.maxPduReceive: must be 0 \(unlimited\) or 4096-524288/);
  assert.match(errorOf({ network: { tsSelection: 'random' } }), /network\.tsSelection: must be one of "callerOrder", "localOrder"/);
  assert.match(errorOf({ netwrok: {} }), /netwrok: unknown option/);
  assert.match(errorOf({ nodes: [{ name: 'a', aeTitle: 'A', host: 'h' }] }), /nodes\.0\.port: required/);
  assert.match(errorOf({ nodes: [{ name: 'a', aeTitle: 'A', host: 'h', port: 1, storeTransferSyntaxes: ['1.2.3'] }] }), /unknown transfer syntax '1\.2\.3'/);
  assert.match(errorOf({ localAEs: [{ tls: { enabled: true } }] }), /localAEs\.0\.tls: enabled needs certificate and privateKey/);
  const node = { name: 'a', aeTitle: 'A', host: 'h', port: 1 };
  assert.match(errorOf({ nodes: [{ ...node, tls: { enabled: true } }] }), /nodes\.0\.tls\.pinnedThumbprints: required when TLS is enabled \(SEC-003\)/);
  assert.match(errorOf({ nodes: [{ ...node, tls: { pinnedThumbprints: ['sha1:ABCD'] } }] }), /nodes\.0\.tls\.pinnedThumbprints\.0: expected sha1:<40 hex digits>/);
  assert.match(errorOf({ nodes: [{ ...node, tls: { certificate: 'c.pem' } }] }), /nodes\.0\.tls: certificate and privateKey go together/);
  const ok = resolveConfig({ nodes: [{ ...node, tls: { enabled: true, pinnedThumbprints: [`SHA256:${'ab:'.repeat(31)}ab`, 'cd'.repeat(20)] } }] });
  assert.equal(ok.nodes[0]!.tls.pinnedThumbprints.length, 2);
});

test('YAML and JSON files load; bad syntax names the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-cfg-'));
  try {
    writeFileSync(join(dir, 'a.yaml'), 'localAEs:\n  - aeTitle: NM1\n    port: 4242\n');
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ localAEs: [{ aeTitle: 'NM2' }] }));
    writeFileSync(join(dir, 'bad.json'), '{ "localAEs": [ }');
    assert.equal(loadConfig(join(dir, 'a.yaml')).localAEs[0]!.port, 4242);
    assert.equal(loadConfig(join(dir, 'a.json')).localAEs[0]!.aeTitle, 'NM2');
    assert.throws(() => loadConfig(join(dir, 'bad.json')), /bad\.json: not valid JSON/);
    assert.throws(() => loadConfig(join(dir, 'missing.yaml')), /missing\.yaml: cannot read configuration \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the embedded defaults and ad hoc nodes, filled in without ajv, equal what the schema validation gives', () => {
  assert.deepEqual(defaultConfig(), resolveConfig({}, 'defaults'));
  const fields = { name: 'command-line', aeTitle: 'ANY-SCP', host: 'pacs.example', port: 104 };
  assert.deepEqual(adHocNode(fields), resolveConfig({ nodes: [fields] }).nodes[0]);
  const a = defaultConfig();
  a.nodes.push(adHocNode(fields));
  assert.equal(defaultConfig().nodes.length, 0, 'each call returns fresh objects');
  assert.throws(() => adHocNode({ ...fields, host: '' }), ConfigError);
});

test('nodes[].timeouts override network.* for associations to that node (ASSOC-020); unknown keys are refused', () => {
  const c = resolveConfig({ network: { connectTimeout: 7, dimseTimeout: 60 }, nodes: [{ name: 'slow', aeTitle: 'SLOW', host: 'h', port: 104, timeouts: { dimseTimeout: 400, acseTimeout: 300 } }, { name: 'plain', aeTitle: 'P', host: 'h', port: 104 }] });
  const slow = scuOptionsFromConfig(c, findNode(c, 'slow')).timeouts!;
  assert.equal(slow.dimse, 400_000);
  assert.equal(slow.acse, 300_000);
  assert.equal(slow.connect, 7_000);
  const plain = scuOptionsFromConfig(c, findNode(c, 'plain')).timeouts!;
  assert.equal(plain.dimse, 60_000);
  assert.equal(plain.acse, 60_000);
  assert.throws(() => resolveConfig({ nodes: [{ name: 'x', aeTitle: 'X', host: 'h', port: 104, timeouts: { dimse: 3 } }] }), (e: unknown) => e instanceof ConfigError && /nodes\.0\.timeouts/.test(e.message) && /dimse/.test(e.message));
  assert.throws(() => resolveConfig({ nodes: [{ name: 'x', aeTitle: 'X', host: 'h', port: 104, timeouts: { dimseTimeout: -1 } }] }), (e: unknown) => e instanceof ConfigError && /nodes\.0\.timeouts\.dimseTimeout/.test(e.message));
});

test('watermark deletion and Q/R SCU options: Appendix A defaults, in `tracer config --defaults`, low water below high water', async () => {
  const c = defaultConfig();
  assert.deepEqual(c.storage.autoDelete, { enabled: false, highWaterPercent: 90, lowWaterPercent: 80, onlyCommitted: true });
  assert.deepEqual(c.findScu, { maxResults: 100, appendWildcard: 'patientName', requireNonEmptyKey: true, duplicates: 'replace' });
  assert.deepEqual(c.moveScu, { target: 'retrieveAeTitle', retry: { count: 3, intervalSeconds: 60 } });
  const n = resolveConfig({ nodes: [{ name: 'a', aeTitle: 'A', host: 'h', port: 1 }] }).nodes[0]!;
  assert.equal(n.forceFilter, false);
  assert.equal(n.relationalQuery, false);
  // The command prints what the schema gives: the same options, as YAML.
  const out = await tracer(['config', '--defaults']);
  assert.equal(out.code, 0, out.stderr);
  const printed = parseYaml(out.stdout) as { storage: { autoDelete: unknown }; findScu: unknown; moveScu: unknown };
  assert.deepEqual(printed.storage.autoDelete, c.storage.autoDelete);
  assert.deepEqual(printed.findScu, c.findScu);
  assert.deepEqual(printed.moveScu, c.moveScu);
  assert.match(errorOf({ storage: { autoDelete: { highWaterPercent: 70 } } }), /storage\.autoDelete\.lowWaterPercent: must be below highWaterPercent \(got 80 and 70\)/);
  assert.match(errorOf({ storage: { autoDelete: { lowWaterPercent: 90, highWaterPercent: 90 } } }), /must be below highWaterPercent/);
  assert.match(errorOf({ storage: { autoDelete: { highWaterPercent: 101 } } }), /storage\.autoDelete\.highWaterPercent: must be <= 100/);
  assert.match(errorOf({ findScu: { appendWildcard: 'always' } }), /findScu\.appendWildcard: must be one of "none", "patientName", "allStrings"/);
  assert.match(errorOf({ moveScu: { target: 'elsewhere' } }), /moveScu\.target: must be one of/);
  assert.equal(resolveConfig({ storage: { autoDelete: { enabled: true, highWaterPercent: 95, lowWaterPercent: 85 } } }).storage.autoDelete.onlyCommitted, true);
});
