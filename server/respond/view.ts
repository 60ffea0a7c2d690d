// What a contact holding a response link may see of their alarm: the alarm (no device, gateway or
// other residents' data), the home it is in, where they stand and who else is on it (by name only).
import Type, { type Static } from 'typebox';
import { Alarm } from '../../protocol/index.ts';
import type { Db } from '../storage/registry.ts';
import type { ResponseRecord } from './tokens.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const ResponderState = Type.Enum(['issued', 'accepted', 'declined', 'on_site', 'resolved'] as const);

export const RespondSite = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  /** IANA zone the home's clock times are shown in. */
  timezone: Type.String(),
  address: Nullable(Type.String()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
});
export type RespondSite = Static<typeof RespondSite>;

export const RespondView = Type.Object({
  ...Type.Pick(Alarm, [
    'id',
    'type',
    'priority',
    'state',
    'residentName',
    'room',
    'bed',
    'raisedAt',
    'ackAt',
    'ackBy',
    'onSiteBy',
    'resolvedAt',
    'resolvedBy',
    'outcome',
    'escalationLevel',
  ]).properties,
  site: Nullable(RespondSite),
  /** The contact holding this link. */
  you: Type.Object({ name: Type.String(), state: ResponderState }),
  /** Everyone else sent a link for this alarm, by name, and where they stand. */
  responders: Type.Array(Type.Object({ name: Type.String(), state: ResponderState })),
});
export type RespondView = Static<typeof RespondView>;

/** The home's name, kind and (for a family bed, when set by the areas module) address and position. */
export async function siteForView(db: Db, siteId: string | null): Promise<RespondSite | null> {
  if (!siteId) return null;
  const row = (await db.selectFrom('sites').selectAll().where('id', '=', siteId).executeTakeFirst()) as
    | (Record<string, unknown> & { name: string; kind: string; timezone: string })
    | undefined;
  if (!row) return null;
  const num = (v: unknown) => (v === null || v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));
  return {
    name: row.name,
    kind: row.kind,
    timezone: typeof row.timezone === 'string' && row.timezone ? row.timezone : 'Asia/Shanghai',
    address: typeof row.address === 'string' && row.address ? row.address : null,
    lat: num(row.lat),
    lon: num(row.lon),
  };
}

export function buildView(alarm: Alarm, site: RespondSite | null, me: ResponseRecord, everyone: ResponseRecord[]): RespondView {
  const key = (r: ResponseRecord) => `${r.contact.kind}:${r.contact.target}`;
  const mine = key(me);
  // One line per other contact, their latest word (a re-page issues a second link to the same person).
  const latest = new Map<string, ResponseRecord>();
  for (const r of everyone) {
    if (key(r) === mine) continue;
    const prev = latest.get(key(r));
    const at = (x: ResponseRecord) => x.actedAt ?? x.createdAt;
    if (!prev || (prev.state === 'issued' && r.state !== 'issued') || (r.state !== 'issued' && at(r) >= at(prev))) latest.set(key(r), r);
  }
  return {
    id: alarm.id,
    type: alarm.type,
    priority: alarm.priority,
    state: alarm.state,
    residentName: alarm.residentName,
    room: alarm.room,
    bed: alarm.bed,
    raisedAt: alarm.raisedAt,
    ackAt: alarm.ackAt,
    ackBy: alarm.ackBy,
    onSiteBy: alarm.onSiteBy,
    resolvedAt: alarm.resolvedAt,
    resolvedBy: alarm.resolvedBy,
    outcome: alarm.outcome,
    escalationLevel: alarm.escalationLevel,
    site,
    you: { name: me.contact.name, state: me.state },
    responders: [...latest.values()].map((r) => ({ name: r.contact.name, state: r.state })),
  };
}
