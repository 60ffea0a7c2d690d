// Escalation policies per site, read through a cache so the hot path does not query for them.
// Writes go to the database first.
import type { Db } from '../storage/registry.ts';
import { DEFAULT_POLICY, type EscalationPolicy, type PolicySource } from './escalation-policy.ts';

export async function loadPolicies(
  db: Db,
): Promise<PolicySource & { set(siteId: string, p: EscalationPolicy, now: string): Promise<void>; reload(): Promise<void> }> {
  let cache = new Map<string, EscalationPolicy>();
  /** Reads every policy afresh: at start, and when another instance has written one. */
  async function reload() {
    const next = new Map<string, EscalationPolicy>();
    for (const row of await db.selectFrom('escalation_policies').selectAll().execute()) {
      next.set(row.site_id, JSON.parse(row.policy) as EscalationPolicy);
    }
    cache = next;
  }
  await reload();
  return {
    reload,
    get: (siteId) => (siteId && cache.get(siteId)) || DEFAULT_POLICY,
    async set(siteId, policy, now) {
      const text = JSON.stringify(policy);
      await db
        .insertInto('escalation_policies')
        .values({ site_id: siteId, policy: text, updated_at: now })
        .onConflict((oc) => oc.column('site_id').doUpdateSet({ policy: text, updated_at: now }))
        .execute();
      cache.set(siteId, policy);
    },
  };
}
export type Policies = Awaited<ReturnType<typeof loadPolicies>>;
