import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    await db.schema
      .createTable('mdms_schema')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('definition', t.json, (c) => c.notNull())
      .addColumn('is_active', t.bool, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('mdms_schema_tenant_code_uq', ['tenant_id', 'code'])
      .execute();
    await db.schema
      .createTable('mdms_data')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('schema_code', 'text', (c) => c.notNull())
      .addColumn('unique_identifier', 'text', (c) => c.notNull())
      .addColumn('data', t.json, (c) => c.notNull())
      .addColumn('is_active', t.bool, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('mdms_data_key_uq', ['tenant_id', 'schema_code', 'unique_identifier'])
      .execute();
    await db.schema
      .createIndex('mdms_data_schema_time_idx')
      .on('mdms_data')
      .columns(['schema_code', 'tenant_id', 'created_time'])
      .execute();
  },
};
