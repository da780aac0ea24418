import type { IndexedRecord } from './record';
import type { Checkpoint, TreeNode } from './store';
// Messages between a SQLite writer's thread (journaled_store.ts) and its indexer thread (indexer_worker.ts).

export interface IndexerOptions {
  readonly database: string;
}

export type IndexerMessage =
  /** Journaled records (and the subtrees they complete), in chain order: indexed within seconds. */
  | { readonly type: 'index'; readonly records: readonly IndexedRecord[]; readonly nodes: readonly TreeNode[] }
  /**
   * Index what was sent before, then, `durable`, make every commit so far durable. `nextBatch`: with
   * the batch that was to come anyway, rather than now (cutting it short costs every record more).
   */
  | { readonly type: 'flush'; readonly id: number; readonly durable?: boolean; readonly nextBatch?: boolean }
  /**
   * Store a checkpoint now, whether or not the records it covers are indexed yet: they are durable in
   * the journal, and every reader indexes the journals before it reads (journal_index.ts).
   */
  | { readonly type: 'checkpoint'; readonly id: number; readonly checkpoint: Checkpoint }
  /** Index the rest, make it durable, close the database. */
  | { readonly type: 'close' };

export type IndexerReply =
  /**
   * `problem`: why what was sent is not indexed, or the checkpoint not stored; the indexer keeps the
   * records and tries again. `indexedRecords`: how many of the records sent are indexed by now (the
   * first ones, always whole messages).
   */
  | { readonly type: 'flushed'; readonly id: number; readonly problem?: string; readonly indexedRecords: number }
  /** Why indexing fails now, after each indexing whose outcome differs from the last (undefined: it works again). */
  | { readonly type: 'status'; readonly problem?: string }
  /** `indexed`: all that was sent is in SQLite durably. */
  | { readonly type: 'closed'; readonly indexed: boolean };
