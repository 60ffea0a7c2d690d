// Work that loops over many items on the main thread (each awaiting SQLite, which answers in
// microtasks) never gives the event loop a turn by itself: alarms, screens and MQTT reads wait
// behind the whole loop. `timeSlice()` is awaited once per item and yields (setImmediate) once the
// current slice has run for `budgetMs`.
import { performance } from 'node:perf_hooks';

export function timeSlicer(budgetMs = 4): () => Promise<void> | undefined {
  let started = performance.now();
  return () => {
    if (performance.now() - started < budgetMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        started = performance.now();
        resolve();
      }),
    );
  };
}
