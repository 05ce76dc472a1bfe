import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // DIGIT's eg_pgr_service_v2 with its address and documents folded in as JSON: they are
    // always read and written with the complaint, never on their own.
    await db.schema
      .createTable('pgr_service')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('service_request_id', 'text', (c) => c.notNull())
      .addColumn('service_code', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('citizen_name', 'text')
      .addColumn('citizen_mobile', 'text')
      .addColumn('rating', 'integer')
      .addColumn('application_status', 'text', (c) => c.notNull())
      .addColumn('source', 'text')
      .addColumn('locality_code', 'text', (c) => c.notNull())
      .addColumn('address', t.json, (c) => c.notNull())
      .addColumn('documents', t.json, (c) => c.notNull())
      .addColumn('additional_detail', t.json)
      .addColumn('last_action', 'text', (c) => c.notNull())
      .addColumn('assignees', t.json, (c) => c.notNull())
      .addColumn('active', t.bool, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('pgr_service_request_id_uq', ['tenant_id', 'service_request_id'])
      .execute();
    await db.schema.createIndex('pgr_service_tenant_time_idx').on('pgr_service').columns(['tenant_id', 'created_time']).execute();
    await db.schema.createIndex('pgr_service_account_idx').on('pgr_service').columns(['account_id', 'created_time']).execute();
  },
};
