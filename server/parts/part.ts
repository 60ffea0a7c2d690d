// The server is a list of parts, each owning its start and stop. startServer lists them in the order
// they start; they stop in reverse, so nothing stops while a part started after it still uses it.
import type { Logger } from 'pino';

export interface Part {
  name: string;
  start?(): unknown;
  stop?(): unknown;
}

/**
 * Starts the parts in order and returns what stops them in reverse. A part that fails to start
 * stops the ones already started, and the error goes on to the caller.
 */
export async function startParts(parts: Part[], log: Logger): Promise<() => Promise<void>> {
  const started: Part[] = [];
  async function stopStarted() {
    for (const part of started.splice(0).reverse()) {
      try {
        await part.stop?.();
      } catch (err) {
        log.error({ err, part: part.name }, 'stopping a part failed; stopping the others');
      }
    }
  }
  for (const part of parts) {
    try {
      await part.start?.();
    } catch (err) {
      log.error({ err, part: part.name }, 'a part failed to start; stopping the ones started');
      await stopStarted();
      throw err;
    }
    started.push(part);
  }
  return stopStarted;
}
