// Public keys built to trick or knock over the CA, sent over real HTTP: the EC point at infinity
// (which aborted the process), an RSA key with e = 1 and an Ed25519 identity key (whose
// "signatures" need no private key), hybrid and compressed points, and the deny list matching the
// fingerprint the ledger records.
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/record';
import { SqliteAuditStore } from '../../src/audit/sqlite_store';
import { serveFreshWorkers, type InitialisedServer } from '../helpers/cli';
import { postForm, startTestCa, type TestCa } from '../helpers/mayfly';
import { makeCsr, openssl } from '../helpers/openssl';
import { ecSpki, ed25519IdentityRequest, exponentOneRequest, pointForms, requestPem, rsaModulus, signedRequest, type CurveName } from '../helpers/public_keys';

const INFINITY_CURVES: readonly CurveName[] = ['P-256', 'P-384', 'secp256k1'];

/** The RA's validators without public_key: the csr stage's key checks hold whatever the RA lists. */
const withoutPublicKeyValidator = (yaml: string): string => {
  const edited = yaml.replace(/ {6}- public_key:\n(?: {8,}.*\n)+/, '');
  if (edited === yaml) throw new Error('the default config has no public_key validator to remove');
  return edited;
};

/** The SPKI a certificate carries, DER. */
const certificateSpki = (pem: string): Buffer => new X509Certificate(pem).publicKey.export({ format: 'der', type: 'spki' });

describe('mayfly serve --workers 2 and a CSR whose key is the point at infinity', () => {
  let server: InitialisedServer;
  // In a child process: on the old code the abort ends a worker (or all of Mayfly), not this test's worker.
  beforeAll(async () => {
    server = await serveFreshWorkers(2);
  }, 60_000);
  afterAll(() => server?.stop());

  const sign = (csr: string) => postForm(`${server.serving.url}/v1/sign/default`, { user: 'deployer', secret: server.secret, encoding: 'pem', csr }, { Connection: 'close' });

  it.each(INFINITY_CURVES)('answers 400 with a reason for the point at infinity on %s, and still issues afterwards', async (curve) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // Twice: with two workers, each connection may land on either.
    for (let i = 0; i < 2; i++) {
      const response = await sign(requestPem(signedRequest(ecSpki(curve, Uint8Array.of(0)), privateKey)));
      expect({ status: response.status, body: await response.text() }).toEqual({
        status: 400,
        body: expect.stringContaining(`the CSR's ${curve} public key is the point at infinity (RFC 5480 2.2)`),
      });
    }
    for (let i = 0; i < 2; i++) expect((await sign(makeCsr().pem)).status).toBe(200);
    expect(server.serving.output()).not.toMatch(/Assertion failed|worker \d+ stopped/);
  });
});

describe('keys whose proof of possession needs no private key', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa({ editConfig: withoutPublicKeyValidator });
  });
  afterAll(() => ca.stop());

  const sign = (der: Uint8Array) => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: requestPem(der) });

  it('refuses an RSA key with e = 1 whose "signature" is the padded digest, with a 400 and its reason', async () => {
    const modulus = rsaModulus(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
    const response = await sign(exponentOneRequest(modulus));
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("the CSR's RSA public exponent 1 is not an odd number from 3 to 2^256 - 1 (CA/B Forum BR 6.1.6)");
  });

  it('refuses the Ed25519 identity point signed with R = identity, S = 0', async () => {
    const response = await sign(ed25519IdentityRequest());
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("the CSR's Ed25519 public key is a point of small order");
  });
});

describe('EC point forms in the certificate', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await startTestCa();
  });
  afterAll(() => ca.stop());

  const sign = (der: Uint8Array) => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: requestPem(der) });

  it('refuses a hybrid-encoded point (0x06/0x07), correctly signed, with a 400 and its reason', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const response = await sign(signedRequest(ecSpki('P-256', pointForms(publicKey).hybrid), privateKey));
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("the CSR's P-256 public key uses the hybrid point form, which RFC 5480 2.2 does not allow");
  });

  it.each<[CurveName, string]>([['P-256', 'prime256v1'], ['P-384', 'secp384r1']])('issues a compressed %s point in the uncompressed form', async (curve, opensslName) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const forms = pointForms(publicKey);
    const response = await sign(signedRequest(ecSpki(curve, forms.compressed), privateKey));
    expect(response.status).toBe(200);
    const pem = await response.text();
    const certificate = new X509Certificate(pem);
    expect(certificateSpki(pem)).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
    expect(Buffer.from(certificate.raw).includes(ecSpki(curve, forms.uncompressed))).toBe(true);
    expect(Buffer.from(certificate.raw).includes(forms.compressed)).toBe(false);
    // openssl reads the key as the uncompressed point: 04 || x || y.
    const text = openssl(['x509', '-noout', '-text'], pem).toString();
    const pub = /pub:\n((?:\s+[0-9a-f:]+\n)+)/.exec(text)![1].replace(/[\s:]/g, '');
    expect(pub).toBe(forms.uncompressed.toString('hex'));
    expect(text).toContain(`ASN1 OID: ${opensslName}`);
  });
});

describe('the deny list and the ledger name a key by one fingerprint', () => {
  let ca: TestCa;
  let denyFile: string;
  beforeAll(async () => {
    ca = await startTestCa({
      audit: true,
      editConfig: (yaml, dir) => {
        denyFile = join(dir, 'deny.txt');
        writeFileSync(denyFile, '# keys and names never issued again\n');
        return yaml.replace('    validators:\n', '    validators:\n      - deny_list:\n          file: deny.txt\n');
      },
    });
  });
  afterAll(() => ca.stop());

  const sign = (der: Uint8Array) => postForm(`${ca.url}/v1/sign/default`, { user: 'deployer', secret: ca.secret, encoding: 'pem', csr: requestPem(der) });
  const issuedEvents = async (): Promise<AuditEvent[]> => {
    const store = new SqliteAuditStore(ca.auditDatabase, { readonly: true });
    try {
      return (await store.query({})).map((record) => JSON.parse(record.body) as AuditEvent).filter((event) => event.outcome === 'issued');
    } finally {
      await store.close();
    }
  };

  it('blocks a key, sent as a compressed point, by the spki_sha256 the ledger recorded for it', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const request = signedRequest(ecSpki('P-256', pointForms(publicKey).compressed), privateKey);
    const first = await sign(request);
    expect(first.status).toBe(200);
    const pem = await first.text();
    const recorded = (await issuedEvents()).at(-1)!.public_key!.spki_sha256;
    // The fingerprint the operator reads in the ledger is the key the certificate carries.
    expect(recorded).toBe(createHash('sha256').update(certificateSpki(pem)).digest('hex'));
    writeFileSync(denyFile, `${recorded}\n`);
    // The list is re-read when it changes; wait for that, then the same request is refused.
    let refused: Response | undefined;
    for (let tries = 0; tries < 100 && refused === undefined; tries++) {
      const again = await sign(request);
      if (again.status === 403) refused = again;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refused?.status).toBe(403);
    expect(await refused!.text()).toContain(`the public key (SHA-256 ${recorded}) is on the deny list`);
  });
});
