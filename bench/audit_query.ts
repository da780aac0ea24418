// How fast the audit ledger answers auditors' questions at scale: builds a ledger of 1,000,000
// records (30 days of decisions over 5,000 services) and times the queries `mayfly audit list`
// and GET /v1/audit make. Usage: npm run bench:audit [-- --records N]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Frontier, leafHash } from '../src/audit/merkle';
import { GENESIS, recordColumns, recordHash, type AuditEvent, type IndexedRecord } from '../src/audit/record';
import { SqliteAuditStore } from '../src/audit/sqlite_store';
import type { AuditQuery, TreeNode } from '../src/audit/store';
import { appendLeaf } from '../src/audit/tree';

const records = Number(process.argv[process.argv.indexOf('--records') + 1]) || 1_000_000;
const DAYS = 30;
const start = Date.UTC(2026, 9, 1);
const teams = ['payments', 'search', 'billing', 'identity', 'storage'];

function event(i: number): AuditEvent {
  const team = teams[i % teams.length];
  const name = `svc-${i % 1000}.${team}.example.com`;
  const time = new Date(start + Math.floor((i / records) * DAYS * 86_400_000)).toISOString();
  const refused = i % 20 === 0;
  return {
    v: 1,
    time,
    event: 'sign',
    ra: i % 3 === 0 ? 'internal' : 'default',
    requester: { user: `deployer-${team}`, groups: [team], authentication: 'deployers' },
    source: `10.0.${i % 250}.${i % 200}`,
    dns_names: [name],
    ip_addresses: [],
    outcome: refused ? 'refused' : 'issued',
    ...(refused
      ? { verdicts: [{ validator: 'common_name', reasons: [`common name '${name}' is outside the allowed domains`] }] }
      : { certificate: { serial: i.toString(16).padStart(32, '0'), not_before: time, not_after: time, sha256: '0'.repeat(64), der: '' } }),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-audit-bench-'));
  try {
    const store = new SqliteAuditStore(join(dir, 'audit.db'));
    const built = performance.now();
    let head = GENESIS;
    const frontier = Frontier.empty();
    const nodes: TreeNode[] = [];
    const BATCH = 20_000;
    for (let first = 1; first <= records; first += BATCH) {
      const batch: IndexedRecord[] = [];
      for (let seq = first; seq < Math.min(first + BATCH, records + 1); seq++) {
        const recorded = event(seq);
        const body = JSON.stringify(recorded);
        const hash = recordHash('bench', seq, head, body);
        const leaf = leafHash(body);
        appendLeaf(frontier, 'bench', leaf, nodes);
        batch.push({ chain: 'bench', seq, prevHash: head, hash, body, leafHash: leaf.toString('hex'), columns: recordColumns(recorded) });
        head = hash;
      }
      await store.appendAll(batch, nodes.splice(0));
    }
    const buildSeconds = (performance.now() - built) / 1000;
    const lastWeek = { since: new Date(start + (DAYS - 7) * 86_400_000).toISOString(), until: new Date(start + DAYS * 86_400_000).toISOString() };
    const queries: [string, AuditQuery][] = [
      ['issued for *.payments.example.com last week (first 1000)', { name: '*.payments.example.com', outcome: 'issued', ...lastWeek, limit: 1000 }],
      ['refused last week (first 100)', { outcome: 'refused', ...lastWeek, limit: 100 }],
      ['by serial', { serial: (records - 7).toString(16).padStart(32, '0') }],
      ['one name, all time', { name: 'svc-41.search.example.com', limit: 1000 }],
      ['RA internal since a day ago (first 100)', { ra: 'internal', since: new Date(start + (DAYS - 1) * 86_400_000).toISOString(), limit: 100 }],
    ];
    const results = [];
    for (const [label, query] of queries) {
      const times: number[] = [];
      let found = 0;
      for (let run = 0; run < 5; run++) {
        const t = performance.now();
        found = (await store.query(query)).length;
        times.push(performance.now() - t);
      }
      results.push({ query: label, records_found: found, median_ms: Number(median(times).toFixed(2)), max_ms: Number(Math.max(...times).toFixed(2)) });
    }
    await store.close();
    const report = { date: new Date().toISOString(), records, build_seconds: Number(buildSeconds.toFixed(1)), results };
    const table = [
      `# Audit ledger queries over ${records.toLocaleString('en')} records`,
      '',
      `Built in ${report.build_seconds} s on this machine (2 cores), ${report.date}. Median and worst of 5 runs each.`,
      '',
      '| query | found | median ms | max ms |',
      '|---|---:|---:|---:|',
      ...results.map((r) => `| ${r.query} | ${r.records_found} | ${r.median_ms} | ${r.max_ms} |`),
      '',
    ].join('\n');
    console.log(table);
    if (records >= 1_000_000) {
      writeFileSync(join(__dirname, '..', '..', 'bench', 'results', 'audit_query.json'), `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(join(__dirname, '..', '..', 'bench', 'results', 'audit_query.md'), table);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
