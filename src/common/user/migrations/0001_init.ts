import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    await db.schema
      .createTable('users')
      .addColumn('id', t.serial, (c) => c.primaryKey())
      .addColumn('uuid', 'text', (c) => c.notNull().unique())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('user_name', 'text', (c) => c.notNull())
      // Searchable personal data; field encryption with blind indexes arrives with the registries.
      .addColumn('name', 'text')
      .addColumn('mobile_number', 'text')
      .addColumn('email_id', 'text')
      .addColumn('profile', t.json, (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('password_changed_time', t.bigint)
      .addColumn('active', t.bool, (c) => c.notNull())
      .addColumn('account_locked', t.bool, (c) => c.notNull())
      .addColumn('account_locked_time', t.bigint)
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('users_login_uq', ['tenant_id', 'type', 'user_name'])
      .execute();
    await db.schema.createIndex('users_mobile_idx').on('users').columns(['mobile_number']).execute();

    await db.schema
      .createTable('user_roles')
      .addColumn('user_id', t.bigint, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('role_code', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_code', 'tenant_id'])
      .execute();

    await db.schema
      .createTable('user_login_failures')
      .addColumn('user_id', t.bigint, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('time', t.bigint, (c) => c.notNull())
      .addColumn('ip', 'text')
      .execute();
    await db.schema.createIndex('user_login_failures_idx').on('user_login_failures').columns(['user_id', 'time']).execute();

    await db.schema
      .createTable('user_otps')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('identity', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('expires_time', t.bigint, (c) => c.notNull())
      .addColumn('validated_time', t.bigint)
      .addColumn('used_time', t.bigint)
      .execute();
    await db.schema.createIndex('user_otps_identity_idx').on('user_otps').columns(['identity', 'created_time']).execute();

    await db.schema
      .createTable('user_refresh_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('family_id', 'text', (c) => c.notNull())
      .addColumn('user_id', t.bigint, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('expires_time', t.bigint, (c) => c.notNull())
      .addColumn('used_time', t.bigint)
      .addColumn('revoked_time', t.bigint)
      .execute();

    await db.schema
      .createTable('user_revoked_tokens')
      .addColumn('jti', 'text', (c) => c.primaryKey())
      .addColumn('expires_time', t.bigint, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('user_signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('private_jwk', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('active', t.bool, (c) => c.notNull())
      .execute();
  },
};
