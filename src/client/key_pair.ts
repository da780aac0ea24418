import { createPrivateKey, createPublicKey, KeyObject, webcrypto, type X509Certificate } from 'node:crypto';

// The requester's key is made here, on the host that will use it, and never leaves it: only the CSR
// (with the public key) is sent.

export const CLIENT_KEY_TYPES = ['p256', 'rsa2048', 'ed25519'] as const;
export type ClientKeyType = (typeof CLIENT_KEY_TYPES)[number];

type Algorithm = webcrypto.Algorithm & Record<string, unknown>;

const ALGORITHMS: Readonly<Record<ClientKeyType, { generate: Algorithm; sign: Algorithm }>> = {
  p256: { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  ed25519: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  rsa2048: {
    generate: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  },
};

/** A fresh key pair: WebCrypto keys to sign the CSR, and the private key as PKCS#8 PEM to write. */
export interface ClientKeyPair {
  readonly type: ClientKeyType;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly signingAlgorithm: Algorithm;
  readonly privateKeyPem: string;
  /** SubjectPublicKeyInfo, DER: what the issued certificate must carry. */
  readonly spki: Buffer;
}

export async function generateKeyPair(type: ClientKeyType): Promise<ClientKeyPair> {
  const algorithm = ALGORITHMS[type];
  const keys = (await webcrypto.subtle.generateKey(algorithm.generate, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return {
    type,
    keys,
    signingAlgorithm: algorithm.sign,
    privateKeyPem: KeyObject.from(keys.privateKey).export({ format: 'pem', type: 'pkcs8' }).toString(),
    spki: KeyObject.from(keys.publicKey).export({ format: 'der', type: 'spki' }),
  };
}

/** Whether `certificate` certifies the public half of `privateKeyPem` (a PEM key of any type). */
export function certificateMatchesKey(certificate: X509Certificate, privateKeyPem: string): boolean {
  try {
    const spki = createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'der', type: 'spki' });
    return spki.equals(certificate.publicKey.export({ format: 'der', type: 'spki' }));
  } catch {
    return false;
  }
}
