// The TCP listener skeleton shared by the device protocols that wearables speak to the server
// directly (the "watch" protocol in server/watch/, JT/T 808 in server/jt808/). It owns what does not
// depend on the protocol: connection bounds (in total and per address), the login and idle timeouts,
// one read handled at a time (backpressure), bad frames in a row, the per-connection frame rate, one
// connection bound to one device, and the heartbeat of the gateways the server speaks for. Each
// protocol gives a session per connection: how its bytes become frames, who a first frame names,
// whether a later frame comes from that device, and what a frame means.
import net from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../protocol/index.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { Db, Device } from '../storage/registry.ts';
import type { Bound } from '../watch/report.ts';
import type { DeviceListenerMetrics } from './metrics.ts';

/** What a device protocol's listener is given by the server (its own config and counters apart). */
export interface DeviceListenerDeps<Config, Metrics> {
  config: Config;
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
  metrics: Metrics;
  /** The server's security counter (refused unknown devices show there too). */
  securityEvent: (kind: string) => void;
  log: Logger;
  clock: Clock;
}

/** Bounds every device protocol's listener config carries. */
export interface DeviceListenerBounds {
  port: number;
  maxConnections: number;
  maxPerAddress: number;
  idleMs: number;
}

/** Bad frames in a row after which a connection is taken for garbage and closed. */
const MAX_BAD_IN_A_ROW = 3;
/** Time to name a registered device after connecting (much shorter than the idle limit of a known one). */
const LOGIN_TIMEOUT_MS = 60_000;
/**
 * Frames one device may send: a burst, then a steady rate (a watch reports about once a minute).
 * Past it frames are dropped and counted; an alarm report dropped this way is not answered, so the
 * device sends it again.
 */
const FRAME_BURST = 30;
const FRAMES_PER_SECOND = 2;
/**
 * Alarm reports past the frame rate: a device that reports its position too often must not have
 * its SOS dropped behind its routine reports. Their own budget (a burst, then one every 6 s)
 * still bounds a device that sends nothing but alarms.
 */
const ALARM_BURST = 10;
const ALARMS_PER_SECOND = 1 / 6;
/** How often the gateways that hold only watches are marked as heard: the server is their link. */
const GATEWAY_HEARTBEAT_MS = 20_000;
/** Real elapsed time for rate limits (the injected clock is for alarm times and may stand still in tests). */
const clockless = () => performance.now();

export type ReadResult<F, Bad extends { ok: false; reason: string }> = { ok: true; frame: F } | Bad;

/** One connection as its protocol sees it. */
export interface DeviceSession<F, Bad extends { ok: false; reason: string }> {
  /** Feeds one TCP read; every frame (or refusal) it finished, in order. */
  read(chunk: Buffer): Iterable<ReadResult<F, Bad>>;
  /** A refused frame, already counted by its reason (before it counts toward garbage). */
  onBadFrame?(bad: Bad, bound: Bound | null): void;
  /** The device a connection's first frame names; null when refused (the session closed or ended the socket). */
  authenticate(frame: F): Promise<Bound | null>;
  /** Whether a frame on a bound connection comes from the device it is bound to. */
  fromBound(frame: F, bound: Bound): boolean;
  /** Handles one frame from the bound device; false when its content was unusable. */
  onFrame(frame: F, bound: Bound): Promise<boolean>;
  /** Whether a frame reports an alarm (SOS, fall): past the frame rate, it has a budget of its own. */
  isAlarm?(frame: F): boolean;
}

export interface DeviceListenerOptions<F, Bad extends { ok: false; reason: string }> {
  /** The protocol's name in log lines: `watch`, `jt808`. */
  name: string;
  config: DeviceListenerBounds;
  metrics: DeviceListenerMetrics;
  log: Logger;
  /** Marks the gateways that hold only these devices as heard (at listen and then every 20 s). */
  heartbeatGateways: () => Promise<void>;
  /** A session for a connection let in; `refuse` counts a reason and closes the connection. */
  session(socket: net.Socket, refuse: (reason: string) => void): DeviceSession<F, Bad>;
}

export function createDeviceListener<F, Bad extends { ok: false; reason: string }>(opts: DeviceListenerOptions<F, Bad>) {
  const { name, config, metrics, log } = opts;
  const perAddress = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  let heartbeat: NodeJS.Timeout | null = null;

  const server = net.createServer((socket) => onConnection(socket));
  server.on('error', (err) => log.error({ err }, `${name} listener error`));

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
    socket.setTimeout(Math.min(LOGIN_TIMEOUT_MS, config.idleMs), () => {
      // Already told to go (refused or logged out, the session ended it): closed, not counted again.
      if (socket.writableEnded) socket.destroy();
      else refuse(socket, bound ? 'idle' : 'login_timeout');
    });
    socket.setNoDelay(true);

    const session = opts.session(socket, (reason) => refuse(socket, reason));
    let bound: Bound | null = null;
    let badInARow = 0;
    let tokens = FRAME_BURST;
    let alarmTokens = ALARM_BURST;
    let refilledAt = clockless();
    socket.on('data', (chunk: Buffer) => {
      // One read at a time: the next waits until this one's frames are handled (backpressure).
      socket.pause();
      handle(chunk)
        .catch((err: unknown) => {
          log.error({ err }, `${name} frame handling failed; connection closed`);
          socket.destroy();
        })
        .finally(() => {
          if (!socket.destroyed) socket.resume();
        });
    });

    async function handle(chunk: Buffer) {
      for (const r of session.read(chunk)) {
        if (socket.destroyed || socket.writableEnded) return;
        if (!r.ok) {
          metrics.frames.inc({ outcome: r.reason });
          session.onBadFrame?.(r, bound);
          if (++badInARow >= MAX_BAD_IN_A_ROW) return refuse(socket, 'garbage');
          continue;
        }
        const frame = r.frame;
        const t = clockless();
        tokens = Math.min(FRAME_BURST, tokens + ((t - refilledAt) / 1000) * FRAMES_PER_SECOND);
        alarmTokens = Math.min(ALARM_BURST, alarmTokens + ((t - refilledAt) / 1000) * ALARMS_PER_SECOND);
        refilledAt = t;
        if (tokens >= 1) tokens -= 1;
        else if (bound && alarmTokens >= 1 && session.isAlarm?.(frame)) alarmTokens -= 1;
        else {
          metrics.frames.inc({ outcome: 'rate_limited' });
          continue;
        }
        if (!bound) {
          bound = await session.authenticate(frame);
          if (!bound) return;
          socket.setTimeout(config.idleMs);
        } else if (!session.fromBound(frame, bound)) {
          // One connection is one device: another id on it is refused with the connection.
          metrics.frames.inc({ outcome: 'wrong_id' });
          return refuse(socket, 'wrong_id');
        }
        const usable = await session.onFrame(frame, bound);
        metrics.frames.inc({ outcome: usable ? 'ok' : 'unusable' });
        if (usable) badInARow = 0;
        else if (++badInARow >= MAX_BAD_IN_A_ROW) return refuse(socket, 'garbage');
      }
    }
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
      const beat = () => opts.heartbeatGateways().catch((err: unknown) => log.error({ err }, 'marking watch gateways as heard failed'));
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
export type DeviceListener = ReturnType<typeof createDeviceListener>;
