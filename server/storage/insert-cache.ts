// Inserts on the alarm path (the event, the alarm, its audit entry) have the same shape every
// time: only the values change. Kysely builds and compiles each one afresh (parsing the row,
// freezing nodes, visiting them), about 8 % of the main thread at 1,000 alarms/s. Here the SQL is
// compiled once per shape (table, columns, dialect) and later rows run as that SQL with their
// values. A shape is cached only when the compiled parameters are exactly the row's values in key
// order, checked on the first compile; otherwise every row takes Kysely's path.
import { type Compilable, CompiledQuery, type QueryResult } from 'kysely';
import type { Db } from './registry.ts';

export function cachedInsert<R extends object>(build: (db: Db, row: R) => Compilable) {
  /** SQL by dialect adapter and column list; null: this shape is not cacheable. */
  const cache = new Map<string, string | null>();
  return async (db: Db, row: R): Promise<QueryResult<unknown>> => {
    const keys = Object.keys(row);
    const key = `${db.getExecutor().adapter.constructor.name}|${keys.join(',')}`;
    const values = keys.map((k) => (row as Record<string, unknown>)[k]);
    // Kysely leaves a column whose value is undefined out (its default applies): such a row is
    // never run as another row's SQL.
    const known = values.includes(undefined) ? null : cache.get(key);
    if (known) return db.executeQuery(CompiledQuery.raw(known, values));
    const compiled = build(db, row).compile();
    if (known === undefined) {
      const same = compiled.parameters.length === values.length && compiled.parameters.every((p, i) => p === values[i]);
      if (cache.size < 100) cache.set(key, same ? compiled.sql : null);
    }
    return db.executeQuery(compiled);
  };
}

/**
 * A query of fixed shape whose values change (a lookup by id, a compare-and-set update), compiled
 * once per dialect and run afterwards as that SQL with the call's values: Kysely's building and
 * compiling (freezing, cloning and visiting nodes) was most of the cost of the alarm path's small
 * statements (the heard-device update alone, 8 % of the main thread at 1,000 events/s). `build`
 * is called once with a marker in place of each value; the compiled parameters must all be
 * markers (each value bound, nothing else), else every call takes Kysely's path. Values must be
 * scalars: a list (`in`) changes the SQL with its length.
 */
export function compiledOnce<P extends Record<string, string | number | null>, O>(build: (db: Db, p: P) => Compilable<O>) {
  /** SQL and which value goes to each parameter, by dialect adapter; null: not cacheable. */
  const cache = new Map<string, { sql: string; order: Array<keyof P> } | null>();
  return async (db: Db, p: P): Promise<QueryResult<O>> => {
    const key = db.getExecutor().adapter.constructor.name;
    let known = cache.get(key);
    if (known === undefined) {
      const names = Object.keys(p) as Array<keyof P>;
      const marker = (i: number) => `\u0000compiledOnce:${i}\u0000`;
      const compiled = build(db, Object.fromEntries(names.map((n, i) => [n, marker(i)])) as P).compile();
      const order = compiled.parameters.map((v) => names[names.findIndex((_, i) => v === marker(i))]);
      known = order.every((n) => n !== undefined) ? { sql: compiled.sql, order: order as Array<keyof P> } : null;
      if (cache.size < 100) cache.set(key, known);
    }
    if (!known) return db.executeQuery(build(db, p).compile());
    return db.executeQuery(
      CompiledQuery.raw(
        known.sql,
        known.order.map((n) => p[n]),
      ),
    ) as Promise<QueryResult<O>>;
  };
}
