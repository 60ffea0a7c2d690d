// `npm run bench -- --runs N` (or `npx tsx bench/repeat.ts N [--quick]`): the whole bench N times in
// sequence, each in a fresh process, so one run's leftovers (JIT, caches, open files) do not carry
// into the next. Each run's results are kept as bench/results/run-<i>.json; bench/results/summary.json
// has, for every numeric figure, the median, min, max and each run's value; the headline figures are
// printed as a table. Quote the median with its spread: runs on a shared 2-core machine differ.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './lib.ts';
import { at, HEADLINES } from './report.ts';

const dir = path.join(root, 'bench/results');

/** Every numeric leaf of a results object, by dotted path (arrays and `when` left out). */
function numbers(o: unknown, prefix = '', out = new Map<string, number>()): Map<string, number> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return out;
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number' && Number.isFinite(v)) out.set(key, v);
    else if (k !== 'machine') numbers(v, key, out);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : Math.round((((s[m - 1] as number) + (s[m] as number)) / 2) * 1000) / 1000;
}

export function summarise(runs: Array<Record<string, unknown>>) {
  const figures: Record<string, { median: number; min: number; max: number; values: Array<number | null> }> = {};
  const perRun = runs.map((r) => numbers(r));
  const keys = new Set(perRun.flatMap((m) => [...m.keys()]));
  for (const key of keys) {
    const values = perRun.map((m) => m.get(key) ?? null);
    const present = values.filter((v): v is number => v !== null);
    figures[key] = { median: median(present), min: Math.min(...present), max: Math.max(...present), values };
  }
  return {
    when: new Date().toISOString(),
    runs: runs.length,
    mode: runs[0]?.mode,
    machine: runs.map((r) => r.machine),
    figures,
  };
}

export function printSummary(summary: ReturnType<typeof summarise>, runs: Array<Record<string, unknown>>) {
  console.log(`\nBenchmark (${summary.mode}), ${summary.runs} runs: median [min - max], target`);
  for (const [label, key, target] of HEADLINES) {
    const present = runs.map((r) => at(r, key)).filter((v): v is number => typeof v === 'number');
    if (present.length === 0) continue;
    const f = summary.figures[key];
    if (!f) continue;
    console.log(`  ${label.padEnd(38)} ${String(f.median).padStart(9)}  [${f.min} - ${f.max}]${target ? `  target ${target}` : ''}`);
  }
}

export async function repeat(n: number, argv: string[]) {
  // The same options minus --runs.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] as string;
    if (a === '--runs') i += 1;
    else if (!a.startsWith('--runs=')) args.push(a);
  }
  if (args.some((a) => a === '--only' || a.startsWith('--only='))) throw new Error('--runs repeats the whole bench; leave out --only');
  const runs: Array<Record<string, unknown>> = [];
  for (let i = 1; i <= n; i += 1) {
    process.stderr.write(`\n=== run ${i} of ${n} ===\n`);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/run.ts'), ...args], { cwd: root, stdio: 'inherit' });
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`run ${i} failed (exit ${code})`);
    const latest = fs.readFileSync(path.join(dir, 'latest.json'), 'utf8');
    fs.writeFileSync(path.join(dir, `run-${i}.json`), latest);
    runs.push(JSON.parse(latest) as Record<string, unknown>);
  }
  const summary = summarise(runs);
  fs.writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  printSummary(summary, runs);
  console.log(`\nWrote bench/results/summary.json and run-1..${n}.json`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2]);
  if (!Number.isInteger(n) || n < 1) {
    console.log('Usage: npx tsx bench/repeat.ts N [--quick]');
    process.exit(1);
  }
  repeat(n, process.argv.slice(3)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
