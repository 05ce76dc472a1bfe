import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

/**
 * A person's change time, commit-ordered (kernel/offline.feed.ts): what lastChangedSince pages by
 * from now on, instead of the time the writing transaction started. Earlier rows keep their last
 * modified time as their change time.
 */
export const changeTime: Migration = {
  name: '0002_change_time',
  async up(db, t) {
    await db.schema
      .alterTable('individual')
      .addColumn('change_time', t.bigint, (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`update individual set change_time = last_modified_time`.execute(db);
    await db.schema.dropIndex('individual_changed_idx').execute();
    await db.schema.createIndex('individual_change_idx').on('individual').columns(['tenant_id', 'change_time', 'id']).execute();
  },
};
