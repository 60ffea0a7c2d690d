// The uplink to the server's broker. Sends outbox events in seq order (QoS 1) with a bounded
// window, deletes them only when the server's `committed` command names them, and resends what
// stays unconfirmed (after a reconnect, or a timeout). Telemetry goes in its own lane behind
// events. Publishes retained `status` and sets the offline last will. Events the outbox could not
// take (disk full) go in a bounded memory lane ahead of the outbox, kept until confirmed like any
// other but lost if the gateway stops. Reconnects back off exponentially with full jitter.
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  type BackoffOptions,
  backoffDelay,
  createBackoff,
  createDecoder,
  GatewayCmd,
  type GatewayStatus,
  gatewayTopic,
  UPLINK_BACKOFF,
} from '../../protocol/index.ts';
import type { Outbox } from '../outbox/outbox.ts';

const decodeCmd = createDecoder(GatewayCmd);

export interface UplinkOptions {
  url: string;
  siteId: string;
  gatewayId: string;
  secret: string;
  /** Events sent but not yet confirmed, at most. */
  window?: number;
  /** An unconfirmed event is sent again after this long. */
  resendAfterMs?: number;
  tls?: { ca?: string; cert?: string; key?: string };
  /** Delays between connection attempts (full jitter). */
  backoff?: BackoffOptions;
  /** Events held in memory when the outbox cannot take them, at most. */
  maxMemoryEvents?: number;
}

export interface UplinkEvents {
  onConnectionChange?: (connected: boolean) => void;
  onAlarmAck?: (cmd: { alarmId: string; deviceId: string | null; state: string }) => void;
  /** An outbox read or write threw: the uplink carries on, the gateway reports the fault. */
  onStoreError?: (what: string, err: unknown) => void;
}

export function createUplink(opts: UplinkOptions, outbox: Outbox, log: Logger, events: UplinkEvents = {}) {
  const window = opts.window ?? 200;
  const resendAfterMs = opts.resendAfterMs ?? 15_000;
  const topic = (kind: 'events' | 'telemetry' | 'status' | 'cmd') => gatewayTopic(opts.siteId, opts.gatewayId, kind);
  let client: MqttClient | null = null;
  let connected = false;
  /** Highest seq handed to the MQTT client in this connection. */
  let sentUpTo = 0;
  const inFlight = new Map<string, { seq: number; sentAt: number }>();
  let telemetryInFlight = 0;
  let resendTimer: NodeJS.Timeout | null = null;
  let lastStatus: GatewayStatus | null = null;
  const maxMemoryEvents = opts.maxMemoryEvents ?? 1000;
  /** Events only in memory (outbox unwritable), in arrival order, until the server commits them. */
  const memory = new Map<string, { payload: string; sentAt: number | null }>();
  let memoryDropped = 0;

  const storeError = (what: string, err: unknown) => events.onStoreError?.(what, err);

  function pumpMemory(c: MqttClient) {
    for (const [id, m] of memory) {
      if (m.sentAt !== null) continue;
      m.sentAt = Date.now();
      c.publish(topic('events'), m.payload, { qos: 1 }, (err) => {
        if (err) log.warn({ err: err.message, eventId: id }, 'event publish failed; will resend');
      });
    }
  }

  function pump() {
    try {
      pumpOutbox();
    } catch (err) {
      storeError('read', err);
    }
  }

  function pumpOutbox() {
    if (!client || !connected) return;
    pumpMemory(client);
    const room = window - inFlight.size;
    if (room > 0) {
      for (const e of outbox.pendingEvents(sentUpTo, room)) {
        sentUpTo = e.seq;
        inFlight.set(e.id, { seq: e.seq, sentAt: Date.now() });
        client.publish(topic('events'), e.payload, { qos: 1 }, (err) => {
          if (err) log.warn({ err: err.message, eventId: e.id }, 'event publish failed; will resend');
        });
      }
    }
    // Telemetry only when no event is waiting to go out.
    if (inFlight.size < window && outbox.pendingEvents(sentUpTo, 1).length === 0 && telemetryInFlight === 0) {
      for (const t of outbox.oldestTelemetry(4)) {
        telemetryInFlight += 1;
        client.publish(topic('telemetry'), t.payload, { qos: 1 }, (err) => {
          telemetryInFlight = Math.max(0, telemetryInFlight - 1);
          // Telemetry leaves on PUBACK: a reading lost in a server crash is not an alarm lost.
          try {
            if (!err) outbox.removeTelemetry(t.rowid);
          } catch (e) {
            storeError('remove telemetry', e);
          }
          pump();
        });
      }
    }
  }

  function resendStale() {
    const cutoff = Date.now() - resendAfterMs;
    for (const m of memory.values()) if (m.sentAt !== null && m.sentAt < cutoff) m.sentAt = null;
    let oldest = Number.POSITIVE_INFINITY;
    for (const f of inFlight.values()) if (f.sentAt < cutoff) oldest = Math.min(oldest, f.seq);
    if (oldest !== Number.POSITIVE_INFINITY) {
      log.warn({ fromSeq: oldest }, 'events unconfirmed too long; resending');
      for (const [id, f] of inFlight) if (f.seq >= oldest) inFlight.delete(id);
      sentUpTo = oldest - 1;
      pump();
    }
  }

  function onCommitted(ids: string[]) {
    try {
      outbox.confirm(ids);
    } catch (err) {
      // They stay in the outbox and go again; the server stores each id once.
      storeError('confirm', err);
    }
    for (const id of ids) {
      inFlight.delete(id);
      memory.delete(id);
    }
    pump();
  }

  /** An event the outbox could not take: sent from memory, ahead of the outbox's backlog. */
  function sendFromMemory(id: string, payload: string) {
    if (memory.size >= maxMemoryEvents) {
      const oldest = memory.keys().next().value as string;
      memory.delete(oldest);
      memoryDropped += 1;
      log.error({ eventId: oldest, dropped: memoryDropped }, 'memory lane full: oldest unconfirmed event dropped');
    }
    memory.set(id, { payload, sentAt: null });
    pump();
  }

  function publishStatus(status: GatewayStatus) {
    lastStatus = status;
    if (client && connected) client.publish(topic('status'), JSON.stringify(status), { qos: 1, retain: true });
  }

  // Several comma-separated URLs: server instances of one cluster, tried in turn.
  const urls = opts.url.split(',').map((u) => u.trim());
  let attempt = 0;
  const backoffOptions = opts.backoff ?? UPLINK_BACKOFF;
  const backoff = createBackoff(backoffOptions);
  let stopped = true;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let reconnectDueAt = 0;
  /** An event is waiting: the next attempt comes within the first backoff step, not the current one. */
  function eventWaiting() {
    if (stopped || connected || !reconnectTimer) return;
    const soon = backoffDelay(0, { ...backoffOptions, capMs: Math.min(backoffOptions.capMs, 1000) });
    if (reconnectDueAt - Date.now() <= soon) return;
    clearTimeout(reconnectTimer);
    scheduleReconnect(soon);
  }
  function scheduleReconnect(delay: number) {
    reconnectDueAt = Date.now() + delay;
    reconnectTimer = setTimeout(connect, delay);
  }

  /**
   * One MQTT client per connection, never mqtt.js's own reconnect: its store would resend the
   * messages it had not seen PUBACKed ahead of ones that were PUBACKed but never committed, and
   * events would reach the server out of seq order. The outbox alone resends, in order.
   */
  function connect() {
    reconnectTimer = null;
    if (stopped) return;
    const url = urls[attempt % urls.length] as string;
    attempt += 1;
    log.debug({ url, attempt }, 'uplink connecting');
    const c = mqtt.connect(url, {
      clientId: opts.gatewayId,
      username: opts.gatewayId,
      password: opts.secret,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      queueQoSZero: false,
      ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
      ...(opts.tls?.cert ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
      will: { topic: topic('status'), payload: Buffer.from(JSON.stringify({ v: 1, state: 'offline' })), qos: 1, retain: true },
    });
    client = c;
    c.on('connect', () => {
      connected = true;
      backoff.reset();
      // Everything unconfirmed goes again: the server de-duplicates by event id.
      sentUpTo = 0;
      inFlight.clear();
      for (const m of memory.values()) m.sentAt = null;
      log.info({ url }, 'uplink connected');
      c.subscribe(topic('cmd'), { qos: 1 }, (err) => {
        if (err) log.error({ err: err.message }, 'could not subscribe to cmd');
      });
      if (lastStatus) publishStatus({ ...lastStatus, state: 'online', ts: new Date().toISOString() });
      events.onConnectionChange?.(true);
      pump();
    });
    c.on('close', () => {
      if (client !== c) return;
      if (connected) {
        log.warn('uplink lost');
        events.onConnectionChange?.(false);
      }
      connected = false;
      telemetryInFlight = 0;
      client = null;
      c.end(true);
      if (!stopped && !reconnectTimer) scheduleReconnect(backoff.next());
    });
    c.on('error', (err) => log.warn({ err: err.message }, 'uplink error'));
    c.on('message', (_t, payload) => {
      const d = decodeCmd.decode(payload);
      if (!d.ok) return log.warn({ error: d.error }, 'bad command from server ignored');
      if (d.value.type === 'committed') onCommitted(d.value.ids);
      else events.onAlarmAck?.(d.value);
    });
  }

  return {
    start() {
      stopped = false;
      connect();
      resendTimer = setInterval(resendStale, Math.min(resendAfterMs, 5000));
    },
    /** Call after the outbox gained something. */
    kick: pump,
    /**
     * An event was accepted: while disconnected, retry within a second instead of waiting out a
     * long backoff step, so a call is not held back by the jitter that protects the server.
     * Events are rare next to readings, so this does not bring the herd back.
     */
    eventWaiting,
    sendFromMemory,
    /** Events held only in memory, not yet confirmed. */
    memoryCount: () => memory.size,
    publishStatus,
    get connected() {
      return connected;
    },
    inFlightCount: () => inFlight.size,
    async stop() {
      stopped = true;
      if (memory.size > 0) log.error({ events: memory.size }, 'stopping with events held only in memory: not confirmed by the server');
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (resendTimer) clearInterval(resendTimer);
      const c = client;
      client = null;
      if (!c) return;
      // A clean stop says "offline" itself; the will is for unclean ones. Never wait long on a
      // broker that may be gone.
      const within = (p: Promise<unknown>, ms: number) => Promise.race([p, new Promise((r) => setTimeout(r, ms))]);
      if (connected) {
        await within(
          new Promise<void>((resolve) =>
            c.publish(
              topic('status'),
              JSON.stringify({ v: 1, state: 'offline', ts: new Date().toISOString() }),
              { qos: 1, retain: true },
              () => resolve(),
            ),
          ),
          2000,
        );
      }
      await within(c.endAsync(), 2000);
      c.end(true);
      connected = false;
    },
  };
}
export type Uplink = ReturnType<typeof createUplink>;
