import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { HttpError } from './errors';
import type { LimitName } from './metrics';

export interface LimitOptions {
  /** Sign requests a minute per authenticated identity and per client address; 0 turns one off. */
  readonly requestsPerMinutePerIdentity: number;
  readonly requestsPerMinutePerSource: number;
  /** Failed authentications of one claimed identity from one address, in the window, before it waits the back-off. */
  readonly authFailuresBeforeBackoff: number;
  /** The same for an address whatever identities it claims: far higher, as a NAT or a node carries many users. */
  readonly authFailuresPerSourceBeforeBackoff: number;
  readonly authFailureWindowMs: number;
  readonly authBackoffMs: number;
  /** Authenticated sign requests being decided and signed at once. */
  readonly maxConcurrentSigning: number;
  /** Requests from one address not yet authenticated: body being read, credentials being checked. */
  readonly maxUnauthenticatedPerSource: number;
  /** Credential checks (a scrypt, an LDAP bind) in progress, from one address and in all. */
  readonly maxCredentialChecksPerSource: number;
  readonly maxCredentialChecks: number;
  /** How long a client has to send the whole body once its headers are in. */
  readonly bodyTimeoutMs: number;
}

export const DEFAULT_LIMITS: LimitOptions = {
  requestsPerMinutePerIdentity: 600,
  requestsPerMinutePerSource: 1200,
  authFailuresBeforeBackoff: 10,
  authFailuresPerSourceBeforeBackoff: 100,
  authFailureWindowMs: 5 * 60_000,
  authBackoffMs: 5 * 60_000,
  maxConcurrentSigning: 256,
  maxUnauthenticatedPerSource: 32,
  // scrypt runs on libuv's 4 threads: 32 queued is well under a second of wait for the next one.
  maxCredentialChecksPerSource: 4,
  maxCredentialChecks: 32,
  bodyTimeoutMs: 10_000,
};

/** A 429 from one of the limits, which it names for metrics. */
export class RateLimitError extends HttpError {
  constructor(
    readonly limit: Exclude<LimitName, 'concurrency'>,
    what: string,
    msBeforeNext: number,
  ) {
    super(429, 'rate_limited', `too many ${what}; try again in ${Math.ceil(msBeforeNext / 1000)} s`, { 'Retry-After': String(Math.max(1, Math.ceil(msBeforeNext / 1000))) });
  }
}

/** Places taken under a cap, counted by key; a key with none taken is forgotten. */
class Occupancy {
  private readonly taken = new Map<string, number>();

  constructor(private readonly cap: number) {}

  /** Takes a place for `key`, or returns undefined when it has all it may; the release is idempotent. */
  take(key = ''): (() => void) | undefined {
    const count = this.taken.get(key) ?? 0;
    if (count >= this.cap) return undefined;
    this.taken.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.taken.get(key) ?? 1) - 1;
      if (left === 0) this.taken.delete(key);
      else this.taken.set(key, left);
    };
  }
}

/**
 * The front door's limits, per process: request rates per client address and per identity; caps on
 * what an unauthenticated client can hold (requests whose body is awaited, credential checks in
 * progress); a back-off for an identity, and for an address, that keeps failing authentication; and
 * a cap on signing work in progress, so that overload turns into fast 429s and 503s rather than a
 * queue that grows without bound.
 */
export class RequestLimits {
  private readonly perSource?: RateLimiterMemory;
  private readonly perIdentity?: RateLimiterMemory;
  /** Failures by claimed identity and address together, and by address alone. */
  readonly identityFailures: FailureCount;
  readonly sourceFailures: FailureCount;
  readonly signing: Occupancy;
  readonly unauthenticated: Occupancy;
  readonly checksBySource: Occupancy;
  readonly checks: Occupancy;

  constructor(readonly options: LimitOptions = DEFAULT_LIMITS) {
    if (options.requestsPerMinutePerSource > 0) this.perSource = new RateLimiterMemory({ points: options.requestsPerMinutePerSource, duration: 60 });
    if (options.requestsPerMinutePerIdentity > 0) this.perIdentity = new RateLimiterMemory({ points: options.requestsPerMinutePerIdentity, duration: 60 });
    this.identityFailures = new FailureCount(options.authFailuresBeforeBackoff, options);
    this.sourceFailures = new FailureCount(options.authFailuresPerSourceBeforeBackoff, options);
    this.signing = new Occupancy(options.maxConcurrentSigning);
    this.unauthenticated = new Occupancy(options.maxUnauthenticatedPerSource);
    this.checksBySource = new Occupancy(options.maxCredentialChecksPerSource);
    this.checks = new Occupancy(options.maxCredentialChecks);
  }

  /** Counts a request from `source` against its rate, and holds one of its unauthenticated places until it authenticates or is answered. */
  async admitSource(source: string): Promise<Admission> {
    await consume(this.perSource, source, 'source', 'requests from this address');
    const leave = this.unauthenticated.take(source);
    if (!leave) throw new RateLimitError('unauthenticated', 'requests from this address waiting to be authenticated', 1000);
    return new Admission(this, source, leave);
  }

  async admitIdentity(identity: string): Promise<void> {
    await consume(this.perIdentity, identity, 'identity', 'requests for this identity');
  }
}

/**
 * One request's hold on the limits, from its arrival until its answer has been sent (`leave`).
 * Only an authenticated request takes a signing slot, so a client that never finishes its body or
 * never authenticates holds nothing that real requests need.
 */
export class Admission {
  private leaveSigning?: () => void;

  constructor(
    private readonly limits: RequestLimits,
    readonly source: string,
    private readonly leaveUnauthenticated: () => void,
  ) {}

  /**
   * Runs `check` on credentials claiming `claimed` (see claimedIdentity), under the caps on checks in
   * progress and the back-off. A costly check (its own scrypt or bind) counts as a failure from when
   * it starts until it succeeds, so a flood of them in flight is refused (429) as soon as it passes
   * the back-off threshold, not after they have all run. A cheap one (a remembered secret, a token,
   * or one sharing a check already in flight) is refused while its identity or address is backed
   * off, and counts only if it fails: a fleet that boots together with the right secret waits on one
   * scrypt, not on eleven failures-in-progress and then 429s.
   *
   * Nothing between the caller's costly() and check() waits on I/O (the counts are in memory and
   * settle in this turn), so a request arriving meanwhile finds the first check pending and shares it.
   */
  async authenticate<T>(claimed: string, check: () => Promise<T | undefined>, costly = true): Promise<T | undefined> {
    const { identityFailures, sourceFailures } = this.limits;
    const identity = `${claimed}\u0000${this.source}`;
    const identityWhat = 'failed authentications of this identity from this address';
    const sourceWhat = 'failed authentications from this address';
    // Only costly checks are capped: a cheap one (a remembered secret, a token) is never turned away for them.
    const leaveCheck = costly ? this.takeCheck() : () => undefined;
    let result: T | undefined;
    try {
      if (costly) {
        await identityFailures.begin(identity, identityWhat);
        await sourceFailures.begin(this.source, sourceWhat).catch(async (error: unknown) => {
          await identityFailures.takeBack(identity);
          throw error;
        });
      } else {
        await identityFailures.refuseIfBackedOff(identity, identityWhat);
        await sourceFailures.refuseIfBackedOff(this.source, sourceWhat);
      }
      result = await check();
    } finally {
      leaveCheck();
      // Authenticated or not, the request no longer waits to be.
      this.leaveUnauthenticated();
    }
    if (costly && result !== undefined) {
      await identityFailures.takeBack(identity);
      await sourceFailures.takeBack(this.source);
    } else if (!costly && result === undefined) {
      await identityFailures.fail(identity);
      await sourceFailures.fail(this.source);
    }
    return result;
  }

  admitIdentity(identity: string): Promise<void> {
    return this.limits.admitIdentity(identity);
  }

  /** Takes a signing slot for an authenticated request, or refuses at once (503) when all are taken. */
  enterSigning(): void {
    this.leaveSigning = this.limits.signing.take();
    if (!this.leaveSigning) throw new HttpError(503, 'overloaded', 'the CA is at its limit of concurrent requests; nothing was signed, try again', { 'Retry-After': '1' });
  }

  /** Gives back everything the request holds; called once its answer is sent or its client gone. */
  leave(): void {
    this.leaveUnauthenticated();
    this.leaveSigning?.();
  }

  private takeCheck(): () => void {
    const bySource = this.limits.checksBySource.take(this.source);
    if (!bySource) throw new RateLimitError('credential_checks', 'credential checks in progress from this address', 1000);
    const overall = this.limits.checks.take();
    if (!overall) {
      bySource();
      throw new RateLimitError('credential_checks', 'credential checks in progress', 1000);
    }
    return () => {
      bySource();
      overall();
    };
  }
}

/**
 * Failed authentications of one key in a window. An attempt counts from when it starts; one that
 * succeeds takes its count back. Up to `threshold` + 1 attempts are checked; past that, the key
 * waits out the back-off (counted from when it was reached).
 */
class FailureCount {
  private readonly limiter: RateLimiterMemory;

  constructor(
    private readonly threshold: number,
    options: LimitOptions,
  ) {
    this.limiter = new RateLimiterMemory({ points: threshold, duration: Math.ceil(options.authFailureWindowMs / 1000), blockDuration: Math.ceil(options.authBackoffMs / 1000) });
  }

  /** Counts an attempt that is starting; refuses (429) one past the threshold. */
  async begin(key: string, what: string): Promise<void> {
    // consume() counts synchronously: attempts arriving together each see the ones before them.
    const counted = await this.limiter.consume(key).catch((rejection: unknown) => {
      if (rejection instanceof RateLimiterRes) return rejection;
      throw rejection;
    });
    if (counted.consumedPoints <= this.threshold + 1) return;
    await this.takeBack(key); // refused, not checked: not an attempt
    throw new RateLimitError('auth_backoff', what, counted.msBeforeNext);
  }

  /** Uncounts an attempt that succeeded (or was never made). */
  async takeBack(key: string): Promise<void> {
    await this.limiter.reward(key);
  }

  /** Refuses (429) while the key waits out its back-off, counting nothing: for a cheap attempt. */
  async refuseIfBackedOff(key: string, what: string): Promise<void> {
    const counted = await this.limiter.get(key);
    if (counted && counted.consumedPoints > this.threshold) throw new RateLimitError('auth_backoff', what, counted.msBeforeNext);
  }

  /** Counts a cheap attempt that failed (one past the threshold starts the back-off, as begin() does). */
  async fail(key: string): Promise<void> {
    await this.limiter.consume(key).catch((rejection: unknown) => {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
    });
  }
}

async function consume(limiter: RateLimiterMemory | undefined, key: string, limit: RateLimitError['limit'], what: string): Promise<void> {
  if (!limiter) return;
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw new RateLimitError(limit, what, rejection.msBeforeNext);
    throw rejection;
  }
}
