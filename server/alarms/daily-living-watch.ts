// The 24-hour watch: records where each resident was last seen (per-room presence, bed, doors,
// any event from their devices) and sums each day up (daily_living_days), then, on the alarm
// lane, asks the pure rules of daily-living.ts for welfare checks and raises or clears them.
// Observations arrive after their events or readings are committed; a failure here is logged and
// never holds up ingest. Writes are throttled per resident (movement in the same room within a
// minute is not written again), and every map is bounded.
import type { Logger } from 'pino';
import { RESOLVED } from '../storage/alarms.ts';
import type { Db, Resident, Site } from '../storage/registry.ts';
import { timeSlicer } from '../time-slice.ts';
import {
  type ActivityNow,
  BASELINE_DAYS,
  BATHROOM_ROOM,
  type DaySummary,
  evaluateDailyLiving,
  localDay,
  reasonNote,
  summariseObservation,
} from './daily-living.ts';
import type { AlarmEngine, AlarmSubject } from './engine.ts';
import type { AlarmRequest } from './rules.ts';
import { effectiveSettings, insideWindow, localMinutes } from './settings.ts';

/**
 * `present` (a presence reading of 1) is movement only when it is news: someone arrived in a room.
 * A radar that keeps saying "someone is here" about a person lying still is no sign of life.
 */
export type ActivityKind = 'motion' | 'present' | 'absent' | 'in_bed' | 'out_of_bed';

export interface ActivityObservation {
  residentId: string;
  deviceId: string;
  room: string | null;
  at: string;
  kind: ActivityKind;
}

export interface DailyLivingWatchDeps {
  db: Db;
  engine: Pick<AlarmEngine, 'apply' | 'publish'>;
  now: () => string;
  log: Logger;
  lookups: { getResident(id: string): Promise<Resident | undefined>; getSite(id: string): Promise<Site | undefined> };
  defaultTimezone?: string;
  /** How often the checks run at most (the alarm lane ticks every second). */
  evaluateEveryMs?: number;
}

const THROTTLE_MS = 60_000;
const hhmmToMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
const MAX_PENDING = 10_000;
const MAX_TRACKED = 100_000;
/** Residents checked per alarm-lane tick. */
const SLICE = 200;

export function createDailyLivingWatch(deps: DailyLivingWatchDeps) {
  const { db, log } = deps;
  const defaultTimezone = deps.defaultTimezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const lastWritten = new Map<string, { at: number; room: string | null }>();
  let pending: ActivityObservation[] = [];
  let chain: Promise<void> = Promise.resolve();
  let lastEvaluation = Number.NEGATIVE_INFINITY;
  /** Where the pass under way has got to (null: none under way). */
  let passCursor: string | null = null;

  async function placeOf(residentId: string) {
    const resident = await deps.lookups.getResident(residentId);
    if (!resident) return null;
    const site = await deps.lookups.getSite(resident.siteId);
    return { resident, timezone: site?.timezone ?? defaultTimezone, settings: effectiveSettings(resident.settings) };
  }

  const toActivity = (
    r:
      | {
          last_motion_at: string | null;
          last_room: string | null;
          room_since: string | null;
          present: number;
          in_bed: number | null;
          bed_changed_at: string | null;
        }
      | undefined,
  ): ActivityNow => ({
    lastMotionAt: r?.last_motion_at ?? null,
    lastRoom: r?.last_room ?? null,
    roomSince: r?.room_since ?? null,
    present: Boolean(r?.present),
    inBed: r?.in_bed === null || r?.in_bed === undefined ? null : Boolean(r.in_bed),
    bedChangedAt: r?.bed_changed_at ?? null,
  });
  const emptyDay = (day: string): DaySummary => ({ day, upAtMin: null, bedAtMin: null, longestQuietMin: 0, longestBathMin: 0 });

  async function loadDay(residentId: string, day: string): Promise<DaySummary> {
    const r = await db
      .selectFrom('daily_living_days')
      .selectAll()
      .where('resident_id', '=', residentId)
      .where('day', '=', day)
      .executeTakeFirst();
    return r
      ? {
          day,
          upAtMin: r.up_at_min,
          bedAtMin: r.bed_at_min,
          longestQuietMin: Number(r.longest_quiet_min),
          longestBathMin: Number(r.longest_bath_min),
        }
      : emptyDay(day);
  }
  async function saveDay(residentId: string, d: DaySummary) {
    const values = {
      up_at_min: d.upAtMin,
      bed_at_min: d.bedAtMin,
      longest_quiet_min: d.longestQuietMin,
      longest_bath_min: d.longestBathMin,
    };
    await db
      .insertInto('daily_living_days')
      .values({ resident_id: residentId, day: d.day, ...values })
      .onConflict((oc) => oc.columns(['resident_id', 'day']).doUpdateSet(values))
      .execute();
  }

  async function record(observed: ActivityObservation): Promise<void> {
    let o = observed;
    const place = await placeOf(o.residentId);
    if (!place) return;
    const atMs = Date.parse(o.at);
    const last = lastWritten.get(o.residentId);
    // Movement again in the same room within a minute changes nothing worth a write.
    if (
      (o.kind === 'motion' || o.kind === 'present') &&
      last &&
      last.room === o.room &&
      atMs - last.at >= 0 &&
      atMs - last.at < THROTTLE_MS
    )
      return;
    const row = await db.selectFrom('resident_activity').selectAll().where('resident_id', '=', o.residentId).executeTakeFirst();
    const before = toActivity(row);
    if (o.kind === 'present') {
      if (before.present && before.lastRoom === o.room) return;
      o = { ...o, kind: 'motion' };
    }
    // Late observations (a gateway's backlog) do not move the present backwards.
    if (before.lastMotionAt !== null && o.kind === 'motion' && o.at < before.lastMotionAt) return;
    const next: ActivityNow = { ...before };
    let leftRoomAfterMin: number | null = null;
    const wasInBathroom = before.present && before.lastRoom !== null && before.roomSince !== null;
    if (o.kind === 'motion' || o.kind === 'out_of_bed' || o.kind === 'in_bed') {
      next.lastMotionAt = o.at;
      if (o.room !== null && (o.room !== before.lastRoom || !before.present)) {
        next.lastRoom = o.room;
        next.roomSince = o.at;
      }
      if (o.room !== null) next.present = true;
    }
    if (o.kind === 'absent' && o.room !== null && o.room === before.lastRoom) next.present = false;
    if (o.kind === 'in_bed' || o.kind === 'out_of_bed') {
      next.inBed = o.kind === 'in_bed';
      if (next.inBed !== before.inBed) next.bedChangedAt = o.at;
    }
    if (wasInBathroom && (next.lastRoom !== before.lastRoom || !next.present)) {
      leftRoomAfterMin = BATHROOM_ROOM.test(before.lastRoom ?? '') ? (atMs - Date.parse(before.roomSince as string)) / 60_000 : null;
    }
    const localMin = localMinutes(o.at, place.timezone);
    const daytime = !insideWindow(o.at, place.timezone, place.settings.nightWindow);
    // Bedtime belongs to the evening it began: a day starts at noon for it.
    const dayKey = localDay(o.kind === 'in_bed' ? new Date(atMs - 12 * 3600_000).toISOString() : o.at, place.timezone);
    const day = await loadDay(o.residentId, dayKey);
    const summary = summariseObservation(day, before, {
      at: o.at,
      localMin,
      motion: o.kind !== 'absent',
      inBed: next.inBed,
      leftRoomAfterMin,
      daytime,
      minutesIntoDay: (localMin - hhmmToMin(place.settings.nightWindow.end) + 1440) % 1440,
    });
    const values = {
      site_id: place.resident.siteId,
      last_motion_at: next.lastMotionAt,
      last_device_id: o.kind === 'absent' ? (row?.last_device_id ?? o.deviceId) : o.deviceId,
      last_room: next.lastRoom,
      room_since: next.roomSince,
      present: next.present ? 1 : 0,
      in_bed: next.inBed === null ? null : next.inBed ? 1 : 0,
      bed_changed_at: next.bedChangedAt,
      updated_at: deps.now(),
    };
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto('resident_activity')
        .values({ resident_id: o.residentId, ...values })
        .onConflict((oc) => oc.column('resident_id').doUpdateSet(values))
        .execute();
    });
    if (JSON.stringify(summary) !== JSON.stringify(day)) await saveDay(o.residentId, summary);
    if (lastWritten.size >= MAX_TRACKED) lastWritten.clear();
    lastWritten.set(o.residentId, { at: atMs, room: next.present ? next.lastRoom : null });
  }

  /** Runs the checks for every resident with activity; returns the alarms changed. */
  /**
   * Runs the checks: a pass over every resident with activity starts at most once a minute, and
   * each tick takes at most SLICE residents of it, so a large site never holds the alarm lane (and
   * its escalations) for long. Returns the alarms changed.
   */
  async function evaluateAll(force = false): Promise<number> {
    const nowIso = deps.now();
    const nowMs = Date.parse(nowIso);
    if (passCursor === null) {
      if (!force && nowMs - lastEvaluation < (deps.evaluateEveryMs ?? 60_000)) return 0;
      lastEvaluation = nowMs;
      passCursor = '';
    }
    await chain;
    const changed: string[] = [];
    for (;;) {
      const rows = await db
        .selectFrom('resident_activity')
        .selectAll()
        .where('resident_id', '>', passCursor)
        .orderBy('resident_id')
        .limit(SLICE)
        .execute();
      for (const row of rows) {
        try {
          changed.push(...(await evaluateOne(row, nowIso)));
        } catch (err) {
          log.error({ err, residentId: row.resident_id }, 'daily-living check failed for a resident');
        }
      }
      passCursor = rows.length < SLICE ? null : (rows.at(-1)?.resident_id ?? null);
      // A forced run (tests) finishes the pass; a scheduled one goes on at the next tick.
      if (passCursor === null || !force) break;
    }
    await deps.engine.publish(changed);
    return changed.length;
  }

  async function evaluateOne(row: Awaited<ReturnType<typeof loadActivityRow>>, nowIso: string): Promise<string[]> {
    if (!row) return [];
    const place = await placeOf(row.resident_id);
    if (!place) return [];
    const today = localDay(nowIso, place.timezone);
    const days = await db
      .selectFrom('daily_living_days')
      .selectAll()
      .where('resident_id', '=', row.resident_id)
      .orderBy('day', 'desc')
      .limit(BASELINE_DAYS + 1)
      .execute();
    const summaries: DaySummary[] = days.map((d) => ({
      day: d.day,
      upAtMin: d.up_at_min,
      bedAtMin: d.bed_at_min,
      longestQuietMin: Number(d.longest_quiet_min),
      longestBathMin: Number(d.longest_bath_min),
    }));
    const checks = evaluateDailyLiving({
      now: nowIso,
      timezone: place.timezone,
      nightWindow: place.settings.nightWindow,
      inactivityMinutes: place.settings.inactivityMinutes,
      settings: place.settings.dailyLiving,
      activity: toActivity(row),
      today: summaries.find((d) => d.day === today) ?? null,
      history: summaries.filter((d) => d.day < today).slice(0, BASELINE_DAYS),
    });
    const open = await db
      .selectFrom('alarms')
      .select(['id', 'device_id', 'gateway_id', 'note', 'state'])
      .where('resident_id', '=', row.resident_id)
      .where('type', '=', 'inactivity')
      .where('state', '<>', RESOLVED)
      .executeTakeFirst();
    const deviceId = open?.device_id ?? row.last_device_id;
    if (!deviceId) return [];
    const device = await db.selectFrom('devices').select(['gateway_id', 'room']).where('id', '=', deviceId).executeTakeFirst();
    const subject: AlarmSubject = {
      siteId: place.resident.siteId,
      gatewayId: device?.gateway_id ?? null,
      deviceId,
      residentId: row.resident_id,
      room: place.resident.room,
      unregistered: false,
      at: nowIso,
    };
    let requests: AlarmRequest[];
    const first = checks[0];
    if (first) {
      // One welfare check at a time: while one is open (on the screens) nothing more is asked.
      if (open) return [];
      const confirm = place.settings.confirmDelaySeconds.inactivity;
      requests = [
        {
          kind: 'raise',
          type: 'inactivity',
          priority: 'medium',
          note: reasonNote(first.reason),
          ...(confirm ? { confirmAfterMs: confirm * 1000 } : {}),
          detail: { reason: first.reason, ...first.detail, lastRoom: row.last_room ?? null, also: checks.slice(1).map((c) => c.reason) },
        },
      ];
    } else if (open && open.state === 'active' && typeof open.note === 'string' && open.note.startsWith('daily_living.')) {
      requests = [{ kind: 'clear', type: 'inactivity', onlyIfUnacknowledged: true, detail: { note: 'moving again' } }];
    } else {
      // Nothing due: a held (unconfirmed) check is cancelled.
      requests = [{ kind: 'clear', type: 'inactivity', onlyIfUnacknowledged: true }];
      const held = await db
        .selectFrom('pending_alarms')
        .select('cause_key')
        .where('cause_key', '=', `inactivity:${deviceId}`)
        .executeTakeFirst();
      if (!held) return [];
    }
    return db.transaction().execute((tx) => deps.engine.apply(tx, requests, subject, 'system:daily-living'));
  }
  function loadActivityRow(id: string) {
    return db.selectFrom('resident_activity').selectAll().where('resident_id', '=', id).executeTakeFirst();
  }

  return {
    /** Records observations after their events or readings were committed (in order, bounded). */
    observe(obs: ActivityObservation[]): Promise<void> {
      if (obs.length === 0) return chain;
      if (pending.length + obs.length > MAX_PENDING) {
        log.warn({ waiting: pending.length }, 'daily-living observations behind; oldest movement dropped');
        pending = pending.filter((p) => p.kind !== 'motion');
        // Still over (no movement to drop): the oldest go, so the queue stays bounded whatever arrives.
        const room = Math.max(0, MAX_PENDING - Math.min(obs.length, MAX_PENDING));
        if (pending.length > room) pending = pending.slice(pending.length - room);
      }
      pending.push(...obs.slice(-MAX_PENDING));
      chain = chain.then(async () => {
        const batch = pending;
        pending = [];
        const timeSlice = timeSlicer();
        for (const o of batch) {
          await timeSlice();
          try {
            await record(o);
          } catch (err) {
            log.error({ err, residentId: o.residentId }, 'daily-living observation not recorded');
          }
        }
      });
      return chain;
    },
    /** The scheduled check (alarm lane); at most once per `evaluateEveryMs`. */
    evaluate: () => evaluateAll(false),
    /** Runs the checks now (tests). */
    evaluateNow: () => evaluateAll(true),
    idle: () => chain,
    /** Where each resident was last seen, for the overview. */
    async whereabouts(residentIds: string[]) {
      if (residentIds.length === 0) return [];
      const rows = await db
        .selectFrom('resident_activity')
        .select(['resident_id', 'last_room', 'last_motion_at', 'present', 'in_bed'])
        .where('resident_id', 'in', residentIds.slice(0, 2000))
        .execute();
      return rows.map((r) => ({
        residentId: r.resident_id,
        lastRoom: r.last_room,
        lastMotionAt: r.last_motion_at,
        present: Boolean(r.present),
        inBed: r.in_bed === null ? null : Boolean(r.in_bed),
      }));
    },
  };
}
export type DailyLivingWatch = ReturnType<typeof createDailyLivingWatch>;

/** What a device event says about the resident's whereabouts (null: nothing). */
export function activityOfEvent(type: string, data: Record<string, unknown> | undefined): ActivityKind | null {
  switch (type) {
    case 'bed_exit':
      return 'out_of_bed';
    case 'bed_return':
      return 'in_bed';
    case 'presence':
      return data?.present === false || data?.presence === false ? 'absent' : 'motion';
    case 'door_open':
    case 'door_close':
    case 'call':
    case 'call_cancel':
    case 'fall':
      return 'motion';
    default:
      return null;
  }
}

/** What a reading says: presence 1 is someone moving in the sensor's room, 0 nobody there. */
export function activityOfReading(metric: string, value: number): ActivityKind | null {
  if (metric !== 'presence') return null;
  return value > 0 ? 'present' : 'absent';
}
