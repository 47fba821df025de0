/**
 * Hand-made encodings for tests: element bytes written field by field from PS3.5 7.1, so
 * that reader tests do not depend on Tracer's own writer.
 */
export function explicitLE(group: number, element: number, vr: string, value: Buffer, longLength?: boolean): Buffer {
  const long = longLength ?? ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV'].includes(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0); h.writeUInt16LE(element, 2); h.write(vr, 4, 'latin1');
  if (long) h.writeUInt32LE(value.length, 8); else h.writeUInt16LE(value.length, 6);
  return Buffer.concat([h, value]);
}

export function implicitLE(group: number, element: number, value: Buffer, length = value.length): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0); h.writeUInt16LE(element, 2); h.writeUInt32LE(length >>> 0, 4);
  return Buffer.concat([h, value]);
}

/** Text padded to even length with a space (PS3.5 6.2). */
export function text(s: string, pad = ' '): Buffer {
  return Buffer.from(s.length % 2 ? s + pad : s, 'latin1');
}

/** A Part 10 file: preamble, DICM, meta (Explicit VR LE) for the given syntax, then the data set bytes. */
export function part10(tsUID: string, dataset: Buffer, sopClass = '1.2.840.10008.5.1.4.1.1.7', sopInstance = '1.2.3.4'): Buffer {
  const body = Buffer.concat([
    explicitLE(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    explicitLE(0x0002, 0x0002, 'UI', text(sopClass, '\0')),
    explicitLE(0x0002, 0x0003, 'UI', text(sopInstance, '\0')),
    explicitLE(0x0002, 0x0010, 'UI', text(tsUID, '\0')),
    explicitLE(0x0002, 0x0012, 'UI', text('1.2.3', '\0')),
  ]);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(body.length, 0);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), explicitLE(0x0002, 0x0000, 'UL', gl), body, dataset]);
}
