import type { Migration } from '../../../kernel/migrator.js';

/**
 * A received message's payload (people: names, dates of birth, identifiers) moves out of `jws` into
 * `payload`, encrypted under the event tenant's key and purged after the retention; `jws` keeps the
 * detached JWS (`<header>..<signature>`), which with the digests and the receipt is the evidence.
 * Rows received before are split and encrypted at start (the keys are behind the master key).
 */
export const inboxPayload: Migration = {
  name: '0003_inbox_payload',
  async up(db) {
    await db.schema.alterTable('exchange_inbox').addColumn('payload', 'text').execute();
  },
};
