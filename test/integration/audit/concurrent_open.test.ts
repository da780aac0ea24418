// `serve --workers N` starts N writers on one new SQLite ledger at once: each must find the schema
// made (or make it) exactly once. Reading the schema version before taking the write lock let two
// writers both migrate a fresh file; the second failed ("duplicate column name: leaf_hash"), its
// worker exited and was restarted a second later, and meanwhile the other took every connection.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AuditLedger } from '../../../src/audit/ledger';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';

const keyPem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('writers opening one new SQLite ledger at once', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'mayfly-open-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('all open it, each on its own thread, and each records', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const database = join(dir, `audit-${attempt}.db`);
      // Each ledger's writer thread opens (and migrates) the store as soon as it starts.
      const opened = await Promise.allSettled(
        Array.from({ length: 6 }, () => AuditLedger.open({ store: { kind: 'sqlite', database }, keyPem, checkpointEvery: 1000, checkpointIntervalMs: 60_000 })),
      );
      const ledgers = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      try {
        expect(opened.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []))).toEqual([]);
        for (const [i, ledger] of ledgers.entries()) {
          await ledger.append({ v: 1, time: new Date().toISOString(), event: 'auth', ra: 'default', requester: null, claimed_user: `writer-${i}`, source: '127.0.0.1', outcome: 'refused', reason: 'authentication failed' });
        }
      } finally {
        await Promise.all(ledgers.map((ledger) => ledger.close()));
      }
      const store = new SqliteAuditStore(database, { readonly: true });
      try {
        expect((await store.chains()).length).toBe(6);
      } finally {
        await store.close();
      }
    }
  }, 120_000);

  // The race above, made certain: another connection holds the write lock of a new file while this
  // writer turns it to WAL. SQLite does not wait busy_timeout there; the writer did not wait either.
  it('a writer waits for another connection that holds the write lock of a new file', async () => {
    const database = join(dir, 'held.db');
    const holder = new Worker(
      `const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
       const db = new Database(${JSON.stringify(database)});
       db.exec('BEGIN IMMEDIATE');
       require('node:worker_threads').parentPort.postMessage('held');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
       db.exec('COMMIT');
       db.close();`,
      { eval: true },
    );
    try {
      await new Promise((resolve, reject) => holder.once('message', resolve).once('error', reject));
      const store = new SqliteAuditStore(database);
      try {
        expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(await store.chains()).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await holder.terminate();
    }
  });
});
