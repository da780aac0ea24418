import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, enterWalMode } from '../sqlite_wal';
import { objectIndex, type AcmeKind, type AcmeObjects, type AcmeStore } from './store';

// ACME state in SQLite (WAL), a file beside the ledger. Each statement is short and indexed, so the
// store runs on the serving thread; `update` is one immediate transaction, so a finalize or a
// validation racing another sees the other's write.

const SCHEMA = `
CREATE TABLE IF NOT EXISTS acme_objects (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  ra TEXT NOT NULL,
  lookup TEXT,
  expires TEXT,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS acme_objects_lookup ON acme_objects (kind, ra, lookup) WHERE lookup IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS acme_accounts_key ON acme_objects (ra, lookup) WHERE kind = 'account';
CREATE INDEX IF NOT EXISTS acme_objects_expires ON acme_objects (expires) WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS acme_nonces (value TEXT PRIMARY KEY, expires TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS acme_nonces_expires ON acme_nonces (expires);
`;

export class SqliteAcmeStore implements AcmeStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    enterWalMode(this.db);
    this.db.exec(SCHEMA);
  }

  async addNonce(value: string, expires: Date): Promise<void> {
    this.db.prepare('INSERT INTO acme_nonces (value, expires) VALUES (?, ?)').run(value, expires.toISOString());
  }

  async consumeNonce(value: string, now: Date): Promise<boolean> {
    return this.db.prepare('DELETE FROM acme_nonces WHERE value = ? AND expires > ?').run(value, now.toISOString()).changes === 1;
  }

  async insert<K extends AcmeKind>(kind: K, record: AcmeObjects[K]): Promise<boolean> {
    const { lookup, expires } = objectIndex(kind, record);
    const result = this.db.prepare('INSERT OR IGNORE INTO acme_objects (kind, id, ra, lookup, expires, body) VALUES (?, ?, ?, ?, ?, ?)').run(kind, record.id, record.ra, lookup, expires, JSON.stringify(record));
    return result.changes === 1;
  }

  async get<K extends AcmeKind>(kind: K, id: string): Promise<AcmeObjects[K] | undefined> {
    const row = this.db.prepare('SELECT body FROM acme_objects WHERE kind = ? AND id = ?').get(kind, id) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as AcmeObjects[K]) : undefined;
  }

  async list<K extends AcmeKind>(kind: K, ra: string, lookup?: string): Promise<AcmeObjects[K][]> {
    const rows = (
      lookup === undefined
        ? this.db.prepare('SELECT body FROM acme_objects WHERE kind = ? AND ra = ? ORDER BY rowid').all(kind, ra)
        : this.db.prepare('SELECT body FROM acme_objects WHERE kind = ? AND ra = ? AND lookup = ? ORDER BY rowid').all(kind, ra, lookup)
    ) as { body: string }[];
    return rows.map((row) => JSON.parse(row.body) as AcmeObjects[K]);
  }

  async update<K extends AcmeKind>(kind: K, id: string, change: (current: AcmeObjects[K]) => AcmeObjects[K] | undefined): Promise<AcmeObjects[K] | undefined> {
    const run = this.db.transaction((): AcmeObjects[K] | undefined => {
      const row = this.db.prepare('SELECT body FROM acme_objects WHERE kind = ? AND id = ?').get(kind, id) as { body: string } | undefined;
      if (!row) return undefined;
      const next = change(JSON.parse(row.body) as AcmeObjects[K]);
      if (!next) return undefined;
      const { lookup, expires } = objectIndex(kind, next);
      this.db.prepare('UPDATE acme_objects SET lookup = ?, expires = ?, body = ? WHERE kind = ? AND id = ?').run(lookup, expires, JSON.stringify(next), kind, id);
      return next;
    });
    return run.immediate();
  }

  async cleanup(now: Date): Promise<number> {
    const at = now.toISOString();
    return this.db.prepare('DELETE FROM acme_nonces WHERE expires <= ?').run(at).changes + this.db.prepare('DELETE FROM acme_objects WHERE expires IS NOT NULL AND expires <= ?').run(at).changes;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
