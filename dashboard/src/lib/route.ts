// Hash routes (#/board, #/overview, #/resident/<id>, #/admin, #/admin/<section>): parsing and building, no DOM.

export type Route =
  | { page: 'board' }
  | { page: 'overview' }
  /** The community centre's board: family care beds on a list and a map. */
  | { page: 'centre' }
  | { page: 'resident'; id: string }
  /** `section`: one administration page (#/admin/escalation); none: the registry. */
  | { page: 'admin'; section?: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'overview') return { page: 'overview' };
  if (parts[0] === 'centre') return { page: 'centre' };
  if (parts[0] === 'admin') return parts[1] ? { page: 'admin', section: decodeURIComponent(parts[1]) } : { page: 'admin' };
  if (parts[0] === 'resident' && parts[1]) return { page: 'resident', id: decodeURIComponent(parts[1]) };
  return { page: 'board' };
}

export function routeHash(r: Route): string {
  if (r.page === 'resident') return `#/resident/${encodeURIComponent(r.id)}`;
  if (r.page === 'admin' && r.section) return `#/admin/${encodeURIComponent(r.section)}`;
  return `#/${r.page}`;
}
