import { sql, type Kysely } from 'kysely';
import type { Clock } from './clock.js';
import type { Tx } from './db.js';
import type { Migration } from './migrator.js';

/**
 * The change feed of the offline registries: the change time that `lastChangedSince`, a
 * downsync's `lastSyncedTime` and its cursor page by.
 *
 * A device remembers how far it has read (the newest change it saw, or a cursor) and next asks
 * for what changed from there. That is safe only if a change that becomes visible later never
 * sorts before one visible now. The time a transaction started does not give that: a record
 * stamped 100 that commits after one stamped 101 is skipped by a device whose cursor already
 * passed 101. So the rows a transaction changed get one change time, taken just before it commits
 * under a lock held until the commit:
 *
 *     change time = max(clock now, previous change time + 1)      (the one row of plinth_change_clock)
 *
 * - Commit-ordered: taking a time updates the clock row, and that row's lock (PostgreSQL) or the
 *   write lock (SQLite, where writes are serialised) is held until the commit; a transaction that
 *   commits later takes a larger time. Whatever a reader sees sorts before what it sees next.
 * - Strictly increasing: a (time, id) cursor never meets a later transaction with its own time.
 * - Epoch milliseconds, never behind the clock: DIGIT's fields keep their meaning on the wire (a
 *   device that sends a time, or the newest lastModifiedTime it holds, misses nothing), and the
 *   audit times (created/lastModifiedTime) are untouched. Only a burst of more than one commit a
 *   millisecond runs it ahead of the clock, until the burst ends.
 *
 * Not a PostgreSQL sequence: a value drawn early can commit late. Not holding readers below the
 * oldest running transaction (pg_snapshot_xmin): every device would wait behind any long
 * transaction of the cluster, and the wire would need a new cursor. The lock is one row for every
 * registry, taken only for the last statements of a write, so a transaction that changes
 * households and members takes it once; and its holder only re-stamps rows it wrote (whose locks
 * it holds already), so no lock order can deadlock: mark only rows the transaction wrote.
 */

export const CHANGE_CLOCK_TABLE = 'plinth_change_clock';

export const changeClockMigrations: readonly Migration[] = [
  {
    name: '0003_change_clock',
    async up(db, t) {
      await db.schema
        .createTable(CHANGE_CLOCK_TABLE)
        .addColumn('last_time', t.bigint, (c) => c.notNull())
        .execute();
      await sql`insert into ${sql.table(CHANGE_CLOCK_TABLE)} (last_time) values (0)`.execute(db);
    },
  },
];

/** Which rows of a table: those of a tenant (`tenant_id`), or of several columns' values (a tenant and a program). */
export type FeedScope = string | Readonly<Record<string, string>>;

/** Rows marked in one transaction: per table, columns and key, the keys of each scope. */
type Marks = Map<
  string,
  { table: string; columns: readonly string[]; key: string; scopes: Map<string, { where: Record<string, string>; keys: Set<string> }> }
>;

// Per transaction, whichever registry marks: one change time for all its rows.
const pending = new WeakMap<Tx, Marks>();

/**
 * Marks rows of `table` that a transaction wrote, by their `key` column within a scope: just
 * before it commits, their `columns` (epoch ms, written meanwhile with any value, e.g. the
 * transaction's start time) get its change time.
 */
export type FeedMarker = (tx: Tx, scope: FeedScope, keys: readonly string[]) => void;

export function feedMarker(clock: Clock, table: string, columns: readonly string[] = ['change_time'], key = 'id'): FeedMarker {
  const markKey = `${table}\u0000${columns.join(',')}\u0000${key}`;
  return (tx, scope, keys) => {
    if (keys.length === 0) return;
    let marks = pending.get(tx);
    if (!marks) {
      const fresh: Marks = new Map();
      pending.set(tx, (marks = fresh));
      tx.beforeCommit(() => stamp(tx, clock, fresh));
    }
    let mark = marks.get(markKey);
    if (!mark) marks.set(markKey, (mark = { table, columns, key, scopes: new Map() }));
    const where = typeof scope === 'string' ? { tenant_id: scope } : { ...scope };
    const scopeKey = JSON.stringify(Object.entries(where).sort());
    let marked = mark.scopes.get(scopeKey);
    if (!marked) mark.scopes.set(scopeKey, (marked = { where, keys: new Set() }));
    for (const k of keys) marked.keys.add(k);
  };
}

/** Takes the transaction's change time and writes it into every marked row. */
async function stamp(tx: Tx, clock: Clock, marks: Marks): Promise<void> {
  const time = await takeChangeTime(tx.kysely, clock.now());
  for (const { table, columns, key, scopes } of marks.values()) {
    const assignments = sql.join(columns.map((column) => sql`${sql.ref(column)} = ${time}`));
    for (const { where, keys } of scopes.values()) {
      const scoped = sql.join(
        Object.entries(where).map(([column, value]) => sql`${sql.ref(column)} = ${value}`),
        sql` and `,
      );
      const list = [...keys];
      // At most 500 parameters a statement, as everywhere (SQLite's limit).
      for (let i = 0; i < list.length; i += 500) {
        const part = sql.join(list.slice(i, i + 500));
        await sql`update ${sql.table(table)} set ${assignments} where ${scoped} and ${sql.ref(key)} in (${part})`.execute(tx.kysely);
      }
    }
  }
}

/** The next change time; the clock row stays locked until the caller's transaction ends. */
export async function takeChangeTime(db: Kysely<unknown>, now: number): Promise<number> {
  const { rows } = await sql<{ last_time: number | string }>`
    update ${sql.table(CHANGE_CLOCK_TABLE)}
    set last_time = case when last_time + 1 > ${now} then last_time + 1 else ${now} end
    returning last_time`.execute(db);
  const time = Number(rows[0]?.last_time);
  if (!Number.isSafeInteger(time)) throw new Error(`${CHANGE_CLOCK_TABLE} has no row: the kernel migrations did not run`);
  return time;
}
