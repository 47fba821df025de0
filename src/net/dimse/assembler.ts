/**
 * Reassembles DIMSE messages from PDV fragments (PS3.8 Annex E, PS3.7 8.1): the command set is
 * collected (it is small, and bounded here), decoded, and the message is handed on at once; its
 * data set, if any, follows as a DatasetStream fed fragment by fragment. A fragment that breaks
 * the sequence (data before command, a changed presentation context, a command while a data set
 * is open) is a protocol error reported to the association, which aborts.
 */
import { DimseDecodeError } from '../errors.js';
import { NO_DATA_SET, decodeCommandSet } from './command-set.js';
import { DatasetStream } from './dataset-stream.js';
import { copyBytes } from '../../dicom/bytes.js';
import { messageFromCommandSet, type AnyMessage } from './messages.js';

export interface AssemblerSink {
  /** Transfer syntax of an accepted presentation context, undefined when not accepted. */
  transferSyntaxOf(pcId: number): string | undefined;
  /** A complete command set arrived; `dataset` follows when present. */
  message(msg: AnyMessage, pcId: number, dataset: DatasetStream | undefined): void;
  /** The dataset stream wants no more data for now / wants data again. */
  pause(): void;
  resume(): void;
  /** A fragment broke the rules; `reason` is the A-ABORT reason to send. */
  protocolError(message: string, reason: number): void;
}

/** Command sets are a few hundred bytes; anything above this is an attack or a bug. */
const MAX_COMMAND_LENGTH = 1 << 20;

export class MessageAssembler {
  private phase: 'idle' | 'command' | 'data' = 'idle';
  private pcId = 0;
  private cmdParts: Buffer[] = [];
  private cmdLength = 0;
  private fragmentIsCommand = false;
  private fragmentIsLast = false;
  private dataset: DatasetStream | undefined;
  private failed = false;

  constructor(private readonly sink: AssemblerSink) {}

  /** True while a message has begun but not ended (for the inter-PDU timeout). */
  get inMessage(): boolean {
    return this.phase !== 'idle';
  }

  private fail(message: string, reason = 6): void {
    this.failed = true;
    this.sink.protocolError(message, reason);
  }

  pdvStart(pcId: number, mch: number, length: number): void {
    if (this.failed) return;
    const isCommand = (mch & 0x01) !== 0;
    this.fragmentIsCommand = isCommand;
    this.fragmentIsLast = (mch & 0x02) !== 0;
    if (this.sink.transferSyntaxOf(pcId) === undefined) return this.fail(`PDV on presentation context ${pcId}, which was not accepted`);
    if (this.phase === 'idle') {
      if (!isCommand) return this.fail(`data set fragment on context ${pcId} without a preceding command`, 5);
      this.phase = 'command';
      this.pcId = pcId;
    } else if (pcId !== this.pcId) {
      return this.fail(`fragment on presentation context ${pcId} inside a message on context ${this.pcId}`);
    } else if (this.phase === 'command' && !isCommand) {
      return this.fail('data set fragment before the last command fragment', 5);
    } else if (this.phase === 'data' && isCommand) {
      return this.fail('command fragment while a data set is being received', 5);
    }
    if (isCommand && this.cmdLength + length > MAX_COMMAND_LENGTH) this.fail(`command set longer than ${MAX_COMMAND_LENGTH} bytes`);
  }

  pdvData(chunk: Buffer): void {
    if (this.failed) return;
    if (this.fragmentIsCommand) {
      // Copied: the chunk is only valid during this call (transport.ts).
      this.cmdParts.push(copyBytes(chunk));
      this.cmdLength += chunk.length;
    } else if (this.dataset && chunk.length > 0) {
      if (!this.dataset.destroyed && !this.dataset.pushChunk(chunk)) this.sink.pause();
    }
  }

  pdvEnd(): void {
    if (this.failed || !this.fragmentIsLast) return;
    if (this.fragmentIsCommand) {
      const buf = this.cmdParts.length === 1 ? this.cmdParts[0]! : Buffer.concat(this.cmdParts, this.cmdLength);
      this.cmdParts = [];
      this.cmdLength = 0;
      let msg: AnyMessage;
      let hasDataset: boolean;
      try {
        const cs = decodeCommandSet(buf);
        msg = messageFromCommandSet(cs);
        hasDataset = cs.CommandDataSetType !== undefined && cs.CommandDataSetType !== NO_DATA_SET;
        if (cs.CommandDataSetType === undefined) throw new DimseDecodeError(`${msg.type} without CommandDataSetType (0000,0800)`);
      } catch (e) {
        return this.fail(`undecodable command set: ${(e as Error).message}`);
      }
      if (hasDataset) {
        const ds = new DatasetStream(this.pcId, this.sink.transferSyntaxOf(this.pcId)!);
        ds.setDemandListener(() => this.sink.resume());
        this.dataset = ds;
        this.phase = 'data';
        this.sink.message(msg, this.pcId, ds);
      } else {
        this.phase = 'idle';
        this.sink.message(msg, this.pcId, undefined);
      }
    } else {
      const ds = this.dataset!;
      this.dataset = undefined;
      this.phase = 'idle';
      ds.finish();
    }
  }

  /** The association ended: an open data set stream fails with `err`. */
  abort(err: Error): void {
    this.failed = true;
    const ds = this.dataset;
    this.dataset = undefined;
    if (ds && !ds.destroyed && !ds.readableEnded) ds.destroy(err);
  }
}
