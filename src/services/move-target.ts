/**
 * Where a C-MOVE goes (REQUIREMENTS 8.7 QR-052, moveScu.target). 'queriedNode' sends it to the
 * node that was queried (cmr42). 'retrieveAeTitle' (GCA-9300R) sends each match to the node
 * named by the Retrieve AE Title (0008,0054) its C-FIND response carries, when that is a
 * registered node, else to the queried node: the proposed default, so that a query answered by
 * an AE that does not hold the instances itself (an enterprise query, QR-070) retrieves from the
 * system that does.
 *
 * planMoves turns the matches of that C-FIND into C-MOVE requests. When every match stays with
 * the queried node the user's identifier goes there unchanged, as with 'queriedNode'.
 * Otherwise the matches are grouped by target node and by their unique keys above the level,
 * and each group becomes one identifier whose unique key at the level lists the group's UIDs
 * (PS3.4 C.4.2.2.1: list of UID matching; Patient ID is no UID, so one patient per request).
 */
import { levelsOf, UNIQUE_KEY } from '../archive/attributes.js';
import type { Dataset } from '../dicom/dataset.js';
import { lookupTag } from '../dicom/dictionary/index.js';
import { buildIdentifier, type QueryKey, type QueryLevel, type QueryModel } from './query-scu.js';

export type MoveScuTarget = 'retrieveAeTitle' | 'queriedNode';

export const RetrieveAETitle = 0x00080054;

/** The unique key of a level (PS3.4 C.6.1.1, C.6.2.1): Patient ID is LO, the others UIDs. */
function uniqueKey(l: QueryLevel, value?: string): QueryKey {
  return { tag: UNIQUE_KEY[l], vr: l === 'PATIENT' ? 'LO' : 'UI', value };
}

/** The levels from the top of the model down to `level` (PS3.4 C.6.1, C.6.2). */
function levelsDownTo(model: QueryModel, level: QueryLevel): QueryLevel[] {
  const all = levelsOf(model === 'patient' ? 'PATIENT_ROOT' : 'STUDY_ROOT');
  return all.slice(0, all.indexOf(level) + 1);
}

/**
 * The keys of the C-FIND that precedes a C-MOVE with moveScu.target 'retrieveAeTitle': the
 * move's own keys, the unique keys of every level down to the move's as return keys (to address
 * each match), and Retrieve AE Title.
 */
export function retrieveAeQueryKeys(model: QueryModel, level: QueryLevel, keys: readonly QueryKey[]): QueryKey[] {
  const given = new Set(keys.map((k) => k.tag));
  const extra = [...levelsDownTo(model, level).map((l) => uniqueKey(l)), { tag: RetrieveAETitle, vr: 'AE' as const }].filter((k) => !given.has(k.tag));
  return [...keys, ...extra];
}

/** One C-MOVE to send. */
export interface MoveRequest<N> {
  node: N;
  identifier: Dataset;
  /** How many C-FIND matches it covers (undefined without a C-FIND). */
  matches?: number;
  /** Whether the node was chosen by the matches' Retrieve AE Title rather than being the queried one. */
  viaRetrieveAeTitle: boolean;
  /** Why the matches could not be sent where their Retrieve AE Title points. */
  note?: string;
}

export interface MovePlanInput<N extends { aeTitle: string }> {
  model: QueryModel;
  level: QueryLevel;
  /** The user's C-MOVE identifier. */
  identifier: Dataset;
  /** The C-FIND matches (with the keys of retrieveAeQueryKeys). */
  matches: readonly Dataset[];
  queried: N;
  /** The registered nodes (REQUIREMENTS 2.2). */
  known: readonly N[];
}

function text(ds: Dataset, tag: number): string[] {
  try {
    return ds.strings(tag).map((s) => s.trim()).filter(Boolean);
  } catch {
    return [];
  }
}

/** QR-052 with moveScu.target 'retrieveAeTitle': the C-MOVE requests for the matches, in the order first matched. */
export function planMoves<N extends { aeTitle: string }>(o: MovePlanInput<N>): MoveRequest<N>[] {
  const asQueried = (note?: string): MoveRequest<N>[] => [{ node: o.queried, identifier: o.identifier, matches: o.matches.length, viaRetrieveAeTitle: false, note }];
  const targetOf = (m: Dataset): N => {
    for (const ae of text(m, RetrieveAETitle)) {
      if (ae === o.queried.aeTitle) return o.queried;
      const node = o.known.find((n) => n.aeTitle === ae);
      if (node) return node;
    }
    return o.queried;
  };
  const targets = o.matches.map(targetOf);
  if (targets.every((t) => t === o.queried)) return asQueried();

  const levels = levelsDownTo(o.model, o.level);
  const above = levels.slice(0, -1);
  const groups = new Map<string, { node: N; parents: string[]; uids: string[] }>();
  for (let i = 0; i < o.matches.length; i++) {
    const m = o.matches[i]!;
    const parents = above.map((l) => text(m, UNIQUE_KEY[l])[0] ?? '');
    const own = text(m, UNIQUE_KEY[o.level])[0] ?? '';
    if (!own || parents.some((p) => !p)) return asQueried(`a match lacks its unique keys (${levels.map((l) => lookupTag(UNIQUE_KEY[l])?.keyword).join(', ')}): the C-MOVE goes to the queried node`);
    const node = targets[i]!;
    // Patient ID is no UID: no list of them in one identifier.
    const key = [o.known.indexOf(node), ...parents, o.level === 'PATIENT' ? own : ''].join('\u0000');
    const g = groups.get(key) ?? { node, parents, uids: [] };
    if (!g.uids.includes(own)) g.uids.push(own);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => ({
    node: g.node,
    identifier: buildIdentifier(o.level, [
      ...above.map((l, k) => uniqueKey(l, g.parents[k]!)),
      uniqueKey(o.level, g.uids.join('\\')),
    ]),
    matches: g.uids.length,
    viaRetrieveAeTitle: g.node !== o.queried,
  }));
}
