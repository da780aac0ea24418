import { Worker } from 'node:worker_threads';
import type { IndexerMessage, IndexerOptions, IndexerReply } from './indexer_protocol';
import { JournalWriter } from './journal';
import { JournalIndexer } from './journal_index';
import type { IndexedRecord } from './record';
import { SqliteAuditStore } from './sqlite_store';
import type { Checkpoint, TreeNode } from './store';
import { workerScript } from './worker_script';

// The SQLite ledger as one process's writer keeps it: an append is durable in the process's own
// journal (journal.ts: one write and one fdatasync, no lock shared with other processes), and the
// records are copied into SQLite ("indexed") by a thread of their own (indexer_worker.ts), in
// batches, in transactions that need no fsync of their own: the commits every answer waits for
// never wait for SQLite. Readers index what is still only in a journal before they read.

/** A journal this long starts over once what it holds is indexed durably (with the indexer's next batch). */
const ROTATE_BYTES = 8 * 1024 * 1024;
/**
 * Journaled records go to the indexer this often (it indexes them within seconds): a message a group
 * commit woke its thread ~1,000 times a second per process, each wake-up a few system calls.
 */
const SEND_DELAY_MS = 200;
/** A journal that could not start over tries again after this long. */
const ROTATE_RETRY_MS = 1000;

/** The indexer's answer to a request (indexer_protocol.ts), or why there is none. */
type IndexerAnswer = { readonly problem?: string; readonly indexedRecords?: number };

export class JournaledSqliteStore extends SqliteAuditStore {
  private readonly journal: JournalWriter;
  private readonly otherJournals: JournalIndexer;
  private readonly indexer: Worker;
  /** Journaled, not yet sent to the indexer. */
  private unsent: { records: IndexedRecord[]; nodes: TreeNode[] } = { records: [], nodes: [] };
  /**
   * For each message sent whose records may not be indexed yet: how many records were sent up to it,
   * and where in the journal they end. A rotation keeps what follows the last one indexed.
   */
  private sentEnds: { readonly records: number; readonly end: number }[] = [];
  private sentRecords = 0;
  private sendTimer?: NodeJS.Timeout;
  private nextRequest = 0;
  private readonly requests = new Map<number, (answer: IndexerAnswer) => void>();
  private closing?: (indexed: boolean) => void;
  private stopped = false;
  /** A rotation waiting for the indexer to make what the journal held up to then durable. */
  private rotating = false;
  /**
   * Why a journal append failed (a full disk), until the process ends. Its entries were cut back off,
   * but a reader may have read and indexed them already: journaling other records under the same
   * sequence numbers would fork the chain. So the chain takes no more records, as PostgreSQL stops
   * after a failed fsync; the next process starts a chain of its own and seals this one.
   */
  private journalFailure?: string;
  /** Why the indexer cannot index now; it keeps the records and tries again. */
  private indexFailure?: string;

  constructor(
    database: string,
    private readonly chain: string,
  ) {
    super(database, { journaled: true });
    this.journal = JournalWriter.create(database, chain);
    this.otherJournals = new JournalIndexer(database);
    this.indexer = new Worker(workerScript('indexer_worker'), { workerData: { database } satisfies IndexerOptions });
    this.indexer.on('message', (reply: IndexerReply) => this.receive(reply));
    this.indexer.on('error', (error) => this.indexerStopped(error.message));
    this.indexer.on('exit', () => this.indexerStopped('it stopped'));
  }

  /** Durable in the journal when it resolves; in SQLite within seconds (indexer_worker.ts). */
  override async appendAll(records: readonly IndexedRecord[], nodes: readonly TreeNode[]): Promise<void> {
    if (this.journalFailure !== undefined) throw new Error(this.journalFailure);
    const displaced = this.displaced() ?? this.journal.displaced();
    if (displaced !== undefined) throw new Error(displaced);
    try {
      this.journal.append(records);
    } catch (error) {
      this.journalFailure = `the audit journal of ${this.file} could not be written (${(error as Error).message}); restart Mayfly once the disk is fixed`;
      throw error;
    }
    for (const record of records) this.unsent.records.push(record);
    for (const node of nodes) this.unsent.nodes.push(node);
    this.sendTimer ??= setTimeout(() => this.send(), SEND_DELAY_MS);
    if (this.journal.size >= ROTATE_BYTES && !this.rotating) void this.rotate();
  }

  /** Sends the indexer what was journaled since the last time. */
  private send(): void {
    clearTimeout(this.sendTimer);
    this.sendTimer = undefined;
    if (this.unsent.records.length === 0) return;
    this.post({ type: 'index', ...this.unsent });
    this.sentRecords += this.unsent.records.length;
    this.sentEnds.push({ records: this.sentRecords, end: this.journal.size });
    this.unsent = { records: [], nodes: [] };
  }

  /**
   * Starts the journal over: once the indexer's next batch has made what the journal holds now
   * durable, the entries it did not index are carried into the new file. Commits go on meanwhile.
   */
  private async rotate(): Promise<void> {
    this.rotating = true;
    let rotated = false;
    try {
      this.send();
      const answer = await this.ask((id) => ({ type: 'flush', id, durable: true, nextBatch: true }));
      // receive() left first the message up to which the indexer has indexed: what precedes its end is durable in SQLite.
      const keep = this.sentEnds[0]?.records === answer.indexedRecords ? this.sentEnds[0].end : undefined;
      if (answer.problem === undefined && keep !== undefined) {
        this.journal.rotate(keep);
        this.sentEnds = this.sentEnds.map(({ records, end }) => ({ records, end: end - keep }));
        rotated = true;
      }
    } catch (error) {
      this.indexFailure = `the journal could not start over: ${(error as Error).message}`;
    }
    // After a failure, the next try waits a while rather than come with every append.
    if (rotated) this.rotating = false;
    else setTimeout(() => (this.rotating = false), ROTATE_RETRY_MS).unref();
  }

  /** What was sent is indexed (and, `durable`, durable) when it resolves; why not, if not. */
  private async flush(options: { readonly durable?: boolean } = {}): Promise<string | undefined> {
    this.send();
    return (await this.ask((id) => ({ type: 'flush', id, ...options }))).problem;
  }

  /** Posts the indexer a request; resolves with its answer (a `problem` when it failed). */
  private ask(request: (id: number) => IndexerMessage): Promise<IndexerAnswer> {
    if (this.closing) return Promise.resolve({ problem: 'the ledger is closing' });
    if (this.stopped) return Promise.resolve({ problem: this.indexFailure });
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      this.requests.set(id, resolve);
      this.post(request(id));
    });
  }

  private post(message: IndexerMessage): void {
    this.indexer.postMessage(message);
  }

  private receive(reply: IndexerReply): void {
    if (reply.type === 'flushed') {
      // The messages before the last one indexed are done with.
      this.sentEnds = this.sentEnds.filter(({ records }) => records >= reply.indexedRecords);
      this.requests.get(reply.id)?.(reply);
      this.requests.delete(reply.id);
    } else if (reply.type === 'status') this.indexFailure = reply.problem;
    else this.closing?.(reply.indexed);
  }

  private indexerStopped(why: string): void {
    this.stopped = true;
    this.indexFailure ??= `its indexer thread failed (${why})`;
    for (const resolve of this.requests.values()) resolve({ problem: this.indexFailure });
    this.requests.clear();
    this.closing?.(false);
  }

  override async index(scope: 'own' | 'every journal'): Promise<readonly string[]> {
    const problem = await this.flush();
    if (problem !== undefined) throw new Error(`the audit journal cannot be indexed: ${problem}`);
    return scope === 'every journal' ? (await this.otherJournals.index(this, { skip: this.chain, removeGone: () => this.makeDurable() })).map(({ chain }) => chain) : [];
  }

  /**
   * Stored by the indexer at once, the records it covers perhaps not yet: they are in the journal
   * (a checkpoint signs only durable records), which readers index before they read. Indexing them
   * first cut the indexer's batches to a checkpoint's worth of records (indexer_worker.ts).
   */
  override async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const { problem } = await this.ask((id) => ({ type: 'checkpoint', id, checkpoint }));
    if (problem !== undefined) throw new Error(`the audit checkpoint could not be stored: ${problem}`);
  }

  /** This writer's own chain continues from what it journaled: indexed first, so its tree is read whole. */
  override async chainHead(chain: string): Promise<{ seq: number; hash: string } | undefined> {
    if (chain === this.chain) await this.index('own');
    return super.chainHead(chain);
  }

  override async problem(): Promise<string | undefined> {
    const displaced = this.journal.displaced();
    if (displaced !== undefined) return displaced;
    if (this.journalFailure !== undefined) return this.journalFailure;
    if (this.indexFailure !== undefined) return `the audit ledger ${this.file} cannot index its journal (${this.indexFailure})`;
    return super.problem();
  }

  /** Indexes the rest; the journal goes once all it held is in SQLite durably. */
  override async close(): Promise<void> {
    const indexed = await new Promise<boolean>((resolve) => {
      this.closing = resolve;
      if (this.stopped) return resolve(false);
      this.send();
      this.post({ type: 'close' });
    });
    await this.indexer.terminate();
    this.journal.close(indexed);
    await super.close();
  }
}
