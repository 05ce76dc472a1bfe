import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

/**
 * File bytes are stored encrypted from here on (issue #14): each file has its own data key, kept
 * here sealed under its state's key (`data_key`); `sealed_time` is set once every blob of the file
 * is stored encrypted. Files uploaded before have neither until the module's sealing pass (at
 * start, or `plinth files seal`) encrypts them: the keys live behind the master key, which
 * migrations do not hold. Until then they are read as they are.
 */
export const sealed: Migration = {
  name: '0002_sealed',
  async up(db, t) {
    await db.schema.alterTable('filestore_file').addColumn('data_key', 'text').execute();
    await db.schema.alterTable('filestore_file').addColumn('sealed_time', t.bigint).execute();
    // Partial: the sealing pass finds what is left without reading every sealed row.
    await db.schema
      .createIndex('filestore_file_unsealed_idx')
      .on('filestore_file')
      .column('id')
      .where(sql.ref('sealed_time'), 'is', null)
      .execute();
  },
};
