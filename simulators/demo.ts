// `demo`: a small nursing home on simulated serial device servers, for `npm start`. One NDJSON
// port carries every call button and bed sensor; each radar has its own port speaking its real
// frames. Every radar reports vitals every few seconds; every one to three minutes (scaled by
// timeScale) some resident does something: a call (often cancelled), a bed exit and a return
// within minutes, rarely a fall. With the plan's `lastNight`, every resident's last night (in bed,
// sleep stages, vitals, a score, up in the morning) is first replayed on the NDJSON port with its
// past timestamps, as a gateway's backlog, so the sleep report has a night to show at once.
// `runDemo` runs it in-process; the command wraps it.
import fs from 'node:fs';
import { type EventType, isTopicSafeId } from '../protocol/index.ts';
import { durationOption, num, parseHostPort, parseOptions, say, sleep, str, UsageError, untilSignal } from './cli.ts';
import type { Command } from './command.ts';
import { createWireDevice, fallCleared, isWireProtocol, type WireDevice, type WireProtocol } from './encoders/device.ts';
import { listenTcp, type WireOutput } from './wire.ts';

export interface DemoPlan {
  ports: Array<{ listen: string; protocol: WireProtocol; device?: string }>;
  residents: Array<{
    name: string;
    room: string;
    callButton?: string;
    radar?: string;
    radarProtocol?: 'seeed-5359' | 'seeed-sof';
    bedSensor?: string;
  }>;
  timeScale?: number;
  /** A past night to replay first (ISO instants): in bed at `bedAt`, up at `upAt`. */
  lastNight?: { bedAt: string; upAt: string };
}

export interface DemoOptions {
  /** Overrides the plan's timeScale: 60 makes a minute of scripted activity pass in a second. */
  timeScale?: number;
  /** One line per scripted event [stderr with a time prefix]. */
  print?: (line: string) => void;
  /** Source of randomness in [0, 1) [Math.random]; give a seeded one for a repeatable demo. */
  random?: () => number;
  /** Radar vitals period in real time [5000 ms]. */
  vitalsEveryMs?: number;
}

export interface RunningDemo {
  /** The ports as bound (`tcp://127.0.0.1:4001`), in plan order; useful when a plan asks for port 0. */
  readonly addresses: string[];
  stop(): Promise<void>;
}

/** A small seeded generator (mulberry32) for repeatable demos and tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function validatePlan(raw: unknown, where = 'plan'): DemoPlan {
  const fail = (msg: string): never => {
    throw new UsageError(`${where}: ${msg}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('must be a JSON object');
  const plan = raw as DemoPlan;
  if (!Array.isArray(plan.ports) || plan.ports.length === 0) fail('"ports" must be a non-empty array');
  if (!Array.isArray(plan.residents)) fail('"residents" must be an array');
  if (plan.timeScale !== undefined && !(typeof plan.timeScale === 'number' && plan.timeScale > 0))
    fail('"timeScale" must be a positive number');
  plan.ports.forEach((p, i) => {
    parseHostPort(String(p?.listen), `${where}.ports[${i}].listen`);
    if (!isWireProtocol(String(p?.protocol))) fail(`ports[${i}].protocol must be ndjson, seeed-5359 or seeed-sof`);
    if (p.device !== undefined && !isTopicSafeId(p.device)) fail(`ports[${i}].device "${p.device}" is not a device id`);
  });
  if (plan.lastNight !== undefined) {
    const bed = Date.parse(String(plan.lastNight?.bedAt));
    const up = Date.parse(String(plan.lastNight?.upAt));
    if (!(bed < up && up - bed < 24 * 3600_000 && up <= Date.now()))
      fail('"lastNight" must be {"bedAt", "upAt"}: past instants, bedAt first, under 24 h apart');
  }
  plan.residents.forEach((r, i) => {
    if (typeof r?.name !== 'string' || typeof r.room !== 'string') fail(`residents[${i}] needs "name" and "room"`);
    for (const k of ['callButton', 'radar', 'bedSensor'] as const) {
      if (r[k] !== undefined && !isTopicSafeId(r[k] as string)) fail(`residents[${i}].${k} "${r[k]}" is not a device id`);
    }
    if (r.radarProtocol !== undefined && r.radarProtocol !== 'seeed-5359' && r.radarProtocol !== 'seeed-sof') {
      fail(`residents[${i}].radarProtocol must be seeed-5359 or seeed-sof`);
    }
  });
  return plan;
}

interface ResidentSim {
  name: string;
  room: string;
  button?: string;
  bed?: string;
  radar?: { device: string; wire: WireDevice; out: WireOutput };
  heartRate: number;
  breathing: number;
  inBed: boolean;
  busyUntil: number;
}

export async function runDemo(planInput: DemoPlan, opts: DemoOptions = {}): Promise<RunningDemo> {
  const plan = validatePlan(planInput);
  const timeScale = opts.timeScale ?? plan.timeScale ?? 1;
  const random = opts.random ?? Math.random;
  const print = opts.print ?? ((line: string) => say(line));
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  const scaled = (ms: number) => ms / timeScale;

  const outputs: WireOutput[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn();
    }, ms);
    timers.add(t);
  };
  const every = (ms: number, fn: () => void) => {
    const t = setInterval(() => !stopped && fn(), ms);
    timers.add(t);
  };

  try {
    for (const p of plan.ports) {
      const { host, port } = parseHostPort(p.listen, 'listen');
      outputs.push(await listenTcp(host, port));
    }
  } catch (err) {
    await Promise.all(outputs.map((o) => o.close()));
    throw err;
  }

  const ndjsonIndex = plan.ports.findIndex((p) => p.protocol === 'ndjson');
  const ndjsonOut = ndjsonIndex >= 0 ? outputs[ndjsonIndex] : undefined;
  const ndjson = createWireDevice('ndjson', 'demo');
  const usedRadarPorts = new Set<number>();
  const residents: ResidentSim[] = plan.residents.map((r) => {
    const sim: ResidentSim = {
      name: r.name,
      room: r.room,
      button: r.callButton,
      bed: r.bedSensor,
      heartRate: Math.round(between(62, 86)),
      breathing: Math.round(between(13, 18)),
      inBed: true,
      busyUntil: 0,
    };
    if ((r.callButton || r.bedSensor) && !ndjsonOut)
      throw new UsageError(`resident ${r.name}: call buttons and bed sensors need an ndjson port`);
    if (r.radar) {
      const protocol = r.radarProtocol ?? 'seeed-5359';
      // The port that names this radar, else the first unused port of its protocol without a device.
      let i = plan.ports.findIndex((p) => p.device === r.radar);
      if (i < 0) i = plan.ports.findIndex((p, j) => p.protocol === protocol && !p.device && !usedRadarPorts.has(j));
      if (i < 0) throw new UsageError(`resident ${r.name}: no ${protocol} port for radar ${r.radar}`);
      usedRadarPorts.add(i);
      const port = plan.ports[i] as DemoPlan['ports'][number];
      sim.radar = { device: r.radar, wire: createWireDevice(port.protocol, r.radar), out: outputs[i] as WireOutput };
    }
    return sim;
  });

  const who = (r: ResidentSim) => `room ${r.room} (${r.name})`;
  const sendNdjson = (device: string, type: EventType) => ndjsonOut?.write(Buffer.concat(ndjson.event(type, { device })));
  const sendRadar = (r: ResidentSim, frames: Buffer[]) => r.radar?.out.write(Buffer.concat(frames));

  /**
   * Last night of every resident with a bed sensor or radar, on the NDJSON port with its own past
   * timestamps (NDJSON lines may name any device): in bed, light and deep sleep in turn, awake
   * once in the small hours, heart and breathing rates every half hour, the radar's score, and up
   * in the morning. Waits (up to two minutes) for the gateway to read the port: bytes sent while
   * nobody listens are lost, as on a serial line.
   */
  async function replayLastNight(night: { bedAt: string; upAt: string }) {
    const deadline = Date.now() + 120_000;
    while (!stopped && (ndjsonOut?.clients() ?? 0) === 0) {
      if (Date.now() > deadline) {
        print('last night not replayed: nobody reads the NDJSON port');
        return;
      }
      await sleep(100);
    }
    if (stopped || !ndjsonOut) return;
    // A device's last-seen time never goes back, so the bed sensors are heard now first (a battery
    // reading, stamped by the gateway) and the radars' vitals have come in before the replay:
    // otherwise last night's timestamps would make supervision report them offline.
    for (const r of residents) if (r.bed) ndjsonOut.write(Buffer.concat(ndjson.reading('battery', 100, { device: r.bed })));
    await sleep(Math.max(3000, 2 * vitalsEveryMs));
    if (stopped) return;
    const bedAt = Date.parse(night.bedAt);
    const upAt = Date.parse(night.upAt);
    const span = upAt - bedAt;
    // Events first, readings after: they travel different lanes, and the sleep report counts a
    // reading only once the night it belongs to has begun (the bed or sleep events made it).
    const readings: Buffer[][] = [];
    for (const r of residents) {
      const radar = r.radar?.device;
      if (!r.bed && !radar) continue;
      const lines: Array<{ at: number; bytes: Buffer[] }> = [];
      const later: Buffer[] = [];
      const at = (f: number) => Math.round(bedAt + f * span + between(-5, 5) * 60_000);
      const iso = (t: number) => new Date(t).toISOString();
      if (r.bed) lines.push({ at: bedAt, bytes: ndjson.event('bed_return', { device: r.bed, ts: iso(bedAt) }) });
      if (radar) {
        const stages: Array<[number, 'light' | 'deep' | 'awake']> = [
          [0.03, 'light'],
          [0.12, 'deep'],
          [0.3, 'light'],
          [0.42, 'deep'],
          [0.55, 'light'],
          [0.64, 'awake'],
          [0.66, 'light'],
          [0.72, 'deep'],
          [0.85, 'light'],
          [0.97, 'awake'],
        ];
        for (const [f, state] of stages) {
          const t = at(f);
          lines.push({ at: t, bytes: ndjson.event('sleep_state', { device: radar, data: { state }, ts: iso(t) }) });
        }
        for (let t = bedAt + 15 * 60_000; t < upAt; t += 30 * 60_000) {
          later.push(...ndjson.reading('heart_rate', Math.round(r.heartRate - 8 + between(-3, 3)), { device: radar, ts: iso(t) }));
          later.push(...ndjson.reading('resp_rate', Math.round(r.breathing - 2 + between(-1, 1)), { device: radar, ts: iso(t) }));
        }
        later.push(...ndjson.reading('sleep_score', Math.round(between(68, 88)), { device: radar, ts: iso(upAt - 5 * 60_000) }));
      }
      if (r.bed) lines.push({ at: upAt, bytes: ndjson.event('bed_exit', { device: r.bed, ts: iso(upAt) }) });
      lines.sort((a, b) => a.at - b.at);
      ndjsonOut.write(Buffer.concat(lines.flatMap((l) => l.bytes)));
      readings.push(later);
      // A pause between residents, so the reader keeps up with the burst.
      await sleep(100);
    }
    // Twice: a reading that arrives before its night's first event is not counted (a busy server
    // may take longer than the first wait), and a second copy changes no range or score.
    for (const wait of [2000, 10_000]) {
      await sleep(wait);
      for (const r of readings) {
        if (stopped) return;
        ndjsonOut.write(Buffer.concat(r));
        await sleep(100);
      }
    }
    // Moving now (a radar's presence event): last night's bed changes are not the latest news.
    for (const r of residents) {
      if (r.radar) ndjsonOut.write(Buffer.concat(ndjson.event('presence', { device: r.radar.device })));
    }
    print(`last night replayed (${night.bedAt} to ${night.upAt}) for ${residents.length} resident(s)`);
  }

  // Radars: a keep-alive, presence and vitals, in real time (these are not scripted events).
  const vitalsEveryMs = opts.vitalsEveryMs ?? 5000;
  for (const r of residents) {
    if (!r.radar) continue;
    const radar = r.radar;
    sendRadar(r, radar.wire.heartbeat());
    sendRadar(r, radar.wire.reading('presence', 1));
    every(vitalsEveryMs, () => {
      const hr = Math.round(r.heartRate + between(-3, 3));
      const br = Math.round(r.breathing + between(-1, 1));
      sendRadar(r, radar.wire.vitals(hr, br));
    });
    every(60_000, () => sendRadar(r, [...radar.wire.heartbeat(), ...radar.wire.reading('presence', 1)]));
  }
  const startSleep = () => {
    for (const r of residents) {
      if (!r.radar) continue;
      const radar = r.radar;
      // An MR60BHA1 also reports sleep: light and deep sleep in turn, briefly awake, and a score,
      // so the resident page's sleep report fills in (between 18:00 and 12:00 site time).
      if (radar.wire.protocol === 'seeed-5359') {
        const cycle = ['light', 'deep', 'light', 'awake'] as const;
        let step = 0;
        const sleepNow = () => {
          sendRadar(r, radar.wire.event('sleep_state', { data: { state: cycle[step % cycle.length] } }));
          step += 1;
          if (step % cycle.length === 0) sendRadar(r, radar.wire.reading('sleep_score', Math.round(between(65, 90))));
        };
        sendRadar(r, radar.wire.event('bed_return'));
        sleepNow();
        every(scaled(20 * 60_000), sleepNow);
      }
    }
  };

  // What residents do: one thing every 1-3 scenario minutes, by someone not already busy.
  const actions: Array<{ weight: number; can: (r: ResidentSim) => boolean; run: (r: ResidentSim) => void }> = [
    {
      weight: 4,
      can: (r) => !!r.button,
      run(r) {
        sendNdjson(r.button as string, 'call');
        print(`${who(r)}: call button pressed (${r.button})`);
        r.busyUntil = Date.now() + scaled(60_000);
        if (random() < 0.5) {
          later(scaled(between(10_000, 45_000)), () => {
            sendNdjson(r.button as string, 'call_cancel');
            print(`${who(r)}: call cancelled at the button`);
          });
        }
      },
    },
    {
      weight: 4,
      can: (r) => !!r.bed && r.inBed,
      run(r) {
        r.inBed = false;
        sendNdjson(r.bed as string, 'bed_exit');
        print(`${who(r)}: out of bed (${r.bed})`);
        // Usually back within a few minutes; sometimes much later (the no-return case).
        const back = random() < 0.85 ? between(60_000, 240_000) : between(12 * 60_000, 20 * 60_000);
        r.busyUntil = Date.now() + scaled(back);
        later(scaled(back), () => {
          r.inBed = true;
          sendNdjson(r.bed as string, 'bed_return');
          print(`${who(r)}: back in bed`);
        });
      },
    },
    {
      weight: 0.5,
      can: (r) => !!r.radar,
      run(r) {
        const radar = r.radar as NonNullable<ResidentSim['radar']>;
        sendRadar(r, radar.wire.event('fall'));
        print(`${who(r)}: FALL detected by ${radar.device}`);
        r.busyUntil = Date.now() + scaled(180_000);
        later(scaled(120_000), () => {
          sendRadar(r, fallCleared(radar.wire.protocol));
          print(`${who(r)}: up again (${radar.device} reports no fall)`);
        });
      },
    },
  ];

  const nextActivity = () => {
    later(scaled(between(60_000, 180_000)), () => {
      const now = Date.now();
      const choices = residents.flatMap((r) => (r.busyUntil > now ? [] : actions.filter((a) => a.can(r)).map((a) => ({ r, a }))));
      const total = choices.reduce((s, c) => s + c.a.weight, 0);
      let pick = random() * total;
      for (const c of choices) {
        pick -= c.a.weight;
        if (pick <= 0) {
          c.a.run(c.r);
          break;
        }
      }
      nextActivity();
    });
  };
  // Last night's replay first, then live bed and sleep events and activity, so last night's bed
  // changes never arrive after today's (the caller gets the addresses at once: its gateway may only
  // connect after this returns).
  void (plan.lastNight ? replayLastNight(plan.lastNight) : Promise.resolve())
    .catch((err: unknown) => print(`last night not replayed: ${(err as Error).message}`))
    .then(() => {
      if (stopped) return;
      startSleep();
      nextActivity();
    });

  return {
    addresses: outputs.map((o) => o.address),
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all(outputs.map((o) => o.close()));
    },
  };
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a small simulated nursing home on TCP serial device servers (for npm start)',
  usage: `Usage: npm run sim -- demo --plan plan.json [--time-scale N] [--seed N]

Listens on every port of the plan as a serial device server (a gateway reads each with
"path": "tcp://HOST:PORT" in its config) and plays a resident's day: radars send their real frames
(heartbeat, presence, heart rate 60-90, breathing 12-20 every few seconds); every 1-3 minutes
(divided by the time scale) a resident calls (often cancelled), leaves bed and returns, or rarely
falls. One line is printed per scripted event. Runs until Ctrl-C.

  --plan FILE        the plan (required):
                     {"ports":[{"listen":"127.0.0.1:4001","protocol":"ndjson"},
                               {"listen":"127.0.0.1:4002","protocol":"seeed-5359","device":"radar-201"}],
                      "residents":[{"name":"Wang","room":"201","callButton":"btn-201","radar":"radar-201",
                                    "radarProtocol":"seeed-5359","bedSensor":"bed-201"}],
                      "timeScale":1}
                     The ndjson port carries all call buttons and bed sensors; each radar has a port.
  --time-scale N     speed of scripted activity [the plan's timeScale, else 1]
  --seed N           repeatable randomness
  --vitals DUR       radar vitals period [5s]`,
  async run(argv) {
    const p = parseOptions(argv, {
      plan: { type: 'string' },
      'time-scale': { type: 'string' },
      seed: { type: 'string' },
      vitals: { type: 'string' },
    });
    if (p.help) {
      console.log(this.usage);
      return 0;
    }
    const planPath = str(p, 'plan');
    if (!planPath) throw new UsageError('--plan is required');
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(planPath, 'utf8'));
    } catch (err) {
      throw new UsageError(`--plan ${planPath}: ${(err as Error).message}`);
    }
    const plan = validatePlan(raw, planPath);
    const seed = str(p, 'seed');
    const demo = await runDemo(plan, {
      timeScale: str(p, 'time-scale') === undefined ? undefined : num(p, 'time-scale', 1, { min: 0.001 }),
      random: seed === undefined ? undefined : seededRandom(num(p, 'seed', 0, { integer: true })),
      vitalsEveryMs: durationOption(p, 'vitals', 5000),
    });
    say(`demo running: ${plan.ports.map((port, i) => `${port.protocol} ${demo.addresses[i]}`).join(', ')}`);
    const sig = await untilSignal();
    await demo.stop();
    say(`demo stopped (${sig})`);
    return 0;
  },
};
