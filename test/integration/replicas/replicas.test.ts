// Replicas on one PostgreSQL: three real `mayfly serve` processes share a ledger in a throwaway
// Debian PostgreSQL. Under load one is killed with SIGKILL, and PostgreSQL itself is stopped and
// started again; every certificate a client received must be in the ledger, every chain must verify,
// and a name search must find what every replica issued.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { AuditEvent } from '../../../src/audit/record';
import { PostgresAuditStore } from '../../../src/audit/postgres_store';
import { initDataDir } from '../../../src/cli/init';
import { runCliAsync } from '../../helpers/cli_process';
import { serveCli, type ServingCli } from '../../helpers/cli';
import { makeCsr } from '../../helpers/openssl';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres';

const URL_ENV = 'MAYFLY_TEST_AUDIT_URL';

interface Outcome {
  readonly replica: number;
  readonly status: number | 'reset';
  readonly serial?: string;
}

/** The ledger keeps serials as lowercase hex without separators. */
const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber.toLowerCase();

describe('three replicas on one PostgreSQL', () => {
  let postgres: TestPostgres;
  let dir: string;
  let config: string;
  let secret: string;
  let env: NodeJS.ProcessEnv;
  const replicas: ServingCli[] = [];
  const csrs: string[] = [];

  beforeAll(async () => {
    postgres = await startTestPostgres();
    dir = mkdtempSync(join(tmpdir(), 'mayfly-replicas-'));
    const created = await initDataDir(dir, 'p256');
    secret = created.secret;
    config = created.configFile;
    const document = parse(readFileSync(config, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    document.audit = { store: 'postgres', url_env: URL_ENV, checkpoint_every: 50 };
    // One client address drives all the load: the per-address and per-identity rates are not under test.
    document.server = { ...document.server, tls: 'off', limits: { requests_per_minute_per_identity: 0, requests_per_minute_per_source: 0 } };
    writeFileSync(config, stringify(document), { mode: 0o600 });
    env = { [URL_ENV]: postgres.url };
    for (let i = 0; i < 6; i++) csrs.push(makeCsr({ subject: `/CN=svc-${i}.mayfly.test`, extensions: [`subjectAltName=DNS:svc-${i}.mayfly.test`] }).pem);
    for (let i = 0; i < 3; i++) replicas.push(await serveCli(['--config', config, '--listen', '127.0.0.1:0'], { env }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    postgres?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function sign(replica: number, csr: string): Promise<Outcome> {
    try {
      const body = new URLSearchParams({ user: 'deployer', secret, encoding: 'pem', csr });
      const response = await fetch(`${replicas[replica].url}/v1/sign/default`, { method: 'POST', body, signal: AbortSignal.timeout(20_000) });
      const text = await response.text();
      return { replica, status: response.status, ...(response.status === 200 ? { serial: serialOf(text) } : {}) };
    } catch {
      return { replica, status: 'reset' };
    }
  }

  /** `count` requests, `concurrency` at a time, spread over the live replicas; `during` runs once, midway. */
  async function load(count: number, concurrency: number, live: () => number[], during?: () => Promise<void>): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    let next = 0;
    let midway: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const index = next++;
          if (index === Math.floor(count / 3) && during) midway = during();
          const targets = live();
          outcomes.push(await sign(targets[index % targets.length], csrs[index % csrs.length]));
        }
      }),
    );
    await midway;
    return outcomes;
  }

  async function ledgerEvents(): Promise<{ chain: string; event: AuditEvent }[]> {
    const store = await PostgresAuditStore.open(postgres.url);
    try {
      return (await store.query({})).map((record) => ({ chain: record.chain, event: JSON.parse(record.body) as AuditEvent }));
    } finally {
      await store.close();
    }
  }

  it('loses no record of a certificate a client received when a replica is killed with SIGKILL', async () => {
    let killed = false;
    const outcomes = await load(
      360,
      9,
      () => (killed ? [0, 2] : [0, 1, 2]),
      async () => {
        replicas[1].child.kill('SIGKILL');
        killed = true;
      },
    );
    const received = outcomes.filter((outcome) => outcome.status === 200);
    // Every replica served, and the killed one stopped serving.
    for (const replica of [0, 1, 2]) expect(received.some((outcome) => outcome.replica === replica)).toBe(true);
    expect(received.length).toBeGreaterThan(300);
    expect(outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 'reset')).toEqual([]);

    const events = await ledgerEvents();
    const recorded = new Set(events.filter(({ event }) => event.outcome === 'issued').map(({ event }) => event.certificate!.serial));
    expect(received.filter((outcome) => !recorded.has(outcome.serial!))).toEqual([]);
    expect(new Set(events.map(({ chain }) => chain)).size).toBe(3);
  }, 180_000);

  it('verifies every chain with `mayfly audit verify`, and finds names issued by every replica', async () => {
    const verify = await runCliAsync(['audit', 'verify', '--config', config], { env });
    expect(verify.stdout).toMatch(/^OK: 3 chain\(s\) verified$/m);
    expect(verify.code).toBe(0);
    const list = await runCliAsync(['audit', 'list', '--config', config, '--name', '*.mayfly.test', '--outcome', 'issued', '--json'], { env });
    expect(list.code).toBe(0);
    const found = JSON.parse(list.stdout) as { chain: string; event: AuditEvent }[];
    expect(found.length).toBeGreaterThan(300);
    expect(new Set(found.map((record) => record.chain)).size).toBe(3);
    expect(found.every((record) => record.event.dns_names!.every((name) => name.endsWith('.mayfly.test')))).toBe(true);
  }, 60_000);

  it('answers 503 while PostgreSQL is down, issues nothing unrecorded, and recovers without a restart', async () => {
    const live = () => [0, 2];
    const before = await load(30, 3, live);
    expect(before.every((outcome) => outcome.status === 200)).toBe(true);

    postgres.stop();
    const during = await load(30, 3, live);
    expect(during.map((outcome) => outcome.status)).toEqual(during.map(() => 503));
    expect((await fetch(`${replicas[0].url}/readyz`)).status).toBe(503);

    postgres.start();
    // The pool reconnects on the next commit: no restart, no operator action.
    let after: Outcome[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      after = await load(12, 3, live);
      if (after.every((outcome) => outcome.status === 200)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(after.map((outcome) => outcome.status)).toEqual(after.map(() => 200));
    // /readyz reuses a probe for a second; a fresh one sees the ledger back.
    let ready = 0;
    for (let attempt = 0; attempt < 10 && ready !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      ready = (await fetch(`${replicas[0].url}/readyz`)).status;
    }
    expect(ready).toBe(200);

    const recorded = new Set((await ledgerEvents()).filter(({ event }) => event.outcome === 'issued').map(({ event }) => event.certificate!.serial));
    expect([...before, ...during, ...after].filter((outcome) => outcome.status === 200 && !recorded.has(outcome.serial!))).toEqual([]);
    const verify = await runCliAsync(['audit', 'verify', '--config', config], { env });
    expect(verify.stdout).toMatch(/^OK: 3 chain\(s\) verified$/m);
  }, 120_000);
});
