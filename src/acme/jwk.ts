import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { AcmeProblem } from './problems';

/** The JWS algorithms an account key may sign with, and the key each needs (RFC 8555 6.2, RFC 7518). */
export const JWS_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'EdDSA'] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** An account key: the JWK as the client sent it (its public members), imported once. */
export interface AccountKey {
  readonly jwk: JsonWebKey;
  readonly key: KeyObject;
  /** RFC 7638 thumbprint, base64url: the account's key identity and the key authorization's suffix. */
  readonly thumbprint: string;
}

// RFC 7638 3.2: the required members of each key type, in lexicographic order.
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };

/** Imports a public JWK; a private one, an unknown type or a weak key is badPublicKey. */
export function importJwk(value: unknown): AccountKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AcmeProblem('malformed', 'jwk must be a JSON object');
  const jwk = value as Record<string, unknown>;
  const members = REQUIRED_MEMBERS[String(jwk.kty)];
  if (!members) throw new AcmeProblem('badPublicKey', `key type ${JSON.stringify(jwk.kty)} is not supported; use EC, RSA or OKP`);
  if ('d' in jwk) throw new AcmeProblem('badPublicKey', 'the jwk holds a private key; send the public key only');
  if (!members.every((member) => typeof jwk[member] === 'string')) throw new AcmeProblem('badPublicKey', `an ${String(jwk.kty)} jwk needs ${members.join(', ')}`);
  const publicJwk = Object.fromEntries(members.map((member) => [member, jwk[member]])) as JsonWebKey;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicJwk, format: 'jwk' });
  } catch {
    throw new AcmeProblem('badPublicKey', 'the jwk is not a valid public key');
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new AcmeProblem('badPublicKey', 'an RSA account key must have at least 2048 bits');
  const thumbprint = createHash('sha256').update(JSON.stringify(publicJwk)).digest('base64url');
  return { jwk: publicJwk, key, thumbprint };
}

/** Whether `alg` fits the key: ES256 needs P-256, ES384 P-384, RS256 RSA, EdDSA Ed25519 or Ed448. */
export function algorithmFits(alg: JwsAlgorithm, key: KeyObject): boolean {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && curve === 'prime256v1';
    case 'ES384':
      return key.asymmetricKeyType === 'ec' && curve === 'secp384r1';
    case 'RS256':
      return key.asymmetricKeyType === 'rsa';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448';
  }
}
