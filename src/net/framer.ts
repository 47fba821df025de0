/**
 * PduReader: cuts the transport byte stream into PDUs (PS3.8 9.3.1) with bounded memory.
 *
 * - PDUs other than P-DATA-TF are collected whole, up to `maxOtherPduLength` (they are small:
 *   an A-ASSOCIATE-RQ with 128 presentation contexts is some tens of kilobytes).
 * - P-DATA-TF PDUs are never collected: their PDV items are parsed on the fly and each PDV's
 *   data is handed on as views (subarray) of the chunks the socket delivered, so a data set of
 *   any size passes through without being accumulated.
 * - A chunk given to push() is only valid during the call (the transport reuses its read
 *   buffer, transport.ts): PDU bodies are copied, and a PDV's data views are valid only during
 *   pdvData(); the sink copies what it keeps.
 * - A P-DATA-TF longer than the Maximum Length we advertised (PS3.8 D.1) is refused before its
 *   body is read (REQUIREMENTS ASSOC-012).
 */
import { PduDecodeError } from './errors.js';
import { copyBytes } from '../dicom/bytes.js';
import { PDU_HEADER_LENGTH, PDU_NAMES, PduType } from './pdu.js';

/** Why the reader stopped: the association maps each kind to a state machine event. */
export type FramingFault =
  | { kind: 'unrecognized'; pduType: number; error: PduDecodeError }
  | { kind: 'invalid'; pduType: number; error: PduDecodeError }
  | { kind: 'too-long'; pduType: number; length: number; limit: number; error: PduDecodeError };

export interface PduReaderSink {
  /** A complete PDU other than P-DATA-TF; `body` excludes the 6-byte header. */
  pdu(type: number, body: Buffer): void;
  /** A P-DATA-TF header arrived. Return false to skip its body (the state machine ignores it). */
  pDataStart(length: number): boolean;
  /** A PDV item header (PS3.8 9.3.5.1): `dataLength` excludes the message control header. */
  pdvStart(presentationContextId: number, messageControlHeader: number, dataLength: number): void;
  /** A piece of the current PDV's data: a view of the socket's buffer, valid only during the call. */
  pdvData(chunk: Buffer): void;
  pdvEnd(): void;
  pDataEnd(): void;
  /** The stream cannot be framed any more; the reader ignores all further input. */
  fault(f: FramingFault): void;
}

export interface PduReaderLimits {
  /** The Maximum Length we advertised (51H); 0 = no limit (PS3.8 D.1). */
  maxPDataLength: number;
  /** Upper bound for every other PDU type. */
  maxOtherPduLength: number;
}

const enum S {
  Header,
  Body,
  PdvHeader,
  PdvData,
  Skip,
  Dead,
}

export class PduReader {
  private state = S.Header;
  private readonly hdr = Buffer.allocUnsafe(PDU_HEADER_LENGTH);
  private hdrHave = 0;
  private pduType = 0;
  private pduLength = 0;
  /** Bytes of the current PDU body still to come. */
  private pduLeft = 0;
  private bodyParts: Buffer[] = [];
  private readonly pdvHdr = Buffer.allocUnsafe(6);
  private pdvHave = 0;
  private pdvLeft = 0;
  /** Absolute stream offset of the current PDU's first byte, for error messages. */
  private pduStart = 0;
  private consumed = 0;

  constructor(
    private readonly sink: PduReaderSink,
    public limits: PduReaderLimits,
  ) {}

  /** True while part of a PDU has been received but not all of it. */
  get midPdu(): boolean {
    return this.state !== S.Header || this.hdrHave > 0;
  }

  /** Stops the reader: further input is ignored. */
  stop(): void {
    this.state = S.Dead;
    this.bodyParts = [];
  }

  push(chunk: Buffer): void {
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      switch (this.state) {
        case S.Dead:
          return;
        case S.Header: {
          if (this.hdrHave === 0) this.pduStart = this.consumed + off;
          const k = Math.min(PDU_HEADER_LENGTH - this.hdrHave, n - off);
          chunk.copy(this.hdr, this.hdrHave, off, off + k);
          this.hdrHave += k;
          off += k;
          if (this.hdrHave === PDU_HEADER_LENGTH) {
            this.hdrHave = 0;
            this.onHeader();
          }
          break;
        }
        case S.Body: {
          const k = Math.min(this.pduLeft, n - off);
          // A copy: the chunk is only valid during push() (transport.ts).
          this.bodyParts.push(copyBytes(chunk, off, off + k));
          off += k;
          this.pduLeft -= k;
          if (this.pduLeft === 0) this.onBody();
          break;
        }
        case S.PdvHeader: {
          const k = Math.min(6 - this.pdvHave, n - off);
          chunk.copy(this.pdvHdr, this.pdvHave, off, off + k);
          this.pdvHave += k;
          off += k;
          this.pduLeft -= k;
          if (this.pdvHave === 6) {
            this.pdvHave = 0;
            this.onPdvHeader();
          }
          break;
        }
        case S.PdvData: {
          const k = Math.min(this.pdvLeft, n - off);
          const piece = chunk.subarray(off, off + k);
          off += k;
          this.pdvLeft -= k;
          this.pduLeft -= k;
          this.sink.pdvData(piece);
          if (this.state === S.PdvData && this.pdvLeft === 0) this.afterPdv();
          break;
        }
        case S.Skip: {
          const k = Math.min(this.pduLeft, n - off);
          off += k;
          this.pduLeft -= k;
          if (this.pduLeft === 0) this.state = S.Header;
          break;
        }
      }
    }
    this.consumed += n;
  }

  private fail(f: FramingFault): void {
    this.stop();
    this.sink.fault(f);
  }

  private onHeader(): void {
    const type = this.hdr[0]!;
    const len = this.hdr.readUInt32BE(2);
    this.pduType = type;
    this.pduLength = len;
    this.pduLeft = len;
    const name = PDU_NAMES[type];
    if (!name) {
      this.fail({ kind: 'unrecognized', pduType: type, error: new PduDecodeError(`unrecognized PDU type 0x${type.toString(16).padStart(2, '0')} (stream byte ${this.pduStart})`, `PDU type ${type}`, 0, undefined, 1) });
      return;
    }
    if (type === PduType.PDataTf) {
      const limit = this.limits.maxPDataLength;
      if (limit > 0 && len > limit) {
        this.fail({ kind: 'too-long', pduType: type, length: len, limit, error: new PduDecodeError(`PDU-length ${len} exceeds the maximum length ${limit} we advertised (stream byte ${this.pduStart})`, name, 2) });
        return;
      }
      if (len < 6) {
        this.fail({ kind: 'invalid', pduType: type, error: new PduDecodeError(`PDU-length ${len} cannot hold a PDV item (stream byte ${this.pduStart})`, name, 2) });
        return;
      }
      if (this.sink.pDataStart(len)) {
        if (this.state === S.Dead) return;
        this.state = S.PdvHeader;
      } else if (this.state !== S.Dead) {
        this.state = S.Skip;
      }
      return;
    }
    if (len > this.limits.maxOtherPduLength) {
      this.fail({ kind: 'too-long', pduType: type, length: len, limit: this.limits.maxOtherPduLength, error: new PduDecodeError(`PDU-length ${len} exceeds the limit of ${this.limits.maxOtherPduLength} (stream byte ${this.pduStart})`, name, 2) });
      return;
    }
    if (len === 0) {
      this.state = S.Header;
      this.emitBody(Buffer.alloc(0));
      return;
    }
    this.state = S.Body;
  }

  private onBody(): void {
    const parts = this.bodyParts;
    this.bodyParts = [];
    this.state = S.Header;
    this.emitBody(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }

  private emitBody(body: Buffer): void {
    this.sink.pdu(this.pduType, body);
  }

  private onPdvHeader(): void {
    const itemLength = this.pdvHdr.readUInt32BE(0);
    const at = this.pduLength - this.pduLeft - 6 + PDU_HEADER_LENGTH;
    if (itemLength < 2 || itemLength - 2 > this.pduLeft) {
      this.fail({
        kind: 'invalid',
        pduType: PduType.PDataTf,
        error: new PduDecodeError(`PDV item-length ${itemLength} ${itemLength < 2 ? 'is less than 2' : `exceeds the ${this.pduLeft + 2} bytes left in the PDU`} (stream byte ${this.pduStart + at})`, 'P-DATA-TF', at, 'PDV'),
      });
      return;
    }
    this.pdvLeft = itemLength - 2;
    this.sink.pdvStart(this.pdvHdr[4]!, this.pdvHdr[5]!, this.pdvLeft);
    if (this.state === S.Dead) return;
    if (this.pdvLeft === 0) this.afterPdv();
    else this.state = S.PdvData;
  }

  private afterPdv(): void {
    this.sink.pdvEnd();
    if (this.state === S.Dead) return;
    if (this.pduLeft === 0) {
      this.state = S.Header;
      this.sink.pDataEnd();
    } else if (this.pduLeft < 6) {
      this.fail({ kind: 'invalid', pduType: PduType.PDataTf, error: new PduDecodeError(`${this.pduLeft} byte(s) left after a PDV item, too few for another (stream byte ${this.pduStart})`, 'P-DATA-TF', this.pduLength - this.pduLeft + PDU_HEADER_LENGTH, 'PDV') });
    } else {
      this.state = S.PdvHeader;
    }
  }
}
