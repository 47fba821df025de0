/**
 * Verification Service Class, SCP side (PS3.4 Annex A; REQUIREMENTS 4, VER-001): every C-ECHO-RQ
 * that could be parsed is answered with Success (0000H). Access control happens earlier, in the
 * acceptor's negotiation (REQUIREMENTS 3.7, 16.2), so the handler itself has nothing to decide.
 */
import { Status, VERIFICATION_SOP_CLASS, type Handler, type RequestContext } from '../net/index.js';

export { VERIFICATION_SOP_CLASS };

export interface VerificationScpOptions {
  /** Called for each C-ECHO (for logging); never changes the answer. */
  onEcho?: (ctx: RequestContext) => void;
}

/** The C-ECHO handler of the Verification SCP. */
export function verificationScp(opts: VerificationScpOptions = {}): Handler<'C-ECHO'> {
  return (_rq, ctx) => {
    opts.onEcho?.(ctx);
    return Status.Success;
  };
}
