// How fast the audit ledger answers auditors' questions at scale: builds a ledger of 1,000,000
// records (a week of decisions: 5 RAs, 300 requesters, 20,000 services, refusals by 8 validators,
// failed logins) and times the console's overview and the searches `mayfly audit list`, GET /v1/audit
// and the console make, on SQLite and, given a URL, PostgreSQL.
// Usage: npm run bench:audit [-- --records N] [--postgres postgres://user@host/db (an empty database)] [--keep (the SQLite file)]
//   [--postgres-only] [--reuse (the PostgreSQL database holds an earlier run's ledger)]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Frontier, leafHash } from '../src/audit/merkle';
import { PostgresAuditStore } from '../src/audit/postgres_store';
import { GENESIS, recordColumns, recordHash, type AuditEvent, type IndexedRecord } from '../src/audit/record';
import { SqliteAuditStore } from '../src/audit/sqlite_store';
import type { AuditQuery, AuditStore, TreeNode } from '../src/audit/store';
import { appendLeaf } from '../src/audit/tree';

const option = (name: string): string | undefined => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const records = Number(option('--records')) || 1_000_000;
const postgresUrl = option('--postgres');
const keep = process.argv.includes('--keep');
const reuse = process.argv.includes('--reuse');
const sqliteToo = !process.argv.includes('--postgres-only');
const DAYS = 7;
const HOUR = 3_600_000;
const start = Date.UTC(2026, 10, 23);
const end = start + DAYS * 24 * HOUR;

// A spread like a fleet's: most requests from a few busy deployers, names under a few teams' domains.
const RAS = ['default', 'k8s', 'k8s', 'k8s', 'internal', 'partners', 'acme-public'];
const TEAMS = ['payments', 'search', 'billing', 'identity', 'storage', 'ml', 'edge', 'mail'];
const USERS = Array.from({ length: 300 }, (_, i) => (i < 20 ? `deploy-${TEAMS[i % TEAMS.length]}-${i}` : `user${i}`));
const VALIDATORS = ['alternative_names', 'common_name', 'public_key', 'max_names', 'key_form', 'renewal_scope', 'subject_identity', 'name_syntax'];

/** A small deterministic generator (mulberry32), so every run builds the same ledger. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = 20261206;
let next = random(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
/** Skewed towards the start of the list: a few items take most of the draws. */
const skewed = <T>(items: readonly T[]): T => items[Math.floor(next() ** 3 * items.length)];

function event(i: number): AuditEvent {
  const time = new Date(start + Math.floor((i / records) * (end - start))).toISOString();
  const team = skewed(TEAMS);
  const name = `svc-${Math.floor(next() * 2500)}.${team}.example.com`;
  const user = skewed(USERS);
  const source = `10.${TEAMS.indexOf(team)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}`;
  const ra = pick(RAS);
  const draw = next();
  if (draw < 0.01) return { v: 1, time, event: 'auth', ra, requester: null, claimed_user: user, source, outcome: 'refused', reason: 'authentication failed' };
  const requester = { user, groups: [team], authentication: 'deployers' };
  const common = { v: 1 as const, time, event: 'sign' as const, ra, requester, source, protocol: 'json', subject: `CN=${name}`, dns_names: [name, `${name.split('.')[0]}.internal.${team}.example.com`], ip_addresses: [] };
  if (draw < 0.09) {
    const refusing = [skewed(VALIDATORS), ...(next() < 0.3 ? [pick(VALIDATORS)] : [])];
    return { ...common, verdicts: VALIDATORS.map((validator) => ({ validator, reasons: refusing.includes(validator) ? [`${validator}: '${name}' is not allowed`] : [] })), outcome: 'refused' };
  }
  if (draw < 0.1) return { ...common, outcome: 'error', reason: 'the signer did not answer' };
  const notAfter = new Date(Date.parse(time) + (ra === 'k8s' ? 24 : 72) * HOUR).toISOString();
  return {
    ...common,
    verdicts: VALIDATORS.map((validator) => ({ validator, reasons: [] })),
    outcome: 'issued',
    certificate: { serial: ((i % 127) + 1).toString(16).padStart(2, '0') + i.toString(16).padStart(30, '0'), not_before: time, not_after: notAfter, sha256: '0'.repeat(64), der: '' },
  };
}

/** Appends the whole ledger in batches of 20,000, the way a bulk load writes, and returns the seconds it took. */
async function build(store: AuditStore | undefined): Promise<number> {
  const built = performance.now();
  next = random(SEED);
  for (const { records: batch, nodes } of chainBatches('bench', 1, records, 20_000)) await store?.appendAll(batch, nodes);
  return (performance.now() - built) / 1000;
}

/** Events `first`..`first + count - 1` as chain `chain` (its own hash chain and tree), `batch` records at a time. */
function* chainBatches(chain: string, first: number, count: number, batch: number): Generator<{ records: IndexedRecord[]; nodes: TreeNode[] }> {
  let head = GENESIS;
  const frontier = Frontier.empty();
  for (let from = first; from < first + count; from += batch) {
    const records: IndexedRecord[] = [];
    const nodes: TreeNode[] = [];
    for (let i = from; i < Math.min(from + batch, first + count); i++) {
      const recorded = event(i);
      if (recorded.certificate && chain === 'bench' && i > first + count - 1000) lateSerial ||= recorded.certificate.serial;
      const seq = i - first + 1;
      const body = JSON.stringify(recorded);
      const hash = recordHash(chain, seq, head, body);
      const leaf = leafHash(body);
      appendLeaf(frontier, chain, leaf, nodes);
      records.push({ chain, seq, prevHash: head, hash, body, leafHash: leaf.toString('hex'), columns: recordColumns(recorded) });
      head = hash;
    }
    yield { records, nodes };
  }
}

/** Records appended after the build, in the indexer's transactions, to time what a record costs a ledger this large. */
const APPENDED = 30_000;
/** The indexer thread's transactions (src/audit/indexer_worker.ts: every second, ~1,000 records a worker under load). */
const INDEXER_BATCH = 1000;

/**
 * CPU a record when the indexer adds APPENDED more to the built ledger, with the indexer's settings
 * (synchronous = NORMAL, the writer's page cache; the records made beforehand, as the writer thread
 * makes them): a ledger's indexes of random keys (names, sources) cost more as it grows, which a
 * benchmark on a fresh ledger never shows.
 */
async function appendCost(store: SqliteAuditStore): Promise<number> {
  store.db.pragma('synchronous = NORMAL');
  store.db.pragma('cache_size = -16384');
  const batches = [...chainBatches('appended', records + 1, APPENDED, INDEXER_BATCH)];
  const cpu = process.cpuUsage();
  for (const { records: batch, nodes } of batches) await store.appendAll(batch, nodes);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / APPENDED;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const day = (offset: number) => new Date(end - offset * 24 * HOUR).toISOString();
const lastDay = { since: day(1), until: day(0) };
/** The serial of an issued record near the end, remembered while building (each build draws the same). */
let lateSerial = '';

/** The console's and the CLI's questions: what a page asks (100 records) unless it says otherwise. */
function searches(): [string, AuditQuery][] {
  const serial = lateSerial.toUpperCase().replace(/(..)(?!$)/g, '$1:');
  return [
    ['name *.payments.example.com, last day (page of 100)', { name: '*.payments.example.com', ...lastDay, limit: 100 }],
    ['name *.payments.example.com issued, whole week (first 1000)', { name: '*.payments.example.com', outcome: 'issued', limit: 1000 }],
    ['one name (CN or SAN), all time', { name: 'svc-41.search.example.com', limit: 1000 }],
    ['name glob svc-12*.ml.example.com, all time', { name: 'svc-12*.ml.example.com', limit: 100 }],
    ['serial, pasted with colons in upper case', { serial }],
    ['user user150, all time', { user: 'user150', limit: 100 }],
    ['source 10.3.0.0/16, last day (page of 100)', { source: '10.3.0.0/16', ...lastDay, limit: 100 }],
    ['source 10.2.17.0/24, all time', { source: '10.2.17.0/24', limit: 100 }],
    ['refused by max_names, last day (page of 100)', { validator: 'max_names', ...lastDay, limit: 100 }],
    ['refused by subject_identity, all time (page of 100)', { validator: 'subject_identity', limit: 100 }],
    ['refused, RA partners, last day (page of 100)', { outcome: 'refused', ra: 'partners', ...lastDay, limit: 100 }],
    ['user deploy-payments-0 refused by public_key, whole week', { user: 'deploy-payments-0', validator: 'public_key', limit: 100 }],
  ];
}

interface Result {
  readonly query: string;
  readonly found: string;
  readonly median_ms: number;
  readonly max_ms: number;
}

async function time(label: string, run: () => Promise<string>): Promise<Result> {
  const times: number[] = [];
  let found = '';
  for (let round = 0; round < 5; round++) {
    const t = performance.now();
    found = await run();
    times.push(performance.now() - t);
  }
  return { query: label, found, median_ms: Number(median(times).toFixed(1)), max_ms: Number(Math.max(...times).toFixed(1)) };
}

async function measure(store: AuditStore): Promise<Result[]> {
  const overview = (range: { since: string; until: string }) => async () => {
    const answer = await store.overview(range);
    return `${answer.hourly.length} hour×RA rows, ${answer.refusalsByValidator.length} validators, ${answer.topRequesters.length} requesters, ${answer.expiringSoon.reduce((n, row) => n + row.count, 0)} expiring`;
  };
  const results = [await time('overview of the last day', overview(lastDay)), await time('overview of the week', overview({ since: day(DAYS), until: day(0) }))];
  for (const [label, query] of searches()) results.push(await time(label, async () => String((await store.query(query)).length)));
  return results;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-audit-bench-'));
  const report: { date: string; records: number; stores: { store: string; build_seconds: number; append_us_per_record?: number; results: Result[] }[] } = { date: new Date().toISOString(), records, stores: [] };
  try {
    const sqlite = sqliteToo ? new SqliteAuditStore(join(dir, 'audit.db')) : undefined;
    // A bulk load, not a CA's commits: no fsync per batch, and room for the indexes' pages.
    sqlite?.db.pragma('synchronous = OFF');
    sqlite?.db.pragma('cache_size = -262144');
    const sqliteBuild = await build(sqlite);
    if (sqlite) {
      const results = await measure(sqlite);
      report.stores.push({ store: 'SQLite', build_seconds: Number(sqliteBuild.toFixed(1)), append_us_per_record: Number((await appendCost(sqlite)).toFixed(1)), results });
      await sqlite.close();
    }
    if (postgresUrl) {
      const postgres = await PostgresAuditStore.open(postgresUrl);
      // --reuse: the database holds this benchmark's ledger from an earlier run (what the build drew is drawn again, unstored).
      const postgresBuild = reuse ? 0 : await build(postgres);
      // What autovacuum does to a live ledger: statistics, and the visibility map index-only scans need.
      const client = new Client(postgresUrl);
      await client.connect();
      await client.query('VACUUM ANALYZE');
      await client.end();
      report.stores.push({ store: 'PostgreSQL', build_seconds: Number(postgresBuild.toFixed(1)), results: await measure(postgres) });
      await postgres.close();
    }
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  const table = [
    `# Audit ledger queries over ${records.toLocaleString('en')} records`,
    '',
    `A week of decisions (${report.date}, this machine: 2 cores). Median and worst of 5 runs each, in ms.`,
    '',
    ...report.stores.flatMap((store) => [
      `## ${store.store} (built in ${store.build_seconds} s)`,
      '',
      ...(store.append_us_per_record !== undefined
        ? [`Appending ${APPENDED.toLocaleString('en')} more records after it in transactions of ${INDEXER_BATCH.toLocaleString('en')}, as the indexer thread does: ${store.append_us_per_record} µs of CPU a record.`, '']
        : []),
      '| question | found | median ms | max ms |',
      '|---|---|---:|---:|',
      ...store.results.map((r) => `| ${r.query} | ${r.found} | ${r.median_ms} | ${r.max_ms} |`),
      '',
    ]),
  ].join('\n');
  console.log(table);
  if (records >= 1_000_000) {
    writeFileSync(join(__dirname, '..', '..', 'bench', 'results', 'audit_query.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(__dirname, '..', '..', 'bench', 'results', 'audit_query.md'), table);
  }
}

void main();
