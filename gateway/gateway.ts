// The gateway's composition root: outbox, uplink, adapters and the heartbeat, wired together.
// `main.ts` adds the CLI; tests call `startGateway` directly.
import pino, { type Logger } from 'pino';
import {
  type Clock,
  createDecoder,
  DeviceEvent,
  EVENT_LIMITS,
  type GatewayStatus,
  type IdSource,
  OUTBOX_UNWRITABLE,
  type Reading,
  systemClock,
  ulidSource,
} from '../protocol/index.ts';
import { seeed5359Protocol, seeedSofProtocol } from './adapters/seeed.ts';
import { createSerialAdapter, ndjsonProtocol, type SerialProtocol } from './adapters/serial.ts';
import type { AdapterSink, DeviceAdapter } from './adapters/types.ts';
import { createZigbee2MqttAdapter } from './adapters/zigbee2mqtt/adapter.ts';
import { ConfigError, type GatewayConfig, type SerialEntry } from './config.ts';
import { createFallback } from './local/fallback.ts';
import { createOutput } from './local/output.ts';
import { startLocalPage } from './local/page.ts';
import { createOutboxHealth } from './outbox/health.ts';
import { openOutbox } from './outbox/outbox.ts';
import { createEdgeRules, DEFAULT_EDGE_RULES } from './rules/edge-rules.ts';
import { createUplink } from './uplink/uplink.ts';

const checkEvent = createDecoder(DeviceEvent, EVENT_LIMITS);

/** An adapter handed over an event that fails the wire schema: a bug at its edge, not a store error. */
class InvalidEventError extends Error {}

export const serialProtocols: Partial<Record<SerialEntry['protocol'], SerialProtocol>> = {
  ndjson: ndjsonProtocol,
  'seeed-5359': seeed5359Protocol,
  'seeed-sof': seeedSofProtocol,
};

export interface GatewayDeps {
  logger?: Logger;
  clock?: Clock;
  ids?: IdSource;
}

export interface RunningGateway {
  /** Accepts an event as an adapter would (used by tests and the local console). */
  sink: AdapterSink;
  outboxDepth(): { events: number; telemetry: number };
  /** False while the outbox cannot take writes (events then go out from memory, not durable). */
  outboxWritable(): boolean;
  uplinkConnected(): boolean;
  /** The local alarm page's port, when configured. */
  localPagePort: number | null;
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const log = deps.logger ?? pino({ level: config.logLevel });
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? ulidSource();
  const file = config.file;

  for (const s of file.serial ?? []) {
    if (!serialProtocols[s.protocol]) throw new ConfigError(`CARE_GATEWAY_CONFIG: protocol ${s.protocol} is not available in this build`);
  }

  const outbox = openOutbox(config.outboxDir, { maxRows: file.outboxMaxRows ?? 100_000 });
  const health = createOutboxHealth(
    () => outbox.probeWrite(),
    log.child({ part: 'outbox' }),
    (writable) => {
      fallback.outboxWritable(writable);
      // The server raises (or clears) its alarm on this gateway from the status: say it now.
      uplink.publishStatus(status());
    },
  );
  const rulesConfig = { ...DEFAULT_EDGE_RULES, ...file.rules };
  const edge = createEdgeRules(rulesConfig, clock, (e) => sink.event(e));
  const output = file.local?.output
    ? createOutput(
        file.local.output,
        log.child({ part: 'alarm-output' }),
        (message) => sink.fault('alarm-output', message),
        () => sink.recovered('alarm-output'),
      )
    : null;
  const fallback = createFallback({ afterSeconds: file.local?.afterSeconds ?? 60, maxAlarms: 500 }, rulesConfig, clock, (alarms) => {
    if (alarms.length > 0) log.warn({ alarms: alarms.length }, 'local alarms raised (uplink down)');
    output?.update(alarms);
  });
  const uplink = createUplink(
    { url: config.uplinkUrl, siteId: config.siteId, gatewayId: config.gatewayId, secret: config.secret, tls: config.uplinkTls },
    outbox,
    log.child({ part: 'uplink' }),
    {
      onConnectionChange: (connected) => fallback.uplink(connected),
      onAlarmAck: (cmd) => {
        if (cmd.state !== 'active') fallback.serverAcknowledged(cmd.deviceId);
      },
      onStoreError: (what, err) => health.failed(what, err),
    },
  );

  const devices = new Map<string, { lastSeen: string; battery?: number; fault?: string }>();
  const maxBatch = file.telemetry?.maxBatch ?? 200;
  const maxDelayMs = file.telemetry?.maxDelayMs ?? 1000;
  let readings: Reading[] = [];
  let readingTimer: NodeJS.Timeout | null = null;
  let rejectedCount = 0;
  let droppedReadings = 0;

  function flushReadings() {
    if (readingTimer) clearTimeout(readingTimer);
    readingTimer = null;
    if (readings.length === 0) return;
    const batch = { v: 1, ts: clock.iso(), points: readings };
    readings = [];
    try {
      outbox.appendTelemetry(JSON.stringify(batch), batch.points.length);
      health.succeeded();
    } catch (err) {
      // Readings are not alarms: while the outbox is unwritable they are counted and dropped.
      droppedReadings += batch.points.length;
      health.failed('telemetry', err);
      log.warn({ points: batch.points.length, dropped: droppedReadings }, 'telemetry batch dropped: outbox unwritable');
    }
    uplink.kick();
  }

  const device = (id: string) => {
    let d = devices.get(id);
    if (!d) {
      d = { lastSeen: clock.iso() };
      devices.set(id, d);
    }
    return d;
  };

  const sink: AdapterSink = {
    event(e) {
      const id = ids.next();
      const ts = e.ts ?? clock.iso();
      const build = (seq: number) => {
        const event = { v: 1, id, seq, ts, device: e.device, type: e.type, ...(e.data ? { data: e.data } : {}) };
        const ok = checkEvent.check(event);
        // Adapters validate at their edge; this is the last line before the wire.
        if (!ok.ok) throw new InvalidEventError(`invalid event from adapter: ${ok.error}`);
        return JSON.stringify(event);
      };
      let stored: { seq: number } | null = null;
      try {
        stored = outbox.appendEvent(id, build);
        health.succeeded();
      } catch (err) {
        if (err instanceof InvalidEventError) throw err;
        health.failed('event', err);
      }
      if (stored) {
        log.info({ deviceId: e.device, type: e.type, eventId: id, seq: stored.seq }, 'event accepted');
        uplink.kick();
        uplink.eventWaiting();
        fallback.onEvent({ ...e, ts });
      } else {
        // Not durable: it goes out from memory at once and is alarmed locally right now, since
        // a gateway restart before the server confirms it would lose it.
        const seq = outbox.reserveSeq();
        uplink.sendFromMemory(id, build(seq));
        uplink.eventWaiting();
        log.error({ deviceId: e.device, type: e.type, eventId: id, seq, durable: false }, 'event accepted in memory only');
        fallback.raiseNow({ ...e, ts });
      }
      edge.onEvent({ ...e, ts });
    },
    reading(r) {
      readings.push({ device: r.device, metric: r.metric, value: r.value, ts: r.ts ?? clock.iso() });
      if (r.metric === 'battery') device(r.device).battery = r.value;
      if (readings.length >= maxBatch) flushReadings();
      else readingTimer ??= setTimeout(flushReadings, maxDelayMs);
    },
    seen(id, info) {
      const d = device(id);
      d.lastSeen = clock.iso();
      if (info?.battery !== undefined) d.battery = info.battery;
    },
    fault(id, message) {
      const d = device(id);
      if (d.fault) return; // once per episode
      d.fault = message;
      sink.event({ device: id, type: 'device_fault', data: { message: message.slice(0, 200) } });
    },
    recovered(id) {
      const d = devices.get(id);
      if (d?.fault) {
        d.fault = undefined;
        log.info({ deviceId: id }, 'device recovered');
      }
    },
    motion(id, moving) {
      edge.onMotion(id, moving);
    },
    rejected(source, reason) {
      rejectedCount += 1;
      log.warn({ source, reason, rejected: rejectedCount }, 'bad input from a device dropped');
    },
  };

  /** The status carries no depth while the outbox cannot be read. */
  const depth = (): { outboxDepth?: number } => {
    try {
      return { outboxDepth: outbox.depth().events };
    } catch (err) {
      health.failed('read', err);
      return {};
    }
  };
  const status = (): GatewayStatus => ({
    v: 1,
    state: 'online',
    ts: clock.iso(),
    devices: [...devices].slice(0, 2000).map(([id, d]) => ({
      device: id,
      lastSeen: d.lastSeen,
      ...(d.battery !== undefined ? { battery: Math.max(0, Math.min(100, d.battery)) } : {}),
      ...(d.fault ? { fault: d.fault.slice(0, 200) } : {}),
    })),
    ...depth(),
    faults: health.writable ? [] : [OUTBOX_UNWRITABLE],
  });

  const adapters: DeviceAdapter[] = (file.serial ?? []).map((s) =>
    createSerialAdapter(s, serialProtocols[s.protocol] as SerialProtocol, sink, log.child({ part: 'serial', path: s.path })),
  );
  if (file.zigbee2mqtt) adapters.push(createZigbee2MqttAdapter(file.zigbee2mqtt, sink, log.child({ part: 'zigbee2mqtt' })));

  uplink.publishStatus(status());
  fallback.uplink(false); // down until the first connection
  uplink.start();
  await output?.start();
  const page =
    file.local?.httpPort !== undefined ? await startLocalPage(fallback, file.local.httpHost ?? '127.0.0.1', file.local.httpPort) : null;
  const publishHeartbeat = () => {
    try {
      uplink.publishStatus(status());
    } catch (err) {
      log.error({ err }, 'status heartbeat failed');
    }
  };
  const heartbeat = setInterval(publishHeartbeat, (file.heartbeatSeconds ?? 30) * 1000);
  for (const a of adapters) await a.start();
  log.info({ gatewayId: config.gatewayId, adapters: adapters.map((a) => a.name) }, 'gateway started');

  return {
    sink,
    outboxDepth: () => outbox.depth(),
    outboxWritable: () => health.writable,
    uplinkConnected: () => uplink.connected,
    localPagePort: page?.port ?? null,
    async stop() {
      clearInterval(heartbeat);
      health.stop();
      edge.stop();
      fallback.stop();
      await output?.stop();
      await page?.close();
      for (const a of adapters) await a.stop();
      flushReadings();
      await uplink.stop();
      outbox.close();
      log.info('gateway stopped');
    },
  };
}
