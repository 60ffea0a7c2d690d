// Decoding bytes from the wire into typed values: JSON parse plus schema check, with a reason
// that can be logged and counted. Never throws.
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: 'json' | 'schema'; error: string };

export interface Decoder<S extends TSchema> {
  decode(input: Buffer | string): Decoded<Static<S>>;
  check(value: unknown): Decoded<Static<S>>;
}

export const MAX_PAYLOAD_BYTES = 256 * 1024;

export function createDecoder<S extends TSchema>(schema: S): Decoder<S> {
  const compiled = Compile(schema);
  const check = (value: unknown): Decoded<Static<S>> => {
    if (compiled.Check(value)) return { ok: true, value: value as Static<S> };
    const first = [...compiled.Errors(value)].find((e) => e.keyword !== 'boolean') ?? compiled.Errors(value)[0];
    const where = first?.instancePath || '/';
    return { ok: false, reason: 'schema', error: `${where} ${first?.message ?? 'is invalid'}` };
  };
  return {
    check,
    decode(input) {
      if (input.length > MAX_PAYLOAD_BYTES) {
        return { ok: false, reason: 'schema', error: `payload larger than ${MAX_PAYLOAD_BYTES} bytes` };
      }
      let value: unknown;
      try {
        value = JSON.parse(typeof input === 'string' ? input : input.toString('utf8'));
      } catch (err) {
        return { ok: false, reason: 'json', error: (err as Error).message };
      }
      return check(value);
    },
  };
}
