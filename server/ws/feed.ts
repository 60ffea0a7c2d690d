// The live feed behind `/ws`: every alarm change and device status gets a sequence number and
// goes to each connected screen allowed to see it. A bounded history serves `since=` catch-up;
// a client too far behind (or from before a restart) gets a fresh snapshot instead.
//
// Sequence numbers are `epoch * 2^33 + n`, where the epoch is a counter in the shared database
// taken at start: no two instances (and no two starts of one) ever hand out the same number, so a
// screen that moves to another instance behind a load balancer, or comes back after a restart, is
// never caught up from someone else's numbering: it gets a snapshot.
import type { Logger } from 'pino';
import type { Alarm, WsMessage } from '../../protocol/index.ts';
import type { AlarmScope } from '../storage/alarms.ts';

export interface FeedClient {
  userId: string;
  send(data: string): void;
  bufferedAmount: number;
  terminate(): void;
  canSee(alarm: Alarm): boolean;
  /** `canSee` as a query filter: the snapshot is read for this scope, then limited. */
  scope: AlarmScope;
  canSeeStatus(gatewayId: string): boolean;
}

type Entry = { seq: number; message: WsMessage; alarm?: Alarm; gatewayId?: string };

export interface FeedOptions {
  /** From `nextCounter('feed_epoch')`: the start of this feed's own range of sequence numbers. */
  epoch: number;
  maxHistory?: number;
  /** A screen that stops reading is cut off past this many unsent bytes, not buffered forever. */
  maxBufferedBytes?: number;
  /** Screens one user may have open on this instance [50: a shared ward account on many tablets]; one more is refused (closed at once). */
  maxScreensPerUser?: number;
  /** Screens open on this instance in all [5,000]; one more is refused. */
  maxScreens?: number;
  /** A screen was refused for one of the caps above (counted in a metric). */
  onRefused?: (reason: 'per_user' | 'total') => void;
}

/** Numbers one epoch may hand out: 8.6 billion feed messages, decades at a busy home's rate. */
export const EPOCH_SPAN = 2 ** 33;
/** Epochs wrap after a million starts, keeping every number below 2^53 (exact in JSON). */
const EPOCHS = 2 ** 20;

/**
 * `loadOpenAlarms(scope)` reads the open alarms of one caller's scope: every active high-priority
 * one, and the newest of the rest up to a cap (filtering all sites' newest after a limit would let
 * one site's flood empty another site's screen).
 */
export function createFeed(log: Logger, loadOpenAlarms: (scope: AlarmScope) => Promise<Alarm[]>, options: FeedOptions) {
  const opts = { maxHistory: 20_000, maxBufferedBytes: 4 * 1024 * 1024, maxScreensPerUser: 50, maxScreens: 5_000, ...options };
  const base = ((options.epoch % (EPOCHS - 1)) + 1) * EPOCH_SPAN;
  let seq = base;
  const history: Entry[] = [];
  const clients = new Set<FeedClient>();
  /** Screens per user: each costs a snapshot read and a send buffer, so one account cannot open thousands. */
  const screensOf = new Map<string, number>();
  function remove(c: FeedClient) {
    if (!clients.delete(c)) return;
    const n = (screensOf.get(c.userId) ?? 1) - 1;
    if (n > 0) screensOf.set(c.userId, n);
    else screensOf.delete(c.userId);
  }
  /** Who is on duty for an alarm: their screens are served first. Set once shifts exist. */
  let onDutyFor: ((alarm: Alarm) => Set<string>) | null = null;

  const visible = (c: FeedClient, e: Entry) => (e.alarm ? c.canSee(e.alarm) : e.gatewayId ? c.canSeeStatus(e.gatewayId) : true);

  function deliver(c: FeedClient, data: string) {
    if (c.bufferedAmount > opts.maxBufferedBytes) {
      log.warn({ buffered: c.bufferedAmount }, 'screen not reading its feed; disconnected so it reconnects and catches up');
      remove(c);
      c.terminate();
      return;
    }
    c.send(data);
  }

  function push(entry: Omit<Entry, 'seq'>) {
    seq += 1;
    const e = { ...entry, seq, message: { ...entry.message, seq } } as Entry;
    history.push(e);
    // Trim in steps of a tenth, not one entry per message: shifting 20,000 entries per push is O(n).
    if (history.length > opts.maxHistory * 1.1) history.splice(0, history.length - opts.maxHistory);
    const data = JSON.stringify(e.message);
    const first = e.alarm && onDutyFor ? onDutyFor(e.alarm) : null;
    if (first && first.size > 0) {
      for (const c of clients) if (first.has(c.userId) && visible(c, e)) deliver(c, data);
      for (const c of clients) if (!first.has(c.userId) && visible(c, e)) deliver(c, data);
    } else {
      for (const c of clients) if (visible(c, e)) deliver(c, data);
    }
  }

  async function sendSnapshot(c: FeedClient, open?: Alarm[]) {
    const from = seq;
    const alarms = (open ?? (await loadOpenAlarms(c.scope))).filter((a) => c.canSee(a));
    deliver(c, JSON.stringify({ type: 'snapshot', seq: from, alarms }));
    // Whatever changed while the snapshot was read follows it; the screen upserts by id.
    for (const e of history) if (e.seq > from && visible(c, e)) deliver(c, JSON.stringify(e.message));
  }

  return {
    get seq() {
      return seq;
    },
    get clientCount() {
      return clients.size;
    },
    connectedUsers(): Set<string> {
      return new Set([...clients].map((c) => c.userId));
    },
    serveFirst(fn: (alarm: Alarm) => Set<string>) {
      onDutyFor = fn;
    },
    publishAlarm(alarm: Alarm) {
      push({ message: { type: 'alarm', seq: 0, alarm }, alarm });
    },
    publishDeviceStatus(s: { gatewayId: string; deviceId: string | null; state: string; lastSeen: string | null; battery: number | null }) {
      push({ message: { type: 'device_status', seq: 0, ...s }, gatewayId: s.gatewayId });
    },
    /** Adds a screen: a snapshot, or with `since` only what it missed when that is still held. Over a cap: closed, false. */
    async attach(c: FeedClient, since?: number): Promise<boolean> {
      const mine = screensOf.get(c.userId) ?? 0;
      const over = mine >= opts.maxScreensPerUser ? 'per_user' : clients.size >= opts.maxScreens ? 'total' : null;
      if (over) {
        log.warn({ reason: over, screens: clients.size }, 'security: screen refused, too many open');
        opts.onRefused?.(over);
        c.terminate();
        return false;
      }
      clients.add(c);
      screensOf.set(c.userId, mine + 1);
      const oldest = history[0]?.seq ?? seq + 1;
      if (since !== undefined && since >= base && since <= seq && since >= oldest - 1) {
        for (const e of history) if (e.seq > since && visible(c, e)) deliver(c, JSON.stringify(e.message));
        return true;
      }
      await sendSnapshot(c);
      return true;
    },
    /** Every screen gets a fresh snapshot: after a gap in the cross-instance feed, nothing is assumed. */
    async resyncAll() {
      if (clients.size === 0) return;
      // Read once per scope, not once per screen.
      const byScope = new Map<string, Promise<Alarm[]>>();
      await Promise.all(
        [...clients].map(async (c) => {
          const key = JSON.stringify(c.scope);
          let open = byScope.get(key);
          if (!open) {
            open = loadOpenAlarms(c.scope);
            byScope.set(key, open);
          }
          await sendSnapshot(c, await open);
        }),
      );
    },
    /**
     * The screen's scope was read again: when an open alarm it can now see was hidden before
     * (`wasHidden`), it gets a fresh snapshot. True when one was sent.
     */
    async refresh(c: FeedClient, wasHidden: (alarm: Alarm) => boolean): Promise<boolean> {
      if (!clients.has(c)) return false;
      const open = await loadOpenAlarms(c.scope);
      if (!clients.has(c) || !open.some((a) => c.canSee(a) && wasHidden(a))) return false;
      await sendSnapshot(c, open);
      return true;
    },
    detach(c: FeedClient) {
      remove(c);
    },
    closeAll() {
      for (const c of clients) c.terminate();
      clients.clear();
      screensOf.clear();
    },
  };
}
export type Feed = ReturnType<typeof createFeed>;
