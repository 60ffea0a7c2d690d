// What the centre's pages (areas, homes, contacts) read and share: the areas tree built from the
// flat list GET /api/v1/areas answers, an area's path and subtree, the grid workers to choose
// from, and an error line that says plainly when the server refused (403).
import type { Area, GridWorkers } from '../../../../protocol/areas.ts';
import { ApiError } from '../../api.ts';
import type { MessageKey, Params } from '../../lib/i18n.ts';
import type { Site } from '../api-types.ts';
import { useSession } from '../context.ts';
import { useLoad } from '../hooks.ts';

export type { Area };
export interface AreaNode extends Area {
  children: AreaNode[];
}

/** What kind of area goes under each kind (as the server checks it). */
export const CHILD_KIND = { district: 'street', street: 'community', community: null } as const;

/** The tree: roots are the areas whose parent is not in the list (a centre operator sees their subtree only). */
export function areaTree(areas: Area[]): AreaNode[] {
  const nodes = new Map(areas.map((a) => [a.id, { ...a, children: [] as AreaNode[] }]));
  const roots: AreaNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.parentId ? nodes.get(n.parentId) : undefined;
    if (parent) parent.children.push(n);
    else roots.push(n);
  }
  const sort = (list: AreaNode[]) => {
    list.sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** The ids of an area and everything under it. */
export function subtreeIds(areas: Area[], id: string): Set<string> {
  const out = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const a of areas)
      if (a.parentId && out.has(a.parentId) && !out.has(a.id)) {
        out.add(a.id);
        grew = true;
      }
  }
  return out;
}

/** "District / Street / Community" for an area, from the top of what the caller sees. */
export function areaPath(areas: Area[], id: string | null | undefined): string {
  const byId = new Map(areas.map((a) => [a.id, a]));
  const names: string[] = [];
  let at = id ? byId.get(id) : undefined;
  for (let guard = 0; at && guard < 10; guard++) {
    names.unshift(at.name);
    at = at.parentId ? byId.get(at.parentId) : undefined;
  }
  return names.join(' / ');
}

/** Areas in tree order with their depth, for a select. */
export function areaOptions(areas: Area[]): Array<{ area: Area; depth: number }> {
  const out: Array<{ area: Area; depth: number }> = [];
  const walk = (list: AreaNode[], depth: number) => {
    for (const n of list) {
      out.push({ area: n, depth });
      walk(n.children, depth + 1);
    }
  };
  walk(areaTree(areas), 0);
  return out;
}

export function useAreas() {
  const { api } = useSession();
  return useLoad(async () => (await api.get<{ areas: Area[] }>('/areas')).areas, [api]);
}

/** Family care beds the caller can see (GET /api/v1/sites carries each site's area and place). */
export function useHomes() {
  const { api } = useSession();
  return useLoad(async () => (await api.get<{ sites: Site[] }>('/sites')).sites.filter((s) => s.kind === 'family_bed'), [api]);
}

export type GridWorker = GridWorkers['gridWorkers'][number];

/**
 * The grid workers to choose from (GET /api/v1/grid-workers: administrators and centre operators).
 * null: the list is not the caller's to read, so the page keeps a home's grid worker as it is.
 */
export function useGridWorkers() {
  const { api } = useSession();
  return useLoad(async (): Promise<GridWorker[] | null> => {
    try {
      return (await api.get<GridWorkers>('/grid-workers')).gridWorkers;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return null;
      throw err;
    }
  }, [api]);
}

export const personName = (u: GridWorker) => (u.displayName ? `${u.displayName} (${u.username})` : u.username);

/** An error line: a refusal (403) says so in words, anything else gives the server's message. */
export function refusalText(t: (k: MessageKey, p?: Params) => string, err: unknown): string {
  if (err instanceof ApiError && err.status === 403) return t('areas.forbidden', { message: err.message });
  return t('admin.error', { message: err instanceof Error ? err.message : String(err) });
}
