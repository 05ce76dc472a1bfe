import type { Kysely } from 'kysely';
import type { Database } from '../../kernel/db.js';

export type ShortUrlRow = {
  id: string;
  tenant_id: string | null;
  url: string;
  valid_from: number | null;
  valid_till: number | null;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
};

export type ShortUrlTables = { short_url: ShortUrlRow };

const num = (value: number | null): number | null => (value === null ? null : Number(value));

/** Kysely queries for short links; the rules live in shorturl.service.ts. */
export function createShortUrlStore(database: Database) {
  const db = () => database.kysely.withTables<ShortUrlTables>() as unknown as Kysely<ShortUrlTables>;
  return {
    async find(id: string): Promise<ShortUrlRow | undefined> {
      const row = await db().selectFrom('short_url').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { ...row, valid_from: num(row.valid_from), valid_till: num(row.valid_till), created_time: Number(row.created_time), last_modified_time: Number(row.last_modified_time) };
    },
    /** False when the id is taken (a collision): the caller draws another one. */
    async insert(row: ShortUrlRow): Promise<boolean> {
      const result = await db().insertInto('short_url').values(row).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
  };
}

export type ShortUrlStore = ReturnType<typeof createShortUrlStore>;
