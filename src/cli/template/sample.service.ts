import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { auditDetailsOf } from '../../kernel/envelope.js';
import type { Outbox } from '../../kernel/events.js';
import type { AdditionalFields, ClientAuditDetails, OfflineSearchParams, Refusal } from '../../kernel/offline.js';
import {
  assertSearchTenant,
  inRequestOrder,
  knownTenants,
  listFilter,
  namedOnce,
  pageOf,
  parseBatch,
  toErrors,
  withClientReference,
  type Actor,
  type BulkResult,
} from '../../kernel/offline.batch.js';
import { changeEach, createEach, nextVersion, type Outcome } from '../../kernel/offline.write.js';
import type { Scope } from '../../kernel/scope.js';
import type { TenantDirectory } from '../../kernel/tenancy.js';
import type { IdgenApi } from '../../common/idgen/index.js';
import { SampleInput, type Sample, type SampleSearch } from './sample.schema.js';
import type { SampleRow, SampleStore } from './sample.store.js';

export type SampleServiceDeps = {
  database: Database;
  store: SampleStore;
  clock: Clock;
  outbox: Outbox;
  tenants: TenantDirectory;
  idgen: IdgenApi;
};

const SOURCE = '/plinth/sample';
/** The idgen format's name (common-masters.IdFormat, declared in sample.masters.ts). */
export const ID_NAME = 'sample.id';
/** What the registry announces, in the transaction of the change: its published contract. */
export const SAMPLE_EVENTS = {
  created: 'plinth.sample.created.v1',
  updated: 'plinth.sample.updated.v1',
} as const;
const DEFAULT_STATUS = 'ACTIVE';

export function toSample(row: SampleRow): Sample {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientReferenceId: row.client_reference_id,
    name: row.name,
    category: row.category,
    status: row.status,
    validFrom: row.valid_from,
    validTo: row.valid_to,
    additionalFields: (row.additional_fields as AdditionalFields | null) ?? null,
    clientAuditDetails: (row.client_audit_details as ClientAuditDetails | null) ?? null,
    rowVersion: row.row_version,
    isDeleted: row.is_deleted,
    auditDetails: auditDetailsOf(row),
  };
}

/** Rules the schema cannot say, refused per record. */
export function sampleProblem(input: SampleInput): Refusal | undefined {
  if (typeof input.validFrom === 'number' && typeof input.validTo === 'number' && input.validTo < input.validFrom) {
    return { code: 'INVALID_DATE_RANGE', message: 'validTo is before validFrom' };
  }
  return undefined;
}

/** Who writes: the caller of the request, or the platform itself (no uuid) for the system scope. */
const actorOf = (scope: Scope): Actor => ({ uuid: scope.user?.uuid ?? null });

/**
 * Create, update and search on the offline write protocol (kernel/offline.batch.ts): answered per
 * record, a resent create answers the stored record, an update needs the rowVersion the device
 * last saw. Each call takes the caller's Scope; the store keeps every read inside it.
 */
export function createSampleService({ database, store, clock, outbox, tenants, idgen }: SampleServiceDeps) {
  /** The fields a create or an update sets from the record sent. */
  const fieldsOf = (input: SampleInput, previous: SampleRow | undefined) => ({
    name: input.name,
    category: input.category,
    status: input.status ?? previous?.status ?? DEFAULT_STATUS,
    valid_from: input.validFrom ?? null,
    valid_to: input.validTo ?? null,
    additional_fields: input.additionalFields ?? null,
    client_audit_details: input.clientAuditDetails ?? previous?.client_audit_details ?? null,
  });

  /** Events carry what a consumer needs to act; read the record for more. */
  const announce = (tx: Tx, type: string, row: SampleRow) =>
    outbox.append(tx, {
      type,
      source: SOURCE,
      subject: row.id,
      tenantId: row.tenant_id,
      data: {
        id: row.id,
        tenantId: row.tenant_id,
        clientReferenceId: row.client_reference_id,
        status: row.status,
        rowVersion: row.row_version,
      },
    });

  return {
    /** DIGIT's bulk create, answered per record; a resent create answers the stored record unchanged. */
    async create(records: readonly unknown[], scope: Scope): Promise<BulkResult<Sample>> {
      const actor = actorOf(scope);
      const { parsed, refused } = parseBatch<SampleInput>(SampleInput, records);
      const checked = await knownTenants(tenants, withClientReference(parsed, refused, sampleProblem), refused);
      const accepted = await createEach(checked, refused, {
        database,
        clock,
        byClientRef: (tx, tenantId, refs) => store.byClientRef(store.runner(tx), tenantId, refs, scope),
        drawIds: (tenantId, count) => idgen.service.generate([{ idName: ID_NAME, tenantId, count }], scope),
        async insert(tx, fresh, now) {
          const out = new Map<number, Outcome<SampleRow>>();
          for (const { index, record, id } of fresh) {
            const row: SampleRow = {
              tenant_id: record.tenantId,
              id,
              client_reference_id: record.clientReferenceId!,
              ...fieldsOf(record, undefined),
              row_version: 1,
              is_deleted: false,
              created_by: actor.uuid,
              last_modified_by: actor.uuid,
              created_time: now,
              last_modified_time: now,
              change_time: now,
            };
            // Left out: a concurrent create stored this clientReferenceId first, and is answered instead.
            if (!(await store.insert(tx, row))) continue;
            await announce(tx, SAMPLE_EVENTS.created, row);
            out.set(index, row);
          }
          return out;
        },
      });
      return { accepted: inRequestOrder(accepted, toSample), errors: toErrors(refused) };
    },

    /** DIGIT's bulk update: a stale rowVersion is refused with the current record, the rest of the batch lands. */
    async update(records: readonly unknown[], scope: Scope): Promise<BulkResult<Sample>> {
      const actor = actorOf(scope);
      const { parsed, refused } = parseBatch<SampleInput>(SampleInput, records);
      const named = namedOnce(parsed, refused, { entity: 'sample', verb: 'update' }, sampleProblem);
      const accepted = await changeEach(await knownTenants(tenants, named, refused), refused, {
        database,
        clock,
        entity: 'sample',
        deleted: 'refuse',
        view: toSample,
        byId: (tx, tenantId, ids) => store.byId(store.runner(tx), tenantId, ids, scope),
        byClientRef: (tx, tenantId, refs) => store.byClientRef(store.runner(tx), tenantId, refs, scope),
        async change(tx, record, current, now) {
          const row: SampleRow = { ...current, ...fieldsOf(record, current), ...nextVersion(current, actor, now) };
          // Another request changed it first: it is refused with what that request stored.
          if (!(await store.update(tx, row))) return undefined;
          await announce(tx, SAMPLE_EVENTS.updated, row);
          return row;
        },
      });
      return { accepted: inRequestOrder(accepted, toSample), errors: toErrors(refused) };
    },

    /** DIGIT's _search: body filters, URL params for tenant, paging and incremental pull; ordered by change (commit order), then id. */
    async search(criteria: SampleSearch | null | undefined, params: OfflineSearchParams, scope: Scope) {
      await assertSearchTenant(tenants, criteria?.tenantId, params.tenantId);
      const { total, rows } = await store.search(
        store.runner(),
        {
          tenantId: params.tenantId,
          ids: listFilter(criteria?.id),
          clientReferenceIds: listFilter(criteria?.clientReferenceId),
          categories: listFilter(criteria?.category),
          statuses: listFilter(criteria?.status),
          lastChangedSince: params.lastChangedSince,
          includeDeleted: params.includeDeleted ?? false,
        },
        pageOf(params),
        scope,
      );
      return { totalCount: total, records: rows.map(toSample) };
    },
  };
}

export type SampleService = ReturnType<typeof createSampleService>;
