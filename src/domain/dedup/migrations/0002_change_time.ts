import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

/**
 * An encoding's change time, commit-ordered (kernel/offline.feed.ts): what a device's
 * lastChangedSince pages by from now on, instead of the time the writing transaction started.
 * Earlier rows keep their last modified time as their change time.
 */
export const changeTime: Migration = {
  name: '0002_change_time',
  async up(db, t) {
    await db.schema
      .alterTable('dedup_encoding')
      .addColumn('change_time', t.bigint, (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`update dedup_encoding set change_time = last_modified_time`.execute(db);
    await db.schema.dropIndex('dedup_encoding_locality_idx').execute();
    await db.schema
      .createIndex('dedup_encoding_locality_idx')
      .on('dedup_encoding')
      .columns(['tenant_id', 'program', 'locality', 'change_time'])
      .execute();
  },
};
