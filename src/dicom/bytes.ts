/**
 * Copying bytes. Node 20's Buffer.from(buffer) and TypedArray.prototype.set copy byte by byte
 * (measured here: 88 us for 16 KiB, 170 us for 32 KiB, against 5 us and 4 us for a copy
 * through Buffer.prototype.copy, which is a memcpy), and the receive path copies every PDU that
 * spans two socket reads, and the first 16 KiB of every received file.
 */

/** A copy of bytes [start, end) of `bytes`, in memory of its own. */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Buffer {
  const out = Buffer.allocUnsafe(Math.max(0, end - start));
  Buffer.prototype.copy.call(bytes, out, 0, start, end);
  return out;
}
