// The mobile response page behind `/r/{token}` (DESIGN.md 3.9): what happened, who, where, how long
// ago, who else is on it, and the buttons. Rendered here as plain HTML (every value escaped); the
// buttons are driven by a small static script (`respond.js`), so the page keeps the strict CSP.
import type { Static } from 'typebox';
import { translateDynamic } from '../../dashboard/src/lib/i18n.ts';
import type { RespondView } from './view.ts';

export type PageLang = 'zh-CN' | 'en';

/** zh-CN unless the phone prefers English (Accept-Language, by quality). */
export function pickLang(acceptLanguage: string | undefined): PageLang {
  if (!acceptLanguage) return 'zh-CN';
  const tags = acceptLanguage
    .slice(0, 500)
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return { tag, q: Number.isFinite(quality) ? quality : 0, i };
    })
    .filter((t) => t.q > 0 && (t.tag.startsWith('zh') || t.tag.startsWith('en')))
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return tags[0]?.tag.startsWith('en') ? 'en' : 'zh-CN';
}

const TEXT = {
  en: {
    title: 'Alarm',
    ago_now: 'just now',
    ago_min: '{n} min ago',
    ago_hour: '{n} h {m} min ago',
    resident: 'Resident',
    where: 'Where',
    room: 'Room {room}',
    bed: 'bed {bed}',
    map: 'Open in map',
    status: 'Status',
    state_active: 'Waiting for someone to take it',
    state_acknowledged: 'Taken by {who} at {at}',
    state_on_site: '{who} is on site',
    state_resolved: 'Done',
    others: 'Who else is on it',
    nobody: 'Nobody else has answered yet',
    r_issued: 'notified',
    r_accepted: 'on the way',
    r_declined: 'cannot go',
    r_on_site: 'on site',
    r_resolved: 'closed it',
    you: 'You',
    you_issued: 'Please answer: can you go?',
    you_accepted: 'You said you are going. Tap "On site" when you arrive.',
    you_declined: 'You said you cannot go; the next person has been called.',
    you_on_site: 'You are on site. Close the alarm when it is handled.',
    accept: "I'll go",
    decline: "Can't go",
    on_site: 'On site',
    resolve: 'Done',
    outcome: 'Outcome',
    sending: 'Sending…',
    failed: 'Could not send. Check the connection and try again.',
    limited: 'Too many tries: wait a minute and try again.',
    done: 'Thank you. The alarm is closed.',
    gone_title: 'Link no longer valid',
    gone: 'This link has expired or the alarm has already been handled. Nothing more to do here.',
    priority_high: 'Urgent',
  },
  'zh-CN': {
    title: '报警',
    ago_now: '刚刚',
    ago_min: '{n} 分钟前',
    ago_hour: '{n} 小时 {m} 分钟前',
    resident: '老人',
    where: '地点',
    room: '{room} 房间',
    bed: '{bed} 床',
    map: '在地图中打开',
    status: '状态',
    state_active: '等待有人接警',
    state_acknowledged: '{who} 已于 {at} 接警',
    state_on_site: '{who} 已到场',
    state_resolved: '已处理完成',
    others: '其他响应人',
    nobody: '暂无其他人回应',
    r_issued: '已通知',
    r_accepted: '正在赶往',
    r_declined: '无法处理',
    r_on_site: '已到场',
    r_resolved: '已处理完成',
    you: '您',
    you_issued: '请回复：您能去处理吗？',
    you_accepted: '您已接警。到达后请点“已到场”。',
    you_declined: '您已表示无法处理，已通知下一位联系人。',
    you_on_site: '您已到场。处理好后请点“处理完成”。',
    accept: '我去处理',
    decline: '无法处理',
    on_site: '已到场',
    resolve: '处理完成',
    outcome: '处理结果',
    sending: '正在发送…',
    failed: '发送失败，请检查网络后重试。',
    limited: '操作过于频繁，请稍等一分钟再试。',
    done: '谢谢！报警已处理完成。',
    gone_title: '链接已失效',
    gone: '此链接已过期，或报警已处理完成，无需再操作。',
    priority_high: '紧急',
  },
} as const;
type Key = keyof (typeof TEXT)['en'];

const t = (lang: PageLang, key: Key, params: Record<string, string | number> = {}) =>
  TEXT[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s: string | number | null | undefined) => String(s ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

export function agoText(lang: PageLang, sinceIso: string, nowMs: number): string {
  const minutes = Math.max(0, Math.floor((nowMs - Date.parse(sinceIso)) / 60_000));
  if (minutes < 1) return t(lang, 'ago_now');
  if (minutes < 60) return t(lang, 'ago_min', { n: minutes });
  return t(lang, 'ago_hour', { n: Math.floor(minutes / 60), m: minutes % 60 });
}

const clock = (iso: string | null, lang: PageLang, timeZone = 'Asia/Shanghai') => {
  if (!iso) return '';
  try {
    return new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', timeZone });
  } catch {
    return new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Shanghai' });
  }
};

/** A map link for a home with a position: AMap (WGS-84 as stored) in Chinese, OpenStreetMap in English. */
export function mapLink(lang: PageLang, lat: number, lon: number, label: string): string {
  if (lang === 'zh-CN')
    return `https://uri.amap.com/marker?position=${lon},${lat}&name=${encodeURIComponent(label)}&coordinate=wgs84&callnative=1`;
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
}

const OUTCOME_CHOICES = ['assisted', 'false_alarm', 'injured', 'transferred', 'other'] as const;

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:17px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f4f4f5;color:#18181b}
main{max-width:480px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:12px;padding:14px 16px;margin-bottom:12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h1{font-size:26px;margin:0 0 4px}.high h1{color:#b91c1c}.badge{display:inline-block;background:#b91c1c;color:#fff;border-radius:6px;padding:0 8px;font-size:14px;margin-left:8px;vertical-align:middle}
p{margin:0 0 8px}.muted{color:#52525b;font-size:15px}.label{color:#71717a;font-size:14px;margin:0}
ul{margin:4px 0 0;padding-left:20px}
.actions{display:flex;flex-direction:column;gap:10px}
button,select{font:inherit;width:100%;min-height:52px;border-radius:10px;border:0;font-size:19px}
button{font-weight:600;color:#fff;background:#2563eb}button.accept{background:#16a34a}button.decline{background:#71717a}button.on_site{background:#ea580c}button.resolve{background:#2563eb}
button:disabled{opacity:.6}select{border:1px solid #d4d4d8;background:#fff;padding:0 10px}
#message{min-height:1.5em;margin:8px 0 0;font-weight:600}#message.error{color:#b91c1c}
a{color:#2563eb}
`;

function shell(lang: PageLang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>${esc(title)}</title>
<style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export function renderGone(lang: PageLang): string {
  return shell(
    lang,
    t(lang, 'gone_title'),
    `<div class="card" id="gone"><h1>${esc(t(lang, 'gone_title'))}</h1><p>${esc(t(lang, 'gone'))}</p></div>`,
  );
}

/** Too many requests from this phone or for this link: try again in a minute. */
export function renderLimited(lang: PageLang): string {
  return shell(lang, t(lang, 'title'), `<div class="card" id="limited"><p>${esc(t(lang, 'limited'))}</p></div>`);
}

type View = Static<typeof RespondView>;

export function renderPage(view: View, token: string, lang: PageLang, nowMs: number): string {
  const what = translateDynamic(lang, `alarm.${view.type}`, view.type);
  const where: string[] = [];
  if (view.site?.name) where.push(esc(view.site.name));
  const roomBed = [view.room ? t(lang, 'room', { room: view.room }) : '', view.bed ? t(lang, 'bed', { bed: view.bed }) : '']
    .filter(Boolean)
    .join(' ');
  if (roomBed) where.push(esc(roomBed));
  if (view.site?.address) where.push(esc(view.site.address));
  const map =
    view.site && typeof view.site.lat === 'number' && typeof view.site.lon === 'number'
      ? `<p><a id="map" href="${esc(mapLink(lang, view.site.lat, view.site.lon, view.site.address ?? view.site.name))}" rel="noreferrer noopener" target="_blank">${esc(t(lang, 'map'))}</a></p>`
      : '';
  const status =
    view.state === 'resolved'
      ? t(lang, 'state_resolved')
      : view.onSiteBy
        ? t(lang, 'state_on_site', { who: view.onSiteBy })
        : view.state === 'acknowledged'
          ? t(lang, 'state_acknowledged', { who: view.ackBy ?? '', at: clock(view.ackAt, lang, view.site?.timezone) })
          : t(lang, 'state_active');
  const others = view.responders.length
    ? `<ul id="others">${view.responders.map((r) => `<li>${esc(r.name)}: ${esc(t(lang, `r_${r.state}` as Key))}</li>`).join('')}</ul>`
    : `<p class="muted" id="others">${esc(t(lang, 'nobody'))}</p>`;
  const you = view.you.state;
  const outcomeSelect = `<label class="label" for="outcome">${esc(t(lang, 'outcome'))}</label><select id="outcome">${OUTCOME_CHOICES.map(
    (o) => `<option value="${o}">${esc(translateDynamic(lang, `outcome.${o}`, o))}</option>`,
  ).join('')}</select>`;
  const button = (action: 'accept' | 'decline' | 'on_site' | 'resolve') =>
    `<button type="button" class="${action}" data-action="${action}">${esc(t(lang, action))}</button>`;
  const actions =
    you === 'issued' || you === 'declined'
      ? button('accept') + (you === 'issued' ? button('decline') : '')
      : you === 'accepted'
        ? button('on_site') + outcomeSelect + button('resolve') + button('decline')
        : you === 'on_site'
          ? outcomeSelect + button('resolve')
          : '';
  const body = `<div id="respond" data-token="${esc(token)}" data-state="${esc(you)}"
 data-msg-sending="${esc(t(lang, 'sending'))}" data-msg-failed="${esc(t(lang, 'failed'))}" data-msg-limited="${esc(t(lang, 'limited'))}"
 data-msg-done="${esc(t(lang, 'done'))}" data-msg-gone="${esc(t(lang, 'gone'))}">
<div class="card${view.priority === 'high' ? ' high' : ''}"><h1 id="what">${esc(what)}${view.priority === 'high' ? `<span class="badge">${esc(t(lang, 'priority_high'))}</span>` : ''}</h1>
<p class="muted" id="ago">${esc(agoText(lang, view.raisedAt, nowMs))}</p>
${view.residentName ? `<p class="label">${esc(t(lang, 'resident'))}</p><p id="who">${esc(view.residentName)}</p>` : ''}
<p class="label">${esc(t(lang, 'where'))}</p><p id="where">${where.join('<br>')}</p>${map}</div>
<div class="card"><p class="label">${esc(t(lang, 'status'))}</p><p id="status">${esc(status)}</p>
<p class="label">${esc(t(lang, 'others'))}</p>${others}</div>
<div class="card"><p class="label">${esc(t(lang, 'you'))}: ${esc(view.you.name)}</p><p id="you">${esc(t(lang, `you_${you === 'resolved' ? 'on_site' : you}` as Key))}</p>
<div class="actions" id="actions">${actions}</div><p id="message" role="status"></p></div></div>
<script src="/r/respond.js" defer></script>`;
  return shell(lang, `${t(lang, 'title')}: ${what}`, body);
}
