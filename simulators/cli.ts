// Shared pieces of the simulator CLI: option parsing with usage errors, durations ("90s", "2m"),
// host:port, and one-line progress messages on stderr (a CLI's log; no personal data, no secrets).
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in how the command was called: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {}
/** The simulation ran and something it checks failed: exit code 1. */
export class SimFailure extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  help: boolean;
}

export function parseOptions(argv: string[], options: Options, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals, help: values.help === true };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function str(p: Parsed, name: string, fallback?: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : fallback;
}

export function required(p: Parsed, name: string, env?: string): string {
  const v = str(p, name) ?? (env ? process.env[env] : undefined);
  if (!v) throw new UsageError(`--${name} is required${env ? ` (or ${env} in the environment)` : ''}`);
  return v;
}

export function num(p: Parsed, name: string, fallback: number, opts: { min?: number; integer?: boolean } = {}): number {
  const raw = str(p, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw new UsageError(
      `--${name}: "${raw}" is not a valid ${opts.integer ? 'integer' : 'number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}`,
    );
  }
  return n;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "90s", "2m", "1h30m", or a bare number of seconds, to milliseconds. */
export function parseDuration(text: string | number, what = 'duration'): number {
  if (typeof text === 'number') {
    if (Number.isFinite(text) && text >= 0) return text * 1000;
    throw new UsageError(`${what}: ${text} is not a duration`);
  }
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (t === '' || matched !== t.length) throw new UsageError(`${what}: "${text}" is not a duration (e.g. 500ms, 90s, 2m, 1h30m)`);
  return total;
}

export function durationOption(p: Parsed, name: string, fallbackMs: number): number {
  const raw = str(p, name);
  return raw === undefined ? fallbackMs : parseDuration(raw, `--${name}`);
}

export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new UsageError(`${what}: "${text}" is not host:port`);
  return { host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
}

/** One line on stderr, prefixed with the time, so stdout stays free for results. */
export function say(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves on SIGINT/SIGTERM (once), so a long-running command can shut down in order. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
