import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  // One definition for both databases: `t` gives each engine's json, bigint and boolean types.
  // Never edit a migration once it has landed: add 0002_… instead.
  async up(db, t) {
    await db.schema
      .createTable('samples')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('client_reference_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('valid_from', t.bigint)
      .addColumn('valid_to', t.bigint)
      .addColumn('additional_fields', t.json)
      .addColumn('client_audit_details', t.json)
      .addColumn('row_version', 'integer', (c) => c.notNull())
      .addColumn('is_deleted', t.bool, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      // Commit-ordered (kernel/offline.feed.ts): what lastChangedSince pages by.
      .addColumn('change_time', t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint('samples_pk', ['tenant_id', 'id'])
      .addUniqueConstraint('samples_client_ref_uq', ['tenant_id', 'client_reference_id'])
      .execute();
    // What an incremental pull pages by (see the store's search).
    await db.schema.createIndex('samples_change_idx').on('samples').columns(['tenant_id', 'change_time', 'id']).execute();
  },
};
