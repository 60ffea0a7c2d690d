// "Notifications on this phone": registers the service worker (/sw.js), subscribes to Web Push
// with the server's VAPID key, and registers the subscription for the signed-in user
// (POST /api/v1/push/subscriptions). The subscription id is kept in localStorage so that turning it
// off removes it on the server too.
import type { Api } from './api.ts';

const KEY = 'care.pushSubscriptionId';

export type PushSupport = 'unsupported' | 'denied' | 'off' | 'on';

export function pushSupported(): boolean {
  return (
    typeof navigator !== 'undefined' &&
    'serviceWorker' in navigator &&
    typeof window !== 'undefined' &&
    'PushManager' in window &&
    'Notification' in window
  );
}

export async function pushState(): Promise<PushSupport> {
  if (!pushSupported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  const reg = await navigator.serviceWorker.getRegistration('/');
  const sub = await reg?.pushManager.getSubscription();
  return sub && localStorage.getItem(KEY) ? 'on' : 'off';
}

function keyBytes(b64url: string): Uint8Array<ArrayBuffer> {
  const b64 = b64url
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(b64url.length / 4) * 4, '=');
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out;
}

/** Asks for permission (must follow a tap), subscribes and registers; throws with a reason. */
export async function enablePush(api: Api): Promise<void> {
  if (!pushSupported()) throw new Error('unsupported');
  if ((await Notification.requestPermission()) !== 'granted') throw new Error('denied');
  const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  await navigator.serviceWorker.ready;
  const { publicKey } = await api.get<{ publicKey: string }>('/api/v1/push/vapid-public-key');
  const old = await reg.pushManager.getSubscription();
  // A subscription made with another key (the server's pair changed) is refused by the push service.
  if (old) await old.unsubscribe();
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
  const json = sub.toJSON();
  const saved = await api.post<{ id: string }>('/api/v1/push/subscriptions', { endpoint: json.endpoint, keys: json.keys });
  localStorage.setItem(KEY, saved.id);
}

export async function disablePush(api: Api): Promise<void> {
  const id = localStorage.getItem(KEY);
  localStorage.removeItem(KEY);
  if (id) await api.del(`/api/v1/push/subscriptions/${encodeURIComponent(id)}`).catch(() => undefined);
  const reg = await navigator.serviceWorker?.getRegistration('/');
  await (await reg?.pushManager.getSubscription())?.unsubscribe();
}
