// The auditors' filters over real HTTP and the real CLI, on each store: who asked, from where, which
// validator refused, the CN as a name, serials as people paste them, times as people type them; and
// a parameter GET /v1/audit does not know is refused, not ignored.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../../src/audit/record';
import { runCli } from '../../helpers/cli';
import { postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr } from '../../helpers/openssl';
import { startTestPostgres, type TestPostgres } from '../../helpers/postgres';

/** The deployer is in group `auditors`, which may read the ledger over HTTP. */

/** The filter suites on the given stores: `npm test` SQLite, `test:full` PostgreSQL (filters_postgres.full.test.ts). */
export function filterSuites(stores: readonly ('sqlite' | 'postgres')[]): void {
  const withAuditors = (yaml: string) => yaml.replace('    user: deployer\n', '    user: deployer\n    groups: [auditors]\n    audit_admin_groups: [auditors]\n');

  describe.each(stores)('audit filters (%s)', (store) => {
    let ca: TestCa;
    let postgres: TestPostgres | undefined;
    let serial: string;
    let outDir: string;
    beforeAll(async () => {
      if (store === 'postgres') postgres = await startTestPostgres();
      ca = await startTestCa({ audit: true, editConfig: withAuditors, ...(postgres ? { auditPostgresUrl: postgres.url } : {}) });
      outDir = mkdtempSync(join(tmpdir(), 'mayfly-audit-out-'));
      const sign = (csr: string) => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr });
      // Its CN is in no SAN of the CSR (issuance adds it to the names; postgres_store.test.ts has records whose CN no name carries).
      const issued = await sign(makeCsr({ subject: '/CN=portal.mayfly.test', extensions: ['subjectAltName=DNS:web-7.mayfly.test'] }).pem);
      expect(issued.status).toBe(200);
      serial = new X509Certificate(await issued.text()).serialNumber.toLowerCase();
      expect((await sign(makeCsr({ keyType: 'rsa1024', subject: '/CN=weak.mayfly.test', extensions: ['subjectAltName=DNS:weak.mayfly.test'] }).pem)).status).toBe(403);
      expect((await postForm(`${ca.url}/v1/sign/default`, { user: 'mallory', secret: 'wrong', csr: makeCsr().pem })).status).toBe(401);
    }, 90_000);
    afterAll(async () => {
      await ca?.stop();
      postgres?.destroy();
      if (outDir) rmSync(outDir, { recursive: true, force: true });
    });

    const get = async (parameters: string): Promise<{ status: number; events?: AuditEvent[]; message?: string }> => {
      const response = await fetch(`${ca.url}/v1/audit?${parameters}`, { headers: { Authorization: `Basic ${Buffer.from(`deployer:${ca.secret}`).toString('base64')}`, Accept: 'application/json' } });
      const body = (await response.json()) as { records?: { event: AuditEvent }[]; message?: string };
      return { status: response.status, ...(body.records ? { events: body.records.map((record) => record.event) } : { message: body.message }) };
    };
    const subjects = async (parameters: string) => {
      const answer = await get(parameters);
      expect(answer.status).toBe(200);
      return answer.events!.map((event) => event.subject ?? `(${event.event} ${event.claimed_user})`);
    };
    const ALL = ['CN=portal.mayfly.test', 'CN=weak.mayfly.test', '(auth mallory)'];

    it('GET /v1/audit filters by requester, the claimed user of a failed login included', async () => {
      expect(await subjects('user=deployer')).toEqual(ALL.slice(0, 2));
      expect(await subjects('user=mallory')).toEqual(['(auth mallory)']);
      expect(await subjects('user=Deployer')).toEqual([]);
    });

    it('GET /v1/audit filters by source address or CIDR block, however the address is written', async () => {
      expect(await subjects('source=127.0.0.0/8')).toEqual(ALL);
      expect(await subjects('source=127.0.0.1')).toEqual(ALL);
      expect(await subjects(`source=${encodeURIComponent('::ffff:127.0.0.1')}`)).toEqual(ALL);
      expect(await subjects('source=10.0.0.0/8')).toEqual([]);
      expect(await get('source=127.0.0.0/40')).toEqual({ status: 400, message: 'source: "127.0.0.0/40" is not an IP address or CIDR block (192.0.2.7, 10.0.0.0/8, 2001:db8::/32)' });
    });

    it('GET /v1/audit filters by the validator that refused', async () => {
      expect(await subjects('validator=public_key')).toEqual(['CN=weak.mayfly.test']);
      // Every validator judged the issued request; only one that gave reasons refused.
      expect(await subjects('validator=common_name')).toEqual([]);
    });

    it('GET /v1/audit matches a name glob against the CN as well as the SANs', async () => {
      expect(await subjects('name=portal.mayfly.test')).toEqual(['CN=portal.mayfly.test']);
      expect(await subjects('name=PORTAL.*')).toEqual(['CN=portal.mayfly.test']);
      expect(await subjects('name=web-7.mayfly.test')).toEqual(['CN=portal.mayfly.test']);
    });

    it('GET /v1/audit finds a serial in any common form, and refuses what is none', async () => {
      const colons = serial.toUpperCase().replace(/(..)(?!$)/g, '$1:');
      for (const form of [serial, serial.toUpperCase(), colons, `00${serial}`, serial.replace(/^0+/, '')]) expect(await subjects(`serial=${encodeURIComponent(form)}`)).toEqual(['CN=portal.mayfly.test']);
      expect(await get('serial=xyz')).toEqual({ status: 400, message: 'serial: "xyz" is not a certificate serial: hex digits, with or without colons (0a:1b:2c:3d or 0A1B2C3D)' });
    });

    it('GET /v1/audit takes relative times and refuses 06/12/2026', async () => {
      expect(await subjects('since=24h')).toEqual(ALL);
      expect(await subjects('since=today&until=today')).toEqual(ALL);
      expect(await subjects('until=yesterday')).toEqual([]);
      expect(await get('since=06%2F12%2F2026')).toEqual({
        status: 400,
        message: 'since: "06/12/2026" is not an RFC 3339 date (2026-01-31) or time with offset (2026-01-31T12:00:00Z) within the years 0000-9999, a duration ago (30m, 24h, 7d), today, yesterday or now',
      });
    });

    it('GET /v1/audit refuses a parameter it does not know, naming it and the ones it takes', async () => {
      expect(await get('users=deployer')).toEqual({
        status: 400,
        message: 'unknown parameter "users"; the parameters are after, limit, name, outcome, ra, serial, since, source, until, user, validator',
      });
      expect((await get('outcome=refused&Since=2026-01-01')).status).toBe(400);
    });

    it('audit list filters by user, source, validator, CN and serial in any form', () => {
      const list = (...args: string[]) => {
        const result = runCli(['audit', 'list', '--config', ca.configFile, ...args], { env: ca.cliEnv });
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
        return result.stdout;
      };
      const byUser = list('--user', 'mallory');
      expect(byUser).toMatch(/\tdefault\tmallory\trefused\t-\tauthentication failed\n1 record\(s\)\n$/);
      expect(list('--source', '10.0.0.0/8')).toMatch(/^TIME\t.*\n0 record\(s\)\n$/);
      expect(list('--source', '127.0.0.0/8', '--since', 'yesterday')).toContain('3 record(s)');
      expect(list('--validator', 'public_key')).toContain('weak.mayfly.test — public_key: RSA key of 1024 bits is below the minimum of 2048');
      expect(list('--name', 'portal.mayfly.test')).toContain(`\tissued\t${serial}\tportal.mayfly.test web-7.mayfly.test\n1 record(s)`);
      expect(list('--serial', serial.toUpperCase().replace(/(..)(?!$)/g, '$1:'))).toContain(`\tissued\t${serial}\t`);
    });

    it('audit list refuses 06/12/2026, a bad serial and a bad source, saying what it takes', () => {
      const refused = (...args: string[]) => {
        const result = runCli(['audit', 'list', '--config', ca.configFile, ...args], { env: ca.cliEnv });
        expect(result.status).not.toBe(0);
        expect(result.stdout).toBe('');
        return result.stderr.trim();
      };
      expect(refused('--since', '06/12/2026')).toBe(
        `error: option '--since <time>' argument '06/12/2026' is invalid. "06/12/2026" is not an RFC 3339 date (2026-01-31) or time with offset (2026-01-31T12:00:00Z) within the years 0000-9999, a duration ago (30m, 24h, 7d), today, yesterday or now`,
      );
      expect(refused('--until', 'last tuesday')).toContain(`error: option '--until <time>' argument 'last tuesday' is invalid.`);
      expect(refused('--serial', 'nope')).toBe(`error: option '--serial <serial>' argument 'nope' is invalid. "nope" is not a certificate serial: hex digits, with or without colons (0a:1b:2c:3d or 0A1B2C3D)`);
      expect(refused('--source', 'localhost')).toContain('"localhost" is not an IP address or CIDR block');
    });

    it('audit export --out writes the file whole, readable by its owner only, and prints nothing', () => {
      const file = join(outDir, `refused-${store}.csv`);
      const result = runCli(['audit', 'export', '--config', ca.configFile, '--format', 'csv', '--outcome', 'refused', '--out', file], { env: ca.cliEnv });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe('chain,seq,time,event,ra,user,source,outcome,serial,not_after,dns_names,ip_addresses,reasons');
      expect(lines.slice(1).map((line) => line.split(',')[5])).toEqual(['deployer', 'mallory']);
      const listed = join(outDir, `list-${store}.txt`);
      expect(runCli(['audit', 'list', '--config', ca.configFile, '--user', 'mallory', '--out', listed], { env: ca.cliEnv }).status).toBe(0);
      expect(readFileSync(listed, 'utf8')).toMatch(/^TIME\t.*\n.*\tmallory\t.*\n1 record\(s\)\n$/);
    });
  });
}
