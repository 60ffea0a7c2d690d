// startParts (server/parts/part.ts): the order startServer relies on for start-up and shutdown.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type Part, startParts } from '../../server/parts/part.ts';

const quiet = pino({ level: 'silent' });

function recorded(names: string[], opts: { failStart?: string; failStop?: string } = {}) {
  const log: string[] = [];
  const parts: Part[] = names.map((name) => ({
    name,
    async start() {
      await Promise.resolve();
      if (name === opts.failStart) throw new Error(`${name} would not start`);
      log.push(`start ${name}`);
    },
    stop() {
      if (name === opts.failStop) throw new Error(`${name} would not stop`);
      log.push(`stop ${name}`);
    },
  }));
  return { log, parts };
}

describe('startParts', () => {
  it('starts the parts in the listed order and stops them in reverse', async () => {
    const { log, parts } = recorded(['storage', 'ingest', 'broker']);
    const stop = await startParts(parts, quiet);
    await stop();
    expect(log).toEqual(['start storage', 'start ingest', 'start broker', 'stop broker', 'stop ingest', 'stop storage']);
  });

  it('a part that fails to start stops the ones already started, in reverse, and the error reaches the caller', async () => {
    const { log, parts } = recorded(['storage', 'ingest', 'broker', 'http'], { failStart: 'broker' });
    await expect(startParts(parts, quiet)).rejects.toThrow('broker would not start');
    expect(log).toEqual(['start storage', 'start ingest', 'stop ingest', 'stop storage']);
  });

  it('a part that fails to stop does not keep the others from stopping', async () => {
    const { log, parts } = recorded(['storage', 'ingest', 'broker'], { failStop: 'ingest' });
    const stop = await startParts(parts, quiet);
    await stop();
    expect(log.filter((l) => l.startsWith('stop'))).toEqual(['stop broker', 'stop storage']);
  });

  it('parts with only a start or only a stop keep their places; stopping twice stops nothing twice', async () => {
    const log: string[] = [];
    const stop = await startParts(
      [
        { name: 'db', stop: () => log.push('close db') },
        { name: 'listener', start: () => log.push('listen') },
        { name: 'intake', stop: () => log.push('close intake') },
      ],
      quiet,
    );
    await stop();
    await stop();
    expect(log).toEqual(['listen', 'close intake', 'close db']);
  });
});
