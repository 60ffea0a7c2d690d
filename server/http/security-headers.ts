// The security headers of every answer (Content-Security-Policy, X-Content-Type-Options, ...), as
// helmet sets them, worked out once per variant instead of for every request. @fastify/helmet built
// the whole helmet middleware again for each request (parsing and checking every CSP directive):
// 17 % of the main thread's busy time serving cached alarm pages (docs/profile-rest-reads.md).
// The headers are helmet's own: helmet runs once per variant against a recorder, and what it set
// (and removed) is replayed on each answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

export interface SecurityHeadersOptions {
  /**
   * What in the headers depends on the request, as a string (the CSP's WebSocket origins, from its
   * Host): one header set is worked out and kept per distinct value.
   */
  variantOf(req: IncomingMessage): string;
  /** Helmet's options for a variant; every directive a fixed value (no functions of the request). */
  helmetOptions(variant: string): HelmetOptions;
  /** Variants kept at most (Host is the client's to choose); the oldest goes first [64]. */
  maxVariants?: number;
}

interface HeaderSet {
  set: Array<[string, string]>;
  removed: string[];
}

/** What helmet does to an answer's headers with these options. */
export function helmetHeaders(options: HelmetOptions): HeaderSet {
  const out: HeaderSet = { set: [], removed: [] };
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      out.set.push([name, String(value)]);
    },
    removeHeader(name: string) {
      out.removed.push(name);
    },
  };
  let failed: unknown;
  helmet(options)({ headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    failed = err;
  });
  if (failed) throw failed;
  return out;
}

const plugin: FastifyPluginAsync<SecurityHeadersOptions> = async (app, { variantOf, helmetOptions, maxVariants = 64 }) => {
  const kept = new Map<string, HeaderSet>();
  const headersFor = (variant: string): HeaderSet => {
    let headers = kept.get(variant);
    if (!headers) {
      headers = helmetHeaders(helmetOptions(variant));
      if (kept.size >= maxVariants) kept.delete(kept.keys().next().value as string);
      kept.set(variant, headers);
    }
    return headers;
  };
  // Fails at start-up, not on the first request, if the options are wrong.
  headersFor(variantOf({ headers: {} } as IncomingMessage));
  app.addHook('onRequest', (req, reply, done) => {
    const { set, removed } = headersFor(variantOf(req.raw));
    const res = reply.raw;
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    done();
  });
};

/** Not encapsulated: the headers go on every route registered after it. */
export const securityHeaders = fp(plugin, { name: 'security-headers' });
