// The agent's choices — which credentials to present, when to give up in --once — against a
// stand-in CA over real loopback TLS, with the scheduler on a fake clock so renewals come on cue.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { RenewalAgent } from '../../../src/client/agent';
import { parseAgentConfig } from '../../../src/client/agent_config';
import type { AgentLog } from '../../../src/client/agent_log';
import { EXIT_CODES } from '../../../src/client/errors';
import { createTestPki, type TestPki } from '../../helpers/test_pki';
import { FakeClock } from './fake_clock';

const HOUR = 3_600_000;

const until = async (condition: () => boolean, what: string, timeoutMs = 20_000) => {
  for (const start = Date.now(); !condition(); ) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('RenewalAgent', () => {
  let pki: TestPki;
  let server: Server;
  let url: string;
  let dir: string;
  /** "<ra> <how it authenticated>" for each sign request. */
  let requests: string[];
  let answer: (ra: string, how: string, csr: string, response: ServerResponse) => void;
  let lines: string[];
  let log: AgentLog;

  const json = (response: ServerResponse, status: number, body: unknown) => response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  const sign = (csr: string, response: ServerResponse) => json(response, 200, { certificate: pki.signCsr(csr), chain: [pki.intermediate.cert, pki.root.cert] });

  beforeAll(async () => {
    pki = createTestPki('Mayfly');
    const tls = pki.issueLeaf('/CN=ca.mayfly.test', ['IP:127.0.0.1']);
    // Asks for a client certificate without requiring one, as Mayfly does.
    server = createServer({ cert: tls.cert + pki.intermediate.cert, key: tls.key, requestCert: true, rejectUnauthorized: false }, (request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const ra = (request.url ?? '').replace('/v1/sign/', '');
        const presented = Object.keys((request.socket as TLSSocket).getPeerCertificate()).length > 0;
        const how = request.headers.authorization?.startsWith('Basic ') ? 'secret' : presented ? 'certificate' : 'nothing';
        requests.push(`${ra} ${how}`);
        answer(ra, how, (JSON.parse(body) as { csr: string }).csr, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    pki.remove();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mayfly-agent-unit-'));
    requests = [];
    lines = [];
    const record = (level: string) => (subject: string, message: string) => void lines.push(`${level} [${subject}] ${message}`);
    log = { info: record('INFO'), warn: record('WARN'), error: record('ERROR') };
    answer = (_ra, how, csr, response) => (how === 'nothing' ? json(response, 401, { error: 'authentication_failed' }) : sign(csr, response));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const planned = () => lines.filter((line) => line.includes('next renewal at')).length;
  const config = (certificate: string) =>
    parseAgentConfig(
      join(dir, 'agent.yaml'),
      `server: ${url}
cacert: ${pki.root.certFile}
credentials: { user: deployer, secret_env: MAYFLY_SECRET }
renewal: { at: 0.2, jitter: 0, retry_initial: 1s, retry_max: 2s }
certificates:
  - name: web
    common_name: svc.mayfly.test
    cert: web.pem
    key: web.key
${certificate}`,
      { MAYFLY_SECRET: 'the-secret' },
    );

  it('enrols with the credentials, renews with the current certificate at renew_ra, and falls back when that RA refuses it', async () => {
    process.env.MAYFLY_SECRET = 'the-secret';
    const clock = new FakeClock(Date.now());
    const agent = new RenewalAgent(config('    ra: default\n    renew_ra: renew\n'), log, { clock, random: () => 0.5 });
    try {
      await agent.start();
      // Waits for each attempt to finish (its next renewal planned) before the clock moves on.
      await until(() => planned() === 1, 'enrolment');
      expect(lines).toContainEqual(expect.stringContaining('renewed via static credentials at RA default'));
      expect(requests).toEqual(['default secret']);
      await clock.advance(5 * HOUR);
      await until(() => planned() === 2, 'renewal by mTLS');
      expect(lines).toContainEqual(expect.stringContaining('renewed via mTLS at RA renew'));
      expect(requests).toEqual(['default secret', 'renew certificate']);

      answer = (ra, _how, csr, response) => (ra === 'renew' ? json(response, 401, { error: 'authentication_failed' }) : sign(csr, response));
      await clock.advance(5 * HOUR);
      await until(() => planned() === 3, 'the fallback');
      expect(lines.filter((line) => line.includes('renewed via static credentials'))).toHaveLength(2);
      expect(requests).toEqual(['default secret', 'renew certificate', 'renew certificate', 'default secret']);
      expect(lines).toContain('WARN [web] RA renew refused the current certificate; trying the configured credentials');
    } finally {
      await agent.stop();
      delete process.env.MAYFLY_SECRET;
    }
  });

  it('with credentials and no renew_ra, never presents the certificate to an RA that would count it as a failed login', async () => {
    process.env.MAYFLY_SECRET = 'the-secret';
    const clock = new FakeClock(Date.now());
    const agent = new RenewalAgent(config('    ra: default\n'), log, { clock, random: () => 0.5 });
    try {
      await agent.start();
      // Waits for each attempt to finish (its next renewal planned) before the clock moves on.
      await until(() => planned() === 1, 'enrolment');
      await clock.advance(5 * HOUR);
      await until(() => planned() === 2, 'renewal');
      expect(requests).toEqual(['default secret', 'default secret']);
    } finally {
      await agent.stop();
      delete process.env.MAYFLY_SECRET;
    }
  });

  describe('--once', () => {
    beforeEach(() => {
      process.env.MAYFLY_SECRET = 'the-secret';
    });
    afterEach(() => {
      delete process.env.MAYFLY_SECRET;
    });

    it('does not retry a policy refusal: exit 3 after one request', async () => {
      answer = (_ra, _how, _csr, response) => json(response, 403, { error: 'policy_refused', reasons: [{ validator: 'common_name', reason: 'not here' }] });
      const result = await new RenewalAgent(config('    ra: default\n'), log).runOnce(60_000);
      expect(result.exitCode).toBe(EXIT_CODES.policyRefused);
      expect(requests).toEqual(['default secret']);
      expect(lines).toContain('ERROR [web] not in place: refused by policy: common_name: not here');
    });

    it('retries a busy server and succeeds when it recovers', async () => {
      let busy = 2;
      answer = (_ra, _how, csr, response) => (busy-- > 0 ? json(response, 503, { error: 'signer_unavailable', message: 'busy' }) : sign(csr, response));
      const result = await new RenewalAgent(config('    ra: default\n'), log).runOnce(60_000);
      expect(result.exitCode).toBe(EXIT_CODES.ok);
      expect(requests).toEqual(['default secret', 'default secret', 'default secret']);
      expect(lines.filter((line) => /^WARN \[web\] attempt \d failed: the server answered 503: busy; trying again in/.test(line))).toHaveLength(2);
    });

    it('leaves a valid certificate that is due in place when the server cannot renew it now: exit 0 after one try', async () => {
      expect((await new RenewalAgent(config('    ra: default\n'), log).runOnce(60_000)).exitCode).toBe(EXIT_CODES.ok);
      answer = (_ra, _how, _csr, response) => json(response, 503, { error: 'signer_unavailable', message: 'busy' });
      requests = [];
      // Five hours on, past the renewal point (a fifth of a one-day life).
      const later = new FakeClock(Date.now() + 5 * HOUR);
      const result = await new RenewalAgent(config('    ra: default\n'), log, { clock: later }).runOnce(60_000);
      expect(result.exitCode).toBe(EXIT_CODES.ok);
      expect(requests).toEqual(['default secret']);
      expect(lines).toContainEqual(expect.stringMatching(/^WARN \[web\] renewal failed: the server answered 503: busy; the current certificate stays in place, valid until /));
    });

    it('gives up on a server that stays busy past the timeout, with its exit code', async () => {
      answer = (_ra, _how, _csr, response) => json(response, 503, { error: 'signer_unavailable', message: 'busy' });
      const result = await new RenewalAgent(config('    ra: default\n'), log).runOnce(1_500);
      expect(result.exitCode).toBe(EXIT_CODES.serverError);
      expect(requests.length).toBeGreaterThanOrEqual(1);
      expect(requests.length).toBeLessThanOrEqual(3);
    });
  });
});
