// `jt808`: a GPS watch or pendant speaking JT/T 808 (2013 edition) to the server over TCP: it
// registers (0x0100), authenticates with the code it is given (0x0102), then sends heartbeats
// (0x0002) and location reports (0x0200) walking around home; SOS and fall are alarm flag bits of a
// location report. It reconnects when the server goes away. `runJt808` runs it in-process.
import net from 'node:net';
import { durationOption, num, parseHostPort, parseOptions, say, str, UsageError, untilSignal } from './cli.ts';
import type { Command } from './command.ts';

export interface Jt808Options {
  server: { host: string; port: number };
  /** The terminal phone number (up to 12 digits): the device id it is registered under. */
  phone: string;
  home: { lat: number; lon: number };
  walkMeters?: number;
  reportEveryMs?: number;
  heartbeatEveryMs?: number;
  print?: (line: string) => void;
  random?: () => number;
}

export interface Jt808Answer {
  messageId: number;
  /** 0x8001: the answered message id and result; 0x8100: the result and auth code. */
  answered: number | null;
  result: number;
  authCode: string | null;
}

export interface RunningJt808 {
  alarm(kind: 'sos' | 'fall'): void;
  /** Answers received from the server, in order (the last 100). */
  readonly answers: Jt808Answer[];
  connected(): boolean;
  stop(): Promise<void>;
}

const METRES_PER_DEGREE = 111_320;

// The wire format, written here from the standard (the simulators import nothing of the server's).
const MSG = { heartbeat: 0x0002, register: 0x0100, auth: 0x0102, location: 0x0200, registerAck: 0x8100 } as const;
/** Alarm flag bits: 0 emergency (SOS); 29 collision warning, which elder wearables use for a fall. */
const ALARM = { none: 0, sos: 1, fall: 1 << 29 } as const;

/** `7e` header body check `7e`, 0x7e and 0x7d escaped as 7d 02 and 7d 01; 2013 header (6-byte BCD phone). */
export function jt808Frame(messageId: number, phone: string, serial: number, body: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(messageId, 0);
  head.writeUInt16BE(body.length & 0x3ff, 2);
  Buffer.from(phone.padStart(12, '0'), 'hex').copy(head, 4);
  head.writeUInt16BE(serial & 0xffff, 10);
  const raw = Buffer.concat([head, body]);
  let check = 0;
  for (const b of raw) check ^= b;
  const bytes: number[] = [0x7e];
  for (const b of [...raw, check]) {
    if (b === 0x7e) bytes.push(0x7d, 0x02);
    else if (b === 0x7d) bytes.push(0x7d, 0x01);
    else bytes.push(b);
  }
  bytes.push(0x7e);
  return Buffer.from(bytes);
}

/** Location basic information: alarm, status (bit 1 positioned, 2 south, 3 west), 1e-6 degrees, speed, BCD time in GMT+8; item 0x06 battery %. */
export function jt808Location(p: { at: number; lat: number; lon: number; battery?: number; speedKmh?: number; alarm?: number }): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt32BE((p.alarm ?? 0) >>> 0, 0);
  b.writeUInt32BE(0b10 | (p.lat < 0 ? 0b100 : 0) | (p.lon < 0 ? 0b1000 : 0), 4);
  b.writeUInt32BE(Math.round(Math.abs(p.lat) * 1e6), 8);
  b.writeUInt32BE(Math.round(Math.abs(p.lon) * 1e6), 12);
  b.writeUInt16BE(Math.round((p.speedKmh ?? 0) * 10), 18);
  const d = new Date(p.at + 8 * 3600_000);
  const two = (n: number) => String(n).padStart(2, '0');
  Buffer.from(
    [d.getUTCFullYear() % 100, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
      .map(two)
      .join(''),
    'hex',
  ).copy(b, 22);
  return p.battery === undefined ? b : Buffer.concat([b, Buffer.from([0x06, 1, Math.round(p.battery)])]);
}

/** The messages in a stream of answers: unescaped, check code verified, header and body split. */
function answerReader() {
  let held = Buffer.alloc(0);
  return (chunk: Buffer): Array<{ messageId: number; body: Buffer }> => {
    held = Buffer.concat([held, chunk]).subarray(-8192);
    const out: Array<{ messageId: number; body: Buffer }> = [];
    for (;;) {
      const start = held.indexOf(0x7e);
      const end = start < 0 ? -1 : held.indexOf(0x7e, start + 1);
      if (end < 0) break;
      const wire = held.subarray(start + 1, end);
      held = held.subarray(end);
      if (wire.length === 0) continue;
      held = held.subarray(1);
      const bytes: number[] = [];
      for (let i = 0; i < wire.length; i += 1) {
        const x = wire[i] as number;
        bytes.push(x === 0x7d ? (wire[++i] === 0x02 ? 0x7e : 0x7d) : x);
      }
      const raw = Buffer.from(bytes);
      let check = 0;
      for (const x of raw.subarray(0, -1)) check ^= x;
      if (raw.length < 13 || check !== raw[raw.length - 1]) continue;
      const props = raw.readUInt16BE(2);
      const headLength = props & 0x4000 ? 17 : 12;
      out.push({ messageId: raw.readUInt16BE(0), body: raw.subarray(headLength, raw.length - 1) });
    }
    return out;
  };
}

export function runJt808(opts: Jt808Options): RunningJt808 {
  const print = opts.print ?? ((l: string) => say(l));
  const random = opts.random ?? Math.random;
  const reach = opts.walkMeters ?? 600;
  const answers: Jt808Answer[] = [];
  let socket: net.Socket | null = null;
  let stopped = false;
  let serial = 0;
  let battery = 95;
  let step = 0;
  const timers = new Set<NodeJS.Timeout>();

  function position() {
    step += 1;
    const phase = (step % 40) / 40;
    const r = reach * Math.sin(Math.PI * phase) + (random() - 0.5) * 20;
    const bearing = step * 0.15;
    const lat = opts.home.lat + (r * Math.cos(bearing)) / METRES_PER_DEGREE;
    const lon = opts.home.lon + (r * Math.sin(bearing)) / (METRES_PER_DEGREE * Math.cos((opts.home.lat * Math.PI) / 180));
    battery = Math.max(5, battery - 0.05);
    return { at: Date.now(), lat, lon, battery, speedKmh: 3 + random() };
  }

  const send = (messageId: number, body: Buffer) => {
    serial = (serial + 1) & 0xffff;
    if (socket && !socket.destroyed) socket.write(jt808Frame(messageId, opts.phone, serial, body));
  };

  /** 0x0100 body (2013): province, city, maker, model, terminal id, plate colour 0, no plate. */
  function registration(): Buffer {
    const field = (text: string, n: number) => Buffer.concat([Buffer.from(text, 'latin1'), Buffer.alloc(n)]).subarray(0, n);
    return Buffer.concat([
      Buffer.from([0, 50, 1, 0]),
      field('CARE0', 5),
      field('SIM-JT808', 20),
      field(opts.phone.slice(-7), 7),
      Buffer.from([0]),
    ]);
  }

  function onAnswer(messageId: number, body: Buffer) {
    const a: Jt808Answer =
      messageId === MSG.registerAck
        ? {
            messageId,
            answered: MSG.register,
            result: body[2] ?? 255,
            authCode: body.length > 3 ? body.subarray(3).toString('latin1') : null,
          }
        : { messageId, answered: body.length >= 4 ? body.readUInt16BE(2) : null, result: body[4] ?? 255, authCode: null };
    answers.push(a);
    if (answers.length > 100) answers.shift();
    if (messageId === MSG.registerAck && a.result === 0 && a.authCode !== null) send(MSG.auth, Buffer.from(a.authCode, 'latin1'));
  }

  function connect() {
    if (stopped) return;
    const s = net.connect(opts.server.port, opts.server.host);
    socket = s;
    const read = answerReader();
    s.setNoDelay(true);
    s.on('connect', () => {
      print(`jt808 terminal ${opts.phone}: connected to ${opts.server.host}:${opts.server.port}`);
      send(MSG.register, registration());
    });
    s.on('data', (d) => {
      for (const m of read(d)) onAnswer(m.messageId, m.body);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (socket === s) socket = null;
      if (!stopped) {
        print(`jt808 terminal ${opts.phone}: connection closed; retrying in 5 s`);
        const t = setTimeout(() => {
          timers.delete(t);
          connect();
        }, 5000);
        timers.add(t);
      }
    });
  }

  connect();
  const every = (ms: number, fn: () => void) => {
    const t = setInterval(() => !stopped && fn(), ms);
    timers.add(t);
  };
  every(opts.heartbeatEveryMs ?? 120_000, () => send(MSG.heartbeat, Buffer.alloc(0)));
  every(opts.reportEveryMs ?? 60_000, () => send(MSG.location, jt808Location(position())));

  return {
    answers,
    connected: () => Boolean(socket && !socket.destroyed && !socket.connecting),
    alarm(kind) {
      send(MSG.location, jt808Location({ ...position(), alarm: ALARM[kind] }));
      print(`jt808 terminal ${opts.phone}: ${kind === 'sos' ? 'SOS key pressed' : 'fall reported'}`);
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      socket?.destroy();
    },
  };
}

export const jt808Command: Command = {
  name: 'jt808',
  summary: 'a GPS watch speaking JT/T 808 to the server (register, authenticate, position walk, SOS, fall)',
  usage: `Usage: npm run sim -- jt808 --phone NUMBER [--server HOST:PORT] [options]

Connects to the server's JT/T 808 listener (CARE_JT808_PORT) as a terminal with this phone number
(it must be registered as a device of kind gps_watch with that number as its id), registers,
authenticates, then sends a heartbeat every 2 min and a location every --every, walking a loop
around --home out to --reach metres and back. Runs until Ctrl-C.

  --server HOST:PORT  the JT/T 808 listener [127.0.0.1:6808]
  --phone NUMBER      the terminal phone number, up to 12 digits (required)
  --home LAT,LON      centre of the walk [29.563010,106.551557]
  --reach M           how far the walk goes from home, in metres [600]
  --every DUR         location report period [60s]
  --sos               press the SOS key once, 5 s after connecting (alarm flag bit 0)
  --fall              report a fall once, 5 s after connecting (alarm flag bit 29)`,
  async run(argv) {
    const p = parseOptions(argv, {
      server: { type: 'string' },
      phone: { type: 'string' },
      home: { type: 'string' },
      reach: { type: 'string' },
      every: { type: 'string' },
      sos: { type: 'boolean' },
      fall: { type: 'boolean' },
    });
    if (p.help) {
      console.log(this.usage);
      return 0;
    }
    const phone = str(p, 'phone');
    if (!phone || !/^[1-9][0-9]{0,11}$/.test(phone)) throw new UsageError('--phone is required: up to 12 digits, no leading zero');
    const [lat, lon] = (str(p, 'home') ?? '29.563010,106.551557').split(',').map(Number) as [number, number];
    if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) throw new UsageError('--home must be LAT,LON in decimal degrees');
    const terminal = runJt808({
      server: parseHostPort(str(p, 'server') ?? '127.0.0.1:6808', '--server'),
      phone,
      home: { lat, lon },
      walkMeters: num(p, 'reach', 600, { min: 0 }),
      reportEveryMs: durationOption(p, 'every', 60_000),
    });
    const once: Array<'sos' | 'fall'> = [...(p.values.sos ? (['sos'] as const) : []), ...(p.values.fall ? (['fall'] as const) : [])];
    if (once.length > 0) {
      setTimeout(() => {
        for (const k of once) terminal.alarm(k);
      }, 5000).unref();
    }
    const sig = await untilSignal();
    await terminal.stop();
    say(`jt808 terminal stopped (${sig})`);
    return 0;
  },
};
