import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { HttpError } from './errors';

export interface LimitOptions {
  /** Sign requests a minute per authenticated identity and per client address; 0 turns one off. */
  readonly requestsPerMinutePerIdentity: number;
  readonly requestsPerMinutePerSource: number;
  readonly authFailuresBeforeBackoff: number;
  readonly authFailureWindowMs: number;
  readonly authBackoffMs: number;
  readonly maxConcurrentSigning: number;
}

export const DEFAULT_LIMITS: LimitOptions = {
  requestsPerMinutePerIdentity: 600,
  requestsPerMinutePerSource: 1200,
  authFailuresBeforeBackoff: 10,
  authFailureWindowMs: 5 * 60_000,
  authBackoffMs: 5 * 60_000,
  maxConcurrentSigning: 256,
};

/** A 429 from one of the rate limits, which it names for metrics. */
export class RateLimitError extends HttpError {
  constructor(
    readonly limit: 'source' | 'identity' | 'auth_backoff',
    what: string,
    msBeforeNext: number,
  ) {
    super(429, 'rate_limited', `too many ${what}; try again in ${Math.ceil(msBeforeNext / 1000)} s`, { 'Retry-After': String(Math.max(1, Math.ceil(msBeforeNext / 1000))) });
  }
}

/**
 * The front door's limits, per process: request rates per client address and per identity, a
 * back-off for an address that keeps failing authentication, and a cap on signing work in
 * progress, so that overload turns into fast 503s rather than a queue that grows without bound.
 */
export class RequestLimits {
  private readonly perSource?: RateLimiterMemory;
  private readonly perIdentity?: RateLimiterMemory;
  private readonly authFailures: RateLimiterMemory;
  private inFlight = 0;

  constructor(private readonly options: LimitOptions = DEFAULT_LIMITS) {
    if (options.requestsPerMinutePerSource > 0) this.perSource = new RateLimiterMemory({ points: options.requestsPerMinutePerSource, duration: 60 });
    if (options.requestsPerMinutePerIdentity > 0) this.perIdentity = new RateLimiterMemory({ points: options.requestsPerMinutePerIdentity, duration: 60 });
    this.authFailures = new RateLimiterMemory({
      points: options.authFailuresBeforeBackoff,
      duration: Math.ceil(options.authFailureWindowMs / 1000),
      blockDuration: Math.ceil(options.authBackoffMs / 1000),
    });
  }

  /** Takes a signing slot, or refuses at once when all are taken; call the result when done. */
  enter(): () => void {
    if (this.inFlight >= this.options.maxConcurrentSigning) {
      throw new HttpError(503, 'overloaded', 'the CA is at its limit of concurrent requests; nothing was signed, try again', { 'Retry-After': '1' });
    }
    this.inFlight += 1;
    let left = false;
    return () => {
      if (!left) this.inFlight -= 1;
      left = true;
    };
  }

  /** Counts a request from `source`; refuses with 429 when the address is over its rate or backing off. */
  async admitSource(source: string): Promise<void> {
    const backoff = await this.authFailures.get(source);
    if (backoff && backoff.consumedPoints > this.options.authFailuresBeforeBackoff) throw new RateLimitError('auth_backoff', 'failed authentications from this address', backoff.msBeforeNext);
    await consume(this.perSource, source, 'source', 'requests from this address');
  }

  async admitIdentity(identity: string): Promise<void> {
    await consume(this.perIdentity, identity, 'identity', 'requests for this identity');
  }

  /** Counts a failed authentication; past the threshold the address waits out the back-off. */
  async authenticationFailed(source: string): Promise<void> {
    // Past the threshold the limiter blocks the address for the back-off; admitSource sees that.
    await this.authFailures.consume(source).catch(() => undefined);
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
