import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration and end-to-end files start services and Redis connections; two at a time suits 2 cores.
    maxWorkers: 2,
  },
});
