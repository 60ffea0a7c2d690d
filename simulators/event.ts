// `event` and `telemetry`: publish canonical events or readings straight to the broker as a
// gateway, and report the server's commit confirmation (exit 1 when it does not come in time).
import { EVENT_TYPES, type EventType, isTopicSafeId, METRICS, type Metric } from '../protocol/index.ts';
import { durationOption, num, parseOptions, required, say, str, UsageError } from './cli.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, type Command } from './command.ts';
import { connectGateway } from './direct.ts';
import { gatewayLogin } from './login.ts';

function deviceOption(p: Parameters<typeof required>[0]): string {
  const device = required(p, 'device');
  if (!isTopicSafeId(device)) throw new UsageError(`--device: "${device}" is not a valid device id`);
  return device;
}

export function parseData(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--data: not JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError('--data: must be a JSON object');
  return data as Record<string, unknown>;
}

function isoOption(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw new UsageError(`--ts: "${raw}" is not an ISO 8601 time`);
  return new Date(t).toISOString();
}

export const eventCommand: Command = {
  name: 'event',
  summary: 'publish canonical events as a gateway and wait for the commit confirmation',
  usage: `Usage: npm run sim -- event --device D --type TYPE [options]

Publishes one or more device events (QoS 1) on care/v1/{site}/{gateway}/events, each with a new
ULID id and the next seq, then waits for the server's {"type":"committed"} confirmation on the
gateway's cmd topic. Exit 0 when every event is confirmed, 1 when not within --timeout.

  --device D         device id, e.g. btn-203 (required)
  --type TYPE        ${EVENT_TYPES.join(', ')} (required)
  --data JSON        event data object, e.g. '{"minutes":300}'
  --count N          publish N events [1]
  --interval DUR     pause between events, e.g. 200ms [0]
  --ts ISO           device timestamp [now]
  --timeout DUR      how long to wait for confirmation [10s]

${CONNECTION_HELP}

Example:
  npm run sim -- event --site site-1 --gateway gw-1 --secret XXXX --device btn-203 --type call`,
  async run(argv) {
    const p = parseOptions(argv, {
      ...CONNECTION_OPTIONS,
      device: { type: 'string' },
      type: { type: 'string' },
      data: { type: 'string' },
      count: { type: 'string' },
      interval: { type: 'string' },
      ts: { type: 'string' },
      timeout: { type: 'string' },
    });
    if (p.help) {
      console.log(this.usage);
      return 0;
    }
    const device = deviceOption(p);
    const type = required(p, 'type');
    if (!(EVENT_TYPES as readonly string[]).includes(type))
      throw new UsageError(`--type: "${type}" is not one of ${EVENT_TYPES.join(', ')}`);
    const data = parseData(str(p, 'data'));
    const count = num(p, 'count', 1, { min: 1, integer: true });
    const intervalMs = durationOption(p, 'interval', 0);
    const ts = isoOption(str(p, 'ts'));
    const timeoutMs = durationOption(p, 'timeout', 10_000);
    const login = gatewayLogin(p);

    const gw = await connectGateway(login, { connectTimeoutMs: timeoutMs });
    try {
      const started = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const e = await gw.sendEvent({ device, type: type as EventType, data, ts });
        ids.push(e.id);
        say(`published ${e.type} from ${e.device} id=${e.id} seq=${e.seq}`);
        if (intervalMs > 0 && i < count - 1) await new Promise((r) => setTimeout(r, intervalMs));
      }
      await gw.waitCommitted(ids, timeoutMs);
      const ms = Date.now() - started;
      say(`committed ${ids.length} event(s) in ${ms} ms`);
      console.log(JSON.stringify({ type: 'committed', ids, ms }));
      return 0;
    } finally {
      await gw.close();
    }
  },
};

export const telemetryCommand: Command = {
  name: 'telemetry',
  summary: 'publish a telemetry reading as a gateway',
  usage: `Usage: npm run sim -- telemetry --device D --metric METRIC --value V [options]

Publishes readings (QoS 1) on care/v1/{site}/{gateway}/telemetry, one batch per reading. Exit 0
once the broker has accepted them (telemetry has no commit confirmation).

  --device D         device id, e.g. band-203 (required)
  --metric M         ${METRICS.join(', ')} (required)
  --value V          the reading (required)
  --count N          publish N readings [1]
  --interval DUR     pause between readings [1s]
  --ts ISO           reading timestamp [now]

${CONNECTION_HELP}`,
  async run(argv) {
    const p = parseOptions(argv, {
      ...CONNECTION_OPTIONS,
      device: { type: 'string' },
      metric: { type: 'string' },
      value: { type: 'string' },
      count: { type: 'string' },
      interval: { type: 'string' },
      ts: { type: 'string' },
    });
    if (p.help) {
      console.log(this.usage);
      return 0;
    }
    const device = deviceOption(p);
    const metric = required(p, 'metric');
    if (!(METRICS as readonly string[]).includes(metric)) throw new UsageError(`--metric: "${metric}" is not one of ${METRICS.join(', ')}`);
    required(p, 'value');
    const value = num(p, 'value', 0);
    const count = num(p, 'count', 1, { min: 1, integer: true });
    const intervalMs = durationOption(p, 'interval', 1000);
    const ts = isoOption(str(p, 'ts'));
    const gw = await connectGateway(gatewayLogin(p));
    try {
      for (let i = 0; i < count; i++) {
        await gw.sendTelemetry([{ device, metric: metric as Metric, value, ts }]);
        say(`published ${metric}=${value} from ${device}`);
        if (i < count - 1) await new Promise((r) => setTimeout(r, intervalMs));
      }
      return 0;
    } finally {
      await gw.close();
    }
  },
};
