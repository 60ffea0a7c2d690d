// Time and ids come in through these small interfaces so tests can drive them (fake clocks for
// escalation and supervision, fixed ids for fixtures). Shared by gateway and server.
import { monotonicFactory } from 'ulid';

export interface Clock {
  now(): number;
  iso(): string;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  iso: () => new Date().toISOString(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

export interface IdSource {
  next(): string;
}

/** ULIDs: unique, sortable by time, safe in MQTT topics and URLs. */
export function ulidSource(): IdSource {
  const next = monotonicFactory();
  return { next: () => next() };
}
