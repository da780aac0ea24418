import { Pool } from 'pg';
import { inTransaction } from '../audit/postgres_store';
import { objectIndex, type AcmeKind, type AcmeObjects, type AcmeStore } from './store';

// ACME state in PostgreSQL, for replicas that share a ledger there: the SQLite store's tables, so
// that any replica can answer for an account, order or nonce another replica created. `update` is
// SELECT … FOR UPDATE inside one transaction, so racing finalizes and validations serialise.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS acme_objects (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  ra TEXT NOT NULL,
  lookup TEXT,
  expires TEXT COLLATE "C",
  body TEXT NOT NULL,
  seq BIGSERIAL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS acme_objects_lookup ON acme_objects (kind, ra, lookup) WHERE lookup IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS acme_accounts_key ON acme_objects (ra, lookup) WHERE kind = 'account';
CREATE INDEX IF NOT EXISTS acme_objects_expires ON acme_objects (expires) WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS acme_nonces (value TEXT PRIMARY KEY, expires TEXT COLLATE "C" NOT NULL);
CREATE INDEX IF NOT EXISTS acme_nonces_expires ON acme_nonces (expires);
`;

/** Serialises schema creation across replicas starting together; held by no other Mayfly code. */
const SCHEMA_LOCK = 0x61636d65; // "acme"

export class PostgresAcmeStore implements AcmeStore {
  private constructor(private readonly pool: Pool) {}

  static async open(url: string, options: { readonly maxConnections?: number } = {}): Promise<PostgresAcmeStore> {
    const pool = new Pool({ connectionString: url, max: options.maxConnections ?? 4 });
    pool.on('error', () => undefined);
    try {
      await inTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await client.query(SCHEMA);
      });
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresAcmeStore(pool);
  }

  async addNonce(value: string, expires: Date): Promise<void> {
    await this.pool.query('INSERT INTO acme_nonces (value, expires) VALUES ($1, $2)', [value, expires.toISOString()]);
  }

  async consumeNonce(value: string, now: Date): Promise<boolean> {
    return (await this.pool.query('DELETE FROM acme_nonces WHERE value = $1 AND expires > $2', [value, now.toISOString()])).rowCount === 1;
  }

  async insert<K extends AcmeKind>(kind: K, record: AcmeObjects[K]): Promise<boolean> {
    const { lookup, expires } = objectIndex(kind, record);
    const result = await this.pool.query('INSERT INTO acme_objects (kind, id, ra, lookup, expires, body) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', [kind, record.id, record.ra, lookup, expires, JSON.stringify(record)]);
    return result.rowCount === 1;
  }

  async get<K extends AcmeKind>(kind: K, id: string): Promise<AcmeObjects[K] | undefined> {
    const result = await this.pool.query<{ body: string }>('SELECT body FROM acme_objects WHERE kind = $1 AND id = $2', [kind, id]);
    return result.rows[0] ? (JSON.parse(result.rows[0].body) as AcmeObjects[K]) : undefined;
  }

  async list<K extends AcmeKind>(kind: K, ra: string, lookup?: string): Promise<AcmeObjects[K][]> {
    const result =
      lookup === undefined
        ? await this.pool.query<{ body: string }>('SELECT body FROM acme_objects WHERE kind = $1 AND ra = $2 ORDER BY seq', [kind, ra])
        : await this.pool.query<{ body: string }>('SELECT body FROM acme_objects WHERE kind = $1 AND ra = $2 AND lookup = $3 ORDER BY seq', [kind, ra, lookup]);
    return result.rows.map((row) => JSON.parse(row.body) as AcmeObjects[K]);
  }

  update<K extends AcmeKind>(kind: K, id: string, change: (current: AcmeObjects[K]) => AcmeObjects[K] | undefined): Promise<AcmeObjects[K] | undefined> {
    return inTransaction(this.pool, async (client) => {
      const found = await client.query<{ body: string }>('SELECT body FROM acme_objects WHERE kind = $1 AND id = $2 FOR UPDATE', [kind, id]);
      if (!found.rows[0]) return undefined;
      const next = change(JSON.parse(found.rows[0].body) as AcmeObjects[K]);
      if (!next) return undefined;
      const { lookup, expires } = objectIndex(kind, next);
      await client.query('UPDATE acme_objects SET lookup = $1, expires = $2, body = $3 WHERE kind = $4 AND id = $5', [lookup, expires, JSON.stringify(next), kind, id]);
      return next;
    });
  }

  async cleanup(now: Date): Promise<number> {
    const at = now.toISOString();
    const nonces = await this.pool.query('DELETE FROM acme_nonces WHERE expires <= $1', [at]);
    const objects = await this.pool.query('DELETE FROM acme_objects WHERE expires IS NOT NULL AND expires <= $1', [at]);
    return (nonces.rowCount ?? 0) + (objects.rowCount ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
