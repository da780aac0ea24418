import { JournalWriter } from './journal';
import { JournalIndexer } from './journal_index';
import type { IndexedRecord } from './record';
import { SqliteAuditStore } from './sqlite_store';
import type { TreeNode } from './store';

// The SQLite ledger as one process's writer keeps it: an append is durable in the process's own
// journal (journal.ts: one write and one fdatasync, no lock shared with other processes), and the
// records are copied into SQLite a batch at a time, off the request path, in a transaction that needs
// no fsync of its own. Readers index what is still only in a journal before they read.

/**
 * Appended records wait at most this long to be indexed. Each index transaction writes every page it
 * touched to the WAL once (a pwrite a page), and the indexes of random keys (serials, names) touch a
 * page a record: batches of ~100 records (100 ms under load) cost the writer ~40 µs a record more than
 * batches of ~1,000 (2026-12-06, the writer alone, 30,000 records in batches of 10). Readers index what
 * is still only in a journal before they read, so a longer wait delays no answer.
 */
const INDEX_DELAY_MS = 1000;
/** or until this many wait. */
const INDEX_BATCH = 2000;
/** A journal this long starts over once all it holds is indexed durably. */
const ROTATE_BYTES = 8 * 1024 * 1024;

export class JournaledSqliteStore extends SqliteAuditStore {
  private readonly journal: JournalWriter;
  private readonly otherJournals: JournalIndexer;
  private unindexed: { records: IndexedRecord[]; nodes: TreeNode[] } = { records: [], nodes: [] };
  private timer?: NodeJS.Timeout;
  /**
   * Why a journal append failed (a full disk), until the process ends. Its entries were cut back off,
   * but a reader may have read and indexed them already: journaling other records under the same
   * sequence numbers would fork the chain. So the chain takes no more records, as PostgreSQL stops
   * after a failed fsync; the next process starts a chain of its own and seals this one.
   */
  private journalFailure?: string;
  /** Why the last indexing failed; the journal keeps the records, and the next batch tries again. */
  private indexFailure?: string;

  constructor(
    database: string,
    private readonly chain: string,
  ) {
    super(database, { journaled: true });
    this.journal = JournalWriter.create(database, chain);
    this.otherJournals = new JournalIndexer(database);
  }

  /** Durable in the journal when it resolves; in SQLite within INDEX_DELAY_MS. */
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
    for (const record of records) this.unindexed.records.push(record);
    for (const node of nodes) this.unindexed.nodes.push(node);
    if (this.unindexed.records.length >= INDEX_BATCH) this.indexOwn();
    else this.timer ??= setTimeout(() => this.indexOwn(), INDEX_DELAY_MS);
  }

  /** Copies what this writer appended into SQLite, in one transaction. */
  private indexOwn(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { records, nodes } = this.unindexed;
    if (records.length === 0) return;
    try {
      this.insert(records, nodes);
      this.unindexed = { records: [], nodes: [] };
      this.indexFailure = undefined;
      if (this.journal.size >= ROTATE_BYTES) {
        this.makeDurable();
        this.journal.rotate();
      }
    } catch (error) {
      this.indexFailure = (error as Error).message;
      this.timer = setTimeout(() => this.indexOwn(), INDEX_DELAY_MS);
    }
  }

  override async index(scope: 'own' | 'every journal'): Promise<readonly string[]> {
    this.indexOwn();
    if (this.indexFailure !== undefined) throw new Error(`the audit journal cannot be indexed: ${this.indexFailure}`);
    return scope === 'every journal' ? (await this.otherJournals.index(this, { skip: this.chain, removeGone: () => this.makeDurable() })).map(({ chain }) => chain) : [];
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
    this.indexOwn();
    const indexed = this.indexFailure === undefined;
    clearTimeout(this.timer);
    if (indexed) this.makeDurable();
    this.journal.close(indexed);
    await super.close();
  }
}
