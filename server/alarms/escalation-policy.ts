// The linked-response chain of a site (DESIGN.md 3.8): levels with per-priority timeouts and
// contacts. Level 0 is the on-duty caregivers' screens. Sites without a policy get the default
// chain, so an unanswered alarm always moves on: a config gap never leaves it sitting.
import Type, { type Static } from 'typebox';
import type { Priority } from '../../protocol/index.ts';

const Seconds = Type.Integer({ minimum: 5, maximum: 86_400 });
export const EscalationPolicy = Type.Object(
  {
    levels: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 100 }),
          timeoutSeconds: Type.Union([
            Seconds,
            Type.Object({ high: Seconds, medium: Seconds, low: Seconds }, { additionalProperties: false }),
          ]),
          /**
           * With this set, the level's contacts are tried one after another: the next one is
           * notified when the previous has not accepted within it. Without it, all at once.
           */
          acceptSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 3600 })),
          /**
           * In a call tree, how often a contact who has not accepted is paged again (a `user` on
           * their next channel: push, then SMS) before the next contact is tried. Default: 1 for a
           * `user` (push, then SMS), 0 for others.
           */
          repages: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
          contacts: Type.Array(
            Type.Object(
              { kind: Type.Enum(['user', 'webhook', 'sms', 'push'] as const), target: Type.String({ minLength: 1, maxLength: 500 }) },
              { additionalProperties: false },
            ),
            { maxItems: 50 },
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10 },
    ),
    webhookSecret: Type.Optional(Type.String({ minLength: 16, maxLength: 200 })),
    /**
     * After an alarm about a person is accepted, someone must be on site within this; otherwise it
     * is escalated again (response-chain.ts) [DEFAULT_ATTEND_SECONDS].
     */
    attendSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
export type EscalationPolicy = Static<typeof EscalationPolicy>;
export type Contact = EscalationPolicy['levels'][number]['contacts'][number];

export const DEFAULT_POLICY: EscalationPolicy = {
  levels: [
    { name: 'caregiver', timeoutSeconds: { high: 60, medium: 300, low: 1800 }, contacts: [] },
    { name: 'nurse_lead', timeoutSeconds: { high: 120, medium: 600, low: 3600 }, contacts: [] },
    { name: 'family', timeoutSeconds: { high: 300, medium: 900, low: 7200 }, contacts: [] },
    { name: 'emergency_responder', timeoutSeconds: { high: 600, medium: 1800, low: 14400 }, contacts: [] },
  ],
};

/** Time from accept to someone on site before an alarm about a person is escalated again. */
export const DEFAULT_ATTEND_SECONDS = 1800;

export function levelTimeoutMs(policy: EscalationPolicy, level: number, priority: Priority): number | null {
  // The last level has nobody further to hand over to.
  if (level >= policy.levels.length - 1) return null;
  const t = policy.levels[level]?.timeoutSeconds;
  if (t === undefined) return null;
  return (typeof t === 'number' ? t : t[priority]) * 1000;
}

export interface PolicySource {
  get(siteId: string | null): EscalationPolicy;
}
