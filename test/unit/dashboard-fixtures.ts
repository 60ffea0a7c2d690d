// Alarm fixtures for the dashboard unit tests.
import type { Alarm } from '../../protocol/schemas.ts';

export function alarm(over: Partial<Alarm> & { id: string }): Alarm {
  return {
    type: 'call',
    priority: 'high',
    state: 'active',
    siteId: 'site-1',
    gatewayId: 'gw-1',
    deviceId: 'btn-203',
    residentId: 'res-1',
    residentName: '王秀英',
    room: '203',
    bed: 'A',
    raisedAt: '2026-01-01T08:00:00.000Z',
    lastEventAt: '2026-01-01T08:00:00.000Z',
    ackAt: null,
    ackBy: null,
    resolvedAt: null,
    resolvedBy: null,
    outcome: null,
    note: null,
    escalationLevel: 0,
    onSiteBy: null,
    count: 1,
    unregistered: false,
    test: false,
    snoozedUntil: null,
    ...over,
  };
}
