import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { createAuditKey, readAuditPublicKey } from '../../../src/audit/audit_key';
import { authFailureEvent } from '../../../src/audit/events';
import { AuditLedger } from '../../../src/audit/ledger';
import { Frontier, leafHash } from '../../../src/audit/merkle';
import { ChainWriter } from '../../../src/audit/chain_writer';
import { openAuditStore, type StoreLocation } from '../../../src/audit/open_store';
import { HOUR_ROLLUPS, hourRollupBackfill } from '../../../src/audit/overview_hours';
import { publishedCheckpoints } from '../../../src/audit/published_checkpoints';
import { isFinal, parseCheckpoints, verifyCheckpoint } from '../../../src/audit/signed_checkpoint';
import { witnessCheckpoints } from '../../../src/audit/witness';
import type { WriterReply } from '../../../src/audit/writer_protocol';
import { PostgresAuditStore } from '../../../src/audit/postgres_store';
import { recordColumns, recordHash, type AuditEvent } from '../../../src/audit/record';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { reverseName, type AuditReader, type TreeNode } from '../../../src/audit/store';
import { appendLeaf } from '../../../src/audit/tree';
import { verifyLedger } from '../../../src/audit/verify';
import { runCli } from '../../helpers/cli';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres';

/**
 * The tampering suites on the given stores (`npm test`: SQLite, and the CLI's; `test:full`:
 * PostgreSQL too): each file that calls this is one jest file, with its own ledgers.
 */
export function tamperSuites(stores: readonly ('sqlite' | 'postgres')[], withCli: boolean): void {
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

  /** The chain id of a process of this host that has ended (as a killed writer's is). */
  const deadChain = () => `${hostname()}-${spawnSync('true').pid}-0badc0de`;

  const WITNESSED_RECORDS = 1200;

  /**
   * A ledger of two chains: a process killed after 10 records (checkpoints after 4 and 8, none after),
   * then its successor on the same host, which seals the dead chain at start and writes 1,200 records
   * (issued and refused) with a checkpoint every 100 and a final one when it stops. Returns what an
   * auditor would have exported then (`mayfly audit checkpoint`): the checkpoints a test's tampering
   * happens after.
   */
  async function writeWitnessed(location: StoreLocation): Promise<string> {
    const keyPem = readFileSync(keyFile, 'utf8');
    const killed = await openAuditStore(location);
    const stored: WriterReply[] = [];
    const writer = new ChainWriter(killed, deadChain(), createPrivateKey(keyPem), 4, (reply) => stored.push(reply));
    for (let i = 1; i <= 10; i++) {
      writer.append([{ id: i, body: JSON.stringify(authFailureEvent({ ra: 'default', source: '127.0.0.1', time: at(i) }, `killed${i}`)), columns: recordColumns(authFailureEvent({ ra: 'default', source: '127.0.0.1', time: at(i) }, `killed${i}`)) }]);
      while (stored.length < i) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await killed.close(); // no final checkpoint: the process was killed
    const ledger = await AuditLedger.open({ store: location, keyPem, checkpointEvery: 100, checkpointIntervalMs: 3_600_000 });
    for (let first = 1; first <= WITNESSED_RECORDS; first += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, k) => ledger.append((first + k) % 3 === 0 ? issuedSign(first + k) : refusedSign(first + k))));
    }
    await ledger.close();
    const reader = await openAuditStore(location);
    try {
      return await publishedCheckpoints(reader);
    } finally {
      await reader.close();
    }
  }

  const databaseUrl = (name: string): string => postgres.url.replace(/\/[^/]*$/, `/${name}`);

  const exported: Record<'sqlite' | 'postgres', string> = { sqlite: '', postgres: '' };

  beforeAll(async () => {
    await createAuditKey(keyFile, join(dir, 'audit.pub'));
    await writePristine({ kind: 'sqlite', database: pristine });
    exported.sqlite = await writeWitnessed({ kind: 'sqlite', database: join(dir, 'witnessed.db') });
    if (!stores.includes('postgres')) return;
    postgres = await startTestPostgres();
    const admin = new Client(postgres.url);
    await admin.connect();
    await admin.query('CREATE DATABASE pristine');
    await admin.query('CREATE DATABASE witnessed');
    await admin.end();
    await writePristine({ kind: 'postgres', url: databaseUrl('pristine') });
    exported.postgres = await writeWitnessed({ kind: 'postgres', url: databaseUrl('witnessed') });
  }, 180_000);
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

  const STORES: Record<'sqlite' | 'postgres', (source?: 'pristine' | 'witnessed') => Promise<LedgerCopy>> = {
    async sqlite(source = 'pristine') {
      const file = join(dir, `copy-${copies++}.db`);
      copyFileSync(join(dir, `${source}.db`), file);
      const db = new Database(file);
      return {
        run: async (sql, ...params) => void db.prepare(sql).run(...params),
        all: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[],
        reader: async () => new SqliteAuditStore(file, { readonly: true }),
        close: async () => void db.close(),
      };
    },
    async postgres(source = 'pristine') {
      const name = `copy_${copies++}`;
      const admin = new Client(postgres.url);
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${source}`);
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

  /**
   * Rewrites record `from` of a chain and re-hashes the rest of it as someone with write access can:
   * the hash chain, and with `leafHashes` the Merkle tree too (leaf hashes and stored subtrees).
   */
  async function rewriteFrom(db: LedgerCopy, chain: string, from: number, options: { leafHashes: boolean }): Promise<void> {
    // One transaction, as a forger would: PostgreSQL would otherwise flush each of ~2,400 statements.
    await db.run('BEGIN');
    await rewriteInTransaction(db, chain, from, options);
    await db.run('COMMIT');
  }

  async function rewriteInTransaction(db: LedgerCopy, chain: string, from: number, options: { leafHashes: boolean }): Promise<void> {
    // The filter column too, as a thorough forger would (user2 -> userX): only the tree is left to notice.
    await db.run(
      `UPDATE records SET body = replace(replace(body, '"source"', '"rewritten":true,"source"'), ?, '"userX"'), user_name = CASE WHEN user_name = ? THEN 'userX' ELSE user_name END WHERE chain = ? AND seq = ?`,
      `"user${from}"`,
      `user${from}`,
      chain,
      from,
    );
    let [{ hash: prev }] = await db.all<{ hash: string }>('SELECT hash FROM records WHERE chain = ? AND seq = ?', chain, from - 1);
    const frontier = Frontier.empty();
    const nodes: TreeNode[] = [];
    for (const row of await db.all<{ seq: number; body: string }>('SELECT seq, body FROM records WHERE chain = ? ORDER BY seq', chain)) {
      appendLeaf(frontier, chain, leafHash(row.body), nodes);
      if (Number(row.seq) < from) continue;
      const hash = recordHash(chain, Number(row.seq), prev, row.body);
      await db.run('UPDATE records SET prev_hash = ?, hash = ? WHERE chain = ? AND seq = ?', prev, hash, chain, row.seq);
      if (options.leafHashes) await db.run('UPDATE records SET leaf_hash = ? WHERE chain = ? AND seq = ?', leafHash(row.body).toString('hex'), chain, row.seq);
      prev = hash;
    }
    if (!options.leafHashes) return;
    await db.run('DELETE FROM tree_nodes WHERE chain = ?', chain);
    for (const node of nodes) await db.run('INSERT INTO tree_nodes (chain, level, idx, hash) VALUES (?, ?, ?, ?)', chain, node.level, node.index, node.hash);
  }

  const at = (i: number) => new Date(Date.UTC(2026, 10, 23, 12, 0, i));
  /** An issued certificate's record (serial <i> in hex), for proofs. */
  const issuedSign = (i: number): AuditEvent => ({
    ...refusedSign(i),
    outcome: 'issued',
    reason: undefined,
    certificate: { serial: serialOf(i), not_before: at(i).toISOString(), not_after: at(i + 3600).toISOString(), sha256: '0'.repeat(64), der: '' },
  });
  /** In the ledger's form (normalizeSerial's: DER octets, no leading zero octet), as Mayfly writes serials. */
  const serialOf = (i: number) => `7f${i.toString(16).padStart(14, '0')}`;

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

  describe.each(stores)('audit verify catches tampering (%s)', (store) => {
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
      expect(await verifyAfter((db, chain) => rewriteFrom(db, chain, 2, { leafHashes: false }))).toBe('record 2 edited: its leaf hash differs from its contents');
      expect(await verifyAfter((db, chain) => rewriteFrom(db, chain, 2, { leafHashes: true }))).toBe('checkpoint at record 4: the chain was rewritten up to here (root hash differs from the signed one)');
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

    it("the overview's hourly counts: one edited, one deleted, one added for an hour without records", async () => {
      const hour = '2026-11-23T12:00:00.000Z';
      const disagree = (table: string, at: string) => `the overview's hourly counts (${table}) disagree with the records in the hour from ${at}`;
      expect(await verifyAfter((db) => db.run("UPDATE ra_hours SET count = count + 1 WHERE hour = ? AND outcome = 'refused'", hour))).toBe(disagree('ra_hours', hour));
      expect(await verifyAfter((db) => db.run('DELETE FROM requester_hours WHERE hour = ?', hour))).toBe(disagree('requester_hours', hour));
      expect(await verifyAfter((db) => db.run("INSERT INTO refusal_hours (hour, validator, count) VALUES ('2026-11-22T08:00:00.000Z', 'public_key', 5)"))).toBe(disagree('refusal_hours', '2026-11-22T08:00:00.000Z'));
    });

    it('a forged checkpoint signature', async () => {
      const problem = await verifyAfter(async (db) => {
        const [{ note }] = await db.all<{ note: string }>('SELECT note FROM checkpoints WHERE seq = 8');
        await db.run('UPDATE checkpoints SET note = ? WHERE seq = 8', note.replace(/ (\S{8})(\S+)\n$/, (_, keyHash: string, rest: string) => ` ${keyHash}${rest.startsWith('A') ? 'B' : 'A'}${rest.slice(1)}\n`));
      });
      expect(problem).toBe('checkpoint at record 8: bad signature (not made with the audit key, or altered)');
    });
  });

  describe.each(stores)('audit verify --checkpoint catches history rewritten after a checkpoint was exported (%s)', (store) => {
    /**
     * A copy of the witnessed ledger after `tamper`: what plain verification finds (all the old
     * `audit verify` could do), and what verification against the checkpoints exported before finds.
     */
    async function witnessAfter(tamper: (db: LedgerCopy, chains: { killed: string; successor: string }) => Promise<unknown>): Promise<{ plain?: string; witnessed?: string }> {
      const db = await STORES[store]('witnessed');
      const counts = await db.all<{ chain: string; n: number }>('SELECT chain, count(*) AS n FROM records GROUP BY chain');
      const chainOf = (n: number) => counts.find((row) => Number(row.n) === n)!.chain;
      await tamper(db, { killed: chainOf(10), successor: chainOf(WITNESSED_RECORDS) });
      // A careful forger recounts the overview's hourly counts too: plain verification recounts them.
      for (const { table } of HOUR_ROLLUPS) await db.run(`DELETE FROM ${table}`);
      for (const backfill of hourRollupBackfill()) await db.run(backfill);
      await db.close();
      const reader = await db.reader();
      try {
        const publicKey = await readAuditPublicKey(join(dir, 'audit.pub'), keyFile);
        const report = await verifyLedger(reader, publicKey);
        if (!report.ok) return { plain: report.problem, witnessed: report.problem };
        const witnessed = await witnessCheckpoints(reader, publicKey, exported[store]);
        return witnessed.ok ? {} : { witnessed: witnessed.problem };
      } finally {
        await reader.close();
      }
    }

    it('exports both chains, the killed one sealed for good by its successor; the untouched ledger extends them', async () => {
      const publicKey = await readAuditPublicKey(join(dir, 'audit.pub'), keyFile);
      const notes = parseCheckpoints(exported[store]);
      expect(notes.map((note) => note.size).sort((a, b) => a - b)).toEqual([10, WITNESSED_RECORDS]);
      expect(notes.every((note) => verifyCheckpoint(note, publicKey) && isFinal(note, publicKey))).toBe(true);
      expect(await witnessAfter(async () => undefined)).toEqual({});
    });

    it("the records after a killed process's last checkpoint deleted (with the seal)", async () => {
      expect(
        await witnessAfter(async (db, { killed }) => {
          await db.run('DELETE FROM records WHERE chain = ? AND seq > 8', killed);
          await db.run('DELETE FROM checkpoints WHERE chain = ? AND seq > 8', killed);
        }),
      ).toEqual({ witnessed: expect.stringMatching(/\(10 records when exported\): the ledger no longer holds this checkpoint \(checkpoints deleted or replaced\)$/) });
    });

    it('the last 500 records deleted with their checkpoints', async () => {
      expect(
        await witnessAfter(async (db, { successor }) => {
          for (const table of ['records', 'record_names', 'checkpoints']) await db.run(`DELETE FROM ${table} WHERE chain = ? AND seq > ?`, successor, WITNESSED_RECORDS - 500);
        }),
      ).toEqual({ witnessed: expect.stringMatching(/\(1200 records when exported\): the ledger no longer holds this checkpoint/) });
    });

    it('a whole chain deleted', async () => {
      expect(
        await witnessAfter(async (db, { killed }) => {
          for (const table of ['records', 'record_names', 'checkpoints', 'tree_nodes']) await db.run(`DELETE FROM ${table} WHERE chain = ?`, killed);
        }),
      ).toEqual({ witnessed: expect.stringMatching(/\(10 records when exported\): the chain is gone from the ledger \(deleted\)$/) });
    });

    it('every checkpoint deleted', async () => {
      expect(await witnessAfter((db) => db.run('DELETE FROM checkpoints'))).toEqual({ witnessed: expect.stringMatching(/the ledger no longer holds this checkpoint/) });
    });

    it('a record rewritten and the rest of its chain re-hashed (hash chain, leaves and subtrees)', async () => {
      // With the checkpoints left in place, their signed roots no longer match.
      expect((await witnessAfter((db, { successor }) => rewriteFrom(db, successor, 5, { leafHashes: true }))).plain).toEqual(
        expect.stringMatching(/: checkpoint at record 100: the chain was rewritten up to here \(root hash differs from the signed one\)$/),
      );
      // With them deleted too, plain verification has nothing signed left to compare; the exported checkpoint does.
      expect(
        await witnessAfter(async (db, { successor }) => {
          await rewriteFrom(db, successor, 5, { leafHashes: true });
          await db.run('DELETE FROM checkpoints WHERE chain = ?', successor);
        }),
      ).toEqual({ witnessed: expect.stringMatching(/\(1200 records when exported\): the ledger no longer holds this checkpoint/) });
    }, 120_000);

    it('a forged "issued" record appended, re-hashed as the writer would', async () => {
      const forge = async (db: LedgerCopy, chain: string) => {
        const [{ hash }] = await db.all<{ hash: string }>('SELECT hash FROM records WHERE chain = ? AND seq = ?', chain, WITNESSED_RECORDS);
        const event = issuedSign(9999);
        const body = JSON.stringify(event);
        const seq = WITNESSED_RECORDS + 1;
        const columns = recordColumns(event);
        await db.run(
          'INSERT INTO records (chain, seq, prev_hash, hash, body, time, ra, event, outcome, serial, leaf_hash, user_name, source_key, reversed_common_name, not_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          chain, seq, hash, recordHash(chain, seq, hash, body), body, event.time, event.ra, event.event, event.outcome, event.certificate!.serial, leafHash(body).toString('hex'), columns.user, columns.source, null, columns.notAfter,
        );
        for (const name of recordColumns(event).names) await db.run('INSERT INTO record_names (chain, seq, reversed_name, time) VALUES (?, ?, ?, ?)', chain, seq, reverseName(name), event.time);
      };
      expect(await witnessAfter((db, { successor }) => forge(db, successor))).toEqual({
        plain: expect.stringMatching(/: record 1201 appended after the chain was closed \(its final checkpoint is at record 1200\): forged$/),
        witnessed: expect.any(String),
      });
      // Without the final checkpoint, the forged record is under no checkpoint; the exported one is gone.
      expect(
        await witnessAfter(async (db, { successor }) => {
          await forge(db, successor);
          await db.run('DELETE FROM checkpoints WHERE chain = ? AND seq = ?', successor, WITNESSED_RECORDS);
        }),
      ).toEqual({ witnessed: expect.stringMatching(/\(1200 records when exported\): the ledger no longer holds this checkpoint/) });
    });
  });

  (withCli ? describe : describe.skip)('mayfly audit verify', () => {
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

    it('audit checkpoint, verify --checkpoint, prove, and verify-proof from files alone', () => {
      const data = mkdtempSync(join(tmpdir(), 'mayfly-witness-cli-'));
      const offline = mkdtempSync(join(tmpdir(), 'mayfly-offline-'));
      try {
        expect(runCli(['init', '--dir', data]).status).toBe(0);
        copyFileSync(join(dir, 'witnessed.db'), join(data, 'audit.db'));
        copyFileSync(keyFile, join(data, 'audit.key'));
        copyFileSync(join(dir, 'audit.pub'), join(data, 'audit.pub'));
        const config = join(data, 'mayfly.yaml');
        const checkpoint = runCli(['audit', 'checkpoint', '--config', config]);
        expect(checkpoint.status).toBe(0);
        expect(parseCheckpoints(checkpoint.stdout).map((note) => note.size).sort((a, b) => a - b)).toEqual([10, WITNESSED_RECORDS]);
        // Kept where the ledger's writers cannot reach it.
        const exportedFile = join(offline, 'checkpoint.txt');
        writeFileSync(exportedFile, checkpoint.stdout);
        const verified = runCli(['audit', 'verify', '--config', config, '--checkpoint', exportedFile]);
        expect(verified.stdout).toMatch(/^OK: 2 chain\(s\) verified, consistent with the exported checkpoint\(s\)$/m);
        expect(verified.status).toBe(0);

        const proof = runCli(['audit', 'prove', '--config', config, '--serial', serialOf(300).toUpperCase()]);
        expect(proof.status).toBe(0);
        const proven = JSON.parse(proof.stdout) as { serial: string; leaf_index: number; tree_size: number; leaf: string; inclusion_proof: string[]; checkpoint: string; public_key: string; key_name: string; origin: string };
        expect(proven).toMatchObject({ serial: serialOf(300), tree_size: WITNESSED_RECORDS, key_name: proven.origin });
        expect((JSON.parse(Buffer.from(proven.leaf, 'base64').toString('utf8')) as AuditEvent).certificate?.serial).toBe(serialOf(300));
        writeFileSync(join(offline, 'proof.json'), proof.stdout);
        writeFileSync(join(offline, 'audit.pub'), readFileSync(join(dir, 'audit.pub')));
        writeFileSync(join(offline, 'raw.pub'), proven.public_key);
        const verifyProof = (proofFile: string, publicKey = 'audit.pub', checkpointFile = exportedFile) =>
          runCli(['audit', 'verify-proof', '--proof', join(offline, proofFile), '--checkpoint', checkpointFile, '--public-key', join(offline, publicKey)], { cwd: offline });
        // No config, no database: the proof, a checkpoint and the public key.
        for (const key of ['audit.pub', 'raw.pub']) {
          const ok = verifyProof('proof.json', key);
          expect(ok.stdout).toMatch(new RegExp(`^PROVEN: the record of certificate ${serialOf(300)} \\(issued at .*\\) is in mayfly-audit/[0-9a-f]{8}/\\S+, under its signed checkpoint of 1200 record\\(s\\)$`, 'm'));
          expect(ok.status).toBe(0);
        }
        const altered = (change: (proof: typeof proven) => object) => {
          writeFileSync(join(offline, 'altered.json'), JSON.stringify(change(proven)));
          const result = verifyProof('altered.json');
          expect(result.status).toBe(1);
          return result.stdout;
        };
        const leaf = JSON.parse(Buffer.from(proven.leaf, 'base64').toString('utf8')) as AuditEvent;
        expect(altered((p) => ({ ...p, leaf: Buffer.from(JSON.stringify({ ...leaf, requester: { ...leaf.requester, user: 'someone-else' } })).toString('base64') }))).toMatch(/^NOT PROVEN: the record is not leaf \d+ of the tree the checkpoint signs/m);
        expect(altered((p) => ({ ...p, leaf_index: p.leaf_index + 1 }))).toMatch(/^NOT PROVEN: the record is not leaf/m);
        expect(altered((p) => ({ ...p, inclusion_proof: p.inclusion_proof.slice(1) }))).toMatch(/^NOT PROVEN: the record is not leaf/m);
        expect(altered((p) => ({ ...p, serial: serialOf(301) }))).toMatch(/^NOT PROVEN: the proven record is not that of certificate/m);
        // A checkpoint signed by another key is not one to trust.
        const otherKey = join(offline, 'other');
        expect(runCli(['init', '--dir', otherKey]).status).toBe(0);
        const signedByOther = verifyProof('proof.json', join('other', 'audit.pub'));
        expect(signedByOther.stdout).toMatch(/NOT PROVEN: the checkpoint of \S+ is not signed by this audit key/);
        expect(signedByOther.status).toBe(1);

        const unknown = runCli(['audit', 'prove', '--config', config, '--serial', 'ffff']);
        expect(unknown.stdout).toMatch(/^no certificate with serial 00ffff in the ledger$/m);
        expect(unknown.status).toBe(1);

        // Then the ledger loses its last 450 records and their checkpoints: plain verify still passes.
        const db = new Database(join(data, 'audit.db'));
        for (const table of ['records', 'record_names', 'checkpoints']) db.prepare(`DELETE FROM ${table} WHERE seq > 750 AND chain IN (SELECT chain FROM records WHERE seq = 750)`).run();
        // …and, as a careful forger, recounts the overview's hourly counts, which plain verify recounts.
        for (const { table } of HOUR_ROLLUPS) db.prepare(`DELETE FROM ${table}`).run();
        for (const backfill of hourRollupBackfill()) db.prepare(backfill).run();
        db.close();
        const plain = runCli(['audit', 'verify', '--config', config]);
        expect(plain.stdout).toMatch(/^UNSEALED: chain \S+: record\(s\) 701–750 are under no checkpoint yet/m);
        expect(plain.status).toBe(0);
        const witnessed = runCli(['audit', 'verify', '--config', config, '--checkpoint', exportedFile]);
        expect(witnessed.stdout).toMatch(/^TAMPERED: mayfly-audit\/\S+ \(1200 records when exported\): the ledger no longer holds this checkpoint/m);
        expect(witnessed.status).toBe(1);
        const notACheckpoint = join(offline, 'nonsense.txt');
        writeFileSync(notACheckpoint, 'hello\n');
        expect(runCli(['audit', 'verify', '--config', config, '--checkpoint', notACheckpoint]).status).toBe(1);
      } finally {
        rmSync(data, { recursive: true, force: true });
        rmSync(offline, { recursive: true, force: true });
      }
    }, 120_000);
  });
}
