import { Pool, type PoolClient } from 'pg';
import { Frontier, leafHash, type Subtree } from './merkle';
import { recordColumns, type AuditEvent, type AuditRecord, type IndexedRecord } from './record';
import { countsOver, HOUR_ROLLUPS, hourCounts, hourDifference, hourRollupBackfill, hourRollupSchema, hourSpans, RA_HOURS, REFUSAL_HOURS, REQUESTER_HOURS, upsertHours } from './overview_hours';
import { normalizeSerial } from './serial';
import { sourceRange } from './source';
import { BROAD_NAME, EXPIRING_WINDOW_MS, OVERVIEW_TOP, reverseName, FILTER_INDEXES, type AuditOverview, type AuditQuery, type AuditStore, type Checkpoint, type NameIndexDifference, type StoredColumnsRow, storedColumns, type StoredRecord, type TreeNode } from './store';
import { appendLeaf } from './tree';

// The shared ledger store: PostgreSQL, for replicas on several hosts. The tables are SQLite's (each
// process its own chain, so writers never contend for a chain head), and a commit returns only once
// PostgreSQL has flushed its WAL (synchronous_commit on, its default): the same durability promise.
// Text that is ordered or range-searched is COLLATE "C" (byte order), as SQLite's BINARY is, so both
// stores page and match alike whatever locale the database was created with.

/** Records read a page at a time when a migration builds the trees of an existing ledger. */
const MIGRATION_PAGE = 10_000;

/** Hashes the records of a ledger written before version 2 into their chains' trees (as SQLite's migration does). */
async function buildTrees(client: PoolClient): Promise<void> {
  let frontier = Frontier.empty();
  let current = '';
  for (let after = { chain: '', seq: 0 }; ; ) {
    const rows = (await client.query<{ chain: string; seq: number; body: string }>('SELECT chain, seq::int AS seq, body FROM records WHERE (chain, seq) > ($1, $2) ORDER BY chain, seq LIMIT $3', [after.chain, after.seq, MIGRATION_PAGE])).rows;
    const nodes: TreeNode[] = [];
    const leaves = rows.map(({ chain, body }) => {
      if (chain !== current) [frontier, current] = [Frontier.empty(), chain];
      const leaf = leafHash(body);
      appendLeaf(frontier, chain, leaf, nodes);
      return leaf.toString('hex');
    });
    await client.query('UPDATE records r SET leaf_hash = u.leaf FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(chain, seq, leaf) WHERE r.chain = u.chain AND r.seq = u.seq', [rows.map((r) => r.chain), rows.map((r) => r.seq), leaves]);
    await insertNodes(client, nodes);
    if (rows.length < MIGRATION_PAGE) return;
    after = rows[rows.length - 1];
  }
}

async function insertNodes(client: PoolClient, nodes: readonly TreeNode[]): Promise<void> {
  if (nodes.length === 0) return;
  await client.query('INSERT INTO tree_nodes (chain, level, idx, hash) SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[])', [
    nodes.map((n) => n.chain),
    nodes.map((n) => n.level),
    nodes.map((n) => n.index),
    nodes.map((n) => n.hash),
  ]);
}

/** Versioned migrations, applied in order, each once, under an advisory lock: SQL, or work on the open transaction. */
const MIGRATIONS: readonly (string | ((client: PoolClient) => Promise<void>))[] = [
  `CREATE TABLE records (
     chain TEXT COLLATE "C" NOT NULL,
     seq BIGINT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL,
     body TEXT NOT NULL,
     time TEXT COLLATE "C" NOT NULL,
     ra TEXT NOT NULL,
     event TEXT NOT NULL,
     outcome TEXT NOT NULL,
     serial TEXT,
     PRIMARY KEY (chain, seq)
   );
   CREATE INDEX records_time ON records (time);
   CREATE INDEX records_serial ON records (serial) WHERE serial IS NOT NULL;
   CREATE INDEX records_outcome_time ON records (outcome, time);
   CREATE INDEX records_ra_time ON records (ra, time);
   -- Reversed names in byte order: a glob such as *.example.com becomes an indexed prefix range.
   CREATE TABLE record_names (
     chain TEXT COLLATE "C" NOT NULL,
     seq BIGINT NOT NULL,
     reversed_name TEXT COLLATE "C" NOT NULL,
     time TEXT COLLATE "C" NOT NULL
   );
   CREATE INDEX record_names_name_time ON record_names (reversed_name, time);
   CREATE TABLE checkpoints (
     chain TEXT COLLATE "C" NOT NULL,
     seq BIGINT NOT NULL,
     head_hash TEXT NOT NULL,
     time TEXT NOT NULL,
     signature TEXT NOT NULL,
     PRIMARY KEY (chain, seq)
   );`,
  // Version 2: each chain a Merkle tree (tree.ts), and checkpoints as signed C2SP notes.
  async (client) => {
    await client.query(`ALTER TABLE records ADD COLUMN leaf_hash TEXT;
      CREATE TABLE tree_nodes (
        chain TEXT COLLATE "C" NOT NULL,
        level INTEGER NOT NULL,
        idx BIGINT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (chain, level, idx)
      );
      ALTER TABLE checkpoints ADD COLUMN note TEXT;`);
    await buildTrees(client);
  },
  // Version 3: the columns auditors filter by and the console's overview counts, as SQLite's.
  async (client) => {
    await client.query(`
      ALTER TABLE records ADD COLUMN user_name TEXT COLLATE "C", ADD COLUMN source_key TEXT COLLATE "C",
        ADD COLUMN reversed_common_name TEXT COLLATE "C", ADD COLUMN not_after TEXT COLLATE "C";
      CREATE TABLE record_refusals (
        chain TEXT COLLATE "C" NOT NULL,
        seq BIGINT NOT NULL,
        validator TEXT COLLATE "C" NOT NULL,
        time TEXT COLLATE "C" NOT NULL
      );
      ${FILTER_INDEXES}`);
    await backfillQueryColumns(client);
  },
  // Version 4: the overview's hourly counts (overview_hours.ts), counted from the records.
  async (client) => {
    await client.query(hourRollupSchema('TEXT COLLATE "C"'));
    for (const backfill of hourRollupBackfill()) await client.query(backfill);
  },
];

/** Version 3's columns of a batch of records, as arrays for unnest, in QUERY_COLUMNS order. */
const queryColumnArrays = (records: readonly Pick<IndexedRecord, 'columns'>[]) => [
  records.map((r) => r.columns.user),
  records.map((r) => r.columns.source),
  records.map((r) => (r.columns.commonName === null ? null : reverseName(r.columns.commonName))),
  records.map((r) => r.columns.notAfter),
];

/** The refusals of a batch of records, as arrays for unnest. */
const refusalArrays = (records: readonly Pick<IndexedRecord, 'chain' | 'seq' | 'columns'>[]) => {
  const refusals = records.flatMap((record) => record.columns.refusedBy.map((validator) => ({ record, validator })));
  return [refusals.map(({ record }) => record.chain), refusals.map(({ record }) => record.seq), refusals.map(({ validator }) => validator), refusals.map(({ record }) => record.columns.time)];
};

const INSERT_REFUSALS = 'INSERT INTO record_refusals (chain, seq, validator, time) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])';

/** Fills version 3's columns of records written before it, from each record's hashed text. */
async function backfillQueryColumns(client: PoolClient): Promise<void> {
  for (let after = { chain: '', seq: 0 }; ; ) {
    const rows = (await client.query<{ chain: string; seq: number; body: string }>('SELECT chain, seq::int AS seq, body FROM records WHERE (chain, seq) > ($1, $2) ORDER BY chain, seq LIMIT 5000', [after.chain, after.seq])).rows;
    if (rows.length === 0) return;
    const records = rows.map((row) => ({ chain: row.chain, seq: row.seq, columns: recordColumns(JSON.parse(row.body) as AuditEvent) }));
    await client.query(
      `UPDATE records r SET user_name = u.user_name, source_key = u.source_key, reversed_common_name = u.reversed_common_name, not_after = u.not_after
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(chain, seq, user_name, source_key, reversed_common_name, not_after)
       WHERE r.chain = u.chain AND r.seq = u.seq`,
      [records.map((r) => r.chain), records.map((r) => r.seq), ...queryColumnArrays(records)],
    );
    await client.query(INSERT_REFUSALS, refusalArrays(records));
    after = rows[rows.length - 1];
  }
}

/** Any number held by no other Mayfly code: the lock that serialises migrations across replicas. */
const MIGRATION_LOCK = 0x6d617966; // "mayf"

/** A SQLite GLOB (`*`, `?`) as a LIKE pattern, with LIKE's own wildcards and escape taken literally. */
export function likePattern(glob: string): string {
  return glob.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%').replace(/\?/g, '_');
}

const RECORD_COLUMNS = 'chain, seq::int AS seq, prev_hash AS "prevHash", hash, body';

/** As the SQLite store's: every filter given, ANDed; `param` binds a value and names it; `broad` as there. */
function queryConditions(filter: AuditQuery, param: (value: unknown) => string, broad: boolean): string[] {
  const where: string[] = [];
  const within = (alias: string): string =>
    [...(filter.since !== undefined ? [` AND ${alias}.time >= ${param(filter.since)}`] : []), ...(filter.until !== undefined ? [` AND ${alias}.time < ${param(filter.until)}`] : [])].join('');
  if (filter.ra !== undefined) where.push(`r.ra = ${param(filter.ra)}`);
  if (filter.since !== undefined) where.push(`r.time >= ${param(filter.since)}`);
  if (filter.until !== undefined) where.push(`r.time < ${param(filter.until)}`);
  if (filter.outcome !== undefined) where.push(`r.outcome = ${param(filter.outcome)}`);
  if (filter.serial !== undefined) where.push(`r.serial = ${param(normalizeSerial(filter.serial) ?? '')}`);
  if (filter.user !== undefined) where.push(`r.user_name = ${param(filter.user)}`);
  if (filter.source !== undefined) {
    const span = sourceRange(filter.source);
    where.push(span ? `r.source_key BETWEEN ${param(span.low)} AND ${param(span.high)}` : 'false');
  }
  if (filter.validator !== undefined) where.push(`(r.chain, r.seq) IN (SELECT v.chain, v.seq FROM record_refusals v WHERE v.validator = ${param(filter.validator)}${within('v')})`);
  if (filter.name !== undefined && broad) {
    // Many records carry such names: each record, walked in time order, is checked, so a page stops early.
    const pattern = param(likePattern(reverseName(filter.name)));
    where.push(`(r.reversed_common_name LIKE ${pattern} OR EXISTS (SELECT 1 FROM record_names n WHERE n.chain = r.chain AND n.seq = r.seq AND n.reversed_name LIKE ${pattern}))`);
  } else if (filter.name !== undefined) {
    const pattern = likePattern(reverseName(filter.name));
    where.push(`(r.chain, r.seq) IN (SELECT n.chain, n.seq FROM record_names n WHERE n.reversed_name LIKE ${param(pattern)}${within('n')}
      UNION ALL SELECT c.chain, c.seq FROM records c WHERE c.reversed_common_name LIKE ${param(pattern)}${within('c')})`);
  }
  if (filter.after) where.push(`(r.time, r.chain, r.seq) > (${param(filter.after.time)}, ${param(filter.after.chain)}, ${param(filter.after.seq)})`);
  return where;
}


export class PostgresAuditStore implements AuditStore {
  private constructor(
    private readonly pool: Pool,
    /** BROAD_NAME; the store test lowers it to compare both plans' answers. */
    private readonly broadNameAt: number,
  ) {}

  /** Connects and brings the schema to the newest version. */
  static async open(url: string, options: { readonly maxConnections?: number; readonly broadName?: number } = {}): Promise<PostgresAuditStore> {
    const pool = new Pool({ connectionString: url, max: options.maxConnections ?? 4 });
    // An idle connection that the server dropped is not a crash: the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PostgresAuditStore(pool, options.broadName ?? BROAD_NAME);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end();
      throw error;
    }
    return store;
  }

  /** The schema version this store is at (the number of migrations applied). */
  async schemaVersion(): Promise<number> {
    const result = await this.pool.query<{ version: number }>('SELECT max(version)::int AS version FROM mayfly_schema');
    return result.rows[0]?.version ?? 0;
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS mayfly_schema (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)');
      const result = await client.query<{ version: number | null }>('SELECT max(version)::int AS version FROM mayfly_schema');
      const current = result.rows[0].version ?? 0;
      if (current > MIGRATIONS.length) throw new Error(`the ledger's schema is version ${current}, newer than this Mayfly knows (${MIGRATIONS.length}); upgrade Mayfly`);
      for (let version = current + 1; version <= MIGRATIONS.length; version++) {
        const migration = MIGRATIONS[version - 1];
        await (typeof migration === 'string' ? client.query(migration) : migration(client));
        await client.query('INSERT INTO mayfly_schema (version, applied) VALUES ($1, $2)', [version, new Date().toISOString()]);
      }
    });
  }

  private transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  /** Appends records in one transaction: durable together, or not at all. */
  async appendAll(records: readonly IndexedRecord[], nodes: readonly TreeNode[]): Promise<void> {
    if (records.length === 0) return;
    const names = records.flatMap((record) => record.columns.names.map((name) => ({ record, name })));
    await this.transaction(async (client) => {
      // One statement per table, whatever the batch size: arrays unnested server-side.
      await client.query(
        `INSERT INTO records (chain, seq, prev_hash, hash, body, time, ra, event, outcome, serial, leaf_hash, user_name, source_key, reversed_common_name, not_after)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])`,
        [
          records.map((r) => r.chain),
          records.map((r) => r.seq),
          records.map((r) => r.prevHash),
          records.map((r) => r.hash),
          records.map((r) => r.body),
          records.map((r) => r.columns.time),
          records.map((r) => r.columns.ra),
          records.map((r) => r.columns.event),
          records.map((r) => r.columns.outcome),
          records.map((r) => r.columns.serial),
          records.map((r) => r.leafHash),
          ...queryColumnArrays(records),
        ],
      );
      await insertNodes(client, nodes);
      for (const { rollup, rows } of hourCounts(records)) {
        if (rows.length === 0) continue;
        await client.query(
          upsertHours(rollup, `SELECT * FROM unnest(${['text', ...rollup.keys.map(() => 'text'), 'int'].map((type, i) => `$${i + 1}::${type}[]`).join(', ')})`),
          rows[0].map((_, i) => rows.map((row) => row[i])),
        );
      }
      if (records.some((r) => r.columns.refusedBy.length > 0)) await client.query(INSERT_REFUSALS, refusalArrays(records));
      if (names.length === 0) return;
      await client.query('INSERT INTO record_names (chain, seq, reversed_name, time) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])', [
        names.map(({ record }) => record.chain),
        names.map(({ record }) => record.seq),
        names.map(({ name }) => reverseName(name)),
        names.map(({ record }) => record.columns.time),
      ]);
    });
  }

  async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    await this.pool.query('INSERT INTO checkpoints (chain, seq, head_hash, time, signature, note) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain, seq) DO UPDATE SET signature = excluded.signature, note = excluded.note', [
      checkpoint.chain,
      checkpoint.seq,
      checkpoint.headHash,
      checkpoint.time,
      checkpoint.signature,
      checkpoint.note ?? null,
    ]);
  }

  async leafHashes(chain: string, from: number, to: number): Promise<string[]> {
    const result = await this.pool.query<{ leaf_hash: string | null }>('SELECT leaf_hash FROM records WHERE chain = $1 AND seq > $2 AND seq <= $3 ORDER BY seq', [chain, from, to]);
    return result.rows.flatMap((row) => (row.leaf_hash === null ? [] : [row.leaf_hash]));
  }

  async treeNodes(chain: string, subtrees: readonly Subtree[]): Promise<(string | undefined)[]> {
    if (subtrees.length === 0) return [];
    const result = await this.pool.query<{ level: number; idx: number; hash: string }>(
      'SELECT n.level, n.idx::float8 AS idx, n.hash FROM tree_nodes n JOIN unnest($2::int[], $3::bigint[]) AS k(level, idx) ON n.level = k.level AND n.idx = k.idx WHERE n.chain = $1',
      [chain, subtrees.map((s) => s.level), subtrees.map((s) => s.index)],
    );
    const found = new Map(result.rows.map((row) => [`${row.level}/${row.idx}`, row.hash]));
    return subtrees.map((s) => found.get(`${s.level}/${s.index}`));
  }

  /** Records matching every given filter, oldest first (the same answers as the SQLite store). */
  async query(filter: AuditQuery): Promise<AuditRecord[]> {
    const params: unknown[] = [];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = queryConditions(filter, param, filter.name !== undefined && (await this.broadName(filter.name)));
    const limit = filter.limit === undefined ? '' : ` LIMIT ${param(filter.limit)}`;
    const sql = `SELECT ${RECORD_COLUMNS} FROM records r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.time, r.chain, r.seq${limit}`;
    return (await this.pool.query<AuditRecord>(sql, params)).rows;
  }

  /** As the SQLite store's: whether a name glob matches BROAD_NAME names or common names or more. */
  private async broadName(glob: string): Promise<boolean> {
    const result = await this.pool.query<{ n: number }>(
      `SELECT ((SELECT count(*) FROM (SELECT 1 FROM record_names WHERE reversed_name LIKE $1 LIMIT $2) m)
        + (SELECT count(*) FROM (SELECT 1 FROM records WHERE reversed_common_name LIKE $1 LIMIT $2) c))::int AS n`,
      [likePattern(reverseName(glob)), this.broadNameAt],
    );
    return result.rows[0].n >= this.broadNameAt;
  }

  /** As the SQLite store's, from the same indexes. */
  /** Whole hours from the hourly counts, partial ones from the records (overview_hours.ts). */
  async overview(range: { readonly since: string; readonly until: string }): Promise<AuditOverview> {
    const { until } = range;
    const spans = hourSpans(range);
    const order = ['since', 'wholeFrom', 'wholeTo', 'until'] as const;
    const over = (rollup: typeof RA_HOURS) => countsOver(rollup, (name) => `$${order.indexOf(name) + 1}`);
    const params = order.map((name) => spans[name]);
    const [hourly, refusalsByValidator, topRequesters, expiringSoon] = await Promise.all([
      this.pool.query<AuditOverview['hourly'][number]>(
        `SELECT hour, ra, sum(CASE outcome WHEN 'issued' THEN count ELSE 0 END)::int AS issued, sum(CASE outcome WHEN 'refused' THEN count ELSE 0 END)::int AS refused
         FROM (${over(RA_HOURS)}) AS c WHERE outcome IN ('issued', 'refused') GROUP BY 1, 2 ORDER BY hour, ra COLLATE "C"`,
        params,
      ),
      this.pool.query<AuditOverview['refusalsByValidator'][number]>(
        `SELECT validator, sum(count)::int AS count FROM (${over(REFUSAL_HOURS)}) AS c GROUP BY validator ORDER BY 2 DESC, validator LIMIT $5`,
        [...params, OVERVIEW_TOP],
      ),
      this.pool.query<AuditOverview['topRequesters'][number]>(
        `SELECT user_name AS user, sum(CASE outcome WHEN 'issued' THEN count ELSE 0 END)::int AS issued, sum(CASE outcome WHEN 'refused' THEN count ELSE 0 END)::int AS refused
         FROM (${over(REQUESTER_HOURS)}) AS c WHERE outcome IN ('issued', 'refused') GROUP BY user_name ORDER BY sum(count) DESC, user_name LIMIT $5`,
        [...params, OVERVIEW_TOP],
      ),
      this.pool.query<AuditOverview['expiringSoon'][number]>(
        'SELECT ra, count(*)::int AS count, min(not_after) AS next FROM records WHERE not_after >= $1 AND not_after < $2 GROUP BY ra ORDER BY ra COLLATE "C"',
        [until, new Date(Date.parse(until) + EXPIRING_WINDOW_MS).toISOString()],
      ),
    ]);
    return { hourly: hourly.rows, refusalsByValidator: refusalsByValidator.rows, topRequesters: topRequesters.rows, expiringSoon: expiringSoon.rows };
  }

  async record(chain: string, seq: number): Promise<AuditRecord | undefined> {
    return (await this.pool.query<AuditRecord>(`SELECT ${RECORD_COLUMNS} FROM records WHERE chain = $1 AND seq = $2`, [chain, seq])).rows[0];
  }

  /** Every chain that has a record or a checkpoint: one per process that ever wrote. */
  async chains(): Promise<string[]> {
    const result = await this.pool.query<{ chain: string }>('SELECT chain FROM records UNION SELECT chain FROM checkpoints ORDER BY 1');
    return result.rows.map((row) => row.chain);
  }

  async walkPage(chain: string, afterSeq: number, limit: number): Promise<StoredRecord[]> {
    const result = await this.pool.query<AuditRecord & StoredColumnsRow & { leafHash: string | null; refused_by: string[] }>(
      `SELECT ${RECORD_COLUMNS}, leaf_hash AS "leafHash", time, ra, event, outcome, serial, user_name, source_key, reversed_common_name, not_after,
         ARRAY(SELECT validator FROM record_refusals v WHERE v.chain = r.chain AND v.seq = r.seq) AS refused_by
       FROM records r WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [chain, afterSeq, limit],
    );
    return result.rows.map((row) => ({ chain: row.chain, seq: row.seq, prevHash: row.prevHash, hash: row.hash, body: row.body, leafHash: row.leafHash, columns: storedColumns(row, row.refused_by) }));
  }

  async chainHead(chain: string): Promise<{ seq: number; hash: string } | undefined> {
    return (await this.pool.query<{ seq: number; hash: string }>('SELECT seq::int AS seq, hash FROM records WHERE chain = $1 ORDER BY seq DESC LIMIT 1', [chain])).rows[0];
  }

  /** As the SQLite store's: set differences between the names records carry and the name index. */
  async nameIndexDifference(): Promise<NameIndexDifference | undefined> {
    const carried = `SELECT r.chain, r.seq, reverse(lower(j.value)) COLLATE "C" AS reversed_name, r.time FROM records r,
        jsonb_array_elements_text(coalesce(r.body::jsonb -> 'dns_names', '[]'::jsonb) || coalesce(r.body::jsonb -> 'ip_addresses', '[]'::jsonb)) AS j(value)`;
    const indexed = 'SELECT chain, seq, reversed_name, time FROM record_names';
    const result = await this.pool.query<{ kind: NameIndexDifference['kind']; chain: string; seq: number; reversed_name: string; time: string }>(
      `SELECT kind, chain, seq::int AS seq, reversed_name, time FROM (
         SELECT 'missing' AS kind, * FROM (${carried} EXCEPT ${indexed}) m
         UNION ALL SELECT 'extra' AS kind, * FROM (${indexed} EXCEPT ${carried}) e
       ) d ORDER BY chain, seq, kind DESC, reversed_name, time LIMIT 1`,
    );
    const row = result.rows[0];
    return row && { kind: row.kind, chain: row.chain, seq: row.seq, name: reverseName(row.reversed_name), time: row.time };
  }

  async hourRollupDifference(): Promise<{ table: string; hour: string } | undefined> {
    for (const rollup of HOUR_ROLLUPS) {
      const row = (await this.pool.query<{ hour: string }>(hourDifference(rollup))).rows[0];
      if (row) return { table: rollup.table, hour: row.hour };
    }
    return undefined;
  }

  async checkpoints(chain: string): Promise<Checkpoint[]> {
    const result = await this.pool.query<Checkpoint & { note: string | null }>('SELECT chain, seq::int AS seq, head_hash AS "headHash", time, signature, note FROM checkpoints WHERE chain = $1 ORDER BY seq', [chain]);
    return result.rows.map(({ note, ...checkpoint }) => (note === null ? checkpoint : { ...checkpoint, note }));
  }

  async problem(): Promise<string | undefined> {
    try {
      await this.pool.query('SELECT 1');
      return undefined;
    } catch (error) {
      return `the audit ledger's PostgreSQL does not answer (${error instanceof Error ? error.message : String(error)})`;
    }
  }

  /** Records are queryable once their transaction commits: nothing to index. */
  async index(): Promise<readonly string[]> {
    return [];
  }

  async journalProblem(): Promise<undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Runs `work` in one transaction on a pooled connection: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection that dies while checked out fails its query; its 'error' event must not crash the process.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', ignore);
    client.release();
  }
}
