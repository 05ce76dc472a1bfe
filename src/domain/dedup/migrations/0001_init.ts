import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // One counter per (tenant, program), taken under a row lock by every write: versions are
    // issued in commit order, so "rows with version > v" is an exact catch-up for any process.
    await db.schema
      .createTable('dedup_program_state')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('program', 'text', (c) => c.notNull())
      .addColumn('version', t.bigint, (c) => c.notNull())
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint('dedup_program_state_pk', ['tenant_id', 'program'])
      .execute();
    // A record's keyed encoding: no names or numbers. A forgotten record keeps a tombstone
    // (empty clk, is_deleted) so devices syncing incrementally learn to drop it.
    await db.schema
      .createTable('dedup_encoding')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('program', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('locality', 'text')
      .addColumn('clk', 'text', (c) => c.notNull())
      .addColumn('blocks', 'text', (c) => c.notNull())
      .addColumn('version', t.bigint, (c) => c.notNull())
      .addColumn('is_deleted', t.bool, (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint('dedup_encoding_pk', ['tenant_id', 'program', 'record_id'])
      .execute();
    await db.schema.createIndex('dedup_encoding_version_idx').on('dedup_encoding').columns(['tenant_id', 'program', 'version']).execute();
    await db.schema
      .createIndex('dedup_encoding_locality_idx')
      .on('dedup_encoding')
      .columns(['tenant_id', 'program', 'locality', 'last_modified_time'])
      .execute();
    // Review queue: one row per unordered pair (pair_key), never re-opened once decided.
    await db.schema
      .createTable('dedup_review')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('program', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('match_id', 'text', (c) => c.notNull())
      .addColumn('pair_key', 'text', (c) => c.notNull())
      .addColumn('score', 'double precision', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('decided_by', 'text')
      .addColumn('decided_time', t.bigint)
      .addColumn('comment', 'text')
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('dedup_review_pair_uq', ['tenant_id', 'program', 'pair_key'])
      .execute();
    await db.schema.createIndex('dedup_review_status_idx').on('dedup_review').columns(['tenant_id', 'status', 'created_time']).execute();
    await db.schema.createIndex('dedup_review_record_idx').on('dedup_review').columns(['tenant_id', 'record_id']).execute();
    await db.schema.createIndex('dedup_review_match_idx').on('dedup_review').columns(['tenant_id', 'match_id']).execute();
    // Decided duplicates: linked, never deleted (the registry keeps both records).
    await db.schema
      .createTable('dedup_link')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('program', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('duplicate_of', 'text', (c) => c.notNull())
      .addColumn('review_id', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .addUniqueConstraint('dedup_link_review_uq', ['review_id'])
      .execute();
    await db.schema.createIndex('dedup_link_record_idx').on('dedup_link').columns(['tenant_id', 'record_id']).execute();
  },
};
