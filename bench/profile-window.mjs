// Where the main thread went in one time window of a .cpuprofile, or its busy ms per second:
//   node bench/profile-window.mjs FILE               busy / idle ms for each second of the profile
//   node bench/profile-window.mjs FILE FROM TO [RE]  self and inclusive shares between FROM and TO s (inclusive: frames matching RE)
import fs from 'node:fs';

const [file, fromS, toS, pat = 'server/|protocol/'] = process.argv.slice(2);
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
let t = 0;
const times = prof.samples.map((_, i) => (t += prof.timeDeltas[i] ?? 0));
const name = (n) =>
  `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/\/work\/main\//, '')
    .replace(/^file:\/\/\/tmp\/[^/]+\//, '')}:${n.callFrame.lineNumber}`;
if (fromS === undefined) {
  const per = new Map();
  prof.samples.forEach((id, i) => {
    const s = Math.floor(times[i] / 1e6);
    const n = byId.get(id);
    const idle = n.callFrame.functionName === '(idle)';
    const e = per.get(s) ?? [0, 0];
    e[idle ? 1 : 0] += prof.timeDeltas[i] ?? 0;
    per.set(s, e);
  });
  for (const [s, [b, i]] of per) console.log(s, Math.round(b / 1000), Math.round(i / 1000));
  process.exit(0);
}
const from = Number(fromS) * 1e6,
  to = Number(toS) * 1e6;
const self = new Map(),
  incl = new Map();
let busy = 0,
  total = 0;
const re = new RegExp(pat);
prof.samples.forEach((id, i) => {
  if (times[i] < from || times[i] > to) return;
  const us = prof.timeDeltas[i] ?? 0;
  total += us;
  const n = byId.get(id);
  if (n.callFrame.functionName === '(idle)') return;
  busy += us;
  self.set(name(n), (self.get(name(n)) ?? 0) + us);
  const seen = new Set();
  for (let c = id; c !== undefined; c = parent.get(c)) {
    const k = name(byId.get(c));
    if (!re.test(k) || seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + us);
  }
});
console.log(`busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s`);
console.log('--- self');
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
  console.log(`${((us / busy) * 100).toFixed(1).padStart(5)}% ${k}`);
console.log('--- inclusive');
for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, 40))
  console.log(`${((us / busy) * 100).toFixed(1).padStart(5)}% ${k}`);
