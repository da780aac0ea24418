import type { Subtree } from './merkle';
import type { AuditRecord, IndexedRecord } from './record';

// What the ledger asks of a store, whichever it is: SQLite (embedded, the default) or PostgreSQL
// (shared by replicas). Every call is asynchronous, so no query ever holds up the event loop that
// serves requests; each store answers every query alike (test/integration/audit/postgres_store.test.ts).

export interface Checkpoint {
  readonly chain: string;
  readonly seq: number;
  readonly headHash: string;
  readonly time: string;
  /**
   * Ed25519 signature, base64: of the note's body when there is a note; of checkpointPayload() in a
   * checkpoint written before the ledger was a Merkle tree (which has no note).
   */
  readonly signature: string;
  /** The signed C2SP checkpoint of the chain's tree at `seq` records (signed_checkpoint.ts). */
  readonly note?: string;
}

/** A complete subtree's hash (hex), stored for proofs: those of STORED_LEVEL and above (tree.ts). */
export interface TreeNode extends Subtree {
  readonly chain: string;
  readonly hash: string;
}

/** What a checkpoint before tree checkpoints signed: the chain's head at a sequence number, at a time. */
export const checkpointPayload = (c: Omit<Checkpoint, 'signature'>): Buffer =>
  Buffer.from(`mayfly-audit-checkpoint\n${c.chain}\n${c.seq}\n${c.headHash}\n${c.time}`, 'utf8');

/** A name the index and a record disagree on (`missing` from the index, or an `extra` entry). */
export interface NameIndexDifference {
  readonly kind: 'missing' | 'extra';
  readonly chain: string;
  readonly seq: number;
  readonly name: string;
  /** The time the entry is filed under. */
  readonly time: string;
}

export interface AuditQuery {
  readonly ra?: string;
  readonly since?: string;
  readonly until?: string;
  /** A glob over DNS names and IPs (`*` and `?`), e.g. *.payments.example.com */
  readonly name?: string;
  readonly outcome?: string;
  readonly serial?: string;
  readonly limit?: number;
  /** Return records after this (time, chain, seq) position, for pagination. */
  readonly after?: { readonly time: string; readonly chain: string; readonly seq: number };
}

/** A record with the indexed columns and leaf hash as stored, for verification to compare with its hashed text. */
export type StoredRecord = AuditRecord & { readonly leafHash: string | null; readonly columns: { time: string; ra: string; event: string; outcome: string; serial: string | null } };

/** Names are indexed reversed (com.example.svc), so a glob such as *.example.com is a prefix search. */
export const reverseName = (name: string): string => name.toLowerCase().split('').reverse().join('');

/** Reads the ledger: the CLI, GET /v1/audit and `audit verify`. */
export interface AuditReader {
  /** Records matching every given filter, oldest first. */
  query(filter: AuditQuery): Promise<AuditRecord[]>;
  record(chain: string, seq: number): Promise<AuditRecord | undefined>;
  /** Every chain that has a record or a checkpoint: one per process that ever wrote. */
  chains(): Promise<string[]>;
  /** Up to `limit` records of a chain after `afterSeq`, in sequence order, with their columns. */
  walkPage(chain: string, afterSeq: number, limit: number): Promise<StoredRecord[]>;
  checkpoints(chain: string): Promise<Checkpoint[]>;
  /** The leaf hashes (hex) of a chain's leaves [from, to): leaf i is record i + 1. */
  leafHashes(chain: string, from: number, to: number): Promise<string[]>;
  /** Stored subtree hashes (hex) of a chain, in the order asked; undefined where none is stored. */
  treeNodes(chain: string, subtrees: readonly Subtree[]): Promise<(string | undefined)[]>;
  /**
   * The first difference between the name index and the names the records carry: a name missing
   * from the index hides its record from name searches; an extra one files it under a name it lacks.
   */
  nameIndexDifference(): Promise<NameIndexDifference | undefined>;
  close(): Promise<void>;
}

/** Writes the ledger: the writer of one process's chain. */
export interface AuditStore extends AuditReader {
  /** Appends records, and the subtrees they complete, in one transaction: durable together once it resolves, or not at all. */
  appendAll(records: readonly IndexedRecord[], nodes: readonly TreeNode[]): Promise<void>;
  /** Stores a checkpoint; one at the same place is replaced (by the final checkpoint of the same tree). */
  addCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** Why the store cannot durably record now (for /readyz), or undefined when it can. */
  problem(): Promise<string | undefined>;
  /** The last durable record of a chain, to continue from after a commit whose outcome is unknown. */
  chainHead(chain: string): Promise<{ readonly seq: number; readonly hash: string } | undefined>;
}

const WALK_PAGE = 1000;

/** Every record of a chain in sequence order, a page at a time. */
export async function* walkChain(reader: AuditReader, chain: string): AsyncGenerator<StoredRecord> {
  for (let after = 0; ; ) {
    const page = await reader.walkPage(chain, after, WALK_PAGE);
    yield* page;
    if (page.length < WALK_PAGE) return;
    after = page[page.length - 1].seq;
  }
}
