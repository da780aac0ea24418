// The ledger's writer, on its own thread: SQLite's commits (each an fsync) never wait on the
// event loop that serves requests. Appends that arrive while a commit runs are committed together
// (group commit); each is acknowledged only once its transaction is on disk.
import { createPrivateKey, sign } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { GENESIS, recordHash, type IndexedRecord } from './record';
import { checkpointPayload, SqliteAuditStore } from './sqlite_store';
import type { WriterEntry, WriterMessage, WriterOptions, WriterReply } from './writer_protocol';

const options = workerData as WriterOptions;
const port = parentPort!;
const reply = (message: WriterReply) => port.postMessage(message);

let store: SqliteAuditStore;
try {
  store = new SqliteAuditStore(options.database);
} catch (error) {
  reply({ type: 'failed', message: `the audit ledger ${options.database} cannot be opened: ${(error as Error).message}` });
  process.exit(1);
}
const key = createPrivateKey(options.keyPem);
let seq = 0;
let head = GENESIS;
let sinceCheckpoint = 0;
let pending: WriterEntry[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const batch = pending;
  pending = [];
  if (batch.length === 0) return;
  const records: IndexedRecord[] = batch.map(({ body, columns }) => {
    const prevHash = head;
    seq += 1;
    head = recordHash(options.chain, seq, prevHash, body);
    return { chain: options.chain, seq, prevHash, hash: head, body, columns };
  });
  const started = performance.now();
  let displaced: string | undefined;
  try {
    store.appendAll(records);
    displaced = store.displacedFile();
  } catch (error) {
    // Nothing of the batch is on disk: rewind the chain so the next batch continues from the last
    // durable record, and tell each waiting request that its record was not kept.
    seq -= records.length;
    head = records[0].prevHash;
    reply({ type: 'rejected', ids: batch.map((b) => b.id), message: (error as Error).message });
    return;
  }
  if (displaced !== undefined) {
    // Committed to a file no path names any more: lost. No later record could be kept either, so
    // the writer stops (the file is not closed: SQLite would then delete the WAL by its name).
    const message = `${displaced} was deleted or replaced while the ledger had it open; its records are lost, restart to open the ledger again`;
    reply({ type: 'rejected', ids: batch.map((b) => b.id), message });
    reply({ type: 'failed', message: `the audit ledger cannot record: ${message}` });
    process.exit(1);
  }
  sinceCheckpoint += records.length;
  reply({ type: 'stored', ids: batch.map((b) => b.id), seqs: records.map((r) => r.seq), commitSeconds: (performance.now() - started) / 1000 });
  if (sinceCheckpoint >= options.checkpointEvery) checkpoint();
}

/** Signs {chain, seq, head hash, time} with the audit key and stores it. */
function checkpoint(): void {
  if (seq === 0 || sinceCheckpoint === 0) return;
  const unsigned = { chain: options.chain, seq, headHash: head, time: new Date().toISOString() };
  try {
    store.addCheckpoint({ ...unsigned, signature: sign(null, checkpointPayload(unsigned), key).toString('base64') });
    sinceCheckpoint = 0;
  } catch {
    // The next checkpoint covers these records too.
  }
}

setInterval(checkpoint, options.checkpointIntervalMs).unref();

port.on('message', (message: WriterMessage) => {
  if (message.type === 'append') {
    for (const entry of message.entries) pending.push(entry);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  } else if (message.type === 'probe') {
    try {
      store.probeWrite(options.chain);
      reply({ type: 'probed' });
    } catch (error) {
      reply({ type: 'probed', message: (error as Error).message });
    }
  } else {
    flush();
    checkpoint();
    store.close();
    reply({ type: 'closed' });
  }
});

reply({ type: 'ready' });
