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

/** Rows marked in one transaction: per table and columns, the ids of each tenant. */
type Marks = Map<string, { table: string; columns: readonly string[]; tenants: Map<string, Set<string>> }>;

// Per transaction, whichever registry marks: one change time for all its rows.
const pending = new WeakMap<Tx, Marks>();

/**
 * Marks rows of `table` that a transaction wrote: just before it commits, their `columns` (epoch
 * ms, written meanwhile with any value, e.g. the transaction's start time) get its change time.
 */
export type FeedMarker = (tx: Tx, tenantId: string, ids: readonly string[]) => void;

export function feedMarker(clock: Clock, table: string, columns: readonly string[] = ['change_time']): FeedMarker {
  const key = `${table}\u0000${columns.join(',')}`;
  return (tx, tenantId, ids) => {
    if (ids.length === 0) return;
    let marks = pending.get(tx);
    if (!marks) {
      const fresh: Marks = new Map();
      pending.set(tx, (marks = fresh));
      tx.beforeCommit(() => stamp(tx, clock, fresh));
    }
    let mark = marks.get(key);
    if (!mark) marks.set(key, (mark = { table, columns, tenants: new Map() }));
    let set = mark.tenants.get(tenantId);
    if (!set) mark.tenants.set(tenantId, (set = new Set()));
    for (const id of ids) set.add(id);
  };
}

/** Takes the transaction's change time and writes it into every marked row. */
async function stamp(tx: Tx, clock: Clock, marks: Marks): Promise<void> {
  const time = await takeChangeTime(tx.kysely, clock.now());
  for (const { table, columns, tenants } of marks.values()) {
    const assignments = sql.join(columns.map((column) => sql`${sql.ref(column)} = ${time}`));
    for (const [tenantId, ids] of tenants) {
      const list = [...ids];
      // At most 500 parameters a statement, as everywhere (SQLite's limit).
      for (let i = 0; i < list.length; i += 500) {
        const part = sql.join(list.slice(i, i + 500));
        await sql`update ${sql.table(table)} set ${assignments} where tenant_id = ${tenantId} and id in (${part})`.execute(tx.kysely);
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
