import type { AuditRecord, IndexedRecord } from './record';

// What the ledger asks of a store, whichever it is: SQLite (embedded, the default) or PostgreSQL
// (shared by replicas). Every call is asynchronous, so no query ever holds up the event loop that
// serves requests; each store answers every query alike (test/integration/audit/postgres_store.test.ts).

export interface Checkpoint {
  readonly chain: string;
  readonly seq: number;
  readonly headHash: string;
  readonly time: string;
  /** Ed25519 signature, base64, over checkpointPayload(). */
  readonly signature: string;
}

/** What a checkpoint signs: the chain's head at a sequence number, at a time. */
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

/** A record with the indexed columns as stored, for verification to compare with its hashed text. */
export type StoredRecord = AuditRecord & { readonly columns: { time: string; ra: string; event: string; outcome: string; serial: string | null } };

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
  /**
   * The first difference between the name index and the names the records carry: a name missing
   * from the index hides its record from name searches; an extra one files it under a name it lacks.
   */
  nameIndexDifference(): Promise<NameIndexDifference | undefined>;
  close(): Promise<void>;
}

/** Writes the ledger: the writer of one process's chain. */
export interface AuditStore extends AuditReader {
  /** Appends records in one transaction: durable together once it resolves, or not at all. */
  appendAll(records: readonly IndexedRecord[]): Promise<void>;
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
