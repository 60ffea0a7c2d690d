// What the simulated GPS wearables (`watch` in watch.ts, `jt808` in jt808.ts) have in common, the
// protocol apart: a walk around home, a TCP link to the server that comes back when the server goes
// away, and the command's options (--server, --home, --reach, --every, --sos, --fall).
import net from 'node:net';
import { durationOption, num, parseHostPort, parseOptions, say, str, UsageError, untilSignal } from './cli.ts';

const METRES_PER_DEGREE = 111_320;

export interface Walk {
  /** The next position on a slow loop around home: out to the reach and back over about 40 reports. */
  next(): { lat: number; lon: number; battery: number; speedKmh: number };
  /** Battery % now (it runs down a little with every position). */
  battery(): number;
}

export function walkAround(home: { lat: number; lon: number }, reach: number, random: () => number): Walk {
  let battery = 95;
  let step = 0;
  return {
    next() {
      step += 1;
      const phase = (step % 40) / 40;
      const r = reach * Math.sin(Math.PI * phase) + (random() - 0.5) * 20;
      const bearing = step * 0.15;
      const lat = home.lat + (r * Math.cos(bearing)) / METRES_PER_DEGREE;
      const lon = home.lon + (r * Math.sin(bearing)) / (METRES_PER_DEGREE * Math.cos((home.lat * Math.PI) / 180));
      battery = Math.max(5, battery - 0.05);
      return { lat, lon, battery, speedKmh: 3 + random() };
    },
    battery: () => battery,
  };
}

export interface LinkOptions {
  server: { host: string; port: number };
  /** Who is speaking, in printed lines: `watch 3584...`, `jt808 terminal 1380...`. */
  label: string;
  print: (line: string) => void;
  /** Called on every (re)connection, before anything else is sent; `onData` gets its reads. */
  onConnect(): void;
  onData(chunk: Buffer): void;
}

export interface Link {
  /** Writes to the connection when there is one (dropped otherwise, as a wearable out of reach). */
  write(bytes: string | Buffer): void;
  /** Runs `fn` every `ms` until stopped. */
  every(ms: number, fn: () => void): void;
  connected(): boolean;
  stop(): Promise<void>;
}

/** A TCP link to the server that reconnects 5 s after it closes, until stopped. */
export function connectLink(opts: LinkOptions): Link {
  let socket: net.Socket | null = null;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();

  function connect() {
    if (stopped) return;
    const s = net.connect(opts.server.port, opts.server.host);
    socket = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      opts.print(`${opts.label}: connected to ${opts.server.host}:${opts.server.port}`);
      opts.onConnect();
    });
    s.on('data', (d: Buffer) => opts.onData(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (socket === s) socket = null;
      if (!stopped) {
        opts.print(`${opts.label}: connection closed; retrying in 5 s`);
        const t = setTimeout(() => {
          timers.delete(t);
          connect();
        }, 5000);
        timers.add(t);
      }
    });
  }

  connect();
  return {
    write(bytes) {
      if (socket && !socket.destroyed) socket.write(bytes);
    },
    every(ms, fn) {
      const t = setInterval(() => !stopped && fn(), ms);
      timers.add(t);
    },
    connected: () => Boolean(socket && !socket.destroyed && !socket.connecting),
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      socket?.destroy();
    },
  };
}

export interface WearableCommand {
  /** The option naming the device (`imei`, `phone`), its check and the message when it fails. */
  idOption: string;
  idPattern: RegExp;
  idUsage: string;
  defaultServer: string;
  start(o: {
    server: { host: string; port: number };
    id: string;
    home: { lat: number; lon: number };
    walkMeters: number;
    reportEveryMs: number;
  }): { alarm(kind: 'sos' | 'fall'): void; stop(): Promise<void> };
  /** Printed when stopped: `watch`, `jt808 terminal`. */
  stoppedLabel: string;
}

/** A wearable command's run: parses the shared options, runs the device until Ctrl-C. */
export async function runWearableCommand(argv: string[], usage: string, c: WearableCommand): Promise<number> {
  const p = parseOptions(argv, {
    server: { type: 'string' },
    [c.idOption]: { type: 'string' },
    home: { type: 'string' },
    reach: { type: 'string' },
    every: { type: 'string' },
    sos: { type: 'boolean' },
    fall: { type: 'boolean' },
  });
  if (p.help) {
    console.log(usage);
    return 0;
  }
  const id = str(p, c.idOption);
  if (!id || !c.idPattern.test(id)) throw new UsageError(c.idUsage);
  const [lat, lon] = (str(p, 'home') ?? '29.563010,106.551557').split(',').map(Number) as [number, number];
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) throw new UsageError('--home must be LAT,LON in decimal degrees');
  const device = c.start({
    server: parseHostPort(str(p, 'server') ?? c.defaultServer, '--server'),
    id,
    home: { lat, lon },
    walkMeters: num(p, 'reach', 600, { min: 0 }),
    reportEveryMs: durationOption(p, 'every', 60_000),
  });
  const once: Array<'sos' | 'fall'> = [...(p.values.sos ? (['sos'] as const) : []), ...(p.values.fall ? (['fall'] as const) : [])];
  if (once.length > 0) {
    setTimeout(() => {
      for (const k of once) device.alarm(k);
    }, 5000).unref();
  }
  const sig = await untilSignal();
  await device.stop();
  say(`${c.stoppedLabel} stopped (${sig})`);
  return 0;
}
