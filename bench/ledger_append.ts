// The audit ledger alone, as `mayfly serve` writes it (SQLite: the journal, the writer thread, the
// indexer thread): the CPU a record costs on each thread. On this VM that is steadier than certs/s,
// so a change to the ledger is measured here first (bench/README.md, "2026-12-07, morning").
//
//   npx node dist/bench/ledger_append.js [--in-flight N] [--warmup S] [--seconds S] [--checkpoint-every N] [--floor [--no-sync]]
//
// N appends are kept in flight (as N connections of one worker do; 16 by default), each of an issued
// sign event of ~2 KB like the benchmark's: names from 3,000 services, serials that begin with the time.
// After the warm-up (the ledger grows meanwhile, and the indexer's cost with it), CPU a record on each
// thread over the measured seconds; the main thread's excludes making the events.
//
// `--floor`: not the ledger, but the least any durable hash-chained journal does with the same events,
// on the main thread: the JSON text, the indexed columns, the chain and leaf hashes and the tree, the
// journal's frames, then one write and one fdatasync a group commit through libuv; no thread of its
// own, no SQLite. `--no-sync` leaves out the fdatasync. What the ledger's threads and SQLite add is
// the rest of its cost; a journal opened O_DSYNC in a file filled ahead costs less still (bench/README.md,
// "what the targets leave").
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, fdatasync, mkdtempSync, openSync, readFileSync, rmSync, write } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { encodeEntries, type JournalEntry } from '../src/audit/journal_format';
import { AuditLedger } from '../src/audit/ledger';
import { Frontier, leafHash } from '../src/audit/merkle';
import { GENESIS, recordColumns, recordHash, type AuditEvent } from '../src/audit/record';
import { threadCpu } from './proc_stats';

const { values } = parseArgs({
  options: {
    'in-flight': { type: 'string', default: '16' },
    warmup: { type: 'string', default: '15' },
    seconds: { type: 'string', default: '25' },
    'checkpoint-every': { type: 'string', default: '1000' },
    floor: { type: 'boolean', default: false },
    'no-sync': { type: 'boolean', default: false },
  },
});
const VALIDATORS = ['common_name', 'alternative_names', 'public_key', 'key_usage', 'extended_key_usage', 'ca_request', 'source_cidrs', 'standards', 'proof_of_possession'];
const CERTIFICATE = randomBytes(640).toString('base64');
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function issuedEvent(): AuditEvent {
  const now = new Date();
  const name = `svc-${Math.floor(Math.random() * 3000)}-1.mayfly.test`;
  return {
    v: 1,
    time: now.toISOString(),
    event: 'sign',
    ra: 'default',
    requester: { user: 'deployer', groups: [], authentication: 'deployers' },
    source: '127.0.0.1',
    protocol: 'anchor-form',
    csr_sha256: hex(32),
    subject: `CN=${name}`,
    dns_names: [name],
    ip_addresses: [],
    public_key: { type: 'EC', curve: 'P-256', spki_sha256: hex(32) },
    verdicts: VALIDATORS.map((validator) => ({ validator, reasons: [] })),
    outcome: 'issued',
    certificate: {
      serial: `${now.getTime().toString(16).padStart(12, '0')}${hex(8)}`,
      not_before: now.toISOString(),
      not_after: new Date(now.getTime() + 86_400_000).toISOString(),
      sha256: hex(32),
      der: CERTIFICATE,
    },
  };
}

/** The process's threads by role: main, writer and indexer (its first and second worker threads), or their name. */
function cpuByRole(): Map<string, number> {
  const workerThreads = [...threadCpu(process.pid).keys()].filter((tid) => readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'WorkerThread').sort((a, b) => a - b);
  const roles = new Map<string, number>();
  for (const [tid, seconds] of threadCpu(process.pid)) {
    const worker = workerThreads.indexOf(tid);
    const role = tid === process.pid ? 'main' : worker === 0 ? 'writer' : worker === 1 ? 'indexer' : readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    roles.set(role, (roles.get(role) ?? 0) + seconds);
  }
  return roles;
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const writeBytes = promisify(write);
const sync = promisify(fdatasync);

/** `--floor`: a journal's own work, with the ledger's functions, group-committed on the main thread. */
class JournalFloor {
  private readonly fd: number;
  private readonly frontier = Frontier.empty();
  private head = { seq: 0, hash: GENESIS };
  private pending: { readonly body: string; readonly resolve: () => void }[] = [];
  private committing = false;

  constructor(
    file: string,
    private readonly durable: boolean,
  ) {
    this.fd = openSync(file, 'a', 0o600);
  }

  append(event: AuditEvent): Promise<void> {
    return new Promise((resolve) => {
      recordColumns(event); // made for the indexer, as the ledger makes them
      this.pending.push({ body: JSON.stringify(event), resolve });
      if (this.committing) return;
      this.committing = true;
      setImmediate(() => void this.commit());
    });
  }

  private async commit(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const entries = batch.map(({ body }): JournalEntry => {
        const seq = this.head.seq + 1;
        const entry = { seq, prevHash: this.head.hash, hash: recordHash('floor', seq, this.head.hash, body), body };
        this.frontier.append(leafHash(body), () => undefined);
        this.head = entry;
        return entry;
      });
      await writeBytes(this.fd, encodeEntries(entries));
      if (this.durable) await sync(this.fd);
      for (const { resolve } of batch) resolve();
    }
    this.committing = false;
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < 100_000; i++) issuedEvent();
  const eventSeconds = (performance.now() - started) / 1000 / 100_000;
  const folder = mkdtempSync(join(tmpdir(), 'mayfly-ledger-'));
  const keyPem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const ledger = values.floor ? new JournalFloor(join(folder, 'journal'), !values['no-sync']) : await AuditLedger.open({ store: { kind: 'sqlite', database: join(folder, 'audit.db') }, keyPem, checkpointEvery: Number(values['checkpoint-every']), checkpointIntervalMs: 60_000 });
  let appended = 0;
  let stopped = false;
  const appender = async () => {
    while (!stopped) {
      await ledger.append(issuedEvent());
      appended++;
    }
  };
  const appenders = Array.from({ length: Number(values['in-flight']) }, appender);
  await sleep(Number(values.warmup));
  const [before, from, at] = [cpuByRole(), appended, performance.now()];
  await sleep(Number(values.seconds));
  const [after, records, seconds] = [cpuByRole(), appended - from, (performance.now() - at) / 1000];
  stopped = true;
  await Promise.all(appenders);
  await ledger.close();
  rmSync(folder, { recursive: true, force: true });
  const perRecord = (role: string) => (((after.get(role) ?? 0) - (before.get(role) ?? 0)) / records) * 1e6 - (role === 'main' ? eventSeconds * 1e6 : 0);
  const rows = [...after.keys()].map((role) => [role, perRecord(role)] as const).filter(([, micros]) => micros >= 0.5);
  console.log(`${records} records in ${seconds.toFixed(1)} s (${Math.round(records / seconds)}/s), ${from} before; ledger CPU a record: ${rows.reduce((total, [, micros]) => total + micros, 0).toFixed(1)} µs`);
  for (const [role, micros] of rows) console.log(`  ${role.padEnd(16)} ${micros.toFixed(1).padStart(6)} µs`);
}

void main();
