// `npm run backup -- FILE`: a consistent copy of the SQLite state database while the server runs
// (SQLite's online backup API), and `npm run backup -- --restore FILE` to put one back (server
// stopped). With PostgreSQL, use pg_dump / pg_restore instead.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { TELEMETRY_FILE } from './storage/db.ts';

const { values, positionals } = parseArgs({
  options: { restore: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  allowPositionals: true,
});
const dataDir = path.resolve(process.env.CARE_DATA_DIR || './data');
const live = path.join(dataDir, 'care.db');
const telemetry = path.join(dataDir, TELEMETRY_FILE);
const file = positionals[0];

if (values.help || !file) {
  console.log(`Usage: npm run backup -- FILE             copy ${live} to FILE while the server runs
       npm run backup -- --restore FILE   replace the state with FILE (stop the server first)
Environment: CARE_DATA_DIR [./data]`);
  process.exit(file || values.help ? 0 : 2);
}

if (values.restore) {
  const check = new SQLite(file, { readonly: true, fileMustExist: true });
  const ok = (check.pragma('integrity_check', { simple: true }) as string) === 'ok';
  check.close();
  if (!ok) {
    console.error(`${file} fails SQLite's integrity check; not restored`);
    process.exit(1);
  }
  // The backup holds the readings in its own `telemetry` table: the server moves them back into
  // the telemetry file at its next start, so the current telemetry file goes too.
  for (const f of [live, telemetry])
    for (const suffix of ['', '-wal', '-shm']) if (f !== live || suffix) fs.rmSync(`${f}${suffix}`, { force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  fs.copyFileSync(file, live);
  console.log(`restored ${file} to ${live}`);
} else {
  const db = new SQLite(live, { readonly: true, fileMustExist: true });
  await db.backup(file);
  db.close();
  // Readings live in their own file (telemetry.db); they are copied into the same backup file, in
  // one read transaction of that file, so one file is one backup.
  let readings = 0;
  if (fs.existsSync(telemetry)) {
    const out = new SQLite(file);
    out.prepare('ATTACH DATABASE ? AS live_telemetry').run(telemetry);
    const table = out.prepare("SELECT sql FROM live_telemetry.sqlite_master WHERE type = 'table' AND name = 'telemetry'").get() as
      | { sql: string }
      | undefined;
    if (table) {
      const indexes = out
        .prepare("SELECT sql FROM live_telemetry.sqlite_master WHERE type = 'index' AND tbl_name = 'telemetry' AND sql IS NOT NULL")
        .all() as Array<{ sql: string }>;
      out.transaction(() => {
        out.exec('DROP TABLE IF EXISTS main.telemetry');
        out.exec(table.sql);
        for (const i of indexes) out.exec(i.sql);
        readings = out.prepare('INSERT INTO main.telemetry SELECT * FROM live_telemetry.telemetry').run().changes;
      })();
    }
    out.exec('DETACH DATABASE live_telemetry');
    out.close();
  }
  console.log(`backed up ${live} and ${readings} readings to ${file} (${fs.statSync(file).size} bytes)`);
}
