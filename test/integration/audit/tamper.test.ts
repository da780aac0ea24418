import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { createAuditKey, readAuditPublicKey } from '../../../src/audit/audit_key';
import { authFailureEvent } from '../../../src/audit/events';
import { AuditLedger } from '../../../src/audit/ledger';
import type { StoreLocation } from '../../../src/audit/open_store';
import { PostgresAuditStore } from '../../../src/audit/postgres_store';
import { recordHash, type AuditEvent } from '../../../src/audit/record';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import type { AuditReader } from '../../../src/audit/store';
import { verifyLedger } from '../../../src/audit/verify';
import { runCli } from '../../helpers/cli';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres';

// A ledger of ten records with checkpoints after 4 and 8 (and at close, after 10), then tampered
// with through a separate connection to its store, as someone with write access would: the same
// tampering, and the same findings, on SQLite and on PostgreSQL.
const dir = mkdtempSync(join(tmpdir(), 'mayfly-tamper-'));
const pristine = join(dir, 'pristine.db');
const keyFile = join(dir, 'audit.key');
let copies = 0;
let postgres: TestPostgres;

/** Writes the ten records through the real ledger (writer thread, chain, checkpoints). */
async function writePristine(store: StoreLocation): Promise<void> {
  const ledger = await AuditLedger.open({ store, keyPem: readFileSync(keyFile, 'utf8'), checkpointEvery: 4, checkpointIntervalMs: 3_600_000 });
  for (let i = 1; i <= 10; i++) {
    // Sequential appends: each its own commit, so checkpoints fall exactly after records 4 and 8.
    await ledger.append(i % 2 === 1 ? authFailureEvent({ ra: 'default', source: '127.0.0.1', time: at(i) }, `user${i}`) : refusedSign(i));
  }
  await ledger.close();
}

const databaseUrl = (name: string): string => postgres.url.replace(/\/[^/]*$/, `/${name}`);

beforeAll(async () => {
  await createAuditKey(keyFile, join(dir, 'audit.pub'));
  await writePristine({ kind: 'sqlite', database: pristine });
  postgres = await startTestPostgres();
  const admin = new Client(postgres.url);
  await admin.connect();
  await admin.query('CREATE DATABASE pristine');
  await admin.end();
  await writePristine({ kind: 'postgres', url: databaseUrl('pristine') });
}, 60_000);
afterAll(() => {
  postgres?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of the pristine ledger that a test may tamper with: SQL with `?` parameters, and a reader. */
interface LedgerCopy {
  run(sql: string, ...params: unknown[]): Promise<void>;
  all<T>(sql: string, ...params: unknown[]): Promise<T[]>;
  reader(): Promise<AuditReader>;
  close(): Promise<void>;
}

const STORES: Record<'sqlite' | 'postgres', () => Promise<LedgerCopy>> = {
  async sqlite() {
    const file = join(dir, `copy-${copies++}.db`);
    copyFileSync(pristine, file);
    const db = new Database(file);
    return {
      run: async (sql, ...params) => void db.prepare(sql).run(...params),
      all: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[],
      reader: async () => new SqliteAuditStore(file, { readonly: true }),
      close: async () => void db.close(),
    };
  },
  async postgres() {
    const name = `copy_${copies++}`;
    const admin = new Client(postgres.url);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name} TEMPLATE pristine`);
    await admin.end();
    const client = new Client(databaseUrl(name));
    await client.connect();
    let n = 0;
    const numbered = (sql: string) => sql.replace(/\?/g, () => `$${++n}`);
    return {
      run: async (sql, ...params) => {
        n = 0;
        await client.query(numbered(sql), params);
      },
      all: async <T>(sql: string, ...params: unknown[]) => {
        n = 0;
        return (await client.query(numbered(sql), params)).rows as T[];
      },
      reader: () => PostgresAuditStore.open(databaseUrl(name)),
      close: () => client.end(),
    };
  },
};

const at = (i: number) => new Date(Date.UTC(2026, 10, 23, 12, 0, i));
/** A refused sign request for svc-<i>.example.com (and 10.0.0.<i>), so the record is in the name index. */
const refusedSign = (i: number): AuditEvent => ({
  v: 1,
  time: at(i).toISOString(),
  event: 'sign',
  ra: 'default',
  requester: { user: `user${i}`, groups: [], authentication: 'static' },
  source: '127.0.0.1',
  dns_names: [`svc-${i}.example.com`],
  ip_addresses: [`10.0.0.${i}`],
  outcome: 'refused',
  reason: 'a test',
});

describe.each(['sqlite', 'postgres'] as const)('audit verify catches tampering (%s)', (store) => {
  /** Verifies a copy of the pristine ledger after `tamper` changed it. */
  async function verifyAfter(tamper: (db: LedgerCopy, chain: string) => Promise<unknown>): Promise<string | undefined> {
    const db = await STORES[store]();
    const [{ chain }] = await db.all<{ chain: string }>('SELECT chain FROM records LIMIT 1');
    await tamper(db, chain);
    await db.close();
    const reader = await db.reader();
    try {
      const report = await verifyLedger(reader, await readAuditPublicKey(join(dir, 'audit.pub'), keyFile));
      expect(report.ok).toBe(report.problem === undefined);
      return report.problem?.replace(`chain ${chain}: `, '');
    } finally {
      await reader.close();
    }
  }

  it('passes the untouched ledger, with its checkpoints', async () => {
    let checkpoints: { seq: number }[] = [];
    expect(await verifyAfter(async (db) => (checkpoints = await db.all<{ seq: number }>('SELECT seq FROM checkpoints ORDER BY seq')))).toBeUndefined();
    expect(checkpoints.map((c) => Number(c.seq))).toEqual([4, 8, 10]);
  });

  it('an edited record', async () => {
    expect(await verifyAfter((db) => db.run("UPDATE records SET body = replace(body, 'user5', 'user6') WHERE seq = 5"))).toBe('record 5 edited: its contents no longer match its hash');
  });

  it('an edited query column', async () => {
    expect(await verifyAfter((db) => db.run("UPDATE records SET outcome = 'issued' WHERE seq = 3"))).toBe('record 3 edited: its outcome column differs from its hashed contents');
  });

  it('an edited filter column: a requester, a source, a refusal hidden from or added to searches', async () => {
    expect(await verifyAfter((db) => db.run("UPDATE records SET user_name = 'someone-else' WHERE seq = 3"))).toBe('record 3 edited: its user_name column differs from its hashed contents');
    expect(await verifyAfter((db) => db.run("UPDATE records SET source_key = NULL WHERE seq = 4"))).toBe('record 4 edited: its source_key column differs from its hashed contents');
    expect(await verifyAfter((db, chain) => db.run("INSERT INTO record_refusals (chain, seq, validator, time) VALUES (?, 2, 'public_key', ?)", chain, at(2).toISOString()))).toBe(
      'record 2 edited: its refusals column differs from its hashed contents',
    );
  });

  it('a deleted record', async () => {
    expect(await verifyAfter((db) => db.run('DELETE FROM records WHERE seq = 5'))).toBe('record 5 deleted (the next record is 6)');
  });

  it('the last record deleted: the closing checkpoint misses it', async () => {
    expect(await verifyAfter((db) => db.run('DELETE FROM records WHERE seq = 10'))).toBe('checkpoint at record 10: the record it signed is missing (deleted or truncated)');
  });

  it('two records swapped', async () => {
    const problem = await verifyAfter(async (db) => {
      await db.run('UPDATE records SET seq = -1 WHERE seq = 5');
      await db.run('UPDATE records SET seq = 5 WHERE seq = 6');
      await db.run('UPDATE records SET seq = 6 WHERE seq = -1');
    });
    expect(problem).toBe('record 5 reordered: it was written as record 6');
  });

  it('an edit with every later hash recomputed: the signed checkpoint no longer matches', async () => {
    const problem = await verifyAfter(async (db, chain) => {
      // The filter column too, as a thorough forger would: only the checkpoint is left to notice.
      await db.run("UPDATE records SET body = replace(body, 'user2', 'userX'), user_name = 'userX' WHERE seq = 2");
      let [{ hash: prev }] = await db.all<{ hash: string }>('SELECT hash FROM records WHERE seq = 1');
      for (const row of await db.all<{ seq: number; body: string }>('SELECT seq, body FROM records WHERE seq >= 2 ORDER BY seq')) {
        const hash = recordHash(chain, Number(row.seq), prev, row.body);
        await db.run('UPDATE records SET prev_hash = ?, hash = ? WHERE seq = ?', prev, hash, row.seq);
        prev = hash;
      }
    });
    expect(problem).toBe('checkpoint at record 4: the chain was rewritten up to here (head hash differs from the signed one)');
  });

  it('the name index: a name removed hides the record from name searches', async () => {
    expect(await verifyAfter((db) => db.run("DELETE FROM record_names WHERE seq = 6 AND reversed_name LIKE 'moc.%'"))).toBe(
      'record 6 hidden from name searches: the name index lacks svc-6.example.com at 2026-11-23T12:00:06.000Z, which the record carries',
    );
  });

  it('the name index: a name renamed (the record no longer found under its own name)', async () => {
    expect(await verifyAfter((db) => db.run("UPDATE record_names SET reversed_name = 'moc.elpmaxe.live' WHERE seq = 4 AND reversed_name LIKE 'moc.%'"))).toBe(
      'record 4 hidden from name searches: the name index lacks svc-4.example.com at 2026-11-23T12:00:04.000Z, which the record carries',
    );
  });

  it('the name index: an entry added for a record, or for no record at all', async () => {
    const time = at(3).toISOString();
    expect(await verifyAfter((db, chain) => db.run('INSERT INTO record_names (chain, seq, reversed_name, time) VALUES (?, 3, ?, ?)', chain, 'moc.elpmaxe.3-cvs', time))).toBe(
      'record 3 misfiled in name searches: the name index has an entry for it (svc-3.example.com at 2026-11-23T12:00:03.000Z) that the record does not carry',
    );
    expect(await verifyAfter((db, chain) => db.run('INSERT INTO record_names (chain, seq, reversed_name, time) VALUES (?, 99, ?, ?)', chain, 'moc.elpmaxe.99-cvs', time))).toBe(
      'the name index has an entry (svc-99.example.com at 2026-11-23T12:00:03.000Z) for record 99, which does not exist',
    );
  });

  it('the name index: a name moved to another time (outside the searched range) hides the record too', async () => {
    expect(await verifyAfter((db) => db.run("UPDATE record_names SET time = '2020-01-01T00:00:00.000Z' WHERE seq = 8 AND reversed_name LIKE '%.0.0.01'"))).toBe(
      'record 8 hidden from name searches: the name index lacks 10.0.0.8 at 2026-11-23T12:00:08.000Z, which the record carries',
    );
  });

  it('a forged checkpoint signature', async () => {
    const problem = await verifyAfter((db) => db.run("UPDATE checkpoints SET signature = replace(signature, substr(signature, 1, 4), 'AAAA') WHERE seq = 8"));
    expect(problem).toBe('checkpoint at record 8: bad signature (not made with the audit key, or altered)');
  });
});

describe('mayfly audit verify', () => {
  it('mayfly audit verify exits non-zero and names the record', () => {
    const data = mkdtempSync(join(tmpdir(), 'mayfly-tamper-cli-'));
    try {
      expect(runCli(['init', '--dir', data]).status).toBe(0);
      copyFileSync(pristine, join(data, 'audit.db'));
      copyFileSync(keyFile, join(data, 'audit.key'));
      copyFileSync(join(dir, 'audit.pub'), join(data, 'audit.pub'));
      const config = join(data, 'mayfly.yaml');
      expect(runCli(['audit', 'verify', '--config', config]).status).toBe(0);
      const db = new Database(join(data, 'audit.db'));
      db.prepare('DELETE FROM records WHERE seq = 7').run();
      db.close();
      const result = runCli(['audit', 'verify', '--config', config]);
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/^TAMPERED: chain \S+: record 7 deleted \(the next record is 8\)$/m);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
