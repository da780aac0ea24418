// The console over HTTP, without a browser: sessions, CSRF, the CSP, escaping, back-off.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { createToken } from '../../../src/auth/token';
import { httpsRequest, postForm, startTestCa, type TestCa } from '../../helpers/mayfly';
import { runCli } from '../../helpers/cli';
import { makeCsr } from '../../helpers/openssl';
import { HOSTILE_CN, sealedProof, signIn, startConsoleCa, VIEWER_SECRET, type ConsoleCa } from './support';

describe('the audit console over HTTP', () => {
  let fixture: ConsoleCa;
  let cookie: string;
  beforeAll(async () => {
    fixture = await startConsoleCa();
    const signedIn = await signIn(fixture.ca, 'deployer', fixture.ca.secret);
    cookie = signedIn.cookie!;
  }, 60_000);
  afterAll(() => fixture?.ca.stop());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${fixture.ca.url}${path}`, { headers: { Cookie: cookie, ...headers }, redirect: 'manual' });
  const post = (path: string, fields: Record<string, string>, headers: Record<string, string>) =>
    fetch(`${fixture.ca.url}${path}`, { method: 'POST', body: new URLSearchParams(fields), headers, redirect: 'manual' });

  it('sends a request without a session to the sign-in page, remembering where it was going', async () => {
    const response = await fetch(`${fixture.ca.url}/ui/search?name=x`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/ui/login?next=%2Fui%2Fsearch%3Fname%3Dx');
    const forged = await fetch(`${fixture.ca.url}/ui/`, { headers: { Cookie: 'mayfly_console=not-a-session' }, redirect: 'manual' });
    expect(forged.status).toBe(303);
  });

  it('signs an audit admin in with an opaque, HttpOnly, SameSite=Strict cookie scoped to /ui/', async () => {
    const { response } = await signIn(fixture.ca, 'deployer', fixture.ca.secret);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/ui/search');
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^mayfly_console=[A-Za-z0-9_-]{43}; Path=\/ui\/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain('deployer');
    expect((await get('/ui/search')).status).toBe(200);
  });

  it("answers the record page's proof request with the ledger's own proof, as GET /v1/audit/proof does", async () => {
    const answer = await sealedProof(fixture.ca, fixture.issuedSerial);
    expect(answer.status).toBe(200);
    const pasted = fixture.issuedSerial.toUpperCase().match(/../g)!.join(':');
    const page = await get(`/ui/proof/${encodeURIComponent(pasted)}`, { Accept: 'application/json' });
    expect(page.status).toBe(200);
    expect(await page.json()).toEqual(await answer.json());
    expect((await get('/ui/proof/7f00ff', { Accept: 'application/json' })).status).toBe(404);
    const bad = await get('/ui/proof/not-a-serial', { Accept: 'application/json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('bad_serial');
  });

  it('refuses a wrong secret with the form again, and no cookie', async () => {
    const { response, cookie: none } = await signIn(fixture.ca, 'deployer', 'wrong');
    expect(response.status).toBe(401);
    expect(none).toBeUndefined();
    expect(await response.text()).toContain('Sign-in failed.');
  });

  it('gives an authenticated requester outside every audit admin group a 403, and no session', async () => {
    const { response, cookie: none } = await signIn(fixture.ca, 'viewer', VIEWER_SECRET);
    expect(response.status).toBe(403);
    expect(none).toBeUndefined();
    expect(await response.text()).toContain('audit admin group');
  });

  it('serves every page under a strict Content-Security-Policy, no inline script or style', async () => {
    for (const path of ['/ui/login', '/ui/', '/ui/search', '/ui/dry-run', '/ui/nothing-here']) {
      const response = await get(path);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe|\*|https?:|data:/);
      const body = await response.text();
      expect(body).not.toMatch(/<script(?![^>]*\ssrc="\/ui\/assets\/)/);
      expect(body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    }
    // The API keeps its own, stricter policy.
    for (const path of ['/v1/ca/default', '/v1/sign/default', '/no-such-path']) expect((await get(path)).headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
  });

  it('serves uPlot and its own scripts from /ui/assets/, and nothing else from there', async () => {
    const uplot = await get('/ui/assets/uPlot.iife.min.js');
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get('content-type')).toContain('text/javascript');
    expect(await uplot.text()).toContain('uPlot');
    expect((await get('/ui/assets/uPlot.min.css')).status).toBe(200);
    expect((await get('/ui/assets/proof.js')).status).toBe(200);
    expect((await get('/ui/assets/..%2F..%2Fpackage.json')).status).toBe(404);
    expect((await get('/ui/assets/constructor')).status).toBe(404);
  });

  it('escapes a hostile CN from a refused CSR in search results and in the record', async () => {
    const response = await get(`/ui/search?outcome=refused`);
    const body = await response.text();
    expect(response.status).toBe(200);
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).not.toContain(HOSTILE_CN);
    const link = /href="(\/ui\/record\/[^"]+)"/g;
    const links = [...body.matchAll(link)].map((match) => match[1]);
    expect(links.length).toBeGreaterThan(0);
    for (const path of links) {
      const record = await (await get(path)).text();
      expect(record).not.toContain(HOSTILE_CN);
    }
  });

  it('searches by requester, source CIDR and relative time, and keeps a mistyped filter in the form with its reason', async () => {
    const rows = async (query: string) => ((await (await get(`/ui/search?${query}`)).text()).match(/<tr>\n<td><a href="\/ui\/record\//g) ?? []).length;
    expect(await rows('user=deployer&source=127.0.0.0%2F8&since=24h')).toBe(3);
    expect(await rows('user=nobody')).toBe(0);
    expect(await rows('source=10.0.0.0%2F8')).toBe(0);
    expect(await rows('until=yesterday')).toBe(0);
    expect(await rows('since=yesterday')).toBe(3);
    const mistyped = await get('/ui/search?since=06%2F12%2F2026&name=%3Cb%3E');
    expect(mistyped.status).toBe(400);
    const body = await mistyped.text();
    expect(body).toMatch(/<p class="error" role="alert" id="search-error">since: [^<]+<\/p>/);
    expect(body).toContain('value="06/12/2026"');
    expect(body).toContain('value="&lt;b&gt;"');
  });

  it('refuses a cross-origin POST, and a POST with no Origin, even with a valid session', async () => {
    const csr = makeCsr().pem;
    const before = await (await get('/ui/search?go=1')).text();
    const attempts: Record<string, string>[] = [{ Cookie: cookie, Origin: 'https://evil.example' }, { Cookie: cookie }, { Cookie: cookie, Origin: 'null' }];
    for (const headers of attempts) {
      const response = await post('/ui/dry-run', { ra: 'default', csr }, headers);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('only be sent from the console');
    }
    const login = await post('/ui/login', { user: 'deployer', secret: fixture.ca.secret }, { Origin: 'https://evil.example' });
    expect(login.status).toBe(403);
    expect(login.headers.get('set-cookie')).toBeNull();
    expect(await (await get('/ui/search?go=1')).text()).toBe(before);
  });

  it('runs a dry run as `policy test` does, recording nothing', async () => {
    const reader = await fixture.ca.openAuditReader();
    const before = (await reader.query({})).length;
    const refused = await post('/ui/dry-run', { ra: 'default', csr: makeCsr({ subject: '/CN=evil.example.com', extensions: [] }).pem, user: 'deployer', groups: '', source: '127.0.0.1' }, { Cookie: cookie, Origin: fixture.ca.url });
    expect(refused.status).toBe(200);
    const page = await refused.text();
    expect(page).toContain('data-result="refused"');
    expect(page).toMatch(/<td>common_name<\/td><td class="refuse">refused<\/td><td><ul><li>[^<]*evil\.example\.com/);
    const passed = await post('/ui/dry-run', { ra: 'default', csr: makeCsr().pem, user: 'deployer', groups: '', source: '127.0.0.1' }, { Cookie: cookie, Origin: fixture.ca.url });
    expect(await passed.text()).toContain('data-result="pass"');
    const garbage = await post('/ui/dry-run', { ra: 'default', csr: '<b>not a csr</b>' }, { Cookie: cookie, Origin: fixture.ca.url });
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toContain('&lt;b&gt;not a csr&lt;/b&gt;');
    expect((await reader.query({})).length).toBe(before);
    await reader.close();
  });

  it('exports the matches as CSV and JSON lines', async () => {
    const csv = await get('/ui/search?outcome=issued&format=csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="mayfly-audit.csv"');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toMatch(/^chain,seq,time,/);
    expect(lines.slice(1).join('\n')).toContain(fixture.issuedSerial);
    const jsonl = (await (await get('/ui/search?format=jsonl')).text()).trim().split('\n');
    expect(jsonl.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(jsonl[0]).event.v).toBe(1);
  });

  it('pages through results with a next link', async () => {
    // 50 to a page; more records than that, then follow the link.
    const sign = (i: number) => postForm(`${fixture.ca.url}/v1/sign/default`, { user: 'deployer', secret: fixture.ca.secret, encoding: 'pem', csr: 'garbage' + i });
    for (let i = 0; i < 50; i++) await sign(i);
    const first = await (await get('/ui/search?go=1')).text();
    const next = /<a rel="next" href="([^"]+)"/.exec(first);
    expect(next).not.toBeNull();
    const second = await get(next![1].replace(/&amp;/g, '&'));
    expect(second.status).toBe(200);
    expect(await second.text()).toContain('records');
  });

  it('ends the session on sign-out', async () => {
    const { cookie: own } = await signIn(fixture.ca, 'deployer', fixture.ca.secret);
    const out = await post('/ui/logout', {}, { Cookie: own!, Origin: fixture.ca.url });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    const after = await fetch(`${fixture.ca.url}/ui/`, { headers: { Cookie: own! }, redirect: 'manual' });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/^\/ui\/login/);
  });

  it('shows the last `mayfly audit verify` on this host: none yet, then what it found', async () => {
    expect(await (await get('/ui/')).text()).toContain('Last full check: none recorded on this host');
    const verify = runCli(['audit', 'verify', '--config', fixture.ca.configFile], { env: fixture.ca.cliEnv });
    expect(verify.status).toBe(0);
    const recorded = join(dirname(fixture.ca.configFile), 'audit-verify.json');
    expect(statSync(recorded).mode & 0o777).toBe(0o600);
    expect(await (await get('/ui/')).text()).toMatch(/Last full check \(<code>mayfly audit verify<\/code>, \d{4}-\d\d-\d\dT[^)]+\): <strong>OK<\/strong>, \d+ chain\(s\); \d+ record\(s\) not yet under a checkpoint then\./);
    // What a run that found tampering records, shown as found (escaped like everything the page shows).
    writeFileSync(recorded, JSON.stringify({ time: '2026-12-06T07:00:00.000Z', ok: false, problem: 'record 5 edited: <b>its contents</b> no longer match its hash', chains: 1, unsealed: 0, witnessed: true }), { mode: 0o600 });
    expect(await (await get('/ui/')).text()).toContain(
      'Last full check (<code>mayfly audit verify</code>, 2026-12-06T07:00:00.000Z): <strong>TAMPERED</strong>, 1 chain(s), against an exported checkpoint: record 5 edited: &lt;b&gt;its contents&lt;/b&gt; no longer match its hash',
    );
  });
});

describe('console sign-in under the API back-off', () => {
  let fixture: ConsoleCa;
  beforeAll(async () => {
    fixture = await startConsoleCa({ limits: { authFailuresBeforeBackoff: 3, authBackoffMs: 60_000, maxUnauthenticatedPerSource: 1 } });
  }, 60_000);
  afterAll(() => fixture?.ca.stop());

  it('makes a user wait after repeated failures, even with the right secret then', async () => {
    for (let i = 0; i < 4; i++) expect((await signIn(fixture.ca, 'deployer', `guess-${i}`)).response.status).toBe(401);
    const { response, cookie } = await signIn(fixture.ca, 'deployer', fixture.ca.secret);
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(cookie).toBeUndefined();
  });

  it('holds one of the address\'s unauthenticated places while a sign-in form is still arriving', async () => {
    const url = new URL(fixture.ca.url);
    // A form whose body never finishes; reopened if a fast request took the one place before it (it is then refused).
    const openSlow = () => {
      const slow = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/ui/login', headers: { Origin: fixture.ca.url, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '100' } });
      const state = { slow, answered: false };
      slow.on('error', () => undefined);
      slow.on('response', () => (state.answered = true));
      slow.write('user=deployer&secret=');
      return state;
    };
    let pending = openSlow();
    try {
      let refused: Response | undefined;
      // Each try claims another user, so no identity's back-off answers instead.
      for (let i = 0; i < 30 && refused?.status !== 429; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (pending.answered) pending = openSlow();
        else refused = (await signIn(fixture.ca, `someone-${i}`, 'x')).response;
      }
      expect(refused!.status).toBe(429);
      expect(await refused!.text()).toContain('waiting to be authenticated');
    } finally {
      pending.slow.destroy();
    }
  });
});

describe('console sign-in with a token, and with a client certificate (HTTPS)', () => {
  let ca: TestCa;
  let token: string;
  beforeAll(async () => {
    ca = await startTestCa({
      tls: true,
      audit: true,
      editConfig: (yaml, dir) => {
        writeFileSync(join(dir, 'tokens.yaml'), 'tokens: []\n', { mode: 0o600 });
        return yaml.replace('authentication:\n', 'authentication:\n  tokens:\n    backend: token\n    tokens_file: tokens.yaml\n    audit_admin_groups: [auditors]\n  machines:\n    backend: mtls\n    groups:\n      auditor.mayfly.test: [auditors]\n    audit_admin_groups: [auditors]\n');
      },
    });
    ({ token } = await createToken(join(ca.dir, 'tokens.yaml'), { name: 'auditor-token', groups: ['auditors'] }));
  }, 60_000);
  afterAll(() => ca?.stop());

  const root = () => readFileSync(ca.rootFile, 'utf8');

  it('signs a token holder in, with a Secure cookie over HTTPS', async () => {
    const tokenSignIn = () => httpsRequest(`${ca.url}/ui/login`, { ca: root(), method: 'POST', headers: { Origin: ca.url, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
    let answer = await tokenSignIn();
    // The tokens file is watched: the token may take a moment to be seen.
    for (let i = 0; answer.status === 401 && i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await tokenSignIn();
    }
    expect(answer.status).toBe(303);
    const setCookie = String(answer.headers['set-cookie']);
    expect(setCookie).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    const overview = await httpsRequest(`${ca.url}/ui/`, { ca: root(), headers: { Cookie: setCookie.split(';')[0] } });
    expect(overview.status).toBe(200);
    expect(overview.body).toContain('Signed in as auditor-token');
  });

  /** A client certificate Mayfly issues for `cn`, with its key. */
  async function clientCertificate(cn: string): Promise<{ cert: string; key: string }> {
    const csr = makeCsr({ subject: `/CN=${cn}`, extensions: [`subjectAltName=DNS:${cn}`] });
    const issued = await httpsRequest(`${ca.url}/v1/sign/default`, {
      ca: root(),
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user: 'deployer', secret: ca.secret, encoding: 'pem', csr: csr.pem }).toString(),
    });
    expect(issued.status).toBe(200);
    return { cert: issued.body, key: csr.keyPem };
  }

  it('judges a browser by its client certificate: an mtls requester the backend gives no group is not an audit admin', async () => {
    const withCertificate = await httpsRequest(`${ca.url}/ui/`, { ca: root(), ...(await clientCertificate('robot.mayfly.test')) });
    expect(withCertificate.status).toBe(403);
    expect(withCertificate.body).toContain('audit admin group');
    expect(withCertificate.headers['set-cookie']).toBeUndefined();
    const without = await httpsRequest(`${ca.url}/ui/`, { ca: root() });
    expect(without.status).toBe(303);
  });

  it("signs in a client certificate whose name the mtls backend's groups put in an audit admin group", async () => {
    const overview = await httpsRequest(`${ca.url}/ui/`, { ca: root(), ...(await clientCertificate('auditor.mayfly.test')) });
    expect(overview.status).toBe(200);
    expect(overview.body).toContain('Signed in as auditor.mayfly.test');
  });
});
