/**
 * Loading and validating the configuration (JSON or YAML). Every error names the file, the
 * option's path and what is wrong; defaults are filled in from the schema.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import type { Ajv as AjvClass, ErrorObject } from 'ajv';
import { configSchema } from './config-schema.js';
import { transferSyntax } from '../dicom/dictionary/index.js';
import { normalizeThumbprint } from '../net/tls.js';

export interface TlsEndpointConfig {
  enabled: boolean;
  certificate?: string;
  privateKey?: string;
  ca: string[];
  requirePeerCertificate: boolean;
  pinnedThumbprints: string[];
  legacyTls10: boolean;
}

export type ServiceName = 'verification' | 'storage' | 'queryRetrieve';

export interface LocalAEConfig {
  aeTitle: string;
  port: number;
  host: string;
  services: ServiceName[];
  implementationClassUid?: string;
  implementationVersionName?: string;
  tls: TlsEndpointConfig;
}

export interface ServiceAclConfig {
  checkCalledAeTitle: boolean;
  requireKnownCallingAe: boolean;
  ipAllowList: 'off' | 'knownNodes' | string[];
}

export interface NodeConfig {
  name: string;
  aeTitle: string;
  host: string;
  port: number;
  description?: string;
  services: ServiceName[];
  maxPduSend: number;
  maxPresentationContexts: number;
  enabledTransferSyntaxes?: string[];
  disableExplicitVr: boolean;
  privateTransferSyntax: boolean;
  maxInstancesPerAssociation: number;
  pcStrategy: 'jobClasses' | 'allConfigured';
  pcLayout: 'onePcPerTs' | 'singlePcAllTs';
  storeTransferSyntaxes?: string[];
  /** Lossy compression may be applied when sending to this node (SEND-021). */
  allowLossy: boolean;
  onRefused: 'retryJob' | 'continue' | 'failJob';
  onInstanceFailure: 'continue' | 'abortAndRetry' | 'stopJob';
  warningsAsSuccess: boolean;
  tls: TlsEndpointConfig;
  /** STOR-040: this node's duplicate policy, over storage.duplicatePolicy. */
  duplicatePolicy?: 'ignore' | 'overwrite' | 'reject';
  /** QR-032: propose relational queries to this node. */
  relationalQuery: boolean;
  /** ASSOC-020: this node's overrides of the network.* timeouts (seconds), on associations to it. */
  timeouts?: Partial<Pick<TracerConfig['network'], NodeTimeout>>;
  /** QR-023: queries to this node need a key with a value, whatever findScu.requireNonEmptyKey says. */
  forceFilter: boolean;
}

/** The timeouts a node may override (ASSOC-020). */
export type NodeTimeout = 'connectTimeout' | 'acseTimeout' | 'releaseTimeout' | 'dimseTimeout' | 'interPduTimeout' | 'sessionTimeout';

export interface StorageConfig {
  minFreeDiskMb: number;
  privateStatusCodes: 'none' | 'entegra';
  validationFailure: 'reject' | 'warn';
  ackMode: 'afterIndex' | 'afterFileWrite';
  validation: 'none' | 'uids' | 'uidsAndImage' | 'type1';
  storeInvalid: boolean;
  fixups: { emptyPatientName: boolean | string; emptyPatientId: boolean | string; rowsColumnsFromPixelData: boolean; generateMissingSopInstanceUid: boolean };
  duplicatePolicy: 'ignore' | 'overwrite' | 'reject';
  seriesUidConflict: 'quarantine' | 'store';
  sopUidConflict: 'store' | 'quarantine';
  demographicUpdate: 'latestWins' | 'keepExisting' | 'flagOnly';
  /** REQUIREMENTS 7.3: watermark deletion. */
  autoDelete: { enabled: boolean; highWaterPercent: number; lowWaterPercent: number; onlyCommitted: boolean };
}

/** REQUIREMENTS 8.5: the C-FIND SCU's options. */
export interface FindScuConfig {
  maxResults: number;
  appendWildcard: 'none' | 'patientName' | 'allStrings';
  requireNonEmptyKey: boolean;
  duplicates: 'replace' | 'keepAll';
}

/** REQUIREMENTS 8.7: the C-MOVE SCU's options. */
export interface MoveScuConfig {
  target: 'retrieveAeTitle' | 'queriedNode';
  retry: { count: number; intervalSeconds: number };
}

export interface FindScpConfig {
  relational: 'hierarchical' | 'ifNegotiated' | 'always';
  maxMatches: number;
  caseInsensitive: 'none' | 'pnOnly' | 'all';
  pnMatching: 'componentWise' | 'wholeString';
  implicitTrailingWildcard: boolean;
  instanceAvailability: 'ONLINE' | 'NEARLINE' | 'OFFLINE' | 'UNAVAILABLE';
}

export interface TracerConfig {
  localAEs: LocalAEConfig[];
  store: { root: string; indexBatchSize: number; indexFlushSeconds: number; indexSynchronous: 'normal' | 'full'; fsync: boolean };
  network: {
    maxPduReceive: number;
    maxPduSendUnlimited: number;
    connectTimeout: number;
    acseTimeout: number;
    releaseTimeout: number;
    dimseTimeout: number;
    interPduTimeout: number;
    idleAssociationTimeout: number;
    sessionTimeout: number;
    maxInboundAssociations: number;
    maxOutboundAssociations: number;
    asyncOps: { enabled: boolean; maxInvoked: number; maxPerformed: number };
    tsSelection: 'callerOrder' | 'localOrder';
    acceptedTransferSyntaxes?: string[];
  };
  storage: StorageConfig;
  db: { patientMatchKeys: string[] };
  findScp: FindScpConfig;
  findScu: FindScuConfig;
  moveScu: MoveScuConfig;
  moveScp: { destination: 'knownNodes' | 'callerAddress'; noMatchStatus: 'success' | 'A701' };
  storeScu: { retry: { count: number; intervalSeconds: number } };
  jobs: { perDestinationConcurrency: number };
  tls: { minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; ciphers?: string };
  acl: { verification: ServiceAclConfig; storage: ServiceAclConfig; queryRetrieve: ServiceAclConfig };
  nodes: NodeConfig[];
  log: { level: 'error' | 'warn' | 'info' | 'debug' | 'trace'; format: 'text' | 'json' };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// ajv (and yaml) are loaded on first use: compiling the schema costs ~150 ms at start-up, which
// commands run without a configuration file (the embedded defaults) never pay.
const requireLazy = createRequire(import.meta.url);
let validator: ReturnType<AjvClass['compile']> | undefined;
function validate(): ReturnType<AjvClass['compile']> {
  if (!validator) {
    const { Ajv } = requireLazy('ajv') as typeof import('ajv');
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
    validator = ajv.compile(configSchema);
  }
  return validator;
}

interface SchemaNode {
  type?: unknown;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/**
 * Fills in the schema's defaults the way ajv's `useDefaults` does (a missing property of an
 * object gets a copy of its `default`, then objects and array items are filled in recursively;
 * nothing inside anyOf/oneOf), without compiling the schema. Only for values known to be valid
 * (the empty configuration, an ad hoc node): it does not validate. The test suite checks that it
 * gives what ajv gives.
 */
function fillDefaults(schema: SchemaNode, value: unknown): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) fillDefaults(schema.items, item);
    return;
  }
  if (!schema.properties || value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const [key, sub] of Object.entries(schema.properties)) {
    if (obj[key] === undefined && sub.default !== undefined) obj[key] = structuredClone(sub.default);
    if (obj[key] !== undefined) fillDefaults(sub, obj[key]);
  }
}

function describe(e: ErrorObject): string {
  const path = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'additionalProperties') return `${path === '(top level)' ? '' : path + '.'}${String(e.params.additionalProperty)}: unknown option`;
  if (e.keyword === 'enum') return `${path}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'required') return `${path === '(top level)' ? '' : path + '.'}${String(e.params.missingProperty)}: required`;
  if (e.keyword === 'pattern' && /aeTitle$/.test(path)) return `${path}: not a valid AE title (1-16 characters of the default repertoire, no backslash)`;
  return `${path}: ${e.message ?? 'invalid'}`;
}

/**
 * Validates a configuration object and fills in defaults. `source` names where it came from in
 * error messages.
 */
export function resolveConfig(input: unknown, source = 'configuration'): TracerConfig {
  const cfg = structuredClone(input ?? {}) as { localAEs?: Array<{ port?: unknown; tls?: { enabled?: unknown } }> };
  // SEC-001: a TLS local AE listens on 2762 unless told otherwise (the schema's default is for plain TCP).
  if (Array.isArray(cfg.localAEs)) {
    for (const ae of cfg.localAEs) if (ae && typeof ae === 'object' && ae.tls?.enabled === true && ae.port === undefined) ae.port = 2762;
  }
  const v = validate();
  if (!v(cfg)) {
    // anyOf/oneOf add one error per branch; keep the first of each path for a readable list.
    const seen = new Set<string>();
    const lines = (v.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf').map(describe)
      .filter((l) => (seen.has(l.split(':')[0]!) ? false : (seen.add(l.split(':')[0]!), true)));
    throw new ConfigError(`${source}: invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = cfg as TracerConfig;
  checkSemantics(c, source);
  return c;
}

/** Rules JSON Schema cannot state: unique names, transfer syntaxes that exist, TLS files present. */
function checkSemantics(c: TracerConfig, source: string): void {
  const problems: string[] = [];
  const names = new Set<string>();
  c.nodes.forEach((n, i) => {
    if (names.has(n.name)) problems.push(`nodes.${i}.name: '${n.name}' is used by another node`);
    names.add(n.name);
    for (const key of ['enabledTransferSyntaxes', 'storeTransferSyntaxes'] as const) {
      n[key]?.forEach((ts, k) => { if (!transferSyntax(ts)) problems.push(`nodes.${i}.${key}.${k}: unknown transfer syntax '${ts}'`); });
    }
    if (n.enabledTransferSyntaxes && n.enabledTransferSyntaxes.length === 0) problems.push(`nodes.${i}.enabledTransferSyntaxes: at least one syntax must stay enabled`);
    checkTls(n.tls, `nodes.${i}.tls`, problems);
    if (n.tls.enabled && n.tls.pinnedThumbprints.length === 0) problems.push(`nodes.${i}.tls.pinnedThumbprints: required when TLS is enabled (SEC-003)`);
  });
  const aw = c.storage.autoDelete;
  if (aw.lowWaterPercent >= aw.highWaterPercent) problems.push(`storage.autoDelete.lowWaterPercent: must be below highWaterPercent (got ${aw.lowWaterPercent} and ${aw.highWaterPercent})`);
  const pdu = c.network.maxPduReceive;
  if (pdu !== 0 && pdu < 4096) problems.push(`network.maxPduReceive: must be 0 (unlimited) or 4096-524288 (got ${pdu})`);
  c.network.acceptedTransferSyntaxes?.forEach((ts, k) => { if (!transferSyntax(ts)) problems.push(`network.acceptedTransferSyntaxes.${k}: unknown transfer syntax '${ts}'`); });
  const ports = new Map<number, string>();
  c.localAEs.forEach((ae, i) => {
    if (ae.tls.enabled && (!ae.tls.certificate || !ae.tls.privateKey)) problems.push(`localAEs.${i}.tls: enabled needs certificate and privateKey`);
    checkTls(ae.tls, `localAEs.${i}.tls`, problems);
    const other = ports.get(ae.port);
    if (other !== undefined && other !== ae.host) problems.push(`localAEs.${i}.port: ${ae.port} already used on another address`);
    ports.set(ae.port, ae.host);
  });
  if (problems.length) throw new ConfigError(`${source}: invalid configuration:\n  ${problems.join('\n  ')}`);
}

/** TLS settings (16.1): thumbprint lengths, certificate and key given together. Files are read when used. */
function checkTls(t: TlsEndpointConfig, path: string, problems: string[]): void {
  t.pinnedThumbprints.forEach((p, k) => {
    try {
      normalizeThumbprint(p);
    } catch (e) {
      problems.push(`${path}.pinnedThumbprints.${k}: ${(e as Error).message.replace(/^pinned thumbprint '.*?': /, '')}`);
    }
  });
  if (!t.certificate !== !t.privateKey) problems.push(`${path}: certificate and privateKey go together`);
}

/** Reads a JSON (.json) or YAML (.yaml, .yml, anything else) configuration file. */
export function loadConfig(path: string): TracerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read configuration (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : (requireLazy('yaml') as typeof import('yaml')).parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  return resolveConfig(data, path);
}

/** The embedded defaults (what `tracer serve` runs with when no file is given). */
export function defaultConfig(): TracerConfig {
  // Same result as resolveConfig({}, 'defaults') (test/node/config.test.ts), without compiling the schema.
  const c = {} as TracerConfig;
  fillDefaults(configSchema as unknown as SchemaNode, c);
  checkSemantics(c, 'defaults');
  return c;
}

/**
 * A node entry with every option at its default (an SCU command's HOST PORT peer): the same as
 * `resolveConfig({ nodes: [node] }).nodes[0]`, without compiling the schema when the given
 * fields are plainly valid (otherwise the full validation reports what is wrong).
 */
export function adHocNode(fields: { name: string; aeTitle: string; host: string; port: number }, source = 'command line'): NodeConfig {
  const item = (configSchema as unknown as { properties: { nodes: { items: SchemaNode } } }).properties.nodes.items;
  const p = item.properties as unknown as Record<'name' | 'aeTitle', { pattern: string; maxLength?: number }>;
  const plain = new RegExp(p.name.pattern, 'u').test(fields.name) && new RegExp(p.aeTitle.pattern, 'u').test(fields.aeTitle) &&
    fields.aeTitle.length <= p.aeTitle.maxLength! && fields.host.length > 0 && Number.isInteger(fields.port) && fields.port >= 1 && fields.port <= 65535;
  if (!plain) return resolveConfig({ nodes: [fields] }, source).nodes[0]!;
  const node = { ...fields } as NodeConfig;
  fillDefaults(item, node);
  return node;
}

/** Finds a registered node by its logical name (or AE title, as a convenience). */
export function findNode(c: TracerConfig, name: string): NodeConfig | undefined {
  return c.nodes.find((n) => n.name === name) ?? c.nodes.find((n) => n.aeTitle === name);
}
