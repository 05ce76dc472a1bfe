import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { SYSTEM_SCOPE, type Scope } from '../../kernel/scope.js';
import { invalid } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import type { Outbox } from '../../kernel/events.js';
import type { OfflineSearchParams, Refusal } from '../../kernel/offline.js';
import {
  batchKey,
  assertSearchTenant,
  inRequestOrder,
  knownTenants,
  listFilter,
  namedOnce,
  pageOf,
  parseBatch,
  storedAddress,
  tenantChecker,
  toErrors,
  withClientReference,
  type Actor,
  type BulkResult,
  type Parsed,
  type Refused,
} from '../../kernel/offline.batch.js';
import { changeEach, createEach, nextVersion, type Outcome } from '../../kernel/offline.write.js';
import { assertKnownTenant, tenantLineage, type TenantDirectory } from '../../kernel/tenancy.js';
import type { BoundaryApi } from '../../common/boundary/index.js';
import type { IdgenApi } from '../../common/idgen/index.js';
import { SOURCE, toHousehold } from './household.records.js';
import { HouseholdInput, HouseholdRef, type Household, type HouseholdSearch } from './household.schema.js';
import type { HouseholdRow, HouseholdStore, MemberRow } from './household.store.js';

export type HouseholdServiceDeps = {
  database: Database;
  store: HouseholdStore;
  clock: Clock;
  outbox: Outbox;
  tenants: TenantDirectory;
  boundary: BoundaryApi;
  idgen: IdgenApi;
  /** Members waiting for a household are linked in the household's own transaction. */
  onMembersLinked: (tx: Tx, members: readonly MemberRow[]) => Promise<void>;
};

const ID_NAME = 'household.id';

/** Events carry ids and codes only: a household's address stays out of them. */
function eventData(row: HouseholdRow) {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientReferenceId: row.client_reference_id,
    localityCode: row.locality_code,
    householdType: row.household_type,
    memberCount: row.member_count,
    rowVersion: row.row_version,
    isDeleted: row.is_deleted,
  };
}

export function createHouseholdService({
  database,
  store,
  clock,
  outbox,
  tenants,
  boundary,
  idgen,
  onMembersLinked,
}: HouseholdServiceDeps) {
  /** Per call: is this locality code a boundary of the tenant (or of a tenant above it)? */
  function localityChecker() {
    const seen = new Map<string, boolean>();
    return async (tenantId: string, code: string): Promise<Refusal | undefined> => {
      const k = batchKey(tenantId, code);
      if (!seen.has(k)) {
        let found = false;
        for (const tenant of tenantLineage(tenantId)) {
          const hits = await boundary.service.searchBoundaries({ tenantId: tenant, codes: [code], limit: 1 }, SYSTEM_SCOPE).catch(() => []);
          if (hits.length > 0) {
            found = true;
            break;
          }
        }
        seen.set(k, found);
      }
      return seen.get(k)
        ? undefined
        : { code: 'INVALID_BOUNDARY', message: `address.locality.code "${code}" is not a boundary of tenant ${tenantId}` };
    };
  }

  /** Shape, tenant and locality of each record; answers those that pass. */
  async function checkRecords(items: ReadonlyArray<Parsed<HouseholdInput>>, refused: Refused[]): Promise<Array<Parsed<HouseholdInput>>> {
    const tenantOk = tenantChecker(tenants);
    const localityOk = localityChecker();
    const ok: Array<Parsed<HouseholdInput>> = [];
    for (const item of items) {
      const { record } = item;
      const code = record.address?.locality?.code;
      const refusal = (await tenantOk(record.tenantId)) ?? (code === undefined ? undefined : await localityOk(record.tenantId, code));
      if (refusal) refused.push({ ...item, refusal });
      else ok.push(item);
    }
    return ok;
  }

  function rowFromInput(input: HouseholdInput, id: string, actor: Actor, now: number): HouseholdRow {
    return {
      tenant_id: input.tenantId,
      id,
      client_reference_id: input.clientReferenceId!,
      member_count: input.memberCount,
      household_type: input.householdType ?? null,
      locality_code: input.address?.locality?.code ?? null,
      address: addressOf(input, null),
      additional_fields: input.additionalFields ?? null,
      client_audit_details: input.clientAuditDetails ?? null,
      row_version: 1,
      is_deleted: false,
      sync_time: now,
      created_by: actor.uuid,
      last_modified_by: actor.uuid,
      created_time: now,
      last_modified_time: now,
      change_time: now,
    };
  }

  /** The address as stored: DIGIT's fields only, with the server's id for it. */
  function addressOf(input: HouseholdInput, stored: HouseholdRow | null): unknown {
    const a = input.address;
    if (!a) return null;
    const previous = (stored?.address ?? null) as { id?: string | null } | null;
    return storedAddress(a, input.tenantId, a.id ?? previous?.id ?? newId());
  }

  /** What update and delete share: households read inside the write's transaction, answered as Households. */
  const changes = {
    database,
    clock,
    entity: 'household',
    view: toHousehold,
    byId: (tx: Tx, tenantId: string, ids: readonly string[]) => store.householdsById(store.runner(tx), tenantId, ids),
    byClientRef: (tx: Tx, tenantId: string, refs: readonly string[]) => store.householdsByClientRef(store.runner(tx), tenantId, refs),
  };

  const announce = (tx: Tx, type: string, row: HouseholdRow) =>
    outbox.append(tx, { type, source: SOURCE, subject: row.id, tenantId: row.tenant_id, data: eventData(row) });

  /** Addresses are sealed inside the batch transactions: the tenants' keys are loaded before them. */
  async function keysReady(records: readonly { record: { tenantId: string } }[]): Promise<void> {
    for (const tenantId of new Set(records.map((r) => r.record.tenantId))) await store.ready(tenantId);
  }

  return {
    /**
     * DIGIT's bulk create, answered per record. A create re-sent with a stored clientReferenceId
     * answers the stored household; members already waiting for it are linked in the same transaction.
     */
    async create(records: readonly unknown[], actor: Actor): Promise<BulkResult<Household>> {
      const { parsed, refused } = parseBatch<HouseholdInput>(HouseholdInput, records);
      const checked = await checkRecords(withClientReference(parsed, refused), refused);
      await keysReady(checked);
      const accepted = await createEach(checked, refused, {
        database,
        clock,
        byClientRef: (tx, tenantId, refs) => store.householdsByClientRef(store.runner(tx), tenantId, refs),
        drawIds: (tenantId, count) => idgen.service.generate([{ idName: ID_NAME, tenantId, count }], SYSTEM_SCOPE),
        async insert(tx, fresh, now) {
          const out = new Map<number, Outcome<HouseholdRow>>();
          for (const { index, record, id } of fresh) {
            const row = rowFromInput(record, id, actor, now);
            if (!(await store.insertHousehold(tx, row))) continue;
            const linked = await store.linkHousehold(tx, row.tenant_id, row.id, row.client_reference_id, now);
            if (linked.length > 0) await onMembersLinked(tx, linked);
            await announce(tx, 'plinth.household.created.v1', row);
            out.set(index, row);
          }
          return out;
        },
      });
      return { accepted: inRequestOrder(accepted, toHousehold), errors: toErrors(refused) };
    },

    /** DIGIT's bulk update: the device sends the rowVersion it last saw; a stale one is refused with the current record. */
    async update(records: readonly unknown[], actor: Actor): Promise<BulkResult<Household>> {
      const { parsed, refused } = parseBatch<HouseholdInput>(HouseholdInput, records);
      const named = namedOnce(parsed, refused, { entity: 'household', verb: 'update' }, (record) =>
        record.isDeleted === true ? { code: 'IS_DELETED_TRUE', message: 'isDeleted cannot be true on update: use _delete' } : undefined,
      );
      const checkedNamed = await checkRecords(named, refused);
      await keysReady(checkedNamed);
      const accepted = await changeEach(checkedNamed, refused, {
        ...changes,
        deleted: 'refuse',
        async change(tx, record, current, now) {
          const row: HouseholdRow = {
            ...current,
            member_count: record.memberCount,
            household_type: record.householdType ?? null,
            locality_code: record.address?.locality?.code ?? null,
            address: addressOf(record, current),
            additional_fields: record.additionalFields ?? null,
            client_audit_details: record.clientAuditDetails ?? current.client_audit_details,
            sync_time: now,
            ...nextVersion(current, actor, now),
          };
          if (!(await store.updateHousehold(tx, row))) return undefined;
          await announce(tx, 'plinth.household.updated.v1', row);
          return row;
        },
      });
      return { accepted: inRequestOrder(accepted, toHousehold), errors: toErrors(refused) };
    },

    /** Soft delete. Deleting an already deleted household answers it again (a re-sent delete is harmless). */
    async remove(records: readonly unknown[], actor: Actor): Promise<BulkResult<Household>> {
      const { parsed, refused } = parseBatch<HouseholdRef>(HouseholdRef, records);
      const named = namedOnce(parsed, refused, { entity: 'household', verb: 'delete' });
      const known = await knownTenants(tenants, named, refused);
      await keysReady(known);
      const accepted = await changeEach(known, refused, {
        ...changes,
        deleted: 'answer',
        async change(tx, _record, current, now) {
          const row: HouseholdRow = { ...current, is_deleted: true, sync_time: now, ...nextVersion(current, actor, now) };
          if (!(await store.updateHousehold(tx, row))) return undefined;
          await announce(tx, 'plinth.household.deleted.v1', row);
          return row;
        },
      });
      return { accepted: inRequestOrder(accepted, toHousehold), errors: toErrors(refused) };
    },

    /** DIGIT's _search: body filters, URL params for tenant, paging and incremental pull; ordered by change (commit order), then id. */
    async search(
      criteria: HouseholdSearch | null | undefined,
      params: OfflineSearchParams,
      scope: Scope,
    ): Promise<{ totalCount: number; households: Household[] }> {
      await assertSearchTenant(tenants, criteria?.tenantId, params.tenantId);
      const { total, rows } = await store.searchHouseholds(
        store.runner(),
        {
          tenantId: params.tenantId,
          ids: listFilter(criteria?.id),
          clientReferenceIds: listFilter(criteria?.clientReferenceId),
          localityCode: criteria?.boundaryCode ?? criteria?.localityCode ?? undefined,
          householdType: criteria?.householdType ?? undefined,
          lastChangedSince: params.lastChangedSince,
          includeDeleted: params.includeDeleted ?? false,
        },
        pageOf(params),
        scope,
      );
      return { totalCount: total, households: rows.map(toHousehold) };
    },

    /** Whether a locality code is a boundary of the tenant (downsync refuses unknown ones). */
    async assertLocality(tenantId: string, code: string): Promise<void> {
      await assertKnownTenant(tenants, tenantId);
      const refusal = await localityChecker()(tenantId, code);
      if (refusal) throw invalid(refusal.code, refusal.message, [code]);
    },
  };
}

export type HouseholdService = ReturnType<typeof createHouseholdService>;
