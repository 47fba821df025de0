/**
 * A PNG encoder (ISO/IEC 15948, RFC 2083) for rendered frames: 8-bit grayscale (colour type
 * 0) and truecolour (type 2), non-interlaced, one IDAT compressed with node:zlib. Each row is
 * filtered with the filter (None, Sub, Up, Average, Paeth) of smallest absolute sum, the
 * heuristic the PNG specification suggests (12.8). No dependency is needed for this much.
 */
import { deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of PNG chunks (ISO 3309, as in PNG Annex D). */
export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const b of parts) for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(head.subarray(4), data), 0);
  return Buffer.concat([head, data, crc]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export interface PngImage {
  width: number;
  height: number;
  /** 1 = grayscale, 3 = RGB. */
  channels: 1 | 3;
  /** width × height × channels bytes, rows top to bottom, pixel-interleaved. */
  data: Uint8Array;
}

/** Encodes 8-bit grayscale or RGB pixels as a PNG file. */
export function encodePng(img: PngImage): Buffer {
  const { width, height, channels, data } = img;
  if (!(width > 0 && height > 0)) throw new Error(`PNG needs a positive size, not ${width}×${height}`);
  if (channels !== 1 && channels !== 3) throw new Error(`PNG encoder takes 1 or 3 channels, not ${channels}`);
  const stride = width * channels;
  if (data.length < stride * height) throw new Error(`pixel data have ${data.length} bytes, ${stride * height} needed`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type
  ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0; // deflate, adaptive filtering, no interlace

  const raw = Buffer.alloc((stride + 1) * height);
  const cand = [0, 1, 2, 3, 4].map(() => new Uint8Array(stride));
  for (let y = 0; y < height; y++) {
    const row = data.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? data.subarray((y - 1) * stride, y * stride) : undefined;
    let best = 0, bestSum = Infinity;
    for (let f = 0; f < 5; f++) {
      const o = cand[f]!;
      let sum = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= channels ? row[i - channels]! : 0;
        const b = prev ? prev[i]! : 0;
        const c = prev && i >= channels ? prev[i - channels]! : 0;
        const x = row[i]!;
        const v = f === 0 ? x : f === 1 ? x - a : f === 2 ? x - b : f === 3 ? x - ((a + b) >> 1) : x - paeth(a, b, c);
        const byte = v & 0xff;
        o[i] = byte;
        sum += byte < 128 ? byte : 256 - byte;
      }
      if (sum < bestSum) { bestSum = sum; best = f; }
    }
    const at = y * (stride + 1);
    raw[at] = best;
    raw.set(cand[best]!, at + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}
