// The authorisation matrix: every HTTP route the server registers × every role × a target on the
// caller's own site and on another site. The table below says who may call each route; the test
// checks the status of each call (allowed: 2xx; refused: 401 without a login, else 403 or 404,
// never 2xx for another site's thing) and that nothing a caller is allowed to read names another
// site's (or, for a family account, another resident's) ids, phone numbers or alarms.
//
// The routes are read from the running server (Fastify's onRoute hook, `httpRoutes()`), so a route
// added without a row here fails the suite: decide who may call it, add the row, and the scope check
// is tested from then on. The roles are read from the API's own schema (`POST /api/v1/users`).
import type { MqttClient } from 'mqtt';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import {
  ADMIN_PASSWORD,
  connectAsGateway,
  type DemoSite,
  registerSite,
  startTestServer,
  type TestServer,
  waitFor,
} from '../helpers/harness.ts';

const ROLES = [
  'admin',
  'nurse_lead',
  'caregiver',
  'caregiver_all_sites',
  'family',
  'centre_operator',
  'grid_worker',
  'responder',
  'anonymous',
] as const;
type Role = (typeof ROLES)[number];
type Scope = 'own' | 'other';
/**
 * Who works on a site's things: its staff, the centre operator of the area site A is in, and site
 * A's grid worker. The responder is a `user` contact in site A's chain: they see site A's alarms
 * once escalated to them, nothing else of the site; the family account sees its relative.
 */
const STAFF: Role[] = ['admin', 'nurse_lead', 'caregiver', 'caregiver_all_sites', 'centre_operator', 'grid_worker'];
const LOGGED_IN: Role[] = [...STAFF, 'family', 'responder'];
/** Who may take an alarm they can see (acknowledge, on site): everyone logged in. */
const RESPONDERS: Role[] = [...STAFF, 'family', 'responder'];
/** Who may read a resident of site A (a responder sees the alarms escalated to them, not the residents). */
const SEE_RESIDENTS: Role[] = [...STAFF, 'family'];
/** Who manages a home's place and contacts: an administrator, the centre operator of its area. */
const CENTRE: Role[] = ['admin', 'centre_operator'];
const EVERYONE: Role[] = [...LOGGED_IN, 'anonymous'];
/** Who may reach another site's things: an administrator, and staff not bound to a site. */
const ALL_SITES: Role[] = ['admin', 'caregiver_all_sites'];
const ADMIN: Role[] = ['admin'];
/** Accounts bound to site A (the family account to one resident of it): what they read is checked for leaks. */
const BOUND: Role[] = ['nurse_lead', 'caregiver', 'family', 'centre_operator', 'grid_worker', 'responder'];

interface Call {
  url: string;
  body?: unknown;
  /** Replaces the role's token (logout needs a session of its own). */
  token?: string;
}
interface Row {
  /** false: the route names no site's thing; it is called once per role (as "own"). */
  scoped: boolean;
  allow: { own: Role[]; other: Role[] };
  /** Statuses meaning "allowed" [200, 201]; an alarm action on an alarm already moved on answers 409. */
  ok?: number[];
  call(scope: Scope, role: Role): Call | Promise<Call>;
  /** How a logged-in caller is refused [403 or 404]; the broker's hooks answer 401 to anything but their secret. */
  refusedWith?: number[];
  /** A handshake instead of a request (the WebSocket). */
  handshake?: true;
}

const PASSWORD = 'correct horse battery';
const clock = new FakeClock(Date.parse('2026-11-23T04:00:00.000Z'));
let server: TestServer;
let gateways: MqttClient[] = [];
const tokens = {} as Record<Exclude<Role, 'anonymous'>, string>;
const userIds = {} as Record<Exclude<Role, 'anonymous'>, string>;
let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}`;

interface Fixture {
  site: DemoSite;
  deviceId: string;
  alarmId: string;
  /** One notification for receipts, and unused queued ones for `delivered` (one per call). */
  notificationId: string;
  queued: string[];
}
const fx = {} as Record<Scope, Fixture>;
/** Strings no account bound to site A may read in a 2xx answer; fresh things on site B join them. */
const otherSite = new Set<string>();
/** What a family account of resident A may not read either: the other resident of site A. */
const otherResident = new Set<string>();

async function request(method: string, url: string, token: string | undefined, body?: unknown) {
  const res = await undiciFetch(`${server.url}${url}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** The admin's request, which must succeed (fixtures). */
async function admin<T>(method: string, url: string, body?: unknown): Promise<T> {
  const r = await request(method, url, server.token, body);
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as T;
}

function handshake(token: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

const fresh = {
  async resident(scope: Scope) {
    const r = await admin<{ id: string }>('POST', '/api/v1/residents', { siteId: fx[scope].site.siteId, name: 'Matrix', room: '9' });
    if (scope === 'other') otherSite.add(r.id);
    return r.id;
  },
  async user(scope: Scope) {
    const u = await admin<{ id: string }>('POST', '/api/v1/users', {
      username: unique(`mx-edit-${scope}`),
      password: PASSWORD,
      role: 'caregiver',
      siteId: fx[scope].site.siteId,
    });
    if (scope === 'other') otherSite.add(u.id);
    return u.id;
  },
  async gateway(scope: Scope) {
    const g = await admin<{ id: string }>('POST', '/api/v1/gateways', { siteId: fx[scope].site.siteId, name: 'Matrix' });
    if (scope === 'other') otherSite.add(g.id);
    return g.id;
  },
  async shift(scope: Scope) {
    const s = await admin<{ id: string }>('POST', '/api/v1/shifts', {
      siteId: fx[scope].site.siteId,
      userId: userIds.caregiver_all_sites,
      start: '2026-11-23T00:00:00.000Z',
      end: '2026-11-23T08:00:00.000Z',
    });
    if (scope === 'other') otherSite.add(s.id);
    return s.id;
  },
  queued(scope: Scope) {
    const id = fx[scope].queued.shift();
    if (!id) throw new Error('the fixture ran out of queued notifications');
    return id;
  },
  async token(role: Role) {
    if (role === 'anonymous') return '';
    const login = role === 'admin' ? { username: 'admin', password: ADMIN_PASSWORD } : { username: `mx-${role}`, password: PASSWORD };
    const r = await request('POST', '/api/v1/auth/login', undefined, login);
    if (r.status !== 200) throw new Error(`login as ${role}: ${r.status}`);
    return (JSON.parse(r.text) as { token: string }).token;
  },
};

const site = (s: Scope) => fx[s].site.siteId;
/** A browser's push subscription (keys of the right shape; nothing is ever sent to it here). */
const pushSubscriptionBody = () => ({
  endpoint: `https://push.example.org/${unique('sub')}`,
  keys: { p256dh: `B${'A'.repeat(86)}`, auth: 'A'.repeat(22) },
});
const own = (own: Role[], other: Role[] = []) => ({ own, other });
const everywhere = (roles: Role[]) => ({ own: roles, other: roles });

// The table. Keys are `METHOD url` exactly as registered; HEAD twins of GET routes share their row.
const MATRIX: Record<string, Row> = {
  // Open to everyone, logged in or not.
  'POST /api/v1/auth/login': {
    scoped: false,
    allow: own(EVERYONE),
    call: () => ({ url: '/api/v1/auth/login', body: { username: 'mx-caregiver', password: PASSWORD } }),
  },
  'GET /healthz': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/healthz' }) },
  'GET /readyz': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/readyz' }) },
  // Response links (DESIGN.md 3.9): no login, the token is the credential; an unknown one is 404 for
  // everyone (test/unit/respond-route.test.ts covers live links, expiry and scope to one alarm).
  'GET /r/:token': { scoped: false, allow: own(EVERYONE), ok: [404], call: () => ({ url: `/r/${'A'.repeat(32)}` }) },
  'GET /r/respond.js': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/r/respond.js' }) },
  'POST /api/v1/respond/:token': {
    scoped: false,
    allow: own(EVERYONE),
    ok: [404],
    call: () => ({ url: `/api/v1/respond/${'A'.repeat(32)}`, body: { action: 'accept' } }),
  },
  // A cloud SMS provider's pushed delivery reports: no login, the path secret is the credential; the
  // test server has no cloud SMS provider, so the address does not exist for anyone
  // (test/unit/sms-receipt-routes.test.ts covers the secret, the provider, the limits).
  'POST /api/v1/sms/receipts/:provider/:secret': {
    scoped: false,
    allow: own(EVERYONE),
    ok: [404],
    call: () => ({ url: `/api/v1/sms/receipts/aliyun/${'A'.repeat(32)}`, body: [] }),
  },
  // Open here because the test server listens on loopback without CARE_METRICS_TOKEN (scope.test.ts
  // tests the token and the not-on-loopback cases).
  'GET /metrics': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/metrics' }) },
  'GET /*': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/' }) },
  'GET /docs': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/docs' }) },
  'GET /docs/json': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/docs/json' }) },
  'GET /docs/yaml': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/docs/yaml' }) },
  'GET /docs/static/index.html': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/docs/static/index.html' }) },
  'GET /docs/static/swagger-initializer.js': {
    scoped: false,
    allow: own(EVERYONE),
    call: () => ({ url: '/docs/static/swagger-initializer.js' }),
  },
  'GET /docs/static/*': { scoped: false, allow: own(EVERYONE), call: () => ({ url: '/docs/static/swagger-ui.css' }) },
  // The live feed: any login; what each sees is scoped per message (scope.test.ts, security.test.ts).
  'GET /ws': { scoped: false, allow: own(LOGGED_IN), handshake: true, ok: [101], call: () => ({ url: '/ws' }) },
  // The broker's hooks answer only the broker's own secret, never a user's token.
  'POST /broker/v1/authenticate': {
    scoped: false,
    allow: own([]),
    refusedWith: [401],
    call: () => ({ url: '/broker/v1/authenticate', body: { clientid: 'gw', username: 'gw', password: 'x' } }),
  },
  'POST /broker/v1/authorize': {
    scoped: false,
    allow: own([]),
    refusedWith: [401],
    call: () => ({
      url: '/broker/v1/authorize',
      body: { clientid: 'gw', username: 'gw', topic: 'care/v1/s/gw/events', action: 'publish' },
    }),
  },

  // Sessions
  'POST /api/v1/auth/logout': {
    scoped: false,
    allow: own(LOGGED_IN),
    call: async (_s, role) => ({ url: '/api/v1/auth/logout', token: await fresh.token(role) }),
  },
  'GET /api/v1/auth/me': { scoped: false, allow: own(LOGGED_IN), call: () => ({ url: '/api/v1/auth/me' }) },
  // Web Push (server/channels/routes.ts): each logged-in user registers and removes their own browsers only.
  'GET /api/v1/push/vapid-public-key': { scoped: false, allow: own(LOGGED_IN), call: () => ({ url: '/api/v1/push/vapid-public-key' }) },
  'POST /api/v1/push/subscriptions': {
    scoped: false,
    allow: own(LOGGED_IN),
    call: () => ({ url: '/api/v1/push/subscriptions', body: pushSubscriptionBody() }),
  },
  'DELETE /api/v1/push/subscriptions/:id': {
    scoped: false,
    allow: own(LOGGED_IN),
    call: async (_s, role) => {
      if (role === 'anonymous') return { url: '/api/v1/push/subscriptions/nope' };
      const r = await request('POST', '/api/v1/push/subscriptions', await fresh.token(role), pushSubscriptionBody());
      return { url: `/api/v1/push/subscriptions/${(JSON.parse(r.text) as { id: string }).id}` };
    },
  },

  // Alarms
  'GET /api/v1/alarms': {
    scoped: true,
    allow: everywhere(LOGGED_IN), // a list: filtered to what the caller may see (checked for leaks)
    call: (s) => ({ url: s === 'own' ? '/api/v1/alarms' : `/api/v1/alarms?siteId=${site(s)}` }),
  },
  'GET /api/v1/alarms/:id': {
    scoped: true,
    allow: own(LOGGED_IN, ALL_SITES), // the responder: alarm A was escalated to them
    call: (s) => ({ url: `/api/v1/alarms/${fx[s].alarmId}` }),
  },
  'POST /api/v1/alarms/:id/ack': {
    scoped: true,
    allow: own(RESPONDERS, ALL_SITES),
    ok: [200, 409],
    call: (s) => ({ url: `/api/v1/alarms/${fx[s].alarmId}/ack` }),
  },
  'POST /api/v1/alarms/:id/snooze': {
    scoped: true,
    allow: own(STAFF, ALL_SITES),
    ok: [200, 409],
    call: (s) => ({ url: `/api/v1/alarms/${fx[s].alarmId}/snooze`, body: { minutes: 5 } }),
  },
  'POST /api/v1/alarms/:id/on-site': {
    scoped: true,
    allow: own(RESPONDERS, ALL_SITES),
    ok: [200, 409],
    call: (s) => ({ url: `/api/v1/alarms/${fx[s].alarmId}/on-site` }),
  },
  'POST /api/v1/alarms/:id/resolve': {
    scoped: true,
    allow: own([...STAFF, 'responder'], ALL_SITES), // not family: the outcome is the care record's
    ok: [200, 409],
    call: (s) => ({ url: `/api/v1/alarms/${fx[s].alarmId}/resolve`, body: { outcome: 'assisted' } }),
  },

  // Registry: administrators write; staff read their site; a family account reads its relative.
  'POST /api/v1/sites': {
    scoped: false,
    allow: own(ADMIN),
    call: () => ({ url: '/api/v1/sites', body: { name: 'Matrix', kind: 'family_bed', timezone: 'Asia/Shanghai' } }),
  },
  'GET /api/v1/sites': { scoped: false, allow: own(LOGGED_IN), call: () => ({ url: '/api/v1/sites' }) },
  'GET /api/v1/sites/:id': { scoped: true, allow: own(STAFF, ALL_SITES), call: (s) => ({ url: `/api/v1/sites/${site(s)}` }) },
  'POST /api/v1/residents': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: '/api/v1/residents', body: { siteId: site(s), name: 'Matrix', room: '9' } }),
  },
  'GET /api/v1/residents': {
    scoped: true,
    allow: everywhere(LOGGED_IN),
    call: (s) => ({ url: s === 'own' ? '/api/v1/residents' : `/api/v1/residents?siteId=${site(s)}` }),
  },
  'GET /api/v1/residents/:id': {
    scoped: true,
    allow: own(SEE_RESIDENTS, ALL_SITES),
    call: (s) => ({ url: `/api/v1/residents/${fx[s].site.residentId}` }),
  },
  'PUT /api/v1/residents/:id/settings': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: `/api/v1/residents/${fx[s].site.residentId}/settings`, body: { wanderRisk: false } }),
  },
  'POST /api/v1/gateways': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: '/api/v1/gateways', body: { siteId: site(s), name: 'Matrix' } }),
  },
  'POST /api/v1/gateways/:id/secret': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: async (s) => ({ url: `/api/v1/gateways/${await fresh.gateway(s)}/secret` }),
  },
  'DELETE /api/v1/gateways/:id/secret': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: async (s) => ({ url: `/api/v1/gateways/${await fresh.gateway(s)}/secret` }),
  },
  'GET /api/v1/gateways': { scoped: false, allow: own(LOGGED_IN), call: () => ({ url: '/api/v1/gateways' }) },
  'GET /api/v1/gateways/:id': {
    scoped: true,
    allow: own(STAFF, ALL_SITES),
    call: (s) => ({ url: `/api/v1/gateways/${fx[s].site.gatewayId}` }),
  },
  'POST /api/v1/devices': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: '/api/v1/devices', body: { id: unique(`mx-dev-${s}`), gatewayId: fx[s].site.gatewayId, kind: 'door_sensor' } }),
  },
  'GET /api/v1/devices': {
    scoped: true,
    allow: everywhere(LOGGED_IN),
    call: (s) => ({ url: s === 'own' ? '/api/v1/devices' : `/api/v1/devices?gatewayId=${fx[s].site.gatewayId}` }),
  },
  'POST /api/v1/devices/:id/test': {
    scoped: true,
    allow: own(STAFF, ALL_SITES),
    call: (s) => ({ url: `/api/v1/devices/${fx[s].deviceId}/test`, body: { windowSeconds: 60 } }),
  },
  'GET /api/v1/devices/:id/tests': {
    scoped: true,
    allow: own(STAFF, ALL_SITES),
    call: (s) => ({ url: `/api/v1/devices/${fx[s].deviceId}/tests` }),
  },
  'GET /api/v1/devices/:id': { scoped: true, allow: own(STAFF, ALL_SITES), call: (s) => ({ url: `/api/v1/devices/${fx[s].deviceId}` }) },
  'POST /api/v1/users': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({
      url: '/api/v1/users',
      body: { username: unique(`mx-new-${s}`), password: PASSWORD, role: 'caregiver', siteId: site(s) },
    }),
  },
  'GET /api/v1/users': { scoped: false, allow: own(ADMIN), call: () => ({ url: '/api/v1/users' }) },
  // The body schemas the dashboard's forms are drawn from: what a request looks like, no one's data.
  'GET /api/v1/schemas': { scoped: false, allow: own(LOGGED_IN), call: () => ({ url: '/api/v1/schemas' }) },
  // Edits: administrators only, like the registry's creates.
  'PATCH /api/v1/sites/:id': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: `/api/v1/sites/${site(s)}`, body: { name: 'Test home' } }),
  },
  'PATCH /api/v1/residents/:id': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: async (s) => ({ url: `/api/v1/residents/${await fresh.resident(s)}`, body: { room: '10' } }),
  },
  'PATCH /api/v1/devices/:id': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: `/api/v1/devices/${fx[s].deviceId}`, body: { supervisionSeconds: null } }),
  },
  'PATCH /api/v1/users/:id': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: async (s) => ({ url: `/api/v1/users/${await fresh.user(s)}`, body: { displayName: 'Matrix' } }),
  },
  'GET /api/v1/sites/:id/supervision': {
    scoped: true,
    allow: own(STAFF, ALL_SITES),
    call: (s) => ({ url: `/api/v1/sites/${site(s)}/supervision` }),
  },
  'PUT /api/v1/sites/:id/supervision': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: `/api/v1/sites/${site(s)}/supervision`, body: { commissioningGraceMinutes: null } }),
  },

  // Escalation, audit and the notification outbox
  'PUT /api/v1/sites/:id/escalation': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: `/api/v1/sites/${site(s)}/escalation`, body: policyFor(s) }),
  },
  'GET /api/v1/sites/:id/escalation': {
    scoped: true,
    allow: own(STAFF, ALL_SITES),
    call: (s) => ({ url: `/api/v1/sites/${site(s)}/escalation` }),
  },
  'PUT /api/v1/sites/:id/test-schedule': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: `/api/v1/sites/${site(s)}/test-schedule`, body: { weekday: 2, time: '10:00' } }),
  },
  'GET /api/v1/sites/:id/test-schedule': {
    scoped: true,
    allow: own(STAFF, ALL_SITES),
    call: (s) => ({ url: `/api/v1/sites/${site(s)}/test-schedule` }),
  },
  'GET /api/v1/audit': { scoped: false, allow: own(ADMIN), call: () => ({ url: '/api/v1/audit?limit=50' }) },
  'GET /api/v1/notifications': { scoped: false, allow: own(ADMIN), call: () => ({ url: '/api/v1/notifications' }) },
  'POST /api/v1/notifications/:id/receipt': {
    scoped: true,
    allow: own(STAFF, ALL_SITES),
    call: (s) => ({ url: `/api/v1/notifications/${fx[s].notificationId}/receipt`, body: { status: 'seen' } }),
  },
  'POST /api/v1/notifications/:id/delivered': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: `/api/v1/notifications/${fresh.queued(s)}/delivered` }),
  },

  // Privacy
  'GET /api/v1/residents/:id/export': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: `/api/v1/residents/${fx[s].site.residentId}/export` }),
  },
  'DELETE /api/v1/residents/:id': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: async (s) => ({ url: `/api/v1/residents/${await fresh.resident(s)}` }),
  },
  // Last known room of the residents the caller may see (the overview): scoped by filtering.
  'GET /api/v1/whereabouts': { scoped: false, allow: own(LOGGED_IN), call: () => ({ url: '/api/v1/whereabouts' }) },
  'GET /api/v1/residents/:id/sleep': {
    scoped: true,
    allow: own(SEE_RESIDENTS, ALL_SITES),
    call: (s) => ({ url: `/api/v1/residents/${fx[s].site.residentId}/sleep` }),
  },
  'GET /api/v1/residents/:id/telemetry': {
    scoped: true,
    allow: own(SEE_RESIDENTS, ALL_SITES),
    call: (s) => ({ url: `/api/v1/residents/${fx[s].site.residentId}/telemetry` }),
  },

  // Shifts: administrators and nurse leads plan their own site's.
  'POST /api/v1/shifts': {
    scoped: true,
    allow: own(['admin', 'nurse_lead'], ADMIN),
    call: (s) => ({
      url: '/api/v1/shifts',
      body: { siteId: site(s), userId: userIds.caregiver_all_sites, start: '2026-11-24T00:00:00.000Z', end: '2026-11-24T08:00:00.000Z' },
    }),
  },
  'GET /api/v1/shifts': {
    scoped: true,
    allow: everywhere(LOGGED_IN),
    call: (s) => ({ url: s === 'own' ? '/api/v1/shifts' : `/api/v1/shifts?siteId=${site(s)}` }),
  },
  'DELETE /api/v1/shifts/:id': {
    scoped: true,
    allow: own(['admin', 'nurse_lead'], ADMIN),
    call: async (s) => ({ url: `/api/v1/shifts/${await fresh.shift(s)}` }),
  },

  // Homes in the community (areas.ts): the tree, a home's place and contacts, the centre's board.
  'POST /api/v1/areas': {
    scoped: false,
    allow: own(ADMIN),
    call: () => ({ url: '/api/v1/areas', body: { kind: 'district', name: unique('Matrix district') } }),
  },
  'GET /api/v1/areas': { scoped: false, allow: own(LOGGED_IN), call: () => ({ url: '/api/v1/areas' }) },
  'GET /api/v1/areas/:id': { scoped: true, allow: own(CENTRE, ADMIN), call: (s) => ({ url: `/api/v1/areas/${areaOf[s]}` }) },
  'PATCH /api/v1/areas/:id': {
    scoped: true,
    allow: everywhere(ADMIN),
    call: (s) => ({ url: `/api/v1/areas/${areaOf[s]}`, body: { name: `Matrix community ${s}` } }),
  },
  'PUT /api/v1/sites/:id/home': {
    scoped: true,
    allow: own(CENTRE, ADMIN),
    call: (s) => ({ url: `/api/v1/sites/${site(s)}/home`, body: { address: `Matrix road ${s}`, lat: 31.2, lon: 121.4 } }),
  },
  'GET /api/v1/residents/:id/contacts': {
    scoped: true,
    allow: own(SEE_RESIDENTS, ALL_SITES),
    call: (s) => ({ url: `/api/v1/residents/${fx[s].site.residentId}/contacts` }),
  },
  'PUT /api/v1/residents/:id/contacts': {
    scoped: true,
    allow: own(CENTRE, ADMIN),
    call: (s) => ({ url: `/api/v1/residents/${fx[s].site.residentId}/contacts`, body: { contacts: contactsFor(s) } }),
  },
  'GET /api/v1/centre/board': { scoped: false, allow: own(STAFF), call: () => ({ url: '/api/v1/centre/board' }) },
  'GET /api/v1/grid-workers': { scoped: false, allow: own(CENTRE), call: () => ({ url: '/api/v1/grid-workers' }) },

  // Reports: staff, over the alarms they may see.
  'GET /api/v1/reports/response': {
    scoped: true,
    allow: everywhere(STAFF),
    call: (s) => ({ url: s === 'own' ? '/api/v1/reports/response' : `/api/v1/reports/response?siteId=${site(s)}` }),
  },
};

/** Each site's community in the areas tree (site A's holds the centre operator's view). */
const areaOf = {} as Record<Scope, string>;
const contactsFor = (s: Scope) => [{ name: `Matrix ${s}`, relation: 'daughter', phone: `+86137${s === 'own' ? '1' : '2'}0000009` }];
/** One queued SMS for the receipt row and one per role for `delivered` (a call each). */
const phones = (s: Scope) => Array.from({ length: ROLES.length + 1 }, (_, i) => `+86139${s === 'own' ? '1' : '2'}000000${i}`);
function policyFor(s: Scope) {
  // Site A's second level also names the responder's login: site A's alarms reach them.
  const responder = s === 'own' && userIds.responder ? [{ kind: 'user', target: userIds.responder }] : [];
  return {
    levels: [
      { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
      { name: 'family', timeoutSeconds: 600, contacts: [...phones(s).map((target) => ({ kind: 'sms', target })), ...responder] },
    ],
  };
}

async function raiseCall(site: DemoSite, gw: MqttClient, device: string): Promise<Alarm> {
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: unique(`mx-${device}`), seq: n, ts: clock.iso(), device, type: 'call' }),
    { qos: 1 },
  );
  return waitFor(
    async () => (await admin<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).alarms.find((a) => a.deviceId === device),
    `call from ${device}`,
  );
}

beforeAll(async () => {
  // With the broker's HTTP hooks served, so their routes are in the matrix too.
  server = await startTestServer(undefined, { clock, env: { CARE_BROKER_HOOK_SECRET: 'matrix-hook-secret-0123456789' } });
  const a = await registerSite(server, [{ id: 'mx-btn-a', kind: 'call_button' }]);
  const b = await registerSite(server, [{ id: 'mx-btn-b', kind: 'call_button' }]);
  // A second resident on site A, whom site A's staff may see and resident A's family may not.
  const a2 = await admin<{ id: string }>('POST', '/api/v1/residents', { siteId: a.siteId, name: 'Matrix neighbour', room: '204' });
  await admin('POST', '/api/v1/devices', { id: 'mx-btn-a2', gatewayId: a.gatewayId, kind: 'call_button', residentId: a2.id });
  // The areas tree: site A in a community of one street, site B in another street's; the centre
  // operator answers for site A's street, the grid worker for site A, the responder is in A's chain.
  const district = await admin<{ id: string }>('POST', '/api/v1/areas', { kind: 'district', name: 'Matrix district' });
  for (const [s, siteId] of [
    ['own', a.siteId],
    ['other', b.siteId],
  ] as const) {
    const street = await admin<{ id: string }>('POST', '/api/v1/areas', { kind: 'street', name: `Street ${s}`, parentId: district.id });
    const community = await admin<{ id: string }>('POST', '/api/v1/areas', {
      kind: 'community',
      name: `Community ${s}`,
      parentId: street.id,
    });
    areaOf[s] = community.id;
    if (s === 'own') {
      const made = await admin<{ id: string }>('POST', '/api/v1/users', {
        username: 'mx-centre_operator',
        password: PASSWORD,
        role: 'centre_operator',
        areaId: street.id,
      });
      userIds.centre_operator = made.id;
    }
    await admin('PUT', `/api/v1/sites/${siteId}/home`, { areaId: community.id });
  }
  for (const role of ['grid_worker', 'responder'] as const) {
    const made = await admin<{ id: string }>('POST', '/api/v1/users', { username: `mx-${role}`, password: PASSWORD, role });
    userIds[role] = made.id;
  }
  await admin('PUT', `/api/v1/sites/${a.siteId}/home`, { gridWorkerId: userIds.grid_worker });
  await admin('PUT', `/api/v1/residents/${b.residentId}/contacts`, { contacts: contactsFor('other') });
  await admin('PUT', `/api/v1/sites/${a.siteId}/escalation`, policyFor('own'));
  await admin('PUT', `/api/v1/sites/${b.siteId}/escalation`, policyFor('other'));
  const gwA = await connectAsGateway(server, a);
  const gwB = await connectAsGateway(server, b);
  gateways = [gwA, gwB];
  const alarmA = await raiseCall(a, gwA, 'mx-btn-a');
  const alarmA2 = await raiseCall(a, gwA, 'mx-btn-a2');
  const alarmB = await raiseCall(b, gwB, 'mx-btn-b');
  clock.advance(61_000);
  await server.tick();
  type N = { id: string; alarmId: string; state: string };
  const queued = async (alarmId: string) =>
    (await admin<{ notifications: N[] }>('GET', '/api/v1/notifications?channel=sms')).notifications
      .filter((x) => x.alarmId === alarmId && x.state === 'queued')
      .map((x) => x.id);
  const poolA = await waitFor(async () => ((await queued(alarmA.id)).length === ROLES.length + 1 ? queued(alarmA.id) : null), 'site A sms');
  const poolB = await waitFor(async () => ((await queued(alarmB.id)).length === ROLES.length + 1 ? queued(alarmB.id) : null), 'site B sms');
  fx.own = { site: a, deviceId: 'mx-btn-a', alarmId: alarmA.id, notificationId: poolA[0] as string, queued: poolA.slice(1) };
  fx.other = { site: b, deviceId: 'mx-btn-b', alarmId: alarmB.id, notificationId: poolB[0] as string, queued: poolB.slice(1) };
  for (const s of [b.siteId, b.residentId, b.gatewayId, 'mx-btn-b', alarmB.id, ...poolB, ...phones('other'), areaOf.other])
    otherSite.add(s);
  for (const c of contactsFor('other')) otherSite.add(c.phone);
  for (const s of [a2.id, 'mx-btn-a2', alarmA2.id]) otherResident.add(s);

  const accounts: Array<{ role: Exclude<Role, 'anonymous' | 'admin'>; body: object }> = [
    { role: 'nurse_lead', body: { role: 'nurse_lead', siteId: a.siteId } },
    { role: 'caregiver', body: { role: 'caregiver', siteId: a.siteId } },
    { role: 'caregiver_all_sites', body: { role: 'caregiver' } },
    { role: 'family', body: { role: 'family', residentId: a.residentId } },
  ];
  for (const u of accounts) {
    const made = await admin<{ id: string }>('POST', '/api/v1/users', { username: `mx-${u.role}`, password: PASSWORD, ...u.body });
    userIds[u.role] = made.id;
    tokens[u.role] = await fresh.token(u.role);
  }
  for (const role of ['centre_operator', 'grid_worker', 'responder'] as const) tokens[role] = await fresh.token(role);
  const me = await admin<{ user: { id: string } }>('GET', '/api/v1/auth/me');
  userIds.admin = me.user.id;
  tokens.admin = server.token;
}, 180_000);
afterAll(async () => {
  for (const g of gateways) await g.endAsync();
  await server?.stop();
});

/** A HEAD route is answered by its GET route's handler (Fastify's exposeHeadRoutes). */
const rowKey = (r: { method: string; url: string }, registered: Set<string>) => {
  if (r.method === 'HEAD') {
    const bare = r.url.length > 1 ? r.url.replace(/\/$/, '') : r.url;
    return registered.has(`GET ${r.url}`) ? `GET ${r.url}` : registered.has(`GET ${bare}`) ? `GET ${bare}` : `HEAD ${r.url}`;
  }
  return `${r.method} ${r.url}`;
};

describe('the authorisation matrix', () => {
  it('lists every registered route, and only registered ones', () => {
    const routes = server.httpRoutes();
    const registered = new Set(routes.map((r) => `${r.method} ${r.url}`));
    const keys = new Set(routes.map((r) => rowKey(r, registered)));
    const missing = [...keys].filter((k) => !(k in MATRIX));
    expect(missing, 'routes without a row in the authorisation matrix: add one saying who may call them').toEqual([]);
    const stale = Object.entries(MATRIX)
      .filter(([k]) => !keys.has(k))
      .map(([k]) => k);
    expect(stale, 'rows for routes that are not registered').toEqual([]);
  });

  it("covers every role the API knows (POST /api/v1/users's role enum)", async () => {
    const spec = await admin<{ paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: unknown }> } } }> }>(
      'GET',
      '/docs/json',
    );
    const schema = spec.paths['/api/v1/users']?.post?.requestBody.content['application/json']?.schema as {
      properties: { role: { enum: string[] } };
    };
    for (const role of schema.properties.role.enum) expect(ROLES.some((r) => r === role || r.startsWith(`${role}_`))).toBe(true);
  });

  for (const [key, row] of Object.entries(MATRIX)) {
    it(key, async () => {
      const [method, pattern] = key.split(' ') as [string, string];
      const problems: string[] = [];
      for (const scope of row.scoped ? (['own', 'other'] as const) : (['own'] as const)) {
        for (const role of ROLES) {
          const call = await row.call(scope, role);
          const token = call.token ?? (role === 'anonymous' ? undefined : tokens[role]);
          const allowed = row.allow[scope].includes(role);
          const { status, text } = row.handshake
            ? { status: await handshake(token), text: '' }
            : await request(method, call.url, token, call.body);
          const ok = row.ok ?? [200, 201];
          const where = `${role} on ${scope} site: ${method} ${call.url} answered ${status}`;
          if (allowed && !ok.includes(status)) problems.push(`${where}, expected ${ok.join(' or ')}: ${text.slice(0, 200)}`);
          if (!allowed) {
            const refused = role === 'anonymous' ? [401] : (row.refusedWith ?? [403, 404]);
            if (!refused.includes(status)) problems.push(`${where}, expected a refusal (${refused.join('/')})`);
          }
          if (status < 300 && BOUND.includes(role)) {
            const secret = [...otherSite, ...(role === 'family' ? otherResident : [])];
            const leaked = secret.filter((s) => text.includes(s));
            if (leaked.length > 0) problems.push(`${where} and named what it may not see: ${leaked.join(', ')}`);
          }
        }
      }
      expect(problems, `${pattern}`).toEqual([]);
    });
  }
});
