import { defineConfig } from 'vitest/config';

// Integration tests share one local stack (one Postgres, one functions server), so files run
// one at a time; each test file owns the rows it creates.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
