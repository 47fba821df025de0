/**
 * Association-level access control (REQUIREMENTS 3.7 ASSOC-060..063, 16.2 SEC-010/011) and the
 * acceptor's negotiation built from the configuration: which local AE was called, which of
 * its services the peer may use, and the A-ASSOCIATE-AC or -RJ that follows.
 *
 * Checks run per service group (acl.verification, acl.storage, acl.queryRetrieve), in the order of ASSOC-060:
 * called AE title (1/1/7), known calling AE title (1/1/3), caller's IP address (1/1/1). The
 * inbound association limit (2/3/2) is checked before, by AssociationServer; the application
 * context (1/1/2) first of all; "no acceptable presentation context" (1/2/1) last.
 *
 * An association that proposes several services is judged on the services it needs:
 * Verification contexts proposed beside storage ones (storescu and most SCUs add one) do not
 * decide. When every deciding service fails its checks the association is rejected with the
 * first failure's reason; when some pass, the association is accepted and the contexts of the
 * services that failed are answered "user-rejection" (PS3.8 9.3.3.2, result 1).
 */
import { promises as dns } from 'node:dns';
import net from 'node:net';
import { isStorageSopClass } from '../dicom/dictionary/index.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/implementation.js';
import {
  DEFAULT_ACCEPTED_TRANSFER_SYNTAXES,
  DICOM_APPLICATION_CONTEXT,
  PcResult,
  VERIFICATION_SOP_CLASS,
  negotiateAssociation,
  type AAssociateRq,
  type NegotiationResult,
} from '../net/index.js';
import { transferSyntax } from '../dicom/dictionary/index.js';
import type { LocalAEConfig, NodeConfig, ServiceAclConfig, ServiceName, TracerConfig } from './config.js';
import { PATIENT_ROOT_FIND, STUDY_ROOT_FIND } from '../services/query-scp.js';
import { RETRIEVE_SOP_CLASSES } from '../services/retrieve-scp.js';

/** The service group a proposed abstract syntax belongs to, or undefined when we offer no such service. */
export function serviceOf(abstractSyntax: string): ServiceName | undefined {
  if (abstractSyntax === VERIFICATION_SOP_CLASS) return 'verification';
  if (isStorageSopClass(abstractSyntax)) return 'storage';
  if (QUERY_RETRIEVE_SOP_CLASSES.has(abstractSyntax)) return 'queryRetrieve';
  return undefined;
}

/**
 * The Query/Retrieve SOP classes the node serves (REQUIREMENTS 8.1): the FIND models of
 * services/query-scp.ts, and the MOVE and GET models of services/retrieve-scp.ts.
 */
const QR_TRANSFER_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);

export const QUERY_RETRIEVE_SOP_CLASSES = new Set<string>([PATIENT_ROOT_FIND, STUDY_ROOT_FIND, ...RETRIEVE_SOP_CLASSES]);

/**
 * The answer to a C-FIND SOP Class Extended Negotiation item (PS3.4 C.5.1.1.1): byte 1
 * relational queries (per findScp.relational), byte 2 combined date and time range matching
 * (always done, QR-013), byte 3 fuzzy semantic matching of person names (not offered).
 */
export function findExtendedNegotiation(config: TracerConfig, sopClassUid: string, info: Buffer): Buffer | undefined {
  if (sopClassUid !== PATIENT_ROOT_FIND && sopClassUid !== STUDY_ROOT_FIND) return undefined;
  if (info.length === 0) return undefined;
  const out = Buffer.alloc(Math.min(info.length, 3));
  out[0] = info[0] === 1 && config.findScp.relational !== 'hierarchical' ? 1 : 0;
  if (out.length > 1) out[1] = info[1] === 1 ? 1 : 0;
  return out;
}

/** Drops the IPv4-mapped IPv6 prefix (::ffff:10.0.0.1 -> 10.0.0.1) that dual-stack sockets report. */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** An allow list of addresses and CIDR ranges ("10.1.0.0/16", "2001:db8::/32", "192.168.1.7"). */
export function buildAllowList(entries: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const raw of entries) {
    const e = raw.trim();
    const [addr, bits] = e.split('/') as [string, string | undefined];
    const family = net.isIP(addr);
    if (family === 0) throw new Error(`acl.ipAllowList: '${raw}' is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(addr, type);
    else {
      const n = Number(bits);
      if (!Number.isInteger(n) || n < 0 || n > (family === 4 ? 32 : 128)) throw new Error(`acl.ipAllowList: '${raw}' has an invalid prefix length`);
      list.addSubnet(addr, n, type);
    }
  }
  return list;
}

export function addressAllowed(list: net.BlockList, address: string | undefined): boolean {
  if (!address) return false;
  const a = normalizeAddress(address);
  const family = net.isIP(a);
  if (family === 0) return false;
  return list.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The addresses the registered nodes' host names resolve to ('knownNodes' allow list, SYS-011:
 * through the operating system resolver), refreshed after `ttlMs`.
 */
export class KnownNodeAddresses {
  private list: net.BlockList | undefined;
  private at = 0;
  private loading: Promise<net.BlockList> | undefined;

  constructor(
    private readonly nodes: readonly NodeConfig[],
    private readonly ttlMs = 60_000,
    private readonly lookup: (host: string) => Promise<string[]> = async (h) => (await dns.lookup(h, { all: true })).map((r) => r.address),
  ) {}

  async get(): Promise<net.BlockList> {
    if (this.list && Date.now() - this.at < this.ttlMs) return this.list;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<net.BlockList> {
    const addrs = new Set<string>();
    await Promise.all(
      this.nodes.map(async (n) => {
        try {
          for (const a of await this.lookup(n.host)) addrs.add(normalizeAddress(a));
        } catch {
          // An unresolvable node admits nobody; the others still count.
        }
      }),
    );
    const list = buildAllowList([...addrs]);
    this.list = list;
    this.at = Date.now();
    return list;
  }
}

/** Accepted transfer syntaxes as UIDs: network.acceptedTransferSyntaxes (names allowed), or the 3.8 default. */
export function acceptedTransferSyntaxes(config: TracerConfig): string[] {
  const list = config.network.acceptedTransferSyntaxes;
  if (!list || list.length === 0) return [...DEFAULT_ACCEPTED_TRANSFER_SYNTAXES];
  return list.map((ts) => transferSyntax(ts)?.uid ?? ts);
}

type Rejection = { result: number; source: number; reason: number; why: string };
const CHECK_ORDER = [7, 3, 1];

export interface AcceptorContext {
  /** Local AEs served on the port the request came in on (several may share it, SYS-002). */
  aes: readonly LocalAEConfig[];
  remoteAddress: string | undefined;
}

/**
 * Builds the negotiate function of the acceptor from the configuration (REQUIREMENTS 3.7, 3.8,
 * 16.2): `(rq, ctx) => A-ASSOCIATE-AC or -RJ`.
 */
export function createNegotiator(config: TracerConfig, knownAddresses = new KnownNodeAddresses(config.nodes)) {
  const accepted = acceptedTransferSyntaxes(config);
  const knownCalling = new Set(config.nodes.map((n) => n.aeTitle));
  const staticLists = new Map<ServiceName, net.BlockList>();
  for (const s of ['verification', 'storage', 'queryRetrieve'] as const) {
    const l = config.acl[s].ipAllowList;
    if (Array.isArray(l)) staticLists.set(s, buildAllowList(l));
  }

  async function check(service: ServiceName, acl: ServiceAclConfig, calledKnown: boolean, rq: AAssociateRq, address: string | undefined): Promise<Rejection | undefined> {
    if (!calledKnown && acl.checkCalledAeTitle) return { result: 1, source: 1, reason: 7, why: `called AE title "${rq.calledAETitle}" is not a local AE title` };
    if (acl.requireKnownCallingAe && !knownCalling.has(rq.callingAETitle)) return { result: 1, source: 1, reason: 3, why: `calling AE title "${rq.callingAETitle}" is not a configured node (acl.${service}.requireKnownCallingAe)` };
    if (acl.ipAllowList !== 'off') {
      const list = acl.ipAllowList === 'knownNodes' ? await knownAddresses.get() : staticLists.get(service)!;
      if (!addressAllowed(list, address)) return { result: 1, source: 1, reason: 1, why: `address ${address ?? '?'} is not in the allow list (acl.${service}.ipAllowList)` };
    }
    return undefined;
  }

  return async (rq: AAssociateRq, ctx: AcceptorContext): Promise<NegotiationResult & { ae?: LocalAEConfig }> => {
    const rj = (r: Rejection): NegotiationResult => ({ rj: { type: 'A-ASSOCIATE-RJ', result: r.result, source: r.source, reason: r.reason }, why: r.why });
    if (rq.applicationContextName !== DICOM_APPLICATION_CONTEXT) {
      return rj({ result: 1, source: 1, reason: 2, why: `application context ${rq.applicationContextName} is not the DICOM application context` });
    }
    const calledAe = ctx.aes.find((a) => a.aeTitle === rq.calledAETitle);
    // With the called-AE check off, an unknown title reaches the first AE on the port.
    const ae = calledAe ?? ctx.aes[0]!;
    const proposed = new Set<ServiceName>();
    for (const pc of rq.presentationContexts) {
      const s = serviceOf(pc.abstractSyntax);
      if (s && ae.services.includes(s)) proposed.add(s);
    }
    const failures = new Map<ServiceName, Rejection>();
    for (const s of proposed) {
      const f = await check(s, config.acl[s], calledAe !== undefined, rq, ctx.remoteAddress);
      if (f) failures.set(s, f);
    }
    const deciding = [...proposed].filter((s) => s !== 'verification' || proposed.size === 1);
    if (deciding.length > 0 && deciding.every((s) => failures.has(s))) {
      const first = deciding.map((s) => failures.get(s)!).sort((a, b) => CHECK_ORDER.indexOf(a.reason) - CHECK_ORDER.indexOf(b.reason))[0]!;
      return rj(first);
    }
    if (proposed.size === 0 && !calledAe && ae.services.some((s) => config.acl[s].checkCalledAeTitle)) {
      return rj({ result: 1, source: 1, reason: 7, why: `called AE title "${rq.calledAETitle}" is not a local AE title` });
    }
    const allowed = new Set([...proposed].filter((s) => !failures.has(s)));
    const res = negotiateAssociation(rq, {
      abstractSyntaxes: (as) => {
        const s = serviceOf(as);
        if (!s || !allowed.has(s)) return undefined;
        // QR-001: identifiers in ILE, ELE or EBE only.
        return s === 'queryRetrieve' ? accepted.filter((ts) => QR_TRANSFER_SYNTAXES.has(ts)) : accepted;
      },
      transferSyntaxPolicy: config.network.tsSelection,
      maxPduReceive: config.network.maxPduReceive,
      implementationClassUid: ae.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
      implementationVersionName: ae.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
      asyncOperations: config.network.asyncOps.enabled ? { maxInvoked: config.network.asyncOps.maxInvoked, maxPerformed: config.network.asyncOps.maxPerformed } : undefined,
      // C-GET (REQUIREMENTS 0.4): a requestor allowed to retrieve may take the SCP role of the
      // storage SOP classes, to receive the C-STORE sub-operations on this association.
      acceptRoleSelection: (sop, proposed) => allowed.has('queryRetrieve') && isStorageSopClass(sop) && proposed.scpRole,
      extendedNegotiation: (item) => (allowed.has('queryRetrieve') ? findExtendedNegotiation(config, item.sopClassUid, item.serviceClassApplicationInformation) : undefined),
    });
    if (res.ac && failures.size > 0) {
      const byId = new Map(rq.presentationContexts.map((p) => [p.id, p.abstractSyntax]));
      for (const pc of res.ac.presentationContexts) {
        const s = serviceOf(byId.get(pc.id) ?? '');
        if (s && failures.has(s)) pc.result = PcResult.UserRejection;
      }
    }
    return { ...res, ae } as NegotiationResult & { ae?: LocalAEConfig };
  };
}
