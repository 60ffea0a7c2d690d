// A form drawn from a JSON Schema (a request body schema the server validates with): text and
// number inputs with their limits, selects for enums, checkboxes, optional fields, nested objects
// and lists of objects; a message under each bad field, and submit / saving / error / done states.
// Labels come from i18n: `<labels>.<path>`, else `field.<name>`, else the property's own name.
import type { ComponentChildren, JSX, TargetedInputEvent } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { type MessageKey, translateDynamic } from '../../lib/i18n.ts';
import { useI18n } from '../context.ts';
import {
  changedFields,
  type Draft,
  describeSchema,
  draftFor,
  type Field,
  type FieldError,
  type FormErrors,
  type JsonSchema,
  newItem,
  omitFields,
  readDraft,
  setAt,
} from './schema.ts';

export interface Choice {
  value: string;
  label: string;
}

export interface SchemaFormProps {
  schema: JsonSchema;
  /** The value being edited; absent: a new one from the schema's defaults. */
  value?: Record<string, unknown>;
  /** i18n prefix for labels, e.g. 'field.site' -> 'field.site.name'. */
  labels: string;
  /** Top-level properties the page sets itself (not shown, not sent). */
  omit?: readonly string[];
  /** Properties chosen from a list the page has (a site, a gateway, a resident): shown as selects. */
  choices?: Record<string, Choice[]>;
  /** i18n prefix per enum property for its options, e.g. { role: 'role.' }. */
  optionLabels?: Record<string, string>;
  /** Edit mode: blank nullable fields are sent as null and only changed properties are sent. */
  edit?: boolean;
  onSubmit: (value: Record<string, unknown>) => Promise<unknown>;
  /** Text shown after a successful submit; absent: "Saved". */
  done?: (result: unknown) => string;
  title?: string;
  submitLabel?: string;
  testid?: string;
  /** Shown under the fields (e.g. a secret just issued). */
  children?: ComponentChildren;
  /** Start again from an empty form after a successful create. */
  resetOnDone?: boolean;
}

type Status = { kind: 'idle' } | { kind: 'busy' } | { kind: 'error'; text: string } | { kind: 'done'; text: string };

export function SchemaForm(props: SchemaFormProps) {
  const { t, lang } = useI18n();
  const root = useMemo(() => omitFields(describeSchema(props.schema), props.omit ?? []), [props.schema, props.omit]);
  const [draft, setDraft] = useState<Draft>(() => draftFor(root, props.value));
  const [errors, setErrors] = useState<FormErrors>({});
  const [status, setStatus] = useState<Status>({ kind: 'idle' });

  const label = (path: string, name: string) =>
    translateDynamic(lang, `${props.labels}.${path}`, translateDynamic(lang, `field.${name}`, name));
  const message = (e: FieldError) => t(e.key as MessageKey, e.params);

  const submit = async () => {
    const { value, errors: found } = readDraft(root, draft, { nullForBlank: props.edit ?? false });
    setErrors(found);
    if (Object.keys(found).length > 0) {
      setStatus({ kind: 'error', text: t('form.fix_fields') });
      return;
    }
    let body = value as Record<string, unknown>;
    if (props.edit && props.value) body = changedFields(props.value, body);
    if (props.edit && Object.keys(body).length === 0) {
      setStatus({ kind: 'done', text: t('form.unchanged') });
      return;
    }
    setStatus({ kind: 'busy' });
    try {
      const res = await props.onSubmit(body);
      setStatus({ kind: 'done', text: props.done ? props.done(res) : t('admin.saved') });
      if (props.resetOnDone) setDraft(draftFor(root, undefined));
    } catch (err) {
      setStatus({ kind: 'error', text: t('admin.error', { message: err instanceof Error ? err.message : String(err) }) });
    }
  };

  const busy = status.kind === 'busy';
  return (
    <form
      class="panel admin-form schema-form"
      data-testid={props.testid}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!busy) void submit();
      }}
    >
      {props.title && <h2>{props.title}</h2>}
      <fieldset disabled={busy} class="form-fields">
        {(root.fields ?? []).map((f) => (
          <FieldInput
            key={f.name}
            field={f}
            path={[f.name]}
            draft={(draft as Record<string, Draft>)[f.name] ?? ''}
            onChange={(path, v) => setDraft((d) => setAt(d, path, v))}
            errors={errors}
            label={label}
            message={message}
            choices={props.choices}
            optionLabels={props.optionLabels}
          />
        ))}
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy} aria-busy={busy}>
          {busy ? t('form.saving') : (props.submitLabel ?? t('admin.save'))}
        </button>
      </div>
      {status.kind === 'error' && (
        <p class="error" role="alert" data-testid="form-error">
          {status.text}
        </p>
      )}
      {status.kind === 'done' && (
        <p class="ok" role="status" data-testid="form-done">
          {status.text}
        </p>
      )}
      {props.children}
    </form>
  );
}

interface FieldProps {
  field: Field;
  path: (string | number)[];
  draft: Draft;
  onChange: (path: (string | number)[], v: Draft) => void;
  errors: FormErrors;
  label: (path: string, name: string) => string;
  message: (e: FieldError) => string;
  choices?: Record<string, Choice[]>;
  optionLabels?: Record<string, string>;
}

/** The path as the errors name it ('levels.0.name') and as labels name it ('levels.name'). */
const errorPath = (p: (string | number)[]) => p.join('.');
const labelPath = (p: (string | number)[]) => p.filter((x) => typeof x === 'string').join('.');

function FieldInput(props: FieldProps) {
  const { t, lang } = useI18n();
  const { field: f, path, draft } = props;
  const key = errorPath(path);
  const name = String(path.filter((x) => typeof x === 'string').at(-1) ?? '');
  const text = props.label(labelPath(path), name);
  const error = props.errors[key];
  const id = `f-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const described = error ? `${id}-err` : undefined;
  const set = (v: Draft) => props.onChange(path, v);
  const errorLine = error && (
    <span class="field-error" id={`${id}-err`} data-testid={`error-${key}`}>
      {props.message(error)}
    </span>
  );
  const caption = (
    <span>
      {text}
      {f.required && f.kind !== 'boolean' && <abbr title={t('form.required')}> *</abbr>}
    </span>
  );

  if (f.kind === 'boolean') {
    return (
      <label class="field field-check" for={id}>
        <input id={id} name={key} type="checkbox" checked={draft === true} onChange={(e) => set(e.currentTarget.checked)} />
        <span>{text}</span>
        {errorLine}
      </label>
    );
  }
  if (f.kind === 'object') {
    return (
      <fieldset class="field-group" data-field={key}>
        <legend>{text}</legend>
        {(f.fields ?? []).map((x) => (
          <FieldInput {...props} key={x.name} field={x} path={[...path, x.name]} draft={(draft as Record<string, Draft>)[x.name] ?? ''} />
        ))}
      </fieldset>
    );
  }
  if (f.kind === 'array' && f.item) {
    const items = Array.isArray(draft) ? draft : [];
    const item = f.item;
    return (
      <fieldset class="field-group field-list" data-field={key}>
        <legend>{caption}</legend>
        {items.map((x, i) => (
          // Items have no id of their own; the index is their place in the list.
          <div class="list-item" key={i} data-testid={`item-${key}-${i}`}>
            <FieldInput {...props} field={{ ...item, name: `${i + 1}` }} path={[...path, i]} draft={x} />
            <button
              type="button"
              class="btn btn-quiet"
              onClick={() => set(items.filter((_, j) => j !== i))}
              aria-label={t('form.remove_item', { n: i + 1 })}
            >
              {t('form.remove')}
            </button>
          </div>
        ))}
        <button type="button" class="btn btn-quiet" data-testid={`add-${key}`} onClick={() => set([...items, newItem(f)])}>
          {t('form.add')}
        </button>
        {errorLine}
      </fieldset>
    );
  }

  const s = f.schema;
  const choices = typeof path[path.length - 1] === 'string' ? props.choices?.[key] : undefined;
  let control: JSX.Element;
  if (choices || f.kind === 'enum') {
    const prefix = props.optionLabels?.[name];
    const opts: Choice[] =
      choices ?? (f.options ?? []).map((o) => ({ value: o, label: prefix ? translateDynamic(lang, `${prefix}${o}`, o) : o }));
    control = (
      <select
        id={id}
        name={key}
        value={String(draft)}
        onChange={(e) => set(e.currentTarget.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
      >
        {(!f.required || f.nullable || draft === '') && <option value="">{f.required ? '' : t('admin.none')}</option>}
        {opts.map((o) => (
          <option value={o.value} key={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    );
  } else if (f.kind === 'number' || f.kind === 'integer') {
    control = (
      <input
        id={id}
        name={key}
        type="number"
        inputMode={f.kind === 'integer' ? 'numeric' : 'decimal'}
        step={f.kind === 'integer' ? 1 : 'any'}
        min={s.minimum ?? s.exclusiveMinimum}
        max={s.maximum ?? s.exclusiveMaximum}
        value={String(draft)}
        onInput={(e) => set(e.currentTarget.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
      />
    );
  } else {
    const common = {
      id,
      name: key,
      maxLength: s.maxLength,
      value: String(draft),
      onInput: (e: TargetedInputEvent<HTMLInputElement>) => set(e.currentTarget.value),
      'aria-invalid': error ? true : undefined,
      'aria-describedby': described,
    };
    control = /password|secret/i.test(name) ? (
      <input {...common} type="password" autoComplete="new-password" />
    ) : (
      <input {...common} type="text" autoComplete="off" />
    );
  }
  return (
    <label class="field" for={id} data-field={key}>
      {caption}
      {control}
      {errorLine}
    </label>
  );
}
