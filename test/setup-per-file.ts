// Runs around every test file. Test files share one worker process and its loaded modules
// (`isolate: false` in vitest.config.ts), so whatever one file changes in vitest's globals is put
// back before the next file runs (vitest itself restores spies and its config between files).
import { afterAll, vi } from 'vitest';

afterAll(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});
