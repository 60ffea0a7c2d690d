// `serial`: one simulated device speaking its real wire format, on a serial port (one end of a
// socat pty pair) or as a serial device server on TCP (`--listen`, the way the demo and tests
// connect a gateway with `"path": "tcp://host:port"`). Sends a periodic keep-alive and vitals, and
// the events of a script.
import fs from 'node:fs';
import { isTopicSafeId } from '../protocol/index.ts';
import { durationOption, num, parseHostPort, parseOptions, say, str, UsageError, untilSignal } from './cli.ts';
import type { Command } from './command.ts';
import { createWireDevice, isWireProtocol, UnsupportedOnWire, WIRE_PROTOCOLS, type WireDevice } from './encoders/device.ts';
import { expandSteps, type Occurrence, parseSteps, playTimeline } from './timeline.ts';
import { listenTcp, openSerial, type WireOutput } from './wire.ts';

/** Vital signs that wander a little around a resting value, as a real radar's do. */
export function vitalsJitter(base: number, spread: number, random: () => number = Math.random): number {
  return Math.round(base + (random() * 2 - 1) * spread);
}

/** Encodes one scripted occurrence for this wire; throws UnsupportedOnWire for what it cannot say. */
export function encodeOccurrence(wire: WireDevice, o: Occurrence): Buffer[] {
  const a = o.action;
  if (a.kind === 'event') return wire.event(a.type, { device: o.device, data: a.data });
  if (a.kind === 'reading') return wire.reading(a.metric, a.value, { device: o.device });
  return [];
}

export const serialCommand: Command = {
  name: 'serial',
  summary: 'simulate one serial device in its real wire format (serial port or TCP device server)',
  usage: `Usage: npm run sim -- serial --protocol P --device D (--path DEV | --listen HOST:PORT) [options]

  --protocol P         ${WIRE_PROTOCOLS.join(' | ')}
  --device D           the device id (radars: the device the gateway config names for the port;
                       ndjson: the device of periodic readings and of script steps without one)
  --path DEV           write to this serial port, e.g. /dev/pts/5 from
                       \`socat -d -d pty,raw,echo=0 pty,raw,echo=0\`
  --listen HOST:PORT   act as a serial device server: every TCP client receives the stream
                       (the gateway reads it with "path": "tcp://HOST:PORT"; port 0 picks one)
  --baud N             serial baud rate [115200; 9600 for ndjson]
  --heartbeat DUR      keep-alive period, 0 = off [60s] (53 59: heartbeat frame; SOF: presence)
  --vitals DUR         heart rate and breathing period, 0 = off [5s; off for ndjson]
  --heart-rate N       resting heart rate, jittered +-5 [72]
  --breathing N        resting breathing rate, jittered +-2 [16]
  --script FILE        JSON array of steps (or {"steps":[...]}) as in scenarios:
                       {"at":"10s","type":"fall"}, {"at":"20s","metric":"heart_rate","value":130},
                       {"at":"30s","device":"btn-201","type":"call"} (ndjson only), {"at":"1m","silence":true}
  --repeat             start the script again when it ends
  --duration DUR       exit after this long [run until Ctrl-C]

Radars say: fall, presence, bed_exit/bed_return (53 59 only, MR60BHA1 bed frame), heart_rate,
resp_rate, presence. NDJSON says any event type and metric.`,
  async run(argv) {
    const p = parseOptions(argv, {
      protocol: { type: 'string' },
      device: { type: 'string' },
      path: { type: 'string' },
      listen: { type: 'string' },
      baud: { type: 'string' },
      heartbeat: { type: 'string' },
      vitals: { type: 'string' },
      'heart-rate': { type: 'string' },
      breathing: { type: 'string' },
      script: { type: 'string' },
      repeat: { type: 'boolean' },
      duration: { type: 'string' },
    });
    if (p.help) {
      console.log(this.usage);
      return 0;
    }
    const protocol = str(p, 'protocol');
    if (!protocol || !isWireProtocol(protocol)) throw new UsageError(`--protocol: one of ${WIRE_PROTOCOLS.join(', ')} is required`);
    const device = str(p, 'device');
    if (!device || !isTopicSafeId(device)) throw new UsageError('--device: a valid device id is required');
    const path = str(p, 'path');
    const listen = str(p, 'listen');
    if (!path === !listen) throw new UsageError('give exactly one of --path or --listen');
    const heartbeatMs = durationOption(p, 'heartbeat', 60_000);
    const vitalsMs = durationOption(p, 'vitals', protocol === 'ndjson' ? 0 : 5000);
    const heartRate = num(p, 'heart-rate', 72, { min: 0 });
    const breathing = num(p, 'breathing', 16, { min: 0 });
    const durationMs = durationOption(p, 'duration', 0);
    const wire = createWireDevice(protocol, device);

    let script: Occurrence[] = [];
    const scriptPath = str(p, 'script');
    if (scriptPath) {
      let raw: unknown;
      try {
        raw = JSON.parse(fs.readFileSync(scriptPath, 'utf8'));
      } catch (err) {
        throw new UsageError(`--script ${scriptPath}: ${(err as Error).message}`);
      }
      const steps = parseSteps(Array.isArray(raw) ? raw : (raw as { steps?: unknown })?.steps, scriptPath);
      script = expandSteps(steps, Number.POSITIVE_INFINITY);
      // Check every step can be said on this wire before opening anything.
      for (const o of script) {
        try {
          encodeOccurrence(wire, o);
        } catch (err) {
          if (err instanceof UnsupportedOnWire) throw new UsageError(`--script: ${err.message}`);
          throw err;
        }
      }
    }

    let out: WireOutput;
    if (listen) {
      const { host, port } = parseHostPort(listen, '--listen');
      out = await listenTcp(host, port, (what, peer) => say(`client ${peer} ${what}`));
    } else {
      out = await openSerial(path as string, num(p, 'baud', protocol === 'ndjson' ? 9600 : 115200, { min: 300, integer: true }));
    }
    say(`${protocol} device ${device} ${listen ? 'listening on' : 'writing to'} ${out.address}`);

    let silenced = false;
    const send = (frames: Buffer[]) => {
      if (!silenced) for (const f of frames) out.write(f);
    };
    const timers: NodeJS.Timeout[] = [];
    if (heartbeatMs > 0) {
      send(wire.heartbeat());
      timers.push(setInterval(() => send(wire.heartbeat()), heartbeatMs));
    }
    if (vitalsMs > 0) {
      timers.push(setInterval(() => send(wire.vitals(vitalsJitter(heartRate, 5), vitalsJitter(breathing, 2))), vitalsMs));
    }
    const abort = new AbortController();
    const scriptDone = (async () => {
      if (script.length === 0) return;
      do {
        silenced = false;
        await playTimeline(
          script,
          1,
          async (o) => {
            if (o.action.kind === 'silence') {
              silenced = true;
              say('silent from now on');
              return;
            }
            send(encodeOccurrence(wire, o));
            const a = o.action;
            say(
              `sent ${a.kind === 'event' ? a.type : `${a.metric}=${a.value}`}${o.device ? ` from ${o.device}` : ''}${o.note ? ` (${o.note})` : ''}`,
            );
          },
          abort.signal,
        );
      } while (p.values.repeat === true && !abort.signal.aborted);
    })();
    scriptDone.catch((err: unknown) => say(`script stopped: ${(err as Error).message}`));

    const ended = await Promise.race([
      untilSignal(),
      ...(durationMs > 0 ? [new Promise<string>((r) => setTimeout(() => r('duration'), durationMs))] : []),
    ]);
    abort.abort();
    for (const t of timers) clearInterval(t);
    await out.close();
    say(`stopped (${ended})`);
    return 0;
  },
};
