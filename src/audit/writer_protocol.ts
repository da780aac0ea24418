import type { RecordColumns } from './record';
// Messages between the ledger (main thread) and its writer thread.

export interface WriterOptions {
  readonly database: string;
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
/** `probe`: after a failed commit, a test write says whether the ledger can commit again. */
export type WriterMessage = { readonly type: 'append'; readonly entries: readonly WriterEntry[] } | { readonly type: 'probe' } | { readonly type: 'close' };

export type WriterReply =
  | { readonly type: 'ready' }
  /** The writer cannot go on (at start, or its files were deleted under it) and stops. */
  | { readonly type: 'failed'; readonly message: string }
  /** `commitSeconds`: how long the batch's transaction (and its fsync) took. */
  | { readonly type: 'stored'; readonly ids: readonly number[]; readonly seqs: readonly number[]; readonly commitSeconds: number }
  | { readonly type: 'rejected'; readonly ids: readonly number[]; readonly message: string }
  /** The probe's answer: `message` says why the test write failed. */
  | { readonly type: 'probed'; readonly message?: string }
  | { readonly type: 'closed' };
