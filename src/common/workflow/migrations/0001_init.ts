import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // One row per workflow definition; states and actions live in `definition` (read as a whole,
    // cached, and small), their uuids stable across updates because process instances point at them.
    await db.schema
      .createTable('wf_business_service')
      .addColumn('uuid', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('business_service', 'text', (c) => c.notNull())
      .addColumn('business', 'text', (c) => c.notNull())
      .addColumn('business_service_sla', t.bigint)
      .addColumn('definition', t.json, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('wf_business_service_code_uq', ['tenant_id', 'business_service'])
      .execute();

    // Every transition is a new row (DIGIT's history model).
    await db.schema
      .createTable('wf_process_instance')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('business_service', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('sequence', t.bigint, (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('module_name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('previous_status', 'text')
      .addColumn('comment', 'text')
      .addColumn('assigner', 'text')
      .addColumn('state_sla', t.bigint)
      .addColumn('business_service_sla', t.bigint)
      .addColumn('rating', 'integer')
      .addColumn('escalated', t.bool, (c) => c.notNull())
      .addColumn('documents', t.json)
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      // The backstop against two transitions taking the same step of one application.
      .addUniqueConstraint('wf_process_instance_step_uq', ['tenant_id', 'business_service', 'business_id', 'sequence'])
      .execute();
    await db.schema.createIndex('wf_process_instance_business_idx').on('wf_process_instance').columns(['tenant_id', 'business_id']).execute();

    // The latest step per application, moved by compare-and-set: the current state is read
    // without scanning history, and a transition that lost a race cannot commit.
    await db.schema
      .createTable('wf_process')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('business_service', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('sequence', t.bigint, (c) => c.notNull())
      .addColumn('latest_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      // Whoever started the application: a citizen may act on it later.
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint('wf_process_pk', ['tenant_id', 'business_service', 'business_id'])
      .execute();
    await db.schema.createIndex('wf_process_status_idx').on('wf_process').columns(['tenant_id', 'status']).execute();
    await db.schema.createIndex('wf_process_latest_idx').on('wf_process').column('latest_id').execute();

    await db.schema
      .createTable('wf_assignee')
      .addColumn('process_instance_id', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('business_service', 'text', (c) => c.notNull())
      .addColumn('business_id', 'text', (c) => c.notNull())
      .addColumn('assignee', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('wf_assignee_pk', ['process_instance_id', 'assignee'])
      .execute();
    await db.schema.createIndex('wf_assignee_user_idx').on('wf_assignee').columns(['assignee', 'tenant_id']).execute();
  },
};
