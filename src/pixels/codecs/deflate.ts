/**
 * Deflated Image Frame Compression (1.2.840.10008.1.2.8.1): each frame's native bytes
 * deflated (RFC 1951). node:zlib does the work. (Deflated Explicit VR Little Endian, which
 * deflates the whole data set, is handled by the reader and writer in src/dicom.)
 */
import { createRequire } from 'node:module';
import { samplesFromBytes } from '../frame.js';
import { interleavedBytes } from './samples.js';
import type { FrameDecoder, FrameEncoder } from './types.js';

let zlib: typeof import('node:zlib') | undefined;
function z(): typeof import('node:zlib') {
  zlib ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
  return zlib;
}

export const deflateDecoder: FrameDecoder = {
  library: 'node:zlib',
  decode(encoded, d) {
    // Raw deflate per the standard; a zlib-wrapped stream (78 xx) is accepted as well.
    const zl = encoded.length > 2 && encoded[0] === 0x78 && ((encoded[0]! << 8) | encoded[1]!) % 31 === 0;
    const out = zl ? z().inflateSync(encoded) : z().inflateRawSync(encoded);
    return { data: samplesFromBytes(out, d) };
  },
};

export const deflateEncoder: FrameEncoder = {
  library: 'node:zlib',
  lossy: false,
  unsupported: () => undefined,
  encode(frame) {
    return { data: z().deflateRawSync(interleavedBytes(frame), { level: 6 }), description: { planarConfiguration: 0 } };
  },
};
