// Response links (DESIGN.md 3.9): every message to a person carries `{CARE_PUBLIC_URL}/r/{token}`.
// A token is one alarm and one contact, URL-safe, 192 random bits from the system's CSPRNG; only its
// SHA-256 is stored, so a copy of the database does not hand out working links. It dies after 24 h
// or when its alarm is resolved (then `lookup` answers null, as for a token never issued).
import { createHash, randomBytes } from 'node:crypto';
import Type, { type Static } from 'typebox';
import type { Db } from '../storage/registry.ts';
import type { ResponseTokensTable } from '../storage/tables.ts';

export const TOKEN_TTL_MS = 24 * 60 * 60_000;
/** What a token looks like; anything else is unknown without touching the database. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{22,64}$/;

export const ContactKind = Type.Enum(['user', 'sms', 'push', 'webhook'] as const);
export const ResponseContact = Type.Object({
  kind: ContactKind,
  /** A phone number (E.164), a user id, a push endpoint: who the message went to. */
  target: Type.String({ minLength: 1, maxLength: 500 }),
  /** How the page and the audit name them (`ackBy`); the number when no name is known. */
  name: Type.String({ minLength: 1, maxLength: 200 }),
});
export type ResponseContact = Static<typeof ResponseContact>;

/** Where a contact stands with the alarm, as they told us through the link. */
export type ResponseState = ResponseTokensTable['state'];

export interface ResponseRecord {
  alarmId: string;
  level: number;
  /** The contact's position in its level, when the chain knows it (decline pages the next one). */
  contactIndex: number | null;
  contact: ResponseContact;
  state: ResponseState;
  createdAt: string;
  expiresAt: string;
  actedAt: string | null;
  /** The SHA-256 (hex) the row is kept under: an id for this link that is safe to log and audit. */
  hash: string;
}

export interface IssueRequest {
  alarmId: string;
  level: number;
  contact: ResponseContact;
  contactIndex?: number;
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * `CARE_PUBLIC_URL` (the address people's phones reach the server at), or null when unset (the
 * server then links to its own http URL). A bad value is an error naming the key.
 */
export function parsePublicUrl(env: Record<string, string | undefined>): string | null {
  const raw = env.CARE_PUBLIC_URL?.trim();
  if (!raw) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error('CARE_PUBLIC_URL: not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('CARE_PUBLIC_URL: must be http:// or https://');
  if (u.search || u.hash || u.username || u.password) throw new Error('CARE_PUBLIC_URL: no query, fragment or credentials');
  return u.toString().replace(/\/+$/, '');
}

function toRecord(r: ResponseTokensTable): ResponseRecord {
  return {
    alarmId: r.alarm_id,
    level: Number(r.level),
    contactIndex: r.contact_index === null ? null : Number(r.contact_index),
    contact: { kind: r.contact_kind as ResponseContact['kind'], target: r.contact_target, name: r.contact_name },
    state: r.state,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    actedAt: r.acted_at,
    hash: r.token_hash,
  };
}

export function createResponseTokens(db: Db, opts: { publicUrl: string | (() => string); now: () => string; ttlMs?: number }) {
  /** Read at each issue: the server's own URL is known only once it listens. */
  const base = () => (typeof opts.publicUrl === 'string' ? opts.publicUrl : opts.publicUrl()).replace(/\/+$/, '');
  const ttl = opts.ttlMs ?? TOKEN_TTL_MS;

  async function live(token: string): Promise<ResponseTokensTable | null> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return null;
    const row = await db
      .selectFrom('response_tokens')
      .innerJoin('alarms', 'alarms.id', 'response_tokens.alarm_id')
      .selectAll('response_tokens')
      .select('alarms.state as alarm_state')
      .where('response_tokens.token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (!row || row.alarm_state === 'resolved' || row.revoked_at !== null) return null;
    if (Date.parse(row.expires_at) <= Date.parse(opts.now())) return null;
    const { alarm_state: _, ...rest } = row;
    return rest;
  }

  return {
    /** A new link for one contact of one alarm; the token itself is returned once and never stored. */
    async issue(req: IssueRequest): Promise<{ token: string; url: string }> {
      const token = randomBytes(24).toString('base64url');
      const created = opts.now();
      await db
        .insertInto('response_tokens')
        .values({
          token_hash: hashToken(token),
          alarm_id: req.alarmId,
          level: req.level,
          contact_index: req.contactIndex ?? null,
          contact_kind: req.contact.kind,
          contact_target: req.contact.target,
          contact_name: req.contact.name,
          state: 'issued',
          created_at: created,
          expires_at: new Date(Date.parse(created) + ttl).toISOString(),
          acted_at: null,
          revoked_at: null,
        })
        .execute();
      return { token, url: `${base()}/r/${token}` };
    },
    /** The token's record; null when unknown, expired, revoked or its alarm resolved. */
    async lookup(token: string): Promise<ResponseRecord | null> {
      const row = await live(token);
      return row ? toRecord(row) : null;
    },
    /**
     * Records what the contact did through the link (the caller checked the link was live and
     * changes the alarm itself; after a resolve the link is dead, and this still records it).
     */
    async setState(token: string, state: ResponseState): Promise<ResponseRecord | null> {
      if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return null;
      const row = await db.selectFrom('response_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
      if (!row) return null;
      const at = opts.now();
      await db.updateTable('response_tokens').set({ state, acted_at: at }).where('token_hash', '=', row.token_hash).execute();
      return toRecord({ ...row, state, acted_at: at });
    },
    /** Everyone holding a link to this alarm and where they stand (for "who else is on it"). */
    async forAlarm(alarmId: string): Promise<ResponseRecord[]> {
      const rows = await db
        .selectFrom('response_tokens')
        .selectAll()
        .where('alarm_id', '=', alarmId)
        .orderBy('created_at')
        .limit(200)
        .execute();
      return rows.map(toRecord);
    },
    /** Kills every link to an alarm (it was resolved, or withdrawn); returns how many were live. */
    async revokeForAlarm(alarmId: string): Promise<number> {
      const r = await db
        .updateTable('response_tokens')
        .set({ revoked_at: opts.now() })
        .where('alarm_id', '=', alarmId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    /** Deletes rows expired for a day (they answer null already); keeps the table bounded. */
    async purgeExpired(limit = 1000): Promise<number> {
      const before = new Date(Date.parse(opts.now()) - ttl).toISOString();
      const old = await db.selectFrom('response_tokens').select('token_hash').where('expires_at', '<', before).limit(limit).execute();
      if (old.length === 0) return 0;
      const r = await db
        .deleteFrom('response_tokens')
        .where(
          'token_hash',
          'in',
          old.map((o) => o.token_hash),
        )
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
export type ResponseTokens = ReturnType<typeof createResponseTokens>;
