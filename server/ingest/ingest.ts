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
  GatewayStatus,
  type ParsedTopic,
  parseGatewayTopic,
} from '../../protocol/index.ts';
import { evaluateCaregiverPresence } from '../alarms/caregiver-presence.ts';
import type { AlarmEngine, AlarmSubject } from '../alarms/engine.ts';
import { reportGatewayFaults } from '../alarms/gateway-faults.ts';
import { DEFAULT_LOW_BATTERY_PERCENT, evaluateBattery } from '../alarms/low-battery.ts';
import { evaluateEvent } from '../alarms/rules.ts';
import { effectiveSettings } from '../alarms/settings.ts';
import type { Supervision } from '../alarms/supervision.ts';
import { DEFAULT_UNREGISTERED_BUDGET, overUnregisteredBudget, summarise } from '../alarms/unregistered-budget.ts';
import type { Metrics } from '../metrics.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import { appendAudit } from '../storage/alarms.ts';
import { insertEventIfNew } from '../storage/events.ts';
import type { Db, Device, Registry, Resident } from '../storage/registry.ts';
import type { Confirmations } from './confirmations.ts';
import { createPoisonPolicy, inSavepoint, mayBeTransient } from './event-isolation.ts';
import type { LookupCache } from './lookup-cache.ts';
import { testPauseBeforeCommit } from './test-pause.ts';

const decodeEvent = createDecoder(DeviceEventSchema, EVENT_LIMITS);
const decodeStatus = createDecoder(GatewayStatus);

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

interface QueuedEvent {
  topic: ParsedTopic;
  event: DeviceEvent;
  raw: string;
}

const MAX_BATCH = 500;
/** The time one event transaction should hold the event loop for (see drain). */
const BATCH_BUDGET_MS = 4;
const defaultTimezone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function createIngest(deps: IngestDeps) {
  const { db, registry, engine, metrics, log, now, lookups } = deps;
  const pauseBeforeCommit = testPauseBeforeCommit(log);
  const maxQueue = deps.maxQueue ?? 50_000;
  const queue: QueuedEvent[] = [];
  let draining: Promise<void> | null = null;
  /** Running estimate of one event's share of a transaction (ms), which sizes the next. */
  let msPerEvent = 0.25;
  /** Time spent in the test-only pause (test-pause.ts) by the batch being timed. */
  let pausedMs = 0;
  const siteOfGateway = new Map<string, string>();
  let closed = false;
  /** Test alarms raised in the batch being committed. */
  const tested: Array<{ device: string; alarmId: string }> = [];
  /** Residents at whose side a caregiver's presence was reported (staff tag, presence button). */
  const caregiverAt: Array<{ residentId: string; by: string }> = [];
  /** Events that failed on their own: resent a few times, or refused. */
  const poison = createPoisonPolicy();
  const unregisteredBudget = deps.unregisteredBudget ?? DEFAULT_UNREGISTERED_BUDGET;
  const lowBattery = deps.lowBatteryPercent ?? DEFAULT_LOW_BATTERY_PERCENT;

  async function gatewaySite(gatewayId: string): Promise<string | undefined> {
    let site = siteOfGateway.get(gatewayId);
    if (site === undefined) {
      site = (await registry.getGateway(gatewayId))?.siteId;
      if (site !== undefined) siteOfGateway.set(gatewayId, site);
    }
    return site;
  }

  /** The topic names who sent it; the broker's ACL made sure of that. Check it names a real gateway of that site. */
  async function checkSender(topic: ParsedTopic, raw: string): Promise<boolean> {
    const site = await gatewaySite(topic.gatewayId);
    if (site === topic.siteId) return true;
    metrics.securityEvents.inc({ kind: 'unknown_gateway_topic' });
    log.warn({ topic: raw }, 'security: message on a topic of an unknown gateway or wrong site; refused');
    return false;
  }

  function reject(kind: string, reason: string, topic: string, error: string) {
    metrics.rejected.inc({ kind, reason });
    log.warn({ topic, reason, error }, 'payload rejected');
  }

  interface Context {
    /** The topic names a real gateway of that site (false: refused, not confirmed). */
    sender: boolean;
    device: Device | undefined;
    resident: Resident | undefined;
    timezone: string;
  }

  // Reads happen before the transaction: SQLite has one connection, and the transaction holds it.
  async function lookUp(batch: QueuedEvent[]): Promise<Context[]> {
    const sites = new Map<string, string>();
    const out: Context[] = [];
    for (const { event, topic, raw } of batch) {
      const sender = await checkSender(topic, raw);
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

  /** Another writer opened the same alarm first (several instances): the retry counts a repeat. */
  const isOpenAlarmRace = (err: unknown) =>
    /alarms_open_cause|UNIQUE constraint failed: alarms\.cause_key/.test(String((err as Error)?.message));

  /** What one batch has done so far; an event that fails alone is cut back to the mark taken before it. */
  interface BatchWork {
    confirmed: QueuedEvent[];
    changed: string[];
    touched: DeviceStatusUpdate[];
    stored: number;
    duplicates: number;
    rejected: number;
  }
  const markOf = (w: BatchWork) => ({
    ...w,
    n: [w.confirmed.length, w.changed.length, w.touched.length, tested.length, caregiverAt.length],
  });
  function cutBack(w: BatchWork, mark: ReturnType<typeof markOf>) {
    const [c, ch, t, te, ca] = mark.n as [number, number, number, number, number];
    w.confirmed.length = c;
    w.changed.length = ch;
    w.touched.length = t;
    tested.length = te;
    caregiverAt.length = ca;
    w.stored = mark.stored;
    w.duplicates = mark.duplicates;
    w.rejected = mark.rejected;
  }

  /**
   * Commits a batch in one transaction. If that fails (other than a race on an open alarm), the
   * batch runs again `isolated`: each event in its own savepoint, so one event's failure (any
   * exception while storing or evaluating it) never takes the others down with it.
   */
  async function processBatch(batch: QueuedEvent[], attempt = 1, isolated = false): Promise<void> {
    const end = metrics.ingestLatency.startTimer();
    const work: BatchWork = { confirmed: [], changed: [], touched: [], stored: 0, duplicates: 0, rejected: 0 };
    tested.length = 0;
    caregiverAt.length = 0;
    const receivedAt = now();
    let contexts: Context[] = [];
    try {
      contexts = await lookUp(batch);
      if (pauseBeforeCommit) {
        const paused = performance.now();
        await pauseBeforeCommit(batch.map((q) => q.event.id));
        pausedMs += performance.now() - paused; // not the batch's own cost: it must not size the next
      }
      await db.transaction().execute(async (tx) => {
        for (const [i, item] of batch.entries()) {
          const ctx = contexts[i] as Context;
          if (!ctx.sender) continue;
          if (!isolated) {
            await storeEvent(tx, item, ctx, receivedAt, work);
            continue;
          }
          await storeIsolated(tx, item, ctx, receivedAt, work);
        }
      });
    } catch (err) {
      if (attempt < 5 && isOpenAlarmRace(err)) return processBatch(batch, attempt + 1, isolated);
      if (!isolated && batch.length > 0) {
        log.warn({ err, events: batch.length }, 'event batch failed; committing each event on its own');
        return processBatch(batch, 1, true);
      }
      metrics.storeErrors.inc({ store: 'state' });
      log.error({ err, events: batch.length }, 'event commit failed; gateways will resend');
      deps.onCommit?.(false);
      return;
    } finally {
      end();
    }
    deps.onCommit?.(true);
    for (const t of tested.splice(0)) await deps.deviceTests?.passed(t.device, t.alarmId);
    // A caregiver's presence at the resident marks their open alarms "on site": escalation pauses.
    for (const c of caregiverAt.splice(0)) {
      for (const a of await deps.alarms.list({ open: true, residentId: c.residentId })) {
        if (!a.onSiteBy) await engine.markOnSite(a.id, c.by).catch(() => undefined);
      }
    }
    // Counted after the commit: a rolled-back attempt must not count.
    metrics.events.inc({ outcome: 'stored' }, work.stored);
    metrics.events.inc({ outcome: 'duplicate' }, work.duplicates);
    if (work.rejected > 0) metrics.events.inc({ outcome: 'rejected' }, work.rejected);
    confirmWhenDurable(work.confirmed);
    for (const t of work.touched) deps.onDeviceStatus(t);
    if (deps.onActivity) {
      const seen = batch.flatMap(({ event, topic }, i) => {
        const device = contexts[i]?.sender ? contexts[i]?.device : undefined;
        return device?.residentId && device.gatewayId === topic.gatewayId ? [{ event, device }] : [];
      });
      if (seen.length > 0) deps.onActivity(seen);
    }
    await engine.publish(work.changed);
  }

  /** Confirmations waiting for the fsync that makes their commit durable. */
  const awaitingDisk = new Set<Promise<void>>();
  /**
   * A gateway deletes an event once it is confirmed, so the confirmation waits until the commit is
   * on disk. The fsync runs off the event loop and is shared by every batch that waits for it; the
   * alarms of the batch are already on the screens. If it fails, nothing is confirmed and the
   * gateways resend (the event id makes that harmless).
   */
  function confirmWhenDurable(items: QueuedEvent[]) {
    if (items.length === 0) return;
    const p = (deps.durable?.() ?? Promise.resolve())
      .then(
        () => {
          for (const { topic, event } of items) deps.confirmations.confirm(topic.siteId, topic.gatewayId, event.id);
        },
        (err: unknown) => {
          metrics.storeErrors.inc({ store: 'state' });
          deps.onCommit?.(false);
          log.error(
            { err, events: items.length },
            'committed events could not be made durable (fsync failed); left unconfirmed for the gateways to resend',
          );
        },
      )
      .finally(() => awaitingDisk.delete(p));
    awaitingDisk.add(p);
  }

  /**
   * One event in its own savepoint. If our own code threw on it, it is tried once more without its
   * free-form `data` (type, device and time are schema-checked; an alarm must not be lost to odd
   * data). If it still fails, it is refused (confirmed, audited) or left for the gateway to resend.
   */
  async function storeIsolated(tx: Db, item: QueuedEvent, ctx: Context, receivedAt: string, work: BatchWork) {
    const { event, topic } = item;
    const mark = markOf(work);
    let first = await inSavepoint(tx, () => storeEvent(tx, item, ctx, receivedAt, work));
    // Another instance opened the same alarm meanwhile: again at once, as a repeat of it.
    for (let race = 1; race < 5 && !first.ok && isOpenAlarmRace(first.err); race += 1) {
      cutBack(work, mark);
      first = await inSavepoint(tx, () => storeEvent(tx, item, ctx, receivedAt, work));
    }
    if (first.ok) return poison.passed(topic.gatewayId, event.id);
    cutBack(work, mark);
    const cause = String((first.err as Error)?.message ?? first.err).slice(0, 200);
    const where = { gatewayId: topic.gatewayId, deviceId: event.device, eventId: event.id, type: event.type };
    const audit = (action: string) =>
      appendAudit(tx, {
        at: receivedAt,
        actor: `gateway:${topic.gatewayId}`,
        action,
        subject: event.device,
        detail: { eventId: event.id, type: event.type, cause },
      });
    if (!mayBeTransient(first.err)) {
      const stripped = { ...item, event: { ...event, data: {} } };
      const second = await inSavepoint(tx, () => storeEvent(tx, stripped, ctx, receivedAt, work));
      if (second.ok) {
        metrics.rejected.inc({ kind: 'events', reason: 'data_dropped' });
        log.warn({ ...where, cause }, 'event could not be processed with its data; stored and evaluated without it');
        await audit('ingest.data_dropped');
        return;
      }
      cutBack(work, mark);
    }
    if (poison.verdict(topic.gatewayId, event.id, first.err) === 'resend') {
      metrics.rejected.inc({ kind: 'events', reason: 'processing_error_retry' });
      log.error({ ...where, err: first.err }, 'event failed on its own; left unconfirmed for the gateway to resend');
      return;
    }
    // Refused for good: confirmed so the gateway drops it instead of resending it forever.
    metrics.rejected.inc({ kind: 'events', reason: 'processing_error' });
    log.error({ ...where, err: first.err }, 'event failed on its own; refused and confirmed so it is not resent');
    await audit('ingest.event_refused');
    work.confirmed.push(item);
    work.rejected += 1;
  }

  /** Stores one event (once per gateway and id) and applies what its alarm rules ask. */
  async function storeEvent(tx: Db, item: QueuedEvent, ctx: Context, receivedAt: string, work: BatchWork) {
    const { event, topic } = item;
    const device = ctx.device;
    if (device && device.gatewayId !== topic.gatewayId) {
      // A gateway naming another gateway's device is a forgery: refuse and record it.
      metrics.securityEvents.inc({ kind: 'forged_device' });
      log.warn(
        { gatewayId: topic.gatewayId, deviceId: event.device, owner: device.gatewayId, eventId: event.id },
        'security: event names a device registered to another gateway; refused',
      );
      await appendAudit(tx, {
        at: receivedAt,
        actor: `gateway:${topic.gatewayId}`,
        action: 'security.forged_device',
        subject: event.device,
        detail: { eventId: event.id, type: event.type },
      });
      work.confirmed.push(item);
      return;
    }
    const fresh = await insertEventIfNew(tx, event, topic, receivedAt);
    work.confirmed.push(item);
    if (!fresh) {
      work.duplicates += 1;
      return;
    }
    work.stored += 1;
    if (device) {
      // Last-seen goes to the database with the next supervision sweep, off the event path.
      deps.supervision.heardDevice(device.id, event.ts);
      work.touched.push({
        gatewayId: topic.gatewayId,
        deviceId: device.id,
        state: 'online',
        lastSeen: event.ts,
        battery: device.battery,
      });
    }
    if (device?.offlineSince) {
      lookups.forgetDevice(device.id);
      work.changed.push(
        ...(await deps.supervision.deviceBack(tx, device, {
          siteId: topic.siteId,
          gatewayId: topic.gatewayId,
          deviceId: device.id,
          residentId: device.residentId,
          room: device.room,
          unregistered: false,
          at: event.ts,
        })),
      );
    }
    const onSite = evaluateCaregiverPresence(event, ctx.resident?.id);
    if (onSite) caregiverAt.push(onSite);
    work.changed.push(...(await raiseFor(tx, event, topic, ctx, receivedAt)));
  }

  async function raiseFor(tx: Db, received: DeviceEvent, topic: ParsedTopic, ctx: Context, receivedAt: string) {
    const { device, resident } = ctx;
    // A device clock far off (over 10 min ahead, or a day behind) must not decide whether it is
    // night: judge by the time of receipt, and flag it. The event is alarmed on all the same.
    const skewMs = Date.parse(received.ts) - Date.parse(receivedAt);
    const wild = skewMs > 10 * 60_000 || skewMs < -24 * 3600_000;
    const event = wild ? { ...received, ts: receivedAt } : received;
    if (wild) {
      metrics.rejected.inc({ kind: 'events', reason: 'wild_timestamp_flagged' });
      log.warn(
        { gatewayId: topic.gatewayId, deviceId: received.device, deviceTs: received.ts },
        'device clock far off; judged by time of receipt',
      );
    }
    const requests = evaluateEvent({
      event,
      timezone: ctx.timezone,
      settings: resident ? effectiveSettings(resident.settings) : null,
      settingsDefaults: effectiveSettings(undefined),
    });
    if (requests.length === 0) return [];
    if (wild) for (const r of requests) if (r.kind === 'raise') r.detail = { ...r.detail, wildTimestamp: received.ts };
    const subject: AlarmSubject = {
      siteId: topic.siteId,
      gatewayId: topic.gatewayId,
      deviceId: event.device,
      residentId: resident?.id ?? null,
      room: resident?.room ?? device?.room ?? null,
      unregistered: !device || !resident,
      at: event.ts,
      test: deps.deviceTests?.inTest(event.device) ?? false,
    };
    const actor = `gateway:${topic.gatewayId}`;
    if (
      !device &&
      requests.some((r) => r.kind === 'raise') &&
      (await overUnregisteredBudget(tx, topic.gatewayId, event.device, unregisteredBudget))
    ) {
      // Past the gateway's budget of unknown devices: its summary alarm counts this one.
      metrics.securityEvents.inc({ kind: 'unregistered_budget' });
      log.debug(
        { gatewayId: topic.gatewayId, deviceId: event.device, type: event.type },
        'unregistered device past the gateway budget; summarised',
      );
      const folded = summarise(requests, subject, event, unregisteredBudget);
      return engine.apply(tx, folded.requests, folded.subject, actor);
    }
    if (subject.unregistered) {
      log.warn(
        { gatewayId: topic.gatewayId, deviceId: event.device, type: event.type },
        'event from an unregistered or unassigned device; alarm raised and flagged',
      );
    }
    const ids = await engine.apply(tx, requests, subject, actor);
    if (subject.test && ids[0]) tested.push({ device: event.device, alarmId: ids[0] });
    return ids;
  }

  function drain(): Promise<void> {
    // Group commit: start on the next turn of the event loop, so every message that arrived in the
    // same read is queued first and shares one transaction (one fsync). No timer: an event at an
    // idle server still commits at once.
    // Each transaction is sized to take about BATCH_BUDGET_MS by the cost per event of the ones
    // before, and the loop yields between them: the SQLite driver answers in microtasks, so a
    // queue drained without yielding held the event loop for hundreds of milliseconds under load
    // (no screen write, no MQTT read, no timer in between).
    draining ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        while (queue.length > 0) {
          const batch = queue.splice(0, Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BUDGET_MS / msPerEvent))));
          const started = performance.now();
          pausedMs = 0;
          await processBatch(batch);
          const took = performance.now() - started - pausedMs;
          msPerEvent = Math.min(BATCH_BUDGET_MS, 0.7 * msPerEvent + (0.3 * took) / batch.length);
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

  async function onStatus(topic: ParsedTopic, raw: string, payload: Buffer) {
    if (payload.length === 0) return; // a cleared retained message
    const d = decodeStatus.decode(payload);
    if (!d.ok) return reject('status', d.reason, raw, d.error);
    const at = now();
    const status = d.value;
    if (status.outboxDepth !== undefined) metrics.gatewayOutboxDepth.set({ gateway: topic.gatewayId }, status.outboxDepth);
    if (status.state === 'offline') await deps.supervision.gatewayDown(topic.siteId, topic.gatewayId, at, 'last will or clean stop');
    else await deps.supervision.gatewayUp(topic.siteId, topic.gatewayId);
    const changed: string[] = await reportGatewayFaults(deps, topic, status.faults, at);
    deps.onDeviceStatus({ gatewayId: topic.gatewayId, deviceId: null, state: status.state, lastSeen: at, battery: null });
    for (const dev of status.devices ?? []) {
      const known = await lookups.getDevice(dev.device);
      if (!known || known.gatewayId !== topic.gatewayId) continue;
      if (dev.lastSeen) deps.supervision.heardDevice(dev.device, dev.lastSeen);
      if (dev.battery !== undefined) {
        await registry.touchDevice(dev.device, dev.lastSeen ?? at, dev.battery);
        const requests = evaluateBattery({ metric: 'battery', value: dev.battery }, lowBattery);
        if (requests.length > 0) {
          changed.push(
            ...(await db.transaction().execute((tx) =>
              engine.apply(
                tx,
                requests,
                {
                  siteId: topic.siteId,
                  gatewayId: topic.gatewayId,
                  deviceId: known.id,
                  residentId: known.residentId,
                  room: known.room,
                  unregistered: false,
                  at,
                },
                `gateway:${topic.gatewayId}`,
              ),
            )),
          );
        }
      }
      deps.onDeviceStatus({
        gatewayId: topic.gatewayId,
        deviceId: dev.device,
        state: dev.fault ? 'fault' : 'online',
        lastSeen: dev.lastSeen ?? null,
        battery: dev.battery ?? null,
      });
    }
    await engine.publish(changed);
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
        if (!(await checkSender(topic, rawTopic))) return;
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
      await Promise.allSettled([...awaitingDisk]);
    },
    forgetGateway(gatewayId: string) {
      siteOfGateway.delete(gatewayId);
    },
  };
}
export type Ingest = ReturnType<typeof createIngest>;
