import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // One row per named counter of a state: `value` is the last number issued (0: none yet).
    await db.schema
      .createTable('idgen_sequence')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('value', t.bigint, (c) => c.notNull())
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint('idgen_sequence_pk', ['tenant_id', 'name'])
      .addCheckConstraint('idgen_sequence_value_ck', sql`value >= 0`)
      .execute();
    await db.schema
      .createTable('idgen_reservation')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id_name', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('device_id', 'text')
      .addColumn('expires_time', t.bigint, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('idgen_reservation_device_idx').on('idgen_reservation').columns(['tenant_id', 'device_id']).execute();
    await db.schema.createIndex('idgen_reservation_time_idx').on('idgen_reservation').columns(['tenant_id', 'created_time']).execute();
    await db.schema
      .createTable('idgen_reserved_id')
      .addColumn('reservation_id', 'text', (c) => c.notNull().references('idgen_reservation.id'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('idgen_reserved_id_pk', ['reservation_id', 'position'])
      .execute();
    // "Which reservation holds this number?"
    await db.schema.createIndex('idgen_reserved_id_value_idx').on('idgen_reserved_id').columns(['tenant_id', 'value']).execute();
  },
};
