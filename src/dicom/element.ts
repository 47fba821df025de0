/**
 * One data element (PS3.5 7.1): tag, VR and a value that stays in its source bytes until read.
 */
import type { ByteSource } from './source.js';
import type { Tag } from './tag.js';
import { UndefinedLength } from './tag.js';
import type { VR } from './vr.js';
import type { Dataset } from './dataset.js';

/** One item of encapsulated pixel data (PS3.5 A.4); the first is the Basic Offset Table. */
export interface Fragment {
  /** Byte offset of the fragment's value in the source, or -1 when held in memory. */
  readonly offset: number;
  readonly length: number;
  /** The bytes, when in memory (created, or small enough to have been read). */
  data?: Buffer;
}

export class Element {
  /** Items of a sequence (SQ). */
  items?: Dataset[];
  /** Items of encapsulated pixel data: [Basic Offset Table, fragment, ...] (PS3.5 A.4). */
  fragments?: Fragment[];
  /**
   * The element was encoded with VR UN and re-interpreted through the dictionary
   * (PS3.5 6.2.2): writing it back unchanged restores the original encoding.
   */
  encodedAsUN?: { readonly offset: number; readonly length: number };

  constructor(
    readonly tag: Tag,
    public vr: VR,
    /** Value length as encoded; UndefinedLength for undefined-length SQ and encapsulated data. */
    public length: number,
    /** Byte offset of the value in its source (-1 when created in memory). */
    readonly offset: number,
    private bytesValue: Buffer | undefined,
    private readonly source: ByteSource | undefined,
    /**
     * When >= 0, `bytesValue` is a larger buffer (the parser's view of its source) and the
     * value is at this offset in it: the parser makes no view per element, and bytes() makes
     * one when asked.
     */
    private windowOffset = -1,
  ) {}

  /** A value created in memory. */
  static of(tag: Tag, vr: VR, bytes: Buffer): Element {
    return new Element(tag, vr, bytes.length, -1, bytes, undefined);
  }

  /** True when the value has not been read from its source yet (bulk data). */
  get isLazy(): boolean {
    return this.bytesValue === undefined && this.source !== undefined && this.items === undefined
      && this.fragments === undefined;
  }

  get undefinedLength(): boolean {
    return this.length === UndefinedLength;
  }

  /**
   * The raw value bytes in the dataset's byte order (read from the source on first use for
   * bulk values; the result is not cached, so a 2 GB value is not kept alive by the element).
   * Empty for sequences and encapsulated data.
   */
  bytes(): Buffer {
    if (this.windowOffset >= 0) {
      this.bytesValue = this.bytesValue!.subarray(this.windowOffset, this.windowOffset + this.length);
      this.windowOffset = -1;
    }
    if (this.bytesValue !== undefined) return this.bytesValue;
    if (this.source && this.items === undefined && this.fragments === undefined) {
      return this.source.read(this.offset, this.length);
    }
    return Buffer.alloc(0);
  }

  /** Reads fragment bytes from the source when they were left there. */
  fragmentBytes(f: Fragment): Buffer {
    if (f.data) return f.data;
    if (!this.source) return Buffer.alloc(0);
    return this.source.read(f.offset, f.length);
  }

  /**
   * For hot paths that read many small values (DICOM JSON): the buffer the parser left the
   * value in, its `length` bytes starting at `valueStart`, so that no view need be made.
   * Undefined (and valueStart -1) for any other value: use bytes().
   */
  get valueBuffer(): Buffer | undefined {
    return this.windowOffset >= 0 ? this.bytesValue : undefined;
  }

  get valueStart(): number {
    return this.windowOffset;
  }

  /** Bytes [start, start+length) of a lazy value, without reading the rest. */
  slice(start: number, length: number): Buffer {
    if (this.windowOffset >= 0) {
      const o = this.windowOffset;
      return this.bytesValue!.subarray(o + Math.min(start, this.length), o + Math.min(start + length, this.length));
    }
    if (this.bytesValue !== undefined) return this.bytesValue.subarray(start, start + length);
    if (!this.source) return Buffer.alloc(0);
    return this.source.read(this.offset + start, length);
  }

  /** The source the value lives in, when it was parsed from one. */
  get origin(): ByteSource | undefined {
    return this.source;
  }
}
