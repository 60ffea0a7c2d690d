// Service worker of the dashboard installed on a phone (PWA). It shows an alarm the server pushed
// (server/channels/push.ts: {type, alarmId, title, body, url, token}) as a notification that stays
// until answered, with two actions: 我去处理 (accept) and 无法处理 (decline), each a POST to
// /api/v1/respond/{token} (no login: the token is the credential). A click on the notification
// itself, or an action that could not be sent, opens the response page /r/{token}.
const ACTIONS = {
  'zh-CN': { accept: '我去处理', decline: '无法处理', failed: '未能发送，请在页面上操作' },
  en: { accept: "I'll go", decline: "Can't", failed: 'Could not send; use the page' },
};
const TOKEN = /^[A-Za-z0-9_-]{22,64}$/;

const words = () => ((self.navigator.language || '').toLowerCase().startsWith('zh') ? ACTIONS['zh-CN'] : ACTIONS.en);

/** Events dispatched by a test are not trusted, and waitUntil throws for them; the work still runs. */
function keepAlive(event, work) {
  try {
    event.waitUntil(work);
  } catch {
    // untrusted event: nothing to extend
  }
  return work;
}

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => keepAlive(event, self.clients.claim()));

self.addEventListener('push', (event) => {
  let msg = null;
  try {
    msg = event.data ? event.data.json() : null;
  } catch {
    msg = null;
  }
  // Whatever arrives, something is shown: a push that cannot be read still means "look at the screen".
  if (msg?.type !== 'alarm' || !TOKEN.test(String(msg.token))) {
    keepAlive(
      event,
      self.registration.showNotification('护理报警 · Care alarm', { body: '请查看值班屏幕 / See the screens', tag: 'care-unknown' }),
    );
    return;
  }
  const w = words();
  keepAlive(
    event,
    self.registration.showNotification(String(msg.title).slice(0, 200), {
      body: String(msg.body || '').slice(0, 500),
      tag: `alarm-${msg.alarmId}`,
      renotify: true,
      requireInteraction: true,
      icon: '/icon-192.png',
      badge: '/icon-192.png',
      vibrate: [300, 100, 300, 100, 300],
      data: { token: msg.token, url: msg.url, alarmId: msg.alarmId },
      actions: [
        { action: 'accept', title: w.accept },
        { action: 'decline', title: w.decline },
      ],
    }),
  );
});

async function openPage(data) {
  const url = data.url && /^https?:\/\//.test(data.url) ? data.url : `/r/${data.token}`;
  const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const c of wins) {
    if (c.url === url && 'focus' in c) return c.focus();
  }
  return self.clients.openWindow(url);
}

async function respond(notification, action) {
  const data = notification.data || {};
  if (!TOKEN.test(String(data.token))) return;
  if (action !== 'accept' && action !== 'decline') {
    notification.close();
    await openPage(data);
    return;
  }
  let ok = false;
  try {
    const res = await fetch(`/api/v1/respond/${data.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action }),
      credentials: 'omit',
    });
    ok = res.ok;
  } catch {
    ok = false;
  }
  notification.close();
  // After accepting, the page shows where to go; when the answer did not get through, the page lets them try again.
  if (!ok || action === 'accept') await openPage(data);
  if (!ok) await self.registration.showNotification(words().failed, { tag: `alarm-${data.alarmId}-failed`, data });
}

self.addEventListener('notificationclick', (event) => {
  keepAlive(event, respond(event.notification, event.action));
});
