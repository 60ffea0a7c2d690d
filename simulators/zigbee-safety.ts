// `safety`: home safety sensors as a Zigbee2MQTT bridge publishes them (devices.md section 4): one
// JSON state per message on `<baseTopic>/<friendly name>`, with the exposes of
// zigbee-herdsman-converters (`smoke`, `gas`, `water_leak`, `battery`, `tamper`). Point it at the
// broker the gateway's zigbee2mqtt adapter reads. `safetyState` is used by the demo too.
import mqtt from 'mqtt';
import { parseOptions, say, str, UsageError } from './cli.ts';
import type { Command } from './command.ts';

export type Danger = 'smoke' | 'gas' | 'water_leak';
const DANGERS: readonly Danger[] = ['smoke', 'gas', 'water_leak'];

/** A sensor's state message: the danger field, and what such a sensor sends with it. */
export function safetyState(danger: Danger, on: boolean, extra: { battery?: number; tamper?: boolean } = {}): Record<string, unknown> {
  const state: Record<string, unknown> = { [danger]: on, linkquality: 80 + Math.floor(Math.random() * 40) };
  if (danger !== 'gas') state.battery = extra.battery ?? 90;
  state.battery_low = (extra.battery ?? 90) < 20;
  state.tamper = extra.tamper ?? false;
  return state;
}

export const safetyCommand: Command = {
  name: 'safety',
  summary: 'publish a smoke, gas or water-leak sensor state as Zigbee2MQTT does',
  usage: `Usage: npm run sim -- safety --url mqtt://HOST:PORT --name FRIENDLY_NAME --danger smoke|gas|water_leak [--clear]

Publishes one Zigbee2MQTT state message on <base>/<name>: the danger field true (or false with
--clear), with battery, battery_low, tamper and linkquality as such a sensor sends them. The
gateway's zigbee2mqtt adapter must list the name with a safety model (e.g. HS3SA/HS1SA,
JT-BZ-01AQ/A, SJCGQ11LM).

  --url URL          the broker Zigbee2MQTT publishes to (required)
  --base TOPIC       Zigbee2MQTT's base topic [zigbee2mqtt]
  --name NAME        the device's friendly name (required)
  --danger KIND      smoke, gas or water_leak (required)
  --clear            the danger is over (field false)
  --tamper           the sensor's cover is open`,
  async run(argv) {
    const p = parseOptions(argv, {
      url: { type: 'string' },
      base: { type: 'string' },
      name: { type: 'string' },
      danger: { type: 'string' },
      clear: { type: 'boolean' },
      tamper: { type: 'boolean' },
    });
    if (p.help) {
      console.log(this.usage);
      return 0;
    }
    const url = str(p, 'url');
    const name = str(p, 'name');
    const danger = str(p, 'danger') as Danger | undefined;
    if (!url || !/^mqtts?:\/\//.test(url)) throw new UsageError('--url mqtt://HOST:PORT is required');
    if (!name || name.includes('#') || name.includes('+')) throw new UsageError('--name is required (no MQTT wildcards)');
    if (!danger || !DANGERS.includes(danger)) throw new UsageError('--danger must be smoke, gas or water_leak');
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000 });
    const topic = `${str(p, 'base') ?? 'zigbee2mqtt'}/${name}`;
    await client.publishAsync(topic, JSON.stringify(safetyState(danger, !p.values.clear, { tamper: p.values.tamper === true })), {
      qos: 1,
    });
    say(`published ${danger}=${!p.values.clear} on ${topic}`);
    await client.endAsync();
    return 0;
  },
};

export interface SafetyDemoOptions {
  /** The broker the gateway's zigbee2mqtt adapter reads. */
  url: string;
  baseTopic?: string;
  sensors: Array<{ name: string; danger: Danger }>;
  /** How often, on average, one sensor goes off (then clears a few minutes later) [45 min]. */
  everyMs?: number;
  timeScale?: number;
  print?: (line: string) => void;
  random?: () => number;
}

/** The demo's safety sensors: a state every 10 minutes each, and now and then one goes off. */
export async function runSafetyDemo(opts: SafetyDemoOptions): Promise<{ stop(): Promise<void> }> {
  const client = await mqtt.connectAsync(opts.url, { reconnectPeriod: 2000 });
  const base = opts.baseTopic ?? 'zigbee2mqtt';
  const random = opts.random ?? Math.random;
  const scale = opts.timeScale ?? 1;
  const print = opts.print ?? ((l: string) => say(l));
  const timers = new Set<NodeJS.Timeout>();
  const publish = (name: string, state: Record<string, unknown>) => {
    client.publish(`${base}/${name}`, JSON.stringify(state), { qos: 1 });
  };
  for (const s of opts.sensors) publish(s.name, safetyState(s.danger, false));
  const beat = setInterval(() => {
    for (const s of opts.sensors) publish(s.name, safetyState(s.danger, false));
  }, 600_000 / scale);
  timers.add(beat);
  const next = () => {
    const t = setTimeout(
      () => {
        timers.delete(t);
        const s = opts.sensors[Math.floor(random() * opts.sensors.length)];
        if (s) {
          publish(s.name, safetyState(s.danger, true));
          print(`${s.name}: ${s.danger} detected`);
          const clear = setTimeout(
            () => {
              timers.delete(clear);
              publish(s.name, safetyState(s.danger, false));
              print(`${s.name}: ${s.danger} cleared`);
            },
            (180_000 + random() * 240_000) / scale,
          );
          timers.add(clear);
        }
        next();
      },
      ((opts.everyMs ?? 45 * 60_000) * (0.5 + random())) / scale,
    );
    timers.add(t);
  };
  next();
  return {
    async stop() {
      for (const t of timers) clearTimeout(t);
      await client.endAsync();
    },
  };
}
