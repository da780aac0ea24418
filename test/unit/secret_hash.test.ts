import { scryptSync } from 'node:crypto';
import { createSecretHash, hashSecret, parseSecretHash, verifySecret, type SecretHash } from '../../src/auth/secret_hash';

const FORM = 'expected the form scrypt$N$r$p$salt$hash that `mayfly hash-secret` prints';
const COST = 'the scrypt cost is out of range or malformed (N a power of two from 16384 to 1048576, r from 8 to 32, p from 1 to 16)';
const LENGTH = 'the salt or hash has the wrong length';

const SALT = Buffer.alloc(16, 0x5a).toString('base64');
const HASH = Buffer.alloc(32, 0xa5).toString('base64');
const stored = (N: string | number, r: string | number, p: string | number, salt = SALT, hash = HASH) => ['scrypt', N, r, p, salt, hash].join('$');

/** parseSecretHash, failing the test if it refuses. */
function parsed(text: string): SecretHash {
  const result = parseSecretHash(text);
  if (typeof result === 'string') throw new Error(`refused: ${result}`);
  return result;
}

describe('hashSecret and verifySecret', () => {
  let text: string;
  beforeAll(async () => {
    text = await hashSecret('correct horse battery staple');
  });

  it('prints scrypt$N$r$p$salt$hash with the default cost, a 16-octet salt and a 32-octet hash', () => {
    expect(text).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    const hash = parsed(text);
    expect([hash.N, hash.r, hash.p, hash.salt.length, hash.hash.length]).toEqual([32768, 8, 1, 16, 32]);
  });

  it('stores the RFC 7914 scrypt of the secret under the salt, as Node computes it independently', () => {
    const { N, r, p, salt, hash } = parsed(text);
    expect(hash.toString('hex')).toBe(scryptSync('correct horse battery staple', salt, 32, { N, r, p, maxmem: 64 * 1024 * 1024 }).toString('hex'));
  });

  it('verifies the secret it hashed', async () => {
    await expect(verifySecret('correct horse battery staple', parsed(text))).resolves.toBe(true);
  });

  it.each([
    ['another secret', 'wrong'],
    ['the secret with a trailing space', 'correct horse battery staple '],
    ['the secret in another case', 'Correct horse battery staple'],
    ['an empty secret', ''],
  ])('refuses %s', async (_, secret) => {
    await expect(verifySecret(secret, parsed(text))).resolves.toBe(false);
  });

  it('salts every hash afresh', async () => {
    const again = await hashSecret('correct horse battery staple');
    expect(again).not.toBe(text);
    expect(parsed(again).salt.equals(parsed(text).salt)).toBe(false);
  });

  it('round-trips a non-ASCII secret', async () => {
    const hash = parsed(await hashSecret('pässwört 🔑'));
    await expect(verifySecret('pässwört 🔑', hash)).resolves.toBe(true);
    await expect(verifySecret('passwort 🔑', hash)).resolves.toBe(false);
  });

  it('creates the same kind of hash in memory for secrets read from the environment', async () => {
    const hash = await createSecretHash('from-env');
    expect([hash.N, hash.r, hash.p, hash.salt.length, hash.hash.length]).toEqual([32768, 8, 1, 16, 32]);
    await expect(verifySecret('from-env', hash)).resolves.toBe(true);
    await expect(verifySecret('from-envx', hash)).resolves.toBe(false);
  });
});

describe('parseSecretHash', () => {
  it('reads the lowest accepted cost', () => {
    const hash = parsed(stored(16384, 8, 1));
    expect([hash.N, hash.r, hash.p]).toEqual([16384, 8, 1]);
    expect(hash.salt.toString('hex')).toBe('5a'.repeat(16));
    expect(hash.hash.toString('hex')).toBe('a5'.repeat(32));
  });

  it.each([
    ['another algorithm', ['bcrypt', 16384, 8, 1, SALT, HASH].join('$')],
    ['an upper-case prefix', ['SCRYPT', 16384, 8, 1, SALT, HASH].join('$')],
    ['a missing field', ['scrypt', 16384, 8, SALT, HASH].join('$')],
    ['an extra field', stored(16384, 8, 1) + '$x'],
    ['the plain secret', 'hunter2'],
    ['an empty string', ''],
  ])('refuses %s as the wrong form', (_, text) => {
    expect(parseSecretHash(text)).toBe(FORM);
  });

  it.each([
    ['N below 16384', stored(8192, 8, 1)],
    ['N not a power of two', stored(20000, 8, 1)],
    ['N not a number', stored('lots', 8, 1)],
    ['N a fraction', stored(16384.5, 8, 1)],
    ['N empty', stored('', 8, 1)],
    ['r below 8', stored(16384, 4, 1)],
    ['p of 0', stored(16384, 8, 0)],
    ['p negative', stored(16384, 8, -1)],
    ['N negative', stored(-16384, 8, 1)],
  ])('refuses %s as an out-of-range or malformed cost', (_, text) => {
    expect(parseSecretHash(text)).toBe(COST);
  });

  it('refuses an N that only looks like a power of two in 32 bits (2^32 + 2^14)', () => {
    expect(parseSecretHash(stored(2 ** 32 + 2 ** 14, 8, 1))).toBe(COST);
  });

  it.each([
    ['a 15-octet salt', stored(16384, 8, 1, Buffer.alloc(15).toString('base64'))],
    ['an empty salt', stored(16384, 8, 1, '')],
    ['a 31-octet hash', stored(16384, 8, 1, SALT, Buffer.alloc(31).toString('base64'))],
    ['a 33-octet hash', stored(16384, 8, 1, SALT, Buffer.alloc(33).toString('base64'))],
  ])('refuses %s', (_, text) => {
    expect(parseSecretHash(text)).toBe(LENGTH);
  });
});
