// SMS over SMPP 3.4 against an SMSC run by this test with the `smpp` library's server side: the
// server binds as a transceiver, an escalated alarm's SMS arrives in UCS-2 (data_coding 8) with the
// one response link, and the SMSC's delivery receipt (deliver_sm) turns the notification from
// `sent` to `delivered` (or `failed` for UNDELIV). A real server, broker and MQTT gateway; fake
// clock for the escalation.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmRaiser, smsNotes as notes, SMS_AT_SECOND_LEVEL, siteWithEscalation } from '../helpers/escalation.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { type DemoSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { type Smsc, type Submitted, startSmsc } from '../helpers/smsc.ts';

let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let smsc: Smsc;
const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));

const raiseCall = alarmRaiser(clock, () => ({ server, site, gw }));
const smsNotes = () => notes(server);

/** The parts of one message, joined in UDH order. */
function reassemble(parts: Submitted[]): string {
  return [...parts]
    .sort((a, b) => (a.udh?.[5] ?? 1) - (b.udh?.[5] ?? 1))
    .map((p) => p.text)
    .join('');
}

beforeAll(async () => {
  smsc = await startSmsc({ password: 'secret', firstId: 1000 });
  server = await startTestServer(undefined, {
    clock,
    env: {
      CARE_SMS_PROVIDER: 'smpp',
      CARE_SMPP_URL: `smpp://care:secret@127.0.0.1:${smsc.port}`,
      CARE_SMS_SENDER: '10690000',
      CARE_PUBLIC_URL: 'https://care.example.org',
    },
  });
  ({ site, gw } = await siteWithEscalation(server, SMS_AT_SECOND_LEVEL));
  await waitFor(() => smsc.sessions.length > 0 && smsc.binds.length > 0, 'SMPP bind');
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
  smsc?.close();
});

describe('SMS over SMPP', () => {
  it('binds as a transceiver with the system id and password of CARE_SMPP_URL; /healthz shows the bind', async () => {
    expect(smsc.binds[0]).toEqual({ systemId: 'care', password: 'secret' });
    const health = await waitFor(async () => {
      const r = await fetch(`${server.url}/healthz`);
      const body = (await r.json()) as { checks: Record<string, unknown> };
      return body.checks.sms === true ? body : undefined;
    }, 'sms bound in /healthz');
    expect(health.checks.sms).toBe(true);
  });

  it('an escalated alarm reaches the SMSC in UCS-2 with one response link, and its delivery receipt marks it delivered', async () => {
    const alarm = await raiseCall('btn-203');
    clock.advance(60_000);
    await server.tick();
    const last = await waitFor(() => smsc.submitted.find((s) => s.registered === 1), 'the SMS at the SMSC');
    const parts = smsc.submitted.filter((s) => s.udh === null || s.udh[3] === last.udh?.[3]);
    expect(parts.every((p) => p.to === '8613800000000' && p.dataCoding === 8)).toBe(true);
    if (parts.length > 1) {
      // Concatenated: a UDH with the same reference, the part count and each part's number; at most two parts.
      expect(parts.length).toBe(2);
      expect(parts.every((p) => (p.esmClass & 0x40) === 0x40 && p.udh?.[4] === 2)).toBe(true);
      expect(parts.filter((p) => p.registered === 1)).toHaveLength(1);
    }
    const text = reassemble(parts);
    expect(text).toContain('紧急呼叫');
    const links = text.match(/https:\/\/care\.example\.org\/r\/[A-Za-z0-9_-]+/g) ?? [];
    expect(links).toHaveLength(1);
    // The link opens the response page for this alarm.
    const page = await fetch(`http://127.0.0.1:${server.httpPort}${new URL(links[0] as string).pathname}`);
    expect(page.status).toBe(200);
    await page.arrayBuffer();

    const sent = await waitFor(
      async () => (await smsNotes()).find((n) => n.alarmId === alarm.id && n.state === 'sent'),
      'sent, not delivered',
    );
    expect(sent.target).toBe('+8613800000000');
    smsc.receipt(last.messageId, 'DELIVRD');
    await waitFor(async () => (await smsNotes()).find((n) => n.id === sent.id && n.state === 'delivered'), 'delivered by the receipt');
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'done' });
  });

  it('a dropped SMSC connection is dialled again and bound, and the next SMS goes out on the new bind', async () => {
    const bindsBefore = smsc.binds.length;
    for (const s of smsc.sessions.splice(0)) s.destroy();
    await waitFor(() => smsc.binds.length > bindsBefore && smsc.sessions.length > 0, 're-bind after the drop', 20_000);
    const before = smsc.submitted.length;
    const alarm = await raiseCall('btn-205');
    clock.advance(60_000);
    await server.tick();
    await waitFor(() => smsc.submitted.slice(before).find((s) => s.registered === 1), 'the SMS on the new bind');
    await waitFor(async () => (await smsNotes()).find((n) => n.alarmId === alarm.id && n.state === 'sent'), 'sent');
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'done' });
  });

  it('a receipt that comes before the answer to its submit (before the server knows the id) still marks it delivered', async () => {
    smsc.immediateReceipts = true;
    try {
      const alarm = await raiseCall('btn-206');
      clock.advance(60_000);
      await server.tick();
      await waitFor(async () => (await smsNotes()).find((n) => n.alarmId === alarm.id && n.state === 'delivered'), 'delivered', 20_000);
      await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'done' });
    } finally {
      smsc.immediateReceipts = false;
    }
  });

  it('a receipt saying the phone never got it marks the notification failed', async () => {
    const before = smsc.submitted.length;
    const alarm = await raiseCall('btn-204');
    clock.advance(60_000);
    await server.tick();
    const last = await waitFor(() => smsc.submitted.slice(before).find((s) => s.registered === 1), 'the second SMS');
    const sent = await waitFor(async () => (await smsNotes()).find((n) => n.alarmId === alarm.id && n.state === 'sent'), 'sent');
    smsc.receipt(last.messageId, 'UNDELIV');
    await waitFor(async () => (await smsNotes()).find((n) => n.id === sent.id && n.state === 'failed'), 'failed by the receipt');
  });
});
