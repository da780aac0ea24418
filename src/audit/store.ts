import type { Subtree } from './merkle';
import type { AuditRecord, IndexedRecord, RecordColumns } from './record';

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
  /** ISO 8601 UTC, inclusive (parseTimeBound resolves what a person types). */
  readonly since?: string;
  /** ISO 8601 UTC, exclusive. */
  readonly until?: string;
  /** A glob over DNS names, IPs and the subject's common name (`*` and `?`), e.g. *.payments.example.com */
  readonly name?: string;
  readonly outcome?: string;
  /** Any common form (serial.ts normalizeSerial); a text that is no serial matches nothing. */
  readonly serial?: string;
  /** The requester's user name, or the one a failed authentication claimed; exact, case-sensitive. */
  readonly user?: string;
  /** An IP address or a CIDR block (source.ts); a text that is neither matches nothing. */
  readonly source?: string;
  /** Records this validator refused (it gave reasons). */
  readonly validator?: string;
  readonly limit?: number;
  /** Return records after this (time, chain, seq) position, for pagination. */
  readonly after?: { readonly time: string; readonly chain: string; readonly seq: number };
}

/** A record with the indexed columns and leaf hash as stored, for verification to compare with its hashed text. */
export type StoredRecord = AuditRecord & { readonly leafHash: string | null; readonly columns: Omit<RecordColumns, 'names'> };

/** What the console's overview shows of a time range. */
export interface AuditOverview {
  /** Issued and refused records per hour (its ISO start) and RA, oldest first, then by RA. */
  readonly hourly: readonly { readonly hour: string; readonly ra: string; readonly issued: number; readonly refused: number }[];
  /** The 20 validators that refused most, most first (then by name). */
  readonly refusalsByValidator: readonly { readonly validator: string; readonly count: number }[];
  /** The 20 users with the most issued and refused records, most first (then by name). */
  readonly topRequesters: readonly { readonly user: string; readonly issued: number; readonly refused: number }[];
  /**
   * Per RA, the certificates (issued at any time) whose not_after falls in the 24 hours from the
   * range's `until`, and the earliest of those not_after times; by RA.
   */
  readonly expiringSoon: readonly { readonly ra: string; readonly count: number; readonly next: string | null }[];
}

/** Schema version 3's indexes of the filter columns, the same on both stores. */
export const FILTER_INDEXES = `
CREATE INDEX record_refusals_validator_time ON record_refusals (validator, time);
CREATE INDEX record_refusals_time ON record_refusals (time, validator);
CREATE INDEX records_user_time ON records (user_name, time);
CREATE INDEX records_source_time ON records (source_key, time);
CREATE INDEX records_common_name_time ON records (reversed_common_name, time);
CREATE INDEX records_not_after ON records (not_after, ra) WHERE not_after IS NOT NULL;
-- The overview's per-hour and per-requester counts read this index alone, never the records; it
-- serves (outcome, time) searches too, so that index goes (one fewer for every append to update).
CREATE INDEX records_overview ON records (outcome, time, ra, user_name);
DROP INDEX records_outcome_time;
-- A broad name glob is checked record by record, in time order (the stores' queryConditions).
CREATE INDEX record_names_record ON record_names (chain, seq);`;

/**
 * Above this many matching names, a name search checks records in time order (a page of a broad
 * glob such as *.example.com stops after its first records); below it reads the matches from the
 * name index (a rare name over a year of records). Measured by bench/audit_query.ts.
 */
export const BROAD_NAME = 20_000;

/** How far past `until` the overview looks for certificates expiring soon. */
export const EXPIRING_WINDOW_MS = 86_400_000;

/** The overview's top lists are this long. */
export const OVERVIEW_TOP = 20;

/** Names are indexed reversed (com.example.svc), so a glob such as *.example.com is a prefix search. */
export const reverseName = (name: string): string => name.toLowerCase().split('').reverse().join('');

/** The indexed columns of a record as both stores select them, for walkPage. */
export interface StoredColumnsRow {
  readonly time: string;
  readonly ra: string;
  readonly event: string;
  readonly outcome: string;
  readonly serial: string | null;
  readonly user_name: string | null;
  readonly source_key: string | null;
  readonly reversed_common_name: string | null;
  readonly not_after: string | null;
}

export const storedColumns = (row: StoredColumnsRow, refusedBy: readonly string[]): StoredRecord['columns'] => ({
  time: row.time,
  ra: row.ra,
  event: row.event,
  outcome: row.outcome,
  serial: row.serial,
  user: row.user_name,
  source: row.source_key,
  commonName: row.reversed_common_name === null ? null : reverseName(row.reversed_common_name),
  notAfter: row.not_after,
  refusedBy: [...refusedBy].sort(),
});

/** Reads the ledger: the CLI, GET /v1/audit and `audit verify`. */
export interface AuditReader {
  /** Records matching every given filter, oldest first. */
  query(filter: AuditQuery): Promise<AuditRecord[]>;
  /** Counts over records whose time is in [since, until) (ISO 8601 UTC), for the console. */
  overview(range: { readonly since: string; readonly until: string }): Promise<AuditOverview>;
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
  /** An hour where a rollup of the overview (overview_hours.ts) disagrees with the records, if any. */
  hourRollupDifference(): Promise<{ table: string; hour: string } | undefined>;
  /**
   * Why records a writer acknowledged cannot all be read (SQLite: a journal entry damaged, or out of
   * its chain's order), naming the journal and the entry; undefined when none. Not yet indexed is no
   * problem: a reader indexes what the journals hold before it reads.
   */
  journalProblem(): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Writes the ledger: the writer of one process's chain. */
export interface AuditStore extends AuditReader {
  /** Appends records, and the subtrees they complete, in one transaction: durable together once it resolves, or not at all. */
  appendAll(records: readonly IndexedRecord[], nodes: readonly TreeNode[]): Promise<void>;
  /**
   * Makes durable records queryable: SQLite's journaled writer copies its journal's records in
   * (`own`), or every journal's (`every journal`: those of other processes too, a dead one's then
   * removed); elsewhere they are queryable once appended, and this does nothing. Returns the chains
   * whose journal could not be indexed whole (a damaged entry): never to be sealed as they stand.
   */
  index(scope: 'own' | 'every journal'): Promise<readonly string[]>;
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
