// Group commit (server/storage/db.ts createWalSync): a caller is told "durable" only by an fsync
// that began after it asked, and callers that ask during one fsync share the next one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createWalSync, openDatabase } from '../../server/storage/db.ts';

function controllableFsync() {
  const calls: Array<() => void> = [];
  return {
    calls,
    fsync: () => new Promise<void>((resolve) => calls.push(resolve)),
  };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => {
    done = true;
  });
  for (let i = 0; i < 5; i += 1) await new Promise((r) => setImmediate(r));
  return done;
};

describe('WAL group fsync', () => {
  it('waits for an fsync that started after the call, and shares it among the callers that waited', async () => {
    const f = controllableFsync();
    const wal = createWalSync('/nonexistent', f.fsync);
    const first = wal.durable();
    expect(f.calls.length).toBe(1);
    // Committed while the first fsync runs: that fsync may have missed these commits.
    const second = wal.durable();
    const third = wal.durable();
    expect(f.calls.length).toBe(1);
    f.calls[0]?.();
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(false);
    expect(f.calls.length).toBe(2); // one more fsync for both waiting callers
    f.calls[1]?.();
    expect(await settled(second)).toBe(true);
    expect(await settled(third)).toBe(true);
    expect(f.calls.length).toBe(2);
  });

  it('reports a failed fsync to its callers and starts afresh after it', async () => {
    let fail = true;
    const wal = createWalSync('/nonexistent', async () => {
      if (fail) throw new Error('EIO');
    });
    await expect(wal.durable()).rejects.toThrow('EIO');
    fail = false;
    await expect(wal.durable()).resolves.toBeUndefined();
  });

  it('fsyncs the real WAL of a database opened by the server, and commits survive a reopen', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'walsync-'));
    try {
      const opened = await openDatabase(dir);
      expect(opened.sqlite?.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      await opened.db.insertInto('health_probe').values({ instance_id: 'x', checked_at: new Date().toISOString(), writes: 1 }).execute();
      await opened.durable();
      await opened.close();
      const again = new SQLite(path.join(dir, 'care.db'), { readonly: true });
      expect(again.prepare('select writes from health_probe where instance_id = ?').get('x')).toEqual({ writes: 1 });
      again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
