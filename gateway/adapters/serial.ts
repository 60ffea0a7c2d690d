// Serial device adapter: one port (a local device path via `serialport`, or a serial device server
// at `tcp://host:port`), framed by the port's protocol. A port missing at start or lost later is
// retried with backoff and reported as a fault; other ports carry on.
import net from 'node:net';
import type { Duplex, Transform } from 'node:stream';
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import { type BackoffOptions, createBackoff, PORT_BACKOFF } from '../../protocol/backoff.ts';
import type { SerialEntry } from '../config.ts';
import { BoundedLineParser, parseNdjsonLine } from '../parsers/ndjson.ts';
import type { AdapterSink, DeviceAdapter } from './types.ts';

export interface SerialProtocol {
  createParser(): Transform;
  handle(message: unknown, entry: SerialEntry, sink: AdapterSink): void;
}

export const ndjsonProtocol: SerialProtocol = {
  createParser: () => new BoundedLineParser({ maxLineBytes: 4096 }),
  handle(line, entry, sink) {
    const m = parseNdjsonLine(String(line));
    if (m.kind === 'invalid') return sink.rejected(entry.path, m.reason);
    sink.seen(m.device);
    if (m.kind === 'event') sink.event({ device: m.device, type: m.type, data: m.data, ts: m.ts });
    else sink.reading({ device: m.device, metric: m.metric, value: m.value, ts: m.ts });
  },
};

/** A device id for faults of a port that carries several devices (NDJSON boards). */
export function portDeviceId(entry: SerialEntry): string {
  return entry.device ?? `port-${entry.path.replace(/^.*[/:]/, '').replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 64);
}

export function openPort(entry: Pick<SerialEntry, 'path' | 'baudRate'>): Promise<Duplex> {
  const tcp = /^tcp:\/\/([^:/]+):(\d+)$/.exec(entry.path);
  if (tcp) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: tcp[1], port: Number(tcp[2]) });
      sock.once('connect', () => {
        sock.off('error', reject);
        sock.setKeepAlive(true, 10_000);
        resolve(sock);
      });
      sock.once('error', reject);
    });
  }
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path: entry.path, baudRate: entry.baudRate ?? 115200, autoOpen: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

export function createSerialAdapter(
  entry: SerialEntry,
  protocol: SerialProtocol,
  sink: AdapterSink,
  log: Logger,
  backoffOptions: BackoffOptions = PORT_BACKOFF,
): DeviceAdapter {
  const faultId = portDeviceId(entry);
  let stopped = true;
  let current: Duplex | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  const backoff = createBackoff(backoffOptions);

  function retry(reason: string) {
    current = null;
    if (stopped) return;
    sink.fault(faultId, `serial ${entry.path}: ${reason}`);
    const delay = backoff.next();
    log.warn({ path: entry.path, retryMs: delay, reason }, 'serial port unavailable; retrying');
    retryTimer = setTimeout(connect, delay);
  }

  async function connect() {
    retryTimer = null;
    if (stopped) return;
    let port: Duplex;
    try {
      port = await openPort(entry);
    } catch (err) {
      return retry((err as Error).message);
    }
    if (stopped) return void port.destroy();
    current = port;
    backoff.reset();
    sink.recovered(faultId);
    log.info({ path: entry.path, protocol: entry.protocol }, 'serial port open');
    const parser = protocol.createParser();
    parser.on('data', (msg: unknown) => {
      try {
        protocol.handle(msg, entry, sink);
      } catch (err) {
        sink.rejected(entry.path, (err as Error).message);
      }
    });
    parser.on('error', (err) => sink.rejected(entry.path, err.message));
    port.pipe(parser);
    let closed = false;
    const onGone = (why: string) => {
      if (closed) return;
      closed = true;
      port.unpipe(parser);
      port.destroy();
      retry(why);
    };
    port.on('error', (err) => onGone(err.message));
    port.on('close', () => onGone('port closed'));
    port.on('end', () => onGone('port closed'));
  }

  return {
    name: `serial:${entry.path}`,
    async start() {
      stopped = false;
      await connect();
    },
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      current?.destroy();
      current = null;
    },
  };
}
