/**
 * Tags as plain 32-bit numbers: (group << 16) | element. Numbers compare, sort
 * and key Maps without allocation, which matters on the parse hot path.
 */
export type Tag = number;

/** Builds a tag from its group and element numbers. */
export function tag(group: number, element: number): Tag {
  return ((group & 0xffff) * 0x10000) + (element & 0xffff);
}

export function groupOf(t: Tag): number {
  return Math.floor(t / 0x10000);
}

export function elementOf(t: Tag): number {
  return t % 0x10000;
}

/** `(gggg,eeee)` in upper-case hex, the notation of PS3.5 and dcmdump. */
export function formatTag(t: Tag): string {
  return `(${hex4(groupOf(t))},${hex4(elementOf(t))})`;
}

/** Two upper-case hex digits for every byte value (tagKey is on the JSON hot path). */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/**
 * Keys made so far, by tag. A key used as an object's property name must be flat and
 * internalized (hashed, looked up in V8's string table) first: a fresh string per use cost
 * more than the rest of building a header's JSON model. Bounded, since private tags are many.
 */
const TAG_KEYS = new Map<Tag, string>();

/** `GGGGEEEE`, the key notation of the DICOM JSON model (PS3.18 F.2.1.1). */
export function tagKey(t: Tag): string {
  let key = TAG_KEYS.get(t);
  if (key === undefined) {
    const g = Math.floor(t / 0x10000) & 0xffff;
    const e = t & 0xffff;
    key = HEX2[g >> 8]! + HEX2[g & 0xff]! + HEX2[e >> 8]! + HEX2[e & 0xff]!;
    if (TAG_KEYS.size >= 65_536) TAG_KEYS.clear();
    // As a property name once, so that the string kept is the internalized one.
    key = Object.keys({ [key]: 0 })[0]!;
    TAG_KEYS.set(t, key);
  }
  return key;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Parses `gggg,eeee`, `(gggg,eeee)`, `ggggeeee` (hex). Returns undefined when the
 * text is not a tag, so callers can fall back to keyword lookup.
 */
export function parseTag(text: string): Tag | undefined {
  const m = /^\(?([0-9a-fA-F]{4}),?([0-9a-fA-F]{4})\)?$/.exec(text.trim());
  if (!m) return undefined;
  return tag(parseInt(m[1]!, 16), parseInt(m[2]!, 16));
}

/** Private data elements live in odd groups other than 0001, 0003, 0005, 0007, FFFF (PS3.5 7.8). */
export function isPrivateTag(t: Tag): boolean {
  const g = groupOf(t);
  return (g & 1) === 1 && g > 0x0007 && g !== 0xffff;
}

/** A Private Creator element reserves block (gggg,00xx) for xx in 10-FF (PS3.5 7.8.1). */
export function isPrivateCreatorTag(t: Tag): boolean {
  const e = elementOf(t);
  return isPrivateTag(t) && e >= 0x0010 && e <= 0x00ff;
}

/** Group length elements (gggg,0000), PS3.5 7.2. */
export function isGroupLengthTag(t: Tag): boolean {
  return elementOf(t) === 0;
}

export const ItemTag: Tag = 0xfffee000;
export const ItemDelimitationTag: Tag = 0xfffee00d;
export const SequenceDelimitationTag: Tag = 0xfffee0dd;
export const PixelDataTag: Tag = 0x7fe00010;
export const FileMetaGroup = 0x0002;
/** Length value meaning "undefined length" (PS3.5 7.1.1). */
export const UndefinedLength = 0xffffffff;
