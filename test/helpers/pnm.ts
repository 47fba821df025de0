/** Netpbm PGM/PPM (P5/P6) files as the JPEG 2000 command-line tools read and write them. */

export interface Pnm {
  width: number;
  height: number;
  channels: 1 | 3;
  maxval: number;
  /** Samples, pixel-interleaved. */
  samples: number[];
}

/** Parses binary PGM/PPM; comment lines in the header (OpenJPEG writes one) are skipped. */
export function readPnm(buf: Buffer): Pnm {
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4) {
    while (i < buf.length && /\s/.test(String.fromCharCode(buf[i]!))) i++;
    if (buf[i] === 0x23) { while (i < buf.length && buf[i] !== 0x0a) i++; continue; }
    let s = '';
    while (i < buf.length && !/\s/.test(String.fromCharCode(buf[i]!))) s += String.fromCharCode(buf[i++]!);
    fields.push(s);
  }
  i++; // the single whitespace after maxval
  const [magic, w, h, m] = fields;
  if (magic !== 'P5' && magic !== 'P6') throw new Error(`not a binary PGM/PPM: ${magic}`);
  const width = Number(w), height = Number(h), maxval = Number(m);
  const channels = magic === 'P5' ? 1 : 3;
  const n = width * height * channels;
  const samples = new Array<number>(n);
  for (let k = 0; k < n; k++) samples[k] = maxval > 255 ? buf.readUInt16BE(i + 2 * k) : buf[i + k]!;
  return { width, height, channels, maxval, samples };
}

/** Writes binary PGM/PPM (16-bit samples big endian when maxval > 255). */
export function writePnm(p: Pnm): Buffer {
  const head = Buffer.from(`${p.channels === 1 ? 'P5' : 'P6'}\n${p.width} ${p.height}\n${p.maxval}\n`, 'ascii');
  const wide = p.maxval > 255;
  const body = Buffer.alloc(p.samples.length * (wide ? 2 : 1));
  p.samples.forEach((v, k) => (wide ? body.writeUInt16BE(v, 2 * k) : (body[k] = v)));
  return Buffer.concat([head, body]);
}
