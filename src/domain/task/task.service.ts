import { Compile } from 'typebox/compile';
import type { TSchema } from 'typebox';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { auditDetailsOf } from '../../kernel/envelope.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import {
  firstOfEachKey,
  recordError,
  rowVersionRefusal,
  type AdditionalFields,
  type ClientAuditDetails,
  type OfflineSearchParams,
  type RecordError,
  type Refusal,
} from '../../kernel/offline.js';
import { assertKnownTenant, type TenantDirectory } from '../../kernel/tenancy.js';
import type { IdgenApi } from '../../common/idgen/index.js';
import { TaskInput, TaskRef, type Task, type TaskResource, type TaskResourceInput, type TaskSearch } from './task.schema.js';
import { isUniqueViolation, type TaskRow, type TaskStore } from './task.store.js';

/** Who is writing: a user's uuid, or null for the system (e.g. a scheduler acting on an event). */
export type Actor = { uuid: string | null };

/** A bulk call's answer: the records accepted (in request order) and the ones refused, each with its reason. */
export type BulkResult<T> = { accepted: T[]; errors: RecordError[] };

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

type Parsed<T> = { index: number; record: T };
type Refused = {
  index: number;
  record: { clientReferenceId?: string | null | undefined; id?: string | null | undefined } | undefined;
  refusal: Refusal;
};

const key = (tenantId: string, value: string) => `${tenantId}\u0000${value}`;

/** Checks each record against its schema, so one malformed record is refused alone instead of failing the call. */
function parseBatch<T>(
  validator: ReturnType<typeof Compile>,
  records: readonly unknown[],
): { parsed: Array<Parsed<T>>; refused: Refused[] } {
  const parsed: Array<Parsed<T>> = [];
  const refused: Refused[] = [];
  records.forEach((record, index) => {
    if (validator.Check(record)) {
      parsed.push({ index, record: record as T });
      return;
    }
    const issues = validator
      .Errors(record)
      .slice(0, 5)
      .map((issue) => `${issue.instancePath.split('/').filter(Boolean).join('.') || 'the record'} ${issue.message}`);
    const loose = record && typeof record === 'object' ? (record as Record<string, unknown>) : {};
    const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 64) : null);
    refused.push({
      index,
      record: { clientReferenceId: text(loose['clientReferenceId']), id: text(loose['id']) },
      refusal: { code: 'INVALID_REQUEST', message: issues.join('; ') || 'the record is invalid' },
    });
  });
  return { parsed, refused };
}

const compiled = new Map<TSchema, ReturnType<typeof Compile>>();
function validatorOf(schema: TSchema) {
  let v = compiled.get(schema);
  if (!v) compiled.set(schema, (v = Compile(schema)));
  return v;
}

function toErrors(refused: readonly Refused[]): RecordError[] {
  return [...refused].sort((a, b) => a.index - b.index).map((r) => recordError(r.index, r.record, r.refusal));
}

function byTenant<T extends { tenantId: string }>(items: ReadonlyArray<Parsed<T>>): Map<string, Array<Parsed<T>>> {
  const groups = new Map<string, Array<Parsed<T>>>();
  for (const item of items) {
    const list = groups.get(item.record.tenantId);
    if (list) list.push(item);
    else groups.set(item.record.tenantId, [item]);
  }
  return groups;
}

/** `undefined` for "no filter", a de-duplicated list otherwise (DIGIT sends nulls or empty lists for absent filters). */
function listFilter(values: readonly string[] | string | null | undefined): string[] | undefined {
  if (typeof values === 'string') return [values];
  return values === null || values === undefined || values.length === 0 ? undefined : [...new Set(values)];
}

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
  /** Per call: each tenant is checked once; an unknown one refuses its records, not the batch. */
  function tenantChecker() {
    const seen = new Map<string, Refusal | null>();
    return async (tenantId: string): Promise<Refusal | undefined> => {
      if (!seen.has(tenantId)) {
        try {
          await assertKnownTenant(tenants, tenantId);
          seen.set(tenantId, null);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          seen.set(tenantId, { code: error.code, message: error.message });
        }
      }
      return seen.get(tenantId) ?? undefined;
    };
  }

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
    if (!a) return null;
    return {
      id: a.id ?? newId(),
      clientReferenceId: a.clientReferenceId ?? null,
      tenantId: input.tenantId,
      doorNo: a.doorNo ?? null,
      latitude: a.latitude ?? null,
      longitude: a.longitude ?? null,
      locationAccuracy: a.locationAccuracy ?? null,
      type: a.type ?? null,
      addressLine1: a.addressLine1 ?? null,
      addressLine2: a.addressLine2 ?? null,
      landmark: a.landmark ?? null,
      city: a.city ?? null,
      pincode: a.pincode ?? null,
      buildingName: a.buildingName ?? null,
      street: a.street ?? null,
      locality: a.locality ? { code: a.locality.code } : null,
    };
  }

  /** Stored tasks named by id or client reference id, by both keys. */
  async function loadByIdentity(tx: Tx, tenantId: string, refs: ReadonlyArray<{ id?: string | null; clientReferenceId?: string | null }>) {
    const db = store.runner(tx);
    const ids = refs.map((r) => r.id).filter((v): v is string => typeof v === 'string');
    const clientRefs = refs.map((r) => r.clientReferenceId).filter((v): v is string => typeof v === 'string');
    const byId = new Map<string, TaskRow>();
    const byRef = new Map<string, TaskRow>();
    for (const row of [...(await store.byId(db, tenantId, ids)), ...(await store.byClientRef(db, tenantId, clientRefs))]) {
      byId.set(row.id, row);
      byRef.set(row.client_reference_id, row);
    }
    return {
      find(ref: { id?: string | null; clientReferenceId?: string | null }): TaskRow | 'mismatch' | undefined {
        const a = ref.id ? byId.get(ref.id) : undefined;
        const b = ref.clientReferenceId ? byRef.get(ref.clientReferenceId) : undefined;
        if (ref.id && ref.clientReferenceId && a !== b) return 'mismatch';
        return a ?? b;
      },
      put(row: TaskRow) {
        byId.set(row.id, row);
        byRef.set(row.client_reference_id, row);
      },
    };
  }

  const notFound = (ref: { id?: string | null; clientReferenceId?: string | null }): Refusal => ({
    code: 'NON_EXISTENT_ENTITY',
    message: `No task ${ref.id ?? ''}${ref.id && ref.clientReferenceId ? ' / ' : ''}${ref.clientReferenceId ?? ''} in this tenant`,
  });

  /** Records of update and delete: named by id or client reference id, each named once per batch, in a known tenant. */
  async function named<T extends { tenantId: string; id?: string | null; clientReferenceId?: string | null }>(
    parsed: ReadonlyArray<Parsed<T>>,
    refused: Refused[],
    verb: string,
    extra?: (record: T) => Refusal | undefined,
  ): Promise<Array<Parsed<T>>> {
    const withName: Array<Parsed<T>> = [];
    for (const item of parsed) {
      if (!item.record.id && !item.record.clientReferenceId) {
        refused.push({ ...item, refusal: { code: 'NULL_ID', message: `id (or clientReferenceId) is required to ${verb} a task` } });
        continue;
      }
      const problem = extra?.(item.record);
      if (problem) refused.push({ ...item, refusal: problem });
      else withName.push(item);
    }
    const unique = firstOfEachKey(
      withName,
      (i) => key(i.record.tenantId, i.record.id ?? `ref:${i.record.clientReferenceId}`),
      'DUPLICATE_ENTITY',
    );
    refused.push(...unique.refused.map((r) => ({ index: r.record.index, record: r.record.record, refusal: r.refusal })));
    const tenantOk = tenantChecker();
    const out: Array<Parsed<T>> = [];
    for (const { record: item } of unique.kept) {
      const refusal = await tenantOk(item.record.tenantId);
      if (refusal) refused.push({ ...item, refusal });
      else out.push(item);
    }
    return out;
  }

  const ordered = (accepted: Map<number, TaskRow>) => [...accepted.entries()].sort(([a], [b]) => a - b).map(([, row]) => toTask(row));

  return {
    /**
     * DIGIT's bulk create, answered per record. A create re-sent with a stored clientReferenceId
     * answers the stored task unchanged: a device (or a scheduler) may resend safely.
     */
    async create(records: readonly unknown[], actor: Actor): Promise<BulkResult<Task>> {
      const { parsed, refused } = parseBatch<TaskInput>(validatorOf(TaskInput), records);
      const withRef: Array<Parsed<TaskInput>> = [];
      for (const item of parsed) {
        const problem: Refusal | undefined = item.record.clientReferenceId
          ? taskProblem(item.record)
          : { code: 'MISSING_CLIENT_REFERENCE_ID', message: 'clientReferenceId is required: it makes a re-sent create safe' };
        if (problem) refused.push({ ...item, refusal: problem });
        else withRef.push(item);
      }
      const unique = firstOfEachKey(withRef, (item) => key(item.record.tenantId, item.record.clientReferenceId!), 'DUPLICATE_ENTITY');
      refused.push(...unique.refused.map((r) => ({ index: r.record.index, record: r.record.record, refusal: r.refusal })));
      const tenantOk = tenantChecker();
      const checked: Array<Parsed<TaskInput>> = [];
      for (const { record: item } of unique.kept) {
        const refusal = await tenantOk(item.record.tenantId);
        if (refusal) refused.push({ ...item, refusal });
        else checked.push(item);
      }

      const accepted = new Map<number, TaskRow>();
      for (const [tenantId, items] of byTenant(checked)) {
        const refs = items.map((i) => i.record.clientReferenceId!);
        // Numbers are drawn before the transaction (idgen commits its own); a resend only leaves a gap.
        const known = new Set((await store.byClientRef(store.runner(), tenantId, refs)).map((r) => r.client_reference_id));
        const fresh = items.filter((i) => !known.has(i.record.clientReferenceId!)).length;
        const ids = fresh === 0 ? [] : await idgen.service.generate([{ idName: ID_NAME, tenantId, count: fresh }]);
        const work = async (tx: Tx) => {
          const db = store.runner(tx);
          const now = clock.now();
          const stored = new Map((await store.byClientRef(db, tenantId, refs)).map((r) => [r.client_reference_id, r]));
          const out = new Map<number, TaskRow>();
          const events: TaskRow[] = [];
          let next = 0;
          for (const item of items) {
            const existing = stored.get(item.record.clientReferenceId!);
            if (existing) {
              out.set(item.index, existing);
              continue;
            }
            // A record stored between the two reads is answered above; none is ever removed, so ids suffice.
            const id = ids[next++] ?? newId();
            const row: TaskRow = {
              tenant_id: tenantId,
              id,
              client_reference_id: item.record.clientReferenceId!,
              ...fieldsOf(item.record, undefined, actor, now),
              client_audit_details: item.record.clientAuditDetails ?? null,
              row_version: 1,
              is_deleted: false,
              created_by: actor.uuid,
              last_modified_by: actor.uuid,
              created_time: now,
              last_modified_time: now,
            };
            await store.insert(db, row);
            events.push(row);
            out.set(item.index, row);
          }
          await outbox.appendMany(
            tx,
            events.map((row) => ({ type: TASK_EVENTS.created, source: SOURCE, subject: row.id, tenantId, data: eventData(row) })),
          );
          return out;
        };
        let rows: Map<number, TaskRow>;
        try {
          rows = await database.transaction(work);
        } catch (error) {
          // A concurrent create of the same clientReferenceId won: the retry answers its record.
          if (!isUniqueViolation(error)) throw error;
          rows = await database.transaction(work);
        }
        for (const [index, row] of rows) accepted.set(index, row);
      }
      return { accepted: ordered(accepted), errors: toErrors(refused) };
    },

    /** DIGIT's bulk update: the device sends the rowVersion it last saw; a stale one is refused with the current record. */
    async update(records: readonly unknown[], actor: Actor): Promise<BulkResult<Task>> {
      const { parsed, refused } = parseBatch<TaskInput>(validatorOf(TaskInput), records);
      const checked = await named(parsed, refused, 'update', (record) =>
        record.isDeleted === true
          ? { code: 'IS_DELETED_TRUE', message: 'isDeleted cannot be true on update: use _delete' }
          : taskProblem(record),
      );
      const accepted = new Map<number, TaskRow>();
      for (const [tenantId, items] of byTenant(checked)) {
        const result = await database.transaction(async (tx) => {
          const db = store.runner(tx);
          const now = clock.now();
          const stored = await loadByIdentity(
            tx,
            tenantId,
            items.map((i) => i.record),
          );
          const out = new Map<number, TaskRow>();
          const refusals: Refused[] = [];
          for (const item of items) {
            const current = stored.find(item.record);
            if (current === undefined || current === 'mismatch' || current.is_deleted) {
              refusals.push({ ...item, refusal: notFound(item.record) });
              continue;
            }
            const stale = rowVersionRefusal(item.record.rowVersion, current.row_version, toTask(current));
            if (stale) {
              refusals.push({ ...item, refusal: stale });
              continue;
            }
            const row: TaskRow = {
              ...current,
              ...fieldsOf(item.record, current, actor, now),
              client_audit_details: item.record.clientAuditDetails ?? current.client_audit_details,
              row_version: current.row_version + 1,
              last_modified_by: actor.uuid,
              last_modified_time: now,
            };
            await store.update(db, row);
            await outbox.append(tx, { type: TASK_EVENTS.updated, source: SOURCE, subject: row.id, tenantId, data: eventData(row) });
            stored.put(row);
            out.set(item.index, row);
          }
          return { out, refusals };
        });
        refused.push(...result.refusals);
        for (const [index, row] of result.out) accepted.set(index, row);
      }
      return { accepted: ordered(accepted), errors: toErrors(refused) };
    },

    /** Soft delete (a tombstone). Deleting an already deleted task answers it again (a re-sent delete is harmless). */
    async remove(records: readonly unknown[], actor: Actor): Promise<BulkResult<Task>> {
      const { parsed, refused } = parseBatch<TaskRef>(validatorOf(TaskRef), records);
      const checked = await named(parsed, refused, 'delete');
      const accepted = new Map<number, TaskRow>();
      for (const [tenantId, items] of byTenant(checked)) {
        const result = await database.transaction(async (tx) => {
          const db = store.runner(tx);
          const now = clock.now();
          const stored = await loadByIdentity(
            tx,
            tenantId,
            items.map((i) => i.record),
          );
          const out = new Map<number, TaskRow>();
          const refusals: Refused[] = [];
          for (const item of items) {
            const current = stored.find(item.record);
            if (current === undefined || current === 'mismatch') {
              refusals.push({ ...item, refusal: notFound(item.record) });
              continue;
            }
            if (current.is_deleted) {
              out.set(item.index, current);
              continue;
            }
            const stale = rowVersionRefusal(item.record.rowVersion, current.row_version, toTask(current));
            if (stale) {
              refusals.push({ ...item, refusal: stale });
              continue;
            }
            const row: TaskRow = {
              ...current,
              is_deleted: true,
              row_version: current.row_version + 1,
              last_modified_by: actor.uuid,
              last_modified_time: now,
            };
            await store.update(db, row);
            await outbox.append(tx, { type: TASK_EVENTS.deleted, source: SOURCE, subject: row.id, tenantId, data: eventData(row) });
            stored.put(row);
            out.set(item.index, row);
          }
          return { out, refusals };
        });
        refused.push(...result.refusals);
        for (const [index, row] of result.out) accepted.set(index, row);
      }
      return { accepted: ordered(accepted), errors: toErrors(refused) };
    },

    /** DIGIT's _search: body filters, URL params for tenant, paging and incremental pull; ordered by last change, then id. */
    async search(criteria: TaskSearch | null | undefined, params: OfflineSearchParams): Promise<{ totalCount: number; tasks: Task[] }> {
      await assertKnownTenant(tenants, params.tenantId);
      if (criteria?.tenantId && criteria.tenantId !== params.tenantId) {
        throw invalid('INVALID_TENANT_ID', `The body's tenantId ${criteria.tenantId} differs from the URL's ${params.tenantId}`, [
          criteria.tenantId,
        ]);
      }
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
        { offset: params.offset ?? 0, limit: Math.min(params.limit ?? 100, 1000) },
      );
      return { totalCount: total, tasks: rows.map(toTask) };
    },
  };
}

export type TaskService = ReturnType<typeof createTaskService>;
