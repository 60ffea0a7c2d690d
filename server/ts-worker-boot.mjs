// Entry of every worker thread the server starts: registers tsx's loader in this thread (a
// worker's own `--import tsx` does not reach its entry module on Node 20), then loads the real
// TypeScript entry named in workerData. Plain JavaScript, because nothing can load TypeScript yet.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.tsEntry);
