import type { Kysely } from 'kysely';
import type { Tx } from './db.js';
import type { FeedMarker } from './offline.feed.js';

/**
 * The queries every offline registry's table answers the same way: rows by id or client reference
 * id (in chunks), insert, and the guarded update that writes a row over the version before it.
 * A registry keeps its own search and link queries in its store.
 */

/** A unique key already taken (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY): a race lost to another writer. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

const CHUNK = 500;

/** Runs a lookup over de-duplicated keys, at most 500 a query (parameter limits of both engines). */
export async function inChunks<K, R>(keys: readonly K[], lookup: (part: K[]) => Promise<R[]>): Promise<R[]> {
  const unique = [...new Set(keys)];
  const out: R[] = [];
  for (let i = 0; i < unique.length; i += CHUNK) out.push(...(await lookup(unique.slice(i, i + CHUNK))));
  return out;
}

/** The columns the shared queries touch. */
type Keyed = { tenant_id: string; id: string; client_reference_id: string; row_version: number };
type Generic = { offline_table: Keyed };

/**
 * Shared queries over one table of `Row`s, stored as `Stored` (`codec` converts json and booleans
 * per engine). Reads take the registry's runner (the database or a transaction, typed with the
 * registry's tables); writes take the transaction, and `feed` marks the rows they write for the
 * transaction's change time (kernel/offline.feed.ts).
 */
export function versionedTable<Row extends Keyed, Stored, Db extends object = object>(
  table: string,
  // Async allowed: a registry that encrypts personal columns needs the tenant's keys.
  codec: { read(stored: Stored): Row | Promise<Row>; write(row: Row): Stored | Promise<Stored> },
  feed: FeedMarker,
) {
  // The registries' runners are typed with their own tables; these queries need only the Keyed columns of `table`.
  const on = (db: Db | Tx['kysely']) => db as unknown as Kysely<Generic>;
  const name = table as 'offline_table';
  const read = (rows: readonly Keyed[]) => Promise.all(rows.map((row) => codec.read(row as unknown as Stored)));
  return {
    async byId(db: Db, tenantId: string, ids: readonly string[]): Promise<Row[]> {
      return inChunks(ids, async (part) =>
        read(await on(db).selectFrom(name).selectAll().where('tenant_id', '=', tenantId).where('id', 'in', part).execute()),
      );
    },

    async byClientRef(db: Db, tenantId: string, refs: readonly string[]): Promise<Row[]> {
      return inChunks(refs, async (part) =>
        read(
          await on(db).selectFrom(name).selectAll().where('tenant_id', '=', tenantId).where('client_reference_id', 'in', part).execute(),
        ),
      );
    },

    /** Stores a new row; false when a concurrent create stored its client reference id first (the caller answers that one). */
    async insert(tx: Tx, row: Row): Promise<boolean> {
      const result = await on(tx.kysely)
        .insertInto(name)
        .values((await codec.write(row)) as unknown as Keyed)
        .onConflict((oc) => oc.columns(['tenant_id', 'client_reference_id']).doNothing())
        .executeTakeFirst();
      const inserted = Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
      if (inserted) feed(tx, row.tenant_id, [row.id]);
      return inserted;
    },

    /** Writes `row` over the version before it (`row_version - 1`); false when another writer got there first. */
    async update(tx: Tx, row: Row): Promise<boolean> {
      const { tenant_id, id, ...rest } = (await codec.write(row)) as unknown as Keyed;
      const result = await on(tx.kysely)
        .updateTable(name)
        .set(rest)
        .where('tenant_id', '=', tenant_id)
        .where('id', '=', id)
        .where('row_version', '=', row.row_version - 1)
        .executeTakeFirst();
      const written = Number(result.numUpdatedRows) === 1;
      if (written) feed(tx, tenant_id, [id]);
      return written;
    },
  };
}
