// Hash routes (#/board, #/overview, #/resident/<id>, #/admin): parsing and building, no DOM.

export type Route = { page: 'board' } | { page: 'overview' } | { page: 'resident'; id: string } | { page: 'admin' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'overview') return { page: 'overview' };
  if (parts[0] === 'admin') return { page: 'admin' };
  if (parts[0] === 'resident' && parts[1]) return { page: 'resident', id: decodeURIComponent(parts[1]) };
  return { page: 'board' };
}

export function routeHash(r: Route): string {
  return r.page === 'resident' ? `#/resident/${encodeURIComponent(r.id)}` : `#/${r.page}`;
}
