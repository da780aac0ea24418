import { DEFAULT_LIMITS, RateLimitError, RequestLimits } from '../../../src/http/limits';

// The authentication back-off as the front door applies it, one Admission a request.
const limits = () => new RequestLimits({ ...DEFAULT_LIMITS, authFailuresBeforeBackoff: 3, authFailuresPerSourceBeforeBackoff: 100, authBackoffMs: 60_000 });

/** A check whose answer the test gives later: a scrypt in flight. */
function inFlight() {
  let settle!: (requester: string | undefined) => void;
  const answer = new Promise<string | undefined>((resolve) => (settle = resolve));
  return { answer, settle };
}

describe('the authentication back-off and checks shared in flight', () => {
  it('does not count requests sharing a check in flight as failures: all of a burst with the right secret get in', async () => {
    const door = limits();
    const scrypt = inFlight();
    const first = (await door.admitSource('10.0.0.7')).authenticate('deployer', () => scrypt.answer, true);
    // Sixteen more arrive while the scrypt runs: each is cheap (it shares that scrypt).
    const joined = await Promise.all(Array.from({ length: 16 }, () => door.admitSource('10.0.0.7')));
    const answers = joined.map((admission) => admission.authenticate('deployer', () => scrypt.answer, false).catch((error: unknown) => error));
    scrypt.settle('deployer');
    expect(await first).toBe('deployer');
    expect(await Promise.all(answers)).toEqual(Array(16).fill('deployer'));
  });

  it('counts a cheap attempt that fails: requests sharing a wrong secret back the identity off', async () => {
    const door = limits();
    const scrypt = inFlight();
    const attempts = await Promise.all(Array.from({ length: 6 }, () => door.admitSource('10.0.0.7')));
    const answers = attempts.map((admission, i) => admission.authenticate('mallory', () => scrypt.answer, i === 0));
    scrypt.settle(undefined);
    expect(await Promise.all(answers)).toEqual(Array(6).fill(undefined));
    const afterwards = await door.admitSource('10.0.0.7');
    let called = false;
    await expect(afterwards.authenticate('mallory', async () => ((called = true), 'mallory'), true)).rejects.toBeInstanceOf(RateLimitError);
    expect(called).toBe(false);
  });

  it('refuses a cheap attempt, unchecked, while its identity is backed off', async () => {
    const door = limits();
    for (let i = 0; i < 4; i++) expect(await (await door.admitSource('10.0.0.7')).authenticate('deployer', async () => undefined, true)).toBeUndefined();
    let called = false;
    const remembered = (await door.admitSource('10.0.0.7')).authenticate('deployer', async () => ((called = true), 'deployer'), false);
    await expect(remembered).rejects.toMatchObject({ status: 429, limit: 'auth_backoff' });
    expect(called).toBe(false);
    // Another address is not backed off.
    expect(await (await door.admitSource('10.0.0.8')).authenticate('deployer', async () => 'deployer', false)).toBe('deployer');
  });
});
