// /metrics, /healthz, /readyz and the request log of the real `mayfly serve`, with a local CA and a
// SoftHSM2 CA in a token of this test's own (its own SOFTHSM2_CONF, so no other test's token moves).
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, serveCli, servePlainHttp, type ServingCli } from '../../helpers/cli';
import { runCliInProcess } from '../../helpers/cli_in_process';
import { postForm } from '../../helpers/mayfly';
import { makeCsr, opensslText } from '../../helpers/openssl';
import { privateSoftHsm, SOFTHSM_MODULE } from '../../helpers/softhsm';

const PIN = 'ops-pin-5150-do-not-log';

/** The value of one sample in Prometheus text, or undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

describe('observability of a running Mayfly: metrics, health, readiness and logs', () => {
  let dir: string;
  let tokenDir: string;
  let serving: ServingCli;
  let opsUrl: string;
  let secret: string;
  let env: () => NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-ops-'));
    const hsm = privateSoftHsm(dir);
    tokenDir = hsm.tokenDir;
    env = () => ({ ...hsm.env, MAYFLY_OPS_PIN: PIN });
    hsm.initToken('ops', PIN);
    const home = join(dir, 'home');
    expect((await runCliInProcess(['init', '--dir', home])).code).toBe(0);
    const made = runCli(['pkcs11', 'init-ca', '--module', SOFTHSM_MODULE, '--token-label', 'ops', '--pin-env', 'MAYFLY_OPS_PIN', '--key-label', 'ops-ca', '--key-type', 'p256', '--subject', '/CN=Mayfly Ops HSM CA', '--self-signed', '--out', join(home, 'ca', 'hsm.pem')], { env: env() });
    expect(made.stderr).toBe('');
    const configFile = join(home, 'mayfly.yaml');
    servePlainHttp(configFile);
    const yaml = readFileSync(configFile, 'utf8');
    const policy = yaml.slice(yaml.indexOf('    valid_hours:'));
    const hsmEntry = `  hsm:\n    backend: pkcs11\n    module: ${SOFTHSM_MODULE}\n    token_label: ops\n    key_label: ops-ca\n    pin_env: MAYFLY_OPS_PIN\n    cert: ca/hsm.pem\n`;
    writeFileSync(
      configFile,
      yaml.replace('server:\n', 'server:\n  metrics_listen: 127.0.0.1:0\n').replace('signing_ca:\n', `signing_ca:\n${hsmEntry}`) + `  hsm:\n    authentication: deployers\n    signing_ca: hsm\n${policy}`,
      { mode: 0o600 },
    );
    secret = /^secret=(.*)$/m.exec(readFileSync(join(home, 'dev-credentials'), 'utf8'))![1];
    serving = await serveCli(['--config', configFile, '--listen', '127.0.0.1:0'], { env: env() });
    opsUrl = (await serving.waitFor(/Metrics and health on (http:\/\/\S+)\/metrics/))[1];
  });
  afterAll(async () => {
    await serving?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sign = (ra: string, fields: Record<string, string>) => postForm(`${serving.url}/v1/sign/${ra}`, { user: 'deployer', secret, encoding: 'pem', ...fields }, { Accept: 'application/json' });
  const scrape = async () => {
    const response = await fetch(`${opsUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  describe('after real requests', () => {
    const csr = makeCsr();
    let serials: string[];
    beforeAll(async () => {
      serials = [];
      for (const ra of ['default', 'default', 'hsm']) {
        const response = await sign(ra, { csr: csr.pem });
        expect(response.status).toBe(200);
        serials.push(((await response.json()) as { serial_number: string }).serial_number);
      }
      expect((await sign('default', { csr: makeCsr({ subject: '/CN=evil.example.com', extensions: ['subjectAltName=DNS:evil.example.com'] }).pem })).status).toBe(403);
      expect((await sign('default', { csr: csr.pem, secret: 'not-the-secret' })).status).toBe(401);
      expect((await sign('nosuchra', { csr: csr.pem })).status).toBe(404);
    });

    it('counts requests by RA, route and outcome, issued certificates and refusals by validator', async () => {
      const text = await scrape();
      const route = '/v1/sign/:ra';
      expect(sample(text, 'mayfly_requests_total', { ra: 'default', route, outcome: 'ok' })).toBe(2);
      expect(sample(text, 'mayfly_requests_total', { ra: 'hsm', route, outcome: 'ok' })).toBe(1);
      expect(sample(text, 'mayfly_requests_total', { ra: 'default', route, outcome: 'policy_refused' })).toBe(1);
      expect(sample(text, 'mayfly_requests_total', { ra: 'default', route, outcome: 'authentication_failed' })).toBe(1);
      // A name the client made up never becomes a label.
      expect(sample(text, 'mayfly_requests_total', { ra: '', route, outcome: 'unknown_ra' })).toBe(1);
      expect(text).not.toContain('nosuchra');
      expect(sample(text, 'mayfly_certificates_issued_total', { ra: 'default' })).toBe(2);
      expect(sample(text, 'mayfly_certificates_issued_total', { ra: 'hsm' })).toBe(1);
      expect(sample(text, 'mayfly_refusals_total', { ra: 'default', validator: 'common_name' })).toBe(1);
      expect(sample(text, 'mayfly_refusals_total', { ra: 'default', validator: 'alternative_names' })).toBe(1);
    });

    it('has signing latency by signer, audit commits, the CA expiry and the token logins', async () => {
      const text = await scrape();
      expect(sample(text, 'mayfly_signing_duration_seconds_count', { signer: 'local' })).toBe(2);
      expect(sample(text, 'mayfly_signing_duration_seconds_count', { signer: 'hsm' })).toBe(1);
      expect(sample(text, 'mayfly_signing_duration_seconds_sum', { signer: 'hsm' })).toBeGreaterThan(0);
      // 6 decisions recorded (3 issued, 1 refused, 1 failed authentication; the 404 is no decision): 5 records.
      expect(sample(text, 'mayfly_audit_batch_records_sum')).toBe(5);
      expect(sample(text, 'mayfly_audit_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
      const localExpiry = sample(text, 'mayfly_ca_expiry_seconds', { signing_ca: 'local' })!;
      const notAfter = opensslText(readFileSync(join(dir, 'home', 'ca', 'intermediate.pem'), 'utf8')).match(/Not After : (.*)/)![1];
      expect(Math.abs(localExpiry - (Date.parse(notAfter) - Date.now()) / 1000)).toBeLessThan(60);
      expect(sample(text, 'mayfly_pkcs11_logins_total', { signer: 'hsm' })).toBe(1);
      expect(sample(text, 'mayfly_pkcs11_errors_total', { signer: 'hsm' })).toBe(0);
      expect(sample(text, 'mayfly_pkcs11_logins_total', { signer: 'local' })).toBeUndefined();
      expect(sample(text, 'mayfly_process_resident_memory_bytes')).toBeGreaterThan(0);
    });

    it('serves /metrics only on metrics_listen when it is set, and /healthz on both', async () => {
      expect((await fetch(`${serving.url}/metrics`)).status).toBe(404);
      for (const url of [serving.url, opsUrl]) {
        const health = await fetch(`${url}/healthz`);
        expect(health.status).toBe(200);
        expect(await health.json()).toEqual({ status: 'ok' });
      }
    });

    it('logs one JSON line per request with its id, RA, outcome and serial or reasons', async () => {
      const lines = serving
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === 'request' && line.route === '/v1/sign/:ra');
      expect(lines).toHaveLength(6);
      const issued = lines.filter((line) => line.outcome === 'ok');
      expect(issued.map((line) => line.serial)).toEqual(serials);
      expect(issued.map((line) => line.ra)).toEqual(['default', 'default', 'hsm']);
      const refused = lines.find((line) => line.outcome === 'policy_refused')!;
      expect(refused.status).toBe(403);
      expect((refused.reasons as { validator: string }[]).map((r) => r.validator).sort()).toEqual(['alternative_names', 'common_name']);
      expect(lines.find((line) => line.outcome === 'authentication_failed')).toMatchObject({ status: 401, ra: 'default' });
      expect(lines.find((line) => line.outcome === 'unknown_ra')).not.toHaveProperty('ra');
      for (const line of lines) {
        expect(line.request_id).toMatch(/^[0-9a-f-]{36}$/);
        expect(typeof line.duration_ms).toBe('number');
      }
      expect(new Set(lines.map((line) => line.request_id)).size).toBe(6);
    });

    it('never logs the secret, the PIN, the CSR or a key', () => {
      const output = serving.output();
      expect(output).toContain('"msg":"request"');
      expect(output).not.toContain(secret);
      expect(output).not.toContain('not-the-secret');
      expect(output).not.toContain(PIN);
      expect(output).not.toMatch(/BEGIN [A-Z ]*(REQUEST|PRIVATE KEY)/);
      // Any 40-character stretch of the CSR's base64 body.
      const body = csr.pem.replace(/-----[^-]+-----|\s/g, '');
      expect(output).not.toContain(body.slice(100, 140));
    });

    it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
      const kept = await fetch(`${serving.url}/healthz`, { headers: { 'X-Request-Id': 'lb-1234.abc' } });
      expect(kept.headers.get('x-request-id')).toBe('lb-1234.abc');
      const replaced = await fetch(`${serving.url}/healthz`, { headers: { 'X-Request-Id': 'bad id\u00e9"}' } });
      expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('/readyz', () => {
    const ready = async () => {
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past the reuse of the last answer
      const response = await fetch(`${opsUrl}/readyz`);
      return { status: response.status, body: (await response.json()) as { ready: boolean; failing: string[]; checks: Record<string, string> } };
    };

    it('is ready when the config is loaded, both signers sign a test digest and the ledger is writable', async () => {
      const { status, body } = await ready();
      expect(status).toBe(200);
      expect(body).toEqual({ ready: true, failing: [], checks: { config: 'ok', 'signer hsm': 'ok', 'signer local': 'ok', ledger: 'ok' } });
    });

    it('goes 503 naming the ledger when its file is made read-only, and recovers', async () => {
      const database = join(dir, 'home', 'audit.db');
      chmodSync(database, 0o400);
      try {
        const { status, body } = await ready();
        expect(status).toBe(503);
        expect(body.failing).toEqual(['ledger']);
        expect(body.checks.ledger).toMatch(/audit\.db is read-only$/);
        expect(body.checks['signer local']).toBe('ok');
        // The API's /readyz names the failing part, never the file behind it.
        const api = await fetch(`${serving.url}/readyz`);
        expect(api.status).toBe(503);
        const apiText = await api.text();
        expect(JSON.parse(apiText)).toMatchObject({ ready: false, failing: ['ledger'], checks: { ledger: 'failing', 'signer local': 'ok' } });
        expect(apiText).not.toContain('audit.db');
      } finally {
        chmodSync(database, 0o600);
      }
      expect((await ready()).status).toBe(200);
    });

    it('goes 503 naming the token signer when the token is gone, and recovers when it returns', async () => {
      renameSync(tokenDir, `${tokenDir}.away`);
      try {
        const { status, body } = await ready();
        expect(status).toBe(503);
        expect(body.failing).toEqual(['signer hsm']);
        expect(body.checks['signer hsm']).toMatch(/unavailable/);
        expect(body.checks['signer local']).toBe('ok');
        // The API says the same: nothing is signed by the missing token.
        expect((await sign('hsm', { csr: makeCsr().pem })).status).toBe(503);
      } finally {
        renameSync(`${tokenDir}.away`, tokenDir);
      }
      const { status, body } = await ready();
      expect(status).toBe(200);
      expect(body.ready).toBe(true);
      const text = await scrape();
      expect(sample(text, 'mayfly_pkcs11_errors_total', { signer: 'hsm' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'mayfly_pkcs11_logins_total', { signer: 'hsm' })).toBe(2);
      expect(sample(text, 'mayfly_requests_total', { ra: 'hsm', route: '/v1/sign/:ra', outcome: 'signer_unavailable' })).toBe(1);
    });
  });
});
