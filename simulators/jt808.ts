// `jt808`: a GPS watch or pendant speaking JT/T 808 (2013 edition) to the server over TCP: it
// registers (0x0100), authenticates with the code it is given (0x0102), then sends heartbeats
// (0x0002) and location reports (0x0200) walking around home; SOS and fall are alarm flag bits of a
// location report. It reconnects when the server goes away. `runJt808` runs it in-process.
import { say } from './cli.ts';
import type { Command } from './command.ts';
import { connectLink, runWearableCommand, walkAround } from './wearable.ts';

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
  const walk = walkAround(opts.home, opts.walkMeters ?? 600, opts.random ?? Math.random);
  const answers: Jt808Answer[] = [];
  let serial = 0;
  let read = answerReader();

  const link = connectLink({
    server: opts.server,
    label: `jt808 terminal ${opts.phone}`,
    print,
    onConnect() {
      read = answerReader();
      send(MSG.register, registration());
    },
    onData(d) {
      for (const m of read(d)) onAnswer(m.messageId, m.body);
    },
  });
  const position = () => ({ at: Date.now(), ...walk.next() });

  const send = (messageId: number, body: Buffer) => {
    serial = (serial + 1) & 0xffff;
    link.write(jt808Frame(messageId, opts.phone, serial, body));
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

  link.every(opts.heartbeatEveryMs ?? 120_000, () => send(MSG.heartbeat, Buffer.alloc(0)));
  link.every(opts.reportEveryMs ?? 60_000, () => send(MSG.location, jt808Location(position())));

  return {
    answers,
    connected: link.connected,
    alarm(kind) {
      send(MSG.location, jt808Location({ ...position(), alarm: ALARM[kind] }));
      print(`jt808 terminal ${opts.phone}: ${kind === 'sos' ? 'SOS key pressed' : 'fall reported'}`);
    },
    stop: link.stop,
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
  run(argv) {
    return runWearableCommand(argv, this.usage, {
      idOption: 'phone',
      idPattern: /^[1-9][0-9]{0,11}$/,
      idUsage: '--phone is required: up to 12 digits, no leading zero',
      defaultServer: '127.0.0.1:6808',
      start: ({ id, ...o }) => runJt808({ ...o, phone: id }),
      stoppedLabel: 'jt808 terminal',
    });
  },
};
