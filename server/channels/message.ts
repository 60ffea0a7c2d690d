// The words of a message to a person's phone (push or SMS): what happened, to whom, where, when,
// and the one response link. Chinese by default, English by setting (CARE_MESSAGE_LANGUAGE). An
// SMS is kept to one or two parts (UCS-2: 70 characters, or 2 x 67 when concatenated), so names and
// places are cut before the link ever is.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Alarm } from '../../protocol/index.ts';

const WHAT: Record<'zh-CN' | 'en', Partial<Record<string, string>>> = {
  'zh-CN': {
    call: '紧急呼叫',
    fall: '跌倒',
    wander: '离开房间',
    bed_exit: '离床未回',
    vitals: '生命体征异常',
    inactivity: '长时间未活动',
    gateway_offline: '网关离线',
    device_offline: '设备离线',
    low_battery: '电量低',
    tamper: '设备被拆',
    device_fault: '设备故障',
    no_caregiver: '无人值守',
    unregistered_devices: '未登记设备',
    smoke: '烟雾',
    gas: '燃气',
    water_leak: '漏水',
  },
  en: {
    call: 'Emergency call',
    fall: 'Fall',
    wander: 'Left the room',
    bed_exit: 'Out of bed',
    vitals: 'Vital signs',
    inactivity: 'No activity',
    gateway_offline: 'Gateway offline',
    device_offline: 'Device offline',
    low_battery: 'Low battery',
    tamper: 'Tamper',
    device_fault: 'Device fault',
    no_caregiver: 'Nobody on duty',
    unregistered_devices: 'Unregistered devices',
    smoke: 'Smoke',
    gas: 'Gas',
    water_leak: 'Water leak',
  },
};

/** What is stored in a person's notification row and handed to the push or SMS channel. */
export const PersonMessage = Type.Object({
  alarmId: Type.String(),
  title: Type.String(),
  /** The notification's text, without the link (push shows the link as the click target). */
  text: Type.String(),
  /** The SMS: the text, shortened to fit, with the link at its end. */
  sms: Type.String(),
  /** `{CARE_PUBLIC_URL}/r/{token}` */
  url: Type.String(),
  token: Type.String(),
  /** Cloud SMS templates take the parts as variables rather than a free text. */
  vars: Type.Object({ what: Type.String(), who: Type.String(), where: Type.String(), when: Type.String() }),
});
export type PersonMessage = Static<typeof PersonMessage>;
export const checkPersonMessage = Compile(PersonMessage);

/** Who and where, as the registry knows them (any may be missing). */
export interface AlarmPlace {
  residentName?: string | null;
  siteName?: string | null;
  address?: string | null;
  room?: string | null;
  /** The site's time zone for "when" [Asia/Shanghai]. */
  timeZone?: string;
}

/** Characters in two concatenated UCS-2 parts; ASCII-only text would fit more, but links are. */
export const SMS_MAX_CHARS = 134;

const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`);

export function composeMessage(
  alarm: Alarm,
  place: AlarmPlace,
  link: { url: string; token: string },
  language: 'zh-CN' | 'en' = 'zh-CN',
): PersonMessage {
  const zh = language === 'zh-CN';
  const what = WHAT[language][alarm.type] ?? alarm.type;
  const who = place.residentName ?? (zh ? '老人' : 'resident');
  const where =
    [place.address ?? place.siteName, place.room ?? alarm.room].filter(Boolean).join(' ') || (zh ? '未知位置' : 'unknown place');
  const when = new Intl.DateTimeFormat(zh ? 'zh-CN' : 'en-GB', {
    timeZone: place.timeZone ?? 'Asia/Shanghai',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(new Date(alarm.raisedAt));
  const title = zh ? `【${what}】${who}` : `${what}: ${who}`;
  const text = zh ? `${who}，${where}，${when}。请尽快处理。` : `${who}, ${where}, ${when}. Please respond.`;
  // The link is never cut: what is left of the budget goes to who and where, in that order.
  const tail = zh ? ` ${when} 处理:${link.url}` : ` ${when} respond: ${link.url}`;
  const head = zh ? `【${what}】` : `${what}: `;
  let room = SMS_MAX_CHARS - tail.length - head.length;
  const whoPart = cut(who, Math.max(2, Math.min(who.length, Math.floor(room / 2))));
  room -= whoPart.length + 1;
  const wherePart = cut(where, Math.max(0, room));
  const sms = `${head}${whoPart} ${wherePart}${tail}`.replace(/\s+/g, ' ');
  return { alarmId: alarm.id, title, text, sms, url: link.url, token: link.token, vars: { what, who, where, when } };
}
