import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // Every key a state tenant ever had: data keys (AES-256-GCM), its index key (blind indexes,
    // derived keys) and Ed25519 signing keys. Old versions stay so old ciphertexts keep decrypting
    // and old signatures keep verifying; the current one of a kind is the highest version.
    await db.schema
      .createTable('encryption_key')
      .addColumn('key_id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      // Secret material (the AES key, or the Ed25519 private key in PKCS#8), sealed with the master key.
      .addColumn('wrapped_key', 'text', (c) => c.notNull())
      // Signing keys only: the public key (SPKI DER, base64); public, so stored in the clear.
      .addColumn('public_key', 'text')
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('encryption_key_version_uq', ['tenant_id', 'kind', 'version'])
      .execute();
    // One row for the whole deployment (hence no tenant): a keyed check value of the master key,
    // so a process started with another master key refuses to start instead of writing data that
    // nobody can read back. The value reveals nothing about the key (HMAC of a constant).
    await db.schema
      .createTable('encryption_master_check')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('check_value', 'text', (c) => c.notNull())
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .execute();
  },
};
