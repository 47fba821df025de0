/**
 * A small PNG decoder for the tests (PNG specification, ISO/IEC 15948): 8-bit grayscale,
 * grayscale+alpha, truecolour and truecolour+alpha, non-interlaced or Adam7, every filter
 * type. Written from the specification, independently of src/pixels/png.ts, so that it can
 * read both Tracer's and dcm2pnm's PNGs and check that each is well formed (CRCs included).
 */
import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  /** Samples per pixel: 1 (gray), 2 (gray+alpha), 3 (RGB), 4 (RGBA). */
  channels: number;
  data: Uint8Array;
  interlaced: boolean;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
] as const;

function unfilter(src: Buffer, pos: number, w: number, h: number, bpp: number, out: (x: number, y: number, px: Uint8Array, i: number) => void): number {
  const stride = w * bpp;
  let prev = new Uint8Array(stride);
  let cur = new Uint8Array(stride);
  for (let y = 0; y < h; y++) {
    const f = src[pos++]!;
    for (let i = 0; i < stride; i++) {
      const x = src[pos++]!;
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      let v: number;
      switch (f) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw new Error(`PNG: bad filter type ${f}`);
      }
      cur[i] = v & 0xff;
    }
    for (let xx = 0; xx < w; xx++) out(xx, y, cur, xx * bpp);
    [prev, cur] = [cur, prev];
  }
  return pos;
}

export function decodePng(buf: Buffer): DecodedPng {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let pos = 8;
  let width = 0, height = 0, depth = 0, type = 0, interlace = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const len = buf.readUInt32BE(pos);
    const name = buf.toString('latin1', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (crc(buf.subarray(pos + 4, pos + 8 + len)) !== buf.readUInt32BE(pos + 8 + len)) throw new Error(`PNG: bad CRC in ${name}`);
    pos += 12 + len;
    if (name === 'IHDR') {
      width = body.readUInt32BE(0); height = body.readUInt32BE(4);
      depth = body[8]!; type = body[9]!; interlace = body[12]!;
    } else if (name === 'IDAT') idat.push(body);
    else if (name === 'IEND') break;
  }
  if (depth !== 8) throw new Error(`PNG: bit depth ${depth} not supported by this test decoder`);
  const channels = ({ 0: 1, 4: 2, 2: 3, 6: 4 } as Record<number, number>)[type];
  if (!channels) throw new Error(`PNG: colour type ${type} not supported by this test decoder`);
  const raw = inflateSync(Buffer.concat(idat));
  const data = new Uint8Array(width * height * channels);
  if (interlace === 0) {
    unfilter(raw, 0, width, height, channels, (x, y, px, i) => data.set(px.subarray(i, i + channels), (y * width + x) * channels));
  } else {
    let p = 0;
    for (const [x0, y0, dx, dy] of ADAM7) {
      const w = Math.ceil((width - x0) / dx), h = Math.ceil((height - y0) / dy);
      if (w <= 0 || h <= 0) continue;
      p = unfilter(raw, p, w, h, channels, (x, y, px, i) => data.set(px.subarray(i, i + channels), ((y0 + y * dy) * width + x0 + x * dx) * channels));
    }
  }
  return { width, height, channels, data, interlaced: interlace === 1 };
}
