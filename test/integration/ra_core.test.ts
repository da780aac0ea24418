// One issuance core (src/ra) behind every door: the real `mayfly serve` records its own HTTPS server
// certificate in the ledger like any other, and each API door's decisions name the door they came by.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type PeerCertificate } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/record';
import { SqliteAuditStore } from '../../src/audit/sqlite_store';
import { serveCli, type ServingCli } from '../helpers/cli';
import { postForm, startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr } from '../helpers/openssl';
import { generateKey, makeCsrWithKey } from '../unit/support/csr';
import { basicAuth } from './support';

async function events(database: string): Promise<AuditEvent[]> {
  const store = new SqliteAuditStore(database, { readonly: true });
  try {
    return (await store.query({})).map((record) => JSON.parse(record.body) as AuditEvent);
  } finally {
    await store.close();
  }
}

/** The certificate the server presents in a TLS handshake (not checked: the ledger is what is checked). */
function presentedCertificate(url: string): Promise<Buffer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const certificate: PeerCertificate = socket.getPeerCertificate();
      socket.end();
      resolve(certificate.raw);
    });
    socket.once('error', reject);
  });
}

describe('the server certificate goes through the RA core', () => {
  let work: string;
  let serving: ServingCli | undefined;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'mayfly-ra-core-'));
  });
  afterAll(async () => {
    await serving?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('records the HTTPS certificate `mayfly serve` issues itself, byte for byte', async () => {
    serving = await serveCli(['--listen', '127.0.0.1:0'], { env: { MAYFLY_HOME: join(work, 'data') }, cwd: work });
    const url = (await serving.waitFor(/Mayfly listening on (https:\/\/127\.0\.0\.1:\d+) /))[1];
    const presented = await presentedCertificate(url);
    const own = (await events(join(work, 'data', 'audit.db'))).filter((event) => event.protocol === 'server-certificate');
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ event: 'sign', ra: '(server)', outcome: 'issued', requester: { user: 'mayfly', authentication: '(server certificate)' } });
    expect(own[0].dns_names).toContain('localhost');
    expect(own[0].ip_addresses).toEqual(expect.arrayContaining(['127.0.0.1', '::1']));
    expect(Buffer.from(own[0].certificate!.der, 'base64').equals(presented)).toBe(true);
  });
});

describe('each door records its protocol', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ audit: true });
  });
  afterAll(() => ca.stop());

  it('names the Anchor form, JSON and PKCS#10 doors, for issued, refused and unauthenticated requests', async () => {
    const csr = makeCsr({ subject: '/CN=door.mayfly.test', extensions: ['subjectAltName=DNS:door.mayfly.test'] });
    const sign = `${ca.url}/v1/sign/default`;
    expect((await postForm(sign, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: csr.pem })).status).toBe(200);
    const json = await fetch(sign, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: basicAuth('deployer', ca.secret) }, body: JSON.stringify({ csr: csr.pem }) });
    expect(json.status).toBe(200);
    const pkcs10 = await fetch(sign, { method: 'POST', headers: { 'Content-Type': 'application/pkcs10', Authorization: basicAuth('deployer', ca.secret) }, body: new Uint8Array(csr.der) });
    expect(pkcs10.status).toBe(200);
    const refused = makeCsr({ subject: '/CN=evil.example.com', extensions: ['subjectAltName=DNS:evil.example.com'] });
    expect((await fetch(sign, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: basicAuth('deployer', ca.secret) }, body: JSON.stringify({ csr: refused.pem }) })).status).toBe(403);
    expect((await postForm(sign, { user: 'deployer', secret: 'wrong', csr: csr.pem })).status).toBe(401);

    const recorded = (await events(ca.auditDatabase)).map((event) => [event.event, event.outcome, event.protocol]);
    expect(recorded).toEqual([
      ['sign', 'issued', 'anchor-form'],
      ['sign', 'issued', 'json'],
      ['sign', 'issued', 'pkcs10'],
      ['sign', 'refused', 'json'],
      ['auth', 'refused', 'anchor-form'],
    ]);
  });

  it('records the subject as issued, and what the CSR asked for beside it', async () => {
    const csr = makeCsr({ subject: '/CN=subject.mayfly.test/O=system:masters', extensions: ['subjectAltName=DNS:subject.mayfly.test'] });
    expect((await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: csr.pem })).status).toBe(200);
    const issued = (await events(ca.auditDatabase)).find((event) => event.dns_names?.includes('subject.mayfly.test'));
    expect(issued).toMatchObject({ outcome: 'issued', subject: 'CN=subject.mayfly.test', requested_subject: 'CN=subject.mayfly.test, O=system:masters' });
  });
});

describe('a key the deny list could not recognise is never issued', () => {
  let ca: TestCa;
  beforeAll(async () => {
    // An RA without a public_key validator: only the always-on key_form stands in the way.
    ca = await startTestCa({ editConfig: (yaml) => yaml.replace(/ {6}- public_key:\n( {10}.*\n)+/, '') });
  });
  afterAll(() => ca.stop());

  it('refuses an id-RSASSA-PSS key (one RSA key, endless fingerprints) and issues the same key as rsaEncryption', async () => {
    expect(ca.runtime.registrationAuthorities.get('default')!.policy.validators.map((v) => v.validator.name)).not.toContain('public_key');
    const keyPem = generateKey('rsaPss2048');
    const pss = makeCsrWithKey({ keyPem, subject: '/CN=pss.mayfly.test' });
    const refused = await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: pss.pem }, { Accept: 'application/json' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { reasons: { validator: string }[] }).reasons.map((r) => r.validator)).toEqual(['key_form']);
    const rsa = makeCsrWithKey({ keyPem: generateKey('rsa2048'), subject: '/CN=rsa.mayfly.test' });
    expect((await postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: rsa.pem })).status).toBe(200);
  });
});
