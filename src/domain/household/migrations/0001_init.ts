import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // DIGIT's household: its id comes from idgen (format household.id), unique per tenant.
    await db.schema
      .createTable('household')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('client_reference_id', 'text', (c) => c.notNull())
      .addColumn('member_count', 'integer', (c) => c.notNull())
      .addColumn('household_type', 'text')
      .addColumn('locality_code', 'text')
      .addColumn('address', t.json)
      .addColumn('additional_fields', t.json)
      .addColumn('client_audit_details', t.json)
      .addColumn('row_version', 'integer', (c) => c.notNull())
      .addColumn('is_deleted', t.bool, (c) => c.notNull())
      // When the household or any of its members last changed: what a downsync pages by.
      .addColumn('sync_time', t.bigint, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint('household_pk', ['tenant_id', 'id'])
      .addUniqueConstraint('household_client_ref_uq', ['tenant_id', 'client_reference_id'])
      .execute();
    await db.schema.createIndex('household_changed_idx').on('household').columns(['tenant_id', 'last_modified_time', 'id']).execute();
    await db.schema
      .createIndex('household_locality_idx')
      .on('household')
      .columns(['tenant_id', 'locality_code', 'sync_time', 'id'])
      .execute();

    // A member names its household and its individual twice: by server id (null while the
    // parent has not arrived) and by the device's client reference id.
    await db.schema
      .createTable('household_member')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('client_reference_id', 'text', (c) => c.notNull())
      .addColumn('household_id', 'text')
      .addColumn('household_client_reference_id', 'text', (c) => c.notNull())
      .addColumn('individual_id', 'text')
      .addColumn('individual_client_reference_id', 'text')
      .addColumn('is_head_of_household', t.bool, (c) => c.notNull())
      .addColumn('additional_fields', t.json)
      .addColumn('client_audit_details', t.json)
      .addColumn('row_version', 'integer', (c) => c.notNull())
      .addColumn('is_deleted', t.bool, (c) => c.notNull())
      // Why a waiting link could not be made when its parent arrived (sync status shows it).
      .addColumn('link_problem', 'text')
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('household_member_client_ref_uq', ['tenant_id', 'client_reference_id'])
      .execute();
    await db.schema
      .createIndex('household_member_household_ref_idx')
      .on('household_member')
      .columns(['tenant_id', 'household_client_reference_id'])
      .execute();
    await db.schema.createIndex('household_member_household_idx').on('household_member').columns(['tenant_id', 'household_id']).execute();
    await db.schema
      .createIndex('household_member_individual_ref_idx')
      .on('household_member')
      .columns(['tenant_id', 'individual_client_reference_id'])
      .execute();
    await db.schema.createIndex('household_member_individual_idx').on('household_member').columns(['tenant_id', 'individual_id']).execute();
    await db.schema
      .createIndex('household_member_changed_idx')
      .on('household_member')
      .columns(['tenant_id', 'last_modified_time', 'id'])
      .execute();
    // At most one living head per household, also against concurrent writers. Every member
    // carries its household's client reference id (filled from the household when sent by id).
    await db.schema
      .createIndex('household_member_one_head_uq')
      .on('household_member')
      .columns(['tenant_id', 'household_client_reference_id'])
      .unique()
      .where(sql.ref('is_head_of_household'), '=', sql.lit(true))
      .where(sql.ref('is_deleted'), '=', sql.lit(false))
      .execute();

    // DIGIT's Relationship: the member (self) and another member of the household (relative).
    await db.schema
      .createTable('household_member_relationship')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('client_reference_id', 'text')
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('relative_id', 'text')
      .addColumn('relative_client_reference_id', 'text')
      .addColumn('relationship_type', 'text', (c) => c.notNull())
      .addColumn('additional_fields', t.json)
      .addColumn('client_audit_details', t.json)
      .addColumn('row_version', 'integer', (c) => c.notNull())
      .addColumn('is_deleted', t.bool, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('household_member_relationship_member_idx')
      .on('household_member_relationship')
      .columns(['member_id'])
      .execute();
    await db.schema
      .createIndex('household_member_relationship_relative_ref_idx')
      .on('household_member_relationship')
      .columns(['tenant_id', 'relative_client_reference_id'])
      .execute();
  },
};
