import type { Migration } from '../../../kernel/migrator.js';

/**
 * The data key a user's sealed profile is under (#14 Build 4); null for rows written in the clear
 * before, which the module seals when it starts (UserApi.init).
 */
export const profileKey: Migration = {
  name: '0004_profile_key',
  async up(db) {
    await db.schema.alterTable('users').addColumn('key_id', 'text').execute();
  },
};
