import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// Secrets are stored as scrypt hashes (RFC 7914): "scrypt$N$r$p$salt$hash", salt and hash base64.
const PREFIX = 'scrypt';
const DEFAULT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

export interface SecretHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function derive(secret: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise((resolve, reject) => scrypt(secret, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Hashes a secret with a new salt and the default cost, e.g. one read from the environment at start-up. */
export async function createSecretHash(secret: string): Promise<SecretHash> {
  const salt = randomBytes(SALT_LENGTH);
  return { ...DEFAULT_COST, salt, hash: await derive(secret, salt, DEFAULT_COST) };
}

/** The stored form of a new secret, as `mayfly hash-secret` prints it. */
export async function hashSecret(secret: string): Promise<string> {
  const { N, r, p, salt, hash } = await createSecretHash(secret);
  return [PREFIX, N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Parses a stored hash; returns a reason when it is not one this version can check. */
export function parseSecretHash(text: string): SecretHash | string {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return 'expected the form scrypt$N$r$p$salt$hash that `mayfly hash-secret` prints';
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every(Number.isSafeInteger) || N < 2 ** 14 || N > 2 ** 20 || !Number.isInteger(Math.log2(N)) || r < 8 || r > 32 || p < 1 || p > 16) {
    return 'the scrypt cost is out of range or malformed (N a power of two from 16384 to 1048576, r from 8 to 32, p from 1 to 16)';
  }
  const salt = Buffer.from(parts[4], 'base64');
  const hash = Buffer.from(parts[5], 'base64');
  if (salt.length < 16 || hash.length !== KEY_LENGTH) return 'the salt or hash has the wrong length';
  return { N, r, p, salt, hash };
}

/** Constant-time: the scrypt output is compared with timingSafeEqual over equal-length digests. */
export async function verifySecret(secret: string, stored: SecretHash): Promise<boolean> {
  const candidate = await derive(secret, stored.salt, stored);
  return timingSafeEqual(candidate, stored.hash);
}
