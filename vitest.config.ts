import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: end-to-end tests bind ports and start processes, so files run one at a time.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One PostgreSQL server for the run (PG_TEST_URL, or an embedded one); a database per test file.
    globalSetup: ['test/support/pg-global-setup.ts'],
  },
});
