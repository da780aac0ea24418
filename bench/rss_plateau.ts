// Whether a soak's memory is flat. Node 24's V8 sizes a busy process's heap in its first minutes of
// load (its new space grows to 128 MiB on this machine, against Node 20's 32, and the old
// generation's next collection moves out with the allocation rate), so RSS right after the warm-up
// is not the level it settles at. A leak keeps climbing after that; a heap being sized does not. So
// the soak is judged on the line through its samples once the heap has settled.

/** When V8 has sized the heap under the benchmark's load (bench/README.md, "The soak"). */
export const SETTLE_SECONDS = 120;
/** A plateau shorter than this says too little to judge (a soak of under 7 minutes). */
export const MIN_PLATEAU_SECONDS = 300;
/** The most the fitted line may rise over the plateau, as a share of where it starts. */
export const MAX_PLATEAU_GROWTH_PERCENT = 5;

export interface RssSample {
  readonly seconds: number;
  readonly rssMiB: number;
}

/** The least-squares line through the samples from SETTLE_SECONDS on. */
export interface RssPlateau {
  readonly fromSeconds: number;
  readonly toSeconds: number;
  /** The line's value at the first and the last sample. */
  readonly startMiB: number;
  readonly endMiB: number;
  readonly slopeMiBPerMinute: number;
  /** endMiB against startMiB. */
  readonly growthPercent: number;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** The plateau's line, or undefined when the samples after settling span less than MIN_PLATEAU_SECONDS. */
export function rssPlateau(samples: readonly RssSample[]): RssPlateau | undefined {
  const settled = samples.filter((sample) => sample.seconds >= SETTLE_SECONDS);
  if (settled.length < 3 || settled[settled.length - 1].seconds - settled[0].seconds < MIN_PLATEAU_SECONDS) return undefined;
  const meanT = settled.reduce((sum, s) => sum + s.seconds, 0) / settled.length;
  const meanRss = settled.reduce((sum, s) => sum + s.rssMiB, 0) / settled.length;
  const slope = settled.reduce((sum, s) => sum + (s.seconds - meanT) * (s.rssMiB - meanRss), 0) / settled.reduce((sum, s) => sum + (s.seconds - meanT) ** 2, 0);
  const fromSeconds = settled[0].seconds;
  const toSeconds = settled[settled.length - 1].seconds;
  const startMiB = meanRss + slope * (fromSeconds - meanT);
  const endMiB = meanRss + slope * (toSeconds - meanT);
  return { fromSeconds, toSeconds, startMiB: round1(startMiB), endMiB: round1(endMiB), slopeMiBPerMinute: round1(slope * 60), growthPercent: round1((100 * (endMiB - startMiB)) / startMiB) };
}

/** Flat: the plateau rises by at most MAX_PLATEAU_GROWTH_PERCENT and nothing failed; undefined when it cannot be judged. */
export function soakIsFlat(plateau: RssPlateau | undefined, errors: number): boolean | undefined {
  if (errors > 0) return false;
  return plateau === undefined ? undefined : plateau.growthPercent <= MAX_PLATEAU_GROWTH_PERCENT;
}
