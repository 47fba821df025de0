/**
 * Verification SCU (PS3.4 A, REQUIREMENTS 4): one presentation context, Verification with
 * ELE first, then ILE and EBE (VER-002: GCA-9300R proposes ELE "always first"; eNTEGRA needs
 * ILE). One attempt, no automatic retry; the association is released as soon as the last
 * response arrives. The result says success, or why not: rejection result/source/reason,
 * timeout, abort or status code (VER-004).
 */
import { Association, VERIFICATION_SOP_CLASS, formatStatus } from '../net/index.js';
import { TS } from '../dicom/dictionary/index.js';
import { classifyFailure, requestorBase, type Destination, type FailureKind, type ScuOptions } from './scu-connection.js';
import { silentLogger } from '../node/log.js';

export interface EchoOptions extends ScuOptions {
  /** C-ECHO requests on the one association (echoscu --repeat). Default 1. */
  repeat?: number;
}

export interface EchoResult {
  ok: boolean;
  /** Status of each C-ECHO response received. */
  statuses: number[];
  /** Round trip of each C-ECHO, in ms. */
  roundTrips: number[];
  /** Time from connecting to released, in ms. */
  totalMs: number;
  /** The peer's implementation identity from the A-ASSOCIATE-AC (ASSOC-002). */
  peerImplementation?: { classUid?: string; versionName?: string };
  transferSyntax?: string;
  /** What went wrong, when ok is false. */
  error?: string;
  failure?: FailureKind;
}

/** Verifies a peer with C-ECHO (VER-002/003/004). Never throws for network failures: see `ok`/`error`. */
export async function echo(dest: Destination, opts: EchoOptions = {}): Promise<EchoResult> {
  const log = (opts.logger ?? silentLogger).child({ peer: `${dest.aeTitle}@${dest.host}:${dest.port}` });
  const start = performance.now();
  const result: EchoResult = { ok: false, statuses: [], roundTrips: [], totalMs: 0 };
  let a: Association | undefined;
  try {
    a = await Association.request({
      ...requestorBase(dest, opts),
      presentationContexts: [{ abstractSyntax: VERIFICATION_SOP_CLASS, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian] }],
    });
    result.peerImplementation = { classUid: a.negotiated?.peerImplementationClassUid, versionName: a.negotiated?.peerImplementationVersionName };
    result.transferSyntax = [...(a.negotiated?.contexts.values() ?? [])][0]?.transferSyntax;
    log.debug('association accepted', { ts: result.transferSyntax, implementation: result.peerImplementation.versionName });
    for (let i = 0; i < Math.max(1, opts.repeat ?? 1); i++) {
      const t0 = performance.now();
      const status = await a.echo();
      result.roundTrips.push(performance.now() - t0);
      result.statuses.push(status);
      if (status !== 0) result.error ??= `C-ECHO answered with status ${formatStatus(status)}`;
    }
    await a.release();
    result.ok = result.statuses.every((s) => s === 0);
  } catch (err) {
    result.failure = classifyFailure(err);
    result.error = result.failure.text;
    if (a) await a.abort();
    log.warn('verification failed', { error: result.error });
  }
  result.totalMs = performance.now() - start;
  return result;
}
