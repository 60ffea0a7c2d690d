import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real processes and ports: keep files apart so ports and CPU are not fought over.
    fileParallelism: false,
    // One worker process runs every file, keeping the modules it loaded: starting a fresh process
    // per file and importing the server's packages again cost more CPU than the unit tests
    // themselves (test/unit: 85 s of CPU isolated, 16 s shared). Files share no state besides
    // modules; test/setup-per-file.ts resets vitest's globals (timers, stubs) after each file.
    isolate: false,
    setupFiles: ['test/setup-per-file.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-artifacts/vitest.json' },
  },
});
