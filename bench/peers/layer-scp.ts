/**
 * A Storage SCP built from Tracer's layers, one more per mode, for bench/store --layers: where
 * the receive time goes, layer by layer, against storescp.
 *
 *   node dist/bench/peers/layer-scp.js MODE DIR PORT
 *
 *   net        association and DIMSE; the data set is taken as FileStore takes it, and dropped
 *   filestore  + FileStore: temporary file, header parsed, renamed into DIR/study/series/sop.dcm
 *   archive    + Archive: the ingest path with its SQLite index (what `tracer serve` runs)
 *
 * Never fsyncs (store.fsync false), to compare with storescp as shipped; nothing is logged.
 * Prints "listening" once ready; stops on SIGINT or SIGTERM.
 */
import { AssociationServer, Status, type Handler } from '../../src/net/index.js';
import { Archive } from '../../src/archive/ingest.js';
import { FileStore } from '../../src/archive/file-store.js';
import { storageScp, type StorageSink } from '../../src/services/storage-scp.js';
import { isStorageSopClass } from '../../src/dicom/dictionary/index.js';

const [mode, dir, port] = process.argv.slice(2);
if (!mode || !dir || !port || !['net', 'filestore', 'archive'].includes(mode)) {
  console.error('usage: layer-scp net|filestore|archive DIR PORT');
  process.exit(2);
}

/**
 * Takes the data set as FileStore does (each chunk handed over during the read, never copied)
 * and forgets it: the cost of the network layers alone.
 */
const dropAll: Handler<'C-STORE'> = async (_rq, ctx) => {
  await ctx.dataset?.consume(() => undefined);
  return Status.Success;
};

let sink: (StorageSink & { open?(o?: object): Promise<unknown>; close?(): Promise<void> }) | undefined;
if (mode === 'filestore') sink = new FileStore({ root: dir, fsync: false });
if (mode === 'archive') sink = new Archive({ root: dir, fsync: false, checkpointInBackground: true });
await sink?.open?.();

const server = new AssociationServer({
  maxPduReceive: 32768,
  policy: {
    implementationClassUid: '1.2.826.0.1.3680043.10.1137.99',
    maxPduReceive: 32768,
    abstractSyntaxes: (uid) => (isStorageSopClass(uid) ? ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] : undefined),
  },
  handlers: { 'C-STORE': sink ? storageScp({ sink }) : dropAll },
});
await server.listen(Number(port), '127.0.0.1');
console.log('listening');

const stop = async (): Promise<void> => {
  await server.close(true);
  await sink?.close?.();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
