import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createToken } from '../../../src/auth/token';
import { runCli } from '../../helpers/cli';
import { httpsRequest, startTestCa, type TestCa } from '../../helpers/mayfly';
import { makeCsr, openssl } from '../../helpers/openssl';

/** RAs beside `default` (3-second certificates, for the expiry case): one per backend, with default's policy. */
function withBackends(yaml: string): string {
  const policy = yaml.slice(yaml.indexOf('    backdate_minutes:'));
  const ra = (name: string, authentication: string, extra = '') => `  ${name}:\n    authentication: ${authentication}\n    signing_ca: local\n${extra}${policy}`;
  return (
    yaml
      .replace('authentication:\n', 'authentication:\n  tokens:\n    backend: token\n    tokens_file: tokens.yaml\n  renewers:\n    backend: mtls\n  lenient:\n    backend: mtls\n    renewal_grace: 1h\n')
      .replace(/    valid_hours: 24[^\n]*\n/, '    validity: 3s\n') +
    ra('by_secret', 'deployers', '    valid_hours: 24\n') +
    ra('by_token', 'tokens', '    valid_hours: 24\n') +
    ra('renew', 'renewers', '    valid_hours: 24\n') +
    ra('renew_late', 'lenient', '    valid_hours: 24\n')
  );
}

describe('token and mTLS authentication', () => {
  let ca: TestCa;
  let tokensFile: string;
  beforeAll(async () => {
    ca = await startTestCa({
      tls: true,
      editConfig: (yaml, dir) => {
        tokensFile = join(dir, 'tokens.yaml');
        writeFileSync(tokensFile, 'tokens: []\n', { mode: 0o600 });
        return withBackends(yaml);
      },
    });
  });
  afterAll(() => ca.stop());

  const root = () => readFileSync(ca.rootFile, 'utf8');
  const sign = (ra: string, csr: string, options: { headers?: Record<string, string>; cert?: string; key?: string } = {}) =>
    httpsRequest(`${ca.url}/v1/sign/${ra}`, {
      ca: root(),
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...options.headers },
      body: JSON.stringify({ csr }),
      ...(options.cert ? { cert: options.cert, key: options.key } : {}),
    });

  /** Signs with `token` until the server's watch of the tokens file has seen it (generous: a loaded machine stalls). */
  async function signOnceKnown(token: string): Promise<{ status: number }> {
    const csr = makeCsr().pem;
    const deadline = Date.now() + 15_000;
    let answer = await sign('by_token', csr, { headers: { Authorization: `Bearer ${token}` } });
    while (answer.status === 401 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await sign('by_token', csr, { headers: { Authorization: `Bearer ${token}` } });
    }
    return answer;
  }

  describe('token', () => {
    it('authenticates a bearer token, keeps only its hash, and sees tokens added while running', async () => {
      const { token, entry } = await createToken(tokensFile, { name: 'ci-runner', groups: ['builders'] });
      expect(token).toMatch(/^mfy_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      const stored = readFileSync(tokensFile, 'utf8');
      expect(stored).not.toContain(token.slice('mfy_'.length + 17));
      expect(stored).toContain(entry.sha256);
      expect(statSync(tokensFile).mode & 0o777).toBe(0o600);
      // The server watches the file: no reload needed.
      expect((await signOnceKnown(token)).status).toBe(200);
    });

    it('refuses an expired, unknown, altered or missing token with the same 401', async () => {
      const { token: expired } = await createToken(tokensFile, { groups: [], ttlMs: 1000, now: new Date(Date.now() - 60_000) });
      const { token: good } = await createToken(tokensFile, { groups: [] });
      // Once `good` works the reload that also holds `expired` is in force.
      expect((await signOnceKnown(good)).status).toBe(200);
      const altered = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
      const unknown = `mfy_0123456789abcdef_${'A'.repeat(43)}`;
      const bodies = new Set<string>();
      for (const headers of [{ Authorization: `Bearer ${expired}` }, { Authorization: `Bearer ${altered}` }, { Authorization: `Bearer ${unknown}` }, {}] as Record<string, string>[]) {
        const answer = await sign('by_token', makeCsr().pem, { headers });
        expect(answer.status).toBe(401);
        bodies.add(answer.body);
      }
      expect(bodies.size).toBe(1);
      expect((await sign('by_token', makeCsr().pem, { headers: { Authorization: `Bearer ${good}` } })).status).toBe(200);
    });

    it('mayfly token create prints a token once and stores its hash with groups and expiry', () => {
      const result = runCli(['token', 'create', '--config', ca.configFile, '--auth', 'tokens', '--groups', 'a,b', '--ttl', '30d', '--name', 'deploy-bot']);
      expect(result.status).toBe(0);
      const token = result.stdout.trim();
      expect(token).toMatch(/^mfy_[0-9a-f]{16}_/);
      expect(result.stderr).toMatch(/^Token [0-9a-f]{16} for deploy-bot, expires \d{4}-/);
      const stored = readFileSync(tokensFile, 'utf8');
      expect(stored).toContain('name: deploy-bot');
      expect(stored).not.toContain(token.slice('mfy_'.length + 17));
      expect(runCli(['token', 'create', '--config', ca.configFile, '--auth', 'deployers']).stderr).toContain('is backend: static; tokens need an entry with backend: token');
    });
  });

  describe('mTLS renewal', () => {
    /**
     * A certificate for svc.mayfly.test from `ra` (static credentials), with its key. Make the renewal's CSR first:
     * an openssl spawn can take seconds on a loaded machine, longer than `default`'s 3-second certificates live.
     */
    async function enrol(ra: 'by_secret' | 'default' = 'by_secret'): Promise<{ cert: string; key: string }> {
      const csr = makeCsr({ subject: '/CN=svc.mayfly.test', extensions: ['subjectAltName=DNS:svc.mayfly.test'] });
      const answer = await sign(ra, csr.pem, { headers: { Authorization: `Basic ${Buffer.from(`deployer:${ca.secret}`).toString('base64')}` } });
      expect(answer.status).toBe(200);
      return { cert: (JSON.parse(answer.body) as { certificate: string }).certificate, key: csr.keyPem };
    }

    it('a valid certificate renews itself for the same names with a new key', async () => {
      const next = makeCsr();
      const current = await enrol();
      const answer = await sign('renew', next.pem, current);
      expect(answer.status).toBe(200);
      const renewed = new X509Certificate((JSON.parse(answer.body) as { certificate: string }).certificate);
      expect(renewed.subjectAltName).toBe('DNS:svc.mayfly.test');
      expect(renewed.publicKey.export({ format: 'der', type: 'spki' }).equals(new X509Certificate(current.cert).publicKey.export({ format: 'der', type: 'spki' }))).toBe(false);
    });

    it('a renewal may not ask for other names', async () => {
      const wider = makeCsr({ subject: '/CN=svc.mayfly.test', extensions: ['subjectAltName=DNS:svc.mayfly.test,DNS:other.mayfly.test'] });
      const current = await enrol();
      const answer = await sign('renew', wider.pem, current);
      expect(answer.status).toBe(403);
      expect((JSON.parse(answer.body) as { reasons: unknown[] }).reasons).toEqual([
        { validator: 'renewal_scope', reason: "DNS name 'other.mayfly.test' is not in the presented certificate, which may renew only [svc.mayfly.test]" },
      ]);
    });

    it('an expired certificate is refused, unless the entry allows a grace period', async () => {
      const [first, second] = [makeCsr().pem, makeCsr().pem];
      const current = await enrol('default'); // 3-second certificates
      await new Promise((resolve) => setTimeout(resolve, 3500));
      expect((await sign('renew', first, current)).status).toBe(401);
      expect((await sign('renew_late', second, current)).status).toBe(200);
    });

    it('a certificate from another CA, or none, is refused', async () => {
      const dir = join(ca.dir, 'foreign');
      openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=svc.mayfly.test', '-addext', 'subjectAltName=DNS:svc.mayfly.test', '-keyout', `${dir}.key`, '-out', `${dir}.pem`]);
      const foreign = { cert: readFileSync(`${dir}.pem`, 'utf8'), key: readFileSync(`${dir}.key`, 'utf8') };
      expect((await sign('renew', makeCsr().pem, foreign)).status).toBe(401);
      expect((await sign('renew', makeCsr().pem)).status).toBe(401);
    });
  });
});
