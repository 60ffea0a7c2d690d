// What an MQTT connection may cost before it has proved who it is. Every listener (plain and TLS)
// admits a new socket only while fewer than `maxPending` sockets (and fewer than
// `maxPendingPerAddress` from its address) are waiting to authenticate; a socket not authenticated
// within `connectTimeoutMs` of being accepted is closed; and every packet's declared size is read
// from its fixed header as the bytes arrive, so a packet over the limit closes the connection
// before the broker's parser buffers it: `maxConnectBytes` until authenticated, `maxPacketBytes` after.
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { FrameSizeWatch } from './frame-size.ts';

export interface ConnectionLimits {
  /** Largest packet (remaining length) an authenticated gateway may send. */
  maxPacketBytes: number;
  /** Largest packet before authentication: a CONNECT with its will is a few hundred bytes. */
  maxConnectBytes: number;
  /** From TCP accept to authenticated (TLS handshake, CONNECT, secret check included). */
  connectTimeoutMs: number;
  /** Sockets accepted but not yet authenticated, on all listeners together. */
  maxPending: number;
  /** The same, from one remote address. */
  maxPendingPerAddress: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxPacketBytes: 1024 * 1024, // 1 MiB: the largest schema-valid telemetry batch is about 0.9 MB
  maxConnectBytes: 64 * 1024, // 64 KiB
  connectTimeoutMs: 10_000, // 10 s
  maxPending: 1000,
  maxPendingPerAddress: 100,
};

export interface Slot {
  address: string;
  authenticated: boolean;
  released: boolean;
  timer: NodeJS.Timeout;
}

export interface ConnectionGuard {
  /** A socket just accepted: its slot, or null when it was refused (and destroyed). */
  admit(raw: net.Socket): Slot | null;
  /** Watches the packet sizes on `stream` (the socket Aedes reads: the raw one, or TLS over it). */
  watch(stream: Duplex, slot: Slot): void;
  /** The connection on `stream` has authenticated: larger packets, no longer pending. */
  authenticated(stream: unknown): void;
  pending(): number;
}

export function createConnectionGuard(limits: ConnectionLimits, deps: { log: Logger; metrics: Metrics }): ConnectionGuard {
  const { log, metrics } = deps;
  let pending = 0;
  const perAddress = new Map<string, number>();
  const slotOf = new WeakMap<object, Slot>();
  // Under attack these happen thousands of times a second: one log line per kind per 10 s.
  const lastLogged = new Map<string, { at: number; suppressed: number }>();
  const refuse = (kind: string, fields: Record<string, unknown>, msg: string) => {
    metrics.securityEvents.inc({ kind });
    const now = Date.now();
    const last = lastLogged.get(kind);
    if (last && now - last.at < 10_000) {
      last.suppressed += 1;
      return;
    }
    log.warn({ ...fields, kind, alsoSinceLastLine: last?.suppressed ?? 0 }, msg);
    lastLogged.set(kind, { at: now, suppressed: 0 });
  };

  function release(slot: Slot) {
    if (slot.released) return;
    slot.released = true;
    clearTimeout(slot.timer);
    pending -= 1;
    const n = (perAddress.get(slot.address) ?? 1) - 1;
    if (n > 0) perAddress.set(slot.address, n);
    else perAddress.delete(slot.address);
  }

  return {
    admit(raw) {
      const address = raw.remoteAddress ?? 'unknown';
      const fromAddress = perAddress.get(address) ?? 0;
      if (pending >= limits.maxPending || fromAddress >= limits.maxPendingPerAddress) {
        refuse('too_many_pending', { address, pending, fromAddress }, 'security: MQTT connection refused, too many waiting to log in');
        raw.destroy();
        return null;
      }
      pending += 1;
      perAddress.set(address, fromAddress + 1);
      const slot: Slot = {
        address,
        authenticated: false,
        released: false,
        timer: setTimeout(() => {
          refuse('connect_timeout', { address }, 'security: MQTT connection closed, not logged in in time');
          raw.destroy();
        }, limits.connectTimeoutMs),
      };
      slot.timer.unref();
      raw.once('close', () => release(slot));
      return slot;
    },
    watch(stream, slot) {
      slotOf.set(stream, slot);
      const frames = new FrameSizeWatch();
      const limit = () => (slot.authenticated ? limits.maxPacketBytes : limits.maxConnectBytes);
      let refused = false;
      // Aedes reads with read() on 'readable'; a 'data' listener added after it sees each chunk
      // as Aedes reads it, before Aedes parses it, without changing the flow.
      stream.on('data', (chunk: Buffer) => {
        if (refused) return;
        const verdict = frames.feed(chunk, limit);
        if (verdict.ok) return;
        refused = true;
        if (verdict.reason === 'too_large') {
          refuse(
            'oversized',
            { address: slot.address, declared: verdict.declared, limit: limit(), authenticated: slot.authenticated },
            'security: MQTT packet over the size limit, connection closed',
          );
        } else {
          refuse('malformed_packet', { address: slot.address }, 'security: malformed MQTT packet length, connection closed');
        }
        stream.destroy();
      });
    },
    authenticated(stream) {
      const slot = typeof stream === 'object' && stream !== null ? slotOf.get(stream) : undefined;
      if (!slot) return;
      slot.authenticated = true;
      release(slot);
    },
    pending: () => pending,
  };
}
