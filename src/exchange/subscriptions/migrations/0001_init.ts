import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    await db.schema
      .createTable('exchange_subscription')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // The tenant that owns the agreement (authorization is checked on it); tenant_ids are the events' tenants.
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('agency_id', 'text', (c) => c.notNull())
      .addColumn('tenant_ids', t.json, (c) => c.notNull())
      .addColumn('event_types', t.json, (c) => c.notNull())
      .addColumn('conditions', t.json, (c) => c.notNull())
      .addColumn('fields', t.json, (c) => c.notNull())
      .addColumn('webhook_url', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('exchange_subscription_tenant_idx').on('exchange_subscription').columns(['tenant_id', 'id']).execute();

    await db.schema
      .createTable('exchange_delivery')
      // Also the message id (`jti`) on the wire: fixed for every attempt of this delivery.
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) => c.notNull().references('exchange_subscription.id'))
      // 'fanout' for the delivery an event produced; a replay's request id for a re-send.
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('event_subject', 'text', (c) => c.notNull())
      .addColumn('event_time', t.bigint, (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      // The CloudEvent as sent: already projected to the subscription's fields, never more.
      .addColumn('message', t.json, (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_time', t.bigint, (c) => c.notNull())
      // A worker's claim on the row while it sends: other processes leave it alone until it lapses.
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', t.bigint)
      .addColumn('last_attempt_time', t.bigint)
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      // SHA-256 digests of every JWS sent: a DUPLICATE receipt names the first one.
      .addColumn('sent_digests', t.json, (c) => c.notNull())
      .addColumn('receipt', 'text')
      .addColumn('receipt_status', 'text')
      .addColumn('delivered_time', t.bigint)
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      // A redelivered event (the dispatcher is at least once) creates nothing new.
      .addUniqueConstraint('exchange_delivery_event_uq', ['subscription_id', 'event_id', 'origin'])
      .execute();
    await db.schema
      .createIndex('exchange_delivery_pending_idx')
      .on('exchange_delivery')
      .columns(['status', 'event_id', 'id'])
      .execute();
    await db.schema
      .createIndex('exchange_delivery_subscription_idx')
      .on('exchange_delivery')
      .columns(['subscription_id', 'event_time'])
      .execute();
  },
};
