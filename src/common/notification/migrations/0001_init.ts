import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // One row per (idempotency key, channel, recipient): the send's guard and the operators' log.
    await db.schema
      .createTable('notification_message')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('recipient', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('module', 'text', (c) => c.notNull())
      .addColumn('reference_id', 'text', (c) => c.notNull())
      .addColumn('template_key', 'text', (c) => c.notNull())
      .addColumn('locale', 'text')
      .addColumn('address', 'text')
      .addColumn('subject', 'text')
      .addColumn('body', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('sent_time', t.bigint)
      .addUniqueConstraint('notification_message_key_uq', ['idempotency_key', 'channel', 'recipient'])
      .execute();
    await db.schema.createIndex('notification_message_ref_idx').on('notification_message').columns(['tenant_id', 'reference_id']).execute();
    await db.schema.createIndex('notification_message_time_idx').on('notification_message').columns(['tenant_id', 'created_time']).execute();
  },
};
