// A clock for the renewal scheduler whose wall time can jump without monotonic time passing, as
// across a suspend. Timers are kept on monotonic time, like Node's.
import type { Clock, TimerHandle } from '../../../src/client/clock';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** Lets pending promise callbacks (an attempt that has resolved) run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  private mono = 0;
  private nextId = 1;
  private timers: Timer[] = [];

  constructor(private wall: number = Date.parse('2026-11-23T00:00:00Z')) {}

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.mono + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return { timer: timer.id };
  }

  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle.timer);
  }

  /** Time passes for real: both clocks move, and timers fire in order. */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.wall += due.at - this.mono;
      this.mono = due.at;
      due.callback();
      await settle();
    }
    this.wall += end - this.mono;
    this.mono = end;
  }

  /** A suspend (or the clock being set): only the wall clock moves, and no timer fires. */
  jump(ms: number): void {
    this.wall += ms;
  }
}
