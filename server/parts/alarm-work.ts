// The alarm side of the server: the engine (the one arbiter of alarms), who is reached and how
// (notifier, response chain, shifts), and what watches for trouble besides the rules (supervision,
// daily living, sleep, telemetry findings, device tests, failing scheduled tasks).
import type { Logger } from 'pino';
import type { Alarm, DeviceEvent, IdSource } from '../../protocol/index.ts';
import { activityOfEvent, activityOfReading, createDailyLivingWatch } from '../alarms/daily-living-watch.ts';
import { createDeviceTests } from '../alarms/device-tests.ts';
import { createAlarmEngine } from '../alarms/engine.ts';
import { createNotifier, webhookChannel } from '../alarms/notify.ts';
import type { Policies } from '../alarms/policies.ts';
import { createResponseChain } from '../alarms/response-chain.ts';
import type { Sender } from '../alarms/sender.ts';
import { createShifts } from '../alarms/shifts.ts';
import { createSupervision } from '../alarms/supervision.ts';
import { createTaskFaults } from '../alarms/task-faults.ts';
import type { Channels } from '../channels/index.ts';
import type { ServerConfig } from '../config.ts';
import type { LookupCache } from '../ingest/lookup-cache.ts';
import { createTelemetryAlarms } from '../ingest/telemetry-alarms.ts';
import type { Metrics } from '../metrics.ts';
import { createSleepRecorder, sleepOfEvent } from '../sleep/sleep-nights.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import type { Db, Device } from '../storage/registry.ts';

export interface AlarmWorkDeps {
  config: Pick<ServerConfig, 'notifyCapPerContact' | 'notifyCapWindowMs'>;
  db: Db;
  alarms: AlarmStore;
  ids: IdSource;
  now: () => string;
  log: Logger;
  metrics: Metrics;
  lookups: LookupCache;
  policies: Policies;
  sender: Sender;
  channels: Channels;
  /** Alarms the engine changed. */
  onChange(changed: Alarm[]): void;
  /** Caregivers with a screen open on any instance, for shift coverage. */
  screensOpen(): Set<string>;
}

export function createAlarmWork(deps: AlarmWorkDeps) {
  const { config, db, alarms, ids, now, log, metrics, lookups, policies, channels } = deps;
  const notifier = createNotifier({
    db,
    ids,
    now,
    log: log.child({ part: 'notify' }),
    channels: { webhook: webhookChannel(), ...channels.notifierChannels },
    messages: channels.messages,
    sender: deps.sender,
    cap: { perContact: config.notifyCapPerContact, windowMs: config.notifyCapWindowMs },
  });
  const engine = createAlarmEngine({
    db,
    alarms,
    ids,
    now,
    policies,
    log: log.child({ part: 'alarms' }),
    onChange: deps.onChange,
    onEscalated: (alarm, level, policy) => {
      notifier.escalated(alarm, level, policy).catch((err: unknown) => log.error({ err, alarmId: alarm.id }, 'notification failed'));
    },
  });
  // Decline, re-page, hand over in call trees, re-escalate what was accepted but never attended.
  const responseChain = createResponseChain({
    db,
    notifier,
    engine,
    policies,
    getAlarm: (id) => alarms.get(id),
    now,
    log: log.child({ part: 'respond' }),
  });
  const supervision = createSupervision({
    db,
    engine,
    now,
    log: log.child({ part: 'supervision' }),
    // Its next event must see the device offline, so that it clears the alarm at once.
    forgetDevice: (id) => lookups.forgetDevice(id),
  });
  const dailyLiving = createDailyLivingWatch({ db, engine, now, log: log.child({ part: 'daily-living' }), lookups });
  const sleepNights = createSleepRecorder({ db, log: log.child({ part: 'sleep' }), lookups });
  const telemetryAlarms = createTelemetryAlarms({
    db,
    engine,
    supervision,
    metrics,
    log: log.child({ part: 'ingest' }),
    onPresence: (presence) =>
      void dailyLiving.observe(
        presence.flatMap((p) => {
          const kind = activityOfReading('presence', p.value);
          return kind ? [{ residentId: p.residentId, deviceId: p.deviceId, room: p.room, at: p.at, kind }] : [];
        }),
      ),
    onSleepReadings: (readings) =>
      void sleepNights.observe(
        readings.map((r) => ({
          residentId: r.residentId,
          at: r.at,
          o:
            r.metric === 'sleep_score'
              ? { kind: 'score' as const, value: r.max }
              : { kind: 'vital' as const, metric: r.metric, min: r.min, max: r.max },
        })),
      ),
  });
  const deviceTests = createDeviceTests({ db, engine, now });
  const shifts = createShifts({ db, engine, now, connectedUsers: () => deps.screensOpen() });
  // A scheduled task failing is counted, and three failures in a row raise a technical alarm.
  const taskFaults = createTaskFaults({ db, engine, now, log: log.child({ part: 'task-faults' }) });

  return {
    notifier,
    engine,
    responseChain,
    supervision,
    dailyLiving,
    telemetryAlarms,
    deviceTests,
    shifts,
    taskFaults,
    /** Committed events from residents' devices: for sleep nights and the daily-living watch (never awaited). */
    observeActivity(seen: Array<{ event: DeviceEvent; device: Device }>) {
      void sleepNights.observe(
        seen.flatMap(({ event, device }) => {
          const o = sleepOfEvent(event.type, event.data);
          return o && device.residentId ? [{ residentId: device.residentId, at: event.ts, o }] : [];
        }),
      );
      void dailyLiving.observe(
        seen.flatMap(({ event, device }) => {
          const kind = activityOfEvent(event.type, event.data);
          return kind && device.residentId
            ? [{ residentId: device.residentId, deviceId: device.id, room: device.room, at: event.ts, kind }]
            : [];
        }),
      );
    },
    part: {
      name: 'alarms',
      start: () => deviceTests.refresh(),
      // Telemetry findings under way finish before the store closes.
      stop: () => telemetryAlarms.idle(),
    },
  };
}
export type AlarmWork = ReturnType<typeof createAlarmWork>;
