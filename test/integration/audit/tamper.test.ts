import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createAuditKey, readAuditPublicKey } from '../../../src/audit/audit_key';
import { authFailureEvent } from '../../../src/audit/events';
import { AuditLedger } from '../../../src/audit/ledger';
import { recordHash } from '../../../src/audit/record';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { verifyLedger } from '../../../src/audit/verify';
import { runCli } from '../../helpers/cli';

// A ledger of ten records with checkpoints after 4 and 8 (and at close, after 10), then tampered
// with through a separate SQLite connection, as someone with the file would.
const dir = mkdtempSync(join(tmpdir(), 'mayfly-tamper-'));
const pristine = join(dir, 'pristine.db');
const keyFile = join(dir, 'audit.key');
let copies = 0;

beforeAll(async () => {
  await createAuditKey(keyFile, join(dir, 'audit.pub'));
  const ledger = await AuditLedger.open({ database: pristine, keyPem: readFileSync(keyFile, 'utf8'), checkpointEvery: 4, checkpointIntervalMs: 3_600_000 });
  for (let i = 1; i <= 10; i++) {
    // Sequential appends: each its own commit, so checkpoints fall exactly after records 4 and 8.
    await ledger.append(authFailureEvent({ ra: 'default', source: '127.0.0.1', time: new Date(Date.UTC(2026, 10, 23, 12, 0, i)) }, `user${i}`));
  }
  await ledger.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Verifies a copy of the pristine ledger after `tamper` changed it. */
async function verifyAfter(tamper: (db: Database.Database, chain: string) => void): Promise<string | undefined> {
  const file = join(dir, `copy-${copies++}.db`);
  copyFileSync(pristine, file);
  const db = new Database(file);
  const { chain } = db.prepare('SELECT chain FROM records LIMIT 1').get() as { chain: string };
  tamper(db, chain);
  db.close();
  const store = new SqliteAuditStore(file, { readonly: true });
  try {
    const report = verifyLedger(store, await readAuditPublicKey(join(dir, 'audit.pub'), keyFile));
    expect(report.ok).toBe(report.problem === undefined);
    return report.problem?.replace(`chain ${chain}: `, '');
  } finally {
    store.close();
  }
}

describe('audit verify catches tampering', () => {
  it('passes the untouched ledger, with its checkpoints', async () => {
    expect(await verifyAfter(() => {})).toBeUndefined();
    const db = new Database(pristine, { readonly: true });
    expect((db.prepare('SELECT seq FROM checkpoints ORDER BY seq').all() as { seq: number }[]).map((c) => c.seq)).toEqual([4, 8, 10]);
    db.close();
  });

  it('an edited record', async () => {
    expect(await verifyAfter((db) => db.prepare("UPDATE records SET body = replace(body, 'user5', 'user6') WHERE seq = 5").run())).toBe('record 5 edited: its contents no longer match its hash');
  });

  it('an edited query column', async () => {
    expect(await verifyAfter((db) => db.prepare("UPDATE records SET outcome = 'issued' WHERE seq = 3").run())).toBe('record 3 edited: its outcome column differs from its hashed contents');
  });

  it('a deleted record', async () => {
    expect(await verifyAfter((db) => db.prepare('DELETE FROM records WHERE seq = 5').run())).toBe('record 5 deleted (the next record is 6)');
  });

  it('the last record deleted: the closing checkpoint misses it', async () => {
    expect(await verifyAfter((db) => db.prepare('DELETE FROM records WHERE seq = 10').run())).toBe('checkpoint at record 10: the record it signed is missing (deleted or truncated)');
  });

  it('two records swapped', async () => {
    const problem = await verifyAfter((db) => {
      db.prepare('UPDATE records SET seq = -1 WHERE seq = 5').run();
      db.prepare('UPDATE records SET seq = 5 WHERE seq = 6').run();
      db.prepare('UPDATE records SET seq = 6 WHERE seq = -1').run();
    });
    expect(problem).toBe('record 5 reordered: it was written as record 6');
  });

  it('an edit with every later hash recomputed: the signed checkpoint no longer matches', async () => {
    const problem = await verifyAfter((db, chain) => {
      db.prepare("UPDATE records SET body = replace(body, 'user2', 'userX') WHERE seq = 2").run();
      let prev = (db.prepare('SELECT hash FROM records WHERE seq = 1').get() as { hash: string }).hash;
      for (const row of db.prepare('SELECT seq, body FROM records WHERE seq >= 2 ORDER BY seq').all() as { seq: number; body: string }[]) {
        const hash = recordHash(chain, row.seq, prev, row.body);
        db.prepare('UPDATE records SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, row.seq);
        prev = hash;
      }
    });
    expect(problem).toBe('checkpoint at record 4: the chain was rewritten up to here (head hash differs from the signed one)');
  });

  it('a forged checkpoint signature', async () => {
    const problem = await verifyAfter((db) => db.prepare("UPDATE checkpoints SET signature = replace(signature, substr(signature, 1, 4), 'AAAA') WHERE seq = 8").run());
    expect(problem).toBe('checkpoint at record 8: bad signature (not made with the audit key, or altered)');
  });

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
