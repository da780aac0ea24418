import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../../../src/audit/record';
import { runCli } from '../../helpers/cli';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres';

const WRONG_SECRET = 'hunter2-never-recorded';

/** The deployer is in group `auditors`, which may read the ledger over HTTP. */
const withAuditors = (yaml: string) => yaml.replace('    user: deployer\n', '    user: deployer\n    groups: [auditors]\n    audit_admin_groups: [auditors]\n');

// The same suite on each store: SQLite (the embedded default) and PostgreSQL (shared by replicas).
describe.each(['sqlite', 'postgres'] as const)('the audit ledger records every decision (%s)', (store) => {
  let ca: TestCa;
  let postgres: TestPostgres | undefined;
  let issuedPem: string;
  beforeAll(async () => {
    if (store === 'postgres') postgres = await startTestPostgres();
    ca = await startTestCa({ audit: true, editConfig: withAuditors, ...(postgres ? { auditPostgresUrl: postgres.url } : {}) });
    const sign = (fields: Record<string, string>) => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', ...fields });
    const issued = await sign({ csr: makeCsr({ subject: '/CN=api.payments.mayfly.test', extensions: ['subjectAltName=DNS:api.payments.mayfly.test,DNS:www.mayfly.test'] }).pem });
    expect(issued.status).toBe(200);
    issuedPem = await issued.text();
    const refused = await sign({ csr: makeCsr({ keyType: 'rsa1024', subject: '/CN=evil.example.com', extensions: ['subjectAltName=DNS:evil.example.com'] }).pem });
    expect(refused.status).toBe(403);
    expect((await sign({ csr: 'garbage' })).status).toBe(400);
    expect((await postForm(`${ca.url}/v1/sign/default`, { user: 'mallory', secret: WRONG_SECRET, csr: makeCsr().pem })).status).toBe(401);
  }, 60_000);
  afterAll(async () => {
    await ca?.stop();
    postgres?.destroy();
  });

  const events = async (): Promise<AuditEvent[]> => {
    const reader = await ca.openAuditReader();
    try {
      return (await reader.query({})).map((record) => JSON.parse(record.body) as AuditEvent);
    } finally {
      await reader.close();
    }
  };

  it('keeps the issued certificate itself, so the ledger alone reproduces it', async () => {
    const [issued] = (await events()).filter((e) => e.outcome === 'issued');
    const certificate = new X509Certificate(issuedPem);
    expect(issued).toMatchObject({
      event: 'sign',
      ra: 'default',
      requester: { user: 'deployer', groups: ['auditors'], authentication: 'deployers' },
      source: expect.stringMatching(/127\.0\.0\.1$/),
      subject: 'CN=api.payments.mayfly.test',
      dns_names: ['api.payments.mayfly.test', 'www.mayfly.test'],
      public_key: { type: 'EC', bits: 256, curve: 'P-256', spki_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      certificate: { serial: certificate.serialNumber.toLowerCase(), sha256: certificate.fingerprint256.replace(/:/g, '').toLowerCase() },
    });
    expect(Buffer.from(issued.certificate!.der, 'base64').equals(certificate.raw)).toBe(true);
    expect(issued.verdicts!.map((v) => v.validator)).toEqual(['csr_signature', 'key_form', 'ca_status', 'critical_extensions', 'subject_identity', 'name_syntax', 'renewal_scope', 'common_name', 'alternative_names', 'public_key']);
  });

  it('records a refusal with every validator verdict and reason', async () => {
    const refused = (await events()).find((e) => e.outcome === 'refused' && e.verdicts);
    expect(refused?.verdicts?.filter((v) => v.reasons.length > 0)).toEqual([
      { validator: 'common_name', reasons: ["common name 'evil.example.com' is outside the allowed domains [.mayfly.test]"] },
      { validator: 'alternative_names', reasons: ["DNS name 'evil.example.com' is outside the allowed domains [.mayfly.test]"] },
      { validator: 'public_key', reasons: ['RSA key of 1024 bits is below the minimum of 2048'] },
    ]);
    expect(refused?.certificate).toBeUndefined();
  });

  it('records an unparseable CSR as refused, with why', async () => {
    expect((await events()).find((e) => e.reason?.startsWith('the CSR is neither'))).toMatchObject({ outcome: 'refused', requester: { user: 'deployer' } });
  });

  it('records an authentication failure with the claimed user and never the secret', async () => {
    expect((await events()).filter((e) => e.event === 'auth')).toEqual([
      expect.objectContaining({ event: 'auth', outcome: 'refused', claimed_user: 'mallory', requester: null, reason: 'authentication failed' }),
    ]);
    const journals = existsSync(join(ca.dir, 'audit.db.journal')) ? readdirSync(join(ca.dir, 'audit.db.journal')).map((name) => join('audit.db.journal', name)) : [];
    expect(journals).toHaveLength(store === 'sqlite' ? 1 : 0); // the server's own journal
    for (const file of ['audit.db', 'audit.db-wal', ...journals]) {
      const path = join(ca.dir, file);
      if (existsSync(path)) expect(readFileSync(path).includes(WRONG_SECRET)).toBe(false);
    }
  });

  it('answers GET /v1/audit for audit admins, with filters and pages', async () => {
    const auth = { Authorization: `Basic ${Buffer.from(`deployer:${ca.secret}`).toString('base64')}` };
    const first = await fetch(`${ca.url}/v1/audit?limit=1`, { headers: auth });
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { records: { seq: number; event: AuditEvent }[]; next: string | null };
    expect(page1.records).toHaveLength(1);
    expect(page1.records[0].event.outcome).toBe('issued');
    expect(page1.next).toEqual(expect.any(String));
    const second = (await (await fetch(`${ca.url}/v1/audit?limit=1&after=${page1.next}`, { headers: auth })).json()) as typeof page1;
    expect(second.records[0].seq).toBe(page1.records[0].seq + 1);

    const byName = (await (await fetch(`${ca.url}/v1/audit?name=*.payments.mayfly.test`, { headers: auth })).json()) as typeof page1;
    expect(byName.records.map((r) => r.event.dns_names)).toEqual([['api.payments.mayfly.test', 'www.mayfly.test']]);
    const refused = (await (await fetch(`${ca.url}/v1/audit?outcome=refused`, { headers: auth })).json()) as typeof page1;
    expect(refused.records.map((r) => r.event.event)).toEqual(['sign', 'sign', 'auth']);

    expect((await fetch(`${ca.url}/v1/audit?outcome=bogus`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${ca.url}/v1/audit`, { headers: { Authorization: `Basic ${Buffer.from('deployer:wrong').toString('base64')}` } })).status).toBe(401);
  });

  it('refuses GET /v1/audit to an authenticated requester outside the admin groups', async () => {
    const other = await startTestCa({ audit: true });
    try {
      const response = await fetch(`${other.url}/v1/audit`, { headers: { Authorization: `Basic ${Buffer.from(`deployer:${other.secret}`).toString('base64')}`, Accept: 'application/json' } });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toBe('forbidden');
      for (const path of ['/v1/audit/checkpoint', '/v1/audit/proof/0123']) {
        expect((await fetch(`${other.url}${path}`, { headers: { Authorization: `Basic ${Buffer.from(`deployer:${other.secret}`).toString('base64')}` } })).status).toBe(403);
      }
    } finally {
      await other.stop();
    }
  });

  it('is queryable and verifiable from the CLI', () => {
    const list = runCli(['audit', 'list', '--config', ca.configFile, '--outcome', 'issued'], { env: ca.cliEnv });
    expect(list.status).toBe(0);
    expect(list.stdout).toContain('api.payments.mayfly.test www.mayfly.test');
    expect(list.stdout).toContain('1 record(s)');
    const serial = new X509Certificate(issuedPem).serialNumber.toLowerCase();
    const show = runCli(['audit', 'show', serial, '--config', ca.configFile], { env: ca.cliEnv });
    expect(show.status).toBe(0);
    expect(show.stdout).toContain(`  serial:    ${serial}`);
    expect(show.stdout).toContain('  SAN:       DNS:api.payments.mayfly.test, DNS:www.mayfly.test');
    const verify = runCli(['audit', 'verify', '--config', ca.configFile], { env: ca.cliEnv });
    expect(verify.stdout).toMatch(/chain \S+: 4 record\(s\), \d+ checkpoint\(s\), intact\nOK: 1 chain\(s\) verified/);
    expect(verify.status).toBe(0);
    const cadf = runCli(['audit', 'export', '--format', 'cadf', '--config', ca.configFile], { env: ca.cliEnv }).stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; outcome: string; initiator: { id: string } });
    expect(cadf.map((e) => [e.name, e.outcome, e.initiator.id])).toEqual([
      ['audit.sign', 'success', 'deployer'],
      ['audit.sign', 'failure', 'deployer'],
      ['audit.sign', 'failure', 'deployer'],
      ['audit.auth', 'failure', 'mallory'],
    ]);
    const csv = runCli(['audit', 'export', '--format', 'csv', '--config', ca.configFile], { env: ca.cliEnv }).stdout.trim().split('\n');
    expect(csv[0]).toBe('chain,seq,time,event,ra,user,source,outcome,serial,not_after,dns_names,ip_addresses,reasons');
    expect(csv).toHaveLength(5);
  });
});
