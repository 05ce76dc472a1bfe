import type { Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';

export type FileRow = {
  id: string;
  tenant_id: string;
  module: string | null;
  tag: string | null;
  file_name: string;
  content_type: string;
  file_size: number;
  sha256: string;
  storage_key: string;
  variants: unknown;
  owner_module: string | null;
  owner_reference_id: string | null;
  /** The file's data key, sealed under its state's key; null for a file uploaded before files were encrypted and not sealed yet. */
  data_key: string | null;
  /** When every blob of the file was stored encrypted; null: the blobs may still be in clear. */
  sealed_time: number | null;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
};

type Tables = { filestore_file: FileRow; filestore_key: { id: string; secret: string } };
type Runner = Kysely<Tables>;

/** Kysely queries for file metadata; the rules live in filestore.service.ts. */
export function createFilestoreStore(database: Database) {
  const runner = (tx?: Tx): Runner => (tx ? tx.kysely : database.kysely).withTables<Tables>() as unknown as Runner;
  const toRow = (row: FileRow): FileRow => ({
    ...row,
    file_size: Number(row.file_size),
    created_time: Number(row.created_time),
    last_modified_time: Number(row.last_modified_time),
    sealed_time: row.sealed_time === null ? null : Number(row.sealed_time),
    variants: database.fromJson<string[]>(row.variants),
  });
  return {
    async signingKey(): Promise<string | undefined> {
      const row = await runner().selectFrom('filestore_key').select('secret').where('id', '=', 'links').executeTakeFirst();
      return row?.secret;
    },
    async insert(row: FileRow, tx?: Tx): Promise<void> {
      await runner(tx)
        .insertInto('filestore_file')
        .values({ ...row, variants: database.toJson(row.variants) })
        .execute();
    },
    async byIds(ids: readonly string[], tx?: Tx): Promise<FileRow[]> {
      if (ids.length === 0) return [];
      const rows = await runner(tx).selectFrom('filestore_file').selectAll().where('id', 'in', ids).execute();
      return rows.map(toRow);
    },
    async byTag(tenantId: string, tag: string, limit: number): Promise<FileRow[]> {
      const rows = await runner()
        .selectFrom('filestore_file')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('tag', '=', tag)
        .orderBy('created_time')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toRow);
    },
    async setOwner(ids: readonly string[], owner: { module: string; referenceId: string }, by: string | null, time: number, tx?: Tx): Promise<void> {
      await runner(tx)
        .updateTable('filestore_file')
        .set({ owner_module: owner.module, owner_reference_id: owner.referenceId, last_modified_by: by, last_modified_time: time })
        .where('id', 'in', ids)
        .execute();
    },
    async unclaimedBefore(time: number, limit: number): Promise<FileRow[]> {
      const rows = await runner()
        .selectFrom('filestore_file')
        .selectAll()
        .where('owner_module', 'is', null)
        .where('created_time', '<', time)
        .orderBy('created_time')
        .limit(limit)
        .execute();
      return rows.map(toRow);
    },
    /** Files whose blobs may still be in clear (uploaded before files were encrypted), in id order after `after`. */
    async unsealedAfter(after: string, limit: number): Promise<FileRow[]> {
      const rows = await runner().selectFrom('filestore_file').selectAll().where('sealed_time', 'is', null).where('id', '>', after).orderBy('id').limit(limit).execute();
      return rows.map(toRow);
    },
    /** Gives the file a data key unless it has one (another process may have been first); answers whether this one was stored. */
    async setDataKey(id: string, dataKey: string): Promise<boolean> {
      const result = await runner().updateTable('filestore_file').set({ data_key: dataKey }).where('id', '=', id).where('data_key', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async markSealed(id: string, time: number): Promise<void> {
      await runner().updateTable('filestore_file').set({ sealed_time: time }).where('id', '=', id).execute();
    },
    /** Deletes the row only while still unclaimed; answers whether it did. */
    async deleteUnclaimed(id: string): Promise<boolean> {
      const result = await runner().deleteFrom('filestore_file').where('id', '=', id).where('owner_module', 'is', null).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type FilestoreStore = ReturnType<typeof createFilestoreStore>;
