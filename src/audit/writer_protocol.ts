import type { StoreLocation } from './open_store';
import type { RecordColumns } from './record';
// Messages between the ledger (main thread) and its writer thread.

export interface WriterOptions {
  readonly store: StoreLocation;
  /** This writer's chain id: every process writes its own chain, so no global lock is needed. */
  readonly chain: string;
  /** The Ed25519 audit key, PKCS#8 PEM, for checkpoints. */
  readonly keyPem: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
}

/** One record to append: the event's JSON text (what the chain hashes) and its query columns. */
export interface WriterEntry {
  readonly id: number;
  readonly body: string;
  readonly columns: RecordColumns;
}

/** Appends are sent in batches, one message per event-loop turn. */
export type WriterMessage =
  | { readonly type: 'append'; readonly entries: readonly WriterEntry[] }
  /** Asks whether the store can durably record now (for /readyz). */
  | { readonly type: 'probe'; readonly id: number }
  | { readonly type: 'close' };

export type WriterReply =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  /** `commitSeconds`: how long the batch's transaction (and its fsync) took. */
  | { readonly type: 'stored'; readonly ids: readonly number[]; readonly seqs: readonly number[]; readonly commitSeconds: number }
  | { readonly type: 'rejected'; readonly ids: readonly number[]; readonly message: string }
  | { readonly type: 'probed'; readonly id: number; readonly problem?: string }
  | { readonly type: 'closed' };
