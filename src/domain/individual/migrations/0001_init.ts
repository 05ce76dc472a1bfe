import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // Personal fields hold ciphertext only (`<keyId>|<base64>`); `*_bidx` hold keyed HMACs of their
    // normalized plaintext for exact search; `key_id` is the data key of the row's ciphertexts, so
    // re-encryption finds the rows still under an old key without reading every row.
    await db.schema
      .createTable('individual')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('individual_id', 'text', (c) => c.notNull())
      .addColumn('client_reference_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('user_uuid', 'text')
      .addColumn('given_name', 'text')
      .addColumn('family_name', 'text')
      .addColumn('other_names', 'text')
      .addColumn('date_of_birth', 'text')
      .addColumn('mobile_number', 'text')
      .addColumn('alt_contact_number', 'text')
      .addColumn('email', 'text')
      .addColumn('father_name', 'text')
      .addColumn('husband_name', 'text')
      .addColumn('gender', 'text')
      .addColumn('blood_group', 'text')
      .addColumn('relationship', 'text')
      .addColumn('photo', 'text')
      .addColumn('addresses', t.json, (c) => c.notNull())
      .addColumn('identifiers', t.json, (c) => c.notNull())
      .addColumn('skills', t.json, (c) => c.notNull())
      .addColumn('locality_code', 'text')
      .addColumn('ward_code', 'text')
      .addColumn('given_name_bidx', 'text')
      .addColumn('family_name_bidx', 'text')
      .addColumn('mobile_bidx', 'text')
      .addColumn('key_id', 'text')
      .addColumn('is_system_user', t.bool, (c) => c.notNull())
      .addColumn('is_system_user_active', t.bool, (c) => c.notNull())
      .addColumn('source', 'text')
      .addColumn('application_id', 'text')
      .addColumn('additional_fields', t.json)
      .addColumn('client_audit', t.json)
      .addColumn('row_version', 'integer', (c) => c.notNull())
      .addColumn('is_deleted', t.bool, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('last_modified_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('individual_client_ref_uq')
      .on('individual')
      .columns(['tenant_id', 'client_reference_id'])
      .unique()
      .execute();
    await db.schema.createIndex('individual_individual_id_uq').on('individual').columns(['tenant_id', 'individual_id']).unique().execute();
    // Incremental download: changed since, in a stable order.
    await db.schema.createIndex('individual_changed_idx').on('individual').columns(['tenant_id', 'last_modified_time', 'id']).execute();
    await db.schema.createIndex('individual_given_idx').on('individual').columns(['tenant_id', 'given_name_bidx']).execute();
    await db.schema.createIndex('individual_family_idx').on('individual').columns(['tenant_id', 'family_name_bidx']).execute();
    await db.schema.createIndex('individual_mobile_idx').on('individual').columns(['tenant_id', 'mobile_bidx']).execute();
    await db.schema.createIndex('individual_locality_idx').on('individual').columns(['tenant_id', 'locality_code']).execute();
    await db.schema.createIndex('individual_key_idx').on('individual').columns(['key_id']).execute();
    // One row per identifier (type + id), for exact search.
    await db.schema
      .createTable('individual_identifier_index')
      .addColumn('individual_id', 'text', (c) => c.notNull().references('individual.id'))
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('identifier_bidx', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('individual_identifier_index_pk', ['individual_id', 'identifier_bidx'])
      .execute();
    await db.schema
      .createIndex('individual_identifier_lookup_idx')
      .on('individual_identifier_index')
      .columns(['tenant_id', 'identifier_bidx'])
      .execute();
  },
};
