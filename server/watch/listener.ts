// The watch listener (DESIGN.md 3.10): GPS watches and pendants connect here over TCP and speak the
// "watch" protocol. Identity: a watch is a device registered with `kind: "gps_watch"` and `id` = its
// IMEI, under a gateway of its site; the server speaks for that gateway, so a watch's SOS and fall
// enter ingest exactly as a gateway's events do (same validation, idempotency, alarm rules), on the
// topic of the gateway it is registered under. Unknown IMEIs and other kinds are refused and the
// connection closed. One connection is one watch; connections, idle time and frame size are bounded.
import net from 'node:net';
import type { Logger } from 'pino';
import type { Clock, Reading } from '../../protocol/index.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { Db, Device } from '../storage/registry.ts';
import type { WatchConfig } from './config.ts';
import { createFrameReader, encodeFrame, type WatchFrame } from './frames.ts';
import { decodeMessage } from './messages.ts';
import type { WatchMetrics } from './metrics.ts';
import { type Bound, createReportSink } from './report.ts';

export interface WatchListenerDeps {
  config: WatchConfig;
  lookups: {
    getDevice(id: string): Promise<Device | undefined>;
    getResident(id: string): Promise<{ id: string; room: string; settings: Record<string, unknown> } | undefined>;
    getSite(id: string): Promise<{ timezone: string } | undefined>;
  };
  getGateway(id: string): Promise<{ id: string; siteId: string } | undefined>;
  /** Ingest's entry point: the same one the broker calls with a gateway's messages. */
  ingest: (topic: string, payload: Buffer) => Promise<void>;
  supervision: { heardDevice(id: string, at?: string): void; heardGateway(id: string): void };
  db: Db;
  engine: Pick<AlarmEngine, 'apply' | 'publish'>;
  metrics: WatchMetrics;
  /** The server's security counter (refused unknown IMEIs show there too). */
  securityEvent: (kind: string) => void;
  log: Logger;
  clock: Clock;
}

/** Bad frames in a row after which a connection is taken for garbage and closed. */
const MAX_BAD_IN_A_ROW = 3;
/** Time to name a registered watch after connecting (much shorter than the idle limit of a known one). */
const LOGIN_TIMEOUT_MS = 60_000;
/**
 * Frames one watch may send: a burst, then a steady rate (a watch reports about once a minute).
 * Past it frames are dropped and counted; an alarm report dropped this way is not answered, so the
 * watch sends it again.
 */
const FRAME_BURST = 30;
const FRAMES_PER_SECOND = 2;
/** How often the gateways that hold only watches are marked as heard: the server is their link. */
const GATEWAY_HEARTBEAT_MS = 20_000;
/** Real elapsed time for rate limits (the injected clock is for alarm times and may stand still in tests). */
const clockless = () => performance.now();

export function createWatchListener(deps: WatchListenerDeps) {
  const { config, metrics, log, clock } = deps;
  const perAddress = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const { trustedTime, sendReadings, sendEvent, judgeGeofence, heartbeatWatchGateways } = createReportSink(deps, {
    name: 'watch',
    eventPrefix: 'w',
  });
  let heartbeat: NodeJS.Timeout | null = null;

  const server = net.createServer({ pauseOnConnect: false }, (socket) => onConnection(socket));
  server.on('error', (err) => log.error({ err }, 'watch listener error'));

  function refuse(socket: net.Socket, reason: string) {
    metrics.refused.inc({ reason });
    socket.destroy();
  }

  function onConnection(socket: net.Socket) {
    const address = socket.remoteAddress ?? 'unknown';
    if (sockets.size >= config.maxConnections) return refuse(socket, 'total');
    const fromHere = perAddress.get(address) ?? 0;
    if (fromHere >= config.maxPerAddress) return refuse(socket, 'per_address');
    perAddress.set(address, fromHere + 1);
    sockets.add(socket);
    metrics.connections.set(sockets.size);
    socket.on('close', () => {
      sockets.delete(socket);
      metrics.connections.set(sockets.size);
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n <= 0) perAddress.delete(address);
      else perAddress.set(address, n);
    });
    socket.on('error', () => socket.destroy());
    socket.setTimeout(Math.min(LOGIN_TIMEOUT_MS, config.idleMs), () => refuse(socket, bound ? 'idle' : 'login_timeout'));
    socket.setNoDelay(true);

    const reader = createFrameReader({ maxContentBytes: config.maxContentBytes });
    let bound: Bound | null = null;
    let badInARow = 0;
    let tokens = FRAME_BURST;
    let refilledAt = clockless();
    socket.on('data', (chunk: Buffer) => {
      // One read at a time: the next waits until this one's frames are handled (backpressure).
      socket.pause();
      handle(chunk)
        .catch((err: unknown) => {
          log.error({ err }, 'watch frame handling failed; connection closed');
          socket.destroy();
        })
        .finally(() => {
          if (!socket.destroyed) socket.resume();
        });
    });

    async function handle(chunk: Buffer) {
      for (const r of reader.push(chunk)) {
        if (socket.destroyed) return;
        if (!r.ok) {
          metrics.frames.inc({ outcome: r.reason });
          if (++badInARow >= MAX_BAD_IN_A_ROW) return refuse(socket, 'garbage');
          continue;
        }
        const frame = r.frame;
        const t = clockless();
        tokens = Math.min(FRAME_BURST, tokens + ((t - refilledAt) / 1000) * FRAMES_PER_SECOND);
        refilledAt = t;
        if (tokens < 1) {
          metrics.frames.inc({ outcome: 'rate_limited' });
          continue;
        }
        tokens -= 1;
        if (!bound) {
          bound = await authenticate(frame);
          if (!bound) return socket.destroy();
          socket.setTimeout(config.idleMs);
        } else if (frame.id !== bound.device.id) {
          // One connection is one watch: another id on it is refused with the connection.
          metrics.frames.inc({ outcome: 'wrong_id' });
          return refuse(socket, 'wrong_id');
        }
        const usable = await onFrame(socket, frame, bound);
        metrics.frames.inc({ outcome: usable ? 'ok' : 'unusable' });
        if (usable) badInARow = 0;
        else if (++badInARow >= MAX_BAD_IN_A_ROW) return refuse(socket, 'garbage');
      }
    }

    async function authenticate(frame: WatchFrame): Promise<Bound | null> {
      const device = await deps.lookups.getDevice(frame.id);
      if (device?.kind !== 'gps_watch') {
        const reason = device ? 'not_a_watch' : 'unknown_imei';
        metrics.refused.inc({ reason });
        deps.securityEvent(`watch_${reason}`);
        log.warn({ deviceId: frame.id.slice(0, 20), reason }, 'watch refused: not registered as a gps_watch');
        return null;
      }
      const gateway = await deps.getGateway(device.gatewayId);
      if (!gateway) {
        metrics.refused.inc({ reason: 'no_gateway' });
        return null;
      }
      log.info({ deviceId: device.id, gatewayId: gateway.id }, 'watch connected');
      return { device, siteId: gateway.siteId, gatewayId: gateway.id };
    }
  }

  const reply = (socket: net.Socket, frame: WatchFrame, content: string) => {
    if (!socket.destroyed) socket.write(encodeFrame(frame.maker, frame.id, frame.index, content));
  };

  /** Handles one frame from a bound watch; false when its content was unusable. */
  async function onFrame(socket: net.Socket, frame: WatchFrame, b: Bound): Promise<boolean> {
    const receivedAt = clock.iso();
    deps.supervision.heardDevice(b.device.id, receivedAt);
    const kw = frame.keyword.toUpperCase();
    // Acknowledgements some watches wait for before they go on.
    if (kw === 'TKQ' || kw === 'TKQ2') {
      reply(socket, frame, kw);
      return true;
    }
    const msg = decodeMessage(frame);
    if (!msg) {
      if (kw === 'LK' || /^(UD|AL|WT)/.test(kw)) return false;
      return true; // a keyword this server has no use for (images, voice, settings): ignored
    }
    if (msg.kind === 'link') {
      reply(socket, frame, 'LK');
      if (msg.battery !== null) await sendReadings(b, [{ metric: 'battery', value: msg.battery }], receivedAt);
      return true;
    }
    if (msg.kind === 'vitals') {
      const r: Array<{ metric: Reading['metric']; value: number }> = [];
      if (msg.heartRate !== null) r.push({ metric: 'heart_rate', value: msg.heartRate });
      if (msg.systolic !== null) r.push({ metric: 'bp_systolic', value: msg.systolic });
      if (msg.diastolic !== null) r.push({ metric: 'bp_diastolic', value: msg.diastolic });
      if (r.length > 0) await sendReadings(b, r, receivedAt);
      return true;
    }
    const p = msg.position;
    const at = trustedTime(p.at, receivedAt);
    const readings: Array<{ metric: Reading['metric']; value: number }> = [];
    if (p.valid) readings.push({ metric: 'latitude', value: p.latitude }, { metric: 'longitude', value: p.longitude });
    if (p.battery !== null) readings.push({ metric: 'battery', value: p.battery });
    if (readings.length > 0) await sendReadings(b, readings, at);
    let committed = true;
    if (msg.alarm) {
      if (msg.flags.sos) committed = (await sendEvent(b, 'call', p, at)) && committed;
      if (msg.flags.fall) committed = (await sendEvent(b, 'fall', p, at)) && committed;
      // Answered once stored: a watch resends an alarm report it has no answer to.
      if (committed) reply(socket, frame, 'AL');
    }
    await judgeGeofence(b, p, at);
    return true;
  }

  return {
    async listen(host: string): Promise<number> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const beat = () => heartbeatWatchGateways().catch((err: unknown) => log.error({ err }, 'marking watch gateways as heard failed'));
      await beat();
      heartbeat = setInterval(beat, GATEWAY_HEARTBEAT_MS);
      heartbeat.unref();
      return (server.address() as net.AddressInfo).port;
    },
    connections: () => sockets.size,
    async close(): Promise<void> {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
export type WatchListener = ReturnType<typeof createWatchListener>;
