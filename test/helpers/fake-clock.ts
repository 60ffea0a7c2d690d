// A fake clock for escalation and supervision tests: time moves only when the test says so.
import type { Clock } from '../../protocol/index.ts';

export class FakeClock implements Clock {
  private t: number;
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  constructor(start = Date.now()) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  iso(): string {
    return new Date(this.t).toISOString();
  }
  setTimeout(fn: () => void, ms: number) {
    const timer = { at: this.t + ms, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
  /** Moves time forward, firing timers that fall due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.cancelled && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }
}
