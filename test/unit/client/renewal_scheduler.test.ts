import type { AgentLog } from '../../../src/client/agent_log';
import { ServerUnreachableError } from '../../../src/client/errors';
import { RenewalScheduler, renewalTime, retryDelay, type CertificateLifetime, type RenewalSettings } from '../../../src/client/renewal_scheduler';
import { FakeClock } from './fake_clock';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const SETTINGS: RenewalSettings = { fraction: 2 / 3, jitter: 0, minWaitMs: 30 * SECOND, retryInitialMs: 5 * SECOND, retryMaxMs: 5 * MINUTE, checkIntervalMs: 10 * SECOND };

function recordingLog(): AgentLog & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (subject: string, message: string) => void lines.push(`${level} [${subject}] ${message}`);
  return { lines, info: record('INFO'), warn: record('WARN'), error: record('ERROR') };
}

/** A scheduler for one certificate "web" whose attempts are answered by `answer` (now → lifetime, or a throw). */
function setUp(answer: (now: number) => CertificateLifetime, settings: RenewalSettings = SETTINGS) {
  const clock = new FakeClock();
  const log = recordingLog();
  const attempts: number[] = [];
  const scheduler = new RenewalScheduler(
    settings,
    async () => {
      attempts.push(clock.now());
      return answer(clock.now());
    },
    log,
    clock,
    () => 0.5,
  );
  return { clock, log, attempts, scheduler };
}

const day = (now: number): CertificateLifetime => ({ receivedAt: now, notAfter: now + 24 * HOUR });

describe('renewal point', () => {
  it('is two thirds into the life counted from receipt, spread by ± jitter of the lifetime', () => {
    const lifetime = { receivedAt: 0, notAfter: 24 * HOUR };
    expect(renewalTime(lifetime, { fraction: 2 / 3, jitter: 0 }, 0.5)).toBe(16 * HOUR);
    expect(renewalTime(lifetime, { fraction: 2 / 3, jitter: 0.1 }, 0)).toBeCloseTo(16 * HOUR - 2.4 * HOUR);
    expect(renewalTime(lifetime, { fraction: 2 / 3, jitter: 0.1 }, 0.999999)).toBeCloseTo(16 * HOUR + 2.4 * HOUR, -2);
    // A fleet that booted together: spread over the whole window, not bunched.
    const points = Array.from({ length: 200 }, () => renewalTime(lifetime, { fraction: 2 / 3, jitter: 0.1 }, Math.random()));
    expect(Math.min(...points)).toBeGreaterThanOrEqual(13.6 * HOUR);
    expect(Math.max(...points)).toBeLessThanOrEqual(18.4 * HOUR);
    expect(Math.max(...points) - Math.min(...points)).toBeGreaterThan(2 * HOUR);
  });
});

describe('retry delay', () => {
  it('doubles from the initial delay up to the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((failures) => retryDelay(failures, SETTINGS, 0, undefined, 0.5));
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 300, 300, 300].map((s) => s * SECOND));
  });

  it('never waits past half the time left, so it always tries again before expiry', () => {
    expect(retryDelay(9, SETTINGS, 0, 60 * SECOND, 0.5)).toBe(30 * SECOND);
    expect(retryDelay(9, SETTINGS, 0, 4 * SECOND, 0.5)).toBe(2 * SECOND);
    // Expired: the usual back-off again, capped.
    expect(retryDelay(9, SETTINGS, 10 * SECOND, 4 * SECOND, 0.5)).toBe(300 * SECOND);
  });

  it('waits what a server\'s Retry-After asks, never less and at most 10 % more, up to an hour', () => {
    for (const random of [0, 0.5, 1]) {
      // Longer than retry_max, and longer than half the time left: the server would refuse sooner.
      expect(retryDelay(1, SETTINGS, 0, undefined, random, 10 * MINUTE)).toBe(10 * MINUTE * (1 + 0.1 * random));
      expect(retryDelay(1, SETTINGS, 0, 60 * SECOND, random, 2 * MINUTE)).toBe(2 * MINUTE * (1 + 0.1 * random));
      // Shorter than the back-off would be.
      expect(retryDelay(9, SETTINGS, 0, undefined, random, 2 * SECOND)).toBe(2 * SECOND * (1 + 0.1 * random));
    }
    expect(retryDelay(1, SETTINGS, 0, undefined, 0.5, 3 * HOUR)).toBe(HOUR * 1.05);
    expect(retryDelay(1, SETTINGS, 0, undefined, 0.5, 0)).toBe(SECOND * 1.05);
  });
});

describe('RenewalScheduler', () => {
  it('requests a missing certificate at once, then renews at two thirds of its life and not before', async () => {
    const { clock, attempts, scheduler, log } = setUp(day);
    scheduler.add('web', undefined);
    scheduler.start();
    await clock.advance(0);
    expect(attempts).toHaveLength(1);
    const received = attempts[0];
    await clock.advance(16 * HOUR - MINUTE);
    expect(attempts).toHaveLength(1);
    await clock.advance(2 * MINUTE);
    expect(attempts).toHaveLength(2);
    expect(attempts[1] - received).toBeGreaterThanOrEqual(16 * HOUR);
    expect(attempts[1] - received).toBeLessThanOrEqual(16 * HOUR + SETTINGS.checkIntervalMs);
    expect(log.lines.some((line) => line.startsWith('WARN'))).toBe(false);
    await scheduler.stop();
  });

  it('backs off after failures, then succeeds and plans the next renewal', async () => {
    let failuresLeft = 3;
    const { clock, attempts, scheduler, log } = setUp((now) => {
      if (failuresLeft-- > 0) throw new ServerUnreachableError('connect ECONNREFUSED');
      return day(now);
    });
    scheduler.add('web', { receivedAt: clock.now() - 16 * HOUR, notAfter: clock.now() + 8 * HOUR });
    scheduler.start();
    await clock.advance(5 * MINUTE);
    expect(attempts).toHaveLength(4);
    const gaps = attempts.slice(1).map((time, index) => time - attempts[index]);
    expect(gaps).toEqual([5 * SECOND, 10 * SECOND, 20 * SECOND]);
    expect(log.lines.filter((line) => line.includes('ECONNREFUSED'))).toHaveLength(3);
    expect(log.lines.at(-1)).toMatch(/^INFO \[web\] next renewal at /);
    expect(scheduler.dueAt('web')).toBe(attempts[3] + 16 * HOUR);
    await scheduler.stop();
  });

  it('keeps trying after the certificate expires, and says so loudly, rather than giving up', async () => {
    const { clock, attempts, scheduler, log } = setUp(() => {
      throw new ServerUnreachableError('connect ECONNREFUSED');
    });
    scheduler.add('web', { receivedAt: clock.now() - 50 * SECOND, notAfter: clock.now() + 10 * SECOND });
    scheduler.start();
    await clock.advance(9 * SECOND);
    const beforeExpiry = attempts.length;
    expect(beforeExpiry).toBeGreaterThanOrEqual(2);
    expect(log.lines.some((line) => line.includes('EXPIRED'))).toBe(false);
    await clock.advance(HOUR);
    expect(attempts.length).toBeGreaterThan(beforeExpiry + 10);
    expect(log.lines.filter((line) => /^ERROR \[web\] CERTIFICATE EXPIRED at .* The agent keeps trying\.$/.test(line)).length).toBeGreaterThan(10);
    await scheduler.stop();
  });

  it('waits a sane minimum and warns when the server hands out a lifetime shorter than the renewal point', async () => {
    const { clock, attempts, scheduler, log } = setUp((now) => ({ receivedAt: now, notAfter: now + SECOND }));
    scheduler.add('web', undefined);
    scheduler.start();
    await clock.advance(29 * SECOND);
    expect(attempts).toHaveLength(1);
    expect(log.lines).toContainEqual(expect.stringMatching(/^WARN \[web\] the server issued a certificate for only 1s, so its renewal point has passed already; waiting the minimum of 30s/));
    await clock.advance(2 * SECOND);
    expect(attempts).toHaveLength(2);
    await scheduler.stop();
  });

  it('after a suspend, notices the clock jump and renews at once when the certificate has become due', async () => {
    const { clock, attempts, scheduler, log } = setUp(day);
    scheduler.add('web', day(clock.now()));
    scheduler.start();
    await clock.advance(MINUTE);
    expect(attempts).toHaveLength(0);
    // 20 hours asleep: monotonic time (and every timer) stood still.
    clock.jump(20 * HOUR);
    await clock.advance(SETTINGS.checkIntervalMs);
    expect(attempts).toHaveLength(1);
    expect(log.lines).toContainEqual(expect.stringMatching(/^WARN \[agent\] the wall clock jumped ahead 20h/));
    await scheduler.stop();
  });

  it('notices a jump that leaves the certificate not yet due, and does not renew', async () => {
    const { clock, attempts, scheduler, log } = setUp(day);
    scheduler.add('web', day(clock.now()));
    scheduler.start();
    clock.jump(HOUR);
    await clock.advance(SETTINGS.checkIntervalMs);
    expect(log.lines).toContainEqual(expect.stringMatching(/^WARN \[agent\] the wall clock jumped ahead 1h/));
    expect(attempts).toHaveLength(0);
    clock.jump(-2 * HOUR);
    await clock.advance(SETTINGS.checkIntervalMs);
    expect(log.lines).toContainEqual(expect.stringMatching(/^WARN \[agent\] the wall clock jumped back 2h/));
    expect(attempts).toHaveLength(0);
    await scheduler.stop();
  });

  it('stops: nothing more is attempted', async () => {
    const { clock, attempts, scheduler } = setUp(day);
    scheduler.add('web', undefined);
    scheduler.start();
    await clock.advance(0);
    await scheduler.stop();
    await clock.advance(48 * HOUR);
    expect(attempts).toHaveLength(1);
  });
});
