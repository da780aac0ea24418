import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { AuditLedger } from '../../../src/audit/ledger';
import { leafHash } from '../../../src/audit/merkle';
import { openAuditStore, type StoreLocation } from '../../../src/audit/open_store';
import { publishedCheckpoints } from '../../../src/audit/published_checkpoints';
import { proveRecord, verifyRecordProof } from '../../../src/audit/record_proof';
import { GENESIS, recordColumns, recordHash, type AuditEvent, type IndexedRecord } from '../../../src/audit/record';
import { isFinal, parseCheckpoints } from '../../../src/audit/signed_checkpoint';
import { checkpointPayload } from '../../../src/audit/store';
import { STORED_LEVEL } from '../../../src/audit/tree';
import { verifyLedger } from '../../../src/audit/verify';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres';

// A ledger written before the Merkle tree (schema version 1: hash chains, checkpoints signing the
// chain head) opened by this Mayfly: the migration hashes its records into their chains' trees,
// the old checkpoints still verify, and the next writer on the host seals the dead chain with a
// tree checkpoint, so its records become provable.

const { privateKey } = generateKeyPairSync('ed25519');
const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const publicKey = createPublicKey(privateKey);
const RECORDS = 600;
/** The chain of a process of this host that has ended. */
const chain = `${hostname()}-${spawnSync('true').pid}-01d0c4a1`;

const event = (i: number): AuditEvent => ({
  v: 1,
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  event: 'sign',
  ra: 'default',
  requester: { user: `user${i}`, groups: [], authentication: 'static' },
  source: '127.0.0.1',
  dns_names: [`host-${i}.example.com`],
  outcome: 'issued',
  certificate: { serial: `7f${i.toString(16).padStart(6, '0')}`, not_before: '2026-01-01T00:00:00.000Z', not_after: '2026-01-02T00:00:00.000Z', sha256: '0'.repeat(64), der: '' },
});

/** The version 1 records of one chain, with the checkpoints of that time (the chain head, signed) after 250 and 600. */
function legacyLedger(): { records: IndexedRecord[]; checkpoints: { seq: number; headHash: string; time: string; signature: string }[] } {
  const records: IndexedRecord[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= RECORDS; seq++) {
    const body = JSON.stringify(event(seq));
    const hash = recordHash(chain, seq, prev, body);
    records.push({ chain, seq, prevHash: prev, hash, body, leafHash: '', columns: recordColumns(event(seq)) });
    prev = hash;
  }
  const checkpoints = [250, RECORDS].map((seq) => {
    const unsigned = { chain, seq, headHash: records[seq - 1].hash, time: '2026-01-01T01:00:00.000Z' };
    return { ...unsigned, signature: sign(null, checkpointPayload(unsigned), privateKey).toString('base64') };
  });
  return { records, checkpoints };
}

/** Version 4's hourly counts and version 3's query columns, indexes and refusals, taken away again (SQLite cannot drop an indexed column). */
const QUERY_SCHEMA_UNDONE = [
  ...['ra_hours', 'requester_hours', 'refusal_hours'].map((table) => `DROP TABLE ${table}`),
  ...['record_names_record', 'record_refusals_validator_time', 'record_refusals_time', 'records_user_time', 'records_source_time', 'records_common_name_time', 'records_not_after', 'records_overview'].map((index) => `DROP INDEX ${index}`),
  'DROP TABLE record_refusals',
  ...['user_name', 'source_key', 'reversed_common_name', 'not_after'].map((column) => `ALTER TABLE records DROP COLUMN ${column}`),
  'CREATE INDEX records_outcome_time ON records (outcome, time)',
];

/** Writes the legacy ledger, then takes the schema back to version 1 as such a ledger had it. */
async function writeVersion1(location: StoreLocation, downgrade: (sql: string) => Promise<void>): Promise<void> {
  const store = await openAuditStore(location);
  const { records, checkpoints } = legacyLedger();
  await store.appendAll(records, []);
  for (const checkpoint of checkpoints) await store.addCheckpoint({ chain, ...checkpoint });
  await store.close();
  for (const sql of [...QUERY_SCHEMA_UNDONE, 'ALTER TABLE records DROP COLUMN leaf_hash', 'DROP TABLE tree_nodes', 'ALTER TABLE checkpoints DROP COLUMN note']) await downgrade(sql);
}

describe.each(['sqlite', 'postgres'] as const)('a version 1 ledger migrates to the Merkle tree and the query columns (%s)', (kind) => {
  let dir: string;
  let postgres: TestPostgres | undefined;
  let location: StoreLocation;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-migrate-'));
    if (kind === 'postgres') {
      postgres = await startTestPostgres();
      location = { kind: 'postgres', url: postgres.url };
      const client = new Client(postgres.url);
      await client.connect();
      await writeVersion1(location, async (sql) => void (await client.query(sql)));
      await client.query('DELETE FROM mayfly_schema WHERE version >= 2');
      await client.end();
    } else {
      location = { kind: 'sqlite', database: join(dir, 'audit.db') };
      const db = () => new Database(join(dir, 'audit.db'));
      await writeVersion1(location, async (sql) => {
        const handle = db();
        handle.exec(sql);
        handle.close();
      });
      const handle = db();
      handle.pragma('user_version = 1');
      handle.close();
    }
  }, 60_000);
  afterAll(() => {
    postgres?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hashes the old records into the tree; the old checkpoints still verify; the next writer seals the dead chain and its records are provable', async () => {
    const migrated = await openAuditStore(location);
    try {
      expect(await migrated.leafHashes(chain, 0, 3)).toEqual([1, 2, 3].map((seq) => leafHash(JSON.stringify(event(seq))).toString('hex')));
      // 600 records: two complete subtrees of 256 (level 8) and their parent of 512 (level 9).
      expect((await migrated.treeNodes(chain, [{ level: STORED_LEVEL, index: 0 }, { level: STORED_LEVEL, index: 1 }, { level: STORED_LEVEL + 1, index: 0 }, { level: STORED_LEVEL, index: 2 }])).map((hash) => hash !== undefined)).toEqual([true, true, true, false]);
      // Verify recounts version 4's hourly counts too: the backfill counted what the records say.
      const report = await verifyLedger(migrated, publicKey);
      expect(report).toMatchObject({ ok: true, chains: [{ chain, records: RECORDS, checkpoints: 2, unsealed: 0 }] });
      // Through version 3 as well: the query columns filled from the records' text.
      expect((await migrated.query({ user: 'user5' })).map((record) => record.seq)).toEqual([5]);
      expect((await migrated.query({ name: 'HOST-7.example.com' })).map((record) => record.seq)).toEqual([7]);
      // No tree checkpoint covers the old records yet: not provable until a writer seals the chain.
      expect(await proveRecord(migrated, publicKey, event(5).certificate!.serial).catch((error: Error) => error.name)).toBe('UnsealedRecordError');
    } finally {
      await migrated.close();
    }
    const successor = await AuditLedger.open({ store: location, keyPem, checkpointEvery: 1000, checkpointIntervalMs: 3_600_000 });
    await successor.close();
    const reader = await openAuditStore(location);
    try {
      const notes = parseCheckpoints(await publishedCheckpoints(reader)).filter((note) => note.origin.endsWith(`/${chain}`));
      expect(notes.map((note) => [note.size, isFinal(note, publicKey)])).toEqual([[RECORDS, true]]);
      const proof = await proveRecord(reader, publicKey, event(300).certificate!.serial);
      expect(proof).toMatchObject({ leaf_index: 299, tree_size: RECORDS });
      expect(verifyRecordProof(proof, proof!.checkpoint, createPublicKey(createPrivateKey(keyPem)))).toMatchObject({ ok: true });
      expect(await verifyLedger(reader, publicKey)).toMatchObject({ ok: true });
    } finally {
      await reader.close();
    }
  }, 60_000);
});
