import { createSecretHash, parseSecretHash, hashSecret, type SecretHash } from '../../src/auth/secret_hash';
import { StaticAuthenticator } from '../../src/auth/static';

describe('StaticAuthenticator', () => {
  let hash: SecretHash;
  let authenticator: StaticAuthenticator;
  beforeAll(async () => {
    const stored = parseSecretHash(await hashSecret('s3cret'));
    if (typeof stored === 'string') throw new Error(stored);
    hash = stored;
    authenticator = new StaticAuthenticator('deployers', 'deployer', hash, ['ops', 'web']);
  });

  it('accepts the user with its secret, returning the user, its groups and the entry name', async () => {
    await expect(authenticator.authenticate({ user: 'deployer', secret: 's3cret' })).resolves.toEqual({ user: 'deployer', groups: ['ops', 'web'], authentication: 'deployers' });
  });

  it('calls a check costly only when it would run a scrypt of its own: not for a secret being verified now, nor one verified', async () => {
    const fresh = new StaticAuthenticator('fresh', 'deployer', hash);
    expect(fresh.costly({ user: 'deployer', secret: 's3cret' })).toBe(true);
    const first = fresh.authenticate({ user: 'deployer', secret: 's3cret' });
    // A fleet sending the same secret together shares the one scrypt under way.
    expect(fresh.costly({ user: 'deployer', secret: 's3cret' })).toBe(false);
    expect(fresh.costly({ user: 'deployer', secret: 'another' })).toBe(true);
    await first;
    expect(fresh.costly({ user: 'deployer', secret: 's3cret' })).toBe(false);
    expect(fresh.costly({ user: 'deployer', secret: 'wrong' })).toBe(true);
  });

  it('keeps its name', () => {
    expect(authenticator.name).toBe('deployers');
  });

  it('returns no groups when none were configured', async () => {
    const plain = new StaticAuthenticator('plain', 'deployer', hash);
    await expect(plain.authenticate({ user: 'deployer', secret: 's3cret' })).resolves.toEqual({ user: 'deployer', groups: [], authentication: 'plain' });
  });

  it.each([
    ['a wrong secret', { user: 'deployer', secret: 'wrong' }],
    ['an unknown user with the right secret', { user: 'intruder', secret: 's3cret' }],
    ['the user name in another case', { user: 'Deployer', secret: 's3cret' }],
    ['the user name with a trailing space', { user: 'deployer ', secret: 's3cret' }],
    ['no user', { secret: 's3cret' }],
    ['no secret', { user: 'deployer' }],
    ['an empty secret', { user: 'deployer', secret: '' }],
    ['nothing', {}],
  ])('refuses %s', async (_, credentials) => {
    await expect(authenticator.authenticate(credentials)).resolves.toBeUndefined();
  });

  describe('when the hashed secret is empty', () => {
    let emptyHashed: StaticAuthenticator;
    beforeAll(async () => {
      emptyHashed = new StaticAuthenticator('empty', 'deployer', await createSecretHash(''));
    });

    it('still refuses an empty secret', async () => {
      await expect(emptyHashed.authenticate({ user: 'deployer', secret: '' })).resolves.toBeUndefined();
    });

    it('still refuses a missing secret', async () => {
      await expect(emptyHashed.authenticate({ user: 'deployer' })).resolves.toBeUndefined();
    });
  });
});

describe('StaticAuthenticator remembers a verified secret', () => {
  it('recognises the right secret without scrypt within the window, and never a wrong one', async () => {
    const stored = await createSecretHash('s3cret-value');
    let now = 1_000_000;
    const auth = new StaticAuthenticator('deployers', 'deployer', stored, ['g'], () => now);
    expect(await auth.authenticate({ user: 'deployer', secret: 's3cret-value' })).toEqual({ user: 'deployer', groups: ['g'], authentication: 'deployers' });
    // Spoil the stored hash: from now on scrypt would refuse everything, so a pass proves the memory.
    stored.hash.fill(0);
    expect(await auth.authenticate({ user: 'deployer', secret: 's3cret-value' })).toBeDefined();
    expect(await auth.authenticate({ user: 'deployer', secret: 's3cret-valuf' })).toBeUndefined();
    expect(await auth.authenticate({ user: 'intruder', secret: 's3cret-value' })).toBeUndefined();
    expect(await auth.authenticate({ user: 'deployer', secret: '' })).toBeUndefined();
    // After the window the secret goes through scrypt again, which now refuses it.
    now += 5 * 60_000 + 1;
    expect(await auth.authenticate({ user: 'deployer', secret: 's3cret-value' })).toBeUndefined();
  });
});

describe('StaticAuthenticator runs scrypt once for requests that arrive together', () => {
  /** The stored hash, counting how often scrypt reads its salt: once per scrypt run. */
  /** scrypt runs started (the salt is read first) and finished (the hash is read to compare). */
  function counted(stored: SecretHash): { hash: SecretHash; runs: () => number; finished: () => number } {
    let reads = 0;
    let compares = 0;
    const hash = { ...stored };
    Object.defineProperty(hash, 'salt', { enumerable: false, get: () => ((reads += 1), stored.salt) });
    Object.defineProperty(hash, 'hash', { enumerable: false, get: () => ((compares += 1), stored.hash) });
    return { hash, runs: () => reads, finished: () => compares };
  }

  /** Waits for the count to reach `n`: a background scrypt takes ~50 ms, seconds on a loaded machine. */
  async function until(count: () => number, n: number): Promise<void> {
    for (const deadline = Date.now() + 20_000; count() < n && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  it('shares one scrypt among concurrent requests with the same secret, and still refuses wrong ones', async () => {
    const { hash, runs } = counted(await createSecretHash('fleet-secret'));
    const auth = new StaticAuthenticator('deployers', 'deployer', hash);
    const results = await Promise.all([
      ...Array.from({ length: 20 }, () => auth.authenticate({ user: 'deployer', secret: 'fleet-secret' })),
      auth.authenticate({ user: 'deployer', secret: 'fleet-secreT' }),
    ]);
    expect(results.slice(0, 20).every((r) => r?.user === 'deployer')).toBe(true);
    expect(results[20]).toBeUndefined();
    expect(runs()).toBe(2); // one for the right secret, one for the wrong one
  });

  it('re-verifies a secret in use shortly before its memory lapses, so it never lapses under load', async () => {
    const stored = await createSecretHash('fleet-secret');
    const { hash, runs, finished } = counted(stored);
    let now = 1_000_000;
    const auth = new StaticAuthenticator('deployers', 'deployer', hash, [], () => now);
    await auth.authenticate({ user: 'deployer', secret: 'fleet-secret' });
    expect(runs()).toBe(1);
    now += 3 * 60_000; // two minutes left: remembered, no scrypt
    await auth.authenticate({ user: 'deployer', secret: 'fleet-secret' });
    expect(runs()).toBe(1);
    now += 90_000; // 30 s left: answered from memory at once, and one background scrypt renews it
    const [first, second] = await Promise.all([auth.authenticate({ user: 'deployer', secret: 'fleet-secret' }), auth.authenticate({ user: 'deployer', secret: 'fleet-secret' })]);
    expect(first?.user).toBe('deployer');
    expect(second?.user).toBe('deployer');
    await until(finished, 2); // the background scrypt settles
    expect(runs()).toBe(2);
    // Past the first memory's end: recognised from the renewed memory without scrypt, even with the hash spoiled.
    now += 60_000;
    stored.hash.fill(0);
    expect(await auth.authenticate({ user: 'deployer', secret: 'fleet-secret' })).toBeDefined();
    expect(runs()).toBe(2);
  });

  it('lets the memory lapse when the background re-verification fails', async () => {
    const stored = await createSecretHash('fleet-secret');
    const { hash, finished } = counted(stored);
    let now = 1_000_000;
    const auth = new StaticAuthenticator('deployers', 'deployer', hash, [], () => now);
    await auth.authenticate({ user: 'deployer', secret: 'fleet-secret' });
    stored.hash.fill(0); // from now on scrypt refuses
    now += 4 * 60_000 + 30_000;
    expect(await auth.authenticate({ user: 'deployer', secret: 'fleet-secret' })).toBeDefined(); // still in memory
    await until(finished, 2); // the background scrypt refused
    now += 31_000;
    expect(await auth.authenticate({ user: 'deployer', secret: 'fleet-secret' })).toBeUndefined();
  });
});
