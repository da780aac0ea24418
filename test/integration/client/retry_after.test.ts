// `mayfly agent --once` against a stand-in HTTPS server that is busy: it must come back when the
// server's Retry-After says (RFC 9110 10.2.3), not sooner and not much later, whatever its own back-off.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliAsync } from '../../helpers/cli_process';
import { createTestPki, type TestPki } from '../../helpers/test_pki';

describe('mayfly agent and Retry-After', () => {
  let pki: TestPki;
  let dir: string;
  let server: Server;
  const arrivals: number[] = [];
  // 503 "come back in 1 s", then 429 "in 6 s", then 401, which ends the run (exit 4).
  const answers = [
    { status: 503, retryAfter: '1', error: 'overloaded' },
    { status: 429, retryAfter: '6', error: 'rate_limited' },
    { status: 401, retryAfter: undefined, error: 'authentication_failed' },
  ];

  beforeAll(async () => {
    pki = createTestPki('Retry');
    dir = mkdtempSync(join(tmpdir(), 'mayfly-retry-after-'));
    const leaf = pki.issueLeaf('/CN=127.0.0.1', ['IP:127.0.0.1']);
    server = createServer({ key: leaf.key, cert: leaf.cert + pki.intermediate.cert }, (request, response) => {
      request.resume();
      request.on('end', () => {
        if (request.method !== 'POST') return response.writeHead(404).end();
        const answer = answers[Math.min(arrivals.length, answers.length - 1)];
        arrivals.push(performance.now());
        response.writeHead(answer.status, { 'Content-Type': 'application/json', ...(answer.retryAfter ? { 'Retry-After': answer.retryAfter } : {}) });
        response.end(JSON.stringify({ error: answer.error, message: answer.error }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    pki.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits at least what the server asks, and not much more, whatever retry_initial and retry_max say', async () => {
    const { port } = server.address() as AddressInfo;
    const config = join(dir, 'agent.yaml');
    // Its own back-off alone would wait 3.75-5 s each time: longer than 1 s, shorter than 6 s.
    writeFileSync(
      config,
      `server: https://127.0.0.1:${port}
cacert: ${pki.root.certFile}
credentials: { user: deployer, secret_env: MAYFLY_SECRET }
renewal: { retry_initial: 5s, retry_max: 5s }
certificates:
  - { name: web, ra: default, common_name: web.mayfly.test, cert: ${join(dir, 'web.pem')}, key: ${join(dir, 'web.key')} }
`,
    );
    const result = await runCliAsync(['agent', '--config', config, '--once', '--timeout', '60s'], { env: { MAYFLY_SECRET: 'not-the-point' }, timeoutMs: 60_000 });
    expect(result.code).toBe(4);
    expect(arrivals).toHaveLength(3);
    const [afterBusy, afterLimited] = [arrivals[1] - arrivals[0], arrivals[2] - arrivals[1]];
    expect(afterBusy).toBeGreaterThanOrEqual(1000);
    expect(afterBusy).toBeLessThan(3000);
    expect(afterLimited).toBeGreaterThanOrEqual(6000);
    expect(afterLimited).toBeLessThan(8000);
  });
});
