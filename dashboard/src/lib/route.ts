// Hash routes (#/board, #/overview, #/resident/<id>, #/centre, #/centre/<section>[/<id>], #/admin,
// #/admin/<section>[/<id>]): parsing and building, no DOM.

export type Route =
  | { page: 'board' }
  | { page: 'overview' }
  /** The community centre's board: family care beds on a list and a map; `section`: its areas or
   * homes pages (#/centre/homes/<areaId>). */
  | { page: 'centre'; section?: string; id?: string }
  | { page: 'resident'; id: string }
  /** `section`: one administration page (#/admin/escalation); none: the registry. `id`: what it shows (an area). */
  | { page: 'admin'; section?: string; id?: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'overview') return { page: 'overview' };
  if (parts[0] === 'centre' || parts[0] === 'admin') {
    const page = parts[0];
    if (!parts[1]) return { page };
    const section = decodeURIComponent(parts[1]);
    return parts[2] ? { page, section, id: decodeURIComponent(parts[2]) } : { page, section };
  }
  if (parts[0] === 'resident' && parts[1]) return { page: 'resident', id: decodeURIComponent(parts[1]) };
  return { page: 'board' };
}

export function routeHash(r: Route): string {
  if (r.page === 'resident') return `#/resident/${encodeURIComponent(r.id)}`;
  if ((r.page === 'admin' || r.page === 'centre') && r.section)
    return `#/${r.page}/${encodeURIComponent(r.section)}${r.id ? `/${encodeURIComponent(r.id)}` : ''}`;
  return `#/${r.page}`;
}
