// `load`: N gateways x M devices publishing events and telemetry at set rates, with a ramp-up, a
// live progress line and a summary. It registers its own site, gateways and devices through the
// REST API, so it needs an admin login, and never touches a real site's gateways.
import { DEVICE_KINDS, EVENT_TYPES, type EventType, METRICS, type Metric } from '../protocol/index.ts';
import { loginApi } from './api.ts';
import { durationOption, num, parseOptions, required, SimFailure, say, sleep, str, UsageError, untilSignal } from './cli.ts';
import type { Command } from './command.ts';
import { connectGateway, type DirectGateway } from './direct.ts';

interface Stats {
  eventsSent: number;
  eventsCommitted: number;
  pointsSent: number;
  errors: number;
  connected: number;
  latencies: number[];
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export const loadCommand: Command = {
  name: 'load',
  summary: 'load generator: N gateways x M devices sending events and telemetry',
  usage: `Usage: npm run sim -- load --api URL --password P [options]

Registers a new site ("Load test ..."), N gateways and M devices per gateway through the REST API,
connects every gateway to the broker over the ramp-up, then publishes events and telemetry at the
given total rates. Progress (rates, events in flight awaiting commit, errors) is shown on stderr;
a JSON summary (sent, committed, lost, commit latency) is printed on stdout at the end. Exit 1 when
events were lost (not confirmed committed within --drain after the run).

  --api URL            the server's HTTP API, e.g. http://127.0.0.1:8080 (required)
  --username U         admin user [admin]
  --password P         its password [env CARE_ADMIN_PASSWORD] (required)
  --url URL            the broker [env CARE_UPLINK_URL, else mqtt://127.0.0.1:1883]
  --gateways N         gateways [10]
  --devices M          devices per gateway [10]
  --event-rate R       events per second, all gateways together [10]
  --event-type T       ${EVENT_TYPES.join(', ')} [presence: raises no alarm]
  --telemetry-rate T   telemetry points per second, all together [100]
  --metric M           metric of the telemetry points [heart_rate]
  --batch-every DUR    how often each gateway sends its telemetry batch [1s]
  --duration DUR       how long to send after the ramp-up [60s]
  --ramp-up DUR        spread gateway connections over this long [10s]
  --drain DUR          wait for outstanding commit confirmations [15s]
  --device-kind K      kind of the registered devices (${DEVICE_KINDS.join(', ')}) [presence_sensor]`,
  async run(argv) {
    const p = parseOptions(argv, {
      api: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      url: { type: 'string' },
      gateways: { type: 'string' },
      devices: { type: 'string' },
      'event-rate': { type: 'string' },
      'event-type': { type: 'string' },
      'telemetry-rate': { type: 'string' },
      metric: { type: 'string' },
      'batch-every': { type: 'string' },
      duration: { type: 'string' },
      'ramp-up': { type: 'string' },
      drain: { type: 'string' },
      'device-kind': { type: 'string' },
    });
    if (p.help) {
      console.log(this.usage);
      return 0;
    }
    const apiUrl = required(p, 'api');
    const password = required(p, 'password', 'CARE_ADMIN_PASSWORD');
    const url = str(p, 'url') ?? process.env.CARE_UPLINK_URL ?? 'mqtt://127.0.0.1:1883';
    const nGateways = num(p, 'gateways', 10, { min: 1, integer: true });
    const nDevices = num(p, 'devices', 10, { min: 1, integer: true });
    const eventRate = num(p, 'event-rate', 10, { min: 0 });
    const eventType = str(p, 'event-type', 'presence') as string;
    if (!(EVENT_TYPES as readonly string[]).includes(eventType)) throw new UsageError(`--event-type: "${eventType}" is not an event type`);
    const telemetryRate = num(p, 'telemetry-rate', 100, { min: 0 });
    const metric = str(p, 'metric', 'heart_rate') as string;
    if (!(METRICS as readonly string[]).includes(metric)) throw new UsageError(`--metric: "${metric}" is not a metric`);
    const batchEveryMs = Math.max(10, durationOption(p, 'batch-every', 1000));
    const durationMs = durationOption(p, 'duration', 60_000);
    const rampMs = durationOption(p, 'ramp-up', 10_000);
    const drainMs = durationOption(p, 'drain', 15_000);
    const kind = str(p, 'device-kind', 'presence_sensor') as string;
    if (!(DEVICE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--device-kind: "${kind}" is not a device kind`);

    const api = await loginApi(apiUrl, str(p, 'username', 'admin') as string, password);
    const site = await api.createSite(`Load test ${new Date().toISOString()}`, 'nursing_home');
    const tag = site.id.slice(-8).toLowerCase();
    say(`registering ${nGateways} gateways x ${nDevices} devices in site ${site.id}`);
    const plan: Array<{ id: string; secret: string; devices: string[] }> = [];
    for (let g = 0; g < nGateways; g++) {
      const gw = await api.createGateway(site.id, `load ${g}`);
      const devices: string[] = [];
      for (let d = 0; d < nDevices; d++) {
        const id = `ld-${tag}-g${g}-d${d}`;
        await api.createDevice({ id, gatewayId: gw.id, kind });
        devices.push(id);
      }
      plan.push({ id: gw.id, secret: gw.secret, devices });
    }

    const stats: Stats = { eventsSent: 0, eventsCommitted: 0, pointsSent: 0, errors: 0, connected: 0, latencies: [] };
    const gateways: DirectGateway[] = [];
    const timers: NodeJS.Timeout[] = [];
    let sending = true;
    let lastError = '';
    const inFlight = () => gateways.reduce((n, g) => n + g.inFlight(), 0);
    const error = (why: string) => {
      stats.errors++;
      lastError = why;
    };

    const startGateway = async (g: (typeof plan)[number]) => {
      let gw: DirectGateway;
      try {
        gw = await connectGateway(
          { url, siteId: site.id, gatewayId: g.id, secret: g.secret },
          { reconnect: true, onConnectionLost: error },
        );
      } catch (err) {
        error((err as Error).message);
        return;
      }
      gateways.push(gw);
      stats.connected++;
      gw.onCommitted((committed) => {
        for (const c of committed) {
          stats.eventsCommitted++;
          if (stats.latencies.length < 1_000_000) stats.latencies.push(c.ms);
        }
      });
      // Each gateway sends its share; fractional rates accumulate across ticks.
      let eventDebt = Math.random();
      let next = 0;
      const tickMs = 100;
      timers.push(
        setInterval(() => {
          if (!sending) return;
          eventDebt += (eventRate / nGateways) * (tickMs / 1000);
          for (; eventDebt >= 1; eventDebt--) {
            const device = g.devices[next++ % g.devices.length] as string;
            gw.sendEvent({ device, type: eventType as EventType }).catch((err: Error) => error(err.message));
            stats.eventsSent++;
          }
        }, tickMs),
      );
      let pointDebt = 0;
      timers.push(
        setInterval(() => {
          if (!sending) return;
          pointDebt += (telemetryRate / nGateways) * (batchEveryMs / 1000);
          const n = Math.min(5000, Math.floor(pointDebt));
          if (n === 0) return;
          pointDebt -= n;
          const ts = new Date().toISOString();
          const points = Array.from({ length: n }, (_, i) => ({
            device: g.devices[i % g.devices.length] as string,
            metric: metric as Metric,
            value: 60 + Math.round(Math.random() * 30),
            ts,
          }));
          stats.pointsSent += n;
          gw.sendTelemetry(points).catch((err: Error) => error(err.message));
        }, batchEveryMs),
      );
    };

    const started = Date.now();
    let prev = { t: started, events: 0, points: 0 };
    const progress = setInterval(() => {
      const now = Date.now();
      const dt = (now - prev.t) / 1000;
      const evRate = (stats.eventsSent - prev.events) / dt;
      const ptRate = (stats.pointsSent - prev.points) / dt;
      prev = { t: now, events: stats.eventsSent, points: stats.pointsSent };
      process.stderr.write(
        `\r[${Math.round((now - started) / 1000)}s] gateways ${stats.connected}/${nGateways}  events ${stats.eventsSent} (${evRate.toFixed(0)}/s) committed ${stats.eventsCommitted}  in-flight ${inFlight()}  telemetry ${stats.pointsSent} pts (${ptRate.toFixed(0)}/s)  errors ${stats.errors}${lastError ? ` (${lastError.slice(0, 40)})` : ''}   `,
      );
    }, 1000);

    const interrupted = untilSignal().then(() => 'interrupted');
    const connecting = (async () => {
      for (const [i, g] of plan.entries()) {
        void startGateway(g);
        if (i < plan.length - 1) await sleep(rampMs / plan.length);
      }
    })();
    const how = await Promise.race([interrupted, connecting.then(() => sleep(durationMs)).then(() => 'done')]);
    sending = false;
    for (const t of timers) clearInterval(t);
    const drainDeadline = Date.now() + drainMs;
    while (inFlight() > 0 && Date.now() < drainDeadline) await sleep(100);
    clearInterval(progress);
    process.stderr.write('\n');
    await Promise.all(gateways.map((g) => g.close().catch(() => {})));

    const sorted = stats.latencies.sort((a, b) => a - b);
    const elapsed = (Date.now() - started) / 1000;
    const summary = {
      siteId: site.id,
      gateways: { requested: nGateways, connected: stats.connected },
      devices: nGateways * nDevices,
      seconds: Math.round(elapsed),
      ended: how,
      events: {
        sent: stats.eventsSent,
        committed: stats.eventsCommitted,
        lost: stats.eventsSent - stats.eventsCommitted,
        commitLatencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null },
      },
      telemetry: { pointsSent: stats.pointsSent },
      errors: stats.errors,
    };
    console.log(JSON.stringify(summary, null, 2));
    if (summary.events.lost > 0)
      throw new SimFailure(`${summary.events.lost} event(s) not confirmed committed within ${drainMs} ms after the run`);
    return 0;
  },
};
