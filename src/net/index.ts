/**
 * The upper layer: PDUs, state machine, negotiation, associations and DIMSE messages. TLS (SEC) is
 * imported from './tls.js' where a TLS endpoint is configured, not from here.
 */
export * from './errors.js';
export * from './uids.js';
export * from './pdu.js';
export * from './framer.js';
export * from './fsm.js';
export * from './negotiation.js';
export * from './transport.js';
export * from './association.js';
export * from './server.js';
export * from './dimse/command-set.js';
export * from './dimse/messages.js';
export * from './dimse/status.js';
export * from './dimse/dataset-stream.js';
export * from './dimse/operation.js';
export * from './dimse/handlers.js';
export * from './dimse/sender.js';
export * from './options.js';
