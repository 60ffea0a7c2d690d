// `watch`: a GPS watch or pendant speaking the "watch" protocol to the server over TCP, as the elder
// watches sold in China do (devices.md "GPS watches"): a keep-alive (LK), position reports (UD)
// while it walks, an alarm report (AL) with the SOS or fall flag. It reconnects when the server
// goes away. `runWatch` runs it in-process (the demo); the command wraps it.
import { say } from './cli.ts';
import type { Command } from './command.ts';
import { connectLink, runWearableCommand, walkAround } from './wearable.ts';

/** A frame with LEN = the content's length in 4 hex digits. */
export function watchFrame(id: string, content: string, maker = '3G'): string {
  return `[${maker}*${id}*${Buffer.byteLength(content, 'latin1').toString(16).toUpperCase().padStart(4, '0')}*${content}]`;
}

/** The status word's flags (bit 16 SOS, bit 21 fall), as 8 hex digits. */
const STATUS = { none: 0, sos: 1 << 16, fall: 1 << 21 } as const;

/** A position report (`UD`) or alarm report (`AL`) in the documented field order. */
export function positionContent(
  kind: 'UD' | 'AL',
  at: Date,
  p: { lat: number; lon: number; valid?: boolean; battery?: number; speedKmh?: number },
  flag: keyof typeof STATUS = 'none',
): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${two(at.getUTCDate())}${two(at.getUTCMonth() + 1)}${two(at.getUTCFullYear() % 100)}`;
  const time = `${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}`;
  const ns = p.lat < 0 ? 'S' : 'N';
  const ew = p.lon < 0 ? 'W' : 'E';
  const status = STATUS[flag].toString(16).padStart(8, '0');
  return [
    kind,
    date,
    time,
    p.valid === false ? 'V' : 'A',
    Math.abs(p.lat).toFixed(6),
    ns,
    Math.abs(p.lon).toFixed(6),
    ew,
    (p.speedKmh ?? 0).toFixed(2),
    '0',
    '300',
    '8',
    '90',
    String(Math.round(p.battery ?? 80)),
    '0',
    '0',
    status,
    '0',
    '0',
  ].join(',');
}

export interface WatchOptions {
  server: { host: string; port: number };
  imei: string;
  /** Where the wearer lives; the walk goes around it. */
  home: { lat: number; lon: number };
  /** How far the walk reaches from home, in metres (beyond the home zone's radius: a wander). */
  walkMeters?: number;
  /** Position report period [60 s]; keep-alive period [3 min]. */
  reportEveryMs?: number;
  linkEveryMs?: number;
  print?: (line: string) => void;
  random?: () => number;
}

export interface RunningWatch {
  /** Presses the SOS key (an AL report with the SOS flag), or reports a fall. */
  alarm(kind: 'sos' | 'fall'): void;
  /** Answers received from the server, in order. */
  readonly answers: string[];
  connected(): boolean;
  stop(): Promise<void>;
}

export function runWatch(opts: WatchOptions): RunningWatch {
  const print = opts.print ?? ((l: string) => say(l));
  const walk = walkAround(opts.home, opts.walkMeters ?? 600, opts.random ?? Math.random);
  const answers: string[] = [];
  let buffered = '';

  const link = connectLink({
    server: opts.server,
    label: `watch ${opts.imei}`,
    print,
    onConnect() {
      buffered = '';
      send(`LK,0,0,${Math.round(walk.battery())}`);
    },
    onData(d) {
      buffered = (buffered + d.toString('latin1')).slice(-4096);
      for (let end = buffered.indexOf(']'); end >= 0; end = buffered.indexOf(']')) {
        answers.push(buffered.slice(0, end + 1));
        if (answers.length > 100) answers.shift();
        buffered = buffered.slice(end + 1);
      }
    },
  });
  const send = (content: string) => link.write(watchFrame(opts.imei, content));

  link.every(opts.linkEveryMs ?? 180_000, () => send(`LK,0,0,${Math.round(walk.battery())}`));
  link.every(opts.reportEveryMs ?? 60_000, () => send(positionContent('UD', new Date(), walk.next())));

  return {
    answers,
    connected: link.connected,
    alarm(kind) {
      send(positionContent('AL', new Date(), walk.next(), kind));
      print(`watch ${opts.imei}: ${kind === 'sos' ? 'SOS key pressed' : 'fall reported'}`);
    },
    stop: link.stop,
  };
}

export const watchCommand: Command = {
  name: 'watch',
  summary: 'a GPS watch speaking the watch protocol to the server (position walk, SOS, fall)',
  usage: `Usage: npm run sim -- watch --imei ID [--server HOST:PORT] [options]

Connects to the server's watch listener (CARE_WATCH_PORT) as a GPS watch with this IMEI (it must be
registered as a device of kind gps_watch), sends a keep-alive and then a position every --every,
walking a loop around --home out to --reach metres and back. Runs until Ctrl-C.

  --server HOST:PORT  the watch listener [127.0.0.1:5093]
  --imei ID           the watch's IMEI (required)
  --home LAT,LON      centre of the walk [29.563010,106.551557]
  --reach M           how far the walk goes from home, in metres [600]
  --every DUR         position report period [60s]
  --sos               press the SOS key once, 5 s after connecting
  --fall              report a fall once, 5 s after connecting`,
  run(argv) {
    return runWearableCommand(argv, this.usage, {
      idOption: 'imei',
      idPattern: /^[0-9A-Za-z]{1,20}$/,
      idUsage: '--imei is required: up to 20 letters and digits',
      defaultServer: '127.0.0.1:5093',
      start: ({ id, ...o }) => runWatch({ ...o, imei: id }),
      stoppedLabel: 'watch',
    });
  },
};
