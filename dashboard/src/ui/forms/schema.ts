// Forms from JSON Schema (the TypeBox schemas the server validates request bodies with, served by
// GET /api/v1/schemas): which fields a schema has, the editable draft of a value, and turning a
// draft back into a value with a message per bad field. Pure: no DOM, no Preact, so unit tests
// run it directly; SchemaForm.tsx renders it.

/** The part of JSON Schema a form understands (TypeBox emits exactly these keywords). */
export interface JsonSchema {
  type?: string | string[];
  enum?: readonly unknown[];
  const?: unknown;
  anyOf?: readonly JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  description?: string;
  format?: string;
}

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'object' | 'array' | 'unsupported';

export interface Field {
  /** The property name ('' for the root and for array items). */
  name: string;
  kind: FieldKind;
  required: boolean;
  /** The schema also allows null: an emptied field is sent as null (e.g. "no resident"). */
  nullable: boolean;
  schema: JsonSchema;
  /** For `enum`: the allowed values, in the schema's order. */
  options?: string[];
  /** For `object`: its properties in the schema's order. */
  fields?: Field[];
  /** For `array`: what one item is. */
  item?: Field;
}

/** A value being edited: numbers stay text until submitted, so a half-typed "1." is not lost. */
export type Draft = string | boolean | Draft[] | { [key: string]: Draft };

/** A message for one field: an i18n key (form.*) and its parameters. */
export interface FieldError {
  key:
    | 'form.required'
    | 'form.too_short'
    | 'form.too_long'
    | 'form.pattern'
    | 'form.not_number'
    | 'form.not_integer'
    | 'form.min'
    | 'form.max'
    | 'form.min_items'
    | 'form.max_items'
    | 'form.choose';
  params?: Record<string, number>;
}
/** Errors by path ('name', 'levels.0.timeoutSeconds'). */
export type FormErrors = Record<string, FieldError>;

const isNull = (s: JsonSchema) => s.type === 'null' || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === 'null');

/** Describes a schema as a tree of fields. */
export function describeSchema(schema: JsonSchema, name = '', required = true): Field {
  let s = schema;
  let nullable = false;
  if (s.anyOf) {
    const rest = s.anyOf.filter((x) => !isNull(x));
    nullable = rest.length < s.anyOf.length;
    // A union of literals (Type.Union([Type.Literal('a'), ...])) is an enum.
    if (rest.length > 0 && rest.every((x) => x.const !== undefined)) {
      return { name, kind: 'enum', required, nullable, schema: s, options: rest.map((x) => String(x.const)) };
    }
    if (rest.length !== 1 || !rest[0]) return { name, kind: 'unsupported', required, nullable, schema: s };
    s = rest[0];
  }
  if (Array.isArray(s.type)) {
    nullable ||= s.type.includes('null');
    const t = s.type.filter((x) => x !== 'null');
    s = { ...s, type: t.length === 1 ? t[0] : t };
  }
  if (s.enum) return { name, kind: 'enum', required, nullable, schema: s, options: s.enum.map(String) };
  if (s.const !== undefined) return { name, kind: 'enum', required, nullable, schema: s, options: [String(s.const)] };
  switch (s.type) {
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      return { name, kind: s.type, required, nullable, schema: s };
    case 'object': {
      const req = new Set(s.required ?? []);
      const fields = Object.entries(s.properties ?? {}).map(([k, v]) => describeSchema(v, k, req.has(k)));
      return { name, kind: 'object', required, nullable, schema: s, fields };
    }
    case 'array':
      return s.items
        ? { name, kind: 'array', required, nullable, schema: s, item: describeSchema(s.items, '', true) }
        : { name, kind: 'unsupported', required, nullable, schema: s };
    default:
      return { name, kind: 'unsupported', required, nullable, schema: s };
  }
}

/** Leaves out the named top-level properties (set by the page, e.g. an id in the URL). */
export function omitFields(f: Field, names: readonly string[]): Field {
  return f.fields ? { ...f, fields: f.fields.filter((x) => !names.includes(x.name)) } : f;
}

/** The editable draft of `value` (or of the schema's defaults when there is no value). */
export function draftFor(f: Field, value: unknown): Draft {
  const v = value === undefined ? f.schema.default : value;
  switch (f.kind) {
    case 'boolean':
      return v === true;
    case 'object': {
      const o = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
      return Object.fromEntries((f.fields ?? []).map((x) => [x.name, draftFor(x, o[x.name])]));
    }
    case 'array':
      return Array.isArray(v) && f.item ? v.map((x) => draftFor(f.item as Field, x)) : [];
    case 'unsupported':
      return v === undefined || v === null ? '' : JSON.stringify(v);
    default:
      return v === undefined || v === null ? '' : String(v);
  }
}

/** A fresh item for an array field (its "add" button). */
export const newItem = (f: Field): Draft => (f.item ? draftFor(f.item, undefined) : '');

/** An empty draft: the field was left blank (an unticked box is a value, false). */
const blank = (d: Draft) => d === '' || (Array.isArray(d) && d.length === 0);
/** Nothing filled in anywhere below (an optional group left alone). */
const untouched = (d: Draft | undefined): boolean =>
  d === undefined || d === false || blank(d) || (typeof d === 'object' && !Array.isArray(d) && Object.values(d).every(untouched));

/**
 * The value a draft stands for, checked against the schema. A blank optional field is left out
 * (on an edit: unchanged), or sent as null when the schema allows null and `nullForBlank` is set;
 * a blank required field is an error.
 */
export function readDraft(f: Field, draft: Draft, opts: { nullForBlank?: boolean } = {}): { value: unknown; errors: FormErrors } {
  const errors: FormErrors = {};
  const value = read(f, draft, '', errors, opts.nullForBlank ?? false);
  return { value, errors };
}

const OMIT = Symbol('omit');

function read(f: Field, d: Draft, path: string, errors: FormErrors, nullForBlank: boolean): unknown {
  const s = f.schema;
  const fail = (e: FieldError) => {
    errors[path] = e;
    return OMIT;
  };
  if (f.kind !== 'boolean' && f.kind !== 'object' && blank(d) && !(f.kind === 'array' && f.required)) {
    if (f.kind === 'array' && !f.required) return OMIT;
    if (!f.required) return f.nullable && nullForBlank ? null : OMIT;
    if (f.nullable) return null;
    return fail({ key: f.kind === 'enum' ? 'form.choose' : 'form.required' });
  }
  switch (f.kind) {
    case 'boolean':
      return d === true;
    case 'string': {
      const text = String(d);
      if (s.minLength !== undefined && text.length < s.minLength) return fail({ key: 'form.too_short', params: { n: s.minLength } });
      if (s.maxLength !== undefined && text.length > s.maxLength) return fail({ key: 'form.too_long', params: { n: s.maxLength } });
      if (s.pattern && !new RegExp(s.pattern, 'u').test(text)) return fail({ key: 'form.pattern' });
      return text;
    }
    case 'number':
    case 'integer': {
      const text = String(d).trim();
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) return fail({ key: 'form.not_number' });
      if (f.kind === 'integer' && !Number.isInteger(n)) return fail({ key: 'form.not_integer' });
      if (s.minimum !== undefined && n < s.minimum) return fail({ key: 'form.min', params: { n: s.minimum } });
      if (s.exclusiveMinimum !== undefined && n <= s.exclusiveMinimum) return fail({ key: 'form.min', params: { n: s.exclusiveMinimum } });
      if (s.maximum !== undefined && n > s.maximum) return fail({ key: 'form.max', params: { n: s.maximum } });
      if (s.exclusiveMaximum !== undefined && n >= s.exclusiveMaximum) return fail({ key: 'form.max', params: { n: s.exclusiveMaximum } });
      return n;
    }
    case 'enum': {
      const text = String(d);
      const raw = (s.enum ?? s.anyOf?.map((x) => x.const) ?? [s.const]).find((x) => String(x) === text);
      return raw === undefined ? fail({ key: 'form.choose' }) : raw;
    }
    case 'object': {
      const o = (d && typeof d === 'object' && !Array.isArray(d) ? d : {}) as Record<string, Draft>;
      // An optional group left wholly blank is left out, not checked field by field.
      if (!f.required && path && untouched(o)) return f.nullable && nullForBlank ? null : OMIT;
      const out: Record<string, unknown> = {};
      for (const x of f.fields ?? []) {
        const v = read(x, o[x.name] ?? draftFor(x, undefined), path ? `${path}.${x.name}` : x.name, errors, nullForBlank);
        if (v !== OMIT) out[x.name] = v;
      }
      return out;
    }
    case 'array': {
      const items = Array.isArray(d) ? d : [];
      if (s.minItems !== undefined && items.length < s.minItems) return fail({ key: 'form.min_items', params: { n: s.minItems } });
      if (s.maxItems !== undefined && items.length > s.maxItems) return fail({ key: 'form.max_items', params: { n: s.maxItems } });
      const item = f.item as Field;
      return items.map((x, i) => {
        const v = read(item, x, path ? `${path}.${i}` : String(i), errors, nullForBlank);
        return v === OMIT ? null : v;
      });
    }
    default: {
      try {
        return JSON.parse(String(d));
      } catch {
        return fail({ key: 'form.pattern' });
      }
    }
  }
}

/** The draft with the value at `path` (a list of keys and indexes) replaced; the draft is not changed. */
export function setAt(d: Draft, path: readonly (string | number)[], v: Draft): Draft {
  if (path.length === 0) return v;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(d)) {
    const copy = [...d];
    copy[Number(head)] = setAt(copy[Number(head)] ?? '', rest, v);
    return copy;
  }
  const o = d && typeof d === 'object' ? d : {};
  return { ...o, [head]: setAt((o as Record<string, Draft>)[String(head)] ?? '', rest, v) };
}

/** Only the top-level properties that differ from `before`: what an edit (PATCH) sends. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) {
    if (JSON.stringify(v) !== JSON.stringify(before[k] ?? null)) out[k] = v;
  }
  return out;
}
