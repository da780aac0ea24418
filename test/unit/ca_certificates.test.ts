// Every CA certificate Mayfly makes or asks for comes from one set of extensions (src/x509/extension.ts):
// a root may certify issuing CAs (no pathLenConstraint); an issuing CA certifies leaves only (pathLen 0).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createCaHierarchy, generateCaKey } from '../../src/issuance/ca_bootstrap';
import { caCertificationRequest, selfSignedCaCertificate } from '../../src/issuance/ca_request';
import { LocalSigner } from '../../src/signers/local';
import { encodeName } from '../../src/x509/name';
import { openssl } from '../helpers/openssl';

const text = (pem: string, kind: 'x509' | 'req' = 'x509') => openssl([kind, '-noout', '-text'], pem).toString();
const pemOf = (der: Uint8Array, label: string) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;

describe('CA certificates', () => {
  it('gives the development root no path length and its issuing CA pathlen 0, both keyCertSign and cRLSign', async () => {
    const { root, intermediate } = await createCaHierarchy('p256', 'Test');
    const rootText = text(root.certificate);
    expect(rootText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\s*\n/);
    expect(rootText).not.toMatch(/pathlen/);
    expect(rootText).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const issuingText = text(intermediate.certificate);
    expect(issuingText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(issuingText).toMatch(/X509v3 Authority Key Identifier:/);
    expect(new X509Certificate(intermediate.certificate).verify(new X509Certificate(root.certificate).publicKey)).toBe(true);
  });

  it('makes a self-signed token CA and a CSR for an external root as issuing CAs (pathlen 0), like the intermediate', async () => {
    const key = await generateCaKey('p256');
    const signer = LocalSigner.fromKey(createPrivateKey(key.privateKeyPem));
    const selfSigned = await selfSignedCaCertificate(signer, encodeName('/CN=Token CA'), 86_400_000);
    expect(text(pemOf(selfSigned.der, 'CERTIFICATE'))).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    const request = await caCertificationRequest(signer, encodeName('/CN=Token CA'));
    expect(text(pemOf(request, 'CERTIFICATE REQUEST'), 'req')).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
  });
});
