// A small client of the server's REST API (DESIGN.md 3.5) for the scenario runner's alarm checks
// and the load generator's registration. Failures carry the route, the status and the server's
// message, so an installer sees what was refused.
import type { Alarm } from '../protocol/index.ts';
import { SimFailure } from './cli.ts';

export interface ApiClient {
  request<T>(method: string, route: string, body?: unknown): Promise<T>;
  alarms(state?: 'active' | 'acknowledged' | 'resolved'): Promise<Alarm[]>;
  createSite(name: string, kind: 'nursing_home' | 'family_bed'): Promise<{ id: string; timezone: string }>;
  createGateway(siteId: string, name: string): Promise<{ id: string; secret: string }>;
  createDevice(d: { id: string; gatewayId: string; kind: string; residentId?: string }): Promise<{ id: string }>;
  site(id: string): Promise<{ id: string; timezone: string }>;
}

export async function loginApi(baseUrl: string, username: string, password: string): Promise<ApiClient> {
  const base = baseUrl.replace(/\/+$/, '');
  const call = async <T>(method: string, route: string, body?: unknown, token?: string): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${base}${route}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new SimFailure(`cannot reach the API at ${base}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {}
      throw new SimFailure(`${method} ${route} answered ${res.status}: ${message}`);
    }
    return (text ? JSON.parse(text) : null) as T;
  };
  const { token } = await call<{ token: string }>('POST', '/api/v1/auth/login', { username, password }).catch((err: Error) => {
    throw new SimFailure(`login as ${username} failed: ${err.message}`);
  });
  const request = <T>(method: string, route: string, body?: unknown) => call<T>(method, route, body, token);
  return {
    request,
    alarms: async (state) => (await request<{ alarms: Alarm[] }>('GET', `/api/v1/alarms${state ? `?state=${state}` : ''}`)).alarms,
    createSite: (name, kind) => request('POST', '/api/v1/sites', { name, kind }),
    createGateway: (siteId, name) => request('POST', '/api/v1/gateways', { siteId, name }),
    createDevice: (d) => request('POST', '/api/v1/devices', d),
    site: (id) => request('GET', `/api/v1/sites/${encodeURIComponent(id)}`),
  };
}
