import { createPrivateKey, createPublicKey, KeyObject, webcrypto, type X509Certificate } from 'node:crypto';
import { ClientUsageError } from './errors';

// The requester's key is made here, on the host that will use it, and never leaves it: only the CSR
// (with the public key) is sent.

/** Every key type the daemon's `public_key` validator can ask for. */
export const CLIENT_KEY_TYPES = ['p256', 'p384', 'rsa2048', 'rsa3072', 'rsa4096', 'ed25519'] as const;
export type ClientKeyType = (typeof CLIENT_KEY_TYPES)[number];

type Algorithm = webcrypto.Algorithm & Record<string, unknown>;

const ecdsa = (namedCurve: string, hash: string) => ({ generate: { name: 'ECDSA', namedCurve }, sign: { name: 'ECDSA', hash } });
const rsa = (modulusLength: number) => ({
  generate: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength, publicExponent: new Uint8Array([1, 0, 1]) },
  sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
});

const ALGORITHMS: Readonly<Record<ClientKeyType, { generate: Algorithm; sign: Algorithm }>> = {
  p256: ecdsa('P-256', 'SHA-256'),
  p384: ecdsa('P-384', 'SHA-384'),
  rsa2048: rsa(2048),
  rsa3072: rsa(3072),
  rsa4096: rsa(4096),
  ed25519: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
};

/** A key pair: WebCrypto keys to sign the CSR, and the private key as PKCS#8 PEM to write. */
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
  return keyPair(type, keys);
}

/**
 * A key the user brought (`--key FILE --reuse-key`), PEM in any form OpenSSL writes: it must be one
 * of the client's key types, so the CSR is signed as for a key made here.
 */
export async function importKeyPair(privateKeyPem: string, origin: string): Promise<ClientKeyPair> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch {
    throw new ClientUsageError(`${origin} is not an unencrypted PEM private key`);
  }
  const type = keyTypeOf(privateKey);
  if (!type) throw new ClientUsageError(`${origin} holds a key of a type the client does not use (it uses ${CLIENT_KEY_TYPES.join(', ')})`);
  const { generate } = ALGORITHMS[type];
  const importAlgorithm = { ...generate, modulusLength: undefined, publicExponent: undefined };
  const [privateCryptoKey, publicCryptoKey] = await Promise.all([
    webcrypto.subtle.importKey('pkcs8', privateKey.export({ format: 'der', type: 'pkcs8' }), importAlgorithm, true, ['sign']),
    webcrypto.subtle.importKey('spki', createPublicKey(privateKey).export({ format: 'der', type: 'spki' }), importAlgorithm, true, ['verify']),
  ]);
  return keyPair(type, { privateKey: privateCryptoKey, publicKey: publicCryptoKey });
}

function keyTypeOf(key: KeyObject): ClientKeyType | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec') return ({ prime256v1: 'p256', secp384r1: 'p384' } as const)[details?.namedCurve as string];
  if (key.asymmetricKeyType === 'rsa') return ({ 2048: 'rsa2048', 3072: 'rsa3072', 4096: 'rsa4096' } as const)[details?.modulusLength as number];
  return undefined;
}

function keyPair(type: ClientKeyType, keys: webcrypto.CryptoKeyPair): ClientKeyPair {
  return {
    type,
    keys,
    signingAlgorithm: ALGORITHMS[type].sign,
    privateKeyPem: KeyObject.from(keys.privateKey).export({ format: 'pem', type: 'pkcs8' }).toString(),
    spki: KeyObject.from(keys.publicKey).export({ format: 'der', type: 'spki' }),
  };
}

/** A public key (SubjectPublicKeyInfo, DER) in the form Node writes it: an EC point uncompressed, as the server issues it. */
export function canonicalSpki(spki: ArrayBuffer): Buffer {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' });
}

/** The public half of a PEM private key, as SubjectPublicKeyInfo DER; undefined when it is not a key. */
export function publicKeyOf(privateKeyPem: string): Buffer | undefined {
  try {
    return createPublicKey(createPrivateKey(privateKeyPem)).export({ format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** Whether `certificate` certifies the public half of `privateKeyPem` (a PEM key of any type). */
export function certificateMatchesKey(certificate: X509Certificate, privateKeyPem: string): boolean {
  return publicKeyOf(privateKeyPem)?.equals(certificate.publicKey.export({ format: 'der', type: 'spki' })) ?? false;
}
