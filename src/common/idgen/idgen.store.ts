import { sql, type Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import { assertInScope, type Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';

export type SequenceRow = { tenant_id: string; name: string; value: number; created_time: number; last_modified_time: number };

export type ReservationRow = {
  id: string;
  tenant_id: string;
  id_name: string;
  format: string;
  count: number;
  device_id: string | null;
  expires_time: number;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
};

export type ReservedIdRow = { reservation_id: string; position: number; tenant_id: string; value: string };

export type IdgenTables = { idgen_sequence: SequenceRow; idgen_reservation: ReservationRow; idgen_reserved_id: ReservedIdRow };

/** A query runner: the database itself or a transaction. */
export type Runner = Kysely<IdgenTables>;

export type ReservationQuery = {
  tenantId: string;
  ids?: readonly string[] | undefined;
  idName?: string | undefined;
  deviceId?: string | undefined;
  reservedId?: string | undefined;
  offset: number;
  limit: number;
};

// Rows per INSERT: 4 parameters each stays far below SQLite's and PostgreSQL's parameter limits.
const CHUNK = 1000;

/**
 * Kysely queries for counters and reservations; the numbering rules live in idgen.service.ts.
 * Reservations are read only inside a Scope and written only at a tenant inside it. Counters are
 * the state's, drawn for any caller the service let through (it checks the request's tenant).
 */
export function createIdgenStore(database: Database) {
  return {
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<IdgenTables>() as unknown as Runner;
    },

    /**
     * Takes the next `n` numbers of a counter, creating it at 0 first if it does not exist, in one
     * statement; answers the last number taken (the block is `last - n + 1 … last`).
     *
     * Why a row and not a PostgreSQL SEQUENCE: `UPDATE … SET value = value + n` (here as the
     * conflict branch of an upsert) locks the row, so a concurrent caller in any process waits and
     * then adds to the committed value: no number is ever issued twice, a block of n costs one
     * statement (nextval would need n calls), counters are data scoped per state rather than DDL
     * created at run time, a rolled-back transaction returns its numbers instead of leaving a gap,
     * and SQLite runs the same statement. The lock is held only until the short idgen transaction
     * commits, so callers of one counter queue for microseconds, not for their own work.
     */
    async takeCreating(db: Runner, tenantId: string, name: string, n: number, now: number): Promise<number> {
      const row = await db
        .insertInto('idgen_sequence')
        .values({ tenant_id: tenantId, name, value: n, created_time: now, last_modified_time: now })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'name']).doUpdateSet({ value: sql<number>`idgen_sequence.value + ${n}`, last_modified_time: now }),
        )
        .returning('value')
        .executeTakeFirstOrThrow();
      return Number(row.value);
    },

    /** As takeCreating, for a counter that must already exist; undefined when it does not. */
    async take(db: Runner, tenantId: string, name: string, n: number, now: number): Promise<number | undefined> {
      const row = await db
        .updateTable('idgen_sequence')
        .set({ value: sql<number>`value + ${n}`, last_modified_time: now })
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .returning('value')
        .executeTakeFirst();
      return row === undefined ? undefined : Number(row.value);
    },

    /** Creates a counter unless it exists (another process may be creating it right now); true if created. */
    async createSequence(db: Runner, row: SequenceRow): Promise<boolean> {
      const inserted = await db
        .insertInto('idgen_sequence')
        .values(row)
        .onConflict((oc) => oc.columns(['tenant_id', 'name']).doNothing())
        .returning('name')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    /** Moves a counter forward to `value`, never back. */
    async raiseSequence(db: Runner, tenantId: string, name: string, value: number, now: number): Promise<boolean> {
      const result = await db
        .updateTable('idgen_sequence')
        .set({ value, last_modified_time: now })
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .where('value', '<', value)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async insertReservation(db: Runner, row: ReservationRow, ids: readonly string[], scope: Scope): Promise<void> {
      assertInScope(scope, row.tenant_id);
      await db.insertInto('idgen_reservation').values(row).execute();
      for (let start = 0; start < ids.length; start += CHUNK) {
        const rows = ids
          .slice(start, start + CHUNK)
          .map((value, i) => ({ reservation_id: row.id, position: start + i, tenant_id: row.tenant_id, value }));
        await db.insertInto('idgen_reserved_id').values(rows).execute();
      }
    },

    async searchReservations(db: Runner, query: ReservationQuery, scope: Scope): Promise<ReservationRow[]> {
      let q = db.selectFrom('idgen_reservation').selectAll().where('tenant_id', '=', query.tenantId).where(tenantInScope(scope, 'tenant_id'));
      if (query.ids?.length) q = q.where('id', 'in', query.ids);
      if (query.idName !== undefined) q = q.where('id_name', '=', query.idName);
      if (query.deviceId !== undefined) q = q.where('device_id', '=', query.deviceId);
      if (query.reservedId !== undefined) {
        const reservedId = query.reservedId;
        q = q.where('id', 'in', (eb) =>
          eb
            .selectFrom('idgen_reserved_id')
            .select('reservation_id')
            .where('tenant_id', '=', query.tenantId)
            .where('value', '=', reservedId),
        );
      }
      return q.orderBy('created_time', 'desc').orderBy('id', 'desc').offset(query.offset).limit(query.limit).execute();
    },

    async reservedIds(db: Runner, reservationIds: readonly string[], scope: Scope): Promise<ReservedIdRow[]> {
      if (reservationIds.length === 0) return [];
      return db
        .selectFrom('idgen_reserved_id')
        .selectAll()
        .where('reservation_id', 'in', reservationIds)
        .where(tenantInScope(scope, 'tenant_id'))
        .orderBy('reservation_id')
        .orderBy('position')
        .execute();
    },
  };
}

export type IdgenStore = ReturnType<typeof createIdgenStore>;
