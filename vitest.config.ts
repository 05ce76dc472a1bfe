import os from 'node:os';
import { defineConfig } from 'vitest/config';

// The whole suite runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.
const postgres = process.env['TEST_DATABASE_URL'];

// vitest's default is one worker fewer than the cores: a single worker on a 2-core machine, which
// leaves a core idle whenever a file waits on PostgreSQL, Chromium or a child `plinth` process.
// Both projects share these workers. PLINTH_TEST_WORKERS overrides.
const workers = Number(process.env['PLINTH_TEST_WORKERS']) || Math.max(2, os.availableParallelism());

const shared = {
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    maxWorkers: workers,
    projects: [
      { test: { ...shared, name: 'sqlite', env: { PLINTH_TEST_DB: 'sqlite' } } },
      ...(postgres ? [{ test: { ...shared, name: 'postgres', env: { PLINTH_TEST_DB: 'postgres' } } }] : []),
    ],
  },
});
