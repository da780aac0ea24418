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

export type WriterMessage = { readonly type: 'append'; readonly id: number; readonly body: string } | { readonly type: 'close' };

export type WriterReply =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stored'; readonly ids: readonly number[]; readonly seqs: readonly number[] }
  | { readonly type: 'rejected'; readonly ids: readonly number[]; readonly message: string }
  | { readonly type: 'closed' };
