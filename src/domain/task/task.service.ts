import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { SYSTEM_SCOPE, type Scope } from '../../kernel/scope.js';
import { auditDetailsOf } from '../../kernel/envelope.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import type { AdditionalFields, ClientAuditDetails, OfflineSearchParams, Refusal } from '../../kernel/offline.js';
import {
  assertSearchTenant,
  inRequestOrder,
  knownTenants,
  listFilter,
  namedOnce,
  pageOf,
  parseBatch,
  storedAddress,
  toErrors,
  withClientReference,
  type Actor,
  type BulkResult,
} from '../../kernel/offline.batch.js';
import { changeEach, createEach, nextVersion, type Outcome } from '../../kernel/offline.write.js';
import type { TenantDirectory } from '../../kernel/tenancy.js';
import type { IdgenApi } from '../../common/idgen/index.js';
import { TaskInput, TaskRef, type Task, type TaskResource, type TaskResourceInput, type TaskSearch } from './task.schema.js';
import type { TaskRow, TaskStore } from './task.store.js';

export type { Actor, BulkResult } from '../../kernel/offline.batch.js';

export type TaskServiceDeps = {
  database: Database;
  store: TaskStore;
  clock: Clock;
  outbox: Outbox;
  tenants: TenantDirectory;
  idgen: IdgenApi;
};

export const SOURCE = '/plinth/task';
const ID_NAME = 'project.task.id';
export const TASK_EVENTS = {
  created: 'plinth.task.created.v1',
  updated: 'plinth.task.updated.v1',
  deleted: 'plinth.task.deleted.v1',
} as const;

type StoredResource = Omit<TaskResource, 'taskId' | 'tenantId'>;

export function toTask(row: TaskRow): Task {
  const resources = (Array.isArray(row.resources) ? (row.resources as StoredResource[]) : []).map((r) => ({
    ...r,
    tenantId: row.tenant_id,
    taskId: row.id,
  }));
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientReferenceId: row.client_reference_id,
    projectId: row.project_id,
    projectBeneficiaryId: row.project_beneficiary_id,
    projectBeneficiaryClientReferenceId: row.project_beneficiary_client_reference_id,
    resources,
    plannedStartDate: row.planned_start_date,
    plannedEndDate: row.planned_end_date,
    actualStartDate: row.actual_start_date,
    actualEndDate: row.actual_end_date,
    createdBy: row.task_created_by,
    createdDate: row.task_created_date,
    address: (row.address as Record<string, unknown> | null) ?? null,
    status: row.status,
    additionalFields: (row.additional_fields as AdditionalFields | null) ?? null,
    clientAuditDetails: (row.client_audit_details as ClientAuditDetails | null) ?? null,
    rowVersion: row.row_version,
    isDeleted: row.is_deleted,
    hasErrors: false,
    auditDetails: auditDetailsOf(row),
  };
}

/** Events carry what a consumer needs to act on a task; the address stays out of them. */
function eventData(row: TaskRow) {
  const resources = Array.isArray(row.resources) ? (row.resources as StoredResource[]) : [];
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientReferenceId: row.client_reference_id,
    projectId: row.project_id,
    projectBeneficiaryId: row.project_beneficiary_id,
    projectBeneficiaryClientReferenceId: row.project_beneficiary_client_reference_id,
    status: row.status,
    plannedStartDate: row.planned_start_date,
    plannedEndDate: row.planned_end_date,
    actualStartDate: row.actual_start_date,
    actualEndDate: row.actual_end_date,
    resources: resources.map((r) => ({ productVariantId: r.productVariantId, quantity: r.quantity, isDelivered: r.isDelivered })),
    rowVersion: row.row_version,
    isDeleted: row.is_deleted,
  };
}

/** Rules the schema cannot say: a beneficiary link and date ranges that run forwards. */
export function taskProblem(input: TaskInput): Refusal | undefined {
  if (!input.projectBeneficiaryId && !input.projectBeneficiaryClientReferenceId) {
    return {
      code: 'REQUIRED_LINK_MISSING',
      message: 'a task needs its beneficiary: projectBeneficiaryId or projectBeneficiaryClientReferenceId',
    };
  }
  const backwards = (from: number | null | undefined, to: number | null | undefined) =>
    typeof from === 'number' && typeof to === 'number' && to < from;
  if (backwards(input.plannedStartDate, input.plannedEndDate)) {
    return { code: 'INVALID_DATE_RANGE', message: 'plannedEndDate is before plannedStartDate' };
  }
  if (backwards(input.actualStartDate, input.actualEndDate)) {
    return { code: 'INVALID_DATE_RANGE', message: 'actualEndDate is before actualStartDate' };
  }
  return undefined;
}

export function createTaskService({ database, store, clock, outbox, tenants, idgen }: TaskServiceDeps) {
  /** Resources as stored: a resource keeps its server id (matched by id or clientReferenceId) and creation audit across updates. */
  function resourcesOf(input: TaskInput, previous: readonly StoredResource[], actor: Actor, now: number): StoredResource[] {
    return (input.resources ?? []).map((r: TaskResourceInput) => {
      const was = previous.find((p) => (r.id && p.id === r.id) || (r.clientReferenceId && p.clientReferenceId === r.clientReferenceId));
      return {
        id: was?.id ?? newId(),
        clientReferenceId: r.clientReferenceId ?? was?.clientReferenceId ?? null,
        productVariantId: r.productVariantId,
        quantity: r.quantity ?? null,
        isDelivered: r.isDelivered ?? false,
        deliveryComment: r.deliveryComment ?? null,
        isDeleted: r.isDeleted ?? false,
        additionalFields: r.additionalFields ?? null,
        auditDetails: {
          createdBy: was?.auditDetails.createdBy ?? actor.uuid,
          createdTime: was?.auditDetails.createdTime ?? now,
          lastModifiedBy: actor.uuid,
          lastModifiedTime: now,
        },
      };
    });
  }

  /** The fields a create or an update sets from the record sent. */
  function fieldsOf(input: TaskInput, previous: TaskRow | undefined, actor: Actor, now: number) {
    const prior = previous && Array.isArray(previous.resources) ? (previous.resources as StoredResource[]) : [];
    return {
      project_id: input.projectId,
      project_beneficiary_id: input.projectBeneficiaryId ?? null,
      project_beneficiary_client_reference_id: input.projectBeneficiaryClientReferenceId ?? null,
      resources: resourcesOf(input, prior, actor, now),
      planned_start_date: input.plannedStartDate ?? null,
      planned_end_date: input.plannedEndDate ?? null,
      actual_start_date: input.actualStartDate ?? null,
      actual_end_date: input.actualEndDate ?? null,
      task_created_by: input.createdBy ?? previous?.task_created_by ?? null,
      task_created_date: input.createdDate ?? previous?.task_created_date ?? null,
      address: addressOf(input),
      status: input.status ?? null,
      additional_fields: input.additionalFields ?? null,
    };
  }

  function addressOf(input: TaskInput): unknown {
    const a = input.address;
    return a ? storedAddress(a, input.tenantId, a.id ?? newId()) : null;
  }

  /** What update and delete share: tasks read inside the write's transaction, answered as Tasks. */
  const changes = {
    database,
    clock,
    entity: 'task',
    view: toTask,
    byId: (tx: Tx, tenantId: string, ids: readonly string[]) => store.byId(store.runner(tx), tenantId, ids),
    byClientRef: (tx: Tx, tenantId: string, refs: readonly string[]) => store.byClientRef(store.runner(tx), tenantId, refs),
  };

  const announce = (tx: Tx, type: string, row: TaskRow) =>
    outbox.append(tx, { type, source: SOURCE, subject: row.id, tenantId: row.tenant_id, data: eventData(row) });

  return {
    /**
     * DIGIT's bulk create, answered per record. A create re-sent with a stored clientReferenceId
     * answers the stored task unchanged: a device (or a scheduler) may resend safely.
     */
    async create(records: readonly unknown[], actor: Actor): Promise<BulkResult<Task>> {
      const { parsed, refused } = parseBatch<TaskInput>(TaskInput, records);
      const checked = await knownTenants(tenants, withClientReference(parsed, refused, taskProblem), refused);
      const accepted = await createEach(checked, refused, {
        database,
        clock,
        byClientRef: (tx, tenantId, refs) => store.byClientRef(store.runner(tx), tenantId, refs),
        drawIds: (tenantId, count) => idgen.service.generate([{ idName: ID_NAME, tenantId, count }], SYSTEM_SCOPE),
        async insert(tx, fresh, now) {
          const out = new Map<number, Outcome<TaskRow>>();
          for (const { index, record, id } of fresh) {
            const row: TaskRow = {
              tenant_id: record.tenantId,
              id,
              client_reference_id: record.clientReferenceId!,
              ...fieldsOf(record, undefined, actor, now),
              client_audit_details: record.clientAuditDetails ?? null,
              row_version: 1,
              is_deleted: false,
              created_by: actor.uuid,
              last_modified_by: actor.uuid,
              created_time: now,
              last_modified_time: now,
              change_time: now,
            };
            if (!(await store.insert(tx, row))) continue;
            await announce(tx, TASK_EVENTS.created, row);
            out.set(index, row);
          }
          return out;
        },
      });
      return { accepted: inRequestOrder(accepted, toTask), errors: toErrors(refused) };
    },

    /** DIGIT's bulk update: the device sends the rowVersion it last saw; a stale one is refused with the current record. */
    async update(records: readonly unknown[], actor: Actor): Promise<BulkResult<Task>> {
      const { parsed, refused } = parseBatch<TaskInput>(TaskInput, records);
      const named = namedOnce(parsed, refused, { entity: 'task', verb: 'update' }, (record) =>
        record.isDeleted === true
          ? { code: 'IS_DELETED_TRUE', message: 'isDeleted cannot be true on update: use _delete' }
          : taskProblem(record),
      );
      const accepted = await changeEach(await knownTenants(tenants, named, refused), refused, {
        ...changes,
        deleted: 'refuse',
        async change(tx, record, current, now) {
          const row: TaskRow = {
            ...current,
            ...fieldsOf(record, current, actor, now),
            client_audit_details: record.clientAuditDetails ?? current.client_audit_details,
            ...nextVersion(current, actor, now),
          };
          if (!(await store.update(tx, row))) return undefined;
          await announce(tx, TASK_EVENTS.updated, row);
          return row;
        },
      });
      return { accepted: inRequestOrder(accepted, toTask), errors: toErrors(refused) };
    },

    /** Soft delete (a tombstone). Deleting an already deleted task answers it again (a re-sent delete is harmless). */
    async remove(records: readonly unknown[], actor: Actor): Promise<BulkResult<Task>> {
      const { parsed, refused } = parseBatch<TaskRef>(TaskRef, records);
      const named = namedOnce(parsed, refused, { entity: 'task', verb: 'delete' });
      const accepted = await changeEach(await knownTenants(tenants, named, refused), refused, {
        ...changes,
        deleted: 'answer',
        async change(tx, _record, current, now) {
          const row: TaskRow = { ...current, is_deleted: true, ...nextVersion(current, actor, now) };
          if (!(await store.update(tx, row))) return undefined;
          await announce(tx, TASK_EVENTS.deleted, row);
          return row;
        },
      });
      return { accepted: inRequestOrder(accepted, toTask), errors: toErrors(refused) };
    },

    /** DIGIT's _search: body filters, URL params for tenant, paging and incremental pull; ordered by change (commit order), then id. */
    async search(criteria: TaskSearch | null | undefined, params: OfflineSearchParams, scope: Scope): Promise<{ totalCount: number; tasks: Task[] }> {
      await assertSearchTenant(tenants, criteria?.tenantId, params.tenantId);
      const from = Math.max(criteria?.plannedStartDate ?? 0, criteria?.plannedStartDateFrom ?? 0);
      const { total, rows } = await store.search(
        store.runner(),
        {
          tenantId: params.tenantId,
          ids: listFilter(criteria?.id),
          clientReferenceIds: listFilter(criteria?.clientReferenceId),
          projectIds: listFilter(criteria?.projectId),
          beneficiaryIds: listFilter(criteria?.projectBeneficiaryId),
          beneficiaryClientReferenceIds: listFilter(criteria?.projectBeneficiaryClientReferenceId),
          statuses: listFilter(criteria?.status),
          plannedStartFrom: criteria?.plannedStartDate != null || criteria?.plannedStartDateFrom != null ? from : undefined,
          plannedStartTo: criteria?.plannedStartDateTo ?? undefined,
          plannedEndTo: criteria?.plannedEndDate ?? undefined,
          lastChangedSince: params.lastChangedSince,
          includeDeleted: params.includeDeleted ?? false,
        },
        pageOf(params),
        scope,
      );
      return { totalCount: total, tasks: rows.map(toTask) };
    },
  };
}

export type TaskService = ReturnType<typeof createTaskService>;
