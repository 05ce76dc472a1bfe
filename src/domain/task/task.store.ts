import type { Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import type { Scope } from '../../kernel/scope.js';
import { tenantInScope } from '../../kernel/scope.sql.js';
import type { Clock } from '../../kernel/clock.js';
import { feedMarker } from '../../kernel/offline.feed.js';
import { versionedTable } from '../../kernel/offline.store.js';

/** Rows as the service sees them: json decoded, booleans as booleans, times as numbers. */
export type TaskRow = {
  tenant_id: string;
  id: string;
  client_reference_id: string;
  project_id: string;
  project_beneficiary_id: string | null;
  project_beneficiary_client_reference_id: string | null;
  resources: unknown;
  planned_start_date: number | null;
  planned_end_date: number | null;
  actual_start_date: number | null;
  actual_end_date: number | null;
  task_created_by: string | null;
  task_created_date: number | null;
  address: unknown;
  status: string | null;
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

type Stored<T> = { [K in keyof T]: T[K] extends boolean ? unknown : T[K] };
type Tables = { project_task: Stored<TaskRow> };

/** A query runner: the database itself or a transaction. */
export type Runner = Kysely<Tables>;

export type Page = { offset: number; limit: number };

export type TaskFilter = {
  tenantId: string;
  ids?: readonly string[] | undefined;
  clientReferenceIds?: readonly string[] | undefined;
  projectIds?: readonly string[] | undefined;
  beneficiaryIds?: readonly string[] | undefined;
  beneficiaryClientReferenceIds?: readonly string[] | undefined;
  statuses?: readonly string[] | undefined;
  plannedStartFrom?: number | undefined;
  plannedStartTo?: number | undefined;
  plannedEndTo?: number | undefined;
  lastChangedSince?: number | undefined;
  includeDeleted: boolean;
};

const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/** Kysely queries for tasks; no rules here (see the service). */
export function createTaskStore(database: Database, clock: Clock) {
  const json = (value: unknown) => (value === null || value === undefined ? null : database.toJson(value));
  const fromJson = (value: unknown) => (value === null || value === undefined ? null : database.fromJson(value));

  const read = (row: Stored<TaskRow>): TaskRow => ({
    ...row,
    resources: fromJson(row.resources) ?? [],
    address: fromJson(row.address),
    additional_fields: fromJson(row.additional_fields),
    client_audit_details: fromJson(row.client_audit_details),
    planned_start_date: numberOrNull(row.planned_start_date),
    planned_end_date: numberOrNull(row.planned_end_date),
    actual_start_date: numberOrNull(row.actual_start_date),
    actual_end_date: numberOrNull(row.actual_end_date),
    task_created_date: numberOrNull(row.task_created_date),
    is_deleted: database.fromBool(row.is_deleted),
    row_version: Number(row.row_version),
    created_time: Number(row.created_time),
    last_modified_time: Number(row.last_modified_time),
    change_time: Number(row.change_time),
  });
  const write = (row: TaskRow): Stored<TaskRow> => ({
    ...row,
    resources: json(row.resources),
    address: json(row.address),
    additional_fields: json(row.additional_fields),
    client_audit_details: json(row.client_audit_details),
    is_deleted: database.toBool(row.is_deleted),
  });

  function query(db: Runner, filter: TaskFilter) {
    const list = (values: readonly string[]) => (values.length > 0 ? [...values] : ['']);
    let q = db.selectFrom('project_task').where('tenant_id', '=', filter.tenantId);
    if (filter.ids) q = q.where('id', 'in', list(filter.ids));
    if (filter.clientReferenceIds) q = q.where('client_reference_id', 'in', list(filter.clientReferenceIds));
    if (filter.projectIds) q = q.where('project_id', 'in', list(filter.projectIds));
    if (filter.beneficiaryIds) q = q.where('project_beneficiary_id', 'in', list(filter.beneficiaryIds));
    if (filter.beneficiaryClientReferenceIds) {
      q = q.where('project_beneficiary_client_reference_id', 'in', list(filter.beneficiaryClientReferenceIds));
    }
    if (filter.statuses) q = q.where('status', 'in', list(filter.statuses));
    if (filter.plannedStartFrom !== undefined) q = q.where('planned_start_date', '>=', filter.plannedStartFrom);
    if (filter.plannedStartTo !== undefined) q = q.where('planned_start_date', '<=', filter.plannedStartTo);
    if (filter.plannedEndTo !== undefined) q = q.where('planned_end_date', '<=', filter.plannedEndTo);
    if (filter.lastChangedSince !== undefined) q = q.where('change_time', '>=', filter.lastChangedSince);
    if (!filter.includeDeleted) q = q.where('is_deleted', '=', database.toBool(false));
    return q;
  }

  return {
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<Tables>() as unknown as Runner;
    },

    // Lookups, insert and the guarded update; writes move the task in the change feed.
    ...versionedTable<TaskRow, Stored<TaskRow>, Runner>('project_task', { read, write }, feedMarker(clock, 'project_task')),

    /** Ordered by change (commit order), then id: what an incremental pull pages by. Only rows inside `scope` are read. */
    async search(db: Runner, filter: TaskFilter, page: Page, scope: Scope): Promise<{ total: number; rows: TaskRow[] }> {
      const count = await query(db, filter)
        .where(tenantInScope(scope, 'tenant_id'))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      if (page.limit === 0) return { total: Number(count.n), rows: [] };
      const rows = await query(db, filter)
        .where(tenantInScope(scope, 'tenant_id'))
        .selectAll()
        .orderBy('change_time')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return { total: Number(count.n), rows: rows.map(read) };
    },
  };
}

export type TaskStore = ReturnType<typeof createTaskStore>;
