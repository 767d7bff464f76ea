import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Checks the test PostgreSQL once; see test/support/postgresSetup.ts.
    globalSetup: ['test/support/postgresSetup.ts'],
  },
});
