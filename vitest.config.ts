import { defineConfig } from 'vitest/config';

// The whole suite runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.
const postgres = process.env['TEST_DATABASE_URL'];

const shared = {
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'sqlite', env: { PLINTH_TEST_DB: 'sqlite' } } },
      ...(postgres ? [{ test: { ...shared, name: 'postgres', env: { PLINTH_TEST_DB: 'postgres' } } }] : []),
    ],
  },
});
