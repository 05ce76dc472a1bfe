import type { Migration } from '../../../kernel/migrator.js';

/**
 * An event's title, text and details are stored encrypted from here on (issue #14): search by
 * title goes through this blind index. Rows written before are encrypted by the module's start
 * (`sealStoredRows`: the keys live behind the master key, which migrations do not hold).
 */
export const personalEncrypted: Migration = {
  name: '0002_personal_encrypted',
  async up(db) {
    await db.schema.alterTable('user_event').addColumn('name_bidx', 'text').execute();
    await db.schema.createIndex('user_event_name_bidx_idx').on('user_event').columns(['name_bidx']).execute();
  },
};
