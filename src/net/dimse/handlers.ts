/**
 * Acceptor-side (and C-GET requestor-side) handling of incoming DIMSE requests: one handler per
 * service, whose return value is the response (pynetdicom's event handlers, typed). Multi-
 * response services return an async iterable; each yielded reply is sent, and a final Success
 * (or Cancel, after C-CANCEL) is added when the last one yielded was Pending.
 *
 *   handlers: {
 *     'C-ECHO': () => 0,
 *     'C-STORE': async (rq, ctx) => { await pipeline(ctx.dataset!, createWriteStream(path)); return 0; },
 *     'C-FIND': async function* (rq, ctx) { for (const m of matches) yield { Status: 0xff00, dataset: m }; },
 *   }
 */
import type { DatasetStream } from './dataset-stream.js';
import type { DatasetSource } from './sender.js';
import { CCancelRq, DimseRequest, responseClassFor, type DimseResponse, type DimseService, type Init, type RequestOf, type ResponseOf } from './messages.js';
import type { NegotiatedContext } from '../negotiation.js';

/** A handler's answer: a status, or response fields (standard keywords) with an optional data set. */
export type Reply<S extends DimseService = DimseService> = number | (Partial<Omit<Init<ResponseOf[S]>, 'Status'>> & { Status: number; dataset?: DatasetSource });

export interface RequestContext {
  /** The association the request came on (to send C-STORE sub-operations of a C-GET, say). */
  association: import('../association.js').Association;
  /** The request's data set, streamed; undefined when the request has none. */
  dataset: DatasetStream | undefined;
  presentationContext: NegotiatedContext;
  /**
   * Aborted on C-CANCEL-RQ for this request (C-FIND, C-GET, C-MOVE), or when the association
   * ends. The requests no C-CANCEL reaches share one signal per association: a listener added
   * to it must be removed when the request is done.
   */
  signal: AbortSignal;
}

export type Handler<S extends DimseService> = (
  request: RequestOf[S],
  ctx: RequestContext,
) => Reply<S> | Promise<Reply<S>> | AsyncIterable<Reply<S>>;

export type Handlers = { [S in DimseService]?: Handler<S> };

export function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** Builds the response message to `rq` from a reply, filling the fields PS3.7 copies from the request. */
export function buildResponse(rq: DimseRequest, reply: Reply): { rsp: DimseResponse; dataset?: DatasetSource } {
  const r = typeof reply === 'number' ? { Status: reply } : reply;
  const { dataset, ...fields } = r as { dataset?: DatasetSource } & Record<string, unknown>;
  const cls = responseClassFor(rq.commandField);
  if (!cls) throw new Error(`no response class for ${rq.type}`);
  const req = rq as unknown as Record<string, unknown>;
  const init: Record<string, unknown> = {
    MessageIDBeingRespondedTo: rq.MessageID,
    AffectedSOPClassUID: req.AffectedSOPClassUID ?? req.RequestedSOPClassUID,
  };
  if (req.AffectedSOPInstanceUID !== undefined || req.RequestedSOPInstanceUID !== undefined) {
    if (rq.service !== 'C-FIND' && rq.service !== 'C-GET' && rq.service !== 'C-MOVE') init.AffectedSOPInstanceUID = req.AffectedSOPInstanceUID ?? req.RequestedSOPInstanceUID;
  }
  if (req.EventTypeID !== undefined) init.EventTypeID = req.EventTypeID;
  if (req.ActionTypeID !== undefined) init.ActionTypeID = req.ActionTypeID;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) init[k] = v;
  if (typeof init.ErrorComment === 'string' && init.ErrorComment.length > 64) init.ErrorComment = init.ErrorComment.slice(0, 64); // LO
  return { rsp: new cls(init), dataset };
}

export { CCancelRq };
