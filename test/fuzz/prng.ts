// A small seeded PRNG for the fuzz test. Each case draws from its own stream, derived from the run's
// seed and the case index, so one case replays alone (MAYFLY_FUZZ_SEED + MAYFLY_FUZZ_ONLY) without
// running the cases before it.

/** splitmix32's finaliser: a 32-bit mix with full avalanche. */
function mix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128**: fast, 128 bits of state, good enough statistics for choosing mutations. */
export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number, stream = 0) {
    const a = mix32(seed ^ 0x9e3779b9);
    const b = mix32(a ^ mix32(stream + 0x632be5ab));
    this.s0 = mix32(b + 1) | 1;
    this.s1 = mix32(b + 2);
    this.s2 = mix32(b + 3);
    this.s3 = mix32(b + 4);
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    if (n <= 0) return 0;
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** An integer in [min, max], inclusive. */
  int(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.below(items.length)];
  }

  /** One of `choices`, each with its weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [weight]) => sum + weight, 0);
    let roll = this.next() / 0x1_0000_0000 * total;
    for (const [weight, value] of choices) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return choices[choices.length - 1][1];
  }

  /** A size skewed towards small values: mostly < 16, sometimes up to `max`. */
  size(max: number): number {
    const bits = this.below(Math.max(1, Math.ceil(Math.log2(max + 1))) + 1);
    return Math.min(max, this.below(2 ** bits));
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The PRNG of case `index` in the run seeded `seed`. */
export const caseRng = (seed: number, index: number): Prng => new Prng(seed, index);

/** A seed from the environment (decimal or 0x hex), or a fresh random one. */
export function seedFrom(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return (Math.random() * 0x1_0000_0000) >>> 0;
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new Error(`MAYFLY_FUZZ_SEED must be an integer from 0 to 4294967295, not ${JSON.stringify(text)}`);
  return value;
}
