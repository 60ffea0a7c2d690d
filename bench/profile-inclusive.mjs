// Total (inclusive) time of functions matching a pattern, as a share of non-idle samples:
// `node bench/profile-inclusive.mjs FILE.cpuprofile "server/|protocol/" 20`.
import fs from 'node:fs';

const prof = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
prof.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
});
let total = 0,
  idle = 0;
for (const [id, us] of self) {
  total += us;
  const f = byId.get(id).callFrame;
  if (f.functionName === '(idle)') idle += us;
}
const busy = total - idle;
const name = (n) =>
  `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/\/work\/main\//, '')}:${n.callFrame.lineNumber}`;
const incl = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  let cur = id;
  while (cur !== undefined) {
    const k = name(byId.get(cur));
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
    cur = parent.get(cur);
  }
}
console.log(`busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s`);
const re = new RegExp(process.argv[3] ?? '.');
for (const [k, us] of [...incl]
  .filter(([k]) => re.test(k))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(process.argv[4] ?? 25)))
  console.log(`${((us / busy) * 100).toFixed(1).padStart(5)}% of busy  ${k}`);
