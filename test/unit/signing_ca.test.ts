import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../src/signers/local';
import { SignerConfigError } from '../../src/signers/signer';
import { loadSigningCa } from '../../src/signers/signing_ca';
import { openssl } from '../helpers/openssl';
import { certificateFields, toHex } from './support/asn1';
import { createTestSigningCa, type TestSigningCa } from './support/ca';
import { generateKey } from './support/csr';

// Certificates made by the openssl CLI, independently of Mayfly: a three-level CA chain, a CA
// without a subjectKeyIdentifier, and a leaf.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca_without_ski]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[ca_without_cert_sign]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,cRLSign
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
`;

let dir: string;
let files = 0;
const path = (name: string) => join(dir, name);
function write(content: string, mode = 0o600): string {
  const file = path(`file-${files++}.pem`);
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  return file;
}

/** A key file (0600) holding a new key of `type`. */
const newKey = (type: 'p256' | 'p384' = 'p256') => write(generateKey(type));

/** A self-signed certificate for `key` with the [section] extensions. */
const selfSigned = (key: string, subject: string, section: string) =>
  openssl(['req', '-x509', '-new', '-key', key, '-subj', subject, '-days', '2', '-config', path('openssl.cnf'), '-extensions', section]).toString();

/** A certificate for `key`, issued by `issuerCert`/`issuerKey`, with the [section] extensions. */
function issued(key: string, subject: string, issuerCert: string, issuerKey: string, section: string, serial: number): string {
  const csr = openssl(['req', '-new', '-key', key, '-subj', subject, '-config', path('openssl.cnf')]);
  const issuerFile = write(issuerCert);
  return openssl(['x509', '-req', '-CA', issuerFile, '-CAkey', issuerKey, '-set_serial', String(serial), '-days', '2', '-extfile', path('openssl.cnf'), '-extensions', section], csr).toString();
}

/** The SignerConfigError message loadSigningCa rejects with; fails on any other outcome. */
async function refusal(certFile: string, keyFile: string): Promise<string> {
  try {
    await loadSigningCa('unit', certFile, () => LocalSigner.load({ keyFile }));
  } catch (error) {
    if (error instanceof SignerConfigError) return error.message;
    throw new Error(`expected a SignerConfigError, got ${String(error)}`);
  }
  throw new Error('expected a SignerConfigError, the CA loaded');
}

let rootKey: string;
let int1Key: string;
let int2Key: string;
let root: string;
let int1: string;
let int2: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mayfly-unit-signing-ca-'));
  writeFileSync(path('openssl.cnf'), OPENSSL_CONFIG);
  [rootKey, int1Key, int2Key] = [newKey(), newKey(), newKey()];
  root = selfSigned(rootKey, '/CN=Unit Root', 'ca');
  int1 = issued(int1Key, '/CN=Unit Intermediate 1', root, rootKey, 'ca', 2);
  int2 = issued(int2Key, '/CN=Unit Intermediate 2', int1, int1Key, 'ca', 3);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadSigningCa from a mayfly init hierarchy', () => {
  let ca: TestSigningCa;
  beforeAll(async () => {
    ca = await createTestSigningCa('p256');
  });
  afterAll(() => ca.remove());

  it('keeps the chain in order, issuing certificate first', () => {
    const issuing = new X509Certificate(ca.hierarchy.intermediate.certificate);
    const rootCertificate = new X509Certificate(ca.hierarchy.root.certificate);
    expect(ca.signingCa.name).toBe('unit');
    expect(ca.signingCa.chain.map((der) => toHex(der))).toEqual([issuing.raw.toString('hex'), rootCertificate.raw.toString('hex')]);
    expect(ca.signingCa.chainPem).toBe(issuing.toString() + rootCertificate.toString());
  });

  it('reads the issuing certificate’s subject DER, subjectKeyIdentifier and notAfter', () => {
    const issuing = new X509Certificate(ca.hierarchy.intermediate.certificate);
    const fields = certificateFields(issuing.raw);
    expect(toHex(ca.signingCa.subject)).toBe(fields.subject.toString('hex'));
    const ski = fields.extensions.find((e) => e.oid === '2.5.29.14');
    expect(ski?.value).toMatch(/^0414/);
    expect(toHex(ca.signingCa.subjectKeyIdentifier)).toBe(ski?.value.slice(4));
    expect(ca.signingCa.notAfter.getTime()).toBe(Date.parse(issuing.validTo));
  });

  it('opens the signer with the issuing certificate', async () => {
    const seen: string[] = [];
    await loadSigningCa('unit', ca.chainFile, (issuing) => {
      seen.push(issuing.subject);
      return LocalSigner.load({ keyFile: ca.keyFile });
    });
    expect(seen).toEqual(['CN=Mayfly Unit Issuing CA']);
  });

  it('refuses the key of another CA', async () => {
    const other = await createTestSigningCa('p256');
    try {
      expect(await refusal(ca.chainFile, other.keyFile)).toBe(`the key (local EC P-256) does not match the certificate in ${ca.chainFile}`);
    } finally {
      other.remove();
    }
  });

  it('refuses the root key for the issuing certificate', async () => {
    const rootKeyFile = join(ca.dir, 'root.key');
    expect(await refusal(ca.chainFile, rootKeyFile)).toBe(`the key (local EC P-256) does not match the certificate in ${ca.chainFile}`);
  });

  it('refuses the chain with the root first, even with the root’s key', async () => {
    const reversed = write(ca.hierarchy.root.certificate + ca.hierarchy.intermediate.certificate);
    expect(await refusal(reversed, join(ca.dir, 'root.key'))).toBe(`certificate 1 in ${reversed} is not issued by the one after it; order the chain issuing certificate first`);
  });
});

describe('loadSigningCa from an openssl chain', () => {
  it('loads a three-level chain in order', async () => {
    const chain = write(int2 + int1 + root);
    const ca = await loadSigningCa('unit', chain, () => LocalSigner.load({ keyFile: int2Key }));
    expect(ca.chain.length).toBe(3);
    expect(new X509Certificate(Buffer.from(ca.chain[0])).subject).toBe('CN=Unit Intermediate 2');
  });

  it('loads the issuing certificate alone', async () => {
    const ca = await loadSigningCa('unit', write(int2), () => LocalSigner.load({ keyFile: int2Key }));
    expect(ca.chain.length).toBe(1);
  });

  it.each([
    ['the root before its intermediate', () => int2 + root + int1, 1],
    ['an intermediate repeated', () => int2 + int1 + int1 + root, 2],
  ])('refuses a chain in the wrong order: %s', async (_, content, index) => {
    const chain = write(content());
    expect(await refusal(chain, int2Key)).toBe(`certificate ${index} in ${chain} is not issued by the one after it; order the chain issuing certificate first`);
  });

  it('refuses a chain where a certificate is followed by an unrelated CA', async () => {
    const unrelatedKey = newKey();
    const chain = write(int2 + selfSigned(unrelatedKey, '/CN=Unit Intermediate 1', 'ca'));
    expect(await refusal(chain, int2Key)).toBe(`certificate 1 in ${chain} is not issued by the one after it; order the chain issuing certificate first`);
  });

  it('refuses a certificate that is not a CA', async () => {
    const leafKey = newKey();
    const leaf = write(issued(leafKey, '/CN=leaf.mayfly.test', int2, int2Key, 'leaf', 4) + int2);
    expect(await refusal(leaf, leafKey)).toBe(`the first certificate in ${leaf} is not a CA certificate`);
  });

  it('refuses a self-signed certificate that is not a CA', async () => {
    const leafKey = newKey();
    const leaf = write(selfSigned(leafKey, '/CN=leaf', 'leaf'));
    expect(await refusal(leaf, leafKey)).toBe(`the first certificate in ${leaf} is not a CA certificate`);
  });

  it('refuses a CA certificate whose keyUsage does not allow certificate signing (RFC 5280 4.2.1.3)', async () => {
    const key = newKey();
    const certificate = write(selfSigned(key, '/CN=Unit CA without keyCertSign', 'ca_without_cert_sign'));
    await expect(loadSigningCa('unit', certificate, () => LocalSigner.load({ keyFile: key }))).rejects.toThrow(SignerConfigError);
  });

  it('refuses a file with no certificate', async () => {
    const empty = write(readFileSync(int2Key, 'utf8'));
    expect(await refusal(empty, int2Key)).toBe(`${empty} holds no PEM certificate`);
  });

  it('refuses a certificate file that does not exist', async () => {
    expect(await refusal(path('missing.pem'), int2Key)).toBe(`the certificate file ${path('missing.pem')} cannot be read`);
  });

  it('computes the subjectKeyIdentifier (RFC 5280 4.2.1.2 method 1) when the certificate has none', async () => {
    const key = newKey();
    const certificate = selfSigned(key, '/CN=Unit CA without SKI', 'ca_without_ski');
    expect(certificateFields(new X509Certificate(certificate).raw).extensions.map((e) => e.oid)).not.toContain('2.5.29.14');
    const ca = await loadSigningCa('unit', write(certificate), () => LocalSigner.load({ keyFile: key }));
    const hash = openssl(['dgst', '-sha1', '-binary'], Buffer.from(openssl(['pkey', '-in', key, '-pubout', '-outform', 'DER']).subarray(-65)));
    expect(toHex(ca.subjectKeyIdentifier)).toBe(hash.toString('hex'));
  });
});
