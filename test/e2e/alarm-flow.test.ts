// Issue "One alarm end to end": a gateway event reaches caregiver screens as an alarm, and
// acknowledging it over REST changes its state and pushes the change. Real broker, real gateway,
// real WebSocket clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/gateway.ts';
import type { Alarm } from '../../protocol/index.ts';
import { type DemoSite, registerSite, Screen, startTestGateway, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { startMqttProxy } from '../helpers/mqtt-proxy.ts';

/**
 * The latest time at UTC `hh:mm` at least 5 minutes ago. Device clocks more than a day behind are
 * judged by receipt time, so a fixed date would make these tests depend on the time of day they run.
 */
function latestUtc(hh: number, mm: number, plusMinutes = 0): string {
  const now = Date.now();
  const d = new Date(now);
  d.setUTCHours(hh, mm, 0, 0);
  if (d.getTime() > now - 5 * 60_000) d.setUTCDate(d.getUTCDate() - 1);
  return new Date(d.getTime() + plusMinutes * 60_000).toISOString();
}

let server: TestServer;
let site: DemoSite;
let gateway: RunningGateway;

beforeAll(async () => {
  server = await startTestServer();
  site = await registerSite(server);
  gateway = await startTestGateway(server, site);
});
afterAll(async () => {
  await gateway?.stop();
  await server?.stop();
});

describe('one alarm end to end', () => {
  it('a call from the gateway reaches a screen as a high-priority alarm, and ack over REST is pushed', async () => {
    const screen = await Screen.open(server);
    expect(screen.messages[0]?.type).toBe('snapshot');

    gateway.sink.event({ device: 'btn-203', type: 'call' });
    const raised = await screen.waitForAlarm((a) => a.type === 'call' && a.state === 'active');
    expect(raised).toMatchObject({
      priority: 'high',
      deviceId: 'btn-203',
      residentId: site.residentId,
      residentName: '王秀英',
      room: '203',
      siteId: site.siteId,
      gatewayId: site.gatewayId,
      count: 1,
      unregistered: false,
    });

    const ack = await server.api<Alarm>('POST', `/api/v1/alarms/${raised.id}/ack`);
    expect(ack.status).toBe(200);
    expect(ack.body.state).toBe('acknowledged');
    const pushed = await screen.waitForAlarm((a) => a.id === raised.id && a.state === 'acknowledged');
    expect(pushed.ackBy).toBe('admin');

    const resolved = await server.api<Alarm>('POST', `/api/v1/alarms/${raised.id}/resolve`, {
      outcome: 'assisted',
      note: 'helped to chair',
    });
    expect(resolved.body).toMatchObject({ state: 'resolved', outcome: 'assisted', resolvedBy: 'admin' });
    const list = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=resolved');
    expect(list.body.alarms.map((a) => a.id)).toContain(raised.id);
    screen.close();
  });

  it('the gateway deletes an event from its outbox only after the server confirms the commit', async () => {
    // A gateway of its own behind a proxy that passes the broker's PUBACKs on but holds the
    // server's `committed` command: between the two, the event must stay in the outbox.
    const proxy = await startMqttProxy(server.mqttPort);
    const own = await registerSite(server, [{ id: 'radar-903', kind: 'fall_detector' }]);
    proxy.holdConfirmations(true);
    const gw = await startTestGateway({ ...server, mqttUrl: proxy.url }, own);
    try {
      gw.sink.event({ device: 'radar-903', type: 'fall' });
      await waitFor(() => proxy.pubackedEvents.some((e) => e.device === 'radar-903'), 'the broker PUBACKed the event');
      await waitFor(async () => {
        const r = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active');
        return r.body.alarms.find((a) => a.deviceId === 'radar-903' && a.type === 'fall');
      }, 'fall alarm committed on the server');
      await waitFor(() => proxy.heldConfirmations().length > 0, "the server's confirmation (held by the proxy)");
      // The gateway has handled every packet before this point, the PUBACK among them.
      await proxy.barrier();
      expect(gw.outboxDepth().events).toBe(1);
      proxy.holdConfirmations(false);
      await waitFor(() => gw.outboxDepth().events === 0, 'outbox emptied by the confirmation');
    } finally {
      await gw.stop();
      await proxy.close();
    }
  });

  it('repeats of the same cause while the alarm is open raise its count, not a new alarm', async () => {
    const screen = await Screen.open(server);
    gateway.sink.event({ device: 'btn-203', type: 'call' });
    const first = await screen.waitForAlarm((a) => a.type === 'call' && a.state === 'active');
    gateway.sink.event({ device: 'btn-203', type: 'call' });
    const second = await screen.waitForAlarm((a) => a.id === first.id && a.count === 2);
    expect(second.state).toBe('active');
    const open = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active');
    expect(open.body.alarms.filter((a) => a.type === 'call')).toHaveLength(1);
    screen.close();
  });

  it('a bed exit inside the night window is a medium alarm; a bed return clears it', async () => {
    const screen = await Screen.open(server);
    // 23:30 in Asia/Shanghai, inside the default 22:00-06:00 night window.
    gateway.sink.event({ device: 'bed-203', type: 'bed_exit', ts: latestUtc(15, 30) });
    const exit = await screen.waitForAlarm((a) => a.type === 'bed_exit');
    expect(exit.priority).toBe('medium');
    gateway.sink.event({ device: 'bed-203', type: 'bed_return', ts: latestUtc(15, 30, 3) });
    const cleared = await screen.waitForAlarm((a) => a.id === exit.id && a.state === 'resolved');
    expect(cleared.outcome).toBe('cleared');
    screen.close();
  });

  it('a bed exit in the afternoon raises nothing', async () => {
    const before = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
    gateway.sink.event({ device: 'bed-203', type: 'bed_exit', ts: latestUtc(7, 0) }); // 15:00 local
    gateway.sink.event({ device: 'btn-203', type: 'call_cancel' }); // a marker that is processed after it
    await waitFor(() => gateway.outboxDepth().events === 0, 'events committed');
    const after = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
    expect(after.body.alarms.filter((a) => a.type === 'bed_exit').length).toBe(
      before.body.alarms.filter((a) => a.type === 'bed_exit').length,
    );
  });

  it('a screen that reconnects with since= receives what it missed', async () => {
    const screen = await Screen.open(server);
    const seq = screen.lastSeq;
    screen.close();
    gateway.sink.event({ device: 'radar-203', type: 'fall' });
    gateway.sink.event({ device: 'btn-203', type: 'tamper' });
    await waitFor(() => gateway.outboxDepth().events === 0, 'events committed');
    const back = await Screen.open(server, seq);
    await back.waitForAlarm((a) => a.type === 'tamper');
    expect(back.messages.every((m) => m.seq > seq)).toBe(true);
    expect(back.messages.some((m) => m.type === 'snapshot')).toBe(false);
    back.close();
  });

  it('a bad or missing token is refused at the WebSocket handshake', async () => {
    await expect(new Screen(server, 'token=nope').opened).rejects.toThrow(/401/);
    await expect(new Screen(server, '').opened).rejects.toThrow(/401/);
  });
});

describe('operations', () => {
  it('answers /healthz, /readyz and /metrics with alarm and ingest figures', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: true, ingestBacklog: 0 } });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/care_alarms\{state="resolved",priority="high"\} [1-9]/);
    expect(text).toMatch(/care_ingest_events_total\{outcome="stored"\} [1-9]/);
    expect(text).toMatch(/care_alarm_to_screen_seconds_count [1-9]/);
    expect(text).toMatch(/nodejs_eventloop_lag_p99_seconds/);
  });
});
