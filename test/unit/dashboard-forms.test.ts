// Schema-driven forms: the fields a TypeBox schema gives (the same kind of schema the server
// validates request bodies with), drafts of values, and checking a draft before it is sent.
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import {
  changedFields,
  describeSchema,
  draftFor,
  type JsonSchema,
  newItem,
  omitFields,
  readDraft,
  setAt,
} from '../../dashboard/src/ui/forms/schema.ts';

// What GET /api/v1/schemas hands the dashboard: the schema as JSON, no TypeBox on the page.
const asJson = (s: unknown) => JSON.parse(JSON.stringify(s)) as JsonSchema;

const Person = asJson(
  Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 20 }),
      code: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$', maxLength: 64 })),
      role: Type.Enum(['admin', 'caregiver', 'family'] as const),
      age: Type.Optional(Type.Integer({ minimum: 60, maximum: 130 })),
      weight: Type.Optional(Type.Number({ minimum: 20 })),
      wanderRisk: Type.Optional(Type.Boolean()),
      residentId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
      priority: Type.Union([Type.Literal('high'), Type.Literal('low')]),
      nightWindow: Type.Optional(Type.Object({ start: Type.String(), end: Type.String() })),
      contacts: Type.Array(Type.Object({ kind: Type.Enum(['user', 'sms'] as const), target: Type.String({ minLength: 1 }) }), {
        minItems: 1,
        maxItems: 3,
      }),
    },
    { additionalProperties: false },
  ),
);

describe('schema-driven forms: fields', () => {
  it('describes strings, numbers, enums, booleans, optional and nullable fields, objects and arrays', () => {
    const f = describeSchema(Person);
    const by = Object.fromEntries((f.fields ?? []).map((x) => [x.name, x]));
    expect(by.name).toMatchObject({ kind: 'string', required: true, nullable: false });
    expect(by.code).toMatchObject({ kind: 'string', required: false });
    expect(by.role).toMatchObject({ kind: 'enum', options: ['admin', 'caregiver', 'family'] });
    expect(by.age).toMatchObject({ kind: 'integer', required: false });
    expect(by.weight?.kind).toBe('number');
    expect(by.wanderRisk?.kind).toBe('boolean');
    expect(by.residentId).toMatchObject({ kind: 'string', nullable: true, required: false });
    expect(by.priority).toMatchObject({ kind: 'enum', options: ['high', 'low'] });
    expect(by.nightWindow?.fields?.map((x) => x.name)).toEqual(['start', 'end']);
    expect(by.contacts?.item?.fields?.map((x) => [x.name, x.kind])).toEqual([
      ['kind', 'enum'],
      ['target', 'string'],
    ]);
    expect(omitFields(f, ['name', 'role']).fields?.map((x) => x.name)).not.toContain('name');
  });

  it('drafts a value with numbers as text and an empty list for a missing array', () => {
    const f = describeSchema(Person);
    expect(draftFor(f, { name: 'Wang', age: 81, wanderRisk: true, residentId: null })).toMatchObject({
      name: 'Wang',
      age: '81',
      wanderRisk: true,
      residentId: '',
      contacts: [],
      nightWindow: { start: '', end: '' },
    });
    const contacts = describeSchema(Person).fields?.find((x) => x.name === 'contacts');
    expect(contacts && newItem(contacts)).toEqual({ kind: '', target: '' });
  });
});

describe('schema-driven forms: checking a draft', () => {
  const f = describeSchema(Person);
  const good = () =>
    draftFor(f, { name: 'Wang', role: 'caregiver', priority: 'high', contacts: [{ kind: 'sms', target: '+8613800000000' }] });

  it('turns a good draft into the value the API takes: numbers parsed, blank optionals left out', () => {
    const d = setAt(setAt(good(), ['age'], '81'), ['weight'], '52.5');
    const { value, errors } = readDraft(f, d);
    expect(errors).toEqual({});
    expect(value).toEqual({
      name: 'Wang',
      role: 'caregiver',
      age: 81,
      weight: 52.5,
      wanderRisk: false,
      priority: 'high',
      contacts: [{ kind: 'sms', target: '+8613800000000' }],
    });
  });

  it('names each bad field with its message: required, limits, pattern, not a number, not a whole number', () => {
    let d = setAt(good(), ['name'], '');
    d = setAt(d, ['code'], 'Bad Code');
    d = setAt(d, ['age'], '59');
    d = setAt(d, ['weight'], 'heavy');
    d = setAt(d, ['role'], '');
    d = setAt(d, ['contacts', 0, 'target'], '');
    const { errors } = readDraft(f, d);
    expect(errors).toEqual({
      name: { key: 'form.required' },
      code: { key: 'form.pattern' },
      age: { key: 'form.min', params: { n: 60 } },
      weight: { key: 'form.not_number' },
      role: { key: 'form.choose' },
      'contacts.0.target': { key: 'form.required' },
    });
    expect(readDraft(f, setAt(good(), ['age'], '80.5')).errors.age).toEqual({ key: 'form.not_integer' });
    expect(readDraft(f, setAt(good(), ['name'], 'x'.repeat(21))).errors.name).toEqual({ key: 'form.too_long', params: { n: 20 } });
    expect(readDraft(f, setAt(good(), ['contacts'], [])).errors.contacts).toEqual({ key: 'form.min_items', params: { n: 1 } });
  });

  it('an edit sends a cleared nullable field as null and only what changed', () => {
    const before = { name: 'Wang', role: 'caregiver', priority: 'high', residentId: 'res-1', contacts: [{ kind: 'sms', target: '1' }] };
    const d = setAt(setAt(draftFor(f, before), ['residentId'], ''), ['name'], 'Wang Xiuying');
    const { value, errors } = readDraft(f, d, { nullForBlank: true });
    expect(errors).toEqual({});
    expect(changedFields(before, value as Record<string, unknown>)).toEqual({ name: 'Wang Xiuying', residentId: null, wanderRisk: false });
  });

  it('refuses a value outside the enum instead of sending it', () => {
    expect(readDraft(f, setAt(good(), ['role'], 'root')).errors.role).toEqual({ key: 'form.choose' });
  });
});
