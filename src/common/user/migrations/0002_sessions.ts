import type { Migration } from '../../../kernel/migrator.js';

/**
 * Sessions that end (#14): access tokens issued before `tokens_not_before` (epoch ms) are refused.
 * A password change or reset, a deactivation and a replayed refresh token set it to "now".
 */
export const sessions: Migration = {
  name: '0002_sessions',
  async up(db, t) {
    await db.schema.alterTable('users').addColumn('tokens_not_before', t.bigint).execute();
  },
};
