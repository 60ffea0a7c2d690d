// Password and secret hashing with Node's built-in scrypt: no native dependency, and the
// parameters travel with the hash so they can be raised later.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const KEYLEN = 32;
const N = 16384;
const r = 8;
const p = 1;

function scryptAsync(secret: string, salt: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEYLEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/**
 * `cost` is scrypt's N. People's passwords get the full cost. Gateway secrets are 192 random bits,
 * so no amount of hashing cost adds to their strength; they use N=1024 (about 2 ms) so that ten
 * thousand gateways reconnecting after a restart are let in within seconds, not minutes.
 */
export async function hashSecret(secret: string, cost: number = N): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, cost);
  return `scrypt$${cost}$${salt.toString('base64')}$${key.toString('base64')}`;
}
export const GATEWAY_SECRET_COST = 1024;

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, nText, saltText, keyText] = stored.split('$');
  if (scheme !== 'scrypt' || !nText || !saltText || !keyText) return false;
  const n = Number(nText);
  if (!Number.isInteger(n) || n < 2 || n > 1 << 20 || (n & (n - 1)) !== 0) return false;
  const expected = Buffer.from(keyText, 'base64');
  const actual = await scryptAsync(secret, Buffer.from(saltText, 'base64'), n);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A random secret for a gateway or a generated admin password: URL- and shell-safe. */
export function generateSecret(bytes = 24): string {
  // Never starting with `-` or `_`: a secret that looks like an option breaks command lines.
  for (;;) {
    const s = randomBytes(bytes).toString('base64url');
    if (/^[A-Za-z0-9]/.test(s)) return s;
  }
}

/** Session tokens are stored only as their SHA-256, so a database leak does not leak sessions. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
