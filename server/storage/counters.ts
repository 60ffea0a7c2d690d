// Counters in the state database, shared by every server instance: one atomic increment each call,
// so two instances (or two starts of one) never get the same value.
import type { Db } from './registry.ts';

export async function nextCounter(db: Db, name: string): Promise<number> {
  await db
    .insertInto('counters')
    .values({ name, value: 0 })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .updateTable('counters')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', name)
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}
