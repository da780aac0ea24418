import { connect } from 'node:net';
import { postForm, startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr } from '../helpers/openssl';

const csr = makeCsr().pem;

/** mayfly_rate_limited_total{limit} from the server's /metrics. */
async function limitedCount(url: string, limit: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`mayfly_rate_limited_total{limit="${limit}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('rate limits over HTTP', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ limits: { requestsPerMinutePerIdentity: 3, requestsPerMinutePerSource: 1000, authFailuresBeforeBackoff: 3 } });
  });
  afterAll(() => ca.stop());

  const sign = (secret: string) => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret, csr }, { Accept: 'application/json' });

  it('gives an identity its rate, then 429 with Retry-After', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await sign(ca.secret)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await sign(ca.secret);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(((await limited.json()) as { error: string }).error).toBe('rate_limited');
    expect(await limitedCount(ca.url, 'identity')).toBe(2);
    expect(await limitedCount(ca.url, 'source')).toBeUndefined();
  });

  it('backs an identity off at an address after repeated authentication failures, even with the right secret', async () => {
    const other = await startTestCa({ limits: { authFailuresBeforeBackoff: 3, authBackoffMs: 60_000 } });
    try {
      const attempt = (secret: string) => postForm(`${other.url}/v1/sign/default`, { user: 'deployer', secret, csr });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await attempt('wrong')).status);
      expect(statuses).toEqual([401, 401, 401, 401]);
      const blocked = await attempt(other.secret);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(await limitedCount(other.url, 'auth_backoff')).toBe(1);
    } finally {
      await other.stop();
    }
  });

  it('limits by client address', async () => {
    const other = await startTestCa({ limits: { requestsPerMinutePerSource: 2 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await postForm(`${other.url}/v1/sign/default`, { user: 'deployer', secret: other.secret, csr })).status);
      expect(statuses).toEqual([200, 200, 429]);
      expect(await limitedCount(other.url, 'source')).toBe(1);
    } finally {
      await other.stop();
    }
  });
});

describe('overload', () => {
  it('answers a fast 503 beyond the concurrent-signing cap instead of queueing, once the request is authenticated', async () => {
    // A cap of none: every authenticated request finds the slots taken (front_door.test.ts shows
    // that slow, unauthenticated clients cannot take them).
    const ca = await startTestCa({ limits: { maxConcurrentSigning: 0 } });
    try {
      const wrong = await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: 'wrong', csr }, { Accept: 'application/json' });
      expect(wrong.status).toBe(401);
      const started = Date.now();
      const refused = await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, csr }, { Accept: 'application/json' });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: string }).error).toBe('overloaded');
      // Generous for a loaded machine (it includes a scrypt); a queued request would wait for ever at a cap of none.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await limitedCount(ca.url, 'concurrency')).toBe(1);
    } finally {
      await ca.stop();
    }
  });

  it('counts a request whose client left with half a body', async () => {
    const ca = await startTestCa();
    const { port } = new URL(ca.url);
    // Half a body sent once the server has the request: Node answers `Expect: 100-continue` as it hands the request on.
    const socket = await new Promise<import('node:net').Socket>((resolve, reject) => {
      const opened = connect(Number(port), '127.0.0.1', () => {
        opened.write('POST /v1/sign/default HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n');
      });
      opened.once('data', (chunk: Buffer) => {
        const answer = chunk.toString('latin1');
        if (!answer.startsWith('HTTP/1.1 100 Continue\r\n')) return reject(new Error(`expected 100 Continue, got: ${answer}`));
        opened.write('user=deployer', () => resolve(opened)); // handed to the kernel before the test destroys the socket
      });
      opened.once('error', reject);
    });
    socket.destroy();
    // The count shows once the server has seen the client go: poll for it (generously: a loaded machine).
    const scrape = async () => (await fetch(`${ca.url}/metrics`, { headers: { Connection: 'close' } })).text();
    let metrics = await scrape();
    for (const deadline = Date.now() + 15_000; !metrics.includes('outcome="aborted"') && Date.now() < deadline; metrics = await scrape()) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await ca.stop();
    // Node 24 closes the response as the client leaves, before any answer could reach it: the request
    // is counted as aborted (Node 20 still wrote a 400 into the dead socket and counted bad_body).
    expect(metrics).toContain('mayfly_requests_total{ra="default",route="/v1/sign/:ra",outcome="aborted"} 1');
  });
});

describe('trusted proxies', () => {
  const withSourceCidrs = (yaml: string) => yaml.replace('    validators:\n', '    validators:\n      - source_cidrs: { cidrs: ["10.1.0.0/16"] }\n');

  it('believes X-Forwarded-For only from a listed proxy', async () => {
    const trusting = await startTestCa({ trustedProxies: ['127.0.0.1'], editConfig: withSourceCidrs });
    const distrusting = await startTestCa({ editConfig: withSourceCidrs });
    try {
      const forwarded = { 'X-Forwarded-For': '10.1.2.3', Accept: 'application/json' };
      expect((await postForm(`${trusting.url}/v1/sign/default`, { user: 'deployer', secret: trusting.secret, csr }, forwarded)).status).toBe(200);
      const refused = await postForm(`${distrusting.url}/v1/sign/default`, { user: 'deployer', secret: distrusting.secret, csr }, forwarded);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { reasons: unknown[] }).reasons).toEqual([
        { validator: 'source_cidrs', reason: 'the client address 127.0.0.1 is outside the allowed networks [10.1.0.0/16]' },
      ]);
    } finally {
      await trusting.stop();
      await distrusting.stop();
    }
  });
});

describe('security headers', () => {
  it('sends them on every answer', async () => {
    const ca = await startTestCa();
    try {
      const response = await fetch(`${ca.url}/robots.txt`);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-powered-by')).toBeNull();
    } finally {
      await ca.stop();
    }
  });
});
