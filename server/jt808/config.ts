// The JT/T 808 listener's settings: CARE_JT808_PORT (in server/config.ts's ServerEnv) and the
// watch listener's connection bounds (CARE_WATCH_MAX_PER_ADDRESS, _MAX_CONNECTIONS, _IDLE_SECONDS),
// which apply to each listener on its own. A frame's size is bounded by the protocol (1023-byte body).
import { ConfigError } from '../config.ts';
import { loadWatchConfig } from '../watch/config.ts';

export interface Jt808Config {
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  maxPerAddress: number;
  maxConnections: number;
  idleMs: number;
}

/** `raw`: CARE_JT808_PORT as checked by ServerEnv ("off" or digits). */
export function loadJt808Config(raw: string, env: NodeJS.ProcessEnv): Jt808Config | null {
  if (raw === 'off') return null;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`CARE_JT808_PORT: "${raw}" is not a port number (0-65535) or off`);
  // The bounds are read and checked where the watch listener reads them, even when it is off.
  const bounds = loadWatchConfig({ ...env, CARE_WATCH_PORT: '0' });
  if (!bounds) throw new ConfigError('CARE_WATCH_*: could not read the connection bounds');
  return { port, maxPerAddress: bounds.maxPerAddress, maxConnections: bounds.maxConnections, idleMs: bounds.idleMs };
}
