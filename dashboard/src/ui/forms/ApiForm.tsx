// A form for one API route, drawn from the body schema the server validates that route with
// (GET /api/v1/schemas, read once per sign-in): loading and error states, then SchemaForm.
import type { Api } from '../../api.ts';
import { useI18n, useSession } from '../context.ts';
import { useLoad } from '../hooks.ts';
import { SchemaForm, type SchemaFormProps } from './SchemaForm.tsx';
import type { JsonSchema } from './schema.ts';

const cache = new WeakMap<Api, Promise<Record<string, JsonSchema>>>();

/** Every route's body schema, fetched once per session (a failed read is tried again next time). */
export function bodySchemas(api: Api): Promise<Record<string, JsonSchema>> {
  let p = cache.get(api);
  if (!p) {
    p = api.get<{ bodies: Record<string, JsonSchema> }>('/schemas').then((r) => r.bodies);
    p.catch(() => cache.delete(api));
    cache.set(api, p);
  }
  return p;
}

/** The body schema of `route` ("PATCH /api/v1/sites/:id"), with loading and error states. */
export function useBodySchema(route: string) {
  const { api } = useSession();
  return useLoad(async () => {
    const s = (await bodySchemas(api))[route];
    if (!s) throw new Error(`no schema for ${route}`);
    return s;
  }, [api, route]);
}

export function ApiForm(props: Omit<SchemaFormProps, 'schema'> & { route: string }) {
  const { t } = useI18n();
  const { route, ...rest } = props;
  const schema = useBodySchema(route);
  if (schema.data) return <SchemaForm {...rest} schema={schema.data} />;
  return (
    <div class="panel admin-form" data-testid={props.testid}>
      {props.title && <h2>{props.title}</h2>}
      {schema.error ? (
        <p class="error" role="alert">
          {t('form.load_failed', { message: schema.error })}{' '}
          <button type="button" class="btn btn-quiet" onClick={schema.reload}>
            {t('form.retry')}
          </button>
        </p>
      ) : (
        <p class="muted">{t('form.loading')}</p>
      )}
    </div>
  );
}
