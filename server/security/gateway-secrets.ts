// Gateway secret checks with a cache of secrets already proved. A gateway's secret is 192 random
// bits, checked with scrypt at a low cost; a reconnecting gateway presenting the secret it proved
// before is let in on a keyed SHA-256 of it, without scrypt, so reconnect storms and busy hashing
// threads (logins) do not delay it. The cache is keyed by the stored hash, so a rotated or revoked
// secret (a new stored hash, or none) is never answered from it; it holds at most `maxEntries`.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { verifySecret } from './passwords.ts';

export interface GatewaySecrets {
  verify(secret: string, storedHash: string): Promise<boolean>;
  size(): number;
}

export function createGatewaySecrets(opts: { maxEntries?: number } = {}): GatewaySecrets {
  const maxEntries = opts.maxEntries ?? 20_000;
  // Random per process: the cache's digests are useless outside it.
  const key = randomBytes(32);
  const digest = (secret: string) => createHmac('sha256', key).update(secret).digest();
  const proved = new Map<string, Buffer>();

  return {
    async verify(secret, storedHash) {
      const known = proved.get(storedHash);
      const d = digest(secret);
      if (known && timingSafeEqual(known, d)) return true;
      if (!(await verifySecret(secret, storedHash))) return false;
      proved.delete(storedHash);
      proved.set(storedHash, d);
      // Oldest first: Map keeps insertion order.
      while (proved.size > maxEntries) proved.delete(proved.keys().next().value as string);
      return true;
    },
    size: () => proved.size,
  };
}
