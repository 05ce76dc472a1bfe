import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

/**
 * Households' and members' change time, commit-ordered (kernel/offline.feed.ts): what
 * lastChangedSince pages by from now on, instead of the time the writing transaction started.
 * A household's sync_time (what a downsync pages by) is taken the same way from now on. Earlier
 * rows keep their last modified time as their change time.
 */
export const changeTime: Migration = {
  name: '0002_change_time',
  async up(db, t) {
    for (const table of ['household', 'household_member']) {
      await db.schema
        .alterTable(table)
        .addColumn('change_time', t.bigint, (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`update ${sql.table(table)} set change_time = last_modified_time`.execute(db);
      await db.schema.dropIndex(`${table}_changed_idx`).execute();
      await db.schema.createIndex(`${table}_change_idx`).on(table).columns(['tenant_id', 'change_time', 'id']).execute();
    }
  },
};
