import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

export const init: Migration = {
  name: '0001_init',
  async up(db, t) {
    // One row per uploaded file; the bytes live in the blob store under `storage_key`.
    await db.schema
      .createTable('filestore_file')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('module', 'text')
      .addColumn('tag', 'text')
      .addColumn('file_name', 'text', (c) => c.notNull())
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('file_size', t.bigint, (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('storage_key', 'text', (c) => c.notNull())
      // Thumbnail variants stored next to the original (e.g. ["large","medium","small"]).
      .addColumn('variants', t.json, (c) => c.notNull())
      // Null until a record (a complaint, …) claims the file; unclaimed files are cleaned up.
      .addColumn('owner_module', 'text')
      .addColumn('owner_reference_id', 'text')
      .addColumn('created_by', 'text')
      .addColumn('created_time', t.bigint, (c) => c.notNull())
      .addColumn('last_modified_by', 'text')
      .addColumn('last_modified_time', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('filestore_file_tag_idx').on('filestore_file').columns(['tenant_id', 'tag']).execute();
    await db.schema.createIndex('filestore_file_orphan_idx').on('filestore_file').columns(['owner_module', 'created_time']).execute();
    // The key that signs download links: made once per installation, shared by every process.
    await db.schema
      .createTable('filestore_key')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('secret', 'text', (c) => c.notNull())
      .execute();
    await sql`insert into filestore_key (id, secret) values ('links', ${randomBytes(32).toString('base64')})`.execute(db);
  },
};
