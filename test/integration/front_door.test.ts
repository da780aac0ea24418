// The front door under attack (issue 14), over real HTTP: slow bodies, credential floods, the
// authentication back-off, each from one address. Clients are told apart by X-Forwarded-For from a
// trusted proxy (127.0.0.1), so several "addresses" can be played from one test.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { DEFAULT_LIMITS, type LimitOptions } from '../../src/http/limits';
import { postForm, startTestCa, TEST_LIMITS, type TestCa } from '../helpers/mayfly';
import { makeCsr } from '../helpers/openssl';
import { basicAuth } from './support';

const csr = makeCsr().pem;

const startCa = (limits: Partial<LimitOptions>): Promise<TestCa> => startTestCa({ trustedProxies: ['127.0.0.1'], limits: { ...TEST_LIMITS, ...limits } });

/** A sign request from `source` (via the trusted proxy), as JSON. */
const sign = (ca: TestCa, source: string, user: string, secret: string): Promise<Response> =>
  postForm(`${ca.url}/v1/sign/default`, { user, secret, csr }, { Accept: 'application/json', 'X-Forwarded-For': source });

interface SlowRequest {
  readonly socket: Socket;
  /** Everything the server has answered so far. */
  answer(): string;
  readonly closed: Promise<void>;
}

/** Headers and ten bytes of a 1000-byte body, then nothing more. */
function slowRequest(ca: TestCa, source: string): Promise<SlowRequest> {
  const { port } = new URL(ca.url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`POST /v1/sign/default HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${source}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nuser=deplo`);
      resolve({ socket, answer: () => answer, closed });
    });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface StalledCa {
  readonly ca: TestCa;
  /** Connections the directory has taken: one a credential check in progress. */
  connections(): number;
  stop(): Promise<void>;
}

/**
 * A CA with a second RA, `stalled`, whose LDAP directory accepts connections and never answers: a
 * request to it holds its credential check (a costly one) for as long as the test likes.
 */
async function startCaWithStalledDirectory(limits: Partial<LimitOptions>): Promise<StalledCa> {
  const directory: Server = createServer(() => undefined);
  let connections = 0;
  directory.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', () => resolve()));
  const port = (directory.address() as { port: number }).port;
  const ca = await startTestCa({
    trustedProxies: ['127.0.0.1'],
    limits: { ...TEST_LIMITS, ...limits },
    editConfig: (yaml) =>
      yaml
        .replace('authentication:\n', `authentication:\n  stalled:\n    backend: ldap\n    url: ldap://127.0.0.1:${port}\n    bind_dn_template: "uid={user},dc=test"\n    group_search_base: "dc=test"\n    timeout: 30s\n`)
        .replace('registration_authority:\n', 'registration_authority:\n  stalled:\n    authentication: stalled\n    signing_ca: local\n    valid_hours: 1\n'),
  });
  return {
    ca,
    connections: () => connections,
    async stop() {
      await ca.stop();
      directory.close();
    },
  };
}

describe('slow bodies', () => {
  it('take no signing slot: with more slow-body connections open than the cap, a real request is signed promptly', async () => {
    const ca = await startCa({ maxConcurrentSigning: 4, maxUnauthenticatedPerSource: 8, bodyTimeoutMs: 60_000 });
    const slow: SlowRequest[] = [];
    try {
      // Twelve from one address: eight held (its unauthenticated cap), four refused at once.
      for (let i = 0; i < 12; i++) slow.push(await slowRequest(ca, '10.6.6.6'));
      const refusedNow = () => slow.filter((request) => request.answer().startsWith('HTTP/1.1 429'));
      for (const deadline = Date.now() + 20_000; refusedNow().length < 4 && Date.now() < deadline; ) await pause(100);
      await pause(200);
      const refused = refusedNow();
      expect(refused).toHaveLength(4);
      for (const request of refused) expect(request.answer()).toMatch(/\r\nretry-after: 1\r\n/i);
      const started = Date.now();
      const real = await sign(ca, '10.0.0.7', 'deployer', ca.secret);
      expect(real.status).toBe(200);
      // Generous for a loaded machine, and far below the slow bodies' 60 s that a real request held behind them waits.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      for (const request of slow) request.socket.destroy();
      await ca.stop();
    }
  });

  it('have a deadline of their own: 408, and the connection closed', async () => {
    const ca = await startCa({ bodyTimeoutMs: 1000 });
    try {
      const started = Date.now();
      const request = await slowRequest(ca, '10.6.6.6');
      // The server's overall request timeout (30 s) is beyond this bound, generous for a loaded machine.
      await Promise.race([request.closed, pause(20_000)]);
      expect(request.answer()).toMatch(/^HTTP\/1.1 408 /);
      expect(request.answer()).toMatch(/\r\nconnection: close\r\n/i);
      expect(request.socket.destroyed || request.socket.readableEnded).toBe(true);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await ca.stop();
    }
  });
});

describe('a flood of wrong credentials', () => {
  it('gets fast 429s beyond the caps on credential checks, while a real request from elsewhere is signed and /readyz stays ready', async () => {
    const ca = await startCa({ maxCredentialChecksPerSource: 4, maxCredentialChecks: 16, authFailuresBeforeBackoff: 10, authFailuresPerSourceBeforeBackoff: 100 });
    try {
      // Distinct wrong secrets: each would cost its own scrypt.
      const flood = Array.from({ length: 40 }, (_, i) => {
        const sent = Date.now();
        return sign(ca, '10.6.6.6', 'mallory', `wrong-${i}`).then((response) => ({ status: response.status, retryAfter: response.headers.get('retry-after'), ms: Date.now() - sent }));
      });
      const started = Date.now();
      const real = await sign(ca, '10.0.0.7', 'deployer', ca.secret);
      const realMs = Date.now() - started;
      const ready = await fetch(`${ca.url}/readyz`);
      const answers = await Promise.all(flood);
      expect(real.status).toBe(200);
      expect(realMs).toBeLessThan(10_000);
      expect(ready.status).toBe(200);
      const limited = answers.filter((answer) => answer.status === 429);
      // At most four checks from the address ran at a time (each counted as a failure while it ran).
      expect(answers.filter((answer) => answer.status === 401).length).toBeLessThanOrEqual(11);
      expect(limited.length).toBeGreaterThanOrEqual(29);
      expect(answers.every((answer) => answer.status === 401 || answer.status === 429)).toBe(true);
      for (const answer of limited) {
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(answer.ms).toBeLessThan(10_000);
      }
    } finally {
      await ca.stop();
    }
  });

  it('never turns away a secret already verified: the overall cap holds back only costly checks', async () => {
    const { ca, connections, stop } = await startCaWithStalledDirectory({ maxCredentialChecksPerSource: 2, maxCredentialChecks: 4 });
    const held: Socket[] = [];
    try {
      expect((await sign(ca, '10.0.0.7', 'deployer', ca.secret)).status).toBe(200); // verified, so remembered
      // Every place under the overall cap taken by directory binds that never end, from two addresses.
      for (const source of ['10.6.6.1', '10.6.6.2']) {
        for (let i = 0; i < 2; i++) {
          const socket = connect(Number(new URL(ca.url).port), '127.0.0.1');
          socket.on('error', () => undefined);
          const body = new URLSearchParams({ user: 'mallory', secret: 'x', csr }).toString();
          socket.write(`POST /v1/sign/stalled HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${source}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
          held.push(socket);
        }
      }
      // Each held check binds to the directory: four connections there, the cap is full.
      for (const deadline = Date.now() + 20_000; connections() < 4 && Date.now() < deadline; ) await pause(50);
      expect(connections()).toBe(4);
      expect((await sign(ca, '10.0.0.9', 'mallory', 'costly')).status).toBe(429); // the cap is full
      const real = await sign(ca, '10.0.0.8', 'deployer', ca.secret);
      expect([real.status, real.status === 200 ? '' : await real.text()]).toEqual([200, '']);
    } finally {
      for (const socket of held) socket.destroy();
      await stop();
    }
  });

  it('on GET /v1/audit too', async () => {
    const ca = await startCa({ maxCredentialChecksPerSource: 2, maxCredentialChecks: 16, authFailuresBeforeBackoff: 3 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => fetch(`${ca.url}/v1/audit`, { headers: { Authorization: basicAuth('mallory', `wrong-${i}`), 'X-Forwarded-For': '10.6.6.6' } }).then((r) => r.status)),
      );
      expect(answers.filter((status) => status === 429).length).toBeGreaterThanOrEqual(15);
      expect(answers.every((status) => status === 401 || status === 429)).toBe(true);
    } finally {
      await ca.stop();
    }
  });
});

describe('the authentication back-off', () => {
  it('keys on the claimed identity and the address together, under a higher ceiling for the address', async () => {
    const ca = await startCa({ authFailuresBeforeBackoff: 3, authFailuresPerSourceBeforeBackoff: 8, authBackoffMs: 60_000 });
    const statuses = async (count: number, user: (i: number) => string, source = '10.1.1.1') => {
      const seen = [];
      for (let i = 0; i < count; i++) seen.push((await sign(ca, source, user(i), 'wrong')).status);
      return seen;
    };
    try {
      // Mallory: four failures checked, then backed off.
      expect(await statuses(4, () => 'mallory')).toEqual([401, 401, 401, 401]);
      const locked = await sign(ca, '10.1.1.1', 'mallory', 'wrong');
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(50);
      // The deployer behind the same address is not.
      expect((await sign(ca, '10.1.1.1', 'deployer', ca.secret)).status).toBe(200);
      // Mallory from another address is.
      expect((await sign(ca, '10.2.2.2', 'mallory', 'wrong')).status).toBe(401);
      // New names every time: the address's own ceiling (8, so 9 checked) stops them.
      expect(await statuses(6, (i) => `user-${i}`)).toEqual([401, 401, 401, 401, 401, 429]);
      expect((await sign(ca, '10.1.1.1', 'deployer', ca.secret)).status).toBe(429);
      expect((await sign(ca, '10.3.3.3', 'deployer', ca.secret)).status).toBe(200);
    } finally {
      await ca.stop();
    }
  });
});

describe('a fleet at boot', () => {
  // A freshly started server has verified no secret yet, and a fleet's first requests arrive together.
  // Both ways into POST /v1/sign: the short way (no proxy believed) and Express's (behind a trusted proxy).
  const doors: { door: string; proxies?: string[]; headers: Record<string, string> }[] = [
    { door: 'the short way', headers: {} },
    { door: 'Express, behind a trusted proxy', proxies: ['127.0.0.1'], headers: { 'X-Forwarded-For': '10.0.0.7' } },
  ];
  const startFresh = (proxies: string[] | undefined) => startTestCa({ limits: DEFAULT_LIMITS, ...(proxies ? { trustedProxies: proxies } : {}) });
  const burst = (ca: TestCa, secret: string, headers: Record<string, string>) =>
    Promise.all(Array.from({ length: 16 }, () => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret, csr }, { Accept: 'application/json', ...headers }).then((response) => response.status)));

  it.each(doors)('is signed through $door: 16 concurrent requests with the right secret share one check, under the default limits', async ({ proxies, headers }) => {
    const ca = await startFresh(proxies);
    try {
      expect(await burst(ca, ca.secret, headers)).toEqual(Array(16).fill(200));
    } finally {
      await ca.stop();
    }
  });

  it.each(doors)('with a wrong secret is refused through $door, and the identity backs off as before', async ({ proxies, headers }) => {
    const ca = await startFresh(proxies);
    try {
      const statuses = await burst(ca, 'wrong', headers);
      expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
      const right = await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, csr }, headers);
      expect(right.status).toBe(429);
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(60);
    } finally {
      await ca.stop();
    }
  });
});

describe('adversarial CSR text', () => {
  // Each froze the event loop for seconds with the regular expressions that read PEM and base64.
  it.each([
    ['"A", spaces and "!" (the bare base64 path)', `A${' '.repeat((1 << 20) - 1024)}!`],
    ['"-----BEGIN -----" repeated (the PEM path)', '-----BEGIN -----'.repeat(((1 << 20) - 1024) / 16)],
  ])('a 1 MiB csr field of %s is refused in well under a second', async (_, field) => {
    const ca = await startTestCa({ bodyLimit: 1 << 20 });
    try {
      const send = (csrField: string) =>
        fetch(`${ca.url}/v1/sign/default`, { method: 'POST', body: JSON.stringify({ csr: csrField }), headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: basicAuth('deployer', ca.secret) } });
      // The first request pays the scrypt; the one measured only reads its CSR.
      expect((await send(csr)).status).toBe(200);
      // CPU time, not wall clock (the server runs in this process): a loaded machine stalls, a frozen regex burns CPU.
      const started = process.cpuUsage();
      const refused = await send(field);
      const used = process.cpuUsage(started);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: string }).error).toBe('bad_csr');
      expect((used.user + used.system) / 1000).toBeLessThan(500);
    } finally {
      await ca.stop();
    }
  });
});

describe('pipelined requests on a connection that dies', () => {
  /** POST bodies of Anchor's form to RA paths, back to back on one connection (HTTP/1.1 pipelining). */
  const pipelined = (requests: readonly (readonly [string, string])[]) =>
    requests.map(([ra, body]) => `POST /v1/sign/${ra} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`).join('');
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

  const issuedSoFar = async (ca: TestCa): Promise<number> => {
    const metrics = await (await fetch(`${ca.url}/metrics`)).text();
    return Number(/^mayfly_certificates_issued_total\{ra="default"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  };

  // The first request of each connection goes to the RA whose directory never answers: its answer is
  // held back as long as the test likes, and the requests pipelined behind it are handled, and wait
  // their turn to be answered, until the test kills the connection.
  let stalled: StalledCa;
  let ca: TestCa;
  beforeAll(async () => {
    stalled = await startCaWithStalledDirectory({ maxConcurrentSigning: 3, maxUnauthenticatedPerSource: 6 });
    ca = stalled.ca;
  });
  afterAll(() => stalled?.stop());

  /** Pipelines a stalled request and `behind` after it; kills the connection once `signed` more were issued, or after a moment. */
  async function pipelineThenDrop(behind: readonly string[], signed: number): Promise<void> {
    const before = await issuedSoFar(ca);
    const socket = connect(Number(new URL(ca.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(pipelined([['stalled', form({ user: 'anyone', secret: 'x', csr })], ...behind.map((body) => ['default', body] as const)]));
    await pause(100);
    for (let waited = 0; waited < 10_000 && (await issuedSoFar(ca)) < before + signed; waited += 20) await pause(20);
    socket.destroy();
    await pause(100);
  }

  it('give back their signing slots and places: after many such connections, a real request is still signed', async () => {
    const right = form({ user: 'deployer', secret: ca.secret, csr });
    expect((await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, csr })).status).toBe(200); // the secret is remembered
    // Signed requests behind the stalled one: each holds a signing slot (3 in all) until it is answered.
    for (let round = 0; round < 3; round++) await pipelineThenDrop([right, right], 2);
    // Bodies refused before authentication (no csr): each holds one of the address's 6 places.
    for (let round = 0; round < 3; round++) await pipelineThenDrop(['user=', 'user=', 'user='], 0);
    const answer = await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, csr }, { Accept: 'application/json' });
    expect([answer.status, answer.status === 200 ? '' : await answer.text()]).toEqual([200, '']);
  }, 90_000);
});
