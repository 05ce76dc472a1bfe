import { sql, type Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError } from '../../kernel/errors.js';
import { keyIdOf } from './encryption.keys.js';
import type { SealedTable, TenantKeys } from './encryption.types.js';

export type { SealedTable } from './encryption.types.js';


export type ResealBatch = {
  /** The last id of the batch; undefined when no row after `after` holds an old key's ciphertext. */
  readonly last: string | undefined;
  /** Rows rewritten. */
  readonly moved: number;
  /** Ciphertexts under an old key that do not open (damaged): left as they are, reported. */
  readonly unreadable: number;
  /** Rows another writer changed between this batch's read and its update: left for the next pass. */
  readonly raced: number;
};

type Runner = Kysely<Record<string, Record<string, unknown>>>;

/** A LIKE pattern matching text that contains `<keyId>|` (key ids hold no wildcard, escaped all the same). */
const containing = (keyId: string) => `%${keyId.replace(/[\\%_]/g, '\\$&')}|%`;

/**
 * One batch of `table`, in the caller's transaction: the next `limit` rows after `after` whose
 * columns contain a ciphertext under one of `oldKeyIds`, each such ciphertext sealed again under
 * the current key. Every update is guarded by the values read, so a concurrent write wins (and
 * is counted in `raced`).
 */
export async function resealBatch(
  database: Database,
  tx: Tx,
  keys: TenantKeys,
  oldKeyIds: readonly string[],
  table: SealedTable,
  after: string,
  limit: number,
): Promise<ResealBatch> {
  const text = table.text ?? [];
  const json = table.json ?? [];
  const columns = [...text, ...json];
  if (oldKeyIds.length === 0 || columns.length === 0) return { last: undefined, moved: 0, unreadable: 0, raced: 0 };
  const old = new Set(oldKeyIds);
  const db = tx.kysely as unknown as Runner;
  const rows = await db
    .selectFrom(table.table)
    .select([table.id, ...columns])
    .where(table.id, '>', after)
    .where((eb) =>
      eb.or(
        columns.flatMap((c) =>
          oldKeyIds.map((k) => eb(sql<string>`cast(${sql.ref(c)} as text)`, 'like', sql<string>`${containing(k)} escape '\\'`)),
        ),
      ),
    )
    .orderBy(table.id)
    .limit(limit)
    .execute();

  let unreadable = 0;
  const again = (value: string): string => {
    const keyId = keyIdOf(value);
    if (keyId === undefined || !old.has(keyId)) return value;
    try {
      return keys.encrypt(keys.decrypt(value));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      unreadable += 1;
      return value;
    }
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return again(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };

  let moved = 0;
  let raced = 0;
  for (const row of rows) {
    const set: Record<string, unknown> = {};
    for (const c of text) {
      const value = row[c];
      const moved = typeof value === 'string' ? again(value) : value;
      if (moved !== value) set[c] = moved;
    }
    for (const c of json) {
      const before = database.fromJson<unknown>(row[c]);
      const value = walk(before);
      if (JSON.stringify(value) !== JSON.stringify(before)) set[c] = database.toJson(value);
    }
    if (Object.keys(set).length === 0) continue;
    let update = db.updateTable(table.table).set(set).where(table.id, '=', row[table.id]);
    for (const c of Object.keys(set)) {
      update =
        database.dialect === 'postgres' && json.includes(c)
          ? update.where(sql.ref(c), '=', sql`cast(${database.toJson(database.fromJson(row[c]))} as jsonb)`)
          : update.where(sql.ref(c), '=', row[c]);
    }
    const result = await update.executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) moved += 1;
    else raced += 1;
  }
  return { last: rows.length === 0 ? undefined : String(rows[rows.length - 1]![table.id]), moved, unreadable, raced };
}
