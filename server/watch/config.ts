// The watch listener's settings (CARE_WATCH_*), read here and hooked into server/config.ts.
import { ConfigError } from '../config.ts';

export interface WatchConfig {
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Connections at once from one address (a carrier's NAT may put many watches behind one). */
  maxPerAddress: number;
  maxConnections: number;
  /** A connection that sends nothing for this long is closed (watches send LK every few minutes). */
  idleMs: number;
  /** Largest frame content accepted, in bytes (positions with cells and Wi-Fi are a few hundred). */
  maxContentBytes: number;
}

// Their help text is in server/config.ts's SERVER_ENV_HELP (a constant here would be read there
// during the import cycle between the two modules).

export function loadWatchConfig(env: NodeJS.ProcessEnv): WatchConfig | null {
  const raw = env.CARE_WATCH_PORT;
  if (raw === 'off') return null;
  // Under vitest several servers run at once: a fixed port would collide, so unset means any free port.
  const fallback = process.env.VITEST ? 0 : 5093;
  let port = fallback;
  if (raw !== undefined && raw !== '') {
    port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new ConfigError(`CARE_WATCH_PORT: "${raw}" is not a port number (0-65535) or off`);
  }
  const whole = (key: string, fallbackValue: number, min: number, max: number) => {
    const v = env[key];
    if (v === undefined || v === '') return fallbackValue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${key}: "${v}" must be a whole number from ${min} to ${max}`);
    return n;
  };
  return {
    port,
    maxPerAddress: whole('CARE_WATCH_MAX_PER_ADDRESS', 200, 1, 100_000),
    maxConnections: whole('CARE_WATCH_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    idleMs: whole('CARE_WATCH_IDLE_SECONDS', 900, 1, 86_400) * 1000,
    maxContentBytes: whole('CARE_WATCH_MAX_FRAME_BYTES', 4096, 256, 65_536),
  };
}
