// `npm run backup -- FILE`: a consistent copy of the SQLite state database while the server runs
// (SQLite's online backup API), and `npm run backup -- --restore FILE` to put one back (server
// stopped). With PostgreSQL, use pg_dump / pg_restore instead.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';

const { values, positionals } = parseArgs({
  options: { restore: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  allowPositionals: true,
});
const dataDir = path.resolve(process.env.CARE_DATA_DIR || './data');
const live = path.join(dataDir, 'care.db');
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
  for (const suffix of ['-wal', '-shm']) fs.rmSync(`${live}${suffix}`, { force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  fs.copyFileSync(file, live);
  console.log(`restored ${file} to ${live}`);
} else {
  const db = new SQLite(live, { readonly: true, fileMustExist: true });
  await db.backup(file);
  db.close();
  console.log(`backed up ${live} to ${file} (${fs.statSync(file).size} bytes)`);
}
