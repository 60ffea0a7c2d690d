// A bounded queue for expensive password hashing. People's passwords are hashed with scrypt at full
// cost (about 50 ms of a libuv thread each); 600 logins at once filled every thread and a gateway's
// secret check waited behind them for seconds. Logins get at most `concurrency` threads and at
// most `maxWaiting` places in line; past that a login is refused at once (503) rather than queued,
// so the other threads stay free for gateways, the disk and everything else.

export class HashQueueFull extends Error {
  constructor() {
    super('too many logins being checked; try again shortly');
  }
}

export interface HashQueue {
  /** Runs `work` when a slot is free; rejects with HashQueueFull when the line is full. */
  run<T>(work: () => Promise<T>): Promise<T>;
  running(): number;
  waiting(): number;
}

export function createHashQueue(opts: { concurrency: number; maxWaiting: number }): HashQueue {
  let running = 0;
  const line: Array<() => void> = [];

  const next = () => {
    running -= 1;
    const start = line.shift();
    if (start) {
      running += 1;
      start();
    }
  };

  return {
    run(work) {
      if (running < opts.concurrency) {
        running += 1;
        return work().finally(next);
      }
      if (line.length >= opts.maxWaiting) return Promise.reject(new HashQueueFull());
      return new Promise((resolve, reject) => {
        line.push(() => {
          work().then(resolve, reject).finally(next);
        });
      });
    },
    running: () => running,
    waiting: () => line.length,
  };
}
