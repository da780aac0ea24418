// The mtls backend trusts the TLS handshake's proof that the client holds its certificate's key;
// for a key anyone can sign for (RSA e = 1, the Ed25519 identity point) that proof is worthless.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { MtlsAuthenticator } from '../../src/auth/mtls';
import { ed25519IdentityRequest, exponentOneRequest, requestPem, rsaModulus } from '../helpers/public_keys';
import { createTestPki, type TestPki } from '../helpers/test_pki';

const der = (pem: string): Uint8Array => new X509Certificate(pem).raw;

describe('mtls authentication and the client certificate\'s key', () => {
  let pki: TestPki;
  let authenticator: MtlsAuthenticator;
  beforeAll(() => {
    pki = createTestPki('mtls keys');
    authenticator = new MtlsAuthenticator('renewers', { trusted: [new X509Certificate(pki.root.cert)], graceMs: 0, groups: {} });
  });
  afterAll(() => pki.remove());

  const authenticate = (leafPem: string) => authenticator.authenticate({ clientCertificates: [der(leafPem), der(pki.intermediate.cert)] });

  it('accepts a leaf with a sound key that chains to a trusted CA', async () => {
    const leaf = pki.issueLeaf('/CN=svc.mayfly.test', ['DNS:svc.mayfly.test']);
    expect(await authenticate(leaf.cert)).toMatchObject({ user: 'svc.mayfly.test', boundNames: ['svc.mayfly.test'] });
  });

  it.each([
    ['an RSA key with e = 1', () => exponentOneRequest(rsaModulus(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey))],
    ['the Ed25519 identity point', () => ed25519IdentityRequest()],
  ])('refuses a trusted leaf whose key is %s, for which anyone can sign the handshake', async (_, request) => {
    const leafPem = pki.signCsr(requestPem(request()));
    expect(new X509Certificate(leafPem).checkIssued(new X509Certificate(pki.intermediate.cert))).toBe(true);
    expect(await authenticate(leafPem)).toBeUndefined();
  });
});
