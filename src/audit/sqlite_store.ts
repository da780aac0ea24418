import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { AuditRecord, IndexedRecord } from './record';

// The embedded ledger store: SQLite in WAL mode, so readers (the CLI, GET /v1/audit) never block the
// writer. The indexed columns are copies of fields inside `body`, kept for queries; `audit verify`
// checks they still agree with the hashed text.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  body TEXT NOT NULL,
  time TEXT NOT NULL,
  ra TEXT NOT NULL,
  event TEXT NOT NULL,
  outcome TEXT NOT NULL,
  serial TEXT,
  PRIMARY KEY (chain, seq)
);
CREATE INDEX IF NOT EXISTS records_time ON records (time);
CREATE INDEX IF NOT EXISTS records_serial ON records (serial) WHERE serial IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_outcome_time ON records (outcome, time);
CREATE INDEX IF NOT EXISTS records_ra_time ON records (ra, time);
-- Names are stored reversed (com.example.svc), so a glob such as *.example.com becomes a prefix
-- search that the index answers, even at millions of records.
CREATE TABLE IF NOT EXISTS record_names (
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  reversed_name TEXT NOT NULL,
  time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS record_names_name_time ON record_names (reversed_name, time);
CREATE TABLE IF NOT EXISTS checkpoints (
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  time TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (chain, seq)
);
-- After a failed commit (a full disk), the writer's test writes: readiness recovers without a request.
CREATE TABLE IF NOT EXISTS writer_probes (
  chain TEXT PRIMARY KEY,
  time TEXT NOT NULL
);
`;

export const reverseName = (name: string): string => name.toLowerCase().split('').reverse().join('');

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

/** A file's identity (device and inode), or undefined when the path names nothing. */
function fileIdentity(path: string): string | undefined {
  try {
    const info = statSync(path, { bigint: true });
    return `${info.dev}:${info.ino}`;
  } catch {
    return undefined;
  }
}

export class SqliteAuditStore {
  readonly db: Database.Database;
  /** The writer's database and WAL files as opened: a path that names another file later was deleted or replaced under it. */
  private readonly opened: readonly { readonly path: string; readonly identity: string | undefined }[] = [];
  private appendStatements?: { readonly record: Database.Statement; readonly name: Database.Statement; readonly batch: (records: readonly IndexedRecord[]) => void };

  constructor(file: string, options: { readonly readonly?: boolean } = {}) {
    this.db = new Database(file, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      // FULL: a commit is on disk (the WAL fsynced) before the writer acknowledges it.
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
      // The WAL exists from here on: it is deleted only when the last connection closes.
      this.opened = [file, `${file}-wal`].map((path) => ({ path, identity: fileIdentity(path) }));
    }
    this.db.pragma('busy_timeout = 5000');
  }

  /** Appends records (one transaction: one fsync for the whole batch). */
  appendAll(records: readonly IndexedRecord[]): void {
    this.appendStatements ??= this.prepareAppend();
    this.appendStatements.batch(records);
  }

  private prepareAppend(): NonNullable<SqliteAuditStore['appendStatements']> {
    const record = this.db.prepare('INSERT INTO records (chain, seq, prev_hash, hash, body, time, ra, event, outcome, serial) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const name = this.db.prepare('INSERT INTO record_names (chain, seq, reversed_name, time) VALUES (?, ?, ?, ?)');
    const batch = this.db.transaction((records: readonly IndexedRecord[]) => {
      for (const { chain, seq, prevHash, hash, body, columns } of records) {
        record.run(chain, seq, prevHash, hash, body, columns.time, columns.ra, columns.event, columns.outcome, columns.serial);
        for (const recordName of columns.names) name.run(chain, seq, reverseName(recordName), columns.time);
      }
    });
    return { record, name, batch };
  }

  /**
   * The database or WAL file whose path no longer names the file this connection writes (deleted or
   * replaced): SQLite goes on committing to the unlinked file, and every record is lost with it.
   */
  displacedFile(): string | undefined {
    return this.opened.find(({ path, identity }) => identity === undefined || fileIdentity(path) !== identity)?.path;
  }

  /** A small durable write (one row a chain): can the ledger commit again, after a commit failed? */
  probeWrite(chain: string): void {
    this.db.prepare('INSERT INTO writer_probes (chain, time) VALUES (?, ?) ON CONFLICT (chain) DO UPDATE SET time = excluded.time').run(chain, new Date().toISOString());
  }

  addCheckpoint(checkpoint: Checkpoint): void {
    this.db.prepare('INSERT INTO checkpoints (chain, seq, head_hash, time, signature) VALUES (?, ?, ?, ?, ?)').run(checkpoint.chain, checkpoint.seq, checkpoint.headHash, checkpoint.time, checkpoint.signature);
  }

  /** Records matching every given filter, oldest first. */
  query(filter: AuditQuery): AuditRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.ra !== undefined) (where.push('r.ra = ?'), params.push(filter.ra));
    if (filter.since !== undefined) (where.push('r.time >= ?'), params.push(filter.since));
    if (filter.until !== undefined) (where.push('r.time < ?'), params.push(filter.until));
    if (filter.outcome !== undefined) (where.push('r.outcome = ?'), params.push(filter.outcome));
    if (filter.serial !== undefined) (where.push('r.serial = ?'), params.push(filter.serial.toLowerCase().replace(/:/g, '')));
    if (filter.name !== undefined) {
      // Driven from the (reversed name, time) index: a prefix range of names within the time range
      // gives the set of records, which the time-ordered scan then probes.
      const range = [...(filter.since !== undefined ? ['n.time >= ?'] : []), ...(filter.until !== undefined ? ['n.time < ?'] : [])];
      where.push(`(r.chain, r.seq) IN (SELECT n.chain, n.seq FROM record_names n WHERE n.reversed_name GLOB ?${range.map((c) => ` AND ${c}`).join('')})`);
      params.push(reverseName(filter.name), ...(filter.since !== undefined ? [filter.since] : []), ...(filter.until !== undefined ? [filter.until] : []));
    }
    if (filter.after) {
      where.push('(r.time, r.chain, r.seq) > (?, ?, ?)');
      params.push(filter.after.time, filter.after.chain, filter.after.seq);
    }
    const sql = `SELECT chain, seq, prev_hash AS prevHash, hash, body FROM records r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.time, r.chain, r.seq LIMIT ?`;
    return this.db.prepare(sql).all(...params, filter.limit ?? -1) as AuditRecord[];
  }

  /** One record by chain position. */
  record(chain: string, seq: number): AuditRecord | undefined {
    return this.db.prepare('SELECT chain, seq, prev_hash AS prevHash, hash, body FROM records WHERE chain = ? AND seq = ?').get(chain, seq) as AuditRecord | undefined;
  }

  /** Records by global position (rowid order), for `audit show <seq>` across chains. */
  chains(): string[] {
    return (this.db.prepare('SELECT DISTINCT chain FROM records UNION SELECT DISTINCT chain FROM checkpoints ORDER BY 1').all() as { chain: string }[]).map((row) => row.chain);
  }

  /** Every record of a chain in sequence order, with its indexed columns, for verification. */
  *walk(chain: string): Generator<AuditRecord & { readonly columns: { time: string; ra: string; event: string; outcome: string; serial: string | null } }> {
    const rows = this.db.prepare('SELECT chain, seq, prev_hash AS prevHash, hash, body, time, ra, event, outcome, serial FROM records WHERE chain = ? ORDER BY seq').iterate(chain) as Iterable<
      AuditRecord & { time: string; ra: string; event: string; outcome: string; serial: string | null }
    >;
    for (const row of rows) yield { chain: row.chain, seq: row.seq, prevHash: row.prevHash, hash: row.hash, body: row.body, columns: { time: row.time, ra: row.ra, event: row.event, outcome: row.outcome, serial: row.serial } };
  }

  /**
   * The first difference between the name index and the names the records carry: a name missing
   * from the index hides its record from name searches; an extra one files a record under a name it
   * does not carry. Set differences in SQL, so a ledger of millions of records is sorted, not scanned
   * once a record. The records' time column stands for their text's: verification compares those first.
   */
  nameIndexDifference(): NameIndexDifference | undefined {
    this.db.function('mayfly_reverse_name', { deterministic: true }, (name: unknown) => reverseName(String(name)));
    const carried = `SELECT * FROM (SELECT r.chain AS chain, r.seq AS seq, mayfly_reverse_name(j.value) AS reversed_name, r.time AS time FROM records r, json_each(r.body, '$.dns_names') j
      UNION SELECT r.chain, r.seq, mayfly_reverse_name(j.value), r.time FROM records r, json_each(r.body, '$.ip_addresses') j)`;
    const indexed = 'SELECT chain, seq, reversed_name, time FROM record_names';
    const row = this.db
      .prepare(`SELECT * FROM (SELECT 'missing' AS kind, * FROM (${carried} EXCEPT ${indexed}) UNION ALL SELECT 'extra', * FROM (${indexed} EXCEPT ${carried})) ORDER BY chain, seq, kind DESC, reversed_name, time LIMIT 1`)
      .get() as { kind: NameIndexDifference['kind']; chain: string; seq: number; reversed_name: string; time: string } | undefined;
    return row && { kind: row.kind, chain: row.chain, seq: row.seq, name: reverseName(row.reversed_name), time: row.time };
  }

  checkpoints(chain: string): Checkpoint[] {
    return this.db.prepare('SELECT chain, seq, head_hash AS headHash, time, signature FROM checkpoints WHERE chain = ? ORDER BY seq').all(chain) as Checkpoint[];
  }

  close(): void {
    this.db.close();
  }
}
