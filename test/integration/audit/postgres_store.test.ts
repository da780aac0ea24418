// The PostgreSQL ledger store against the SQLite one, on a real PostgreSQL from Debian started for
// this file: the same records in, the same answers out, for every query the CLI and the API make.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PostgresAuditStore, likePattern } from '../../../src/audit/postgres_store';
import { Frontier, inclusionProof, leafHash, treeRoot } from '../../../src/audit/merkle';
import { GENESIS, recordColumns, recordHash, type AuditEvent, type IndexedRecord } from '../../../src/audit/record';
import { SqliteAuditStore } from '../../../src/audit/sqlite_store';
import { walkChain, type AuditQuery, type TreeNode } from '../../../src/audit/store';
import { appendLeaf, storedSubtrees } from '../../../src/audit/tree';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres';
import { Prng } from '../../fuzz/prng';

/** Records of three chains, interleaved in time, with names, outcomes and serials drawn from a seed. */
function makeRecords(seed: number, count: number): IndexedRecord[] {
  const random = new Prng(seed);
  const chains = ['host-a-1-aa', 'host-b-2-bb', 'Host-C-3-cc'];
  const heads = new Map(chains.map((chain) => [chain, { seq: 0, hash: GENESIS }]));
  const domains = ['payments.example.com', 'example.com', 'mayfly.test', 'x_y.example.org'];
  const records: IndexedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const chain = chains[random.below(chains.length)];
    const head = heads.get(chain)!;
    const outcome = (['issued', 'refused', 'error'] as const)[random.below(3)];
    const dnsNames = Array.from({ length: random.below(3) }, () => `${['api', 'www', 'db', 'svc%1'][random.below(4)]}.${domains[random.below(domains.length)]}`);
    const ipAddresses = random.below(4) === 0 ? [`10.0.${random.below(3)}.${random.below(9)}`] : [];
    const time = new Date(Date.UTC(2026, 11, 1) + i * 60_000 + random.below(3) * 1000).toISOString();
    const serial = outcome === 'issued' ? random.bytes(8).toString('hex') : null;
    const user = ['alice', 'Alice', 'bob', 'deploy-k8s'][random.below(4)];
    const event = {
      v: 1,
      time,
      event: 'sign',
      ra: ['default', 'k8s', 'Zeta', 'alpha'][random.below(4)],
      ...(random.below(8) === 0 ? { requester: null, claimed_user: user } : { requester: { user, groups: [], authentication: 'static' } }),
      source: ['10.1.2.3', '::ffff:10.1.9.9', '192.168.0.7', '2001:db8::5', 'local'][random.below(5)],
      ...(random.below(3) > 0 ? { subject: `CN=${['Portal', 'db', 'svc%1'][random.below(3)]}.${domains[random.below(domains.length)]}, O=Acme` } : {}),
      dns_names: dnsNames,
      ip_addresses: ipAddresses,
      ...(outcome === 'refused' ? { verdicts: [{ validator: 'csr_signature', reasons: [] }, ...['common_name', 'public_key', 'max_names'].filter(() => random.below(2) === 0).map((validator) => ({ validator, reasons: [`${validator} says no`] }))] } : {}),
      outcome,
      ...(serial ? { certificate: { serial, not_before: time, not_after: new Date(Date.parse(time) + (1 + random.below(48)) * 3_600_000).toISOString() } } : {}),
    } as unknown as AuditEvent;
    const body = JSON.stringify(event);
    const seq = head.seq + 1;
    const hash = recordHash(chain, seq, head.hash, body);
    records.push({ chain, seq, prevHash: head.hash, hash, body, leafHash: leafHash(body).toString('hex'), columns: recordColumns(event) });
    heads.set(chain, { seq, hash });
  }
  return records;
}

describe('the PostgreSQL ledger store answers as the SQLite store does', () => {
  let postgres: TestPostgres;
  let pg: PostgresAuditStore;
  let sqlite: SqliteAuditStore;
  let dir: string;
  const records = makeRecords(20261206, 600);
  const frontiers = new Map<string, Frontier>();

  beforeAll(async () => {
    postgres = await startTestPostgres();
    pg = await PostgresAuditStore.open(postgres.url);
    dir = mkdtempSync(join(tmpdir(), 'mayfly-store-'));
    sqlite = new SqliteAuditStore(join(dir, 'audit.db'));
    // Batches of uneven sizes, as group commit makes them, with the subtrees each completes.
    for (let offset = 0, size = 1; offset < records.length; offset += size, size = (size * 7) % 23 + 1) {
      const batch = records.slice(offset, offset + size);
      const nodes: TreeNode[] = [];
      for (const record of batch) {
        if (!frontiers.has(record.chain)) frontiers.set(record.chain, Frontier.empty());
        appendLeaf(frontiers.get(record.chain)!, record.chain, Buffer.from(record.leafHash, 'hex'), nodes);
      }
      await sqlite.appendAll(batch, nodes);
      await pg.appendAll(batch, nodes);
    }
    for (const chain of ['host-a-1-aa', 'host-b-2-bb']) {
      const checkpoint = { chain, seq: 3, headHash: 'f'.repeat(64), time: '2026-12-01T00:10:00.000Z', signature: 'c2ln' };
      await sqlite.addCheckpoint(checkpoint);
      await pg.addCheckpoint(checkpoint);
    }
  }, 120_000);

  afterAll(async () => {
    await pg?.close();
    await sqlite?.close();
    postgres?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const queries: AuditQuery[] = [
    {},
    { limit: 7 },
    { ra: 'k8s' },
    { outcome: 'refused' },
    { since: '2026-12-01T02:00:00.000Z', until: '2026-12-01T05:00:00.000Z' },
    { name: '*.payments.example.com' },
    { name: '*.example.com', outcome: 'issued', since: '2026-12-01T03:00:00.000Z' },
    { name: 'API.MAYFLY.TEST' },
    { name: 'a?i.mayfly.test' },
    { name: 'svc%1.*' },
    { name: '*_y.example.org' },
    { name: '10.0.1.*' },
    { serial: records.find((r) => r.columns.serial)!.columns.serial!.toUpperCase().replace(/(..)(?!$)/g, '$1:') },
    { after: { time: records[100].columns.time, chain: records[100].chain, seq: records[100].seq }, limit: 50 },
    { ra: 'default', name: '*', until: '2026-12-01T01:00:00.000Z', limit: 20 },
    // The CN is searched beside the names (the glob in any case); svc%1 takes % literally.
    { name: 'portal.*' },
    { name: 'PORTAL.mayfly.test', outcome: 'refused' },
    { name: 'db.x_y.example.org', since: '2026-12-01T04:00:00.000Z' },
    { user: 'alice' },
    { user: 'Alice', outcome: 'issued', since: '2026-12-01T02:00:00.000Z' },
    { source: '10.1.0.0/16' },
    { source: '10.1.9.9' },
    { source: '::ffff:10.1.2.3', ra: 'k8s' },
    { source: '2001:db8::/32' },
    { source: '0.0.0.0/0', limit: 30 },
    { source: 'not-an-address' },
    { validator: 'common_name' },
    { validator: 'public_key', since: '2026-12-01T01:00:00.000Z', until: '2026-12-01T06:00:00.000Z' },
    { validator: 'csr_signature' },
    { serial: records.find((r) => r.columns.serial)!.columns.serial!.replace(/^0+/, '').toUpperCase() },
    { serial: 'not-a-serial' },
    { user: 'bob', validator: 'max_names', name: '*.example.com', source: '10.0.0.0/8' },
  ];

  it.each(queries.map((query) => [JSON.stringify(query), query] as const))('query %s', async (_label, query) => {
    const expected = await sqlite.query(query);
    expect(await pg.query(query)).toEqual(expected);
  });

  it.each(queries.filter((query) => query.name !== undefined).map((query) => [JSON.stringify(query), query] as const))('query %s read record by record (a broad glob) as from the name index', async (_label, query) => {
    const recordByRecord = new SqliteAuditStore(join(dir, 'audit.db'), { readonly: true, broadName: 1 });
    const pgRecordByRecord = await PostgresAuditStore.open(postgres.url, { broadName: 1 });
    try {
      const expected = await sqlite.query(query);
      expect(await recordByRecord.query(query)).toEqual(expected);
      expect(await pgRecordByRecord.query(query)).toEqual(expected);
    } finally {
      await recordByRecord.close();
      await pgRecordByRecord.close();
    }
  });

  it('finds something for most queries, so the comparison means something', async () => {
    const answered = await Promise.all(queries.map(async (query) => (await pg.query(query)).length));
    // Three are meant to find nothing: a text that is no address, none that is no serial, and csr_signature that never refused.
    expect(answered.filter((count) => count > 0).length).toBeGreaterThanOrEqual(queries.length - 4);
  });

  it('the new filters select what the records say (a reference reading of their text)', async () => {
    const events = records.map((record) => ({ record, event: JSON.parse(record.body) as AuditEvent }));
    const expectSelected = async (query: AuditQuery, selected: (event: AuditEvent) => boolean) => {
      const wanted = events.filter(({ event }) => selected(event)).map(({ record }) => `${record.chain}:${record.seq}`);
      expect(wanted.length).toBeGreaterThan(0);
      expect((await sqlite.query(query)).map((record) => `${record.chain}:${record.seq}`).sort()).toEqual(wanted.sort());
    };
    await expectSelected({ user: 'Alice' }, (e) => (e.requester?.user ?? e.claimed_user) === 'Alice');
    await expectSelected({ source: '10.1.0.0/16' }, (e) => e.source === '10.1.2.3' || e.source === '::ffff:10.1.9.9');
    await expectSelected({ validator: 'public_key' }, (e) => e.verdicts?.some((v) => v.validator === 'public_key' && v.reasons.length > 0) === true);
    // A CN that no DNS name carries: found by the CN alone.
    await expectSelected({ name: 'portal.*' }, (e) => e.subject?.startsWith('CN=Portal.') === true);
    const serial = (records.find((r) => r.columns.serial?.startsWith('0')) ?? records.find((r) => r.columns.serial))!.columns.serial!;
    await expectSelected({ serial: serial.replace(/^0+/, '').toUpperCase() }, (e) => e.certificate?.serial === serial);
  });

  const ranges = [
    { since: '2026-12-01T00:00:00.000Z', until: '2026-12-02T00:00:00.000Z' },
    { since: '2026-12-01T02:30:00.000Z', until: '2026-12-01T04:00:00.000Z' },
    { since: '2027-01-01T00:00:00.000Z', until: '2027-01-02T00:00:00.000Z' },
    // Mid-hour at both ends: the hourly counts give 01:00-03:00, the records the partial hours.
    { since: '2026-12-01T00:20:30.000Z', until: '2026-12-01T03:40:00.000Z' },
    // Within one hour: the records alone.
    { since: '2026-12-01T05:10:00.000Z', until: '2026-12-01T05:50:00.000Z' },
  ];

  it.each(ranges.map((range) => [JSON.stringify(range), range] as const))('overview %s', async (_label, range) => {
    const expected = await sqlite.overview(range);
    expect(await pg.overview(range)).toEqual(expected);
  });

  it.each([1, 3, 4])('the overview counts what the records say (range %i)', async (which) => {
    const range = ranges[which];
    const overview = await sqlite.overview(range);
    const events = records.map((record) => JSON.parse(record.body) as AuditEvent).filter((event) => event.time >= range.since && event.time < range.until);
    expect(events.length).toBeGreaterThan(0);
    const sum = (rows: readonly { issued: number; refused: number }[]) => rows.reduce((total, row) => ({ issued: total.issued + row.issued, refused: total.refused + row.refused }), { issued: 0, refused: 0 });
    expect(sum(overview.hourly)).toEqual({ issued: events.filter((e) => e.outcome === 'issued').length, refused: events.filter((e) => e.outcome === 'refused').length });
    expect(new Set(overview.hourly.map((row) => row.hour))).toEqual(new Set(events.filter((e) => e.outcome === 'issued' || e.outcome === 'refused').map((e) => `${e.time.slice(0, 13)}:00:00.000Z`)));
    expect(overview.refusalsByValidator.find((row) => row.validator === 'common_name')?.count).toBe(events.filter((e) => e.verdicts?.some((v) => v.validator === 'common_name' && v.reasons.length > 0)).length);
    expect(overview.refusalsByValidator.map((row) => row.validator)).not.toContain('csr_signature');
    expect(sum(overview.topRequesters)).toEqual(sum(overview.hourly));
    expect(overview.topRequesters.map((row) => row.user)).toEqual(expect.arrayContaining(['alice', 'Alice', 'bob']));
    const window = { from: range.until, to: new Date(Date.parse(range.until) + 86_400_000).toISOString() };
    const expiring = events.length && records.map((r) => JSON.parse(r.body) as AuditEvent).filter((e) => e.certificate && e.certificate.not_after >= window.from && e.certificate.not_after < window.to);
    expect(overview.expiringSoon.reduce((total, row) => total + row.count, 0)).toBe((expiring as AuditEvent[]).length);
    expect((await sqlite.overview(ranges[2])).hourly).toEqual([]);
  });

  it('lists chains, walks each in order, and keeps checkpoints and records as written', async () => {
    const chains = await sqlite.chains();
    expect(await pg.chains()).toEqual(chains);
    const walk = async (store: PostgresAuditStore | SqliteAuditStore, chain: string) => {
      const walked = [];
      for await (const record of walkChain(store, chain)) walked.push(record);
      return walked;
    };
    for (const chain of chains) {
      const walked = await walk(pg, chain);
      expect(walked.length).toBeGreaterThan(0);
      expect(walked).toEqual(await walk(sqlite, chain));
      expect(await pg.checkpoints(chain)).toEqual(await sqlite.checkpoints(chain));
      expect(await pg.chainHead(chain)).toEqual(await sqlite.chainHead(chain));
    }
    expect(await pg.record(records[42].chain, records[42].seq)).toEqual(await sqlite.record(records[42].chain, records[42].seq));
    expect(await pg.record('no-such-chain', 1)).toBeUndefined();
  });

  it('keeps the same trees: leaf hashes, stored subtrees, and so the same roots and proofs', async () => {
    // (Subtrees of 256 leaves and up are stored: the tamper and migration suites have chains that long on both stores.)
    for (const [chain, frontier] of frontiers) {
      expect(await pg.leafHashes(chain, 0, frontier.size)).toEqual(await sqlite.leafHashes(chain, 0, frontier.size));
      expect(await pg.leafHashes(chain, 0, frontier.size)).toHaveLength(frontier.size);
      const subtrees = [{ level: 8, index: 0 }, { level: 9, index: 0 }];
      expect(await pg.treeNodes(chain, subtrees)).toEqual(await sqlite.treeNodes(chain, subtrees));
      for (const store of [pg, sqlite]) {
        expect(await treeRoot(frontier.size, storedSubtrees(store, chain))).toEqual(frontier.root());
        expect(await inclusionProof(5, frontier.size, storedSubtrees(store, chain))).toEqual(await inclusionProof(5, frontier.size, storedSubtrees(sqlite, chain)));
      }
    }
  });

  it('finds the same first difference in the name index after the same tampering', async () => {
    expect(await pg.nameIndexDifference()).toBeUndefined();
    expect(await sqlite.nameIndexDifference()).toBeUndefined();
    const victim = records.find((r) => r.columns.names.length > 0 && r.chain === 'host-b-2-bb')!;
    const client = new Client(postgres.url);
    await client.connect();
    try {
      await client.query('DELETE FROM record_names WHERE chain = $1 AND seq = $2', [victim.chain, victim.seq]);
      sqlite.db.prepare('DELETE FROM record_names WHERE chain = ? AND seq = ?').run(victim.chain, victim.seq);
      const missing = await sqlite.nameIndexDifference();
      expect(missing).toMatchObject({ kind: 'missing', chain: victim.chain, seq: victim.seq });
      expect(await pg.nameIndexDifference()).toEqual(missing);
      await client.query("INSERT INTO record_names VALUES ($1, $2, 'moc.live', $3)", [victim.chain, victim.seq, victim.columns.time]);
      sqlite.db.prepare("INSERT INTO record_names VALUES (?, ?, 'moc.live', ?)").run(victim.chain, victim.seq, victim.columns.time);
      await client.query('DELETE FROM record_names WHERE chain <> $1', [victim.chain]);
      sqlite.db.prepare('DELETE FROM record_names WHERE chain <> ?').run(victim.chain);
      expect(await pg.nameIndexDifference()).toEqual(await sqlite.nameIndexDifference());
    } finally {
      await client.end();
    }
  });
});

describe('the PostgreSQL ledger store keeps its schema and survives an outage', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await startTestPostgres();
  }, 60_000);
  afterAll(() => postgres?.destroy());

  it('applies its migrations once, however many replicas open it at once', async () => {
    const stores = await Promise.all([1, 2, 3].map(() => PostgresAuditStore.open(postgres.url)));
    try {
      // Version 2 made each chain a Merkle tree, version 3 added the query columns.
      for (const store of stores) expect(await store.schemaVersion()).toBe(4);
      const client = new Client(postgres.url);
      await client.connect();
      expect((await client.query('SELECT count(*)::int AS n FROM mayfly_schema')).rows[0].n).toBe(4);
      await client.end();
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('refuses a schema newer than it knows', async () => {
    const client = new Client(postgres.url);
    await client.connect();
    await client.query("INSERT INTO mayfly_schema VALUES (99, 'future')");
    await client.end();
    await expect(PostgresAuditStore.open(postgres.url)).rejects.toThrow(/schema is version 99, newer than this Mayfly knows/);
    const cleanup = new Client(postgres.url);
    await cleanup.connect();
    await cleanup.query('DELETE FROM mayfly_schema WHERE version = 99');
    await cleanup.end();
  });

  it('fails appends while PostgreSQL is down, and recovers without reopening when it is back', async () => {
    const store = await PostgresAuditStore.open(postgres.url);
    const [first, second] = makeRecords(7, 2).map((record, index) => ({ ...record, chain: 'outage', seq: index + 1 }));
    try {
      await store.appendAll([first], []);
      postgres.stop();
      await expect(store.appendAll([second], [])).rejects.toThrow();
      postgres.start();
      await store.appendAll([second], []);
      expect((await store.query({})).filter((r) => r.chain === 'outage').map((r) => r.seq)).toEqual([1, 2]);
    } finally {
      postgres.start();
      await store.close();
    }
  }, 60_000);
});

// Version 3 added the filter columns; a ledger written before them (version 2: the Merkle tree) gets them from its records' text.
const VERSION_3 = ['record_names_record', 'record_refusals_validator_time', 'record_refusals_time', 'records_user_time', 'records_source_time', 'records_common_name_time', 'records_not_after', 'records_overview'];
const VERSION_3_COLUMNS = ['user_name', 'source_key', 'reversed_common_name', 'not_after'];
// Version 4 added the overview's hourly counts, counted from the records; the ranges start and end mid-hour too.
const VERSION_4_TABLES = ['ra_hours', 'requester_hours', 'refusal_hours'];
const OVERVIEW_RANGES = [
  { since: '2026-12-01T00:00:00.000Z', until: '2026-12-02T00:00:00.000Z' },
  { since: '2026-12-01T00:20:30.000Z', until: '2026-12-01T02:40:00.000Z' },
];

describe('a version 2 ledger migrates, its new columns filled from the records', () => {
  const records = makeRecords(1906, 200);
  const queries: AuditQuery[] = [{ user: 'bob' }, { source: '10.1.0.0/16' }, { validator: 'common_name' }, { name: 'portal.*' }];
  let postgres: TestPostgres;
  let dir: string;
  beforeAll(async () => {
    postgres = await startTestPostgres();
    dir = mkdtempSync(join(tmpdir(), 'mayfly-migrate-'));
  }, 60_000);
  afterAll(() => {
    postgres?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SQLite', async () => {
    const file = join(dir, 'audit.db');
    const current = new SqliteAuditStore(file);
    await current.appendAll(records, []);
    const expected = await Promise.all(queries.map((query) => current.query(query)));
    const overviews = await Promise.all(OVERVIEW_RANGES.map((range) => current.overview(range)));
    for (const index of VERSION_3) current.db.exec(`DROP INDEX ${index}`);
    for (const table of VERSION_4_TABLES) current.db.exec(`DROP TABLE ${table}`);
    current.db.exec('DROP TABLE record_refusals');
    for (const column of VERSION_3_COLUMNS) current.db.exec(`ALTER TABLE records DROP COLUMN ${column}`);
    current.db.exec('CREATE INDEX records_outcome_time ON records (outcome, time)');
    current.db.pragma('user_version = 2');
    await current.close();
    expect(() => new SqliteAuditStore(file, { readonly: true })).toThrow("the ledger's schema is version 2, and this Mayfly reads version 4: start `mayfly serve` once to bring it up to date");
    const migrated = new SqliteAuditStore(file);
    try {
      expect(migrated.db.pragma('user_version', { simple: true })).toBe(4);
      for (const [index, query] of queries.entries()) expect(await migrated.query(query)).toEqual(expected[index]);
      expect(expected.every((found) => found.length > 0)).toBe(true);
      for (const [index, range] of OVERVIEW_RANGES.entries()) expect(await migrated.overview(range)).toEqual(overviews[index]);
      expect(overviews[1].hourly.length).toBeGreaterThan(0);
      expect(await migrated.hourRollupDifference()).toBeUndefined();
    } finally {
      await migrated.close();
    }
  });

  it('PostgreSQL', async () => {
    const current = await PostgresAuditStore.open(postgres.url);
    await current.appendAll(records, []);
    const expected = await Promise.all(queries.map((query) => current.query(query)));
    const overviews = await Promise.all(OVERVIEW_RANGES.map((range) => current.overview(range)));
    await current.close();
    const client = new Client(postgres.url);
    await client.connect();
    await client.query(`${VERSION_4_TABLES.map((table) => `DROP TABLE ${table}; `).join('')}DROP INDEX record_names_record; DROP TABLE record_refusals; ALTER TABLE records ${VERSION_3_COLUMNS.map((column) => `DROP COLUMN ${column}`).join(', ')}; CREATE INDEX records_outcome_time ON records (outcome, time); DELETE FROM mayfly_schema WHERE version >= 3`);
    await client.end();
    const migrated = await PostgresAuditStore.open(postgres.url);
    try {
      expect(await migrated.schemaVersion()).toBe(4);
      for (const [index, query] of queries.entries()) expect(await migrated.query(query)).toEqual(expected[index]);
      for (const [index, range] of OVERVIEW_RANGES.entries()) expect(await migrated.overview(range)).toEqual(overviews[index]);
      expect(await migrated.hourRollupDifference()).toBeUndefined();
    } finally {
      await migrated.close();
    }
  });
});

describe('likePattern', () => {
  it('turns a glob into LIKE, taking LIKE wildcards literally', () => {
    expect(likePattern('moc.elpmaxe.*')).toBe('moc.elpmaxe.%');
    expect(likePattern('a?c')).toBe('a_c');
    expect(likePattern('50%_off\\*')).toBe('50\\%\\_off\\\\%');
  });
});
