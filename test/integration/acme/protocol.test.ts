import { createServer, type Server } from 'node:http';
import { httpsRequest } from '../../helpers/mayfly';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { makeCsr, openssl } from '../../helpers/openssl';
import { accountKey, jws, TestAcmeClient, type Answer } from '../../helpers/acme_client';
import { ledgerEvents, opensslVerify, serialOf, startAcmeCa, type AcmeTestCa } from './support';

// The protocol's refusals, driven by a minimal client that can send what real clients never do.
jest.setTimeout(120_000);

let acme: AcmeTestCa;
/** The http-01 answers the test's web server gives, by token; and every connection it saw. */
const answers = new Map<string, string>();
let connections = 0;
let web: Server;

beforeAll(async () => {
  acme = await startAcmeCa({ addresses: { 'metadata.mayfly.test': ['169.254.169.254'], 'linklocal.mayfly.test': ['fe80::1'], 'mixed.mayfly.test': ['127.0.0.1', '169.254.10.10'] } });
  web = createServer((request, response) => {
    const token = (request.url ?? '').split('/').pop() ?? '';
    response.writeHead(answers.has(token) ? 200 : 404).end(answers.get(token) ?? '');
  });
  web.on('connection', () => connections++);
  await new Promise<void>((resolve) => web.listen(acme.httpPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => (web ? web.close(() => resolve()) : resolve()));
  await acme?.stop();
});

const rootPem = () => readFileSync(acme.ca.rootFile, 'utf8');

const problemOf = (answer: Answer) => {
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  return answer.json as { type: string; detail: string; status: number; subproblems?: { type: string; detail: string; identifier: { type: string; value: string } }[] };
};

async function client(ra = 'default', alg: Parameters<typeof accountKey>[0] = 'ES256'): Promise<TestAcmeClient> {
  const c = await new TestAcmeClient(acme.directory(ra), rootPem(), accountKey(alg)).start();
  expect((await c.register()).status).toBe(201);
  return c;
}

/** An order whose http-01 challenges the test's web server answers. */
const authorizedOrder = (c: TestAcmeClient, identifiers: { type: string; value: string }[]) => c.authorizedOrder(identifiers, (token, keyAuthorization) => answers.set(token, keyAuthorization));

test('an identifier outside the policy is a rejectedIdentifier problem naming the validator, and recorded', async () => {
  const c = await client();
  const answer = await c.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: 'ok.mayfly.test' }, { type: 'dns', value: 'www.example.com' }] });
  expect(answer.status).toBe(400);
  const problem = problemOf(answer);
  expect(problem.type).toBe('urn:ietf:params:acme:error:rejectedIdentifier');
  expect(problem.detail).toContain('alternative_names');
  expect(problem.subproblems).toEqual([expect.objectContaining({ type: 'urn:ietf:params:acme:error:rejectedIdentifier', identifier: { type: 'dns', value: 'www.example.com' }, detail: expect.stringContaining('alternative_names') })]);
  const refused = (await ledgerEvents(acme)).find((event) => event.acme?.action === 'new-order' && event.outcome === 'refused');
  expect(refused).toMatchObject({ protocol: 'acme', dns_names: ['ok.mayfly.test', 'www.example.com'], acme: { account: expect.any(String) } });
  expect(refused!.verdicts!.map((verdict) => verdict.validator)).toContain('alternative_names');
});

test('a CSR at finalize with a name the order did not authorize is refused, and nothing is issued', async () => {
  const c = await client();
  const order = await authorizedOrder(c, [{ type: 'dns', value: 'one.mayfly.test' }]);
  expect(order.json.status).toBe('ready');
  const csr = makeCsr({ subject: '/CN=one.mayfly.test', extensions: ['subjectAltName=DNS:one.mayfly.test,DNS:other.mayfly.test'] });
  const answer = await c.post(order.json.finalize, { csr: csr.der.toString('base64url') });
  expect(answer.status).toBe(400);
  const problem = problemOf(answer);
  expect(problem.type).toBe('urn:ietf:params:acme:error:badCSR');
  expect(problem.detail).toContain("authorized_identifiers: 'other.mayfly.test' was not authorized in this order");
  expect((await c.post(order.url, '')).json).toMatchObject({ status: 'invalid', error: { type: 'urn:ietf:params:acme:error:badCSR' } });
  const events = await ledgerEvents(acme);
  expect(events.find((event) => event.event === 'sign' && event.protocol === 'acme' && event.dns_names?.includes('other.mayfly.test'))).toMatchObject({ outcome: 'refused' });
  expect(events.find((event) => event.acme?.action === 'finalize' && event.outcome === 'refused')).toBeDefined();
});

test('a finalized order downloads a chain that verifies; ARI suggests a window around two thirds; replaces is tracked', async () => {
  const c = await client('default', 'EdDSA');
  const order = await authorizedOrder(c, [{ type: 'dns', value: 'ari.mayfly.test' }]);
  const csr = makeCsr({ subject: '/CN=ari.mayfly.test', extensions: ['subjectAltName=DNS:ari.mayfly.test'] });
  const finalized = await c.post(order.json.finalize, { csr: csr.der.toString('base64url') });
  expect(finalized.json.status).toBe('valid');
  const download = await c.post(finalized.json.certificate, '');
  expect(download.headers['content-type']).toBe('application/pem-certificate-chain');
  expect(opensslVerify(acme, download.body)).toContain(': OK');
  const serial = serialOf(download.body);
  const leaf = new X509Certificate(download.body.split(/(?<=-----END CERTIFICATE-----\n)/)[0]);
  const certId = certIdOf(download.body, serial);
  const info = await httpsRequest(`${c.directory.renewalInfo}/${certId}`, { ca: c.ca });
  expect(info.status).toBe(200);
  const window = JSON.parse(info.body).suggestedWindow as { start: string; end: string };
  const [notBefore, notAfter] = [new Date(leaf.validFrom).getTime(), new Date(leaf.validTo).getTime()];
  const twoThirds = notBefore + ((notAfter - notBefore) * 2) / 3;
  expect(new Date(window.start).getTime()).toBeLessThan(twoThirds);
  expect(new Date(window.end).getTime()).toBeGreaterThan(twoThirds);
  expect(new Date(window.end).getTime()).toBeLessThan(notAfter);

  const renewal = await c.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: 'ari.mayfly.test' }], replaces: certId });
  expect(renewal.status).toBe(201);
  expect(renewal.json.replaces).toBe(certId);
  const stranger = await client();
  expect(problemOf(await stranger.post(stranger.directory.newOrder, { identifiers: [{ type: 'dns', value: 'ari.mayfly.test' }], replaces: certId })).type).toBe('urn:ietf:params:acme:error:malformed');
});

/** RFC 9773 certID from the certificate's authorityKeyIdentifier and serial, computed with openssl. */
function certIdOf(pem: string, serial: string): string {
  const text = openssl(['x509', '-noout', '-ext', 'authorityKeyIdentifier'], pem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]).toString();
  const keyId = /([0-9A-F]{2}(:[0-9A-F]{2})+)/.exec(text)![1].replace(/:/g, '');
  return `${Buffer.from(keyId, 'hex').toString('base64url')}.${Buffer.from(serial.length % 2 ? `0${serial}` : serial, 'hex').toString('base64url')}`;
}

test('a replayed nonce is badNonce; a JWS whose url is not the request URL is refused', async () => {
  const c = await client();
  const nonce = await c.freshNonce();
  const first = await c.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: 'replay.mayfly.test' }] }, { nonce });
  expect(first.status).toBe(201);
  const replayed = await c.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: 'replay.mayfly.test' }] }, { nonce });
  expect(replayed.status).toBe(400);
  expect(problemOf(replayed).type).toBe('urn:ietf:params:acme:error:badNonce');
  expect(replayed.headers['replay-nonce']).toBeTruthy();

  const wrongUrl = await c.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: 'replay.mayfly.test' }] }, { url: c.directory.newAccount });
  expect(wrongUrl.status).toBe(403);
  expect(problemOf(wrongUrl).type).toBe('urn:ietf:params:acme:error:unauthorized');

  const noneAlg = await c.send(c.directory.newOrder, JSON.stringify({ protected: Buffer.from(JSON.stringify({ alg: 'none', nonce: await c.freshNonce(), url: c.directory.newOrder, kid: c.kid })).toString('base64url'), payload: '', signature: '' }));
  expect(problemOf(noneAlg).type).toBe('urn:ietf:params:acme:error:badSignatureAlgorithm');

  // A signature by another key under this account's kid.
  const impostor = new TestAcmeClient(acme.directory(), rootPem(), accountKey());
  await impostor.start();
  impostor.kid = c.kid;
  expect(problemOf(await impostor.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: 'x.mayfly.test' }] })).type).toBe('urn:ietf:params:acme:error:malformed');
});

/** Orders `name`, asks for http-01 (answered by the test's web server) and waits for the authorization to fail. */
async function failedHttp01(c: TestAcmeClient, name: string): Promise<{ error: { type: string; detail: string }; connected: number }> {
  const order = await c.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: name }] });
  expect(order.json).toMatchObject({ status: 'pending' });
  const authorization = await c.post(order.json.authorizations[0], '');
  const challenge = authorization.json.challenges.find((candidate: { type: string }) => candidate.type === 'http-01');
  answers.set(challenge.token, c.keyAuthorization(challenge.token));
  const before = connections;
  await c.post(challenge.url, {});
  const settled = await c.poll(order.json.authorizations[0]);
  expect(settled.json.status).toBe('invalid');
  return { error: settled.json.challenges.find((candidate: { type: string }) => candidate.type === 'http-01').error, connected: connections - before };
}

test('validation never connects to link-local, metadata or (by default) loopback addresses', async () => {
  const c = await client();
  // An IP identifier in a forbidden range is refused at newOrder.
  const metadataIp = await c.post(c.directory.newOrder, { identifiers: [{ type: 'ip', value: '169.254.169.254' }] });
  expect(problemOf(metadataIp)).toMatchObject({ type: 'urn:ietf:params:acme:error:rejectedIdentifier', subproblems: [expect.objectContaining({ identifier: { type: 'ip', value: '169.254.169.254' } })] });

  // Names that resolve into forbidden ranges fail validation without a connection.
  for (const name of ['metadata.mayfly.test', 'linklocal.mayfly.test', 'mixed.mayfly.test']) {
    const { error, connected } = await failedHttp01(c, name);
    expect(error).toMatchObject({ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: expect.stringContaining('not connected') });
    expect(connected).toBe(0);
  }

  // The strict RA keeps production defaults: loopback is denied too, even with a web server ready there.
  const strict = await client('strict');
  const { error, connected } = await failedHttp01(strict, 'loop.mayfly.test');
  expect(error.detail).toContain('loopback');
  expect(connected).toBe(0);
  expect(problemOf(await strict.post(strict.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] }))).toMatchObject({ type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: expect.stringContaining('127.0.0.1') });
  expect(problemOf(await strict.post(strict.directory.newOrder, { identifiers: [{ type: 'ip', value: '127.0.0.1' }] })).subproblems![0].detail).toContain('loopback');
  const challengeRecords = (await ledgerEvents(acme)).filter((event) => event.acme?.action === 'challenge' && event.outcome === 'refused');
  expect(challengeRecords.length).toBeGreaterThanOrEqual(4);
});

test('accounts: every JWS algorithm, onlyReturnExisting, contact update, keyChange, deactivation', async () => {
  for (const alg of ['ES256', 'ES384', 'RS256', 'EdDSA'] as const) await client('default', alg);
  const c = await client();
  const lookup = new TestAcmeClient(acme.directory(), rootPem(), c.key);
  await lookup.start();
  const found = await lookup.post(lookup.directory.newAccount, { onlyReturnExisting: true });
  expect(found.status).toBe(200);
  expect(found.headers.location).toBe(c.kid);
  const unknown = await new TestAcmeClient(acme.directory(), rootPem()).start();
  expect(problemOf(await unknown.post(unknown.directory.newAccount, { onlyReturnExisting: true })).type).toBe('urn:ietf:params:acme:error:accountDoesNotExist');

  expect((await c.post(c.kid!, { contact: ['mailto:ops@mayfly.test'] })).json.contact).toEqual(['mailto:ops@mayfly.test']);
  expect(problemOf(await c.post(c.kid!, { contact: ['tel:+1555'] })).type).toBe('urn:ietf:params:acme:error:unsupportedContact');

  // keyChange: the inner JWS by the new key, without a nonce, naming the account and the old key.
  const newKey = accountKey('ES256');
  const inner = JSON.parse(jws(newKey, { jwk: newKey.jwk, url: c.directory.keyChange }, { account: c.kid, oldKey: c.key.jwk }));
  expect((await c.post(c.directory.keyChange, inner)).status).toBe(200);
  expect(problemOf(await c.post(c.kid!, '')).detail).toContain('signature does not verify'); // the old key no longer speaks for the account
  c.key = newKey;
  expect((await c.post(c.kid!, '')).json.status).toBe('valid');

  expect((await c.post(c.kid!, { status: 'deactivated' })).json.status).toBe('deactivated');
  expect(problemOf(await c.post(c.directory.newOrder, { identifiers: [{ type: 'dns', value: 'gone.mayfly.test' }] })).type).toBe('urn:ietf:params:acme:error:unauthorized');
  const actions = (await ledgerEvents(acme)).map((event) => event.acme?.action);
  expect(actions).toEqual(expect.arrayContaining(['new-account', 'account-update', 'key-change', 'account-deactivated']));
});

test('a revocation refused (another account, or a certificate already revoked) is recorded, naming who asked', async () => {
  const holder = await client();
  const order = await authorizedOrder(holder, [{ type: 'dns', value: 'revoke-refused.mayfly.test' }]);
  const finalized = await holder.post(order.json.finalize, { csr: makeCsr({ subject: '/CN=revoke-refused.mayfly.test', extensions: ['subjectAltName=DNS:revoke-refused.mayfly.test'] }).der.toString('base64url') });
  const pem = (await holder.post(finalized.json.certificate, '')).body.split(/(?<=-----END CERTIFICATE-----\n)/)[0];
  const certificate = new X509Certificate(pem).raw.toString('base64url');
  const stranger = await client();
  const refused = await stranger.post(stranger.directory.revokeCert, { certificate });
  expect(problemOf(refused).type).toBe('urn:ietf:params:acme:error:unauthorized');
  expect((await holder.post(holder.directory.revokeCert, { certificate })).status).toBe(200);
  expect(problemOf(await holder.post(holder.directory.revokeCert, { certificate })).type).toBe('urn:ietf:params:acme:error:alreadyRevoked');
  const revocations = (await ledgerEvents(acme)).filter((event) => event.acme?.action === 'revoke' && event.acme?.serial === serialOf(pem));
  expect(revocations.map((event) => event.outcome)).toEqual(['refused', 'accepted', 'refused']);
  expect(revocations[0].reason).toContain('only the account that holds the certificate');
});

test('finalize right after the last authorization turned valid, before its order was settled, issues (no orderNotReady)', async () => {
  const c = await client();
  const order = await authorizedOrder(c, [{ type: 'dns', value: 'settling.mayfly.test' }]);
  expect(order.json.status).toBe('ready');
  // The moment a client can see: every authorization valid, the order not settled yet (lego met it as
  // orderNotReady on a loaded machine). Put the order back there in the ACME store.
  const db = new Database(join(dirname(acme.ca.auditDatabase), 'acme.db'));
  try {
    const id = order.url.split('/').pop()!;
    const row = db.prepare("SELECT body FROM acme_objects WHERE kind = 'order' AND id = ?").get(id) as { body: string };
    db.prepare("UPDATE acme_objects SET body = ? WHERE kind = 'order' AND id = ?").run(JSON.stringify({ ...JSON.parse(row.body), status: 'pending' }), id);
  } finally {
    db.close();
  }
  expect((await c.post(order.url, '')).json.status).toBe('pending');
  const csr = makeCsr({ subject: '/CN=settling.mayfly.test', extensions: ['subjectAltName=DNS:settling.mayfly.test'] });
  const finalized = await c.post(order.json.finalize, { csr: csr.der.toString('base64url') });
  expect(finalized.status).toBe(200);
  expect(finalized.json.status).toBe('valid');
});
