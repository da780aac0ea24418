import { errorMessage } from '../error_message';
import type { AgentLog } from './agent_log';
import { formatDuration, systemClock, type Clock, type TimerHandle } from './clock';
import { ServerError } from './errors';

/** When to renew and how to retry. */
export interface RenewalSettings {
  /** Fraction of the lifetime after which to renew (2/3 by default). */
  readonly fraction: number;
  /** ± this fraction of the lifetime, at random, so a fleet that booted together renews apart. */
  readonly jitter: number;
  /** Never plan a renewal sooner than this after the last one: the guard against renewal loops. */
  readonly minWaitMs: number;
  /** First retry delay after a failure; it doubles with each failure up to `retryMaxMs`. */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** How often the wall clock is checked, to notice suspend/resume and clock changes. */
  readonly checkIntervalMs: number;
}

export const DEFAULT_RENEWAL: RenewalSettings = {
  fraction: 2 / 3,
  jitter: 0.1,
  minWaitMs: 30_000,
  retryInitialMs: 5_000,
  retryMaxMs: 5 * 60_000,
  checkIntervalMs: 10_000,
};

/** A certificate's life as the agent knows it. */
export interface CertificateLifetime {
  /** When it arrived. The lifetime counts from here, not from notBefore, which the server backdates. */
  readonly receivedAt: number;
  readonly notAfter: number;
}

/** renewAt = received + (notAfter − received) × (fraction ± jitter). `random` is in [0, 1). */
export function renewalTime(lifetime: CertificateLifetime, settings: Pick<RenewalSettings, 'fraction' | 'jitter'>, random: number): number {
  const span = lifetime.notAfter - lifetime.receivedAt;
  return lifetime.receivedAt + span * (settings.fraction + (2 * random - 1) * settings.jitter);
}

// Below this a retry would only spin.
const MIN_RETRY_MS = 1000;
// A server's Retry-After is obeyed up to this; an hour is past any limit Mayfly sets.
const MAX_RETRY_AFTER_MS = 60 * 60_000;

/**
 * The wait before the next attempt after `failures` failures in a row. When the server said when to
 * come back (Retry-After, RFC 9110 10.2.3), then: not sooner — it would only be refused again — and
 * at most 10 % later, so a fleet refused together does not return together. Otherwise exponential
 * with ±25 % jitter, capped, and while the certificate is still valid never more than half the time
 * left, so there is always another try before it expires.
 */
export function retryDelay(failures: number, settings: RenewalSettings, now: number, notAfter: number | undefined, random: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(MIN_RETRY_MS, retryAfterMs), MAX_RETRY_AFTER_MS) * (1 + 0.1 * random);
  const exponential = Math.min(settings.retryMaxMs, settings.retryInitialMs * 2 ** Math.min(failures - 1, 30));
  let delay = Math.min(settings.retryMaxMs, exponential * (0.75 + 0.5 * random));
  if (notAfter !== undefined && now < notAfter) delay = Math.min(delay, (notAfter - now) / 2);
  return Math.max(MIN_RETRY_MS, delay);
}

/** One renewal: resolves with the new certificate's lifetime, or throws why it failed. */
export type RenewalAttempt = (name: string) => Promise<CertificateLifetime>;

/** Told each time a certificate's next attempt is planned, with the failure that made it a retry. */
export type PlanListener = (name: string, dueAt: number, failure?: unknown) => void;

interface Entry {
  readonly name: string;
  lifetime: CertificateLifetime | undefined;
  dueAt: number;
  failures: number;
  running: Promise<void> | undefined;
}

/**
 * Keeps certificates renewed: each is due at its renewal point, or after a back-off when the last
 * attempt failed. It wakes at the next due time, and at least every `checkIntervalMs`, and judges
 * what is due by the wall clock — the clock expiry is measured in — so after a suspend or a clock
 * change, what has become due is renewed at the next wake, and the jump is reported.
 */
export class RenewalScheduler {
  private readonly entries = new Map<string, Entry>();
  private timer: TimerHandle | undefined;
  private last: { wall: number; monotonic: number } | undefined;
  private stopped = true;

  constructor(
    private readonly settings: RenewalSettings,
    private readonly attempt: RenewalAttempt,
    private readonly log: AgentLog,
    private readonly clock: Clock = systemClock,
    private readonly random: () => number = Math.random,
    private readonly onPlan: PlanListener = () => undefined,
  ) {}

  /** Adds a certificate: due at its renewal point, or now when there is none yet. */
  add(name: string, current: CertificateLifetime | undefined): void {
    const dueAt = current ? renewalTime(current, this.settings, this.random()) : this.clock.now();
    this.entries.set(name, { name, lifetime: current, dueAt, failures: 0, running: undefined });
    this.onPlan(name, dueAt);
    const wait = dueAt - this.clock.now();
    if (current) this.log.info(name, `valid until ${iso(current.notAfter)}; renewal ${wait > 0 ? `at ${iso(dueAt)} (in ${formatDuration(wait)})` : 'due now'}`);
  }

  /** When the certificate is next due (for logs and tests). */
  dueAt(name: string): number | undefined {
    return this.entries.get(name)?.dueAt;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops planning; resolves once attempts in progress have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    await Promise.all([...this.entries.values()].map((entry) => entry.running));
  }

  private wake(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const wall = this.clock.now();
    const monotonic = this.clock.monotonic();
    if (this.last) {
      const drift = wall - this.last.wall - (monotonic - this.last.monotonic);
      // A second of drift per check is noise; more is a suspend, a resume or a clock being set.
      if (Math.abs(drift) > Math.max(2_000, this.settings.checkIntervalMs / 2)) {
        this.log.warn('agent', `the wall clock jumped ${drift > 0 ? 'ahead' : 'back'} ${formatDuration(Math.abs(drift))} (suspend/resume or a clock change); checking every certificate now`);
      }
    }
    this.last = { wall, monotonic };
    for (const entry of this.entries.values()) {
      if (entry.running || wall < entry.dueAt) continue;
      // Cleared in a later microtask, so never before it is set, even if the attempt fails at once.
      entry.running = this.run(entry).finally(() => {
        entry.running = undefined;
        this.arm();
      });
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer) this.clock.clearTimer(this.timer);
    const now = this.clock.now();
    const waiting = [...this.entries.values()].filter((entry) => !entry.running).map((entry) => entry.dueAt - now);
    const delay = Math.max(0, Math.min(this.settings.checkIntervalMs, ...waiting));
    this.timer = this.clock.setTimer(() => this.wake(), delay);
  }

  private async run(entry: Entry): Promise<void> {
    try {
      const lifetime = await this.attempt(entry.name);
      entry.failures = 0;
      entry.lifetime = lifetime;
      entry.dueAt = this.nextRenewal(entry.name, lifetime);
      this.onPlan(entry.name, entry.dueAt);
    } catch (error) {
      entry.failures += 1;
      const now = this.clock.now();
      const retryAfter = error instanceof ServerError ? error.retryAfterMs : undefined;
      const delay = retryDelay(entry.failures, this.settings, now, entry.lifetime?.notAfter, this.random(), retryAfter);
      entry.dueAt = now + delay;
      this.onPlan(entry.name, entry.dueAt, error);
      const next = `attempt ${entry.failures} failed: ${errorMessage(error)}; trying again in ${formatDuration(delay)}`;
      if (!entry.lifetime) this.log.error(entry.name, `no certificate yet; ${next}`);
      else if (now >= entry.lifetime.notAfter) {
        this.log.error(entry.name, `CERTIFICATE EXPIRED at ${iso(entry.lifetime.notAfter)} and renewal keeps failing; ${next}. The agent keeps trying.`);
      } else this.log.warn(entry.name, `renewal ${next} (the certificate is valid until ${iso(entry.lifetime.notAfter)})`);
    }
  }

  /** The renewal point of a certificate just received, held back to `minWaitMs` if it has already passed. */
  private nextRenewal(name: string, lifetime: CertificateLifetime): number {
    const now = this.clock.now();
    const planned = renewalTime(lifetime, this.settings, this.random());
    const earliest = now + this.settings.minWaitMs;
    if (planned >= earliest) {
      this.log.info(name, `next renewal at ${iso(planned)} (in ${formatDuration(planned - now)})`);
      return planned;
    }
    this.log.warn(
      name,
      `the server issued a certificate for only ${formatDuration(lifetime.notAfter - lifetime.receivedAt)}, so its renewal point has passed already; ` +
        `waiting the minimum of ${formatDuration(this.settings.minWaitMs)} instead, to avoid a renewal loop (give the RA a longer validity)`,
    );
    return earliest;
  }
}

const iso = (time: number): string => new Date(time).toISOString();
