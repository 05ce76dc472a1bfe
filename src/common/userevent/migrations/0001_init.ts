import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    await db.schema
      .createTable('user_event')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('category', 'text')
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reference_id', 'text')
      .addColumn('posted_by', 'text')
      .addColumn('recepient', t.json)
      .addColumn('actions', t.json)
      .addColumn('event_details', t.json)
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('user_event_tenant_idx').on('user_event').columns(['tenant_id', 'created_time']).execute();
    // DIGIT's eg_usrevents_recepnt_event_registry: who an event is addressed to, one row per user
    // (`user`, uuid) or role (`role`, code; `*` for a broadcast to everyone on the tenant).
    await db.schema
      .createTable('user_event_recipient')
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('user_event_recipient_pk', ['event_id', 'kind', 'value'])
      .execute();
    await db.schema.createIndex('user_event_recipient_value_idx').on('user_event_recipient').columns(['value', 'kind']).execute();
    // DIGIT's eg_usrevents_user_lat: when a user last looked at their notifications. Events changed
    // after that are unread. Users are global (one uuid across tenants), hence the tenant column
    // only records where the time was set.
    await db.schema
      .createTable('user_event_last_access')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text')
      .addColumn('last_access_time', t.bigint, (c) => c.notNull())
      .execute();
  },
};
