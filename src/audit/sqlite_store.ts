import Database from 'better-sqlite3';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { BUSY_TIMEOUT_MS, enterWalMode } from '../sqlite_wal';
import { fileIdentity } from './durable_file';
import { ReaderJournals, type IndexTarget } from './journal_index';
import { Frontier, leafHash, type Subtree, type SubtreeHashes } from './merkle';
import { recordColumns, type AuditEvent, type AuditRecord, type IndexedRecord, type RecordColumns } from './record';
import { countsOver, HOUR_ROLLUPS, hourCounts, hourDifference, hourRollupBackfill, hourRollupSchema, hourSpans, RA_HOURS, REFUSAL_HOURS, REQUESTER_HOURS, upsertHours } from './overview_hours';
import { normalizeSerial } from './serial';
import { sourceRange } from './source';
import { BROAD_NAME, EXPIRING_WINDOW_MS, OVERVIEW_TOP, reverseName, FILTER_INDEXES, type AuditOverview, type AuditQuery, type AuditStore, type Checkpoint, type NameIndexDifference, type StoredColumnsRow, storedColumns, type StoredRecord, type TreeNode } from './store';
import { appendLeaf, storedSubtrees } from './tree';

// The embedded ledger store: SQLite in WAL mode, so readers (the CLI, GET /v1/audit) never block the
// writer. The indexed columns are copies of fields inside `body`, kept for queries; `audit verify`
// checks they still agree with the hashed text. better-sqlite3 is synchronous: this store runs on a
// thread of its own (the writer's, or SqliteReaderThread's), never on the thread that serves requests.

const SCHEMA_VERSION = 4;
/** Bytes a page of a new ledger. */
const PAGE_SIZE = 16384;
/** The WAL is copied back into the database once it holds this many bytes of pages (see the constructor). */
const WAL_CHECKPOINT_BYTES = 40 * 1024 * 1024;
/** The writer's page cache, KiB. */
const WRITER_CACHE_KIB = 16384;

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
`;

/** Version 2: each chain a Merkle tree (tree.ts), and checkpoints as signed C2SP notes. */
const TREE_SCHEMA = `
ALTER TABLE records ADD COLUMN leaf_hash TEXT;
CREATE TABLE tree_nodes (
  chain TEXT NOT NULL,
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (chain, level, idx)
);
ALTER TABLE checkpoints ADD COLUMN note TEXT;
`;

/** Records read a page at a time when a migration builds the trees of an existing ledger. */
const MIGRATION_PAGE = 10_000;

/**
 * Version 3: the columns auditors filter by (who asked, from where, the common name, the refusing
 * validators) and those the console's overview counts, each indexed with the time.
 */
const QUERY_COLUMNS = `
ALTER TABLE records ADD COLUMN user_name TEXT;
ALTER TABLE records ADD COLUMN source_key TEXT;
ALTER TABLE records ADD COLUMN reversed_common_name TEXT;
ALTER TABLE records ADD COLUMN not_after TEXT;
CREATE TABLE record_refusals (
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  validator TEXT NOT NULL,
  time TEXT NOT NULL
);
${FILTER_INDEXES}`;

/** The columns QUERY_COLUMNS adds, as a record's values, in this order. */
const queryColumnValues = (columns: RecordColumns) => [columns.user, columns.source, columns.commonName === null ? null : reverseName(columns.commonName), columns.notAfter] as const;

/** Fills version 3's columns of records written before it, from each record's hashed text. */
function backfillQueryColumns(db: Database.Database): void {
  const page = db.prepare('SELECT rowid, chain, seq, body FROM records WHERE rowid > ? ORDER BY rowid LIMIT 5000');
  const update = db.prepare('UPDATE records SET user_name = ?, source_key = ?, reversed_common_name = ?, not_after = ? WHERE rowid = ?');
  const refusal = db.prepare('INSERT INTO record_refusals (chain, seq, validator, time) VALUES (?, ?, ?, ?)');
  for (let after = 0; ; ) {
    const rows = page.all(after) as { rowid: number; chain: string; seq: number; body: string }[];
    for (const row of rows) {
      const columns = recordColumns(JSON.parse(row.body) as AuditEvent);
      update.run(...queryColumnValues(columns), row.rowid);
      for (const validator of columns.refusedBy) refusal.run(row.chain, row.seq, validator, columns.time);
    }
    if (rows.length === 0) return;
    after = rows[rows.length - 1].rowid;
  }
}

/**
 * `audit list`, GET /v1/audit and the console's search: every filter given, ANDed. `broad`: the name
 * glob matches so many names that reading them all from the name index costs more than checking
 * records in time order until the page is full.
 */
function queryConditions(filter: AuditQuery, broad: boolean): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  // A time range on a subquery of an index keyed (…, time) keeps it to the range's part.
  const within = (alias: string): string => [...(filter.since !== undefined ? [` AND ${alias}.time >= ?`] : []), ...(filter.until !== undefined ? [` AND ${alias}.time < ?`] : [])].join('');
  // A narrow name search fetches its few records by rowid: '+' keeps SQLite from walking another
  // index of records (the time, an outcome) instead, probing each record against the set.
  const narrow = filter.name !== undefined && !broad;
  const r = (column: string): string => (narrow ? `+r.${column}` : `r.${column}`);
  const range = [...(filter.since !== undefined ? [filter.since] : []), ...(filter.until !== undefined ? [filter.until] : [])];
  if (filter.ra !== undefined) (where.push(`${r('ra')} = ?`), params.push(filter.ra));
  if (filter.since !== undefined) (where.push(`${r('time')} >= ?`), params.push(filter.since));
  if (filter.until !== undefined) (where.push(`${r('time')} < ?`), params.push(filter.until));
  if (filter.outcome !== undefined) (where.push(`${r('outcome')} = ?`), params.push(filter.outcome));
  if (filter.serial !== undefined) (where.push(`${r('serial')} = ?`), params.push(normalizeSerial(filter.serial) ?? ''));
  if (filter.user !== undefined) (where.push(`${r('user_name')} = ?`), params.push(filter.user));
  if (filter.source !== undefined) {
    const span = sourceRange(filter.source);
    where.push(span ? `${r('source_key')} BETWEEN ? AND ?` : '0');
    if (span) params.push(span.low, span.high);
  }
  if (filter.validator !== undefined) {
    where.push(`(${r('chain')}, ${r('seq')}) IN (SELECT v.chain, v.seq FROM record_refusals v WHERE v.validator = ?${within('v')})`);
    params.push(filter.validator, ...range);
  }
  if (filter.name !== undefined && broad) {
    // Many records carry such names: each record, walked in time order, is checked, so a page stops early.
    where.push('(r.reversed_common_name GLOB ? OR EXISTS (SELECT 1 FROM record_names n WHERE n.chain = r.chain AND n.seq = r.seq AND n.reversed_name GLOB ?))');
    params.push(reverseName(filter.name), reverseName(filter.name));
  } else if (filter.name !== undefined) {
    // Few do: the (reversed name, time) indexes give them, within the time range, and the records
    // are fetched by rowid (a (chain, seq) pair IN a set would walk every record in time order).
    where.push(`r.rowid IN (SELECT k.rowid FROM record_names n JOIN records k ON k.chain = n.chain AND k.seq = n.seq WHERE n.reversed_name GLOB ?${within('n')}
      UNION ALL SELECT c.rowid FROM records c INDEXED BY records_common_name_time WHERE c.reversed_common_name GLOB ?${within('c')})`);
    params.push(reverseName(filter.name), ...range, reverseName(filter.name), ...range);
  }
  if (filter.after) {
    where.push(`(${r('time')}, ${r('chain')}, ${r('seq')}) > (?, ?, ?)`);
    params.push(filter.after.time, filter.after.chain, filter.after.seq);
  }
  return { where, params };
}


export interface SqliteStoreOptions {
  /** A reader: its connection is read-only; what the journals hold and the file lacks, it indexes first on a second one. */
  readonly readonly?: boolean;
  /** A journal (journal.ts) keeps the records durable: a commit here needs no fsync of its own. */
  readonly journaled?: boolean;
  /** BROAD_NAME; the store test lowers it to compare both plans' answers. */
  readonly broadName?: number;
}

/** The end of the overview's window for certificates expiring soon. */
const expiringUntil = (until: string): string => new Date(Date.parse(until) + EXPIRING_WINDOW_MS).toISOString();


export class SqliteAuditStore implements AuditStore, IndexTarget {
  readonly db: Database.Database;
  /** The writer's database and WAL files as opened: a path that names another file later was deleted or replaced under it. */
  private readonly opened: readonly { readonly path: string; readonly identity: string | undefined }[] = [];
  /** Why the last commit failed (a full disk, an I/O error), until one succeeds. */
  private commitFailure?: string;
  private appendStatements?: { readonly batch: (records: readonly IndexedRecord[], nodes: readonly TreeNode[], duplicates: 'fail' | 'skip') => void };
  /** A reader's view of the journals (journal_index.ts). */
  private journals?: ReaderJournals;

  constructor(
    protected readonly file: string,
    private readonly options: SqliteStoreOptions = {},
  ) {
    this.db = new Database(file, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    // Before anything that locks: the writers of `serve --workers N` open one ledger at once.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!options.readonly) {
      // A new ledger's pages (an existing file keeps its own size): a record's text is ~2 KiB, and
      // indexing 1,000 of them writes each page it touches to the WAL and back again, a pwrite a
      // page. 16 KiB pages cut the writer's CPU a record by about a third against SQLite's 4 KiB
      // (2026-12-06: 69 → 43 µs on a new ledger, 250 → 217 µs at 300,000 records).
      this.db.pragma(`page_size = ${PAGE_SIZE}`);
      enterWalMode(this.db);
      // FULL: a commit is on disk (the WAL fsynced) before the writer acknowledges it. NORMAL when a
      // journal holds the records: a commit lost to a power cut is indexed again from the journal.
      this.db.pragma(`synchronous = ${options.journaled ? 'NORMAL' : 'FULL'}`);
      // A checkpoint copies every page the WAL holds back into the database and fsyncs it; at
      // SQLite's default (1,000 pages, a few dozen group commits here) the pages every commit
      // touches (the indexes' last leaves, the rollups) were copied again and again. A WAL of up
      // to 40 MiB (10,000 pages of 4 KiB) cut the writer's CPU a record by about a tenth
      // (2026-12-06, two processes writing one ledger).
      this.db.pragma(`wal_autocheckpoint = ${Math.round(WAL_CHECKPOINT_BYTES / (this.db.pragma('page_size', { simple: true }) as number))}`);
      // The indexes' pages a batch touches stay in memory for the next batch (SQLite's default is 2 MiB).
      this.db.pragma(`cache_size = -${WRITER_CACHE_KIB}`);
      this.migrate();
      // The WAL exists from here on: SQLite deletes it only when the last connection closes.
      this.opened = [file, `${file}-wal`].map((path) => ({ path, identity: fileIdentity(path) }));
    } else {
      this.requireCurrentSchema();
      this.journals = new ReaderJournals(file, this, () => new SqliteAuditStore(file, { journaled: true }));
    }
  }

  /** A reader's first step before each read: what the journals hold and SQLite lacks, indexed. */
  private async catchUp(): Promise<void> {
    await this.journals?.catchUp();
  }

  async journalProblem(): Promise<string | undefined> {
    await this.catchUp();
    return this.journals?.problems[0];
  }

  /** Inserts records (and their subtrees) not yet stored, skipping those that are: indexing a journal. */
  insert(records: readonly IndexedRecord[], nodes: readonly TreeNode[]): void {
    this.appendStatements ??= this.prepareAppend();
    this.appendStatements.batch(records, nodes, 'skip');
  }

  /**
   * Every commit so far on disk: one commit at synchronous=FULL fsyncs the WAL, and with it every
   * commit before it. (Writing the schema version writes a page, as problem()'s test write does.)
   */
  makeDurable(): void {
    if (!this.options.journaled) return; // each commit was synced
    this.db.pragma('synchronous = FULL');
    try {
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /**
   * Versioned like the PostgreSQL store (PRAGMA user_version): version 1 is the schema above, which a
   * ledger from before versioning already has (its statements are IF NOT EXISTS); each later version
   * is a step run once, in order, in the same transaction: version 2 makes each chain a Merkle tree,
   * hashing the records already there, version 3 adds the query columns, filled from each record's
   * text, version 4 the overview's hourly counts (overview_hours.ts), counted from the records. A ledger newer than this Mayfly is refused rather than misread. A read-only connection
   * cannot migrate, so it refuses an older ledger too. The version that decides the steps is read
   * under the write lock: writers opening an older (or a new) ledger together migrate it once.
   */
  private migrate(): void {
    const schemaVersion = () => this.db.pragma('user_version', { simple: true }) as number;
    if (schemaVersion() === SCHEMA_VERSION) return;
    const steps: readonly (() => void)[] = [
      () => this.db.exec(SCHEMA),
      () => {
        this.db.exec(TREE_SCHEMA);
        this.buildTrees();
      },
      () => {
        this.db.exec(QUERY_COLUMNS);
        backfillQueryColumns(this.db);
      },
      () => {
        this.db.exec(hourRollupSchema('TEXT'));
        for (const backfill of hourRollupBackfill()) this.db.exec(backfill);
      },
    ];
    this.db
      .transaction(() => {
        const version = schemaVersion();
        if (version > SCHEMA_VERSION) throw new Error(`the ledger's schema is version ${version}, newer than this Mayfly knows (${SCHEMA_VERSION}); upgrade Mayfly`);
        for (let step = version; step < SCHEMA_VERSION; step++) steps[step]();
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate();
  }

  /** Hashes the records of a ledger written before version 2 into their chains' trees. */
  private buildTrees(): void {
    const page = this.db.prepare('SELECT chain, seq, body FROM records WHERE (chain, seq) > (?, ?) ORDER BY chain, seq LIMIT ?');
    const setLeaf = this.db.prepare('UPDATE records SET leaf_hash = ? WHERE chain = ? AND seq = ?');
    const addNode = this.db.prepare('INSERT INTO tree_nodes (chain, level, idx, hash) VALUES (?, ?, ?, ?)');
    let frontier = Frontier.empty();
    let current = '';
    for (let after = { chain: '', seq: 0 }; ; ) {
      const rows = page.all(after.chain, after.seq, MIGRATION_PAGE) as { chain: string; seq: number; body: string }[];
      for (const { chain, seq, body } of rows) {
        if (chain !== current) [frontier, current] = [Frontier.empty(), chain];
        const leaf = leafHash(body);
        setLeaf.run(leaf.toString('hex'), chain, seq);
        const nodes: TreeNode[] = [];
        appendLeaf(frontier, chain, leaf, nodes);
        for (const node of nodes) addNode.run(node.chain, node.level, node.index, node.hash);
      }
      if (rows.length < MIGRATION_PAGE) return;
      after = rows[rows.length - 1];
    }
  }

  /** A reader of a ledger whose writer has not yet brought it to this Mayfly's schema. */
  private requireCurrentSchema(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version !== SCHEMA_VERSION) {
      throw new Error(`the ledger's schema is version ${version}, and this Mayfly reads version ${SCHEMA_VERSION}: ${version < SCHEMA_VERSION ? 'start `mayfly serve` once to bring it up to date' : 'upgrade Mayfly'}`);
    }
  }

  /**
   * Appends records (one transaction: one fsync for the whole batch). A commit into a file that a
   * path no longer names is lost with it, so it fails like any commit that did not last.
   */
  async appendAll(records: readonly IndexedRecord[], nodes: readonly TreeNode[]): Promise<void> {
    this.appendStatements ??= this.prepareAppend();
    try {
      this.appendStatements.batch(records, nodes, 'fail');
      const displaced = this.displaced();
      if (displaced !== undefined) throw new Error(displaced);
    } catch (error) {
      this.commitFailure = (error as Error).message;
      throw error;
    }
    this.commitFailure = undefined;
  }

  /**
   * The database or WAL file deleted or replaced while this connection has it open: SQLite goes on
   * committing to the unlinked file, and every record is lost with it.
   */
  protected displaced(): string | undefined {
    const gone = this.opened.find(({ path, identity }) => identity === undefined || fileIdentity(path) !== identity);
    return gone && `${gone.path} was deleted or replaced while the ledger had it open; what was written to it since is lost, restart Mayfly to open the ledger again`;
  }

  private prepareAppend(): NonNullable<SqliteAuditStore['appendStatements']> {
    const record = this.db.prepare(
      'INSERT INTO records (chain, seq, prev_hash, hash, body, time, ra, event, outcome, serial, leaf_hash, user_name, source_key, reversed_common_name, not_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chain, seq) DO NOTHING',
    );
    const storedHash = this.db.prepare('SELECT hash FROM records WHERE chain = ? AND seq = ?').pluck();
    const name = this.db.prepare('INSERT INTO record_names (chain, seq, reversed_name, time) VALUES (?, ?, ?, ?)');
    const refusal = this.db.prepare('INSERT INTO record_refusals (chain, seq, validator, time) VALUES (?, ?, ?, ?)');
    const node = this.db.prepare('INSERT INTO tree_nodes (chain, level, idx, hash) VALUES (?, ?, ?, ?) ON CONFLICT (chain, level, idx) DO NOTHING');
    const storedNode = this.db.prepare('SELECT hash FROM tree_nodes WHERE chain = ? AND level = ? AND idx = ?').pluck();
    const hours = new Map(HOUR_ROLLUPS.map((rollup) => [rollup, this.db.prepare(upsertHours(rollup, `VALUES (${['hour', ...rollup.keys, 'count'].map(() => '?').join(', ')})`))]));
    // A record already stored is skipped with its names, refusals and counts: indexing a journal
    // again adds nothing. An append (`fail`) never repeats one: its chain's head was read back. Only
    // the same record is skipped: another one in its place means the chain forked (a reader indexed
    // an entry its writer then cut back off), and is never dropped silently.
    const batch = this.db.transaction((records: readonly IndexedRecord[], nodes: readonly TreeNode[], duplicates: 'fail' | 'skip') => {
      const added = records.filter(({ chain, seq, prevHash, hash, body, columns, leafHash: leaf }) => {
        const { changes } = record.run(chain, seq, prevHash, hash, body, columns.time, columns.ra, columns.event, columns.outcome, columns.serial, leaf, ...queryColumnValues(columns));
        if (changes === 0 && duplicates === 'fail') throw new Error(`record ${seq} of chain ${chain} is already stored`);
        if (changes === 0 && storedHash.get(chain, seq) !== hash) throw new Error(`record ${seq} of chain ${chain} is stored with another hash: the chain forked`);
        if (changes === 0) return false;
        for (const recordName of columns.names) name.run(chain, seq, reverseName(recordName), columns.time);
        for (const validator of columns.refusedBy) refusal.run(chain, seq, validator, columns.time);
        return true;
      });
      for (const { chain, level, index, hash } of nodes) {
        if (node.run(chain, level, index, hash).changes === 0 && storedNode.get(chain, level, index) !== hash) throw new Error(`subtree ${level}/${index} of chain ${chain} is stored with another hash: the chain forked`);
      }
      for (const { rollup, rows } of hourCounts(added)) for (const row of rows) hours.get(rollup)!.run(...row);
    });
    return { batch };
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.db
      .prepare('INSERT INTO checkpoints (chain, seq, head_hash, time, signature, note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chain, seq) DO UPDATE SET signature = excluded.signature, note = excluded.note')
      .run(checkpoint.chain, checkpoint.seq, checkpoint.headHash, checkpoint.time, checkpoint.signature, checkpoint.note ?? null);
  }

  async leafHashes(chain: string, from: number, to: number): Promise<string[]> {
    await this.catchUp();
    return this.storedLeafHashes(chain, from, to);
  }

  async treeNodes(chain: string, subtrees: readonly Subtree[]): Promise<(string | undefined)[]> {
    await this.catchUp();
    return this.storedTreeNodes(chain, subtrees);
  }

  /** The chain's tree as stored, read without indexing the journals first (indexing reads it). */
  subtrees(chain: string): SubtreeHashes {
    return storedSubtrees({ leafHashes: async (...range) => this.storedLeafHashes(...range), treeNodes: async (...nodes) => this.storedTreeNodes(...nodes) }, chain);
  }

  private storedLeafHashes(chain: string, from: number, to: number): string[] {
    const rows = this.db.prepare('SELECT leaf_hash AS leafHash FROM records WHERE chain = ? AND seq > ? AND seq <= ? ORDER BY seq').all(chain, from, to) as { leafHash: string | null }[];
    return rows.flatMap((row) => (row.leafHash === null ? [] : [row.leafHash]));
  }

  private storedTreeNodes(chain: string, subtrees: readonly Subtree[]): (string | undefined)[] {
    const node = this.db.prepare('SELECT hash FROM tree_nodes WHERE chain = ? AND level = ? AND idx = ?');
    return subtrees.map((subtree) => (node.get(chain, subtree.level, subtree.index) as { hash: string } | undefined)?.hash);
  }

  async query(filter: AuditQuery): Promise<AuditRecord[]> {
    await this.catchUp();
    const { where, params } = queryConditions(filter, filter.name !== undefined && this.broadName(filter.name));
    const sql = `SELECT chain, seq, prev_hash AS prevHash, hash, body FROM records r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.time, r.chain, r.seq LIMIT ?`;
    return this.db.prepare(sql).all(...params, filter.limit ?? -1) as AuditRecord[];
  }

  /** Whether a name glob matches BROAD_NAME names or common names or more (counted in the indexes, up to that many). */
  private broadName(glob: string): boolean {
    const broad = this.options.broadName ?? BROAD_NAME;
    const counted = this.db
      .prepare(
        `SELECT (SELECT count(*) FROM (SELECT 1 FROM record_names WHERE reversed_name GLOB @glob LIMIT @limit))
          + (SELECT count(*) FROM (SELECT 1 FROM records INDEXED BY records_common_name_time WHERE reversed_common_name GLOB @glob LIMIT @limit)) AS n`,
      )
      .get({ glob: reverseName(glob), limit: broad }) as { n: number };
    return counted.n >= broad;
  }

  /** Whole hours from the hourly counts, partial ones from the records (overview_hours.ts). */
  async overview(range: { readonly since: string; readonly until: string }): Promise<AuditOverview> {
    await this.catchUp();
    const { until } = range;
    const spans = hourSpans(range);
    const over = (rollup: typeof RA_HOURS) => countsOver(rollup, (name) => `@${name}`);
    const hourly = this.db
      .prepare(
        `SELECT hour, ra, sum(CASE outcome WHEN 'issued' THEN count ELSE 0 END) AS issued, sum(CASE outcome WHEN 'refused' THEN count ELSE 0 END) AS refused
         FROM (${over(RA_HOURS)}) WHERE outcome IN ('issued', 'refused') GROUP BY 1, 2 ORDER BY 1, 2`,
      )
      .all(spans) as AuditOverview['hourly'][number][];
    const refusalsByValidator = this.db
      .prepare(`SELECT validator, sum(count) AS count FROM (${over(REFUSAL_HOURS)}) GROUP BY validator ORDER BY 2 DESC, validator LIMIT @top`)
      .all({ ...spans, top: OVERVIEW_TOP }) as AuditOverview['refusalsByValidator'][number][];
    const topRequesters = this.db
      .prepare(
        `SELECT user_name AS user, sum(CASE outcome WHEN 'issued' THEN count ELSE 0 END) AS issued, sum(CASE outcome WHEN 'refused' THEN count ELSE 0 END) AS refused
         FROM (${over(REQUESTER_HOURS)}) WHERE outcome IN ('issued', 'refused') GROUP BY user_name ORDER BY sum(count) DESC, user_name LIMIT @top`,
      )
      .all({ ...spans, top: OVERVIEW_TOP }) as AuditOverview['topRequesters'][number][];
    const expiringSoon = this.db
      .prepare('SELECT ra, count(*) AS count, min(not_after) AS next FROM records WHERE not_after >= ? AND not_after < ? GROUP BY ra ORDER BY ra')
      .all(until, expiringUntil(until)) as AuditOverview['expiringSoon'][number][];
    return { hourly, refusalsByValidator, topRequesters, expiringSoon };
  }

  async record(chain: string, seq: number): Promise<AuditRecord | undefined> {
    await this.catchUp();
    return this.db.prepare('SELECT chain, seq, prev_hash AS prevHash, hash, body FROM records WHERE chain = ? AND seq = ?').get(chain, seq) as AuditRecord | undefined;
  }

  async chains(): Promise<string[]> {
    await this.catchUp();
    return (this.db.prepare('SELECT DISTINCT chain FROM records UNION SELECT DISTINCT chain FROM checkpoints ORDER BY 1').all() as { chain: string }[]).map((row) => row.chain);
  }

  async walkPage(chain: string, afterSeq: number, limit: number): Promise<StoredRecord[]> {
    await this.catchUp();
    const rows = this.db
      .prepare(
        `SELECT chain, seq, prev_hash AS prevHash, hash, body, leaf_hash AS leafHash, time, ra, event, outcome, serial, user_name, source_key, reversed_common_name, not_after,
           (SELECT json_group_array(validator) FROM record_refusals v WHERE v.chain = r.chain AND v.seq = r.seq) AS refused_by
         FROM records r WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?`,
      )
      .all(chain, afterSeq, limit) as (AuditRecord & StoredColumnsRow & { leafHash: string | null; refused_by: string })[];
    return rows.map((row) => ({ chain: row.chain, seq: row.seq, prevHash: row.prevHash, hash: row.hash, body: row.body, leafHash: row.leafHash, columns: storedColumns(row, JSON.parse(row.refused_by) as string[]) }));
  }

  /** The chain's last indexed record (a reader's: without indexing first, as indexing asks it). */
  async chainHead(chain: string): Promise<{ seq: number; hash: string } | undefined> {
    return this.db.prepare('SELECT seq, hash FROM records WHERE chain = ? ORDER BY seq DESC LIMIT 1').get(chain) as { seq: number; hash: string } | undefined;
  }

  /** A store without a journal: appended records are queryable at once. */
  async index(_scope: 'own' | 'every journal'): Promise<readonly string[]> {
    return [];
  }

  /**
   * Set differences in SQL, so a ledger of millions of records is sorted, not scanned once a record.
   * The records' time column stands for their text's: verification compares those first.
   */
  async nameIndexDifference(): Promise<NameIndexDifference | undefined> {
    await this.catchUp();
    this.db.function('mayfly_reverse_name', { deterministic: true }, (name: unknown) => reverseName(String(name)));
    const carried = `SELECT * FROM (SELECT r.chain AS chain, r.seq AS seq, mayfly_reverse_name(j.value) AS reversed_name, r.time AS time FROM records r, json_each(r.body, '$.dns_names') j
      UNION SELECT r.chain, r.seq, mayfly_reverse_name(j.value), r.time FROM records r, json_each(r.body, '$.ip_addresses') j)`;
    const indexed = 'SELECT chain, seq, reversed_name, time FROM record_names';
    const row = this.db
      .prepare(`SELECT * FROM (SELECT 'missing' AS kind, * FROM (${carried} EXCEPT ${indexed}) UNION ALL SELECT 'extra', * FROM (${indexed} EXCEPT ${carried})) ORDER BY chain, seq, kind DESC, reversed_name, time LIMIT 1`)
      .get() as { kind: NameIndexDifference['kind']; chain: string; seq: number; reversed_name: string; time: string } | undefined;
    return row && { kind: row.kind, chain: row.chain, seq: row.seq, name: reverseName(row.reversed_name), time: row.time };
  }

  async hourRollupDifference(): Promise<{ table: string; hour: string } | undefined> {
    await this.catchUp();
    for (const rollup of HOUR_ROLLUPS) {
      const row = this.db.prepare(hourDifference(rollup)).get() as { hour: string } | undefined;
      if (row) return { table: rollup.table, hour: row.hour };
    }
    return undefined;
  }

  async checkpoints(chain: string): Promise<Checkpoint[]> {
    await this.catchUp();
    const rows = this.db.prepare('SELECT chain, seq, head_hash AS headHash, time, signature, note FROM checkpoints WHERE chain = ? ORDER BY seq').all(chain) as (Checkpoint & { note: string | null })[];
    return rows.map(({ note, ...checkpoint }) => (note === null ? checkpoint : { ...checkpoint, note }));
  }

  /**
   * The database or its WAL was deleted or replaced; commits fail (a full disk) and a test write
   * fails too; or the database file is no longer writable: an open SQLite connection would go on
   * writing a file made read-only (and root ignores the mode), so the file's mode is read as what the
   * operator means.
   */
  async problem(): Promise<string | undefined> {
    const displaced = this.displaced();
    if (displaced !== undefined) return displaced;
    if (this.commitFailure !== undefined) {
      // A test write, not a request, says when commits work again: a CA taken out of rotation for its
      // readiness gets no requests. Setting the schema version to itself writes a page like a commit.
      try {
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
        this.commitFailure = undefined;
      } catch (error) {
        return `the audit ledger ${this.file} cannot commit (${(error as Error).message})`;
      }
    }
    try {
      const info = await stat(this.file);
      if ((info.mode & 0o200) === 0) return `the audit ledger ${this.file} is read-only`;
      await access(this.file, constants.W_OK);
    } catch (error) {
      return `the audit ledger ${this.file} is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.db.close();
    await this.journals?.close();
  }
}
