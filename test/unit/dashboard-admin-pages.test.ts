// The admin pages' own checks before they save: the chain editor's draft and the body it sends
// (what the page does not edit goes back as it was), and the vital limits' body.
import { describe, expect, it } from 'vitest';
import { chainLimits, draftOf, type Level, policyOf } from '../../dashboard/src/ui/pages/EscalationPage.tsx';
import { limitsBody } from '../../dashboard/src/ui/pages/LimitsPage.tsx';

const limits = chainLimits(null);
const levels: Level[] = [
  { name: 'caregiver', timeoutSeconds: { high: 60, medium: 300, low: 1800 }, contacts: [] },
  {
    name: 'family',
    timeoutSeconds: 120,
    acceptSeconds: 30,
    repages: 2,
    future: 'kept',
    contacts: [{ kind: 'sms', target: '+8613800000000' }],
  },
];
const top = { secret: '', attend: '', extra: {} };

describe('the chain editor', () => {
  it('sends back what it loaded: per-priority and single waits, call trees, repages and properties it does not know', () => {
    const r = policyOf(levels.map(draftOf), { ...top, attend: '900', extra: { later: 1 } }, limits);
    expect(r).toEqual({ body: { later: 1, levels, attendSeconds: 900 } });
  });

  it('names the level at fault, numbered as shown (level 0 is the screens)', () => {
    const drafts = levels.map(draftOf);
    expect(policyOf([{ ...drafts[0]!, high: '4' }, drafts[1]!], top, limits)).toEqual({
      problem: ['chain.problem_wait', { n: 0, min: 5 }],
    });
    expect(policyOf([drafts[0]!, { ...drafts[1]!, name: ' ' }], top, limits)).toEqual({ problem: ['chain.problem_name', { n: 1 }] });
    const noTarget = { ...drafts[1]!, contacts: [{ kind: 'webhook', target: '' }] };
    expect(policyOf([drafts[0]!, noTarget], top, limits)).toEqual({ problem: ['chain.problem_target', { n: 1 }] });
    expect(policyOf(drafts, { ...top, secret: 'short' }, limits)).toEqual({ problem: ['chain.problem_secret', { min: 16 }] });
  });

  it('sends a secret only when one is typed (the server keeps the stored one otherwise)', () => {
    const r = policyOf(levels.map(draftOf), { ...top, secret: 'a-secret-of-16-chars+' }, limits);
    expect('body' in r && r.body.webhookSecret).toBe('a-secret-of-16-chars+');
    const none = policyOf(levels.map(draftOf), top, limits);
    expect('body' in none && 'webhookSecret' in none.body).toBe(false);
  });

  it('offers the contact kinds and limits of the server schema', () => {
    const schema = {
      properties: {
        levels: {
          items: {
            properties: {
              timeoutSeconds: { anyOf: [{ type: 'integer', minimum: 10 }, { type: 'object' }] },
              contacts: { items: { properties: { kind: { enum: ['user', 'sms', 'push', 'webhook'] } } } },
            },
          },
        },
        webhookSecret: { minLength: 20 },
      },
    };
    expect(chainLimits(schema)).toMatchObject({
      kinds: ['user', 'sms', 'push', 'webhook'],
      minSeconds: 10,
      secretMin: 20,
      repages: null,
      attend: null,
    });
  });
});

describe('vital limits', () => {
  const blank = { min: '', max: '', sustainSeconds: '' };
  it('leaves out a metric with nothing set and keeps what is set', () => {
    expect(limitsBody({ heart_rate: { min: '50', max: '110', sustainSeconds: '' }, spo2: blank }, { bed_exit: '30', vitals: '' })).toEqual({
      body: { vitals: { heart_rate: { min: 50, max: 110 } }, confirmDelaySeconds: { bed_exit: 30 } },
    });
  });
  it('refuses a minimum not below the maximum, a fractional sustain, a delay past 600 s', () => {
    expect(limitsBody({ spo2: { min: '95', max: '90', sustainSeconds: '' } }, {})).toEqual({ bad: 'spo2' });
    expect(limitsBody({ heart_rate: { min: '40', max: '', sustainSeconds: '1.5' } }, {})).toEqual({ bad: 'heart_rate' });
    expect(limitsBody({}, { inactivity: '601' })).toEqual({ bad: 'inactivity' });
  });
});
