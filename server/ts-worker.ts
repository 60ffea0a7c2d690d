// Starts a worker thread running a TypeScript module, the same way under `npm start`, vitest and
// the Docker image (all run the server through tsx).
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startTsWorker(entry: URL, data: Record<string, unknown>, options: Omit<WorkerOptions, 'workerData'> = {}): Worker {
  return new Worker(new URL('./ts-worker-boot.mjs', import.meta.url), {
    ...options,
    workerData: { ...data, tsEntry: entry.href },
  });
}
