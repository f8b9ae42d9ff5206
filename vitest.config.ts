import { defineConfig } from 'vitest/config';

// The files that start whole Redis Clusters and Sentinel groups and several instances of the service: on 2 cores
// they starve every file beside them (services that do not start in 20 s), so they run after the rest, one at a time.
const heavy = ['test/e2e/district-failover.test.ts', 'test/integration/redis-failover.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/setup/redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        // Integration and end-to-end files start services and Redis connections; two at a time suits 2 cores.
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: heavy,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'failover', include: heavy, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
