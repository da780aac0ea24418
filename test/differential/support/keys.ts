// The requesters' keys for generated CSRs: a small pool made once per test file. The four types
// a CA meets every day come from Node's WebCrypto (two keys each, so requests of one type do not
// all share a key); rarer ones (P-521, Ed448, RSA-1024, RSA e=3, id-RSASSA-PSS) from generateKeyPairSync.
import { generateKeyPairSync, KeyObject, webcrypto } from 'node:crypto';

export type KeyKind = 'p256' | 'p384' | 'p521' | 'rsa2048' | 'rsa1024' | 'rsa2048e3' | 'rsaPss' | 'ed25519' | 'ed448';
export type KeyFamily = 'ec' | 'rsa' | 'rsaPss' | 'ed25519' | 'ed448';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

export interface PoolKey {
  readonly kind: KeyKind;
  readonly family: KeyFamily;
  /** e.g. "p256#1", for reports. */
  readonly label: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Buffer;
  /** The WebCrypto pair the key was made as, for @peculiar/x509's request generator. */
  readonly webcrypto?: CryptoKeyPair;
}

export interface KeyPool {
  readonly keys: readonly PoolKey[];
  /** Keys by kind, for weighted picks. */
  readonly byKind: ReadonlyMap<KeyKind, readonly PoolKey[]>;
  /** The key re-imported for a WebCrypto signing algorithm (WebCrypto binds RSA keys to one hash). */
  importFor(key: PoolKey, algorithm: WebCryptoSigning): Promise<CryptoKeyPair>;
}

export type WebCryptoSigning =
  | { readonly name: 'ECDSA'; readonly hash: string }
  | { readonly name: 'RSASSA-PKCS1-v1_5'; readonly hash: string }
  | { readonly name: 'RSA-PSS'; readonly hash: string; readonly saltLength: number }
  | { readonly name: 'Ed25519' };

const subtle = webcrypto.subtle;

const FAMILY: Readonly<Record<KeyKind, KeyFamily>> = {
  p256: 'ec',
  p384: 'ec',
  p521: 'ec',
  rsa2048: 'rsa',
  rsa1024: 'rsa',
  rsa2048e3: 'rsa',
  rsaPss: 'rsaPss',
  ed25519: 'ed25519',
  ed448: 'ed448',
};

const WEBCRYPTO_GENERATE: Partial<Record<KeyKind, webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams | webcrypto.Algorithm>> = {
  p256: { name: 'ECDSA', namedCurve: 'P-256' },
  p384: { name: 'ECDSA', namedCurve: 'P-384' },
  rsa2048: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  ed25519: { name: 'Ed25519' },
};

function nodeGenerated(kind: KeyKind): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (kind) {
    case 'p521':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'ed448':
      return generateKeyPairSync('ed448');
    case 'rsa1024':
      return generateKeyPairSync('rsa', { modulusLength: 1024 });
    case 'rsa2048e3':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    case 'rsaPss':
      return generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    default:
      throw new Error(`${kind} keys come from WebCrypto`);
  }
}

export async function createKeyPool(): Promise<KeyPool> {
  const keys: PoolKey[] = [];
  for (const kind of ['p256', 'p384', 'rsa2048', 'ed25519'] as const) {
    for (let n = 0; n < 2; n++) {
      const pair = (await subtle.generateKey(WEBCRYPTO_GENERATE[kind]!, true, ['sign', 'verify'])) as CryptoKeyPair;
      const publicKey = KeyObject.from(pair.publicKey);
      keys.push({ kind, family: FAMILY[kind], label: `${kind}#${n}`, privateKey: KeyObject.from(pair.privateKey), publicKey, spki: publicKey.export({ format: 'der', type: 'spki' }), webcrypto: pair });
    }
  }
  for (const kind of ['p521', 'ed448', 'rsa1024', 'rsa2048e3', 'rsaPss'] as const) {
    const { privateKey, publicKey } = nodeGenerated(kind);
    keys.push({ kind, family: FAMILY[kind], label: `${kind}#0`, privateKey, publicKey, spki: publicKey.export({ format: 'der', type: 'spki' }) });
  }
  const byKind = new Map<KeyKind, PoolKey[]>();
  for (const key of keys) byKind.set(key.kind, [...(byKind.get(key.kind) ?? []), key]);

  const imported = new Map<string, Promise<CryptoKeyPair>>();
  const importFor = (key: PoolKey, algorithm: WebCryptoSigning): Promise<CryptoKeyPair> => {
    if (!key.webcrypto) return Promise.reject(new Error(`${key.label} has no WebCrypto form`));
    if (algorithm.name === 'ECDSA' || algorithm.name === 'Ed25519') return Promise.resolve(key.webcrypto);
    const cacheKey = `${key.label}/${algorithm.name}/${algorithm.hash}`;
    let pair = imported.get(cacheKey);
    if (!pair) {
      const parameters = { name: algorithm.name, hash: algorithm.hash };
      pair = (async () => ({
        privateKey: await subtle.importKey('pkcs8', key.privateKey.export({ format: 'der', type: 'pkcs8' }), parameters, true, ['sign']),
        publicKey: await subtle.importKey('spki', key.spki, parameters, true, ['verify']),
      }))();
      imported.set(cacheKey, pair);
    }
    return pair;
  };
  return { keys, byKind, importFor };
}
