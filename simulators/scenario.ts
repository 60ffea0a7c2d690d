// `scenario`: plays a scenario file's timed steps through direct mode (optionally faster than real
// time) and checks the alarms it expects through the REST API: an installer's acceptance test.
import { type Alarm, isTopicSafeId } from '../protocol/index.ts';
import { type ApiClient, loginApi } from './api.ts';
import { durationOption, num, parseOptions, SimFailure, say, sleep, str, UsageError } from './cli.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, type Command } from './command.ts';
import { connectGateway, type DirectGateway, type GatewayLogin } from './direct.ts';
import { gatewayLogin } from './login.ts';
import { type Expectation, loadScenario, type Scenario, scenarioStart } from './scenario-file.ts';
import { expandSteps, type Occurrence, playTimeline } from './timeline.ts';

export interface ScenarioOptions {
  login: GatewayLogin;
  timeScale: number;
  /** alias -> device id, overriding the file's. */
  devices?: Record<string, string>;
  api?: ApiClient;
  timezone?: string;
  commitTimeoutMs?: number;
  print?: (line: string) => void;
  /** The clock that places `startAt` (ms) [Date.now]; a test gives the server's fake clock. */
  now?: () => number;
}

export interface ScenarioResult {
  ok: boolean;
  failures: string[];
  events: number;
  readings: number;
}

const DAY_MS = 86_400_000;
const fmtOffset = (ms: number) => {
  const s = Math.round(ms / 1000);
  return `+${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

type AlarmMark = Pick<Alarm, 'state' | 'count' | 'priority'>;
const markOf = (a: Alarm): AlarmMark => ({ state: a.state, count: a.count, priority: a.priority });

function describeAlarm(a: Alarm): string {
  return `${a.type}/${a.priority}/${a.state}${a.deviceId ? ` (${a.deviceId})` : ''}`;
}

function describeExpectation(e: Expectation, device?: string): string {
  const parts = [`"${e.type}" alarm`];
  if (e.priority) parts.push(`priority ${e.priority}`);
  if (e.state) parts.push(`state ${e.state}`);
  if (e.note) parts.push(`note ${e.note}`);
  if (device) parts.push(`device ${device}`);
  return parts.join(', ');
}

export async function runScenario(scenario: Scenario, opts: ScenarioOptions): Promise<ScenarioResult> {
  const print = opts.print ?? say;
  const aliases = { ...scenario.devices, ...opts.devices };
  const resolve = (d: string | undefined) => (d === undefined ? undefined : (aliases[d] ?? d));
  for (const s of scenario.steps) {
    const id = resolve(s.device);
    if (!id) throw new UsageError(`${scenario.name}: a step at ${fmtOffset(s.atMs)} names no device`);
    if (!isTopicSafeId(id)) throw new UsageError(`${scenario.name}: "${id}" is not a device id (an alias missing from "devices"?)`);
  }

  let clockStart: number | undefined;
  if (scenario.startAt) {
    const tz =
      scenario.timezone ??
      opts.timezone ??
      (opts.api ? (await opts.api.site(opts.login.siteId)).timezone : undefined) ??
      Intl.DateTimeFormat().resolvedOptions().timeZone;
    clockStart = scenarioStart(scenario.startAt, tz, scenario.durationMs, (opts.now ?? Date.now)());
    print(
      `scenario clock starts ${new Date(clockStart).toISOString()} (${String(scenario.startAt.hour).padStart(2, '0')}:${String(scenario.startAt.minute).padStart(2, '0')} in ${tz})`,
    );
  }
  const tsFor = (o: Occurrence) => (clockStart === undefined ? new Date().toISOString() : new Date(clockStart + o.atMs).toISOString());

  // What existed before, so a repeat of an open alarm (count + 1) counts as this run's.
  const before = new Map<string, AlarmMark>();
  if (opts.api && scenario.expect.length > 0) for (const a of await opts.api.alarms()) before.set(a.id, markOf(a));

  const gw: DirectGateway = await connectGateway(opts.login);
  const sent: string[] = [];
  const lastSeen = new Map<string, string>();
  let readings = 0;
  const statusTimer = setInterval(() => {
    gw.publishStatus({
      state: 'online',
      ts: new Date().toISOString(),
      devices: [...lastSeen].map(([device, t]) => ({ device, lastSeen: t })),
    }).catch(() => {});
  }, 30_000);
  try {
    await gw.publishStatus({ state: 'online', ts: new Date().toISOString() });
    print(
      `running "${scenario.name}" (${fmtOffset(scenario.durationMs)} of scenario time at x${opts.timeScale}) as gateway ${opts.login.gatewayId}`,
    );
    if (scenario.history && clockStart !== undefined) {
      // The usual days before, oldest first, sent at once as a gateway sends its backlog.
      const { days, steps } = scenario.history;
      const day = expandSteps(steps, DAY_MS);
      let events = 0;
      for (let k = days; k >= 1; k -= 1) {
        const base = clockStart - k * DAY_MS;
        for (const o of day) {
          const ts = new Date(base + o.atMs).toISOString();
          const device = resolve(o.device) as string;
          if (o.action.kind === 'event') {
            const e = await gw.sendEvent({ device, type: o.action.type, data: o.action.data, ts });
            sent.push(e.id);
            events++;
          } else if (o.action.kind === 'reading') {
            await gw.sendTelemetry([{ device, metric: o.action.metric, value: o.action.value, ts }]);
            readings++;
          }
          lastSeen.set(device, ts);
        }
      }
      print(
        `history: ${days} day(s) before the scenario day sent (${events} events), from ${new Date(clockStart - days * DAY_MS).toISOString()}`,
      );
    }
    const occurrences = expandSteps(scenario.steps, scenario.durationMs);
    await playTimeline(occurrences, opts.timeScale, async (o) => {
      const device = resolve(o.device) as string;
      const ts = tsFor(o);
      const a = o.action;
      const note = o.note ? ` - ${o.note}` : '';
      if (a.kind === 'event') {
        const e = await gw.sendEvent({ device, type: a.type, data: a.data, ts });
        sent.push(e.id);
        lastSeen.set(device, ts);
        print(`${fmtOffset(o.atMs)} ${device} ${a.type}${note}`);
      } else if (a.kind === 'reading') {
        await gw.sendTelemetry([{ device, metric: a.metric, value: a.value, ts }]);
        readings++;
        lastSeen.set(device, ts);
        if (o.note) print(`${fmtOffset(o.atMs)} ${device} ${a.metric}=${a.value}${note}`);
      } else {
        print(`${fmtOffset(o.atMs)} ${device} goes silent${note}`);
      }
    });
    // The rest of the scenario's time, if it is longer than its last step.
    const last = occurrences.at(-1)?.atMs ?? 0;
    if (scenario.durationMs > last) await sleep((scenario.durationMs - last) / opts.timeScale);
    await gw.waitCommitted(sent, opts.commitTimeoutMs ?? 10_000);
    print(`all ${sent.length} event(s) committed by the server`);
  } finally {
    clearInterval(statusTimer);
    await gw.close();
  }

  const failures: string[] = [];
  if (scenario.expect.length > 0 && !opts.api) {
    print(`${scenario.expect.length} expectation(s) not checked: give --api, --username and --password to check them`);
  } else if (opts.api) {
    failures.push(...(await checkExpectations(scenario.expect, opts.api, before, opts.login.gatewayId, resolve, print)));
  }
  return { ok: failures.length === 0, failures, events: sent.length, readings };
}

async function checkExpectations(
  expectations: Expectation[],
  api: ApiClient,
  before: Map<string, AlarmMark>,
  gatewayId: string,
  resolve: (d: string | undefined) => string | undefined,
  print: (line: string) => void,
): Promise<string[]> {
  const start = Date.now();
  // This run's alarms: new ones, and old ones whose count, state or priority changed.
  const fresh = (alarms: Alarm[]) =>
    alarms.filter((a) => {
      if (a.gatewayId !== gatewayId) return false;
      const b = before.get(a.id);
      return !b || b.count !== a.count || b.state !== a.state || b.priority !== a.priority;
    });
  const matches = (e: Expectation, a: Alarm) =>
    a.type === e.type &&
    (!e.priority || a.priority === e.priority) &&
    (!e.state || a.state === e.state) &&
    (!e.note || a.note === e.note) &&
    (!e.device || a.deviceId === resolve(e.device));
  const pending = expectations.map((e, i) => ({ e, i, done: false }));
  let seen: Alarm[] = [];
  const failures: string[] = [];
  for (;;) {
    seen = fresh(await api.alarms());
    const elapsed = Date.now() - start;
    for (const p of pending) {
      if (p.done) continue;
      const hit = seen.find((a) => matches(p.e, a));
      const what = describeExpectation(p.e, resolve(p.e.device));
      if (!p.e.absent && hit) {
        p.done = true;
        print(`ok: ${what} (${describeAlarm(hit)}) after ${elapsed} ms`);
      } else if (p.e.absent && hit) {
        p.done = true;
        failures.push(`expect[${p.i}]: expected no ${what}, but got ${describeAlarm(hit)}`);
      } else if (elapsed >= p.e.withinMs) {
        p.done = true;
        if (p.e.absent) print(`ok: no ${what} within ${p.e.withinMs} ms`);
        else {
          const saw = seen.length > 0 ? seen.map(describeAlarm).join(', ') : 'no alarms from this run';
          failures.push(`expect[${p.i}]: no ${what} within ${p.e.withinMs} ms; saw: ${saw}`);
        }
      }
    }
    if (pending.every((p) => p.done)) return failures;
    await sleep(250);
  }
}

export const scenarioCommand: Command = {
  name: 'scenario',
  summary: 'play a scenario file through direct mode and check the expected alarms',
  usage: `Usage: npm run sim -- scenario FILE [options]

Plays the timed steps of a scenario file (format: simulators/scenarios/README.md) as a gateway,
then, with --api, checks the alarms it expects through the REST API. Exit 0 when every
expectation holds, 1 when one fails (each failure is printed), 2 for a bad file or options.

  FILE                 a scenario, e.g. simulators/scenarios/fall-in-bathroom.json
  --time-scale N       play N times faster than real time, e.g. 60 [1]
                       (only the steps are scaled: the server's own timers run in real time)
  --device ALIAS=ID    map a device alias of the file to a real device id (repeatable)
  --timezone TZ        time zone of the file's "startAt" [the file's, else the site's, else local]
  --timeout DUR        wait for the server's commit confirmation [10s]
  --api URL            the server's HTTP API, e.g. http://127.0.0.1:8080
  --username U         API user (admin or staff of the site) [admin]
  --password P         API password [env CARE_ADMIN_PASSWORD]

${CONNECTION_HELP}
  The scenario also publishes the gateway's retained "online" status.

Example:
  npm run sim -- scenario simulators/scenarios/call-and-cancel.json --time-scale 60 \\
    --site site-1 --gateway gw-sim --secret XXXX --device button=btn-203 \\
    --api http://127.0.0.1:8080 --password "$CARE_ADMIN_PASSWORD"`,
  async run(argv) {
    const p = parseOptions(
      argv,
      {
        ...CONNECTION_OPTIONS,
        'time-scale': { type: 'string' },
        device: { type: 'string', multiple: true },
        timezone: { type: 'string' },
        timeout: { type: 'string' },
        api: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
      },
      true,
    );
    if (p.help) {
      console.log(this.usage);
      return 0;
    }
    if (p.positionals.length !== 1) throw new UsageError('give exactly one scenario FILE');
    const scenario = loadScenario(p.positionals[0] as string);
    const timeScale = num(p, 'time-scale', 1, { min: 0.001 });
    const devices: Record<string, string> = {};
    for (const d of (p.values.device as string[] | undefined) ?? []) {
      const m = /^([^=]+)=(.+)$/.exec(d);
      if (!m) throw new UsageError(`--device: "${d}" is not ALIAS=ID`);
      devices[m[1] as string] = m[2] as string;
    }
    const login = gatewayLogin(p);
    const apiUrl = str(p, 'api');
    let api: ApiClient | undefined;
    if (apiUrl) {
      const password = str(p, 'password') ?? process.env.CARE_ADMIN_PASSWORD;
      if (!password) throw new UsageError('--password (or CARE_ADMIN_PASSWORD) is required with --api');
      api = await loginApi(apiUrl, str(p, 'username', 'admin') as string, password);
    }
    const result = await runScenario(scenario, {
      login,
      timeScale,
      devices,
      api,
      timezone: str(p, 'timezone'),
      commitTimeoutMs: durationOption(p, 'timeout', 10_000),
    });
    if (!result.ok) {
      for (const f of result.failures) console.error(`FAIL ${f}`);
      throw new SimFailure(`scenario "${scenario.name}": ${result.failures.length} of ${scenario.expect.length} expectation(s) failed`);
    }
    say(`scenario "${scenario.name}" passed (${result.events} events, ${result.readings} readings)`);
    return 0;
  },
};
