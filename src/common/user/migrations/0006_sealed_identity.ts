import type { Migration } from '../../../kernel/migrator.js';

/**
 * The identity columns (user_name, name, mobile_number, email_id) hold ciphertext from here on
 * (#14 Build 4), each with a keyed blind index for exact search, as egov-user's `hashed*` columns.
 * Rows written before are sealed when the module starts (UserApi.init: the keys live behind the
 * master key, which migrations do not hold); until then their indexes are null.
 *
 * Login uniqueness (tenant, type, user name) moves to the blind index, as DIGIT's
 * `isUserPresent(hashedUsername, tenantId, type)`: ciphertexts have random IVs, so equal names
 * never compare equal. PostgreSQL drops the old constraint; SQLite cannot drop a constraint
 * declared with its table (only a rebuild could, and a rebuild of `users` would cascade-delete its
 * roles and tokens), so there it stays, on ciphertext, where it can no longer collide.
 */
export const sealedIdentity: Migration = {
  name: '0006_sealed_identity',
  async up(db, t) {
    for (const column of ['user_name_bidx', 'name_bidx', 'mobile_number_bidx', 'email_id_bidx']) {
      await db.schema.alterTable('users').addColumn(column, 'text').execute();
    }
    const postgres = t.json === 'jsonb';
    if (postgres) await db.schema.alterTable('users').dropConstraint('users_login_uq').execute();
    await db.schema.createIndex('users_login_bidx_uq').on('users').columns(['tenant_id', 'type', 'user_name_bidx']).unique().execute();
    // An index of ciphertext finds nothing: OTP and complaint lookups by mobile use the blind index.
    await db.schema.dropIndex('users_mobile_idx').execute();
    await db.schema.createIndex('users_mobile_bidx_idx').on('users').columns(['mobile_number_bidx']).execute();
  },
};
