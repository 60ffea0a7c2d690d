// The local alarm output line: one text line per alarm on a serial port or a serial device server
// (`tcp://host:port`), for a sounder or a nurse-call relay board, repeated while unacknowledged.
// A failing port is retried with backoff and reported once as a device fault.
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { createBackoff, PORT_BACKOFF } from '../../protocol/backoff.ts';
import { openPort } from '../adapters/serial.ts';
import type { LocalAlarm } from './fallback.ts';

export interface OutputConfig {
  path: string;
  baudRate?: number;
  repeatSeconds?: number;
}

export const alarmLine = (a: LocalAlarm) => `ALARM ${a.priority.toUpperCase()} ${a.type} ${a.device} ${a.at}\r\n`;

export function createOutput(cfg: OutputConfig, log: Logger, fault: (message: string) => void, recovered: () => void) {
  let port: Duplex | null = null;
  let stopped = false;
  const backoff = createBackoff(PORT_BACKOFF);
  let retry: NodeJS.Timeout | null = null;
  let current: LocalAlarm[] = [];
  const sent = new Map<string, number>();

  async function connect() {
    retry = null;
    if (stopped) return;
    try {
      const p = await openPort({ path: cfg.path, baudRate: cfg.baudRate ?? 9600 });
      if (stopped) return void p.destroy();
      port = p;
      backoff.reset();
      recovered();
      const gone = (why: string) => {
        if (port !== p) return;
        port = null;
        p.destroy();
        scheduleRetry(why);
      };
      p.on('error', (err) => gone(err.message));
      p.on('close', () => gone('closed'));
      p.on('data', () => {}); // a relay board may answer; nothing to read
      sent.clear();
      write();
    } catch (err) {
      scheduleRetry((err as Error).message);
    }
  }
  function scheduleRetry(why: string) {
    if (stopped) return;
    fault(`alarm output ${cfg.path}: ${why}`);
    const delay = backoff.next();
    log.warn({ path: cfg.path, retryMs: delay, why }, 'alarm output unavailable; retrying');
    retry = setTimeout(connect, delay);
  }

  function write() {
    if (!port) return;
    const now = Date.now();
    const repeatMs = (cfg.repeatSeconds ?? 30) * 1000;
    for (const a of current) {
      const key = `${a.id}:${a.count}`;
      const last = sent.get(key);
      if (last !== undefined && now - last < repeatMs) continue;
      port.write(alarmLine(a));
      sent.set(key, now);
    }
    if (sent.size > 1000) sent.clear();
  }
  const repeater = setInterval(write, 1000);
  repeater.unref();

  return {
    start: connect,
    /** The unacknowledged local alarms changed. */
    update(alarms: LocalAlarm[]) {
      current = alarms;
      write();
    },
    async stop() {
      stopped = true;
      clearInterval(repeater);
      if (retry) clearTimeout(retry);
      port?.destroy();
    },
  };
}
