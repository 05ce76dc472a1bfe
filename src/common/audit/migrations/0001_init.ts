import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      // int8 in PostgreSQL: a busy tenant's sequence must never wrap.
      .addColumn('seq', t.bigint, (c) => c.notNull())
      .addColumn('time', t.bigint, (c) => c.notNull())
      .addColumn('actor_uuid', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('details', t.json, (c) => c.notNull())
      .addColumn('ip', 'text')
      .addColumn('correlation_id', 'text')
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      // The backstop against a forked chain: two appends can never take the same place.
      .addUniqueConstraint('audit_log_tenant_seq_uq', ['tenant_id', 'seq'])
      .addCheckConstraint('audit_log_outcome_ck', sql`outcome in ('success', 'failure')`)
      .execute();
    await db.schema.createIndex('audit_log_subject_idx').on('audit_log').columns(['tenant_id', 'subject']).execute();
    await db.schema.createIndex('audit_log_actor_idx').on('audit_log').columns(['tenant_id', 'actor_uuid']).execute();
    await db.schema.createIndex('audit_log_time_idx').on('audit_log').columns(['tenant_id', 'time']).execute();
    // The chain head per tenant, written with every append: without it, deleting the newest
    // entries would leave a shorter chain that still verifies.
    await db.schema
      .createTable('audit_head')
      .addColumn('tenant_id', 'text', (c) => c.primaryKey())
      .addColumn('seq', t.bigint, (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
  },
};
