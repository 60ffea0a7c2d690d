// A suite's guard for a missing outside program: skip on a developer's machine, fail under CI.
import { describe, expect, it } from 'vitest';
import { requireComponent } from '../helpers/require-component.ts';

describe('requireComponent', () => {
  it('fails under CI=true when the component is missing, naming it', () => {
    expect(() => requireComponent('postgresql', false, { CI: 'true' })).toThrow(/postgresql/);
    expect(() => requireComponent('redis-server', false, { CI: '1' })).toThrow(/redis-server/);
  });
  it('lets a suite skip outside CI, and passes when the component is there', () => {
    expect(requireComponent('postgresql', false, {})).toBe(false);
    expect(requireComponent('postgresql', false, { CI: 'false' })).toBe(false);
    expect(requireComponent('postgresql', true, { CI: 'true' })).toBe(true);
  });
});
