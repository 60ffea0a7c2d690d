// The linked-response chain of a site (DESIGN.md 3.8): its levels in order, how long each waits
// per priority before the next is called, and whom each level reaches (a login, a phone number,
// a push subscription, a webhook). The contact kinds and the shortest wait come from the server's
// own body schema (GET /api/v1/schemas), so the page offers what the server accepts.
import { useState } from 'preact/hooks';
import type { User } from '../../../../protocol/api.ts';
import { type MessageKey, translateDynamic } from '../../lib/i18n.ts';
import { useI18n, useSession } from '../context.ts';
import { useBodySchema } from '../forms/ApiForm.tsx';
import type { JsonSchema } from '../forms/schema.ts';
import { useLoad } from '../hooks.ts';
import { Field, SitePage, StatusLine, useAction, val } from './common.tsx';

type Priority = 'high' | 'medium' | 'low';
const PRIORITIES: Priority[] = ['high', 'medium', 'low'];
const ROUTE = 'PUT /api/v1/sites/:id/escalation';

interface Contact {
  kind: string;
  target?: string;
}
export interface Level {
  name: string;
  timeoutSeconds: number | Record<Priority, number>;
  acceptSeconds?: number;
  repages?: number;
  contacts: Contact[];
  [more: string]: unknown;
}
interface PolicyAnswer {
  levels: Level[];
  /** '(set)' when one is stored: the secret itself is never read back. */
  webhookSecret?: string;
  attendSeconds?: number;
  [more: string]: unknown;
}

interface LevelDraft {
  name: string;
  perPriority: boolean;
  all: string;
  high: string;
  medium: string;
  low: string;
  acceptSeconds: string;
  repages: string;
  contacts: Array<{ kind: string; target: string }>;
  /** Properties of the level this page does not edit, sent back as they were. */
  extra: Record<string, unknown>;
}

/** What the server's schema allows: contact kinds and the shortest wait. */
export function chainLimits(schema: JsonSchema | null) {
  const level = schema?.properties?.levels?.items;
  const kinds = level?.properties?.contacts?.items?.properties?.kind?.enum as string[] | undefined;
  const timeout = level?.properties?.timeoutSeconds;
  const min = timeout?.anyOf?.find((s) => s.type === 'integer')?.minimum;
  const secret = schema?.properties?.webhookSecret?.minLength;
  return {
    kinds: kinds ?? ['user', 'sms', 'webhook'],
    minSeconds: min ?? 5,
    secretMin: secret ?? 16,
    // Offered only where the server takes them.
    repages: level?.properties?.repages ?? null,
    attend: schema?.properties?.attendSeconds ?? null,
  };
}

export function draftOf(level: Level): LevelDraft {
  const { name: _n, timeoutSeconds: _t, acceptSeconds: _a, repages: _r, contacts: _c, ...extra } = level;
  const l = level;
  const t = l.timeoutSeconds;
  const per = typeof t === 'number' ? { high: t, medium: t, low: t } : t;
  return {
    name: l.name,
    perPriority: typeof t !== 'number',
    all: String(typeof t === 'number' ? t : t.high),
    high: String(per.high),
    medium: String(per.medium),
    low: String(per.low),
    acceptSeconds: l.acceptSeconds === undefined ? '' : String(l.acceptSeconds),
    repages: l.repages === undefined ? '' : String(l.repages),
    contacts: l.contacts.map((c) => ({ kind: c.kind, target: c.target ?? '' })),
    extra,
  };
}

/** The PUT body, or the first problem found (an i18n key and its parameters). */
export function policyOf(
  levels: LevelDraft[],
  top: { secret: string; attend: string; extra: Record<string, unknown> },
  limits: ReturnType<typeof chainLimits>,
): { body: { levels: Level[]; webhookSecret?: string } } | { problem: [MessageKey, Record<string, string | number>] } {
  const { secret } = top;
  const seconds = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s) : Number.NaN);
  const out: Level[] = [];
  for (const [i, d] of levels.entries()) {
    // Numbered as the page shows them: level 0 is the screens.
    const n = i;
    if (!d.name.trim()) return { problem: ['chain.problem_name', { n }] };
    const times = d.perPriority ? PRIORITIES.map((p) => seconds(d[p])) : [seconds(d.all)];
    if (times.some((x) => !(x >= limits.minSeconds && x <= 86_400)))
      return { problem: ['chain.problem_wait', { n, min: limits.minSeconds }] };
    const accept = d.acceptSeconds.trim() === '' ? undefined : seconds(d.acceptSeconds);
    if (accept !== undefined && !(accept >= 10 && accept <= 3600)) return { problem: ['chain.problem_accept', { n }] };
    const repages = d.repages.trim() === '' ? undefined : seconds(d.repages);
    if (repages !== undefined && !(repages >= 0 && repages <= 5)) return { problem: ['chain.problem_repages', { n }] };
    if (d.contacts.some((c) => !c.target.trim())) return { problem: ['chain.problem_target', { n }] };
    const [high = 0, medium = 0, low = 0] = times;
    out.push({
      ...d.extra,
      name: d.name.trim(),
      timeoutSeconds: d.perPriority ? { high, medium, low } : high,
      ...(accept === undefined ? {} : { acceptSeconds: accept }),
      ...(repages === undefined ? {} : { repages }),
      contacts: d.contacts.map((c) => ({ kind: c.kind, target: c.target.trim() })),
    });
  }
  if (secret && secret.length < limits.secretMin) return { problem: ['chain.problem_secret', { min: limits.secretMin }] };
  const attend = top.attend.trim() === '' ? undefined : seconds(top.attend);
  if (attend !== undefined && !(attend >= 60 && attend <= 86_400)) return { problem: ['chain.problem_attend', {}] };
  return {
    body: {
      ...top.extra,
      levels: out,
      ...(attend === undefined ? {} : { attendSeconds: attend }),
      ...(secret ? { webhookSecret: secret } : {}),
    },
  };
}

export function EscalationPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const schema = useBodySchema(ROUTE);
  const users = useLoad(async () => (await api.get<{ users: User[] }>('/users')).users, [api]);
  return (
    <SitePage
      testid="page-escalation"
      title={t('chain.title')}
      intro={t('chain.intro')}
      load={async (siteId) => ({ siteId, ...(await api.get<PolicyAnswer>(`/sites/${encodeURIComponent(siteId)}/escalation`)) })}
    >
      {(p, siteId, reload) => (
        <ChainEditor
          // A fresh editor for each site; after a save it keeps what was saved.
          key={siteId}
          siteId={siteId}
          policy={p}
          limits={chainLimits(schema.data)}
          users={users.data ?? []}
          onSaved={reload}
        />
      )}
    </SitePage>
  );
}

function ChainEditor(props: {
  siteId: string;
  policy: PolicyAnswer;
  limits: ReturnType<typeof chainLimits>;
  users: User[];
  onSaved: () => void;
}) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const [levels, setLevels] = useState<LevelDraft[]>(() => props.policy.levels.map(draftOf));
  const [secret, setSecret] = useState('');
  const { levels: _l, webhookSecret: _w, attendSeconds, siteId: _s, ...topExtra } = props.policy;
  const [attend, setAttend] = useState(attendSeconds === undefined ? '' : String(attendSeconds));
  const [problem, setProblem] = useState<string | null>(null);
  const save = useAction();
  const secretSet = props.policy.webhookSecret === '(set)';
  const hasWebhook = levels.some((l) => l.contacts.some((c) => c.kind === 'webhook'));

  const setLevel = (i: number, patch: Partial<LevelDraft>) => setLevels(levels.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  const setContact = (i: number, k: number, patch: Partial<{ kind: string; target: string }>) =>
    setLevel(i, { contacts: (levels[i]?.contacts ?? []).map((c, j) => (j === k ? { ...c, ...patch } : c)) });
  const move = (i: number, by: number) => {
    const next = [...levels];
    const [l] = next.splice(i, 1);
    if (l) next.splice(i + by, 0, l);
    setLevels(next);
  };
  const submit = () => {
    const r = policyOf(levels, { secret, attend, extra: topExtra }, props.limits);
    if ('problem' in r) {
      setProblem(t(r.problem[0], r.problem[1]));
      return;
    }
    setProblem(null);
    void save
      .run(() => api.put(`/sites/${encodeURIComponent(props.siteId)}/escalation`, r.body), t('chain.saved'))
      .then((ok) => {
        if (!ok) return;
        setSecret('');
        props.onSaved();
      });
  };

  return (
    <form
      class="chain"
      // The page's own check names the level at fault; the browser's would only point at a field.
      noValidate
      data-testid="chain-editor"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <datalist id="chain-users">
        {props.users.map((u) => (
          <option value={u.username} key={u.id}>
            {u.displayName ?? u.username}
          </option>
        ))}
      </datalist>
      <ol class="chain-levels">
        {levels.map((l, i) => (
          <li class="panel chain-level" data-testid="chain-level" key={i}>
            <div class="panel-head">
              <h2>
                {t('chain.level', { n: i })} · {translateDynamic(lang, `chain.name.${l.name}`, l.name)}
              </h2>
              <span class="row-actions">
                <button type="button" class="btn btn-quiet" disabled={i === 0} onClick={() => move(i, -1)} aria-label={t('chain.up')}>
                  ↑
                </button>
                <button
                  type="button"
                  class="btn btn-quiet"
                  disabled={i === levels.length - 1}
                  onClick={() => move(i, 1)}
                  aria-label={t('chain.down')}
                >
                  ↓
                </button>
                <button
                  type="button"
                  class="btn btn-quiet"
                  disabled={levels.length === 1}
                  onClick={() => setLevels(levels.filter((_, j) => j !== i))}
                  data-testid="chain-remove-level"
                >
                  {t('chain.remove_level')}
                </button>
              </span>
            </div>
            {i === 0 && <p class="muted">{t('chain.level0')}</p>}
            <div class="chain-fields">
              <Field label={t('chain.name')}>
                <input value={l.name} onInput={(e) => setLevel(i, { name: val(e) })} required maxLength={100} data-testid="chain-name" />
              </Field>
              <label class="field field-check">
                <input type="checkbox" checked={l.perPriority} onChange={(e) => setLevel(i, { perPriority: e.currentTarget.checked })} />
                <span>{t('chain.per_priority')}</span>
              </label>
              {l.perPriority ? (
                PRIORITIES.map((p) => (
                  <Field label={t('chain.wait_priority', { priority: translateDynamic(lang, `priority.${p}`, p) })} key={p}>
                    <input
                      type="number"
                      min={props.limits.minSeconds}
                      max={86400}
                      value={l[p]}
                      onInput={(e) => setLevel(i, { [p]: val(e) })}
                      data-testid={`chain-wait-${p}`}
                    />
                  </Field>
                ))
              ) : (
                <Field label={t('chain.wait')}>
                  <input
                    type="number"
                    min={props.limits.minSeconds}
                    max={86400}
                    value={l.all}
                    onInput={(e) => setLevel(i, { all: val(e) })}
                    data-testid="chain-wait"
                  />
                </Field>
              )}
              <Field label={t('chain.accept')} hint={t('chain.accept_hint')}>
                <input type="number" min={10} max={3600} value={l.acceptSeconds} onInput={(e) => setLevel(i, { acceptSeconds: val(e) })} />
              </Field>
              {props.limits.repages && (
                <Field label={t('chain.repages')} hint={t('chain.repages_hint')}>
                  <input type="number" min={0} max={5} value={l.repages} onInput={(e) => setLevel(i, { repages: val(e) })} />
                </Field>
              )}
            </div>
            <h3>{t('chain.contacts')}</h3>
            {l.contacts.length === 0 && <p class="muted">{i === 0 ? t('chain.no_contacts0') : t('chain.no_contacts')}</p>}
            <ul class="chain-contacts">
              {l.contacts.map((c, k) => (
                <li class="chain-contact" data-testid="chain-contact" key={k}>
                  <select value={c.kind} onChange={(e) => setContact(i, k, { kind: val(e) })} aria-label={t('chain.contact_kind')}>
                    {props.limits.kinds.map((kind) => (
                      <option value={kind} key={kind}>
                        {translateDynamic(lang, `chain.kind.${kind}`, kind)}
                      </option>
                    ))}
                  </select>
                  <input
                    value={c.target}
                    onInput={(e) => setContact(i, k, { target: val(e) })}
                    list={c.kind === 'user' ? 'chain-users' : undefined}
                    type={c.kind === 'webhook' ? 'url' : c.kind === 'sms' ? 'tel' : 'text'}
                    placeholder={translateDynamic(lang, `chain.target.${c.kind}`, '')}
                    aria-label={t('chain.target')}
                    maxLength={500}
                    data-testid="chain-target"
                  />
                  <button
                    type="button"
                    class="btn btn-quiet"
                    onClick={() => setLevel(i, { contacts: l.contacts.filter((_, j) => j !== k) })}
                    aria-label={t('chain.remove_contact')}
                  >
                    ✕
                  </button>
                </li>
              ))}
            </ul>
            <button
              type="button"
              class="btn btn-quiet"
              disabled={l.contacts.length >= 50}
              onClick={() => setLevel(i, { contacts: [...l.contacts, { kind: props.limits.kinds[0] ?? 'user', target: '' }] })}
              data-testid="chain-add-contact"
            >
              + {t('chain.add_contact')}
            </button>
          </li>
        ))}
      </ol>
      <button
        type="button"
        class="btn btn-quiet"
        disabled={levels.length >= 10}
        onClick={() => setLevels([...levels, draftOf({ name: '', timeoutSeconds: 300, contacts: [] })])}
        data-testid="chain-add-level"
      >
        + {t('chain.add_level')}
      </button>
      <div class="panel chain-secret">
        {props.limits.attend && (
          <Field label={t('chain.attend')} hint={t('chain.attend_hint')}>
            <input type="number" min={60} max={86400} value={attend} onInput={(e) => setAttend(val(e))} data-testid="chain-attend" />
          </Field>
        )}
        <Field
          label={t('chain.secret')}
          hint={secretSet ? t('chain.secret_kept') : t('chain.secret_hint', { min: props.limits.secretMin })}
        >
          <input
            type="password"
            autoComplete="new-password"
            value={secret}
            onInput={(e) => setSecret(val(e))}
            placeholder={secretSet ? '••••••••' : ''}
            data-testid="chain-secret"
          />
        </Field>
        {hasWebhook && !secretSet && !secret && <p class="error">{t('chain.secret_missing')}</p>}
      </div>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={save.busy} data-testid="chain-save">
          {t('admin.save')}
        </button>
      </div>
      {problem && (
        <p class="error" role="alert" data-testid="chain-problem">
          {problem}
        </p>
      )}
      <StatusLine status={save.status} />
    </form>
  );
}
