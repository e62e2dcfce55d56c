import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Property tests run many cases; the suite's own budget is "npm test under 10 minutes on 2 cores".
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
