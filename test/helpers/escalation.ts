// What the e2e tests of the outgoing channels (SMS over SMPP or a cloud API, Web Push) share: a site
// whose escalation reaches the channel at its second level, its gateway connected over MQTT, call
// alarms raised through that gateway, and the notification list the dashboard shows.
import type { MqttClient } from 'mqtt';
import { expect } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import type { FakeClock } from './fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, type TestServer, waitFor } from './harness.ts';

type Level = { name: string; timeoutSeconds: number; contacts: Array<{ kind: string; target: string }> };

/** Caregivers for 60 s, then the family by SMS to +8613800000000, then the emergency responder. */
export const SMS_AT_SECOND_LEVEL: Level[] = [
  { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
  { name: 'family', timeoutSeconds: 600, contacts: [{ kind: 'sms', target: '+8613800000000' }] },
  { name: 'emergency_responder', timeoutSeconds: 600, contacts: [] },
];

/** Caregivers for 60 s, then the nurse lead: the administrator's own devices (Web Push), then the family. */
export const ADMIN_AT_SECOND_LEVEL: Level[] = [
  { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
  { name: 'nurse_lead', timeoutSeconds: 600, contacts: [{ kind: 'user', target: 'admin' }] },
  { name: 'family', timeoutSeconds: 600, contacts: [] },
];

/** A registered site (registerSite's devices) with these escalation levels, and its gateway connected. */
export async function siteWithEscalation(server: TestServer, levels: Level[]): Promise<{ site: DemoSite; gw: MqttClient }> {
  const site = await registerSite(server);
  const put = await server.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, { levels });
  expect(put.status).toBe(200);
  return { site, gw: await connectAsGateway(server, site) };
}

/**
 * Raises a call (or fall) from a device through the site's gateway; resolves with its active alarm.
 * `get` gives the server, site and gateway once they are started (in beforeAll).
 */
export function alarmRaiser(clock: FakeClock, get: () => { server: TestServer; site: DemoSite; gw: MqttClient }) {
  let seq = 0;
  return async (device: string, type: 'call' | 'fall' = 'call'): Promise<Alarm> => {
    const { server, site, gw } = get();
    seq += 1;
    const id = `evt-${seq}-${Math.random().toString(36).slice(2)}`;
    await gw.publishAsync(
      gatewayTopic(site.siteId, site.gatewayId, 'events'),
      JSON.stringify({ v: 1, id, seq, ts: clock.iso(), device, type }),
      { qos: 1 },
    );
    return waitFor(
      async () =>
        (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find(
          (a) => a.type === type && a.deviceId === device,
        ),
      `${type} alarm`,
    );
  };
}

export type SmsNote = {
  id: string;
  alarmId: string;
  state: string;
  target: string;
  lastError?: string | null;
  receiptAt?: string | null;
};

/** The SMS notifications as GET /api/v1/notifications lists them. */
export async function smsNotes(server: TestServer): Promise<SmsNote[]> {
  return (await server.api<{ notifications: SmsNote[] }>('GET', '/api/v1/notifications?channel=sms')).body.notifications;
}
