/**
 * Tracer's implementation identity (PS3.7 D.3.3.2, PS3.10 7.1): sent in association requests
 * and written into File Meta Information. The class UID is a UUID-derived OID (PS3.5 B.2), so
 * it needs no registered root; it changes only when the implementation changes incompatibly.
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.178343541230582157496287014358123907433';
/** At most 16 characters of the default repertoire (PS3.7 D.3.3.2.3). */
export const IMPLEMENTATION_VERSION_NAME = 'TRACER_010';
