import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

/**
 * The trust side of data exchange. Agencies are deployment-wide (one deployment is one agency), so
 * these tables carry no tenant; the inbox keeps the tenant of each received event.
 */
export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // This agency's Ed25519 keys: the private half sealed under the master key, never in the clear.
    await db.schema
      .createTable('exchange_signing_key')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('public_jwk', t.json, (c) => c.notNull())
      .addColumn('sealed_private_key', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('retired_time', t.bigint)
      .execute();
    // At most one current key, whatever number of processes create or rotate at once.
    await db.schema
      .createIndex('exchange_signing_key_current_uq')
      .on('exchange_signing_key')
      .column('status')
      .unique()
      .where(sql.ref('status'), '=', 'current')
      .execute();

    await db.schema
      .createTable('exchange_agency')
      .addColumn('agency_id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('jwks', t.json, (c) => c.notNull())
      .addColumn('jwks_url', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      // When jwks_url was last fetched (or a fetch was claimed): at most one fetch a minute per agency.
      .addColumn('jwks_fetched_time', t.bigint)
      .addColumn('row_version', 'integer', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('exchange_inbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('sender', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('kid', 'text', (c) => c.notNull())
      .addColumn('subscription_id', 'text')
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      // SHA-256 of the JWS text (the receipt's digest) and of the payload without iat/exp (what a re-signed retry keeps).
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('content_digest', 'text', (c) => c.notNull())
      .addColumn('jws', 'text', (c) => c.notNull())
      .addColumn('receipt', 'text', (c) => c.notNull())
      .addColumn('handover_event_id', 'text', (c) => c.notNull())
      .addColumn('received_time', t.bigint, (c) => c.notNull())
      // A sender's message id is received once: concurrent duplicates meet here, not in a handler.
      .addUniqueConstraint('exchange_inbox_message_uq', ['sender', 'message_id'])
      .execute();
    await db.schema.createIndex('exchange_inbox_time_idx').on('exchange_inbox').columns(['received_time', 'id']).execute();

    await db.schema
      .createTable('exchange_refusal')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      // The claimed issuer, as read from the message; `sender_verified` says whether its signature checked out.
      .addColumn('sender', 'text')
      .addColumn('sender_verified', t.bool, (c) => c.notNull())
      .addColumn('message_id', 'text')
      .addColumn('remote_address', 'text')
      .addColumn('body_head', 'text', (c) => c.notNull())
      .addColumn('body_length', 'integer', (c) => c.notNull())
      .addColumn('received_time', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('exchange_refusal_time_idx').on('exchange_refusal').columns(['received_time', 'id']).execute();
  },
};
