import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // Boundary entities: a code and its shape, per tenant; shared by every hierarchy of the tenant.
    await db.schema
      .createTable('boundary_entity')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('geometry', t.json)
      .addColumn('additional_details', t.json)
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('boundary_entity_tenant_code_uq', ['tenant_id', 'code'])
      .execute();
    await db.schema
      .createTable('boundary_hierarchy')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('hierarchy_type', 'text', (c) => c.notNull())
      .addColumn('boundary_hierarchy', t.json, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('boundary_hierarchy_tenant_type_uq', ['tenant_id', 'hierarchy_type'])
      .execute();
    // One row per boundary per hierarchy: the unique key is what makes "one parent" a database fact.
    await db.schema
      .createTable('boundary_relationship')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('hierarchy_type', 'text', (c) => c.notNull())
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('boundary_type', 'text', (c) => c.notNull())
      .addColumn('parent', 'text')
      // DIGIT's ancestral materialized path: the ancestors' codes, root first, joined by '|'.
      .addColumn('ancestral_path', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('boundary_relationship_key_uq', ['tenant_id', 'hierarchy_type', 'code'])
      .execute();
  },
};
