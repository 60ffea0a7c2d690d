// Administration (role admin), at #/admin/<section>: one row of links to every page (the registry,
// users, gateways, first-run setup, the areas and homes, and the response chain's pages in pages/), then that page.
// #/admin alone opens the registry, or the first-run setup while no site exists.
import type { FunctionComponent } from 'preact';
import type { MessageKey } from '../lib/i18n.ts';
import { parseRoute } from '../lib/route.ts';
import { GatewaysPage } from './admin/GatewaysPage.tsx';
import { RegistryPage } from './admin/RegistryPage.tsx';
import { SetupPage } from './admin/SetupPage.tsx';
import { UsersPage } from './admin/UsersPage.tsx';
import { AreasPage } from './centre/AreasPage.tsx';
import { HomesPage } from './centre/HomesPage.tsx';
import { useI18n, useSession } from './context.ts';
import { useLoad } from './hooks.ts';
import { RESPONSE_PAGES } from './pages/index.tsx';

export const REGISTRY_PAGES: ReadonlyArray<{ id: string; title: MessageKey; Page: FunctionComponent }> = [
  { id: 'registry', title: 'nav.registry', Page: RegistryPage },
  { id: 'users', title: 'nav.users', Page: UsersPage },
  { id: 'gateways', title: 'nav.gateways', Page: GatewaysPage },
  { id: 'setup', title: 'nav.setup', Page: SetupPage },
  // The centre's pages (centre/), also at #/centre/areas and #/centre/homes for centre operators.
  { id: 'areas', title: 'nav.areas', Page: () => <AreasPage base="admin" /> },
  { id: 'homes', title: 'nav.homes', Page: () => <HomesPage base="admin" areaId={routeId()} /> },
];
/** The id in #/admin/<section>/<id> (the homes page's area). */
const routeId = () => {
  const r = parseRoute(location.hash);
  return r.page === 'admin' ? r.id : undefined;
};
const ALL_PAGES = [...REGISTRY_PAGES, ...RESPONSE_PAGES];

export function Admin(props: { section?: string }) {
  const { t } = useI18n();
  const { api } = useSession();
  // Which page #/admin alone opens: the setup on a fresh install, else the registry.
  const sites = useLoad(async () => (await api.get<{ sites: unknown[] }>('/sites')).sites.length, [api, props.section === undefined]);
  const current = props.section ?? (sites.data === 0 ? 'setup' : 'registry');
  const Page = ALL_PAGES.find((p) => p.id === current)?.Page;
  return (
    <>
      <nav class="admin-nav" aria-label={t('nav.admin')} data-testid="admin-nav">
        {REGISTRY_PAGES.map((p) => (
          <NavLink key={p.id} id={p.id} title={t(p.title)} current={current} />
        ))}
        {/* The response chain's pages (pages/), a group of their own. */}
        <span class="admin-nav-group" data-testid="response-nav">
          {RESPONSE_PAGES.map((p) => (
            <NavLink key={p.id} id={p.id} title={t(p.title)} current={current} />
          ))}
        </span>
      </nav>
      {props.section === undefined && sites.data === null ? (
        <p class="muted" aria-busy="true">
          {t('app.loading')}
        </p>
      ) : Page ? (
        <Page />
      ) : (
        <p class="empty">{t('admin.no_such_page')}</p>
      )}
    </>
  );
}

function NavLink(props: { id: string; title: string; current: string }) {
  return (
    <a
      href={`#/admin/${props.id}`}
      class="btn btn-quiet"
      aria-current={props.current === props.id ? 'page' : undefined}
      data-testid={`nav-${props.id}`}
    >
      {props.title}
    </a>
  );
}
