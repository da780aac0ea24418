// A SQLite writer's indexer, on a thread of its own: copying journaled records into SQLite (its
// transactions, the WAL's checkpoints, waiting for another process's write lock) takes tens of
// milliseconds a batch, and the writer's thread, which commits the journal every answer waits for,
// never waits for it.
import { parentPort, workerData } from 'node:worker_threads';
import type { IndexerMessage, IndexerOptions, IndexerReply } from './indexer_protocol';
import type { IndexedRecord } from './record';
import { SqliteAuditStore } from './sqlite_store';
import type { TreeNode } from './store';

/**
 * Records wait at most this long to be indexed. Each index transaction writes every page it touched
 * to the WAL once (a pwrite a page), and the indexes of random keys (names; serials made before they
 * began with the issuing time) touch a page a record: batches of ~100 records (100 ms under load)
 * cost ~40 µs a record more than batches of ~1,000 (2026-12-06, the writer alone, 30,000 records in
 * batches of 10). Readers index what is still only in a journal before they read, so a longer wait
 * delays no answer.
 */
const INDEX_DELAY_MS = 1000;
/** or until this many wait. */
const INDEX_BATCH = 2000;

const { database } = workerData as IndexerOptions;
const port = parentPort!;
const reply = (message: IndexerReply) => port.postMessage(message);
const store = new SqliteAuditStore(database, { journaled: true });
let waiting: { records: IndexedRecord[]; nodes: TreeNode[] } = { records: [], nodes: [] };
let timer: NodeJS.Timeout | undefined;
let problem: string | undefined;

/** Indexes what waits, in one transaction; why it failed, if it did (the records wait for the next try). */
function indexWaiting(): string | undefined {
  clearTimeout(timer);
  timer = undefined;
  const before = problem;
  try {
    if (waiting.records.length > 0) store.insert(waiting.records, waiting.nodes);
    waiting = { records: [], nodes: [] };
    problem = undefined;
  } catch (error) {
    problem = (error as Error).message;
    timer = setTimeout(indexWaiting, INDEX_DELAY_MS);
  }
  if (problem !== before) reply({ type: 'status', ...(problem !== undefined ? { problem } : {}) });
  return problem;
}

/** Indexes what waits, then makes every commit durable or stores a checkpoint; why that failed, if it did. */
async function flush({ durable, checkpoint }: Extract<IndexerMessage, { type: 'flush' }>): Promise<string | undefined> {
  const failed = indexWaiting();
  if (failed !== undefined) return failed;
  try {
    if (durable) store.makeDurable();
    if (checkpoint) await store.addCheckpoint(checkpoint);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

port.on('message', (message: IndexerMessage) => {
  if (message.type === 'index') {
    for (const record of message.records) waiting.records.push(record);
    for (const node of message.nodes) waiting.nodes.push(node);
    if (waiting.records.length >= INDEX_BATCH) indexWaiting();
    else timer ??= setTimeout(indexWaiting, INDEX_DELAY_MS);
  } else if (message.type === 'flush') {
    void flush(message).then((failed) => reply({ type: 'flushed', id: message.id, ...(failed !== undefined ? { problem: failed } : {}) }));
  } else {
    let indexed = indexWaiting() === undefined;
    try {
      if (indexed) store.makeDurable();
    } catch {
      indexed = false;
    }
    clearTimeout(timer);
    void store.close().finally(() => reply({ type: 'closed', indexed }));
  }
});
