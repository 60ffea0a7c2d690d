// The REST shapes as TypeBox schemas: what the server's routes answer (their response schemas) and
// what the dashboard reads (types by Static<>), written once. docs/contract/openapi.json is made
// from the routes that use them (npm run contract).
import Type, { type Static, type TSchema } from 'typebox';
import { Alarm } from './schemas.ts';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const SITE_KINDS = ['nursing_home', 'family_bed'] as const;
export const ROLES = ['admin', 'nurse_lead', 'caregiver', 'family', 'centre_operator', 'grid_worker', 'responder'] as const;
export type Role = (typeof ROLES)[number];

/** The answer to any refused request: 400 (validation), 401, 403, 404, 409, 429, 503. */
export const ApiErrorBody = Type.Object({
  error: Type.String({ description: 'a stable code: VALIDATION, NOT_FOUND, FORBIDDEN, …' }),
  message: Type.String(),
  statusCode: Type.Integer(),
});
export type ApiErrorBody = Static<typeof ApiErrorBody>;

export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const Site = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String({ description: 'nursing_home or family_bed' }),
  timezone: Type.String(),
  createdAt: Type.String(),
  /** Homes in the community (protocol/areas.ts): the site's area, address, map position, grid worker. */
  areaId: Type.Optional(Nullable(Type.String())),
  address: Type.Optional(Nullable(Type.String())),
  lat: Type.Optional(Nullable(Type.Number())),
  lon: Type.Optional(Nullable(Type.Number())),
  gridWorkerId: Type.Optional(Nullable(Type.String())),
});
export type Site = Static<typeof Site>;

export const Resident = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  name: Type.String(),
  room: Type.String(),
  bed: Nullable(Type.String()),
  /** The resident's alarm settings (server/alarms/settings.ts). */
  settings: Type.Unknown(),
  createdAt: Type.String(),
});
export type Resident = Static<typeof Resident>;

export const Gateway = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  name: Type.String(),
  state: Type.String(),
  lastSeen: Nullable(Type.String()),
  createdAt: Type.String(),
});
export type Gateway = Static<typeof Gateway>;

/** A gateway as created or with a new secret: the secret is shown this once. */
export const GatewayWithSecret = Type.Intersect([Gateway, Type.Object({ secret: Type.String() })]);
export type GatewayWithSecret = Static<typeof GatewayWithSecret>;

export const Device = Type.Object({
  id: Type.String(),
  gatewayId: Type.String(),
  kind: Type.String(),
  residentId: Nullable(Type.String()),
  room: Nullable(Type.String()),
  lastSeen: Nullable(Type.String()),
  battery: Nullable(Type.Number()),
  createdAt: Type.String(),
  /** The device's own silence limit; null or absent: its kind's default. */
  supervisionSeconds: Type.Optional(Nullable(Type.Number())),
});
export type Device = Static<typeof Device>;

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.String({ description: 'admin, nurse_lead, caregiver, family, centre_operator, grid_worker or responder' }),
  displayName: Nullable(Type.String()),
  siteId: Nullable(Type.String()),
  residentId: Nullable(Type.String()),
  /** E.164, for SMS to this person. */
  phone: Type.Optional(Nullable(Type.String())),
  /** A centre operator's area. */
  areaId: Type.Optional(Nullable(Type.String())),
});
export type User = Static<typeof User>;

export const LoginAnswer = Type.Object({ token: Type.String(), expiresAt: Type.String(), user: User });
export type LoginAnswer = Static<typeof LoginAnswer>;

export const Shift = Type.Object({
  id: Type.String(),
  siteId: Type.String(),
  userId: Type.String(),
  /** Null: the whole site. */
  rooms: Nullable(Type.Array(Type.String())),
  start: Type.String(),
  end: Type.String(),
});
export type Shift = Static<typeof Shift>;

/** An entry of an alarm's history (GET /api/v1/alarms/:id). */
export const HistoryEntry = Type.Object({ at: Type.String(), actor: Type.String(), action: Type.String(), detail: Type.Unknown() });
export type HistoryEntry = Static<typeof HistoryEntry>;

export const AlarmPage = Type.Object({
  alarms: Type.Array(Alarm),
  next: Type.Optional(Type.String({ description: 'pass as `before` for the next page; absent on the last' })),
});
export type AlarmPage = Static<typeof AlarmPage>;

export const AlarmWithHistory = Type.Object({ alarm: Alarm, history: Type.Array(HistoryEntry) });
export type AlarmWithHistory = Static<typeof AlarmWithHistory>;

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  alarmId: Nullable(Type.String()),
  subject: Nullable(Type.String()),
  detail: Type.Unknown(),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const Notification = Type.Object({
  id: Type.String(),
  alarmId: Type.String(),
  level: Type.Number(),
  channel: Type.String(),
  target: Type.String(),
  state: Type.String(),
  attempts: Type.Number(),
  lastError: Nullable(Type.String()),
  createdAt: Type.String(),
  /** When the recipient's side last answered (seen, accepted); null: no receipt yet. */
  receiptAt: Type.Optional(Nullable(Type.String())),
  payload: Type.Unknown(),
});
export type Notification = Static<typeof Notification>;

/** A receipt's answer; the target (a phone number, an address) only for an administrator. */
export const NotificationReceipt = Type.Object({
  id: Type.String(),
  alarmId: Type.String(),
  state: Type.String(),
  channel: Type.String(),
  target: Type.Optional(Type.String()),
});
export type NotificationReceipt = Static<typeof NotificationReceipt>;

export const TestSchedule = Type.Object({
  weekday: Type.Integer({ minimum: 0, maximum: 6 }),
  time: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
  windowSeconds: Type.Integer(),
  kinds: Type.Array(Type.String()),
});
export type TestSchedule = Static<typeof TestSchedule>;

export const SupervisionSettings = Type.Object({
  commissioningGraceMinutes: Type.Integer(),
  /** True: the server's default grace, not one set for the site. */
  default: Type.Boolean(),
});
export type SupervisionSettings = Static<typeof SupervisionSettings>;

export const TelemetryPoint = Type.Object({ ts: Type.String(), metric: Type.String(), value: Type.Number(), device: Type.String() });
export type TelemetryPoint = Static<typeof TelemetryPoint>;

export const TelemetrySeries = Type.Object({
  residentId: Type.String(),
  from: Type.String(),
  to: Type.String(),
  /** Bucket width in seconds when the points are averages over buckets; null: raw points. */
  downsampled: Nullable(Type.Number()),
  points: Type.Array(TelemetryPoint),
});
export type TelemetrySeries = Static<typeof TelemetrySeries>;

/** What a delete answers. */
export const Deleted = Type.Object({ id: Type.String(), deleted: Type.Boolean() });
export type Deleted = Static<typeof Deleted>;

/**
 * /healthz and /readyz: `status` is ok/failing (health) or ready/not ready (readiness); the checks
 * name what was tested, and the figures behind them follow at the top level as they are.
 */
export const Health = Type.Object(
  {
    status: Type.String(),
    checks: Type.Record(Type.String(), Type.Union([Type.Boolean(), Type.Number()])),
  },
  { additionalProperties: true },
);
export type Health = Static<typeof Health>;

export const Lists = {
  sites: Type.Object({ sites: Type.Array(Site) }),
  residents: Type.Object({ residents: Type.Array(Resident) }),
  gateways: Type.Object({ gateways: Type.Array(Gateway) }),
  devices: Type.Object({ devices: Type.Array(Device) }),
  users: Type.Object({ users: Type.Array(User) }),
  shifts: Type.Object({ shifts: Type.Array(Shift) }),
  audit: Type.Object({ entries: Type.Array(AuditEntry) }),
  notifications: Type.Object({ notifications: Type.Array(Notification) }),
};

/** Where a resident was last seen (`GET /api/v1/whereabouts`), from per-room presence, bed and doors. */
export const Whereabouts = Type.Object({
  residentId: Type.String(),
  lastRoom: Type.Union([Type.String(), Type.Null()]),
  lastMotionAt: Type.Union([Type.String(), Type.Null()]),
  /** Someone is still seen in lastRoom. */
  present: Type.Boolean(),
  /** null: no bed sensor has said. */
  inBed: Type.Union([Type.Boolean(), Type.Null()]),
});
export type Whereabouts = Static<typeof Whereabouts>;

/** One resident's night (`GET /api/v1/residents/{id}/sleep`), summed up by the server. */
export const SleepNight = Type.Object({
  /** The local date the night began (evening). */
  night: Type.String(),
  inBedAt: Type.Union([Type.String(), Type.Null()]),
  asleepAt: Type.Union([Type.String(), Type.Null()]),
  wokeAt: Type.Union([Type.String(), Type.Null()]),
  outOfBedAt: Type.Union([Type.String(), Type.Null()]),
  minutesInBed: Type.Number(),
  minutesAsleep: Type.Number(),
  minutesDeep: Type.Number(),
  minutesLight: Type.Number(),
  minutesAwake: Type.Number(),
  timesOutOfBed: Type.Integer(),
  heartRate: Type.Union([Type.Object({ min: Type.Number(), max: Type.Number() }), Type.Null()]),
  respRate: Type.Union([Type.Object({ min: Type.Number(), max: Type.Number() }), Type.Null()]),
  score: Type.Union([Type.Number(), Type.Null()]),
});
export type SleepNight = Static<typeof SleepNight>;
export const SleepReport = Type.Object({
  residentId: Type.String(),
  from: Type.String(),
  to: Type.String(),
  nights: Type.Array(SleepNight),
  /** Averages over the nights with data in the range (a week by default). */
  summary: Type.Object({
    nights: Type.Integer(),
    avgMinutesAsleep: Type.Union([Type.Number(), Type.Null()]),
    avgMinutesInBed: Type.Union([Type.Number(), Type.Null()]),
    avgTimesOutOfBed: Type.Union([Type.Number(), Type.Null()]),
    avgScore: Type.Union([Type.Number(), Type.Null()]),
  }),
});
export type SleepReport = Static<typeof SleepReport>;
