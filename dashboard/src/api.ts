// REST calls to /api/v1 with the session's bearer token. A 401 means the session is gone: the
// caller is told once (it signs out) and the call fails.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  /** Changes the named properties only (the edit routes). */
  patch<T>(path: string, body: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
  /** The body as text (a CSV download), same errors as the others. */
  text(path: string): Promise<string>;
}

export async function login(username: string, password: string): Promise<unknown> {
  return request('POST', '/api/v1/auth/login', null, { username, password });
}

/** Revokes the token: REST and the live feed refuse it from then on. */
export async function logout(token: string): Promise<void> {
  await request('POST', '/api/v1/auth/logout', token);
}

async function request<T>(method: string, path: string, token: string | null, body?: unknown, raw = false): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (raw && res.ok) return text as T;
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, e.error ?? 'ERROR', e.message ?? res.statusText);
  }
  return parsed as T;
}

export function createApi(token: string, onUnauthorized: () => void): Api {
  const call = async <T>(method: string, path: string, body?: unknown, raw = false): Promise<T> => {
    try {
      return await request<T>(method, `/api/v1${path}`, token, body, raw);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) onUnauthorized();
      throw err;
    }
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    put: (path, body) => call('PUT', path, body),
    patch: (path, body) => call('PATCH', path, body),
    del: (path) => call('DELETE', path),
    text: (path) => call<string>('GET', path, undefined, true),
  };
}
