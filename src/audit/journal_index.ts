import { closeSync, fstatSync, openSync, readdirSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { chainOwnerGone, isChainId } from './chain_owner';
import { syncFolder } from './durable_file';
import { journalFolder } from './journal';
import { readEntries, type JournalEntry } from './journal_format';
import { Frontier, leafHash, type SubtreeHashes } from './merkle';
import { GENESIS, recordColumns, recordHash, type AuditEvent, type IndexedRecord } from './record';
import type { TreeNode } from './store';
import { appendLeaf } from './tree';

// Anyone may index a journal, as often as they like: a record already in SQLite is skipped. The
// reader that serves queries does before each query, the CLI before it reads, a starting writer for
// the journals of processes that died; each writer indexes its own (journaled_store.ts).

/** What indexing needs of the SQLite store. */
export interface IndexTarget {
  /** The chain's last indexed record. */
  chainHead(chain: string): Promise<{ readonly seq: number; readonly hash: string } | undefined>;
  /** The chain's subtrees as stored (tree.ts's storedSubtrees), read without indexing first. */
  subtrees(chain: string): SubtreeHashes;
  /** Inserts records not yet there (the rest are skipped), with their subtrees, in one transaction. */
  insert(records: readonly IndexedRecord[], nodes: readonly TreeNode[]): void;
}

/**
 * A reader's journals: before each read, what they hold and SQLite lacks is indexed, on a writing
 * connection opened when first needed (the reader's own is read-only), so a record whose request was
 * answered is found; when nothing is new, that costs a stat a journal. On a ledger that cannot be
 * written (a read-only copy), what is found wrong is kept for `audit verify`, and reads go on.
 */
export class ReaderJournals {
  private readonly indexer: JournalIndexer;
  private writer?: IndexTarget & { makeDurable(): void; close(): Promise<void> };
  /** What was found wrong when the journals were last indexed. */
  problems: readonly string[] = [];

  constructor(
    private readonly database: string,
    private readonly reader: Pick<IndexTarget, 'chainHead' | 'subtrees'>,
    private readonly openWriter: () => IndexTarget & { makeDurable(): void; close(): Promise<void> },
  ) {
    this.indexer = new JournalIndexer(database);
  }

  async catchUp(): Promise<void> {
    const target: IndexTarget = {
      chainHead: (chain) => this.reader.chainHead(chain),
      subtrees: (chain) => this.reader.subtrees(chain),
      insert: (records, nodes) => {
        this.writer ??= this.openWriter();
        this.writer.insert(records, nodes);
      },
    };
    try {
      this.problems = (await this.indexer.index(target)).map(({ problem }) => problem);
    } catch (error) {
      this.problems = [`the audit journals of ${this.database} cannot be indexed: ${(error as Error).message}`];
    }
  }

  /** What was indexed is durable once this returns: a journal it indexed may be removed then (docs/operations.md). */
  async close(): Promise<void> {
    this.writer?.makeDurable();
    await this.writer?.close();
  }
}

/** A record read back from a journal, as the writer stored it. */
export const indexedRecord = (chain: string, entry: JournalEntry): IndexedRecord => ({
  chain,
  seq: entry.seq,
  prevHash: entry.prevHash,
  hash: entry.hash,
  body: entry.body,
  leafHash: leafHash(entry.body).toString('hex'),
  columns: recordColumns(JSON.parse(entry.body) as AuditEvent),
});

/** The journals of one ledger, with how far each was read (so a reader reads only what is new). */
export class JournalIndexer {
  private readonly folder: string;
  private readonly read = new Map<string, { readonly identity: string; readonly offset: number }>();

  constructor(database: string) {
    this.folder = journalFolder(database);
  }

  /**
   * Indexes what each journal holds past its chain's indexed head, except `skip` (a writer's own,
   * which it indexes from memory). Returns the problems found, each naming the journal and its entry.
   * `removeGone`: makes every committed transaction durable (the index commits without an fsync of its
   * own); the journal of a process that ended is removed then, once indexed whole.
   */
  async index(target: IndexTarget, options: { readonly skip?: string; readonly removeGone?: () => void } = {}): Promise<{ readonly chain: string; readonly problem: string }[]> {
    const problems: { chain: string; problem: string }[] = [];
    let names: string[];
    try {
      names = readdirSync(this.folder);
    } catch {
      return problems; // no journal yet
    }
    for (const chain of names.filter((name) => isChainId(name) && name !== options.skip)) {
      const problem = await this.indexJournal(target, chain);
      if (problem !== undefined) problems.push({ chain, problem });
      else if (options.removeGone && chainOwnerGone(chain)) {
        options.removeGone();
        unlinkSync(join(this.folder, chain));
        syncFolder(this.folder);
        this.read.delete(chain);
      }
    }
    return problems;
  }

  private async indexJournal(target: IndexTarget, chain: string): Promise<string | undefined> {
    const file = join(this.folder, chain);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return undefined; // rotated or removed since listed
    }
    try {
      const info = fstatSync(fd, { bigint: true });
      const identity = `${info.dev}:${info.ino}`;
      const size = Number(info.size);
      const known = this.read.get(chain);
      const resume = known && known.identity === identity && known.offset <= size ? known.offset : 0;
      if (resume === size) return undefined;
      const head = (await target.chainHead(chain)) ?? { seq: 0, hash: GENESIS };
      // The offset may be from before a failed write was cut back, or from an older file whose inode
      // this one reuses: it may fall inside an entry, or past records never read. On any damage or
      // gap from there, the file is read from its start.
      let read = readRecords(chain, head, readFrom(fd, resume, size), resume);
      if (resume > 0 && (read.damage !== undefined || read.problem !== undefined)) read = readRecords(chain, head, readFrom(fd, 0, size), 0);
      if (read.records.length > 0) {
        // The subtrees the records complete, hashed from their leaves: a journal's word is not taken.
        const frontier = await Frontier.of(head.seq, target.subtrees(chain));
        const nodes: TreeNode[] = [];
        for (const record of read.records) appendLeaf(frontier, chain, Buffer.from(record.leafHash, 'hex'), nodes);
        target.insert(read.records, nodes);
      }
      const problem = read.problem ?? (read.damage?.torn === false ? `the entry at byte ${read.damage.offset}${read.lastSeq !== undefined ? ` (after record ${read.lastSeq})` : ''} is damaged, and entries follow it` : undefined);
      if (problem !== undefined) return `the audit journal ${file}: ${problem}; it and what follows are not in the ledger`;
      this.read.set(chain, { identity, offset: read.end });
      return undefined;
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * The records of a journal's bytes (from `start` in the file) that follow the chain's head, up to the
 * first that cannot (a gap, a broken link, edited text); offsets are the file's.
 */
function readRecords(chain: string, indexed: { readonly seq: number; readonly hash: string }, bytes: Buffer, start: number) {
  const { entries, end, damage } = readEntries(bytes);
  let head = indexed;
  const records: IndexedRecord[] = [];
  let problem: string | undefined;
  for (const entry of entries.filter((e) => e.seq > head.seq)) {
    problem = entryProblem(chain, head, entry);
    if (problem !== undefined) break;
    try {
      records.push(indexedRecord(chain, entry));
    } catch {
      problem = `record ${entry.seq}'s text is not JSON`;
      break;
    }
    head = entry;
  }
  return { records, problem, end: start + end, damage: damage && { offset: start + damage.offset, torn: damage.torn }, lastSeq: entries.at(-1)?.seq };
}

/** Why an entry cannot follow its chain's head: a gap, another chain's link, or text its hash does not cover. */
function entryProblem(chain: string, head: { readonly seq: number; readonly hash: string }, entry: JournalEntry): string | undefined {
  if (entry.seq !== head.seq + 1) return `record ${entry.seq} follows record ${head.seq} (records ${head.seq + 1}–${entry.seq - 1} missing)`;
  if (entry.prevHash !== head.hash) return `record ${entry.seq} does not link to record ${head.seq}`;
  if (recordHash(chain, entry.seq, entry.prevHash, entry.body) !== entry.hash) return `record ${entry.seq} was edited: its text no longer matches its hash`;
  return undefined;
}

function readFrom(fd: number, start: number, end: number): Buffer {
  const bytes = Buffer.allocUnsafe(end - start);
  for (let done = 0; done < bytes.length; ) {
    const read = readSync(fd, bytes, done, bytes.length - done, start + done);
    if (read === 0) return bytes.subarray(0, done);
    done += read;
  }
  return bytes;
}
