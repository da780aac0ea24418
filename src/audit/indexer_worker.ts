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
 * to the WAL once (a pwrite a page), and later copies it back into the database, and the indexes of
 * random keys (the names, the common names) touch a page a record up to the size of the index: the
 * larger the batch, the fewer times each page is written. Batches of ~1,000 records (a checkpoint's
 * worth, when each checkpoint made the indexer index first) cost the indexer 82–89 µs a record; 5 s
 * batches, 48–60 (2026-12-07, one writer appending 8,000 records a second, past 150,000 records).
 * Readers index what is still only in a journal before they read (up to a batch, on their own
 * connection), so a longer wait hides no record, at the cost of some work in the reader.
 */
const INDEX_DELAY_MS = 5000;
/** or until this many wait (the records wait in memory: ~3 KiB each). */
const INDEX_BATCH = 10_000;

const { database } = workerData as IndexerOptions;
const port = parentPort!;
const reply = (message: IndexerReply) => port.postMessage(message);
const store = new SqliteAuditStore(database, { journaled: true });
let waiting: { records: IndexedRecord[]; nodes: TreeNode[] } = { records: [], nodes: [] };
let timer: NodeJS.Timeout | undefined;
let problem: string | undefined;
/** Records indexed so far, in the order they came. */
let indexedRecords = 0;
/** Flushes that wait for the next batch rather than cut it short: answered once it is indexed. */
let afterBatch: Flush[] = [];

type Flush = Extract<IndexerMessage, { type: 'flush' }>;

/** Indexes what waits, in one transaction; why it failed, if it did (the records wait for the next try). */
function indexWaiting(): string | undefined {
  clearTimeout(timer);
  timer = undefined;
  const before = problem;
  try {
    if (waiting.records.length > 0) store.insert(waiting.records, waiting.nodes);
    indexedRecords += waiting.records.length;
    waiting = { records: [], nodes: [] };
    problem = undefined;
  } catch (error) {
    problem = (error as Error).message;
    timer = setTimeout(indexWaiting, INDEX_DELAY_MS);
  }
  if (problem !== before) reply({ type: 'status', ...(problem !== undefined ? { problem } : {}) });
  if (problem === undefined) for (const request of afterBatch.splice(0)) void made(request.durable).then(answer(request.id));
  return problem;
}

/** Why `step` failed, if it did. */
async function problemOf(step: () => unknown): Promise<string | undefined> {
  try {
    await step();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** What is indexed made durable, when asked; why that failed, if it did. */
const made = (durable: boolean | undefined): Promise<string | undefined> => (durable ? problemOf(() => store.makeDurable()) : Promise.resolve(undefined));

/** Indexes what waits (now, or with the next batch), then, `durable`, makes every commit durable. */
function flush(request: Flush): void {
  if (request.nextBatch && waiting.records.length > 0) afterBatch.push(request);
  else {
    const failed = indexWaiting();
    void (failed !== undefined ? Promise.resolve(failed) : made(request.durable)).then(answer(request.id));
  }
}

const answer = (id: number) => (problem: string | undefined) => reply({ type: 'flushed', id, indexedRecords, ...(problem !== undefined ? { problem } : {}) });

port.on('message', (message: IndexerMessage) => {
  if (message.type === 'index') {
    for (const record of message.records) waiting.records.push(record);
    for (const node of message.nodes) waiting.nodes.push(node);
    if (waiting.records.length >= INDEX_BATCH) indexWaiting();
    else timer ??= setTimeout(indexWaiting, INDEX_DELAY_MS);
  } else if (message.type === 'flush') flush(message);
  // What waits stays for its batch: the checkpoint's records are durable in the journal already.
  else if (message.type === 'checkpoint') void problemOf(() => store.addCheckpoint(message.checkpoint)).then(answer(message.id));
  else {
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
