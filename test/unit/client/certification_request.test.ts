import { X509Certificate } from 'node:crypto';
import { buildCertificationRequest } from '../../../src/client/certification_request';
import { ClientUsageError } from '../../../src/client/errors';
import { certificateMatchesKey, CLIENT_KEY_TYPES, generateKeyPair } from '../../../src/client/key_pair';
import { missingNames, requestedNames } from '../../../src/client/requested_names';
import { openssl } from '../../helpers/openssl';
import { createTestPki, type TestPki } from '../../helpers/test_pki';

describe('requested names', () => {
  it('puts the common name in the SAN when no SAN is given, as a DNS name or an IP', () => {
    expect(requestedNames('svc.mayfly.test', [])).toEqual({ commonName: 'svc.mayfly.test', dnsNames: ['svc.mayfly.test'], ipAddresses: [] });
    expect(requestedNames('127.0.0.5', [])).toEqual({ commonName: '127.0.0.5', dnsNames: [], ipAddresses: ['127.0.0.5'] });
    expect(requestedNames('svc.mayfly.test', ['DNS:a.mayfly.test', 'ip:::1', 'IP:10.0.0.1'])).toEqual({ commonName: 'svc.mayfly.test', dnsNames: ['a.mayfly.test'], ipAddresses: ['::1', '10.0.0.1'] });
  });

  it('refuses SANs of another form, IPs that are not, and an empty CN', () => {
    expect(() => requestedNames('svc', ['svc.mayfly.test'])).toThrow(/must be DNS:<name> or IP:<address>/);
    expect(() => requestedNames('svc', ['email:a@b'])).toThrow(ClientUsageError);
    expect(() => requestedNames('svc', ['IP:300.1.1.1'])).toThrow(/is not an IPv4 or IPv6 address/);
    expect(() => requestedNames(' ', [])).toThrow(/common name is empty/);
  });
});

describe('key and CSR', () => {
  it.each(CLIENT_KEY_TYPES)('a %s key signs a CSR that openssl verifies, with the CN and SANs asked for', async (type) => {
    const keyPair = await generateKeyPair(type);
    expect(keyPair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const { pem: csr } = await buildCertificationRequest(keyPair, requestedNames('svc.mayfly.test', ['DNS:svc.mayfly.test', 'IP:127.0.0.1', 'IP:::1']));
    const text = openssl(['req', '-verify', '-noout', '-text'], csr).toString();
    expect(text).toMatch(/Subject: CN\s?=\s?svc\.mayfly\.test/);
    expect(text).toContain('DNS:svc.mayfly.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(text).toContain({ p256: 'ecdsa-with-SHA256', p384: 'ecdsa-with-SHA384', rsa2048: 'sha256WithRSAEncryption', rsa3072: 'sha256WithRSAEncryption', rsa4096: 'sha256WithRSAEncryption', ed25519: 'ED25519' }[type]);
    // The CSR carries the public half of the key that was returned.
    const csrKey = openssl(['req', '-pubkey', '-noout'], csr).toString();
    const privateKeyPublic = openssl(['pkey', '-pubout'], keyPair.privateKeyPem).toString();
    expect(csrKey).toBe(privateKeyPublic);
  });

  it('keeps a CN with a comma or a plus as one value', async () => {
    const { pem: csr } = await buildCertificationRequest(await generateKeyPair('p256'), requestedNames('a, b+c', ['DNS:a.mayfly.test']));
    expect(openssl(['req', '-noout', '-subject', '-nameopt', 'RFC2253'], csr).toString().trim()).toBe('subject=CN=a\\, b\\+c');
  });
});

describe('checking what came back', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.remove());

  it('finds names the certificate lacks, comparing DNS names without case and IPs in any spelling', () => {
    const leaf = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:Svc.Mayfly.Test', 'IP:::1', 'DNS:extra.mayfly.test']);
    expect(missingNames(leaf.cert, requestedNames('svc.mayfly.test', ['DNS:svc.mayfly.test.', 'IP:0:0::1']))).toEqual([]);
    expect(missingNames(leaf.cert, requestedNames('other.mayfly.test', ['DNS:svc.mayfly.test', 'DNS:more.mayfly.test', 'IP:127.0.0.1']))).toEqual([
      'CN=other.mayfly.test',
      'DNS:more.mayfly.test',
      'IP:127.0.0.1',
    ]);
  });

  it('tells whether a certificate is for a key', () => {
    const leaf = pki.issueLeaf('/CN=svc.mayfly.test', []);
    const other = pki.issueLeaf('/CN=svc.mayfly.test', []);
    expect(certificateMatchesKey(new X509Certificate(leaf.cert), leaf.key)).toBe(true);
    expect(certificateMatchesKey(new X509Certificate(leaf.cert), other.key)).toBe(false);
    expect(certificateMatchesKey(new X509Certificate(leaf.cert), 'not a key')).toBe(false);
  });
});
