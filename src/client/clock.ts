/**
 * Time as the renewal agent sees it, injectable so a test can jump the wall clock. The wall clock
 * says when a certificate expires; the monotonic clock measures how long the process really waited.
 * On Linux neither monotonic time nor Node's timers advance while the machine is suspended, so after
 * a resume the wall clock is ahead of what the timers saw: that gap is how a jump is noticed.
 */
export interface Clock {
  /** Wall-clock time, ms since the epoch. */
  now(): number;
  /** Monotonic time, ms from an arbitrary origin; never jumps. */
  monotonic(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** Opaque: whatever the clock's setTimer returned. */
export type TimerHandle = { readonly timer: unknown };

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: (callback, delayMs) => ({ timer: setTimeout(callback, Math.max(0, Math.min(delayMs, 2 ** 31 - 1))) }),
  clearTimer: (handle) => clearTimeout(handle.timer as NodeJS.Timeout),
};

/**
 * "2m30s", "450ms": a duration for log lines and `agent status`, cut to whole seconds, never rounded
 * up: a certificate 23h59m59.6s from its expiry is "in 23h59m59s", not "in 1d".
 */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.floor(Math.abs(ms));
  if (rest < 1000) return `${sign}${rest}ms`;
  rest = Math.floor(rest / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return sign + parts.join('');
}
