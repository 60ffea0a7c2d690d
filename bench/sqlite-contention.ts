// Measures how long the alarm writer's small commits take on the main thread (synchronous=FULL,
// WAL, busy_timeout 5 s, as server/storage/db.ts opens it) while a worker thread writes 20,000
// telemetry rows/s: into the same database file (batches of 500 or 5,000) or into its own file.
// `npx tsx bench/sqlite-contention.ts`; prints one JSON line per case. Used for docs/decisions.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { startTsWorker } from '../server/ts-worker.ts';

const RATE = 20_000;
const SECONDS = 5;

if (!isMainThread) {
  const { file, batch } = workerData as { file: string; batch: number };
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS telemetry (site_id TEXT, device_id TEXT, resident_id TEXT, metric TEXT, value REAL, ts TEXT)');
  const insert = db.prepare('INSERT INTO telemetry VALUES (?, ?, ?, ?, ?, ?)');
  const write = db.transaction((n: number) => {
    const ts = new Date().toISOString();
    for (let i = 0; i < n; i += 1) insert.run('s', `d-${i % 10}`, 'r', 'heart_rate', 70, ts);
  });
  const start = performance.now();
  let written = 0;
  const tick = () => {
    const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - start) * RATE) / 1000));
    while (due - written >= batch) {
      write(batch);
      written += batch;
    }
    if (performance.now() - start < SECONDS * 1000) setTimeout(tick, 5);
    else parentPort?.postMessage('done');
  };
  tick();
} else {
  const cases: Array<{ name: string; worker: null | { sameFile: boolean; batch: number } }> = [
    { name: 'no telemetry writer', worker: null },
    { name: 'same file, batches of 5000', worker: { sameFile: true, batch: 5000 } },
    { name: 'same file, batches of 500', worker: { sameFile: true, batch: 500 } },
    { name: 'own file, batches of 5000', worker: { sameFile: false, batch: 5000 } },
  ];
  for (const c of cases) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-contention-'));
    const main = new SQLite(path.join(dir, 'care.db'));
    main.pragma('journal_mode = WAL');
    main.pragma('synchronous = FULL');
    main.pragma('busy_timeout = 5000');
    main.exec('CREATE TABLE events (id TEXT PRIMARY KEY, ts TEXT)');
    main.exec('CREATE TABLE IF NOT EXISTS telemetry (site_id TEXT, device_id TEXT, resident_id TEXT, metric TEXT, value REAL, ts TEXT)');
    const insert = main.prepare('INSERT INTO events VALUES (?, ?)');
    const commit = main.transaction((id: string) => insert.run(id, new Date().toISOString()));
    const worker = c.worker
      ? startTsWorker(new URL(import.meta.url), {
          file: path.join(dir, c.worker.sameFile ? 'care.db' : 'telemetry.db'),
          batch: c.worker.batch,
        })
      : null;
    const done = worker ? new Promise((r) => worker.once('message', r)) : new Promise((r) => setTimeout(r, SECONDS * 1000));
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    const times: number[] = [];
    let i = 0;
    while (!finished) {
      const t = performance.now();
      commit(`e-${i++}`);
      times.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 2));
    }
    await worker?.terminate();
    times.sort((a, b) => a - b);
    const at = (p: number) => Math.round((times[Math.min(times.length - 1, Math.floor(times.length * p))] ?? 0) * 100) / 100;
    console.log(JSON.stringify({ case: c.name, commits: times.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) }));
    main.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
