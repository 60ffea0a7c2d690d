// The one backoff helper of the repository: every retry and reconnect delay comes from here
// (gateway uplink, serial ports and the alarm output, simulators, SMPP binds, webhook retries,
// telemetry writes, the dashboard's live feed). The ceiling doubles from `baseMs` to `capMs`; each
// delay is drawn in [minShare * ceiling, ceiling). Full jitter (minShare 0, the default) is for
// many clients dialling one server: without it, every gateway of a restarted server retries in the
// same instant and each login's password check lands at once (issue 13: 300 uplinks within one
// ~1 s window). minShare 1 is plain doubling, for a retry only this process makes (a local port,
// a store) or whose time is written down (a webhook's next attempt).

export interface BackoffOptions {
  /** The first ceiling. */
  baseMs: number;
  /** No delay is longer than this. */
  capMs: number;
  /** The share of the ceiling every delay keeps: 0 full jitter (default), 0.75 a little, 1 none. */
  minShare?: number;
  /** Uniform in [0, 1); injected so tests can fix it. */
  random?: () => number;
}

/** The ceiling before retry number `attempt` (0 for the first retry): baseMs * 2^attempt, capped. */
export function backoffCeiling(attempt: number, opts: Pick<BackoffOptions, 'baseMs' | 'capMs'>): number {
  // 2^attempt overflows to Infinity long after it passed the cap; min() keeps it finite.
  return Math.min(opts.capMs, opts.baseMs * 2 ** Math.max(0, attempt));
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const ceiling = backoffCeiling(attempt, opts);
  const minShare = Math.min(1, Math.max(0, opts.minShare ?? 0));
  if (minShare === 1) return ceiling;
  const random = opts.random ?? Math.random;
  return Math.floor(ceiling * (minShare + (1 - minShare) * random()));
}

/** A retry counter: `next()` gives the delay before the next attempt, `reset()` after a success. */
export function createBackoff(opts: BackoffOptions) {
  let attempt = 0;
  return {
    next(): number {
      const delay = backoffDelay(attempt, opts);
      attempt += 1;
      return delay;
    },
    reset(): void {
      attempt = 0;
    },
    get attempts(): number {
      return attempt;
    },
  };
}
export type Backoff = ReturnType<typeof createBackoff>;

/** The defaults for a gateway's uplink: first retry within 1 s, none later than 30 s apart. */
export const UPLINK_BACKOFF = { baseMs: 1000, capMs: 30_000 } as const;
/** A local device port (serial adapter, alarm output): 1 s, doubling to 30 s, no jitter. */
export const PORT_BACKOFF = { baseMs: 1000, capMs: 30_000, minShare: 1 } as const;

/** What reconnectWithBackoff needs of an MQTT.js client (protocol/ imports no MQTT library). */
export interface ReconnectingClient {
  on(event: 'connect' | 'close' | 'end', listener: () => void): unknown;
  reconnect(opts?: { incomingStore?: unknown; outgoingStore?: unknown }): unknown;
  readonly disconnecting: boolean;
  readonly disconnected: boolean;
  incomingStore?: unknown;
  outgoingStore?: unknown;
}

/**
 * Reconnects a lost MQTT.js client (connected with `reconnectPeriod: 0`) after the backoff,
 * keeping its stores so QoS 1 messages not yet acknowledged go again. `end()` stops it.
 */
export function reconnectWithBackoff(client: ReconnectingClient, opts: BackoffOptions = UPLINK_BACKOFF): void {
  const backoff = createBackoff(opts);
  let timer: ReturnType<typeof setTimeout> | null = null;
  client.on('connect', () => backoff.reset());
  client.on('close', () => {
    // `end()` was called: the owner is done with this client.
    if (timer || client.disconnecting || client.disconnected) return;
    timer = setTimeout(() => {
      timer = null;
      if (client.disconnecting || client.disconnected) return;
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, backoff.next());
  });
  client.on('end', () => {
    if (timer) clearTimeout(timer);
    timer = null;
  });
}
