// Kysely table types for the state store. Times are ISO 8601 text and JSON is text, so the same
// queries run on SQLite and PostgreSQL.
import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: 'admin' | 'nurse_lead' | 'caregiver' | 'family' | 'centre_operator' | 'grid_worker' | 'responder';
  display_name: string | null;
  site_id: string | null;
  resident_id: string | null;
  created_at: string;
  /** E.164, for SMS to this person; null: none. */
  phone?: string | null;
  /** A centre operator's area (they see every home in it and below). */
  area_id?: string | null;
}

export interface SessionsTable {
  token_hash: string;
  user_id: string;
  expires_at: string;
  created_at: string;
}

export interface SitesTable {
  id: string;
  name: string;
  kind: 'nursing_home' | 'family_bed';
  timezone: string;
  created_at: string;
  /** How long a registered gateway or device may stay unheard beyond its silence limit; null: the default. */
  commissioning_grace_seconds?: number | null;
  /** Where in the areas tree the site is (a community, usually); null: not placed. */
  area_id?: string | null;
  /** A family bed's address, map position and the grid worker (a user id) responsible for it. */
  address?: string | null;
  lat?: number | null;
  lon?: number | null;
  grid_worker_id?: string | null;
}

export interface ResidentsTable {
  id: string;
  site_id: string;
  name: string;
  room: string;
  bed: string | null;
  settings: string;
  created_at: string;
}

export interface GatewaysTable {
  id: string;
  site_id: string;
  name: string;
  secret_hash: string;
  state: string;
  last_seen: string | null;
  last_seq: number | null;
  created_at: string;
  offline_since: string | null;
}

export interface DevicesTable {
  id: string;
  gateway_id: string;
  kind: string;
  resident_id: string | null;
  room: string | null;
  last_seen: string | null;
  battery: number | null;
  created_at: string;
  offline_since: string | null;
  /** Overrides the kind's silence limit for this device. */
  supervision_seconds: number | null;
}

export interface EventsTable {
  id: string;
  site_id: string;
  gateway_id: string;
  seq: number;
  ts: string;
  device_id: string;
  type: string;
  data: string;
  received_at: string;
}

export interface AlarmsTable {
  id: string;
  type: string;
  priority: string;
  state: string;
  cause_key: string;
  site_id: string | null;
  gateway_id: string | null;
  device_id: string | null;
  resident_id: string | null;
  room: string | null;
  raised_at: string;
  last_event_at: string;
  ack_at: string | null;
  ack_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  outcome: string | null;
  note: string | null;
  escalation_level: number;
  count: number;
  unregistered: number;
  /** 1 for an alarm raised by a device test: shown as a test, never escalated. */
  test: number;
  snoozed_until: string | null;
  next_escalation_at: string | null;
  upgrade_at: string | null;
  on_site_by: string | null;
}

export interface EscalationPoliciesTable {
  site_id: string;
  policy: string;
  updated_at: string;
}

export interface NotificationsTable {
  id: string;
  alarm_id: string;
  level: number;
  channel: string;
  target: string;
  payload: string;
  /** `suppressed`: not sent, the contact was over its cap (the screens still show the alarm). */
  /** `sent`: the provider took it (SMSC, push service); `delivered` only once it says the phone has it. */
  state: 'pending' | 'sent' | 'delivered' | 'failed' | 'queued' | 'seen' | 'accepted' | 'suppressed';
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  /** Position of the contact in its level (a call tree tries them in order). */
  contact_index: number;
  receipt_at: string | null;
  /** 0 for the first message to this contact for this alarm and level; 1, 2... for re-pages. */
  page?: number;
  /** The provider's message id (SMSC message_id, cloud SMS id, push message URL). */
  provider_id: string | null;
}

export interface PushSubscriptionsTable {
  id: string;
  user_id: string;
  endpoint: string;
  /** The browser's P-256 public key and auth secret (base64url), for the message encryption. */
  p256dh: string;
  auth: string;
  created_at: string;
  last_success_at: string | null;
  last_failure_at: string | null;
  last_error: string | null;
}

export interface AuditTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  alarm_id: string | null;
  subject: string | null;
  detail: string | null;
}

export interface TelemetryTable {
  site_id: string;
  device_id: string;
  resident_id: string | null;
  metric: string;
  value: number;
  ts: string;
}

export interface ShiftsTable {
  id: string;
  site_id: string;
  user_id: string;
  /** JSON array of rooms, or null for the whole site. */
  rooms: string | null;
  starts_at: string;
  ends_at: string;
  created_at: string;
}

export interface DeviceTestsTable {
  id: string;
  device_id: string;
  requested_by: string;
  started_at: string;
  due_at: string;
  result: 'pending' | 'passed' | 'failed';
  finished_at: string | null;
  alarm_id: string | null;
}

export interface PendingAlarmsTable {
  cause_key: string;
  request: string;
  subject: string;
  due_at: string;
}

export interface TestSchedulesTable {
  site_id: string;
  /** JSON: {weekday 0-6 (Sunday 0), time "HH:MM" site-local, windowSeconds, kinds} */
  schedule: string;
  /** Site-local date (YYYY-MM-DD) of the last scheduled run. */
  last_run: string | null;
}

/** Named counters shared by every instance, e.g. the live feed's epoch. */
export interface CountersTable {
  name: string;
  value: number;
}

/** One row per server instance, rewritten by every health check (a real write). */
export interface HealthProbeTable {
  instance_id: string;
  checked_at: string;
  /** Counts the checks: every one changes the row, so it is never a no-op SQLite could skip. */
  writes: number;
}

/** Response links (server/respond/tokens.ts): only the token's SHA-256 is kept. */
export interface ResponseTokensTable {
  token_hash: string;
  alarm_id: string;
  level: number;
  contact_index: number | null;
  contact_kind: string;
  contact_target: string;
  contact_name: string;
  state: 'issued' | 'accepted' | 'declined' | 'on_site' | 'resolved';
  created_at: string;
  expires_at: string;
  acted_at: string | null;
  revoked_at: string | null;
}

/** District -> street -> community: the tree a centre operator's view covers. */
export interface AreasTable {
  id: string;
  parent_id: string | null;
  kind: 'district' | 'street' | 'community';
  name: string;
  created_at: string;
}

/** A resident's family contacts, in the order they are called. */
export interface ResidentContactsTable {
  resident_id: string;
  position: number;
  name: string;
  relation: string;
  phone: string;
  /** Their family login, when they have one. */
  user_id: string | null;
}

/** What is known about a resident's whereabouts now (daily-living-watch.ts). */
export interface ResidentActivityTable {
  resident_id: string;
  site_id: string;
  last_motion_at: string | null;
  /** The device that saw the last movement: a welfare check is raised on it. */
  last_device_id: string | null;
  last_room: string | null;
  room_since: string | null;
  /** 1 while someone is still seen in last_room. */
  present: number;
  /** null: no bed sensor has said. */
  in_bed: number | null;
  bed_changed_at: string | null;
  updated_at: string;
}

/** One resident's day (local date) summed up, the baseline of the daily-living checks. */
export interface DailyLivingDaysTable {
  resident_id: string;
  day: string;
  up_at_min: number | null;
  bed_at_min: number | null;
  longest_quiet_min: number;
  longest_bath_min: number;
}

/** One resident's night (the local date it began): the sleep report (sleep.ts). */
export interface SleepNightsTable {
  resident_id: string;
  night: string;
  in_bed_at: string | null;
  asleep_at: string | null;
  woke_at: string | null;
  out_of_bed_at: string | null;
  minutes_in_bed: number;
  minutes_deep: number;
  minutes_light: number;
  minutes_awake: number;
  times_out_of_bed: number;
  hr_min: number | null;
  hr_max: number | null;
  rr_min: number | null;
  rr_max: number | null;
  score: number | null;
  /** The state now (in_bed, deep, light, awake, out) and since when, to add up the minutes. */
  state: string | null;
  state_since: string | null;
}

/** A cloud SMS message waiting for its delivery receipt (server/channels/cloud-receipts.ts). */
export interface SmsReceiptChecksTable {
  /** aliyun:BizId or tencent:SerialNo, as in notifications.provider_id. */
  provider_id: string;
  /** E.164, as sent (Alibaba's QuerySendDetails asks for it); deleted with the row. */
  phone: string;
  sent_at: string;
  next_check_at: string;
  checks: number;
  /** A receipt already read from the provider but not yet applied (the notification had no provider id yet). */
  outcome: 'delivered' | 'failed' | null;
  error: string | null;
}

export interface Database {
  sms_receipt_checks: SmsReceiptChecksTable;
  sleep_nights: SleepNightsTable;
  resident_activity: ResidentActivityTable;
  daily_living_days: DailyLivingDaysTable;
  areas: AreasTable;
  resident_contacts: ResidentContactsTable;
  counters: CountersTable;
  users: UsersTable;
  sessions: SessionsTable;
  sites: SitesTable;
  residents: ResidentsTable;
  gateways: GatewaysTable;
  devices: DevicesTable;
  events: EventsTable;
  alarms: AlarmsTable;
  audit: AuditTable;
  telemetry: TelemetryTable;
  escalation_policies: EscalationPoliciesTable;
  notifications: NotificationsTable;
  push_subscriptions: PushSubscriptionsTable;
  shifts: ShiftsTable;
  device_tests: DeviceTestsTable;
  pending_alarms: PendingAlarmsTable;
  test_schedules: TestSchedulesTable;
  health_probe: HealthProbeTable;
  response_tokens: ResponseTokensTable;
}
