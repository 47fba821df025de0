/**
 * TLS transport (PS3.15 B.1 Basic TLS Secure Transport Connection Profile; REQUIREMENTS 16.1
 * SEC-001..005): Node TLS options built from the configuration, a connector for
 * `Association.request({ connect })` and a TLS listener for `AssociationServer`.
 *
 * Server side (a local AE with `tls.enabled`, SEC-001), either with startNode's listener factory
 *
 *   await startNode(config, logger, { listenerFactory: tlsListenerFactory(logger) });
 *
 * or directly on an AssociationServer:
 *
 *   const server = new AssociationServer({ policy, handlers });
 *   await listenTls(server, ae.port, ae.host, ae.tls, config.tls, { ...inboundFromNodes(config.nodes), name: ae.aeTitle, log });
 *
 * Client side (a remote node with `tls.enabled`):
 *
 *   const connect = tlsConnector(node, config.tls, localAE.tls, { timeoutMs: 60_000, log });
 *   const assoc = await Association.request({ connect, callingAETitle, calledAETitle, presentationContexts });
 *
 * Trust model, per endpoint:
 *  - `ca` given: OpenSSL verifies the peer chain up to one of those CAs (and only those: the
 *    system roots are not used), then pins (SEC-003) and EKU (SEC-004) are checked.
 *  - no `ca`, pins given ("pin-only", e.g. self-signed device certificates): the chain is not
 *    verified by OpenSSL; Tracer accepts it only if a pinned certificate is in the presented
 *    chain AND every certificate from the leaf up to it is signed by the next one, is within its
 *    validity period, and the issuers are CAs. So pinning a CA cannot be bypassed by sending a
 *    copy of that (public) CA certificate with an unrelated leaf.
 *  - neither: the peer is verified against Node's built-in root store (rarely what a DICOM
 *    network wants; configure `ca` or pins).
 * The TLS handshake itself proves that the peer holds the private key of the leaf certificate.
 *
 * Host names are not checked against the server certificate when pins are configured (the pin
 * identifies the peer, as in DCMTK and the SPECTsyngo statement); without pins Node's usual
 * host name / IP SAN check applies.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import type { AssociationServer } from './server.js';
import { createTcpServer, tcpConnect, tuneSocket } from './transport.js';

/**
 * node:tls, loaded on first use. Loading it takes ~11 ms, a twentieth of a command's start-up here,
 * which `tracer echo`, `store` or `find` to a node without TLS never need. Synchronous (require),
 * so that configuration errors still surface where tlsConnector() and the server options are made.
 */
let tlsModule: typeof tls | undefined;
function nodeTls(): typeof tls {
  return (tlsModule ??= createRequire(import.meta.url)('node:tls') as typeof tls);
}

/** The TLS section of a local AE or a remote node (config.ts `TlsEndpointConfig` fits). */
export interface TlsEndpoint {
  enabled?: boolean;
  /** PEM file: our certificate (optionally followed by its intermediates). */
  certificate?: string;
  /** PEM file: the unencrypted private key of that certificate. */
  privateKey?: string;
  /** PEM files of the CA certificates trusted for the peer. */
  ca?: readonly string[];
  /** Mutual TLS (SEC-002): a server requires a client certificate. Default true. */
  requirePeerCertificate?: boolean;
  /** SEC-003: 'sha1:...' / 'sha256:...' thumbprints of the peer certificate or one of its chain. */
  pinnedThumbprints?: readonly string[];
  /** SEC-005: allow TLS 1.0 (and 3DES when this OpenSSL has it) for this peer. */
  legacyTls10?: boolean;
}

/** The global `tls` section (SEC-005). */
export interface TlsGlobal {
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (TLS 1.2 and below); default Node's. */
  ciphers?: string;
}

/** A remote node as far as TLS is concerned (config.ts `NodeConfig` fits). */
export interface TlsRemote {
  host: string;
  port: number;
  name?: string;
  aeTitle?: string;
  tls: TlsEndpoint;
}

/** Where security events go (config's Logger fits). */
export interface SecurityLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug?(msg: string, fields?: Record<string, unknown>): void;
}

/** A TLS file or setting that cannot be used; the message names the file. */
export class TlsConfigError extends Error {
  override name = 'TlsConfigError';
}

/** A refused TLS connection (handshake, trust, pin or EKU failure), named by peer and reason. */
export class TlsHandshakeError extends Error {
  override name = 'TlsHandshakeError';
  constructor(
    readonly peer: string,
    readonly reason: string,
  ) {
    super(`TLS handshake with ${peer} failed: ${reason}`);
  }
}

const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

// ------------------------------------------------------------------ files

function readFile(file: string, what: string, where: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new TlsConfigError(`${where}: cannot read ${what} file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Reads a PEM file holding one or more certificates; checks each parses. */
function readCertificates(file: string, what: string, where: string): { pem: Buffer; certs: X509Certificate[] } {
  const pem = readFile(file, what, where);
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) throw new TlsConfigError(`${where}: ${file} is not a PEM ${what} (no '-----BEGIN CERTIFICATE-----' block)`);
  const certs = blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new TlsConfigError(`${where}: ${file}: unreadable ${what}: ${(e as Error).message}`);
    }
  });
  return { pem, certs };
}

function readPrivateKey(file: string, where: string): { pem: Buffer; key: KeyObject } {
  const pem = readFile(file, 'private key', where);
  if (!/-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem.toString('latin1'))) {
    throw new TlsConfigError(`${where}: ${file} is not a PEM private key (no '-----BEGIN ... PRIVATE KEY-----' block)`);
  }
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (e) {
    const enc = /ENCRYPTED/.test(pem.toString('latin1')) ? ' (encrypted keys are not supported; decrypt it with openssl pkey)' : '';
    throw new TlsConfigError(`${where}: ${file}: unreadable private key${enc}: ${(e as Error).message}`);
  }
}

/** Our certificate and key, checked to belong together. */
function readIdentity(certificate: string, privateKey: string, where: string): { cert: Buffer; key: Buffer } {
  const { pem: cert, certs } = readCertificates(certificate, 'certificate', where);
  const { pem: key, key: k } = readPrivateKey(privateKey, where);
  if (!certs[0]!.checkPrivateKey(k)) throw new TlsConfigError(`${where}: private key ${privateKey} does not belong to certificate ${certificate}`);
  return { cert, key };
}

// ------------------------------------------------------------------ thumbprints (SEC-003)

/** A thumbprint as 'sha1:HEX' / 'sha256:HEX' (upper case, no colons); accepts colons, any case, no prefix. */
export function normalizeThumbprint(t: string): string {
  const m = /^\s*(?:(sha-?1|sha-?256)\s*:)?\s*([0-9a-f:\s]+)$/i.exec(t);
  const hex = m?.[2]?.replace(/[:\s]/g, '').toUpperCase() ?? '';
  const alg = m?.[1] ? m[1].toLowerCase().replace('-', '') : hex.length === 40 ? 'sha1' : 'sha256';
  const want = alg === 'sha1' ? 40 : 64;
  if (!m || hex.length !== want) throw new TlsConfigError(`pinned thumbprint '${t}': expected sha1:<40 hex digits> or sha256:<64 hex digits>`);
  return `${alg}:${hex}`;
}

/** The SHA-1 and SHA-256 thumbprints of a DER certificate, in normalizeThumbprint() form. */
export function thumbprints(der: Buffer): { sha1: string; sha256: string } {
  return {
    sha1: `sha1:${createHash('sha1').update(der).digest('hex').toUpperCase()}`,
    sha256: `sha256:${createHash('sha256').update(der).digest('hex').toUpperCase()}`,
  };
}

// ------------------------------------------------------------------ option building

type Role = 'server' | 'client';

/** The protocol floor and cipher list (SEC-005). */
function versionOptions(global: TlsGlobal | undefined, legacyTls10: boolean, where: string): Pick<tls.SecureContextOptions, 'minVersion' | 'ciphers'> {
  const minVersion = legacyTls10 ? 'TLSv1' : (global?.minVersion ?? 'TLSv1.2');
  let ciphers = global?.ciphers;
  if (minVersion === 'TLSv1' || minVersion === 'TLSv1.1') {
    // OpenSSL 3 refuses TLS 1.0/1.1 at security level 1 and above: lower it to 0. This also
    // admits small keys and SHA-1 signatures, for these connections only. TLS_RSA_WITH_3DES_EDE_CBC_SHA
    // (SPECTsyngo) is added when this OpenSSL build still has it (Node 20's own OpenSSL 3.0 has not:
    // TLS 1.0 then runs with the AES-CBC-SHA suites, which a 3DES-only peer cannot use).
    const des = nodeTls().getCiphers().includes('des-cbc3-sha') ? ':DES-CBC3-SHA' : '';
    ciphers = `${ciphers ?? nodeTls().DEFAULT_CIPHERS}${des}:@SECLEVEL=0`;
  }
  const out: Pick<tls.SecureContextOptions, 'minVersion' | 'ciphers'> = { minVersion };
  if (ciphers) {
    try {
      nodeTls().createSecureContext({ ciphers });
    } catch (e) {
      throw new TlsConfigError(`${where}: tls.ciphers '${ciphers}' is not usable: ${(e as Error).message}`);
    }
    out.ciphers = ciphers;
  }
  return out;
}

/** The peer checks to run after the handshake. */
export interface PeerPolicy {
  /** The peer is the SCU (we accept: EKU clientAuth) or the SCP (we connect: EKU serverAuth). */
  peerRole: 'scu' | 'scp';
  /** Normalised pins; empty = no pinning. */
  pins: string[];
  /** Refuse a peer without certificate. */
  requireCertificate: boolean;
  /** 'ca': OpenSSL verified the chain (socket.authorized must be true); 'pins': verify the chain up to the pin here. */
  trust: 'ca' | 'pins';
}

function policyOf(ep: TlsEndpoint, extraPins: readonly string[], role: Role, where: string): PeerPolicy {
  const pins = [...new Set([...(ep.pinnedThumbprints ?? []), ...extraPins].map((p) => {
    try {
      return normalizeThumbprint(p);
    } catch (e) {
      throw new TlsConfigError(`${where}: ${(e as Error).message}`);
    }
  }))];
  const hasCa = (ep.ca?.length ?? 0) > 0;
  return {
    peerRole: role === 'server' ? 'scu' : 'scp',
    pins,
    // A client always needs the server's certificate; a server when mutual TLS is on or pins need one.
    requireCertificate: role === 'client' || (ep.requirePeerCertificate ?? true) || pins.length > 0,
    trust: !hasCa && pins.length > 0 ? 'pins' : 'ca',
  };
}

function readCas(files: readonly string[] | undefined, where: string): Buffer[] | undefined {
  if (!files || files.length === 0) return undefined;
  return files.map((f) => readCertificates(f, 'CA certificate', where).pem);
}

export interface TlsServerExtras {
  /** More pins accepted inbound, e.g. those of every TLS-enabled remote node (SEC-003). */
  pins?: readonly string[];
  /** Accept TLS 1.0 on this listener (a remote node with legacyTls10 calls this AE). */
  legacyTls10?: boolean;
  /**
   * When legacyTls10 comes from remote nodes: a session below the configured minimum version is
   * kept only if the peer chain matches one of these pins (those of the legacy nodes).
   */
  legacyPins?: readonly string[];
  /** For messages, e.g. 'localAEs.0 (TRACER)'. */
  name?: string;
  log?: SecurityLog;
  /** Abort handshakes that take longer (default 60 s, REQUIREMENTS 3.3 acseTimeout). */
  handshakeTimeoutMs?: number;
}

/**
 * What the remote nodes imply for a TLS listener: every TLS node's pins are accepted inbound
 * (SEC-003), and TLS 1.0 is offered when a node has legacyTls10 (SEC-005), for those nodes only.
 * Spread into the extras of listenTls/createTlsServer.
 */
export function inboundFromNodes(nodes: readonly { tls: TlsEndpoint }[]): Pick<TlsServerExtras, 'pins' | 'legacyTls10' | 'legacyPins'> {
  const tlsNodes = nodes.filter((n) => n.tls.enabled);
  const legacy = tlsNodes.filter((n) => n.tls.legacyTls10);
  const out: Pick<TlsServerExtras, 'pins' | 'legacyTls10' | 'legacyPins'> = { pins: tlsNodes.flatMap((n) => n.tls.pinnedThumbprints ?? []) };
  if (legacy.length > 0) {
    out.legacyTls10 = true;
    out.legacyPins = legacy.flatMap((n) => n.tls.pinnedThumbprints ?? []);
  }
  return out;
}

/**
 * Node TLS server options for a local AE (SEC-001/002/005) plus the post-handshake policy. Reads
 * and checks the files now; throws TlsConfigError naming the file.
 */
export function tlsServerOptions(ae: TlsEndpoint, global?: TlsGlobal, extras: TlsServerExtras = {}): { options: tls.TlsOptions; policy: PeerPolicy } {
  const where = extras.name ?? 'local AE tls';
  if (!ae.certificate || !ae.privateKey) throw new TlsConfigError(`${where}: a TLS listener needs certificate and privateKey`);
  const { cert, key } = readIdentity(ae.certificate, ae.privateKey, where);
  const ca = readCas(ae.ca, where);
  const policy = policyOf(ae, extras.pins ?? [], 'server', where);
  const options: tls.TlsOptions = {
    cert,
    key,
    ...versionOptions(global, !!(ae.legacyTls10 || extras.legacyTls10), where),
    honorCipherOrder: true,
    // SEC-002: ask for the client certificate. OpenSSL verifies it against `ca` but does not
    // reject it: checkPeer() does, after the handshake, so that every refusal is logged with its
    // reason (with rejectUnauthorized Node drops untrusted clients without saying why).
    requestCert: policy.requireCertificate || (ae.ca?.length ?? 0) > 0,
    rejectUnauthorized: false,
  };
  if (ca) options.ca = ca;
  return { options, policy };
}

/** The chain presented by (and, with a CA, verified for) the peer: leaf first. */
function peerChain(socket: tls.TLSSocket): tls.DetailedPeerCertificate[] {
  const chain: tls.DetailedPeerCertificate[] = [];
  let c = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c && c.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    chain.push(c);
    c = c.issuerCertificate;
  }
  return chain;
}

function subjectOf(c: tls.PeerCertificate): string {
  const s = c.subject as unknown as Record<string, string | string[]> | undefined;
  const cn = s?.CN;
  return cn ? `CN=${Array.isArray(cn) ? cn.join('+') : cn}` : 'no CN';
}

/** Verifies leaf -> ... -> chain[k] link by link (pin-only trust). Returns a reason or null. */
function verifyUpTo(chain: tls.DetailedPeerCertificate[], k: number): string | null {
  const now = Date.now();
  const x = chain.slice(0, k + 1).map((c) => new X509Certificate(c.raw));
  for (let i = 0; i <= k; i++) {
    const c = x[i]!;
    if (Date.parse(c.validFrom) > now) return `certificate ${subjectOf(chain[i]!)} not yet valid (from ${c.validFrom})`;
    if (Date.parse(c.validTo) < now) return `certificate ${subjectOf(chain[i]!)} expired (${c.validTo})`;
    if (i < k) {
      const issuer = x[i + 1]!;
      if (!issuer.ca) return `certificate ${subjectOf(chain[i + 1]!)} in the chain is not a CA`;
      if (!c.checkIssued(issuer) || !c.verify(issuer.publicKey)) return `certificate ${subjectOf(chain[i]!)} is not signed by ${subjectOf(chain[i + 1]!)}`;
    }
  }
  return null;
}

/** True when the peer's certificate or one of its chain has one of these thumbprints (SEC-003). */
export function peerIsPinned(socket: tls.TLSSocket, pins: readonly string[]): boolean {
  const want = pins.map(normalizeThumbprint);
  return peerChain(socket).some((c) => {
    const p = thumbprints(c.raw);
    return want.includes(p.sha1) || want.includes(p.sha256);
  });
}

const VERSION_RANK: Record<string, number> = { TLSv1: 1, 'TLSv1.1': 2, 'TLSv1.2': 3, 'TLSv1.3': 4 };

/**
 * The post-handshake checks of SEC-002..004 on a connected TLS socket. Returns null when the peer
 * is acceptable, else the reason. (To bind a calling AE title to its own node's pins in a
 * negotiate hook, use `peerIsPinned(tlsSocketOf(assoc.socket)!, node.tls.pinnedThumbprints)`.)
 */
export function checkPeer(socket: tls.TLSSocket, policy: PeerPolicy): string | null {
  const chain = peerChain(socket);
  if (chain.length === 0) return policy.requireCertificate ? 'no peer certificate (mutual TLS required, SEC-002)' : null;
  const leaf = chain[0]!;
  const prints = chain.map((c) => thumbprints(c.raw));
  if (policy.trust === 'ca' && !socket.authorized) return `certificate ${subjectOf(leaf)} not trusted (${tlsErrorText(socket.authorizationError)})`;
  if (policy.pins.length > 0) {
    // SEC-003: the leaf or any certificate of its chain must be pinned.
    const pins = policy.pins.map(normalizeThumbprint);
    const k = prints.findIndex((p) => pins.includes(p.sha1) || pins.includes(p.sha256));
    if (k < 0) return `certificate not pinned (${subjectOf(leaf)}, ${prints[0]!.sha256})`;
    if (policy.trust === 'pins') {
      const why = verifyUpTo(chain, k);
      if (why) return why;
    }
  } else if (policy.trust === 'pins') {
    return 'no pinned thumbprints and no CA configured';
  }
  // SEC-004: an Extended Key Usage, when present, must allow the role the peer plays.
  const eku = leaf.ext_key_usage;
  if (eku && eku.length > 0) {
    const [oid, name] = policy.peerRole === 'scp' ? [EKU_SERVER_AUTH, 'serverAuth'] : [EKU_CLIENT_AUTH, 'clientAuth'];
    if (!eku.includes(oid)) return `certificate ${subjectOf(leaf)} Extended Key Usage lacks ${name} (${oid}) needed for a ${policy.peerRole.toUpperCase()} (SEC-004)`;
  }
  return null;
}

/**
 * A readable reason from an OpenSSL error ('...:error:0A0000C7:SSL routines:fn:peer did not return
 * a certificate:file:line:' -> 'peer did not return a certificate') or a verify code.
 */
export function tlsErrorText(e: unknown): string {
  if (e === undefined || e === null) return 'unknown error';
  const msg = e instanceof Error ? e.message : String(e);
  const m = /:error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+)/.exec(msg);
  const text = m ? m[1]! : msg;
  const code = e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined;
  return code && !m && !msg.includes(code) ? `${text} (${code})` : text;
}

function describePeer(s: { remoteAddress?: string; remotePort?: number } | undefined): string {
  return `${s?.remoteAddress ?? '?'}:${s?.remotePort ?? '?'}`;
}

function securityEvent(log: SecurityLog | undefined, err: TlsHandshakeError, fields: Record<string, unknown> = {}): void {
  log?.warn('TLS connection refused', { event: 'security', peer: err.peer, reason: err.reason, ...fields });
}

/**
 * A tls.Server for a local AE: after the handshake and the checks of `checkPeer`, each socket goes
 * to `onSecureSocket`; a refused peer is logged as a security event and its socket destroyed before
 * any DICOM byte is read. Nagle is off on the TCP sockets (PS3.8 9.1).
 */
export function createTlsServer(ae: TlsEndpoint, global: TlsGlobal | undefined, onSecureSocket: (socket: tls.TLSSocket) => void, extras: TlsServerExtras = {}): tls.Server {
  const { options, policy } = tlsServerOptions(ae, global, extras);
  const log = extras.log;
  const srv = nodeTls().createServer({ ...options, noDelay: true, handshakeTimeout: extras.handshakeTimeoutMs ?? 60_000 });
  // The peer address, remembered for refusals logged after the socket is gone.
  const peers = new WeakMap<net.Socket, string>();
  srv.on('connection', (s: net.Socket) => {
    s.setNoDelay(true);
    peers.set(s, describePeer(s));
  });
  const peerOf = (s: tls.TLSSocket): string => {
    const parent = (s as unknown as { _parent?: net.Socket })._parent; // the TCP socket under a server-side TLSSocket
    return (s.remoteAddress ? describePeer(s) : undefined) ?? (parent && peers.get(parent)) ?? describePeer(s);
  };
  // A listener opened to TLS 1.0 for some legacy nodes keeps older sessions for those nodes only.
  const floor = VERSION_RANK[global?.minVersion ?? 'TLSv1.2']!;
  const legacyOnlyFor = !ae.legacyTls10 && extras.legacyTls10 && extras.legacyPins ? extras.legacyPins : undefined;
  srv.on('secureConnection', (s: tls.TLSSocket) => {
    let why = checkPeer(s, policy);
    const version = s.getProtocol() ?? '';
    if (!why && legacyOnlyFor && (VERSION_RANK[version] ?? 0) < floor && !peerIsPinned(s, legacyOnlyFor)) {
      why = `${version} is allowed only for nodes with legacyTls10 (SEC-005)`;
    }
    if (why) {
      securityEvent(log, new TlsHandshakeError(peerOf(s), why), { ae: extras.name });
      s.destroy();
      return;
    }
    log?.debug?.('TLS session established', { event: 'security', peer: describePeer(s), protocol: s.getProtocol(), cipher: s.getCipher().name, subject: s.getPeerCertificate().subject ? subjectOf(s.getPeerCertificate()) : undefined });
    onSecureSocket(s);
  });
  srv.on('tlsClientError', (e: Error, s: tls.TLSSocket) => {
    let why = tlsErrorText(e);
    if (/wrong version number|http request|packet length too long|unknown protocol/i.test(why)) why += ' (not a TLS client? this port takes TLS only, SEC-001)';
    securityEvent(log, new TlsHandshakeError(peerOf(s), why), { ae: extras.name });
    s.destroy();
  });
  return srv;
}

/**
 * Makes `server` listen for TLS connections (SEC-001: this port takes TLS only; the usual port is
 * 2762). Closed by `server.close()`. Resolves with the bound address.
 */
export function listenTls(server: AssociationServer, port: number, host: string, ae: TlsEndpoint, global?: TlsGlobal, extras: TlsServerExtras = {}): Promise<net.AddressInfo> {
  const srv = createTlsServer(ae, global, (s) => server.accept(s), extras);
  return server.listenOn(srv, port, host);
}

/**
 * A listener factory for `startNode` (src/node/node.ts `ListenerFactory`): a TLS server for a
 * local AE with `tls.enabled` (pins and legacy setting from the configured nodes, handshake
 * timeout = network.acseTimeout), else a plain TCP server.
 *
 *   await startNode(config, logger, { listenerFactory: tlsListenerFactory(logger) });
 */
export function tlsListenerFactory(log?: SecurityLog): (
  ae: { aeTitle: string; tls: TlsEndpoint },
  config: { tls?: TlsGlobal; nodes: readonly { tls: TlsEndpoint }[]; network?: { acseTimeout?: number } },
  onConnection: (socket: Duplex) => void,
) => net.Server {
  return (ae, config, onConnection) => {
    if (!ae.tls.enabled) return createTcpServer(onConnection);
    const acse = config.network?.acseTimeout;
    return createTlsServer(ae.tls, config.tls, onConnection, {
      ...inboundFromNodes(config.nodes),
      name: ae.aeTitle,
      log,
      handshakeTimeoutMs: acse && acse > 0 ? acse * 1000 : 60_000,
    });
  };
}

export interface TlsConnectorOptions {
  /** TCP connect plus handshake (REQUIREMENTS 3.3 connectTimeout); default 60 s, 0 = none. */
  timeoutMs?: number;
  log?: SecurityLog;
}

/**
 * A `connect` function for `Association.request` that opens a TLS connection to a remote node
 * (SEC-001..005). Our certificate/key/CA come from the node's tls section, else from the local
 * AE's (`local`). Files are read now (TlsConfigError naming the file); each call of the returned
 * function connects, handshakes and checks the server (pins, EKU serverAuth), rejecting with a
 * TlsHandshakeError ("TLS handshake with host:port failed: reason") logged as a security event.
 */
export function tlsConnector(node: TlsRemote, global?: TlsGlobal, local?: TlsEndpoint, opts: TlsConnectorOptions = {}): () => Promise<tls.TLSSocket> {
  const where = `node ${node.name ?? node.aeTitle ?? `${node.host}:${node.port}`} tls`;
  const t = node.tls;
  const certificate = t.certificate ?? local?.certificate;
  const privateKey = t.privateKey ?? local?.privateKey;
  if (!certificate !== !privateKey) throw new TlsConfigError(`${where}: certificate and privateKey go together`);
  const identity = certificate && privateKey ? readIdentity(certificate, privateKey, where) : undefined;
  const caFiles = t.ca && t.ca.length > 0 ? t.ca : local?.ca;
  const ca = readCas(caFiles, where);
  const policy = policyOf({ ...t, ca: caFiles }, [], 'client', where);
  const options: tls.ConnectionOptions = {
    ...versionOptions(global, !!t.legacyTls10, where),
    rejectUnauthorized: policy.trust === 'ca',
  };
  if (identity) Object.assign(options, identity);
  if (ca) options.ca = ca;
  if (!net.isIP(node.host)) options.servername = node.host;
  if (policy.pins.length > 0) options.checkServerIdentity = () => undefined;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const peer = `${node.host}:${node.port}`;

  return async () => {
    const started = Date.now();
    const raw = await tcpConnect(node.host, node.port, timeoutMs);
    tuneSocket(raw);
    // host: what the server identity is checked against (Node would default to 'localhost').
    const socket = nodeTls().connect({ ...options, host: node.host, socket: raw });
    try {
      await new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const done = (e?: Error): void => {
          if (timer) clearTimeout(timer);
          socket.off('secureConnect', ok);
          socket.off('error', done);
          socket.off('close', closed);
          if (e) reject(e);
          else resolve();
        };
        const ok = (): void => done();
        const closed = (): void => done(new Error('connection closed during the handshake'));
        socket.once('secureConnect', ok);
        socket.once('error', done);
        socket.once('close', closed);
        const left = timeoutMs > 0 ? Math.max(1, timeoutMs - (Date.now() - started)) : 0;
        if (left > 0) timer = setTimeout(() => done(new Error(`no TLS handshake within ${timeoutMs} ms`)), left);
      });
      const why = checkPeer(socket, policy);
      if (why) throw new Error(why);
    } catch (e) {
      socket.on('error', () => {}); // a late alert or reset must not go unhandled
      socket.destroy();
      raw.destroy();
      const err = new TlsHandshakeError(peer, tlsErrorText(e));
      securityEvent(opts.log, err, { node: node.name });
      throw err;
    }
    opts.log?.debug?.('TLS session established', { event: 'security', peer, protocol: socket.getProtocol(), cipher: socket.getCipher().name, subject: subjectOf(socket.getPeerCertificate()) });
    return socket;
  };
}

/** The TLS socket under an association's transport, if it is one (for logs and negotiate hooks). */
export function tlsSocketOf(s: Duplex | undefined): tls.TLSSocket | undefined {
  return s instanceof nodeTls().TLSSocket ? s : undefined;
}
