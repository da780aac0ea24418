import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Creating CA certificates happens once, at `mayfly init`, so it uses @peculiar/x509's
// high-level generator rather than the hand-tuned leaf path in certificate.ts.

export const CA_KEY_TYPES = ['p256', 'p384', 'rsa2048', 'rsa3072', 'rsa4096', 'ed25519'] as const;
export type CaKeyType = (typeof CA_KEY_TYPES)[number];

type KeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm & Record<string, unknown>;
// @peculiar/x509 is typed against the DOM's Crypto; Node's webcrypto is the same API.
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
const crypto = webcrypto;
const x509Crypto = webcrypto as unknown as X509Crypto;

function keyAlgorithm(type: CaKeyType): { generate: Algorithm; sign: Algorithm } {
  switch (type) {
    case 'p256':
      return { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
    case 'p384':
      return { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } };
    case 'ed25519':
      return { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } };
    default: {
      const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      return { generate: { ...rsa, modulusLength: Number(type.slice(3)), publicExponent: new Uint8Array([1, 0, 1]) }, sign: rsa };
    }
  }
}

export interface CaCertificate {
  /** PEM certificate. */
  readonly certificate: string;
  /** PKCS#8 PEM private key. */
  readonly privateKey: string;
  readonly fingerprintSha256: string;
}

export interface CaBootstrap {
  readonly root: CaCertificate;
  readonly intermediate: CaCertificate;
}

const YEAR_MS = 365 * 24 * 3_600_000;

/** A root (10 years) and an online issuing intermediate under it (1 year), both of `type`. */
export async function createCaHierarchy(type: CaKeyType, commonName: string, now: Date = new Date()): Promise<CaBootstrap> {
  const algorithm = keyAlgorithm(type);
  const generate = async () => (await crypto.subtle.generateKey(algorithm.generate, true, ['sign', 'verify'])) as KeyPair;
  const rootKeys = await generate();
  const intermediateKeys = await generate();
  const rootName = `CN=${commonName} Root CA`;
  const notBefore = new Date(now.getTime() - 60_000);
  const root = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
      name: rootName,
      notBefore,
      notAfter: new Date(now.getTime() + 10 * YEAR_MS),
      keys: rootKeys as never,
      signingAlgorithm: algorithm.sign,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey as never, false, x509Crypto),
      ],
    },
    x509Crypto,
  );
  const intermediate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
      subject: `CN=${commonName} Issuing CA`,
      issuer: root.subject,
      notBefore,
      notAfter: new Date(now.getTime() + YEAR_MS),
      publicKey: intermediateKeys.publicKey as never,
      signingKey: rootKeys.privateKey as never,
      signingAlgorithm: algorithm.sign,
      extensions: [
        // pathLen 0: the online CA issues leaves only.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey as never, false, x509Crypto),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey as never, false, x509Crypto),
      ],
    },
    x509Crypto,
  );
  const describe = async (certificate: x509.X509Certificate, keys: KeyPair): Promise<CaCertificate> => ({
    certificate: certificate.toString('pem') + '\n',
    privateKey: x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') + '\n',
    fingerprintSha256: Buffer.from(await certificate.getThumbprint('SHA-256', x509Crypto)).toString('hex'),
  });
  return { root: await describe(root, rootKeys), intermediate: await describe(intermediate, intermediateKeys) };
}
