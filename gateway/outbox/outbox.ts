// The durable outbox (DESIGN.md section 7): an event is on disk (SQLite WAL, synchronous=FULL)
// before it counts as accepted, and leaves only when the server confirms it committed. Telemetry
// batches share the file but not the rules: when the outbox is full the oldest telemetry goes
// first, and events are never dropped.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';

export interface OutboxEvent {
  seq: number;
  id: string;
  payload: string;
}
export interface OutboxTelemetry {
  rowid: number;
  payload: string;
}

export interface OutboxOptions {
  /** Events plus telemetry batches held; past it the oldest telemetry is dropped. */
  maxRows: number;
}

export function openOutbox(dir: string, opts: OutboxOptions = { maxRows: 100_000 }) {
  fs.mkdirSync(dir, { recursive: true });
  const db = new SQLite(path.join(dir, 'outbox.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS telemetry (rowid INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, points INTEGER NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
    INSERT OR IGNORE INTO meta (key, value) VALUES ('seq', 0);
  `);
  // Never below `floor`: seqs handed out from memory while the disk was unwritable are not reused.
  const nextSeqStmt = db.prepare("UPDATE meta SET value = max(value + 1, ?) WHERE key = 'seq' RETURNING value");
  const readSeq = db.prepare("SELECT value FROM meta WHERE key = 'seq'");
  const insertEvent = db.prepare('INSERT INTO events (seq, id, payload, created_at) VALUES (?, ?, ?, ?)');
  const deleteEvent = db.prepare('DELETE FROM events WHERE id = ?');
  const pendingEvents = db.prepare('SELECT seq, id, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
  const countEvents = db.prepare('SELECT count(*) AS n FROM events');
  const insertTelemetry = db.prepare('INSERT INTO telemetry (payload, points, created_at) VALUES (?, ?, ?)');
  const oldestTelemetry = db.prepare('SELECT rowid, payload FROM telemetry ORDER BY rowid LIMIT ?');
  const deleteTelemetry = db.prepare('DELETE FROM telemetry WHERE rowid = ?');
  const countTelemetry = db.prepare('SELECT count(*) AS n FROM telemetry');
  const dropOldestTelemetry = db.prepare('DELETE FROM telemetry WHERE rowid IN (SELECT rowid FROM telemetry ORDER BY rowid LIMIT ?)');
  const count = (stmt: SQLite.Statement) => (stmt.get() as { n: number }).n;

  const insertProbe = db.prepare('INSERT INTO probe (payload) VALUES (?) RETURNING id');
  const deleteProbe = db.prepare('DELETE FROM probe WHERE id = ?');

  let droppedTelemetryBatches = 0;
  /** The last seq handed out, durable or from memory. */
  let lastSeq = (readSeq.get() as { value: number }).value;

  const appendEvent = db.transaction((id: string, build: (seq: number) => string): OutboxEvent => {
    const seq = (nextSeqStmt.get(lastSeq + 1) as { value: number }).value;
    const payload = build(seq);
    insertEvent.run(seq, id, payload, Date.now());
    return { seq, id, payload };
  });
  const confirm = db.transaction((ids: readonly string[]) => {
    let n = 0;
    for (const id of ids) n += deleteEvent.run(id).changes;
    return n;
  });
  const appendTelemetry = db.transaction((payload: string, points: number) => {
    insertTelemetry.run(payload, points, Date.now());
    const over = count(countEvents) + count(countTelemetry) - opts.maxRows;
    if (over > 0) {
      const dropped = dropOldestTelemetry.run(over).changes;
      droppedTelemetryBatches += dropped;
    }
  });

  return {
    /**
     * Assigns the next per-gateway seq (persisted, so it survives restarts), lets `build` make the
     * payload with it, and commits both before returning.
     */
    appendEvent(id: string, build: (seq: number) => string): OutboxEvent {
      const stored = appendEvent(id, build);
      lastSeq = stored.seq;
      return stored;
    },
    /** The next seq for an event that could not be written (kept in memory only). */
    reserveSeq(): number {
      lastSeq += 1;
      return lastSeq;
    },
    /**
     * Writes and then removes a row the size of a large event, each in its own committed
     * transaction: throws while the disk (or the database) has no room for a new event.
     */
    probeWrite(): void {
      const row = insertProbe.get('x'.repeat(2048)) as { id: number };
      deleteProbe.run(row.id);
    },
    /** Events not yet confirmed, after `afterSeq`, in order. */
    pendingEvents(afterSeq: number, limit: number): OutboxEvent[] {
      return pendingEvents.all(afterSeq, limit) as OutboxEvent[];
    },
    /** The server committed these: they leave the outbox. Returns how many were still here. */
    confirm(ids: readonly string[]): number {
      return confirm(ids);
    },
    appendTelemetry(payload: string, points: number): void {
      appendTelemetry(payload, points);
    },
    oldestTelemetry(limit: number): OutboxTelemetry[] {
      return oldestTelemetry.all(limit) as OutboxTelemetry[];
    },
    removeTelemetry(rowid: number): void {
      deleteTelemetry.run(rowid);
    },
    depth(): { events: number; telemetry: number; droppedTelemetryBatches: number } {
      return { events: count(countEvents), telemetry: count(countTelemetry), droppedTelemetryBatches };
    },
    close(): void {
      db.close();
    },
  };
}
export type Outbox = ReturnType<typeof openOutbox>;
