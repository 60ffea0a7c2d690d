// `npm start`: the all-in-one demo on one machine. Starts the server (embedded broker, SQLite),
// registers a small demo nursing home through the REST API, then starts a device simulator that
// serves real wire formats on loopback TCP ports (as a serial device server would) and one
// gateway reading them. Prints the dashboard URL and the login. Ctrl-C stops everything.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Aedes } from 'aedes';
import { scenarioStart } from '../simulators/scenario-file.ts';
import { runSafetyDemo } from '../simulators/zigbee-safety.ts';
import { freePort } from './free-port.ts';

const root = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(process.env.CARE_DATA_DIR || path.join(root, 'data'));
const demoDir = path.join(dataDir, 'demo');
const httpPort = Number(process.env.CARE_HTTP_PORT || 8080);
const mqttPort = Number(process.env.CARE_MQTT_PORT || 1883);
const SITE_ID = 'demo-home';
const GATEWAY_ID = 'demo-gw-1';
const watchPort = Number(process.env.CARE_WATCH_PORT || 5093);
// An outdoor GPS watch (watch protocol, server/watch) worn by the resident of room 204, who has a
// home zone: the simulated walk leaves it now and then, which at night (Asia/Shanghai) is a wander alarm.
const WATCH = {
  imei: '868120301234567',
  gatewayId: 'demo-watches',
  residentId: 'res-204',
  home: { lat: 29.56301, lon: 106.551557 },
  radiusMeters: 300,
} as const;

const RESIDENTS = [
  { id: 'res-201', name: '王秀英', room: '201', bed: 'A', radarProtocol: 'seeed-5359' },
  { id: 'res-202', name: '李建国', room: '202', bed: 'A', radarProtocol: 'seeed-sof' },
  { id: 'res-203', name: '张桂兰', room: '203', bed: 'A', radarProtocol: 'seeed-5359' },
  { id: 'res-204', name: '刘德华', room: '204', bed: 'B', radarProtocol: 'seeed-sof' },
] as const;

// Home safety sensors through a Zigbee2MQTT bridge: this launcher runs the bridge's broker (a plain
// Aedes standing in for its Mosquitto) and publishes the sensors' states as Zigbee2MQTT would.
const SAFETY = [
  { name: 'kitchen_gas_201', device: 'gas-201', kind: 'gas_detector', model: 'JT-BZ-01AQ/A', residentId: 'res-201', danger: 'gas' },
  { name: 'smoke_202', device: 'smoke-202', kind: 'smoke_detector', model: 'HS3SA/HS1SA', residentId: 'res-202', danger: 'smoke' },
  { name: 'bath_leak_203', device: 'leak-203', kind: 'leak_sensor', model: 'SJCGQ11LM', residentId: 'res-203', danger: 'water_leak' },
] as const;

interface Credentials {
  adminPassword: string;
  gatewaySecret?: string;
}

function loadCredentials(): Credentials {
  const file = path.join(demoDir, 'credentials.json');
  fs.mkdirSync(demoDir, { recursive: true });
  let creds: Credentials;
  try {
    creds = JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  } catch {
    creds = { adminPassword: randomBytes(9).toString('base64url') };
  }
  if (process.env.CARE_ADMIN_PASSWORD) creds.adminPassword = process.env.CARE_ADMIN_PASSWORD;
  return creds;
}
function saveCredentials(c: Credentials) {
  fs.writeFileSync(path.join(demoDir, 'credentials.json'), JSON.stringify(c, null, 2), { mode: 0o600 });
}

const children: ChildProcess[] = [];
function run(name: string, script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (line: string) => `[${name}] ${line}`;
  const forward = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) => {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) out.write(`${prefix(pretty(l))}\n`);
    });
  };
  forward(child.stdout as NodeJS.ReadableStream, process.stdout);
  forward(child.stderr as NodeJS.ReadableStream, process.stderr);
  child.on('exit', (code, signal) => {
    if (!shuttingDown) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the demo`);
      void shutdown(1);
    }
  });
  children.push(child);
  return child;
}

/** pino JSON lines become short readable lines; anything else passes through. */
function pretty(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const level = ({ 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' } as Record<number, string>)[o.level as number] ?? '';
    const { level: _l, time: _t, pid: _p, hostname: _h, msg, ...rest } = o;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${level} ${String(msg)}${extra}`;
  } catch {
    return line;
  }
}

async function waitForHealth(url: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server did not become healthy at ${url}`);
}

async function provision(url: string, creds: Credentials) {
  const call = async <T>(method: string, route: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const login = await call<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: creds.adminPassword });
  if (login.status !== 200) {
    throw new Error(
      `cannot log in as admin with the demo password. The data directory ${dataDir} was made by another run; ` +
        'set CARE_ADMIN_PASSWORD to its admin password, or use another CARE_DATA_DIR.',
    );
  }
  const token = login.body.token;
  if ((await call('GET', `/api/v1/sites/${SITE_ID}`, undefined, token)).status === 404) {
    await call(
      'POST',
      '/api/v1/sites',
      { id: SITE_ID, name: '幸福里养老院 (demo)', kind: 'nursing_home', timezone: 'Asia/Shanghai' },
      token,
    );
    for (const r of RESIDENTS) {
      await call('POST', '/api/v1/residents', { id: r.id, siteId: SITE_ID, name: r.name, room: r.room, bed: r.bed }, token);
    }
  }
  if ((await call('GET', `/api/v1/gateways/${GATEWAY_ID}`, undefined, token)).status === 404 || !creds.gatewaySecret) {
    if (creds.gatewaySecret === undefined && (await call('GET', `/api/v1/gateways/${GATEWAY_ID}`, undefined, token)).status === 200) {
      throw new Error(
        `gateway ${GATEWAY_ID} exists but its secret is not in ${demoDir}/credentials.json; remove ${dataDir} to start afresh`,
      );
    }
    const gw = await call<{ secret: string }>(
      'POST',
      '/api/v1/gateways',
      { id: GATEWAY_ID, siteId: SITE_ID, name: '二楼网关 Floor 2' },
      token,
    );
    creds.gatewaySecret = gw.body.secret;
    saveCredentials(creds);
    for (const r of RESIDENTS) {
      const n = r.room;
      for (const [id, kind] of [
        [`btn-${n}`, 'call_button'],
        [`radar-${n}`, 'fall_detector'],
        [`bed-${n}`, 'bed_sensor'],
      ] as const) {
        await call('POST', '/api/v1/devices', { id, gatewayId: GATEWAY_ID, kind, residentId: r.id }, token);
      }
    }
  }
}

/** The watch's own gateway (the server speaks for it), the watch and its wearer's home zone; the safety sensors. */
async function provisionOutdoorsAndSafety(url: string, creds: Credentials) {
  const call = async (method: string, route: string, body?: unknown, token?: string) =>
    fetch(`${url}${route}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const login = await call('POST', '/api/v1/auth/login', { username: 'admin', password: creds.adminPassword });
  const { token } = (await login.json()) as { token: string };
  for (const d of SAFETY) {
    if ((await call('GET', `/api/v1/devices/${d.device}`, undefined, token)).status === 200) continue;
    await call('POST', '/api/v1/devices', { id: d.device, gatewayId: GATEWAY_ID, kind: d.kind, residentId: d.residentId }, token);
  }
  if ((await call('GET', `/api/v1/devices/${WATCH.imei}`, undefined, token)).status === 200) return;
  if ((await call('GET', `/api/v1/gateways/${WATCH.gatewayId}`, undefined, token)).status === 404) {
    await call('POST', '/api/v1/gateways', { id: WATCH.gatewayId, siteId: SITE_ID, name: '定位手表 GPS watches' }, token);
  }
  await call(
    'POST',
    '/api/v1/devices',
    { id: WATCH.imei, gatewayId: WATCH.gatewayId, kind: 'gps_watch', residentId: WATCH.residentId },
    token,
  );
  await call(
    'PUT',
    `/api/v1/residents/${WATCH.residentId}/settings`,
    { homeZone: { lat: WATCH.home.lat, lon: WATCH.home.lon, radiusMeters: WATCH.radiusMeters } },
    token,
  );
}

/**
 * The last whole night (in bed 21:40, up 06:35 site time, the night ending by noon) for the demo
 * simulator to replay through the gateway, so the sleep report shows a night from the first
 * start; none when the report already has it (a restart with the same data).
 */
async function lastNightToReplay(url: string, creds: Credentials): Promise<{ bedAt: string; upAt: string } | undefined> {
  const timezone = 'Asia/Shanghai';
  const bedAt = scenarioStart({ hour: 21, minute: 40 }, timezone, (14 * 60 + 20) * 60_000);
  const night = new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(new Date(bedAt));
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: creds.adminPassword }),
  });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${url}/api/v1/residents/${RESIDENTS[0].id}/sleep?from=${night}&to=${night}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.ok && ((await res.json()) as { nights: unknown[] }).nights.length > 0) return undefined;
  return { bedAt: new Date(bedAt).toISOString(), upAt: new Date(bedAt + (8 * 60 + 55) * 60_000).toISOString() };
}

/** Resolves once something listens on 127.0.0.1:`port` (a connection opened and closed at once). */
async function waitForListener(port: number, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.destroy();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`the device simulator did not listen on port ${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The Zigbee2MQTT bridge's broker, on loopback. */
async function startBridgeBroker(): Promise<string> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return `mqtt://127.0.0.1:${port}`;
}

let shuttingDown = false;
async function shutdown(code = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log('\nstopping the demo…');
  // Gateway and simulator first, the server last, so the server sees the gateway say goodbye.
  for (const child of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function main() {
  const creds = loadCredentials();
  saveCredentials(creds);
  const url = `http://127.0.0.1:${httpPort}`;
  run('server', 'server/main.ts', [], {
    CARE_DATA_DIR: dataDir,
    CARE_ADMIN_PASSWORD: creds.adminPassword,
    CARE_HTTP_PORT: String(httpPort),
    CARE_MQTT_PORT: String(mqttPort),
    CARE_WATCH_PORT: String(watchPort),
  });
  await waitForHealth(url);
  await provision(url, creds);
  await provisionOutdoorsAndSafety(url, creds);
  const bridgeUrl = await startBridgeBroker();

  const ndjsonPort = await freePort();
  const radarPorts: number[] = [];
  for (const _ of RESIDENTS) radarPorts.push(await freePort());
  const plan = {
    ports: [
      { listen: `127.0.0.1:${ndjsonPort}`, protocol: 'ndjson' },
      ...RESIDENTS.map((r, i) => ({ listen: `127.0.0.1:${radarPorts[i]}`, protocol: r.radarProtocol, device: `radar-${r.room}` })),
    ],
    residents: RESIDENTS.map((r) => ({
      name: r.name,
      room: r.room,
      callButton: `btn-${r.room}`,
      radar: `radar-${r.room}`,
      radarProtocol: r.radarProtocol,
      bedSensor: `bed-${r.room}`,
    })),
    timeScale: Number(process.env.CARE_DEMO_TIME_SCALE || 1),
    lastNight: await lastNightToReplay(url, creds),
  };
  const gatewayConfig = {
    serial: [
      { path: `tcp://127.0.0.1:${ndjsonPort}`, protocol: 'ndjson' },
      ...RESIDENTS.map((r, i) => ({ path: `tcp://127.0.0.1:${radarPorts[i]}`, protocol: r.radarProtocol, device: `radar-${r.room}` })),
    ],
    zigbee2mqtt: {
      url: bridgeUrl,
      baseTopic: 'zigbee2mqtt',
      devices: Object.fromEntries(SAFETY.map((d) => [d.name, { device: d.device, model: d.model }])),
    },
  };
  fs.writeFileSync(path.join(demoDir, 'plan.json'), JSON.stringify(plan, null, 2));
  fs.writeFileSync(path.join(demoDir, 'gateway.json'), JSON.stringify(gatewayConfig, null, 2));

  run('sim', 'simulators/main.ts', ['demo', '--plan', path.join(demoDir, 'plan.json')], {});
  run(
    'watch',
    'simulators/main.ts',
    [
      'watch',
      '--imei',
      WATCH.imei,
      '--server',
      `127.0.0.1:${watchPort}`,
      '--home',
      `${WATCH.home.lat},${WATCH.home.lon}`,
      '--reach',
      '500',
      '--every',
      '20s',
    ],
    {},
  );
  // The gateway once the simulator listens (else its first try fails and is reported as a port
  // fault). The last radar port is probed: the simulator binds its ports in order, and a probe of
  // the NDJSON port could be taken for the gateway by last night's replay.
  await waitForListener(radarPorts.at(-1) ?? ndjsonPort);
  run('gateway', 'gateway/main.ts', [], {
    CARE_SITE_ID: SITE_ID,
    CARE_GATEWAY_ID: GATEWAY_ID,
    CARE_GATEWAY_SECRET: creds.gatewaySecret,
    CARE_UPLINK_URL: `mqtt://127.0.0.1:${mqttPort}`,
    CARE_GATEWAY_CONFIG: path.join(demoDir, 'gateway.json'),
    CARE_OUTBOX_DIR: path.join(demoDir, 'outbox'),
  });
  // Now and then (every 45 min on average, divided by the time scale) a safety sensor goes off.
  await runSafetyDemo({
    url: bridgeUrl,
    sensors: SAFETY.map((d) => ({ name: d.name, danger: d.danger })),
    timeScale: Number(process.env.CARE_DEMO_TIME_SCALE || 1),
    print: (line) => console.log(`[safety] ${line}`),
  });

  console.log(
    [
      '',
      '================================================================',
      ' Eldercare monitoring demo is running',
      ` Dashboard:  http://localhost:${httpPort}/`,
      ` Login:      admin / ${creds.adminPassword}`,
      ` API docs:   http://localhost:${httpPort}/docs`,
      ` MQTT:       mqtt://localhost:${mqttPort} (gateway ${GATEWAY_ID})`,
      ` GPS watch:  tcp://localhost:${watchPort} (watch ${WATCH.imei}, room 204; leaving its 300 m home zone at night is a wander alarm)`,
      ` Sleep:      each resident's page shows last night (replayed through the gateway at first start)`,
      ` Data:       ${dataDir}`,
      ' Ctrl-C stops everything.',
      '================================================================',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(`demo failed to start: ${(err as Error).message}`);
  void shutdown(1);
});
