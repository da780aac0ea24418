import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_PLATEAU_GROWTH_PERCENT, rssPlateau, soakIsFlat, type RssSample } from '../../../bench/rss_plateau';

/** A sample every 30 s for 10 minutes, as the soak takes them. */
const soak = (rss: (seconds: number) => number): RssSample[] => Array.from({ length: 21 }, (_, i) => ({ seconds: 30 * i, rssMiB: rss(30 * i) }));

/** The soak of 2026-12-06 (Node 24): +48 % in its first two minutes, then level. */
const recorded = (JSON.parse(readFileSync(join(__dirname, '../../../bench/results/sign-2026-12-06T094855Z-soak.json'), 'utf8')) as { soak: { samples: RssSample[] } }).soak.samples;

describe('the soak is judged on its plateau', () => {
  it('passes a heap that grows while V8 sizes it and then stays level (the soak of 2026-12-06)', () => {
    const plateau = rssPlateau(recorded)!;
    expect(plateau.fromSeconds).toBe(120);
    expect(plateau.toSeconds).toBe(600);
    expect(plateau.growthPercent).toBeLessThan(2);
    expect(soakIsFlat(plateau, 0)).toBe(true);
  });

  it('fails a leak that keeps climbing after the warm-up, even a slow one under the noise of single samples', () => {
    // 5 MiB a minute on ~700 MiB, with ±25 MiB of collector swing on every other sample.
    const leak = soak((t) => 700 + (5 * t) / 60 + (t % 60 === 0 ? 25 : -25));
    const plateau = rssPlateau(leak)!;
    expect(plateau.slopeMiBPerMinute).toBeCloseTo(5, 0);
    expect(plateau.growthPercent).toBeGreaterThan(MAX_PLATEAU_GROWTH_PERCENT);
    expect(soakIsFlat(plateau, 0)).toBe(false);
  });

  it('fails a steady leak from the start, whatever the warm-up', () => {
    expect(soakIsFlat(rssPlateau(soak((t) => 500 + t / 2)), 0)).toBe(false);
  });

  it('fails a level soak that had errors', () => {
    expect(soakIsFlat(rssPlateau(soak(() => 700)), 1)).toBe(false);
    expect(soakIsFlat(rssPlateau(soak(() => 700)), 0)).toBe(true);
  });

  it('does not judge a soak too short to show a plateau (errors still fail it)', () => {
    const short = soak(() => 700).filter((sample) => sample.seconds <= 180);
    expect(rssPlateau(short)).toBeUndefined();
    expect(soakIsFlat(undefined, 0)).toBeUndefined();
    expect(soakIsFlat(undefined, 3)).toBe(false);
  });
});
