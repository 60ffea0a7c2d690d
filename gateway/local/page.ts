// The gateway's local alarm page: a small HTTP page (no framework) listing unacknowledged local
// alarms with an acknowledge button, for the nurse station when the server is out of reach.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fallback, LocalAlarm } from './fallback.ts';

const LABEL: Record<string, [string, string]> = {
  call: ['紧急呼叫', 'Emergency call'],
  fall: ['跌倒', 'Fall'],
  bed_exit: ['离床', 'Bed exit'],
  door_open: ['离开房间', 'Door opened'],
  no_motion: ['长时间未活动', 'Inactivity'],
  smoke: ['烟雾报警', 'Smoke alarm'],
  gas: ['燃气泄漏', 'Gas leak'],
  water_leak: ['水浸', 'Water leak'],
};
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderPage(alarms: LocalAlarm[], uplinkDown: boolean, storeFault = false): string {
  const rows = alarms
    .map((a) => {
      const [zh, en] = LABEL[a.type] ?? [a.type, a.type];
      return `<tr class="${a.priority}"><td>${esc(zh)}<br><small>${esc(en)}</small></td><td>${esc(a.device)}</td><td>${esc(a.at)}</td><td>×${a.count}</td>
<td><form method="post" action="/local/alarms/${esc(a.id)}/ack"><button>确认 Acknowledge</button></form></td></tr>`;
    })
    .join('\n');
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>本地报警 Local alarms</title>
<style>body{font-family:sans-serif;background:#111;color:#eee;margin:1rem}table{width:100%;border-collapse:collapse;font-size:1.4rem}
td{padding:.6rem;border-bottom:1px solid #333}.high{background:#8b0000}.medium{background:#7a5b00}button{font-size:1.2rem;padding:.5rem 1rem}
.banner{background:#b58900;color:#000;padding:1rem;font-size:1.4rem;font-weight:bold}</style></head><body>
${uplinkDown ? '<div class="banner">服务器连接中断：本地报警 · Server unreachable: local alarms</div>' : ''}
${storeFault ? '<div class="banner">网关存储已满：报警未保存，请联系维护 · Gateway storage full: alarms are not saved, call maintenance</div>' : ''}
<h1>本地报警 Local alarms (${alarms.length})</h1><table>${rows || '<tr><td>无 None</td></tr>'}</table></body></html>`;
}

export async function startLocalPage(fallback: Fallback, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/local/alarms.json') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ active: fallback.active, storeFault: fallback.storeFault, alarms: fallback.list() }));
      return;
    }
    const ack = /^\/local\/alarms\/([A-Za-z0-9-]+)\/ack$/.exec(url);
    if (req.method === 'POST' && ack) {
      const ok = fallback.acknowledge(ack[1] as string);
      res.writeHead(ok ? 303 : 404, { location: '/' }).end();
      return;
    }
    if (req.method === 'GET' && (url === '/' || url === '/index.html')) {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(renderPage(fallback.list(), fallback.active, fallback.storeFault));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
