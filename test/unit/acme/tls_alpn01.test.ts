// tls-alpn-01 against a real TLS server on loopback presenting certificates the validated party
// controls: a malformed one must fail the challenge, never throw out of a socket event (which ends
// the whole process).
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { checkTlsAlpn01 } from '../../../src/acme/validation/tls_alpn01';
import { encodeOctetString } from '../../../src/der';

const KEY_AUTHORIZATION = 'token.thumbprint';
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]>;

/** A self-signed acme-tls/1 certificate with the given raw subjectAltName value (DER GeneralNames). */
async function challengeCertificate(subjectAltName: Uint8Array): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=challenge',
      keys: keys as never,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.Extension('2.5.29.17', false, subjectAltName),
        new x509.Extension('1.3.6.1.5.5.7.1.31', true, encodeOctetString(createHash('sha256').update(KEY_AUTHORIZATION).digest())),
      ],
    },
    webcrypto as unknown as X509Crypto,
  );
  const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { cert: certificate.toString('pem'), key };
}

async function serve(credentials: { cert: string; key: string }): Promise<{ server: Server; port: number }> {
  const server = createServer({ ...credentials, ALPNProtocols: ['acme-tls/1'] }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as { port: number }).port };
}

const generalNames = (...names: number[][]) => Uint8Array.from([0x30, names.flat().length, ...names.flat()]);
const dnsName = (name: string) => [0x82, name.length, ...Buffer.from(name)];

describe('tls-alpn-01 validation', () => {
  it.each([
    ['an x400Address name, which the certificate parser refuses', generalNames([0xa3, 0x04, 0x05, 0x00, 0x05, 0x00])],
    ['an iPAddress of 8 octets', generalNames([0x87, 0x08, 1, 2, 3, 4, 255, 255, 255, 0])],
    ['an iPAddress of 5 octets, which ipaddr.js would read as an octal number', generalNames([0x87, 0x05, 1, 2, 3, 4, 5])],
  ])('fails the challenge, and the process goes on, for %s', async (_what, subjectAltName) => {
    const { server, port } = await serve(await challengeCertificate(subjectAltName));
    try {
      for (const identifier of [{ type: 'dns' as const, value: 'svc.mayfly.test' }, { type: 'ip' as const, value: '1.2.3.4' }]) {
        await expect(checkTlsAlpn01('127.0.0.1', port, identifier, KEY_AUTHORIZATION, 5000)).rejects.toMatchObject({ type: expect.stringContaining('incorrectResponse') });
      }
    } finally {
      server.close();
    }
  });

  it('passes a certificate that names exactly the identifier and carries the key authorization', async () => {
    const { server, port } = await serve(await challengeCertificate(generalNames(dnsName('svc.mayfly.test'))));
    try {
      await expect(checkTlsAlpn01('127.0.0.1', port, { type: 'dns', value: 'svc.mayfly.test' }, KEY_AUTHORIZATION, 5000)).resolves.toBeUndefined();
    } finally {
      server.close();
    }
  });
});
