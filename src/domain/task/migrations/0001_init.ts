import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // DIGIT's project task: its id comes from idgen (format project.task.id), unique per tenant.
    // Resources live in the row as JSON: they are only ever read and written with their task.
    await db.schema
      .createTable('project_task')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('client_reference_id', 'text', (c) => c.notNull())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('project_beneficiary_id', 'text')
      .addColumn('project_beneficiary_client_reference_id', 'text')
      .addColumn('resources', t.json, (c) => c.notNull())
      .addColumn('planned_start_date', t.bigint)
      .addColumn('planned_end_date', t.bigint)
      .addColumn('actual_start_date', t.bigint)
      .addColumn('actual_end_date', t.bigint)
      .addColumn('task_created_by', 'text')
      .addColumn('task_created_date', t.bigint)
      .addColumn('address', t.json)
      .addColumn('status', 'text')
      .addColumn('additional_fields', t.json)
      .addColumn('client_audit_details', t.json)
      .addColumn('row_version', 'integer', (c) => c.notNull())
      .addColumn('is_deleted', t.bool, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint('project_task_pk', ['tenant_id', 'id'])
      .addUniqueConstraint('project_task_client_ref_uq', ['tenant_id', 'client_reference_id'])
      .execute();
    await db.schema.createIndex('project_task_changed_idx').on('project_task').columns(['tenant_id', 'last_modified_time', 'id']).execute();
    await db.schema
      .createIndex('project_task_beneficiary_ref_idx')
      .on('project_task')
      .columns(['tenant_id', 'project_beneficiary_client_reference_id'])
      .execute();
    await db.schema
      .createIndex('project_task_beneficiary_idx')
      .on('project_task')
      .columns(['tenant_id', 'project_beneficiary_id'])
      .execute();
    await db.schema.createIndex('project_task_planned_idx').on('project_task').columns(['tenant_id', 'planned_start_date']).execute();
    await db.schema.createIndex('project_task_project_idx').on('project_task').columns(['tenant_id', 'project_id', 'status']).execute();
  },
};
