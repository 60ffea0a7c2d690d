// Writes the message one person gets for one alarm: issues their response link (one token per
// alarm, level, contact and page, server/respond/tokens.ts), reads who and where from the registry,
// and composes the words (message.ts). Called once when the notification row is created; retries
// send the stored message, so a retry never issues a second link.
import type { Alarm } from '../../protocol/index.ts';
import type { Contact } from '../alarms/escalation-policy.ts';
import type { IssueRequest } from '../respond/tokens.ts';
import type { Db } from '../storage/registry.ts';
import { composeMessage, type PersonMessage } from './message.ts';
import { findContactUser } from './person.ts';

export interface LinkIssuer {
  issue(req: IssueRequest): Promise<{ token: string; url: string }>;
}

export const PERSON_KINDS = new Set(['user', 'sms', 'push']);

export function createMessageComposer(deps: { db: Db; links: LinkIssuer; language: 'zh-CN' | 'en' }) {
  const { db } = deps;

  /** How the response page and `ackBy` name the contact: a user's name, a phone number, a browser's owner. */
  async function nameOf(c: Contact): Promise<string> {
    if (c.kind === 'user') {
      const u = await findContactUser(db, c.target);
      return (u?.display_name || u?.username || c.target).slice(0, 200);
    }
    if (c.kind === 'push') {
      const sub = await db.selectFrom('push_subscriptions').select('user_id').where('id', '=', c.target).executeTakeFirst();
      const u = sub ? await findContactUser(db, sub.user_id) : undefined;
      return (u?.display_name || u?.username || 'push').slice(0, 200);
    }
    return c.target.slice(0, 200);
  }

  return {
    async compose(alarm: Alarm, level: number, c: Contact, index: number, notice: boolean): Promise<PersonMessage> {
      const resident = alarm.residentId
        ? await db.selectFrom('residents').select(['name', 'room']).where('id', '=', alarm.residentId).executeTakeFirst()
        : undefined;
      const site = alarm.siteId ? await db.selectFrom('sites').selectAll().where('id', '=', alarm.siteId).executeTakeFirst() : undefined;
      const link = await deps.links.issue({
        alarmId: alarm.id,
        level,
        contactIndex: index,
        contact: { kind: c.kind as 'user' | 'sms' | 'push', target: c.target, name: await nameOf(c) },
      });
      const m = composeMessage(
        alarm,
        {
          residentName: resident?.name ?? null,
          siteName: site?.name ?? null,
          address: site?.address ?? null,
          room: alarm.room ?? resident?.room ?? null,
          timeZone: site?.timezone,
        },
        link,
        deps.language,
      );
      if (notice) {
        // The contact's cap is reached with this one: say so, or silence would look like calm.
        const more =
          deps.language === 'zh-CN' ? '（报警较多，后续暂停发送，请看值班屏幕）' : ' (More alarms are held back; see the screens.)';
        m.text += more;
      }
      return m;
    },
  };
}
export type MessageComposer = ReturnType<typeof createMessageComposer>;
