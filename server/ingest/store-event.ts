// One event inside a batch's transaction: stored once per gateway and id, its device heard, and its
// alarm rules applied by the engine. `storeIsolated` runs it in its own savepoint so that one event's
// failure never takes the rest of the batch down with it.
import type { Logger } from 'pino';
import type { DeviceEvent, ParsedTopic } from '../../protocol/index.ts';
import { evaluateCaregiverPresence } from '../alarms/caregiver-presence.ts';
import type { AlarmEngine, AlarmSubject } from '../alarms/engine.ts';
import { evaluateEvent } from '../alarms/rules.ts';
import { effectiveSettings } from '../alarms/settings.ts';
import type { Supervision } from '../alarms/supervision.ts';
import { DEFAULT_UNREGISTERED_BUDGET, overUnregisteredBudget, summarise } from '../alarms/unregistered-budget.ts';
import type { Metrics } from '../metrics.ts';
import { appendAudit } from '../storage/alarms.ts';
import { insertEventIfNew } from '../storage/events.ts';
import type { Db, Device, Resident } from '../storage/registry.ts';
import { createPoisonPolicy, inSavepoint, mayBeTransient } from './event-isolation.ts';
import type { DeviceStatusUpdate } from './ingest.ts';
import type { LookupCache } from './lookup-cache.ts';

export interface QueuedEvent {
  topic: ParsedTopic;
  event: DeviceEvent;
  raw: string;
}

/** What was read about an event before the transaction. */
export interface EventContext {
  /** The topic names a real gateway of that site (false: refused, not confirmed). */
  sender: boolean;
  device: Device | undefined;
  resident: Resident | undefined;
  timezone: string;
}

/** What one batch has done so far; an event that fails alone is cut back to the mark taken before it. */
export interface BatchWork {
  confirmed: QueuedEvent[];
  changed: string[];
  touched: DeviceStatusUpdate[];
  /** Test alarms raised. */
  tested: Array<{ device: string; alarmId: string }>;
  /** Residents at whose side a caregiver's presence was reported (staff tag, presence button). */
  caregiverAt: Array<{ residentId: string; by: string }>;
  stored: number;
  duplicates: number;
  rejected: number;
}

export const newBatchWork = (): BatchWork => ({
  confirmed: [],
  changed: [],
  touched: [],
  tested: [],
  caregiverAt: [],
  stored: 0,
  duplicates: 0,
  rejected: 0,
});

const markOf = (w: BatchWork) => ({
  ...w,
  n: [w.confirmed.length, w.changed.length, w.touched.length, w.tested.length, w.caregiverAt.length],
});
function cutBack(w: BatchWork, mark: ReturnType<typeof markOf>) {
  const [c, ch, t, te, ca] = mark.n as [number, number, number, number, number];
  w.confirmed.length = c;
  w.changed.length = ch;
  w.touched.length = t;
  w.tested.length = te;
  w.caregiverAt.length = ca;
  w.stored = mark.stored;
  w.duplicates = mark.duplicates;
  w.rejected = mark.rejected;
}

/** Another writer opened the same alarm first (several instances): the retry counts a repeat. */
export const isOpenAlarmRace = (err: unknown) =>
  /alarms_open_cause|UNIQUE constraint failed: alarms\.cause_key/.test(String((err as Error)?.message));

export interface EventStoreDeps {
  engine: AlarmEngine;
  supervision: Supervision;
  lookups: Pick<LookupCache, 'forgetDevice'>;
  metrics: Metrics;
  log: Logger;
  /** Devices under test raise test alarms. */
  inTest?: (deviceId: string) => boolean;
  /** Unknown devices with open alarms per gateway before the rest are summarised in one alarm. */
  unregisteredBudget?: number;
}

export function createEventStore(deps: EventStoreDeps) {
  const { engine, supervision, lookups, metrics, log } = deps;
  const unregisteredBudget = deps.unregisteredBudget ?? DEFAULT_UNREGISTERED_BUDGET;
  /** Events that failed on their own: resent a few times, or refused. */
  const poison = createPoisonPolicy();

  /** Stores one event (once per gateway and id) and applies what its alarm rules ask. */
  async function store(tx: Db, item: QueuedEvent, ctx: EventContext, receivedAt: string, work: BatchWork) {
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
      supervision.heardDevice(device.id, event.ts);
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
        ...(await supervision.deviceBack(tx, device, {
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
    if (onSite) work.caregiverAt.push(onSite);
    work.changed.push(...(await raiseFor(tx, event, topic, ctx, receivedAt, work)));
  }

  async function raiseFor(tx: Db, received: DeviceEvent, topic: ParsedTopic, ctx: EventContext, receivedAt: string, work: BatchWork) {
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
      test: deps.inTest?.(event.device) ?? false,
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
    if (subject.test && ids[0]) work.tested.push({ device: event.device, alarmId: ids[0] });
    return ids;
  }

  /**
   * One event in its own savepoint. If our own code threw on it, it is tried once more without its
   * free-form `data` (type, device and time are schema-checked; an alarm must not be lost to odd
   * data). If it still fails, it is refused (confirmed, audited) or left for the gateway to resend.
   */
  async function storeIsolated(tx: Db, item: QueuedEvent, ctx: EventContext, receivedAt: string, work: BatchWork) {
    const { event, topic } = item;
    const mark = markOf(work);
    let first = await inSavepoint(tx, () => store(tx, item, ctx, receivedAt, work));
    // Another instance opened the same alarm meanwhile: again at once, as a repeat of it.
    for (let race = 1; race < 5 && !first.ok && isOpenAlarmRace(first.err); race += 1) {
      cutBack(work, mark);
      first = await inSavepoint(tx, () => store(tx, item, ctx, receivedAt, work));
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
      const second = await inSavepoint(tx, () => store(tx, stripped, ctx, receivedAt, work));
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

  return { store, storeIsolated };
}
