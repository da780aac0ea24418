// The SQLite ledger's journals (src/audit/journal.ts): a writer answers once its record is in its own
// journal, whoever holds SQLite's write lock; the record is indexed later, found by every reader, and
// survives a kill -9 before it was indexed. A torn last entry is dropped; a damaged one in the middle
// fails `audit verify`, named.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { authFailureEvent } from '../../../src/audit/events';
import { journalFolder, JournalWriter } from '../../../src/audit/journal';
import { encodeEntries, readEntries, type JournalEntry } from '../../../src/audit/journal_format';
import { indexedRecord } from '../../../src/audit/journal_index';
import { JournaledSqliteStore } from '../../../src/audit/journaled_store';
import { AuditLedger } from '../../../src/audit/ledger';
import { Frontier, leafHash } from '../../../src/audit/merkle';
import { GENESIS, recordHash } from '../../../src/audit/record';
import { proveRecord, UnsealedRecordError } from '../../../src/audit/record_proof';
import { checkpointOrigin, parseCheckpoint, signCheckpoint } from '../../../src/audit/signed_checkpoint';
import type { TreeNode } from '../../../src/audit/store';
import { appendLeaf } from '../../../src/audit/tree';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { verifyLedger } from '../../../src/audit/verify';
import { witnessCheckpoints } from '../../../src/audit/witness';
import { runCli, serveCli, servePlainHttp } from '../../helpers/cli';
import { eventually } from '../../helpers/eventually';
import { makeCsr } from '../../helpers/openssl';

const keyPem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/** Holds SQLite's write lock on a ledger, as another process's long transaction would, until released. */
function holdWriteLock(database: string): { db: Database.Database; release: () => void } {
  const db = new Database(database);
  db.exec('BEGIN IMMEDIATE');
  return { db, release: () => (db.exec('ROLLBACK'), db.close()) };
}

describe('the SQLite ledger journals each writer', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mayfly-journal-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('two writers on one ledger each acknowledge their records while another holds the write lock; readers find them once it is released', async () => {
    const database = join(dir, 'audit.db');
    const open = () => AuditLedger.open({ store: { kind: 'sqlite', database }, keyPem, checkpointEvery: 1000, checkpointIntervalMs: 3_600_000 });
    const writers = [await open(), await open()];
    // The writers' start-up (sealing dead chains) reads only; let it finish before the lock is taken.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lock = holdWriteLock(database);
    let positions;
    try {
      // Before journals, each append waited for SQLite's lock (busy_timeout, 5 s) and then failed.
      positions = await Promise.all(writers.flatMap((writer, w) => [1, 2, 3].map((i) => writer.append(authFailureEvent({ ra: 'default', source: '127.0.0.1' }, `user-${w}-${i}`)))));
      expect(positions.map((position) => position.leafIndex)).toEqual([0, 1, 2, 0, 1, 2]);
      // Acknowledged, and durable in each writer's own journal (0600), not in SQLite.
      const journals = readdirSync(journalFolder(database)).sort();
      expect(journals).toEqual([positions[0].chain, positions[3].chain].sort());
      for (const journal of journals) {
        const file = join(journalFolder(database), journal);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        expect(readFileSync(file, 'utf8')).toContain(journal === positions[0].chain ? 'user-0-3' : 'user-1-3');
      }
      expect(lock.db.prepare('SELECT count(*) AS n FROM records').get()).toEqual({ n: 0 });
    } finally {
      lock.release();
    }
    const reader = new SqliteAuditStore(database, { readonly: true });
    try {
      expect((await reader.query({})).map((record) => JSON.parse(record.body).claimed_user).sort()).toEqual(['user-0-1', 'user-0-2', 'user-0-3', 'user-1-1', 'user-1-2', 'user-1-3']);
    } finally {
      await reader.close();
    }
    await Promise.all(writers.map((writer) => writer.close()));
    // Indexed durably and sealed: the journals are gone, and the ledger alone verifies.
    expect(readdirSync(journalFolder(database))).toEqual([]);
  }, 60_000);

  it('answers each append at once while indexing waits for another process\'s write lock, and indexes and checkpoints once it is released', async () => {
    const database = join(dir, 'audit.db');
    // A checkpoint every 5 records: each makes the writer index what it journaled, which needs the lock.
    const ledger = await AuditLedger.open({ store: { kind: 'sqlite', database }, keyPem, checkpointEvery: 5, checkpointIntervalMs: 3_600_000 });
    await new Promise((resolve) => setTimeout(resolve, 500)); // its start-up sealing, which writes
    const lock = holdWriteLock(database);
    let chain = '';
    try {
      for (let i = 1; i <= 12; i++) {
        const started = performance.now();
        chain = (await ledger.append(authFailureEvent({ ra: 'default', source: '127.0.0.1' }, `user-${i}`))).chain;
        // Indexing on the writer's own thread held this append until busy_timeout (5 s) gave up.
        expect({ append: i, waitedOver1s: performance.now() - started > 1000 }).toEqual({ append: i, waitedOver1s: false });
      }
      expect(lock.db.prepare('SELECT count(*) AS n FROM records').get()).toEqual({ n: 0 });
    } finally {
      lock.release();
    }
    await ledger.close();
    const reader = new SqliteAuditStore(database, { readonly: true });
    try {
      expect(readdirSync(journalFolder(database))).toEqual([]); // indexed durably, then removed
      expect((await reader.walkPage(chain, 0, 20)).map((record) => record.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect((await reader.checkpoints(chain)).at(-1)?.seq).toBe(12);
    } finally {
      await reader.close();
    }
  }, 60_000);

  it('stores each checkpoint at once and leaves the records it signs to the indexer\'s next batch; a reader proves them from the journal', async () => {
    const database = join(dir, 'audit.db');
    const ledger = await AuditLedger.open({ store: { kind: 'sqlite', database }, keyPem, checkpointEvery: 5, checkpointIntervalMs: 3_600_000 });
    // Its start-up sealing indexes every journal, its own too: let it pass before the appends (it
    // takes longer than the other tests' 500 ms when tests run side by side).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    try {
      let chain = '';
      for (let i = 1; i <= 12; i++) chain = (await ledger.append(authFailureEvent({ ra: 'default', source: '127.0.0.1' }, `user-${i}`))).chain;
      const db = new Database(database, { readonly: true });
      try {
        const checkpointed = db.prepare('SELECT max(seq) FROM checkpoints WHERE chain = ?').pluck();
        await eventually(() => checkpointed.get(chain) === 10, 3000);
        expect(checkpointed.get(chain)).toBe(10);
        // Until 2026-12-07 each checkpoint made the indexer index what waited first: batches of a checkpoint's worth of
        // records, each rewriting the random-key index pages they touch (indexer_worker.ts).
        expect(db.prepare('SELECT count(*) FROM records WHERE chain = ?').pluck().get(chain)).toBe(0);
      } finally {
        db.close();
      }
      const reader = new SqliteAuditStore(database, { readonly: true });
      try {
        const report = await verifyLedger(reader, createPublicKey(keyPem));
        expect(report).toMatchObject({ ok: true, chains: [{ chain, records: 12, checkpoints: 2, unsealed: 2 }] });
      } finally {
        await reader.close();
      }
    } finally {
      await ledger.close();
    }
  }, 60_000);

  it('a certificate answered but not yet indexed survives a kill -9: the CLI finds it, verify passes, and the next start seals the chain and removes its journal', async () => {
    expect(runCli(['init', '--dir', dir]).status).toBe(0);
    const config = join(dir, 'mayfly.yaml');
    servePlainHttp(config);
    const secret = /secret=(.*)/.exec(readFileSync(join(dir, 'dev-credentials'), 'utf8'))![1];
    const database = join(dir, 'audit.db');
    const sign = (url: string) => fetch(`${url}/v1/sign/default`, { method: 'POST', body: new URLSearchParams({ user: 'deployer', secret, encoding: 'pem', csr: makeCsr().pem }) });
    const mayfly = await serveCli(['--config', config, '--listen', '127.0.0.1:0']);
    const lock = holdWriteLock(database);
    let serial: string;
    try {
      expect((await sign(mayfly.url)).status).toBe(200);
      const response = await sign(mayfly.url);
      expect(response.status).toBe(200);
      serial = new X509Certificate(await response.text()).serialNumber.toLowerCase();
      // Answered, and not in SQLite: nobody could index it while the lock was held.
      expect(lock.db.prepare('SELECT count(*) AS n FROM records WHERE serial = ?').get(serial)).toEqual({ n: 0 });
      mayfly.child.kill('SIGKILL');
      await new Promise((resolve) => (mayfly.child.exitCode !== null || mayfly.child.signalCode !== null ? resolve(undefined) : mayfly.child.once('exit', resolve)));
    } finally {
      lock.release();
      if (mayfly.child.exitCode === null && mayfly.child.signalCode === null) mayfly.child.kill('SIGKILL');
    }
    const [journal] = readdirSync(journalFolder(database));
    expect(journal).toBeDefined();

    const list = runCli(['audit', 'list', '--config', config, '--outcome', 'issued']);
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(serial);
    expect(list.stdout).toContain('2 record(s)');
    const verify = runCli(['audit', 'verify', '--config', config]);
    expect(verify.stdout).toMatch(/^OK: 1 chain\(s\) verified$/m);
    expect(verify.status).toBe(0);

    const again = await serveCli(['--config', config, '--listen', '127.0.0.1:0']);
    try {
      expect((await sign(again.url)).status).toBe(200);
      // The dead process's journal is replayed, its chain sealed, and the journal removed.
      for (let i = 0; i < 100 && existsSync(join(journalFolder(database), journal)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(existsSync(join(journalFolder(database), journal))).toBe(false);
    } finally {
      await again.stop();
    }
    const after = runCli(['audit', 'verify', '--config', config]);
    expect(after.stdout).toMatch(/^OK: 2 chain\(s\) verified$/m);
    expect(after.stdout).not.toContain('UNSEALED');
    expect(after.status).toBe(0);
  }, 90_000);

  it('starts a journal over once all it holds is indexed, and a reader reading across the change misses nothing', async () => {
    const database = join(dir, 'audit.db');
    const ledger = await AuditLedger.open({ store: { kind: 'sqlite', database }, keyPem, checkpointEvery: 5000, checkpointIntervalMs: 3_600_000 });
    const reader = new SqliteAuditStore(database, { readonly: true });
    try {
      const claimed = 'x'.repeat(250); // ~0.5 KiB a record: 20,000 of them pass the journal's 8 MiB
      let journal = '';
      let firstFile = 0;
      for (let first = 0; first < 20_000; first += 1000) {
        const positions = await Promise.all(Array.from({ length: 1000 }, (_, i) => ledger.append(authFailureEvent({ ra: 'default', source: '127.0.0.1' }, `${first + i}-${claimed}`))));
        journal = join(journalFolder(database), positions[0].chain);
        if (first > 0) continue;
        firstFile = statSync(journal).ino;
        expect((await reader.query({})).length).toBe(1000); // the reader now knows where it stopped reading
      }
      // 8 MiB were passed by ~15,000 records: once the indexer has made what the journal held then
      // durable, a new file, holding what was journaled meanwhile.
      await eventually(() => statSync(journal).ino !== firstFile, 20_000);
      expect(statSync(journal).ino).not.toBe(firstFile);
      expect(statSync(journal).size).toBeLessThan(8 * 1024 * 1024);
      const records = await reader.query({});
      expect(records.map((record) => record.seq)).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    } finally {
      await reader.close();
      await ledger.close();
    }
  }, 120_000);

  /** Three records of a chain, chained and hashed as a writer makes them; `fields` replace the event's (a long `reason` makes them larger). */
  const entriesOf = (chain: string, user = 'journaled', seqs = [1, 2, 3], fields: Record<string, unknown> = {}): JournalEntry[] => {
    let prevHash = GENESIS;
    return seqs.map((seq) => {
      const body = JSON.stringify({ ...authFailureEvent({ ra: 'default', source: '192.0.2.7' }, `${user}-${seq}`), ...fields });
      const hash = recordHash(chain, seq, prevHash, body);
      const entry = { seq, prevHash, hash, body };
      prevHash = hash;
      return entry;
    });
  };

  /** Appends 100 records of ~100 KB: the 82nd passes the journal's 8 MiB, and its rotation is asked for. */
  const appendLargeRecords = async (writer: JournaledSqliteStore, chain: string): Promise<void> => {
    for (const entry of entriesOf(chain, 'big', Array.from({ length: 100 }, (_, i) => i + 1), { reason: 'x'.repeat(100_000) })) await writer.appendAll([indexedRecord(chain, entry)], []);
  };

  /** A reader finds the chain's records 1 to `count`, each once. */
  const expectIndexed = async (database: string, chain: string, count: number): Promise<void> => {
    const reader = new SqliteAuditStore(database, { readonly: true });
    try {
      expect((await reader.walkPage(chain, 0, count * 2)).map((stored) => stored.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    } finally {
      await reader.close();
    }
  };

  it('a starting writer indexes and seals a killed process\'s journal and removes it, but leaves a damaged one open and in place', async () => {
    const database = join(dir, 'audit.db');
    await new SqliteAuditStore(database).close();
    // Two processes of this host that have ended.
    const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
    const [whole, damaged, lengthDamaged] = [`${hostname()}-${deadPid()}-0000aaaa`, `${hostname()}-${deadPid()}-0000bbbb`, `${hostname()}-${deadPid()}-0000cccc`];
    mkdirSync(journalFolder(database), { mode: 0o700 });
    writeFileSync(join(journalFolder(database), whole), encodeEntries(entriesOf(whole)));
    const bytes = encodeEntries(entriesOf(damaged));
    bytes[encodeEntries(entriesOf(damaged).slice(0, 1)).length + 40] ^= 0x01;
    writeFileSync(join(journalFolder(database), damaged), bytes);
    // Entry 1's length field points past the end of the file: not a write cut short, records 2 and 3 follow.
    const lengthBytes = encodeEntries(entriesOf(lengthDamaged));
    lengthBytes[0] ^= 0x01;
    writeFileSync(join(journalFolder(database), lengthDamaged), lengthBytes);

    const ledger = await AuditLedger.open({ store: { kind: 'sqlite', database }, keyPem, checkpointEvery: 1000, checkpointIntervalMs: 3_600_000 });
    await ledger.close(); // once it has sealed what it found
    expect(readdirSync(journalFolder(database)).sort()).toEqual([damaged, lengthDamaged].sort());
    const reader = new SqliteAuditStore(database, { readonly: true });
    try {
      expect((await reader.checkpoints(whole)).map((checkpoint) => checkpoint.seq)).toEqual([3]);
      // Record 1 is indexed; the chain is not sealed over the damage, so repairing it can add the rest.
      expect((await reader.walkPage(damaged, 0, 10)).map((record) => record.seq)).toEqual([1]);
      expect(await reader.checkpoints(damaged)).toEqual([]);
      expect(await reader.walkPage(lengthDamaged, 0, 10)).toEqual([]);
      expect(await reader.checkpoints(lengthDamaged)).toEqual([]);
    } finally {
      await reader.close();
    }
  }, 60_000);

  it('a record stored in place of the one a writer journaled (a forked chain) is never skipped silently: indexing fails, the writer reports it, and its journal stays', async () => {
    const database = join(dir, 'audit.db');
    const chain = `${hostname()}-${process.pid}-0000dddd`;
    const writer = new JournaledSqliteStore(database, chain);
    const other = new SqliteAuditStore(database, { journaled: true });
    try {
      // A reader indexed a record 1 its writer then cut back off; the writer journaled another record 1.
      const cutBack = indexedRecord(chain, entriesOf(chain, 'cut-back')[0]);
      other.insert([cutBack], []);
      await writer.appendAll([indexedRecord(chain, entriesOf(chain)[0])], []);
      await expect(writer.index('own')).rejects.toThrow(`record 1 of chain ${chain} is stored with another hash`);
      expect(await writer.problem()).toContain('cannot index its journal (record 1 of chain');
      // The same record again is skipped, as indexing twice must be.
      expect(() => other.insert([cutBack], [])).not.toThrow();
    } finally {
      await other.close();
      await writer.close();
    }
    // Not indexed, so the journal (the acknowledged record's only copy) stays.
    expect(readdirSync(journalFolder(database))).toEqual([chain]);
  }, 60_000);

  it('a writer whose indexer thread stopped says why, answers rather than waits, and closes keeping its journal', async () => {
    const database = join(dir, 'audit.db');
    const chain = `${hostname()}-${process.pid}-0000cccc`;
    const writer = new JournaledSqliteStore(database, chain);
    await writer.appendAll([indexedRecord(chain, entriesOf(chain)[0])], []);
    await (Reflect.get(writer, 'indexer') as { terminate(): Promise<number> }).terminate();
    await expect(writer.index('own')).rejects.toThrow('the audit journal cannot be indexed: its indexer thread failed (it stopped)');
    await expect(writer.addCheckpoint({ chain, seq: 1, headHash: 'h', time: new Date().toISOString(), signature: 's' })).rejects.toThrow('its indexer thread failed');
    expect(await writer.problem()).toContain('cannot index its journal (its indexer thread failed');
    await writer.close();
    expect(readdirSync(journalFolder(database))).toEqual([chain]);
  }, 30_000);

  it('a journal starts over keeping only what the indexer had not indexed, not what was journaled after it was asked', async () => {
    const database = join(dir, 'audit.db');
    const chain = `${hostname()}-${process.pid}-0000ffff`;
    const writer = new JournaledSqliteStore(database, chain);
    try {
      const journal = join(journalFolder(database), chain);
      const firstFile = statSync(journal).ino;
      // The rotation is asked for at record 82 and waits for the indexer's next batch; records 83–100 come meanwhile, and that batch indexes them all.
      await appendLargeRecords(writer, chain);
      expect(statSync(journal).ino).toBe(firstFile);
      await writer.index('own');
      await eventually(() => statSync(journal).ino !== firstFile, 10_000);
      expect(statSync(journal).ino).not.toBe(firstFile);
      // Keeping from where it was asked (record 82) carried ~1.8 MB of indexed records into the new file, and at a high rate started it over again at once.
      expect(statSync(journal).size).toBe(0);
    } finally {
      await writer.close();
    }
    await expectIndexed(database, chain, 100);
  }, 60_000);

  it('closes at once while a rotation waits for the indexer\'s next batch: everything indexed, the journal removed', async () => {
    const database = join(dir, 'audit.db');
    const chain = `${hostname()}-${process.pid}-0000fffe`;
    const writer = new JournaledSqliteStore(database, chain);
    const journal = join(journalFolder(database), chain);
    // The rotation asked for at record 82 waits for a batch 5 s away.
    await appendLargeRecords(writer, chain);
    const started = Date.now();
    await writer.close();
    expect(Date.now() - started).toBeLessThan(4000);
    expect(existsSync(journal)).toBe(false);
    await expectIndexed(database, chain, 100);
  }, 60_000);

  it('a rotation waiting for a batch that fails (another process holds the write lock) waits for the retry that succeeds, and keeps nothing indexed', async () => {
    const database = join(dir, 'audit.db');
    const chain = `${hostname()}-${process.pid}-0000fffd`;
    const writer = new JournaledSqliteStore(database, chain);
    const journal = join(journalFolder(database), chain);
    const firstFile = statSync(journal).ino;
    const lock = holdWriteLock(database);
    try {
      // The rotation asked for at record 82 waits for the indexer's next batch, which waits 5 s for the lock and fails.
      await appendLargeRecords(writer, chain);
      await eventually(async () => (await writer.problem()) !== undefined, 20_000);
      expect(await writer.problem()).toMatch(/cannot index its journal \(.*locked/);
      expect(statSync(journal).ino).toBe(firstFile);
    } finally {
      lock.release();
    }
    try {
      // The indexer tries again 5 s after the failure.
      await eventually(() => statSync(journal).ino !== firstFile, 20_000);
      expect(statSync(journal).ino).not.toBe(firstFile);
      expect(statSync(journal).size).toBe(0);
      expect(await writer.problem()).toBeUndefined();
    } finally {
      await writer.close();
    }
    await expectIndexed(database, chain, 100);
  }, 90_000);

  it('verify names the journal it cannot index, not a deleted record, when a checkpoint signs records only that journal holds', async () => {
    const database = join(dir, 'audit.db');
    const chain = `${hostname()}-${process.pid}-0000eeee`;
    const [first, second, third] = entriesOf(chain);
    // Record 1 indexed, and the checkpoint at record 3 stored before records 2 and 3 were, as a writer stores it.
    const store = new SqliteAuditStore(database, { journaled: true });
    try {
      store.insert([indexedRecord(chain, first)], []);
      await store.addCheckpoint({ chain, seq: 3, headHash: third.hash, time: new Date().toISOString(), signature: 'AA==' });
    } finally {
      await store.close();
    }
    // In the journal, record 2 is damaged and record 3 follows it: neither can be indexed.
    mkdirSync(journalFolder(database), { mode: 0o700 });
    const bytes = encodeEntries([first, second, third]);
    bytes[encodeEntries([first]).length + 40] ^= 0x01;
    writeFileSync(join(journalFolder(database), chain), bytes);
    const reader = new SqliteAuditStore(database, { readonly: true });
    try {
      const report = await verifyLedger(reader, createPublicKey(keyPem));
      expect(report.ok).toBe(false);
      expect(report.problem).toContain(`the audit journal ${join(journalFolder(database), chain)}: the entry at byte ${encodeEntries([first]).length} (after record 1) is damaged`);
      expect(report.problem).not.toContain('deleted');
    } finally {
      await reader.close();
    }
  });

  it('witnessing and a record\'s proof name the journal they cannot index, not missing records, when a checkpoint signs records only that journal holds', async () => {
    const database = join(dir, 'audit.db');
    const chain = `${hostname()}-${process.pid}-0000dddd`;
    const serial = '0102030405060708';
    const entries = entriesOf(chain, 'issued', [1, 2, 3], { event: 'sign', outcome: 'issued', certificate: { serial } });
    const privateKey = createPrivateKey(keyPem);
    const publicKey = createPublicKey(keyPem);
    const origin = checkpointOrigin(chain, publicKey);
    const frontier = Frontier.empty();
    const notes = entries.map((entry) => {
      frontier.append(leafHash(entry.body), () => undefined);
      return signCheckpoint({ origin, size: entry.seq, root: frontier.root() }, privateKey);
    });
    const checkpointAt = (seq: number) => ({ chain, seq, headHash: entries[seq - 1].hash, time: new Date().toISOString(), signature: parseCheckpoint(notes[seq - 1]).signatures[0].signature.toString('base64'), note: notes[seq - 1] });
    // Record 1 indexed, its checkpoint exported; the checkpoint at record 3 stored before records 2 and 3 were, as a writer stores it.
    const store = new SqliteAuditStore(database, { journaled: true });
    try {
      store.insert([indexedRecord(chain, entries[0])], []);
      await store.addCheckpoint(checkpointAt(1));
      await store.addCheckpoint(checkpointAt(3));
    } finally {
      await store.close();
    }
    // In the journal, record 2 is damaged and record 3 follows it: neither can be indexed.
    mkdirSync(journalFolder(database), { mode: 0o700 });
    const bytes = encodeEntries(entries);
    bytes[encodeEntries(entries.slice(0, 1)).length + 40] ^= 0x01;
    writeFileSync(join(journalFolder(database), chain), bytes);
    const damage = `the audit journal ${join(journalFolder(database), chain)}: the entry at byte ${encodeEntries(entries.slice(0, 1)).length} (after record 1) is damaged, and entries follow it; it and what follows are not in the ledger`;
    const reader = new SqliteAuditStore(database, { readonly: true });
    try {
      const witnessed = await witnessCheckpoints(reader, publicKey, notes[0]);
      expect(witnessed.ok).toBe(false);
      expect(!witnessed.ok && witnessed.problem).toContain(`the ledger's records cannot all be read: ${damage}`);
      expect(!witnessed.ok && witnessed.problem).not.toContain('lacks records');
      await expect(proveRecord(reader, publicKey, serial)).rejects.toThrow(new UnsealedRecordError(`the record of ${serial} cannot be proven against its chain's latest checkpoint: ${damage}`));
    } finally {
      await reader.close();
    }
  });

  it('a journal is named only by a chain id: a path or a name readers would ignore is refused, and nothing is created', () => {
    const database = join(dir, 'audit.db');
    for (const chain of ['../escape-1-0000aaaa', 'my host-1-0000aaaa', 'sub/dir-1-0000aaaa']) {
      expect(() => JournalWriter.create(database, chain)).toThrow(`the audit chain id ${JSON.stringify(chain)} cannot name a journal`);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a journal folder that is a symbolic link, or open to others, saying what is wrong; makes one mode 700', () => {
    const database = join(dir, 'audit.db');
    const folder = journalFolder(database);
    mkdirSync(folder, { mode: 0o755 });
    chmodSync(folder, 0o755);
    expect(() => JournalWriter.create(database, `${hostname()}-1-0000aaaa`)).toThrow(`the audit journal folder ${folder} has mode 755, not 700: make it a directory owned by the user Mayfly runs as, with mode 700`);
    rmSync(folder, { recursive: true });
    mkdirSync(join(dir, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(dir, 'elsewhere'), folder);
    expect(() => JournalWriter.create(database, `${hostname()}-1-0000aaaa`)).toThrow(`the audit journal folder ${folder} is not a directory (a symbolic link or a file)`);
    expect(readdirSync(join(dir, 'elsewhere'))).toEqual([]);
    rmSync(folder);
    JournalWriter.create(database, `${hostname()}-1-0000aaaa`).close(true);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
  });

  it('a reader resuming in a journal whose inode an older file had reads it from its start: no false gap, nothing missed', async () => {
    const database = join(dir, 'audit.db');
    await new SqliteAuditStore(database).close();
    const chain = 'elsewhere.example-4242-0123abcd';
    mkdirSync(journalFolder(database), { mode: 0o700 });
    const file = join(journalFolder(database), chain);
    const all = entriesOf(chain, 'journaled', [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Records 4–6 take as many bytes as 1–3: the old offset falls on record 7's first byte.
    expect(encodeEntries(all.slice(3, 6)).length).toBe(encodeEntries(all.slice(0, 3)).length);
    writeFileSync(file, encodeEntries(all.slice(0, 3)));
    const reader = new SqliteAuditStore(database, { readonly: true });
    try {
      expect((await reader.walkPage(chain, 0, 20)).map((record) => record.seq)).toEqual([1, 2, 3]);
      const inode = statSync(file).ino;
      // The journal started over and the new file has the old one's inode (rewritten in place here).
      writeFileSync(file, encodeEntries(all.slice(3)));
      expect(statSync(file).ino).toBe(inode);
      expect(await reader.journalProblem()).toBeUndefined();
      expect((await reader.walkPage(chain, 0, 20)).map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await reader.close();
    }
  });

  it('starts a journal over without following a link left at its .next name', () => {
    const database = join(dir, 'audit.db');
    const chain = `${hostname()}-${process.pid}-0000eeee`;
    const writer = JournalWriter.create(database, chain);
    const file = join(journalFolder(database), chain);
    const target = join(dir, 'not-a-journal');
    writeFileSync(target, 'keep');
    symlinkSync(target, `${file}.next`);
    writer.rotate();
    writer.append(entriesOf(chain).slice(0, 1));
    expect(readFileSync(target, 'utf8')).toBe('keep');
    expect(lstatSync(file).isFile()).toBe(true);
    expect(readEntries(readFileSync(file)).entries.map((entry) => entry.seq)).toEqual([1]);
    writer.close(true);
  });

  it('replaying a journal hashes the subtrees from the leaves: a subtree a journal carries (as journals before 2026-12-06 did) is not taken, and the seal signs the true root', async () => {
    const database = join(dir, 'audit.db');
    await new SqliteAuditStore(database).close();
    const chain = `${hostname()}-${spawnSync(process.execPath, ['-e', '']).pid!}-0000ffff`;
    const entries = entriesOf(chain, 'replayed', Array.from({ length: 300 }, (_, i) => i + 1));
    const frontier = Frontier.empty();
    const nodes: TreeNode[] = [];
    for (const entry of entries) appendLeaf(frontier, chain, leafHash(entry.body), nodes);
    expect(nodes.map(({ level, index }) => [level, index])).toEqual([[8, 0]]);
    // The old format, with a forged subtree at the record that completes it.
    const frame = ({ seq, prevHash, hash, body }: JournalEntry): Buffer => {
      const payload = Buffer.from(`${JSON.stringify({ seq, prev: prevHash, hash, nodes: seq === 256 ? [[8, 0, 'c'.repeat(64)]] : [] })}\n${body}`, 'utf8');
      const header = Buffer.alloc(8);
      header.writeUInt32BE(payload.length, 0);
      header.writeUInt32BE(crc32(payload), 4);
      return Buffer.concat([header, payload]);
    };
    mkdirSync(journalFolder(database), { mode: 0o700 });
    writeFileSync(join(journalFolder(database), chain), Buffer.concat(entries.map(frame)));

    const ledger = await AuditLedger.open({ store: { kind: 'sqlite', database }, keyPem, checkpointEvery: 1000, checkpointIntervalMs: 3_600_000 });
    await ledger.close(); // once it has sealed the dead chain
    const reader = new SqliteAuditStore(database, { readonly: true });
    try {
      expect(await reader.treeNodes(chain, [{ level: 8, index: 0 }])).toEqual([nodes[0].hash]);
      const [seal] = await reader.checkpoints(chain);
      expect(seal.seq).toBe(300);
      expect(parseCheckpoint(seal.note!).root.equals(frontier.root())).toBe(true);
    } finally {
      await reader.close();
    }
  }, 60_000);

  describe('a journal left by a writer of another host', () => {
    const chain = 'elsewhere.example-4242-0123abcd';
    const entries = (): JournalEntry[] => entriesOf(chain);
    /** A ledger (its schema, no record) and a journal of these bytes beside it. */
    const ledgerWithJournal = async (bytes: Buffer): Promise<string> => {
      expect(runCli(['init', '--dir', dir]).status).toBe(0);
      await new SqliteAuditStore(join(dir, 'audit.db')).close();
      mkdirSync(journalFolder(join(dir, 'audit.db')), { recursive: true, mode: 0o700 });
      writeFileSync(join(journalFolder(join(dir, 'audit.db')), chain), bytes);
      return join(dir, 'mayfly.yaml');
    };

    it('drops a torn last entry (a write cut short, never acknowledged) and keeps the whole ones', async () => {
      const whole = encodeEntries(entries());
      const fourth = encodeEntries([{ ...entries()[2], seq: 4 }]);
      const config = await ledgerWithJournal(Buffer.concat([whole, fourth.subarray(0, fourth.length - 20)]));
      const verify = runCli(['audit', 'verify', '--config', config]);
      expect(verify.stdout).toContain(`chain ${chain}: 3 record(s), 0 checkpoint(s), intact`);
      expect(verify.stdout).toMatch(/^OK: 1 chain\(s\) verified$/m);
      expect(verify.status).toBe(0);
    });

    it('fails audit verify on a damaged entry with entries after it, naming the journal and where', async () => {
      const bytes = encodeEntries(entries());
      const second = encodeEntries(entries().slice(0, 1)).length;
      bytes[second + 40] ^= 0x01; // inside record 2's payload
      const config = await ledgerWithJournal(bytes);
      const verify = runCli(['audit', 'verify', '--config', config]);
      expect(verify.stdout).toContain(`TAMPERED: the audit journal ${join(journalFolder(join(dir, 'audit.db')), chain)}: the entry at byte ${second} (after record 1) is damaged, and entries follow it`);
      expect(verify.status).toBe(1);
    });

    it('fails audit verify on an entry whose length field points past the end of the file, with entries after it', async () => {
      const bytes = encodeEntries(entries());
      bytes[1] ^= 0x01; // entry 1's length: before, records 1–3 were dropped as a torn write and verify passed
      const config = await ledgerWithJournal(bytes);
      const verify = runCli(['audit', 'verify', '--config', config]);
      expect(verify.stdout).toContain(`TAMPERED: the audit journal ${join(journalFolder(join(dir, 'audit.db')), chain)}: the entry at byte 0 is damaged, and entries follow it`);
      expect(verify.status).toBe(1);
    });

    it('fails audit verify on an entry whose text was edited, naming the record', async () => {
      const edited = entries();
      edited[1] = { ...edited[1], body: edited[1].body.replace('journaled-2', 'journaled-X') };
      const config = await ledgerWithJournal(encodeEntries(edited));
      const verify = runCli(['audit', 'verify', '--config', config]);
      expect(verify.stdout).toContain(`: record 2 was edited: its text no longer matches its hash; it and what follows are not in the ledger`);
      expect(verify.status).toBe(1);
    });
  });
});
