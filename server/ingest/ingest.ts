// Ingest: everything gateways publish comes in here, from the embedded broker or an external one.
// Events are validated, de-duplicated by id and committed together with the alarms they raise in
// one transaction (group commit: whatever queued while the last commit ran goes in the next), then
// confirmed to the gateway. Telemetry goes to its own lane, off this thread (telemetry-lane.ts).
// Bad input is counted and logged, never thrown.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  createDecoder,
  type DeviceEvent,
  DeviceEvent as DeviceEventSchema,
  EVENT_LIMITS,
  type ParsedTopic,
  parseGatewayTopic,
} from '../../protocol/index.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { Supervision } from '../alarms/supervision.ts';
import type { Metrics } from '../metrics.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import type { Db, Device, Registry } from '../storage/registry.ts';
import type { Confirmations } from './confirmations.ts';
import { createDurableConfirm } from './durable-confirm.ts';
import { createGatewayStatus } from './gateway-status.ts';
import type { LookupCache } from './lookup-cache.ts';
import { createSenderCheck } from './senders.ts';
import { createEventStore, type EventContext, isOpenAlarmRace, newBatchWork, type QueuedEvent } from './store-event.ts';
import { testPauseBeforeCommit } from './test-pause.ts';

const decodeEvent = createDecoder(DeviceEventSchema, EVENT_LIMITS);

export interface DeviceStatusUpdate {
  gatewayId: string;
  deviceId: string | null;
  state: string;
  lastSeen: string | null;
  battery: number | null;
}

export interface IngestDeps {
  db: Db;
  registry: Registry;
  engine: AlarmEngine;
  /** Telemetry's own lane (telemetry-lane.ts): takes a checked sender's payload, never blocks. */
  telemetry: { submit(siteId: string, gatewayId: string, topic: string, payload: Uint8Array): void };
  confirmations: Confirmations;
  metrics: Metrics;
  log: Logger;
  now: () => string;
  onDeviceStatus: (u: DeviceStatusUpdate) => void;
  supervision: Supervision;
  lookups: LookupCache;
  alarms: AlarmStore;
  /** Devices under test raise test alarms. */
  deviceTests?: { inTest(deviceId: string): boolean; passed(deviceId: string, alarmId: string): Promise<void> };
  /** Battery percentage under which a device raises `low_battery`. */
  lowBatteryPercent?: number;
  /** Events waiting for a commit; past it new ones are left unconfirmed for the gateway to resend. */
  maxQueue?: number;
  /** Unknown devices with open alarms per gateway before the rest are summarised in one alarm. */
  unregisteredBudget?: number;
  /** Each batch's commit outcome, for the health check (ingest committing, or events waiting). */
  onCommit?: (ok: boolean) => void;
  /** Committed events from residents' devices, for the daily-living watch (never awaited). */
  onActivity?: (events: Array<{ event: DeviceEvent; device: Device }>) => void;
  /**
   * Resolves when what was committed before the call is on disk (`OpenedDatabase.durable`). Events
   * are confirmed to their gateway only after it; the screens do not wait for it.
   */
  durable?: () => Promise<void>;
}

const MAX_BATCH = 500;
/** The time one event transaction should hold the event loop for (see drain). */
const BATCH_BUDGET_MS = 8;
const defaultTimezone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * The queue and its batches: decode, queue in arrival order, commit batch by batch, then confirm and
 * tell the screens. Who sent it (senders.ts), how one event is stored and alarmed (store-event.ts),
 * when it is confirmed (durable-confirm.ts) and a gateway's status (gateway-status.ts) are their own.
 */
export function createIngest(deps: IngestDeps) {
  const { db, engine, metrics, log, now, lookups } = deps;
  const pauseBeforeCommit = testPauseBeforeCommit(log);
  const maxQueue = deps.maxQueue ?? 50_000;
  const queue: QueuedEvent[] = [];
  let draining: Promise<void> | null = null;
  /** Events the last transaction took (see drain). */
  let lastTaken = MAX_BATCH;
  let closed = false;

  function reject(kind: string, reason: string, topic: string, error: string) {
    metrics.rejected.inc({ kind, reason });
    log.warn({ topic, reason, error }, 'payload rejected');
  }
  const senders = createSenderCheck({ registry: deps.registry, metrics, log });
  const events = createEventStore({
    engine,
    supervision: deps.supervision,
    lookups,
    metrics,
    log,
    inTest: deps.deviceTests ? (id) => deps.deviceTests?.inTest(id) ?? false : undefined,
    unregisteredBudget: deps.unregisteredBudget,
  });
  const confirmer = createDurableConfirm({
    durable: deps.durable,
    confirmations: deps.confirmations,
    metrics,
    log,
    onFailed: () => deps.onCommit?.(false),
  });
  const onStatus = createGatewayStatus({ ...deps, reject });

  // Reads happen before the transaction: SQLite has one connection, and the transaction holds it.
  async function lookUp(batch: QueuedEvent[]): Promise<EventContext[]> {
    const sites = new Map<string, string>();
    const out: EventContext[] = [];
    for (const { event, topic, raw } of batch) {
      const sender = await senders.check(topic, raw);
      const device = await lookups.getDevice(event.device);
      const resident = device?.residentId ? await lookups.getResident(device.residentId) : undefined;
      let timezone = sites.get(topic.siteId);
      if (timezone === undefined) {
        timezone = (await lookups.getSite(topic.siteId))?.timezone ?? defaultTimezone;
        sites.set(topic.siteId, timezone);
      }
      out.push({ device, resident, timezone, sender });
    }
    return out;
  }

  /**
   * Commits a batch in one transaction. If that fails (other than a race on an open alarm), the
   * batch runs again `isolated`: each event in its own savepoint, so one event's failure (any
   * exception while storing or evaluating it) never takes the others down with it.
   */
  async function processBatch(offered: QueuedEvent[], attempt = 1, isolated = false): Promise<QueuedEvent[]> {
    const end = metrics.ingestLatency.startTimer();
    const work = newBatchWork();
    const receivedAt = now();
    let contexts: EventContext[] = [];
    let batch = offered;
    let left: QueuedEvent[] = [];
    try {
      contexts = await lookUp(batch);
      if (pauseBeforeCommit) await pauseBeforeCommit(batch.map((q) => q.event.id));
      await db.transaction().execute(async (tx) => {
        // The transaction ends once it has kept the event loop busy for BATCH_BUDGET_MS (the
        // SQLite driver answers in microtasks, so nothing else runs meanwhile); what is left goes
        // back to the head of the queue. Time waiting on a database server does not count.
        const since = performance.eventLoopUtilization();
        for (const [i, item] of batch.entries()) {
          if (i > 0 && performance.eventLoopUtilization(since).active >= BATCH_BUDGET_MS) {
            left = batch.slice(i);
            batch = batch.slice(0, i);
            contexts = contexts.slice(0, i);
            break;
          }
          const ctx = contexts[i] as EventContext;
          if (!ctx.sender) continue;
          if (isolated) await events.storeIsolated(tx, item, ctx, receivedAt, work);
          else await events.store(tx, item, ctx, receivedAt, work);
        }
      });
    } catch (err) {
      if (attempt < 5 && isOpenAlarmRace(err)) return processBatch(offered, attempt + 1, isolated);
      if (!isolated && offered.length > 0) {
        log.warn({ err, events: offered.length }, 'event batch failed; committing each event on its own');
        return processBatch(offered, 1, true);
      }
      metrics.storeErrors.inc({ store: 'state' });
      log.error({ err, events: offered.length }, 'event commit failed; gateways will resend');
      deps.onCommit?.(false);
      return [];
    } finally {
      end();
    }
    deps.onCommit?.(true);
    for (const t of work.tested) await deps.deviceTests?.passed(t.device, t.alarmId);
    // A caregiver's presence at the resident marks their open alarms "on site": escalation pauses.
    for (const c of work.caregiverAt) {
      for (const a of await deps.alarms.list({ open: true, residentId: c.residentId })) {
        if (!a.onSiteBy) await engine.markOnSite(a.id, c.by).catch(() => undefined);
      }
    }
    // Counted after the commit: a rolled-back attempt must not count.
    metrics.events.inc({ outcome: 'stored' }, work.stored);
    metrics.events.inc({ outcome: 'duplicate' }, work.duplicates);
    if (work.rejected > 0) metrics.events.inc({ outcome: 'rejected' }, work.rejected);
    confirmer.confirm(work.confirmed);
    for (const t of work.touched) deps.onDeviceStatus(t);
    if (deps.onActivity) {
      const seen = batch.flatMap(({ event, topic }, i) => {
        const device = contexts[i]?.sender ? contexts[i]?.device : undefined;
        return device?.residentId && device.gatewayId === topic.gatewayId ? [{ event, device }] : [];
      });
      if (seen.length > 0) deps.onActivity(seen);
    }
    await engine.publish(work.changed);
    return left;
  }

  function drain(): Promise<void> {
    // Group commit: start on the next turn of the event loop, so every message that arrived in the
    // same read is queued first and shares one transaction (one fsync). No timer: an event at an
    // idle server still commits at once.
    // Each transaction holds the event loop for at most about BATCH_BUDGET_MS (processBatch) and
    // the loop yields between them: a queue drained in 500-event transactions back to back held
    // it for hundreds of milliseconds under load (no screen write, no MQTT read, no timer between).
    // A batch offers a little more than the last one took, so events are rarely looked up twice.
    draining ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        while (queue.length > 0) {
          // Read from the head and removed once done: what a transaction leaves stays where it is
          // (no copy of a queue of up to maxQueue events back to its head) and counts toward the bound.
          const offered = queue.slice(0, Math.min(MAX_BATCH, 2 * lastTaken + 16));
          const left = await processBatch(offered);
          lastTaken = offered.length - left.length;
          queue.splice(0, lastTaken);
          if (queue.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        }
      })
      .finally(() => {
        draining = null;
      });
    return draining;
  }

  /** Telemetry leaves the alarm path here: decoded, stored and judged in the telemetry worker. */
  function onTelemetry(topic: ParsedTopic, raw: string, payload: Buffer) {
    deps.telemetry.submit(topic.siteId, topic.gatewayId, raw, payload);
  }

  return {
    /** Stop taking messages (shutdown): what is queued still commits with `drain`. */
    close() {
      closed = true;
    },
    /** Entry point for every message on `care/v1/+/+/{events,telemetry,status}`. */
    async onMessage(rawTopic: string, payload: Buffer): Promise<void> {
      if (closed) return;
      const topic = parseGatewayTopic(rawTopic);
      if (!topic || topic.kind === 'cmd') {
        return reject('unknown', 'topic', rawTopic, 'not a gateway uplink topic');
      }
      try {
        if (topic.kind === 'events') {
          // Queued at once, in arrival order (nothing awaited before the push): events commit in
          // the order the gateway sent them. The sender is checked when the batch is read.
          const d = decodeEvent.decode(payload);
          if (!d.ok) return reject('events', d.reason, rawTopic, d.error);
          if (queue.length >= maxQueue) {
            metrics.rejected.inc({ kind: 'events', reason: 'backpressure' });
            log.warn({ topic: rawTopic, eventId: d.value.id }, 'ingest queue full; left unconfirmed for the gateway to resend');
            return;
          }
          queue.push({ topic, event: d.value, raw: rawTopic });
          deps.supervision.heardGateway(topic.gatewayId);
          await drain();
          return;
        }
        if (!(await senders.check(topic, rawTopic))) return;
        deps.supervision.heardGateway(topic.gatewayId);
        if (topic.kind === 'telemetry') {
          onTelemetry(topic, rawTopic, payload);
        } else {
          await onStatus(topic, rawTopic, payload);
        }
      } catch (err) {
        metrics.storeErrors.inc({ store: 'state' });
        log.error({ err, topic: rawTopic }, 'ingest failed');
      }
    },
    queueLength: () => queue.length,
    /** Waits until every queued event is committed and its confirmation sent on (for shutdown). */
    async drain() {
      await drain();
      await confirmer.settled();
    },
    forgetGateway(gatewayId: string) {
      senders.forget(gatewayId);
    },
  };
}
export type Ingest = ReturnType<typeof createIngest>;
