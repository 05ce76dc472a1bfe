import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // One row per short link. The id is random (not a counter) so links cannot be enumerated.
    await db.schema
      .createTable('short_url')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text')
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('valid_from', t.bigint)
      .addColumn('valid_till', t.bigint)
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .execute();
  },
};
