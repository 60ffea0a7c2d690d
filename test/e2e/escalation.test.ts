// Escalation, supervision and timed rules, driven by a fake clock (no sleeps): a real server and
// broker, a raw MQTT client acting as the gateway, and a real HTTP server receiving webhooks.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));
const hooks: Array<{ body: string; signature: string | undefined }> = [];
let hookStatus = 500;
let hookServer: http.Server;
let seq = 0;

const SECRET = 'webhook-secret-0123456789';

async function publishEvent(device: string, type: string, ts = clock.iso()) {
  seq += 1;
  const id = `evt-${seq}-${Math.random().toString(36).slice(2)}`;
  await gw.publishAsync(gatewayTopic(site.siteId, site.gatewayId, 'events'), JSON.stringify({ v: 1, id, seq, ts, device, type }), {
    qos: 1,
  });
  return id;
}
async function alarmsOf(pred: (a: Alarm) => boolean): Promise<Alarm[]> {
  return (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.filter(pred);
}
async function waitAlarm(pred: (a: Alarm) => boolean, what: string): Promise<Alarm> {
  return waitFor(async () => (await alarmsOf(pred))[0], what);
}
async function advance(ms: number) {
  clock.advance(ms);
  await server.tick();
}

beforeAll(async () => {
  hookServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      hooks.push({ body, signature: req.headers['x-care-signature'] as string | undefined });
      res.writeHead(hookStatus).end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server);
  const port = (hookServer.address() as AddressInfo).port;
  const put = await server.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, {
    levels: [
      { name: 'caregiver', timeoutSeconds: { high: 60, medium: 300, low: 1800 }, contacts: [] },
      { name: 'nurse_lead', timeoutSeconds: 120, contacts: [{ kind: 'webhook', target: `http://127.0.0.1:${port}/hook` }] },
      { name: 'family', timeoutSeconds: 300, contacts: [{ kind: 'sms', target: '+8613800000000' }] },
      { name: 'emergency_responder', timeoutSeconds: 600, contacts: [] },
    ],
    webhookSecret: SECRET,
  });
  expect(put.status).toBe(200);
  gw = await connectAsGateway(server, site);
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
  hookServer?.close();
});

describe('escalation along the linked-response chain', () => {
  it('an unacknowledged high alarm moves up one level per timeout and notifies each level', async () => {
    await publishEvent('btn-203', 'call');
    const raised = await waitAlarm((a) => a.type === 'call', 'call alarm');
    expect(raised.escalationLevel).toBe(0);

    await advance(59_000);
    expect((await alarmsOf((a) => a.id === raised.id))[0]?.escalationLevel).toBe(0);

    await advance(2_000); // 61 s: past the caregiver level's 60 s for high priority
    expect((await alarmsOf((a) => a.id === raised.id))[0]?.escalationLevel).toBe(1);
    // The nurse lead's webhook: signed with HMAC-SHA256 of the raw body.
    await waitFor(() => hooks.length >= 1, 'webhook call');
    const hook = hooks[0];
    expect(hook?.signature).toBe(
      `sha256=${createHmac('sha256', SECRET)
        .update(hook?.body ?? '')
        .digest('hex')}`,
    );
    expect(JSON.parse(hook?.body ?? '{}')).toMatchObject({ type: 'alarm', level: 1, alarm: { id: raised.id } });

    // The hook answered 500: it is retried with backoff until it succeeds. The failure is recorded
    // (with its backoff) after the answer; time moves on only once it is.
    await waitFor(async () => {
      const notes = await server.api<{ notifications: Array<{ attempts: number }> }>('GET', '/api/v1/notifications?channel=webhook');
      return (notes.body.notifications[0]?.attempts ?? 0) >= 1;
    }, 'first attempt recorded');
    hookStatus = 200;
    await advance(5_000);
    await waitFor(() => hooks.length >= 2, 'webhook retry');
    // The sender records the answer once it has it; nothing in the tick waits for that.
    const delivered = await waitFor(async () => {
      const notes = await server.api<{ notifications: Array<{ state: string; attempts: number }> }>(
        'GET',
        '/api/v1/notifications?channel=webhook',
      );
      return notes.body.notifications[0]?.state === 'delivered' ? notes.body.notifications[0] : undefined;
    }, 'retry recorded as delivered');
    expect(delivered).toMatchObject({ state: 'delivered', attempts: 2 });

    await advance(120_000); // nurse lead level: 120 s
    expect((await alarmsOf((a) => a.id === raised.id))[0]?.escalationLevel).toBe(2);
    const sms = await server.api<{ notifications: Array<{ state: string; target: string }> }>('GET', '/api/v1/notifications?channel=sms');
    expect(sms.body.notifications).toEqual([expect.objectContaining({ state: 'queued', target: '+8613800000000' })]);

    const audit = await server.api<{ entries: Array<{ action: string }> }>('GET', `/api/v1/audit?alarmId=${raised.id}`);
    const actions = audit.body.entries.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['raised', 'escalated', 'notify.failed_attempt', 'notify.delivered', 'notify.queued']));
  });

  it('acknowledging stops escalation', async () => {
    await publishEvent('radar-203', 'fall');
    const fall = await waitAlarm((a) => a.type === 'fall' && a.state === 'active', 'fall alarm');
    await server.api('POST', `/api/v1/alarms/${fall.id}/ack`);
    await advance(3_600_000);
    expect((await alarmsOf((a) => a.id === fall.id))[0]).toMatchObject({ state: 'acknowledged', escalationLevel: 0 });
    await server.api('POST', `/api/v1/alarms/${fall.id}/resolve`, { outcome: 'false_alarm' });
  });

  it('a caregiver on site pauses escalation but the alarm still needs resolving', async () => {
    const cur = await alarmsOf((a) => a.type === 'call' && a.state !== 'resolved');
    const call = cur[0] as Alarm;
    const onSite = await server.api<Alarm>('POST', `/api/v1/alarms/${call.id}/on-site`);
    expect(onSite.body).toMatchObject({ onSiteBy: 'admin', state: 'acknowledged' });
    const level = onSite.body.escalationLevel;
    await advance(3_600_000);
    expect((await alarmsOf((a) => a.id === call.id))[0]).toMatchObject({ escalationLevel: level, state: 'acknowledged' });
    const resolved = await server.api<Alarm>('POST', `/api/v1/alarms/${call.id}/resolve`, {
      outcome: 'assisted',
      note: 'on the floor, no injury',
    });
    expect(resolved.body.state).toBe('resolved');
  });
});

describe('timed rules', () => {
  it('a night bed exit with no return within the set minutes becomes high priority', async () => {
    // 23:00 Asia/Shanghai is 15:00 UTC.
    await publishEvent('bed-203', 'bed_exit', '2026-11-22T15:00:00.000Z');
    const exit = await waitAlarm((a) => a.type === 'bed_exit' && a.state === 'active', 'bed exit');
    expect(exit.priority).toBe('medium');
    await advance(10 * 60_000 + 1000);
    expect((await alarmsOf((a) => a.id === exit.id))[0]?.priority).toBe('high');
    await server.api('POST', `/api/v1/alarms/${exit.id}/resolve`, { outcome: 'assisted' });
  });

  it('SpO2 below the limit for the sustain time raises a vitals alarm; a brief dip does not', async () => {
    const t0 = Date.parse('2026-11-23T01:00:00.000Z');
    const point = (value: number, s: number) => ({ device: 'radar-203', metric: 'spo2', value, ts: new Date(t0 + s * 1000).toISOString() });
    const topic = gatewayTopic(site.siteId, site.gatewayId, 'telemetry');
    await gw.publishAsync(
      topic,
      JSON.stringify({ v: 1, ts: clock.iso(), points: [point(86, 0), point(95, 30), point(87, 40), point(86, 70)] }),
      { qos: 1 },
    );
    await gw.publishAsync(topic, JSON.stringify({ v: 1, ts: clock.iso(), points: [point(86, 101)] }), { qos: 1 });
    const v = await waitAlarm((a) => a.type === 'vitals', 'vitals alarm');
    expect(v.residentId).toBe(site.residentId);
    const history = await server.api<{ history: Array<{ action: string; detail: { metric?: string; value?: number } }> }>(
      'GET',
      `/api/v1/alarms/${v.id}`,
    );
    expect(history.body.history[0]?.detail).toMatchObject({ metric: 'spo2', value: 86 });
  });
});

describe('supervision', () => {
  it('a silent device is reported offline after its interval, and clears itself when heard again', async () => {
    await publishEvent('radar-203', 'presence');
    await waitFor(
      async () => (await server.api<{ lastSeen: string | null }>('GET', '/api/v1/devices/radar-203')).body.lastSeen,
      'device seen',
    );
    // The gateway keeps sending its status (it is heard, so it is supervised); only the radar is silent.
    for (let i = 0; i < 12; i += 1) {
      await gw.publishAsync(
        gatewayTopic(site.siteId, site.gatewayId, 'status'),
        JSON.stringify({ v: 1, state: 'online', ts: clock.iso() }),
        {
          qos: 1,
          retain: true,
        },
      );
      await advance(30_000);
    }
    const off = await waitAlarm((a) => a.type === 'device_offline' && a.deviceId === 'radar-203' && a.state === 'active', 'device offline');
    expect(off.priority).toBe('low');
    await publishEvent('radar-203', 'presence');
    const cleared = await waitAlarm((a) => a.id === off.id && a.state === 'resolved', 'device back');
    expect(cleared.outcome).toBe('cleared');
    expect(cleared.note).toMatch(/back after \d+ min/);
  });

  it('a gateway that goes silent is reported offline within 90 s, and back when it reports', async () => {
    await gw.publishAsync(gatewayTopic(site.siteId, site.gatewayId, 'status'), JSON.stringify({ v: 1, state: 'online', ts: clock.iso() }), {
      qos: 1,
      retain: true,
    });
    await waitFor(
      async () => (await server.api<{ state: string }>('GET', `/api/v1/gateways/${site.gatewayId}`)).body.state === 'online',
      'online',
    );
    await advance(60_000);
    await server.tick();
    expect(await alarmsOf((a) => a.type === 'gateway_offline' && a.state === 'active')).toHaveLength(0);
    await advance(30_000); // 90 s of silence
    await server.tick();
    const off = await waitAlarm((a) => a.type === 'gateway_offline' && a.state === 'active', 'gateway offline');
    expect(off).toMatchObject({ priority: 'medium', gatewayId: site.gatewayId });
    await gw.publishAsync(gatewayTopic(site.siteId, site.gatewayId, 'status'), JSON.stringify({ v: 1, state: 'online', ts: clock.iso() }), {
      qos: 1,
      retain: true,
    });
    const back = await waitAlarm((a) => a.id === off.id && a.state === 'resolved', 'gateway back');
    expect(back.note).toMatch(/back after \d+ min/);
  });

  it("a gateway's last will raises gateway offline at once", async () => {
    await gw.endAsync();
    const statusTopic = gatewayTopic(site.siteId, site.gatewayId, 'status');
    gw = await mqtt.connectAsync(server.mqttUrl, {
      clientId: site.gatewayId,
      username: site.gatewayId,
      password: site.secret,
      reconnectPeriod: 0,
      will: { topic: statusTopic, payload: Buffer.from('{"v":1,"state":"offline"}'), qos: 1, retain: true },
    });
    await gw.publishAsync(statusTopic, JSON.stringify({ v: 1, state: 'online', ts: clock.iso() }), { qos: 1, retain: true });
    await waitFor(
      async () => (await server.api<{ state: string }>('GET', `/api/v1/gateways/${site.gatewayId}`)).body.state === 'online',
      'online',
    );
    gw.stream.destroy(); // no DISCONNECT packet: the broker publishes the will
    const off = await waitAlarm((a) => a.type === 'gateway_offline' && a.state === 'active', 'offline by last will');
    expect(off.gatewayId).toBe(site.gatewayId);
  });
});

describe('restart', () => {
  it('a server restarted in the middle of an escalation continues it where it was', async () => {
    const dataDir = (await import('../helpers/harness.ts')).tempDir();
    const c = new FakeClock(Date.parse('2026-11-23T03:00:00.000Z'));
    let s = await startTestServer(dataDir, { clock: c });
    const st = await registerSite(s);
    const g = await connectAsGateway(s, st);
    await g.publishAsync(
      gatewayTopic(st.siteId, st.gatewayId, 'events'),
      JSON.stringify({ v: 1, id: 'restart-1', seq: 1, ts: c.iso(), device: 'btn-203', type: 'call' }),
      { qos: 1 },
    );
    const alarm = await waitFor(async () => (await s.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms[0], 'alarm');
    c.advance(61_000);
    await s.tick();
    expect((await s.api<Alarm>('GET', `/api/v1/alarms/${alarm.id}`)).status).toBe(200);
    await g.endAsync();
    await s.stop();
    // 100 s later the next level (120 s for the default nurse lead at high priority) is 81 s away.
    c.advance(100_000);
    s = await startTestServer(dataDir, { clock: c });
    await s.tick();
    const mid = (await s.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${alarm.id}`)).body.alarm;
    expect(mid.escalationLevel).toBe(1);
    c.advance(25_000);
    await s.tick();
    const next = (await s.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${alarm.id}`)).body.alarm;
    expect(next.escalationLevel).toBe(2);
    await s.stop();
  });
});

describe('snooze', () => {
  it('a medium alarm can be snoozed and does not escalate meanwhile; a high one cannot be snoozed', async () => {
    const c = new FakeClock(Date.parse('2026-11-23T15:00:00.000Z'));
    const s = await startTestServer(undefined, { clock: c });
    const st = await registerSite(s, [
      { id: 'pad-1', kind: 'bed_sensor' },
      { id: 'btn-1', kind: 'call_button' },
    ]);
    const g = await connectAsGateway(s, st);
    const send = (id: string, device: string, type: string, ts: string) =>
      g.publishAsync(gatewayTopic(st.siteId, st.gatewayId, 'events'), JSON.stringify({ v: 1, id, seq: 1, ts, device, type }), { qos: 1 });
    // 23:00 in Asia/Shanghai: a night bed exit, medium.
    await send('s-1', 'pad-1', 'bed_exit', c.iso());
    await send('s-2', 'btn-1', 'call', c.iso());
    const list = async () => (await s.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;
    await waitFor(async () => (await list()).length === 2, 'two alarms');
    const exit = (await list()).find((a) => a.type === 'bed_exit') as Alarm;
    const call = (await list()).find((a) => a.type === 'call') as Alarm;
    expect((await s.api('POST', `/api/v1/alarms/${call.id}/snooze`, { minutes: 10 })).status).toBe(409);
    const snoozed = await s.api<Alarm>('POST', `/api/v1/alarms/${exit.id}/snooze`, { minutes: 9 });
    expect(snoozed.body.snoozedUntil).toBe(new Date(Date.parse(c.iso()) + 9 * 60_000).toISOString());
    c.advance(6 * 60_000); // past the 5 min medium timeout, inside the snooze
    await s.tick();
    expect((await list()).find((a) => a.id === exit.id)?.escalationLevel).toBe(0);
    c.advance(4 * 60_000); // the bed exit became high (10 min, no return): the snooze is over
    await s.tick();
    const after = (await list()).find((a) => a.id === exit.id) as Alarm;
    expect(after.priority).toBe('high');
    expect(after.snoozedUntil).toBeNull();
    await g.endAsync();
    await s.stop();
  });
});

describe('confirmation delay', () => {
  it('a bed exit ended within the delay raises nothing; one that lasts is raised; a call is never delayed', async () => {
    const c = new FakeClock(Date.parse('2026-11-23T15:00:00.000Z')); // 23:00 in Asia/Shanghai
    const s = await startTestServer(undefined, { clock: c });
    const st = await registerSite(s, [
      { id: 'pad-2', kind: 'bed_sensor' },
      { id: 'btn-2', kind: 'call_button' },
    ]);
    await s.api('PUT', `/api/v1/residents/${st.residentId}/settings`, { confirmDelaySeconds: { bed_exit: 60 } });
    const g = await connectAsGateway(s, st);
    let i = 0;
    const send = async (device: string, type: string) => {
      i += 1;
      await g.publishAsync(
        gatewayTopic(st.siteId, st.gatewayId, 'events'),
        JSON.stringify({ v: 1, id: `cd-${i}`, seq: i, ts: c.iso(), device, type }),
        { qos: 1 },
      );
    };
    const list = async () => (await s.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;

    await send('btn-2', 'call');
    await waitFor(async () => (await list()).some((a) => a.type === 'call'), 'call at once');
    await send('pad-2', 'bed_exit');
    c.advance(30_000);
    await send('pad-2', 'bed_return');
    await waitFor(async () => {
      const audit = await s.api<{ entries: Array<{ action: string }> }>('GET', '/api/v1/audit?action=confirmation.cancelled');
      return audit.body.entries.length === 1;
    }, 'held bed exit cancelled');
    c.advance(60_000);
    await s.tick();
    expect((await list()).some((a) => a.type === 'bed_exit')).toBe(false);

    await send('pad-2', 'bed_exit');
    await waitFor(async () => {
      const audit = await s.api<{ entries: Array<{ action: string }> }>('GET', '/api/v1/audit?action=confirmation.held');
      return audit.body.entries.length === 2;
    }, 'second bed exit held');
    c.advance(59_000);
    await s.tick();
    expect((await list()).some((a) => a.type === 'bed_exit')).toBe(false);
    c.advance(2_000);
    await s.tick();
    const exit = (await list()).find((a) => a.type === 'bed_exit');
    expect(exit?.priority).toBe('medium');
    await g.endAsync();
    await s.stop();
  });
});

describe('call trees and receipts', () => {
  it('a contact who does not accept in time hands over to the next; accepting acknowledges the alarm', async () => {
    const c = new FakeClock(Date.parse('2026-11-23T04:00:00.000Z'));
    const s = await startTestServer(undefined, { clock: c });
    const st = await registerSite(s, [{ id: 'btn-3', kind: 'call_button' }]);
    await s.api('PUT', `/api/v1/sites/${st.siteId}/escalation`, {
      levels: [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        {
          name: 'family',
          timeoutSeconds: 600,
          acceptSeconds: 30,
          contacts: [
            { kind: 'sms', target: '+86-daughter' },
            { kind: 'sms', target: '+86-son' },
            { kind: 'sms', target: '+86-neighbour' },
          ],
        },
        { name: 'emergency_responder', timeoutSeconds: 600, contacts: [] },
      ],
    });
    const g = await connectAsGateway(s, st);
    await g.publishAsync(
      gatewayTopic(st.siteId, st.gatewayId, 'events'),
      JSON.stringify({ v: 1, id: 'tree-1', seq: 1, ts: c.iso(), device: 'btn-3', type: 'call' }),
      { qos: 1 },
    );
    const alarm = await waitFor(async () => (await s.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms[0], 'alarm');
    type N = { id: string; target: string; state: string };
    const sms = async () => (await s.api<{ notifications: N[] }>('GET', '/api/v1/notifications?channel=sms')).body.notifications;

    c.advance(61_000);
    await s.tick();
    expect((await sms()).map((n) => n.target)).toEqual(['+86-daughter']);
    c.advance(31_000);
    await s.tick();
    expect((await sms()).map((n) => n.target)).toEqual(['+86-daughter', '+86-son']);
    const son = (await sms()).find((n) => n.target === '+86-son') as N;
    const seen = await s.api<{ state: string }>('POST', `/api/v1/notifications/${son.id}/receipt`, { status: 'seen' });
    expect(seen.body.state).toBe('seen');
    await s.api('POST', `/api/v1/notifications/${son.id}/receipt`, { status: 'accepted' });
    const acked = (await s.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${alarm.id}`)).body.alarm;
    expect(acked).toMatchObject({ state: 'acknowledged', ackBy: 'sms:+86-son' });
    c.advance(120_000);
    await s.tick();
    expect((await sms()).map((n) => n.target)).toEqual(['+86-daughter', '+86-son']);
    await g.endAsync();
    await s.stop();
  });
});

describe('caregiver presence', () => {
  it("a caregiver's presence reported at the resident marks the open alarm on site and pauses escalation", async () => {
    const c = new FakeClock(Date.parse('2026-11-23T05:00:00.000Z'));
    const s = await startTestServer(undefined, { clock: c });
    const st = await registerSite(s, [
      { id: 'btn-4', kind: 'call_button' },
      { id: 'tag-4', kind: 'presence_sensor' },
    ]);
    const g = await connectAsGateway(s, st);
    const send = (id: string, device: string, type: string, data?: object) =>
      g.publishAsync(
        gatewayTopic(st.siteId, st.gatewayId, 'events'),
        JSON.stringify({ v: 1, id, seq: 1, ts: c.iso(), device, type, data }),
        { qos: 1 },
      );
    await send('p-1', 'btn-4', 'call');
    const alarm = await waitFor(async () => (await s.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms[0], 'call');
    await send('p-2', 'tag-4', 'presence', { caregiver: 'carer-li' });
    const onSite = await waitFor(async () => {
      const a = (await s.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${alarm.id}`)).body.alarm;
      return a.onSiteBy ? a : null;
    }, 'on site');
    expect(onSite).toMatchObject({ onSiteBy: 'carer-li', state: 'acknowledged' });
    c.advance(3600_000);
    await s.tick();
    expect((await s.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${alarm.id}`)).body.alarm.escalationLevel).toBe(0);
    await g.endAsync();
    await s.stop();
  });
});
