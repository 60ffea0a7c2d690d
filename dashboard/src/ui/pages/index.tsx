// The administration pages for the response chain and its records, each at #/admin/<id>; Admin.tsx
// lists them in its row of links after the registry's pages.
import type { FunctionComponent } from 'preact';
import type { MessageKey } from '../../lib/i18n.ts';
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
