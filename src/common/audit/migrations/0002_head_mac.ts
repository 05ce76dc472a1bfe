import type { Migration } from '../../../kernel/migrator.js';

/**
 * The head's signature (HMAC under a key derived from the master key): a tail rewritten with
 * recomputed hashes, head included, no longer verifies without the key. Null on heads written
 * before this migration until their next append signs them.
 */
export const headMac: Migration = {
  name: '0002_head_mac',
  async up(db) {
    await db.schema.alterTable('audit_head').addColumn('mac', 'text').execute();
  },
};
