import type { Migration } from '../../../kernel/migrator.js';

/**
 * Login attempts counted on the user's row, so the count is taken atomically (one UPDATE …
 * RETURNING, a row lock on PostgreSQL) before a password is checked: parallel wrong passwords
 * cannot all be checked before the lockout sees them (#14 finding 13).
 */
export const loginAttempts: Migration = {
  name: '0003_login_attempts',
  async up(db, t) {
    await db.schema.alterTable('users').addColumn('login_attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('users').addColumn('login_attempts_since', t.bigint).execute();
  },
};
