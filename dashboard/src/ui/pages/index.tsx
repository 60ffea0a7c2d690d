// The administration pages for the response chain and its records, each at #/admin/<id>, and the
// row of links between them shown above every administration page.
import type { FunctionComponent } from 'preact';
import type { MessageKey } from '../../lib/i18n.ts';
import { useI18n } from '../context.ts';
import { AuditPage } from './AuditPage.tsx';
import { DeviceTestsPage } from './DeviceTestsPage.tsx';
import { EscalationPage } from './EscalationPage.tsx';
import { LimitsPage } from './LimitsPage.tsx';
import { NotificationsPage } from './NotificationsPage.tsx';
import { PrivacyPage } from './PrivacyPage.tsx';
import { ReportPage } from './ReportPage.tsx';
import { ShiftsPage } from './ShiftsPage.tsx';
import { SupervisionPage } from './SupervisionPage.tsx';

export const RESPONSE_PAGES: ReadonlyArray<{ id: string; title: MessageKey; Page: FunctionComponent }> = [
  { id: 'escalation', title: 'nav.escalation', Page: EscalationPage },
  { id: 'shifts', title: 'nav.shifts', Page: ShiftsPage },
  { id: 'tests', title: 'nav.tests', Page: DeviceTestsPage },
  { id: 'report', title: 'nav.report', Page: ReportPage },
  { id: 'notifications', title: 'nav.notifications', Page: NotificationsPage },
  { id: 'audit', title: 'nav.audit', Page: AuditPage },
  { id: 'limits', title: 'nav.limits', Page: LimitsPage },
  { id: 'supervision', title: 'nav.supervision', Page: SupervisionPage },
  { id: 'privacy', title: 'nav.privacy', Page: PrivacyPage },
];

/** The page for `#/admin/<section>`, or null when the section is not one of these. */
export function responsePage(section: string | undefined): FunctionComponent | null {
  return RESPONSE_PAGES.find((p) => p.id === section)?.Page ?? null;
}

export function ResponsePagesNav(props: { current: string | undefined }) {
  const { t } = useI18n();
  return (
    <nav class="admin-nav response-nav" aria-label={t('nav.response_pages')} data-testid="response-nav">
      {RESPONSE_PAGES.map((p) => (
        <a
          href={`#/admin/${p.id}`}
          key={p.id}
          class="btn btn-quiet"
          aria-current={props.current === p.id ? 'page' : undefined}
          data-testid={`nav-${p.id}`}
        >
          {t(p.title)}
        </a>
      ))}
    </nav>
  );
}
