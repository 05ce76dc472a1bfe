import type { Kysely } from 'kysely';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { feedMarker } from '../../kernel/offline.feed.js';
import { versionedTable } from '../../kernel/offline.store.js';
import { inScope, type Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';

/** A row as the service sees it: json decoded, booleans as booleans, times as numbers. */
export type SampleRow = {
  tenant_id: string;
  id: string;
  client_reference_id: string;
  name: string;
  category: string;
  status: string;
  valid_from: number | null;
  valid_to: number | null;
  additional_fields: unknown;
  client_audit_details: unknown;
  row_version: number;
  is_deleted: boolean;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
  /** When the last change committed, commit-ordered (kernel/offline.feed.ts): what lastChangedSince pages by. */
  change_time: number;
};

/** As stored: each engine's booleans (SQLite has none). */
type Stored<T> = { [K in keyof T]: T[K] extends boolean ? unknown : T[K] };
type Tables = { samples: Stored<SampleRow> };

/** A query runner: the database itself or a transaction. */
export type Runner = Kysely<Tables>;

export type SampleFilter = {
  tenantId: string;
  ids?: readonly string[] | undefined;
  clientReferenceIds?: readonly string[] | undefined;
  categories?: readonly string[] | undefined;
  statuses?: readonly string[] | undefined;
  lastChangedSince?: number | undefined;
  includeDeleted: boolean;
};

const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/**
 * Kysely queries for the registry, no rules (see the service). Every read a caller triggers takes
 * the caller's Scope and keeps to the tenants it covers, so authorization is decided by the data.
 */
export function createSampleStore(database: Database, clock: Clock) {
  const json = (value: unknown) => (value === null || value === undefined ? null : database.toJson(value));
  const fromJson = (value: unknown) => (value === null || value === undefined ? null : database.fromJson(value));

  const read = (row: Stored<SampleRow>): SampleRow => ({
    ...row,
    additional_fields: fromJson(row.additional_fields),
    client_audit_details: fromJson(row.client_audit_details),
    valid_from: numberOrNull(row.valid_from),
    valid_to: numberOrNull(row.valid_to),
    is_deleted: database.fromBool(row.is_deleted),
    row_version: Number(row.row_version),
    created_time: Number(row.created_time),
    last_modified_time: Number(row.last_modified_time),
    change_time: Number(row.change_time),
  });
  const write = (row: SampleRow): Stored<SampleRow> => ({
    ...row,
    additional_fields: json(row.additional_fields),
    client_audit_details: json(row.client_audit_details),
    is_deleted: database.toBool(row.is_deleted),
  });

  function query(db: Runner, filter: SampleFilter, scope: Scope) {
    const list = (values: readonly string[]) => (values.length > 0 ? [...values] : ['']);
    let q = db.selectFrom('samples').where('tenant_id', '=', filter.tenantId).where(tenantInScope(scope, 'tenant_id'));
    if (filter.ids) q = q.where('id', 'in', list(filter.ids));
    if (filter.clientReferenceIds) q = q.where('client_reference_id', 'in', list(filter.clientReferenceIds));
    if (filter.categories) q = q.where('category', 'in', list(filter.categories));
    if (filter.statuses) q = q.where('status', 'in', list(filter.statuses));
    if (filter.lastChangedSince !== undefined) q = q.where('change_time', '>=', filter.lastChangedSince);
    if (!filter.includeDeleted) q = q.where('is_deleted', '=', database.toBool(false));
    return q;
  }

  // Lookups, insert and the guarded update; writes move the record in the change feed.
  const rows = versionedTable<SampleRow, Stored<SampleRow>, Runner>('samples', { read, write }, feedMarker(clock, 'samples'));
  const inside = (scope: Scope, found: SampleRow[]) => found.filter((row) => inScope(scope, row.tenant_id));

  return {
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<Tables>() as unknown as Runner;
    },
    /** Stores a new row; false when a concurrent create stored its client reference id first. */
    insert: rows.insert,
    /** Writes a row over the version before it; false when another writer got there first. */
    update: rows.update,
    /** Rows by id, inside the scope only: a record the caller may not touch is not found. */
    byId: async (db: Runner, tenantId: string, ids: readonly string[], scope: Scope) => inside(scope, await rows.byId(db, tenantId, ids)),
    /** Rows by client reference id, inside the scope only. */
    byClientRef: async (db: Runner, tenantId: string, refs: readonly string[], scope: Scope) =>
      inside(scope, await rows.byClientRef(db, tenantId, refs)),

    /** Ordered by change (commit order), then id: what an incremental pull pages by. Only rows inside `scope` are read. */
    async search(db: Runner, filter: SampleFilter, page: { offset: number; limit: number }, scope: Scope) {
      const count = await query(db, filter, scope)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      if (page.limit === 0) return { total: Number(count.n), rows: [] };
      const found = await query(db, filter, scope)
        .selectAll()
        .orderBy('last_modified_time')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { total: Number(count.n), rows: found.map(read) };
    },
  };
}

export type SampleStore = ReturnType<typeof createSampleStore>;
