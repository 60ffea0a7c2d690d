// The wire contract as TypeBox schemas (DESIGN.md section 3.4). Types are derived from these,
// never written twice.
import Type, { type Static, type TSchema } from 'typebox';
import { ID_PATTERN } from './topics.ts';

export const EVENT_TYPES = [
  'fall',
  'call',
  'call_cancel',
  'bed_exit',
  'bed_return',
  'door_open',
  'door_close',
  'no_motion',
  'presence',
  'low_battery',
  'tamper',
  'device_fault',
  // Home safety sensors (smoke, combustible gas, water on the floor).
  'smoke',
  'gas',
  'water_leak',
  // Sleep state from a bed radar or mattress: data {state: "deep" | "light" | "awake"}.
  'sleep_state',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const METRICS = [
  'heart_rate',
  'resp_rate',
  'spo2',
  'bp_systolic',
  'bp_diastolic',
  'temperature',
  'glucose',
  'battery',
  'rssi',
  'presence',
  // GPS watches (server/watch): decimal degrees, WGS-84 as the watch reports it.
  'latitude',
  'longitude',
  // Sleep quality score (0-100) a bed radar or mattress reports for the night.
  'sleep_score',
] as const;
export type Metric = (typeof METRICS)[number];

export const DEVICE_KINDS = [
  'fall_detector',
  'bed_sensor',
  'call_button',
  'door_sensor',
  'vitals_monitor',
  'presence_sensor',
  // A GPS watch or pendant reaching the server directly (DESIGN.md 3.10); its id is its IMEI.
  'gps_watch',
  'smoke_detector',
  'gas_detector',
  'leak_sensor',
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const Id = Type.String({ pattern: ID_PATTERN, maxLength: 64 });
export const EventId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
export const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });

export const EventTypeSchema = Type.Enum(EVENT_TYPES);
export const MetricSchema = Type.Enum(METRICS);
export const DeviceKindSchema = Type.Enum(DEVICE_KINDS);

export const DeviceEvent = Type.Object(
  {
    v: Type.Literal(1),
    id: EventId,
    // Stored as a 64-bit integer; past 2^53 a JS number is no longer exact anyway.
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    ts: Timestamp,
    device: Id,
    type: EventTypeSchema,
    data: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type DeviceEvent = Static<typeof DeviceEvent>;
/**
 * Bounds on one event (decode with `createDecoder(DeviceEvent, EVENT_LIMITS)`): `data` is free-form,
 * so its nesting (16 levels below the envelope), its size and its number of values are bounded
 * where it enters, on the gateway and on the server alike.
 */
export const EVENT_LIMITS = { maxDepth: 17, maxNodes: 1000, maxBytes: 16 * 1024 } as const;

export const Reading = Type.Object(
  {
    device: Id,
    metric: MetricSchema,
    value: Type.Number(),
    ts: Timestamp,
  },
  { additionalProperties: false },
);
export type Reading = Static<typeof Reading>;

export const TelemetryBatch = Type.Object(
  {
    v: Type.Literal(1),
    ts: Timestamp,
    points: Type.Array(Reading, { maxItems: 5000 }),
  },
  { additionalProperties: false },
);
export type TelemetryBatch = Static<typeof TelemetryBatch>;

export const DeviceStatus = Type.Object(
  {
    device: Id,
    lastSeen: Type.Optional(Timestamp),
    battery: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    fault: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const GatewayStatus = Type.Object(
  {
    v: Type.Literal(1),
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    ts: Type.Optional(Timestamp),
    devices: Type.Optional(Type.Array(DeviceStatus, { maxItems: 2000 })),
    outboxDepth: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * The gateway's own faults now, e.g. `outbox_unwritable` (its disk is full: events are not
     * durable). Sent empty when there are none, so the server clears the matching alarm. Open
     * strings rather than an enum, so a newer gateway's fault never makes its whole status invalid.
     */
    faults: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), { maxItems: 16 })),
  },
  { additionalProperties: false },
);
/** The gateway cannot write its outbox (disk full, I/O error): what it accepts now is not durable. */
export const OUTBOX_UNWRITABLE = 'outbox_unwritable';
export type GatewayStatus = Static<typeof GatewayStatus>;

/** Downlink on `cmd`: the server tells the gateway which event ids it has committed. */
export const CommittedCmd = Type.Object(
  {
    v: Type.Literal(1),
    type: Type.Literal('committed'),
    ids: Type.Array(EventId, { maxItems: 10000 }),
  },
  { additionalProperties: false },
);
export const AlarmAckCmd = Type.Object(
  {
    v: Type.Literal(1),
    type: Type.Literal('alarm_ack'),
    alarmId: Type.String(),
    deviceId: Type.Union([Type.String(), Type.Null()]),
    state: Type.String(),
  },
  { additionalProperties: false },
);
export const GatewayCmd = Type.Union([CommittedCmd, AlarmAckCmd]);
export type GatewayCmd = Static<typeof GatewayCmd>;

export const ALARM_TYPES = [
  'call',
  'fall',
  'wander',
  'bed_exit',
  'vitals',
  'inactivity',
  'gateway_offline',
  'device_offline',
  'low_battery',
  'tamper',
  'device_fault',
  'no_caregiver',
  // Past a gateway's budget of unregistered devices with open alarms: one summary per gateway.
  'unregistered_devices',
  'smoke',
  'gas',
  'water_leak',
] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];
export const PRIORITIES = ['high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const ALARM_STATES = ['active', 'acknowledged', 'resolved'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const Alarm = Type.Object({
  id: Type.String(),
  type: Type.Enum(ALARM_TYPES),
  priority: Type.Enum(PRIORITIES),
  state: Type.Enum(ALARM_STATES),
  siteId: Nullable(Type.String()),
  gatewayId: Nullable(Type.String()),
  deviceId: Nullable(Type.String()),
  residentId: Nullable(Type.String()),
  residentName: Nullable(Type.String()),
  room: Nullable(Type.String()),
  bed: Nullable(Type.String()),
  raisedAt: Type.String(),
  lastEventAt: Type.String(),
  ackAt: Nullable(Type.String()),
  ackBy: Nullable(Type.String()),
  resolvedAt: Nullable(Type.String()),
  resolvedBy: Nullable(Type.String()),
  outcome: Nullable(Type.String()),
  note: Nullable(Type.String()),
  escalationLevel: Type.Integer(),
  /** Who marked themselves present at the resident (pauses escalation). */
  onSiteBy: Nullable(Type.String()),
  count: Type.Integer(),
  unregistered: Type.Boolean(),
  /** Raised by a device test: shown as a test on screens, never escalated. */
  test: Type.Boolean(),
  /** A snoozed (never high-priority) alarm does not escalate until then. */
  snoozedUntil: Nullable(Type.String()),
});
export type Alarm = Static<typeof Alarm>;

export const WsSnapshot = Type.Object({
  type: Type.Literal('snapshot'),
  seq: Type.Integer(),
  alarms: Type.Array(Alarm),
});
export const WsAlarm = Type.Object({
  type: Type.Literal('alarm'),
  seq: Type.Integer(),
  alarm: Alarm,
});
export const WsDeviceStatus = Type.Object({
  type: Type.Literal('device_status'),
  seq: Type.Integer(),
  gatewayId: Type.String(),
  deviceId: Nullable(Type.String()),
  state: Type.String(),
  lastSeen: Nullable(Type.String()),
  battery: Nullable(Type.Number()),
});
export type WsSnapshot = Static<typeof WsSnapshot>;
export type WsAlarm = Static<typeof WsAlarm>;
export type WsDeviceStatus = Static<typeof WsDeviceStatus>;
export type WsMessage = WsSnapshot | WsAlarm | WsDeviceStatus;
