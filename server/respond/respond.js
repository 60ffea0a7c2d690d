// The response page's buttons (served at /r/respond.js; the page has no inline script). Each posts
// its action to /api/v1/respond/{token}; the page is then reloaded to show the alarm as it now is.
(() => {
  const root = document.getElementById('respond');
  if (!root) return;
  const token = root.dataset.token;
  const message = document.getElementById('message');
  const buttons = () => Array.from(document.querySelectorAll('button[data-action]'));
  const say = (text, error) => {
    message.textContent = text;
    message.className = error ? 'error' : '';
  };
  const send = async (action) => {
    const body = { action };
    const outcome = document.getElementById('outcome');
    if (action === 'resolve' && outcome) body.outcome = outcome.value;
    for (const b of buttons()) b.disabled = true;
    say(root.dataset.msgSending, false);
    try {
      const res = await fetch(`/api/v1/respond/${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'omit',
      });
      if (res.ok && action === 'resolve') {
        document.getElementById('actions').textContent = '';
        say(root.dataset.msgDone, false);
        return;
      }
      if (res.ok) {
        location.reload();
        return;
      }
      say(res.status === 404 ? root.dataset.msgGone : res.status === 429 ? root.dataset.msgLimited : root.dataset.msgFailed, true);
    } catch {
      say(root.dataset.msgFailed, true);
    }
    for (const b of buttons()) b.disabled = false;
  };
  for (const b of buttons()) b.addEventListener('click', () => send(b.dataset.action));
})();
