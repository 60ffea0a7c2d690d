// Decoding bytes from the wire into typed values: JSON parse plus schema check, with a reason
// that can be logged and counted. Never throws.
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export type DecodeReason = 'json' | 'schema' | 'too_deep' | 'too_large';
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DecodeReason; error: string };

export interface Decoder<S extends TSchema> {
  decode(input: Buffer | string): Decoded<Static<S>>;
  check(value: unknown): Decoded<Static<S>>;
}

export const MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * Shape bounds checked before the schema. A schema's `Unknown` (an event's free-form `data`) lets
 * anything through, and a value nested thousands deep makes `JSON.stringify` and every recursive
 * reader after it throw, so depth and size are bounded at the edge, for every payload.
 */
export interface DecodeLimits {
  /** Nesting of objects and arrays, the payload's own top level counting as 1. */
  maxDepth?: number;
  /** Objects, arrays and scalar values in the whole payload. */
  maxNodes?: number;
  /** Bytes of the encoded payload (`decode`) or of its JSON (`check`). */
  maxBytes?: number;
}

const DEFAULT_LIMITS: Required<DecodeLimits> = { maxDepth: 32, maxNodes: Number.POSITIVE_INFINITY, maxBytes: MAX_PAYLOAD_BYTES };

/** Iterative (a recursive walk would itself overflow the stack on the values it must refuse). */
function shapeError(value: unknown, limits: Required<DecodeLimits>): { reason: 'too_deep' | 'too_large'; error: string } | null {
  const stack: Array<[unknown, number]> = [[value, 1]];
  let nodes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    nodes += 1;
    if (nodes > limits.maxNodes) return { reason: 'too_large', error: `more than ${limits.maxNodes} values` };
    if (v === null || typeof v !== 'object') continue;
    if (depth > limits.maxDepth) return { reason: 'too_deep', error: `nested deeper than ${limits.maxDepth} levels` };
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
      else nodes += 1;
    }
  }
  if (nodes > limits.maxNodes) return { reason: 'too_large', error: `more than ${limits.maxNodes} values` };
  return null;
}

export function createDecoder<S extends TSchema>(schema: S, limits: DecodeLimits = {}): Decoder<S> {
  const compiled = Compile(schema);
  const bounds = { ...DEFAULT_LIMITS, ...limits };
  const checkSchema = (value: unknown): Decoded<Static<S>> => {
    const shape = shapeError(value, bounds);
    if (shape) return { ok: false, ...shape };
    if (compiled.Check(value)) return { ok: true, value: value as Static<S> };
    const first = [...compiled.Errors(value)].find((e) => e.keyword !== 'boolean') ?? compiled.Errors(value)[0];
    const where = first?.instancePath || '/';
    return { ok: false, reason: 'schema', error: `${where} ${first?.message ?? 'is invalid'}` };
  };
  const tooLarge = (n: number): Decoded<Static<S>> => ({ ok: false, reason: 'too_large', error: `payload larger than ${n} bytes` });
  return {
    check(value) {
      const checked = checkSchema(value);
      // A value built in-process (the gateway's own events) is held to the same size as the wire.
      if (checked.ok && bounds.maxBytes < MAX_PAYLOAD_BYTES && Buffer.byteLength(JSON.stringify(value)) > bounds.maxBytes) {
        return tooLarge(bounds.maxBytes);
      }
      return checked;
    },
    decode(input) {
      const bytes = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
      if (bytes > Math.min(bounds.maxBytes, MAX_PAYLOAD_BYTES)) return tooLarge(Math.min(bounds.maxBytes, MAX_PAYLOAD_BYTES));
      let value: unknown;
      try {
        value = JSON.parse(typeof input === 'string' ? input : input.toString('utf8'));
      } catch (err) {
        return { ok: false, reason: 'json', error: (err as Error).message };
      }
      return checkSchema(value);
    },
  };
}
