import os from 'node:os';
import { defaultExclude, defineConfig } from 'vitest/config';

// Test tiers, by file name (README, "Tests"):
//   *.processes.test.ts  start child processes (the compiled `plinth`, event workers, pg_dump)
//   *.nats.test.ts       need NATS JetStream
//   test/browser/**      drive Chromium against the built web apps
//   every other file     unit and HTTP tests: in this process, on SQLite, nothing else running
// `npm test` runs every tier on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.
// `npm run test:fast` (PLINTH_TEST_TIER=fast) runs the last tier on SQLite only, where
// test/fast-tier.ts makes starting a child process fail the test.
const fast = process.env['PLINTH_TEST_TIER'] === 'fast';
const notFast = ['**/*.processes.test.ts', '**/*.nats.test.ts', 'test/browser/**'];
const postgres = fast ? undefined : process.env['TEST_DATABASE_URL'];

// vitest's default is one worker fewer than the cores: a single worker on a 2-core machine, which
// leaves a core idle whenever a file waits on PostgreSQL, Chromium or a child `plinth` process.
// Both projects share these workers. PLINTH_TEST_WORKERS overrides.
const workers = Number(process.env['PLINTH_TEST_WORKERS']) || Math.max(2, os.availableParallelism());

const shared = {
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  // The template of `plinth new-module` is tested as the module it makes (test/new-module.processes.test.ts).
  exclude: [...defaultExclude, 'src/cli/template/**', ...(fast ? notFast : [])],
  globalSetup: ['test/global-setup.ts'],
  setupFiles: fast ? ['test/fast-tier.ts'] : [],
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
