// Versioned schema migrations, run on start by Kysely's Migrator. Append new ones; never edit
// one that has shipped. Each uses only types both SQLite and PostgreSQL understand.
import { type Kysely, type Migration, type MigrationProvider, PostgresAdapter, sql } from 'kysely';

const isPostgres = (db: Kysely<unknown>) => db.getExecutor().adapter instanceof PostgresAdapter;

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text')
        .addColumn('site_id', 'text')
        .addColumn('resident_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sites')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('residents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('room', 'text', (c) => c.notNull())
        .addColumn('bed', 'text')
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('gateways')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text')
        .addColumn('last_seq', 'bigint')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('gateway_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text')
        .addColumn('room', 'text')
        .addColumn('last_seen', 'text')
        .addColumn('battery', 'real')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('gateway_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('ts', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('alarms')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('cause_key', 'text', (c) => c.notNull())
        .addColumn('site_id', 'text')
        .addColumn('gateway_id', 'text')
        .addColumn('device_id', 'text')
        .addColumn('resident_id', 'text')
        .addColumn('room', 'text')
        .addColumn('raised_at', 'text', (c) => c.notNull())
        .addColumn('last_event_at', 'text', (c) => c.notNull())
        .addColumn('ack_at', 'text')
        .addColumn('ack_by', 'text')
        .addColumn('resolved_at', 'text')
        .addColumn('resolved_by', 'text')
        .addColumn('outcome', 'text')
        .addColumn('note', 'text')
        .addColumn('escalation_level', 'integer', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('unregistered', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alarms_state').on('alarms').columns(['state', 'raised_at']).execute();
      // At most one open alarm per cause: the database, not a race in the engine, keeps repeats
      // on one alarm.
      await sql`CREATE UNIQUE INDEX alarms_open_cause ON alarms (cause_key) WHERE state <> 'resolved'`.execute(db);
      await db.schema
        .createTable('audit')
        .addColumn('id', isPostgres(db) ? 'bigserial' : 'integer', (c) =>
          isPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('alarm_id', 'text')
        .addColumn('subject', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('audit_alarm').on('audit').column('alarm_id').execute();
      await db.schema
        .createTable('telemetry')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('resident_id', 'text')
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('value', 'real', (c) => c.notNull())
        .addColumn('ts', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('telemetry_resident_metric_ts').on('telemetry').columns(['resident_id', 'metric', 'ts']).execute();
    },
  },
  '0002_escalation_and_supervision': {
    async up(db: Kysely<unknown>) {
      // When the alarm next moves up the response chain, and when a medium alarm becomes high
      // (bed exit with no return). Timers live in rows, so each fires once whichever instance looks.
      await db.schema.alterTable('alarms').addColumn('next_escalation_at', 'text').execute();
      await db.schema.alterTable('alarms').addColumn('upgrade_at', 'text').execute();
      await db.schema.alterTable('alarms').addColumn('on_site_by', 'text').execute();
      await db.schema.createIndex('alarms_next_escalation').on('alarms').column('next_escalation_at').execute();
      await db.schema
        .createTable('escalation_policies')
        .addColumn('site_id', 'text', (c) => c.primaryKey())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('notifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('alarm_id', 'text', (c) => c.notNull())
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('notifications_due').on('notifications').columns(['state', 'next_attempt_at']).execute();
      await db.schema.alterTable('devices').addColumn('offline_since', 'text').execute();
      await db.schema.alterTable('gateways').addColumn('offline_since', 'text').execute();
    },
  },
};

migrations['0003_alarm_cause_index'] = {
  async up(db: Kysely<unknown>) {
    // The partial unique index cannot serve a query whose state is a bound parameter.
    await db.schema.createIndex('alarms_cause_state').on('alarms').columns(['cause_key', 'state']).execute();
    // The scheduler looks for due upgrades every second.
    await db.schema.createIndex('alarms_upgrade_at').on('alarms').column('upgrade_at').execute();
  },
};

migrations['0004_shifts'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('shifts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('site_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('rooms', 'text')
      .addColumn('starts_at', 'text', (c) => c.notNull())
      .addColumn('ends_at', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('shifts_site_time').on('shifts').columns(['site_id', 'ends_at']).execute();
  },
};

migrations['0005_device_tests'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('alarms')
      .addColumn('test', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('device_tests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('due_at', 'text', (c) => c.notNull())
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('alarm_id', 'text')
      .execute();
    await db.schema.createIndex('device_tests_pending').on('device_tests').columns(['result', 'due_at']).execute();
  },
};

migrations['0006_snooze_and_supervision'] = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('alarms').addColumn('snoozed_until', 'text').execute();
    await db.schema.alterTable('devices').addColumn('supervision_seconds', 'integer').execute();
  },
};

migrations['0007_pending_alarms'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('pending_alarms')
      .addColumn('cause_key', 'text', (c) => c.primaryKey())
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('due_at', 'text', (c) => c.notNull())
      .execute();
  },
};

migrations['0008_notification_receipts'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('notifications')
      .addColumn('contact_index', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('notifications').addColumn('receipt_at', 'text').execute();
  },
};

migrations['0009_test_schedules'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('test_schedules')
      .addColumn('site_id', 'text', (c) => c.primaryKey())
      .addColumn('schedule', 'text', (c) => c.notNull())
      .addColumn('last_run', 'text')
      .execute();
  },
};

migrations['0010_counters'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('counters')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .execute();
  },
};

migrations['0011_notification_once'] = {
  async up(db: Kysely<unknown>) {
    // Two instances racing on a call tree could have notified a contact twice; keep the first.
    await sql`DELETE FROM notifications WHERE id NOT IN (SELECT MIN(id) FROM notifications GROUP BY alarm_id, level, contact_index)`.execute(
      db,
    );
    await db.schema
      .createIndex('notifications_once')
      .on('notifications')
      .columns(['alarm_id', 'level', 'contact_index'])
      .unique()
      .execute();
  },
};

migrations['0013_events_per_gateway'] = {
  async up(db: Kysely<unknown>) {
    // The per-gateway budget of unregistered devices with open alarms is counted on every alarm
    // from an unknown device: an index over open unregistered alarms only.
    await sql`CREATE INDEX alarms_open_unregistered ON alarms (gateway_id, device_id) WHERE state <> 'resolved' AND unregistered = 1`.execute(
      db,
    );
    // An event id is unique per gateway, not across all of them: another gateway's event reusing
    // an id must be stored, not taken for a duplicate and dropped.
    if (isPostgres(db)) {
      await sql`ALTER TABLE events DROP CONSTRAINT events_pkey`.execute(db);
      await sql`ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (gateway_id, id)`.execute(db);
      return;
    }
    // SQLite cannot change a primary key in place: the table is rebuilt.
    await db.schema
      .createTable('events_per_gateway')
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('site_id', 'text', (c) => c.notNull())
      .addColumn('gateway_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('ts', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('events_pkey', ['gateway_id', 'id'])
      .execute();
    await sql`INSERT INTO events_per_gateway (id, site_id, gateway_id, seq, ts, device_id, type, data, received_at)
      SELECT id, site_id, gateway_id, seq, ts, device_id, type, data, received_at FROM events`.execute(db);
    await db.schema.dropTable('events').execute();
    await db.schema.alterTable('events_per_gateway').renameTo('events').execute();
  },
};

migrations['0015_notifications_by_contact'] = {
  async up(db: Kysely<unknown>) {
    // The per-contact cap counts a contact's recent messages before each one.
    await db.schema.createIndex('notifications_by_contact').on('notifications').columns(['target', 'created_at']).execute();
  },
};

migrations['0016_health_probe_and_commissioning_grace'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('health_probe')
      .addColumn('instance_id', 'text', (c) => c.primaryKey())
      .addColumn('checked_at', 'text', (c) => c.notNull())
      .addColumn('writes', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('sites').addColumn('commissioning_grace_seconds', 'integer').execute();
  },
};

migrations['0018_response_tokens'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('response_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('alarm_id', 'text', (c) => c.notNull())
      .addColumn('level', 'integer', (c) => c.notNull())
      .addColumn('contact_index', 'integer')
      .addColumn('contact_kind', 'text', (c) => c.notNull())
      .addColumn('contact_target', 'text', (c) => c.notNull())
      .addColumn('contact_name', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('acted_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();
    await db.schema.createIndex('response_tokens_by_alarm').on('response_tokens').columns(['alarm_id']).execute();
    await db.schema.createIndex('response_tokens_by_expiry').on('response_tokens').columns(['expires_at']).execute();
    // Re-paging (server/alarms/response-chain.ts): a contact paged again gets another row, page 1, 2...
    await db.schema
      .alterTable('notifications')
      .addColumn('page', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.dropIndex('notifications_once').execute();
    await db.schema
      .createIndex('notifications_once')
      .on('notifications')
      .columns(['alarm_id', 'level', 'contact_index', 'page'])
      .unique()
      .execute();
  },
};

migrations['0017_areas_and_roles'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('areas')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('parent_id', 'text')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('areas_by_parent').on('areas').column('parent_id').execute();
    await db.schema
      .createTable('resident_contacts')
      .addColumn('resident_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('relation', 'text', (c) => c.notNull())
      .addColumn('phone', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addPrimaryKeyConstraint('resident_contacts_pkey', ['resident_id', 'position'])
      .execute();
    await db.schema.createIndex('resident_contacts_by_user').on('resident_contacts').column('user_id').execute();
    for (const col of ['area_id', 'address', 'grid_worker_id']) await db.schema.alterTable('sites').addColumn(col, 'text').execute();
    for (const col of ['lat', 'lon']) await db.schema.alterTable('sites').addColumn(col, 'double precision').execute();
    await db.schema.createIndex('sites_by_area').on('sites').column('area_id').execute();
    await db.schema.createIndex('sites_by_grid_worker').on('sites').column('grid_worker_id').execute();
    for (const col of ['phone', 'area_id']) await db.schema.alterTable('users').addColumn(col, 'text').execute();
    // A responder sees the alarms escalated to them: notifications by contact and alarm.
    await db.schema.createIndex('notifications_by_target_alarm').on('notifications').columns(['channel', 'target', 'alarm_id']).execute();
  },
};

migrations['0019_channels'] = {
  async up(db: Kysely<unknown>) {
    // Web Push subscriptions of logged-in users' browsers (server/channels/push.ts).
    await db.schema
      .createTable('push_subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('endpoint', 'text', (c) => c.notNull().unique())
      .addColumn('p256dh', 'text', (c) => c.notNull())
      .addColumn('auth', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_success_at', 'text')
      .addColumn('last_failure_at', 'text')
      .addColumn('last_error', 'text')
      .execute();
    await db.schema.createIndex('push_subscriptions_by_user').on('push_subscriptions').columns(['user_id']).execute();
    // The provider's message id (SMSC message_id, cloud BizId/SerialNo, push Location), so a
    // delivery receipt finds its notification.
    await db.schema.alterTable('notifications').addColumn('provider_id', 'text').execute();
    await db.schema.createIndex('notifications_by_provider_id').on('notifications').columns(['channel', 'provider_id']).execute();
  },
};

migrations['0022_daily_living_and_sleep'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('resident_activity')
      .addColumn('resident_id', 'text', (c) => c.primaryKey())
      .addColumn('site_id', 'text', (c) => c.notNull())
      .addColumn('last_motion_at', 'text')
      .addColumn('last_device_id', 'text')
      .addColumn('last_room', 'text')
      .addColumn('room_since', 'text')
      .addColumn('present', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('in_bed', 'integer')
      .addColumn('bed_changed_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('daily_living_days')
      .addColumn('resident_id', 'text', (c) => c.notNull())
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('up_at_min', 'integer')
      .addColumn('bed_at_min', 'integer')
      .addColumn('longest_quiet_min', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('longest_bath_min', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('daily_living_days_pkey', ['resident_id', 'day'])
      .execute();
    // One row per resident and night (the local date the night began), summed up from bed and
    // sleep-state reports and the vital signs read in bed.
    await db.schema
      .createTable('sleep_nights')
      .addColumn('resident_id', 'text', (c) => c.notNull())
      .addColumn('night', 'text', (c) => c.notNull())
      .addColumn('in_bed_at', 'text')
      .addColumn('asleep_at', 'text')
      .addColumn('woke_at', 'text')
      .addColumn('out_of_bed_at', 'text')
      .addColumn('minutes_in_bed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('minutes_deep', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('minutes_light', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('minutes_awake', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('times_out_of_bed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('hr_min', 'double precision')
      .addColumn('hr_max', 'double precision')
      .addColumn('rr_min', 'double precision')
      .addColumn('rr_max', 'double precision')
      .addColumn('score', 'double precision')
      .addColumn('state', 'text')
      .addColumn('state_since', 'text')
      .addPrimaryKeyConstraint('sleep_nights_pkey', ['resident_id', 'night'])
      .execute();
  },
};

migrations['0024_cloud_sms_receipts'] = {
  async up(db: Kysely<unknown>) {
    // Cloud SMS messages (Alibaba Cloud, Tencent Cloud) waiting for their delivery receipt, polled
    // from the provider (server/channels/cloud-receipts.ts). A row lives until the receipt is
    // applied or a day has passed; the phone is kept only that long (Alibaba's query needs it).
    await db.schema
      .createTable('sms_receipt_checks')
      .addColumn('provider_id', 'text', (c) => c.primaryKey())
      .addColumn('phone', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'text', (c) => c.notNull())
      .addColumn('next_check_at', 'text', (c) => c.notNull())
      .addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('outcome', 'text')
      .addColumn('error', 'text')
      .execute();
    await db.schema.createIndex('sms_receipt_checks_due').on('sms_receipt_checks').columns(['next_check_at']).execute();
  },
};

migrations['0025_sweep_indexes'] = {
  async up(db: Kysely<unknown>) {
    // The escalation and upgrade sweeps ask for active alarms due by now. With an index on the due
    // time alone, SQLite chose `alarms_state` (state, raised_at) for the equality and read every
    // active alarm: 7-9 ms each second with 16,000 open (bench). Leading with state, the due time
    // bounds the read to the alarms actually due. Same number of indexes on the alarm insert.
    await db.schema.dropIndex('alarms_next_escalation').execute();
    await db.schema.createIndex('alarms_next_escalation').on('alarms').columns(['state', 'next_escalation_at']).execute();
    await db.schema.dropIndex('alarms_upgrade_at').execute();
    await db.schema.createIndex('alarms_upgrade_at').on('alarms').columns(['state', 'upgrade_at']).execute();
  },
};

migrations['0026_drop_cause_state_index'] = {
  async up(db: Kysely<unknown>) {
    // 0003 added (cause_key, state) because the partial unique index alarms_open_cause could not
    // serve a query with the state bound. The open-alarm lookup now names 'resolved' in its SQL
    // (storage/alarms.ts RESOLVED) and uses alarms_open_cause; one index fewer on every alarm
    // insert and state change.
    await db.schema.dropIndex('alarms_cause_state').execute();
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
