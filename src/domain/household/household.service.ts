import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { invalid } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import type { Outbox } from '../../kernel/events.js';
import { firstOfEachKey, rowVersionRefusal, type OfflineSearchParams, type Refusal } from '../../kernel/offline.js';
import { assertKnownTenant, tenantLineage, type TenantDirectory } from '../../kernel/tenancy.js';
import type { BoundaryApi } from '../../common/boundary/index.js';
import type { IdgenApi } from '../../common/idgen/index.js';
import {
  SOURCE,
  byTenant,
  listFilter,
  pageOf,
  parseBatch,
  tenantChecker,
  toErrors,
  toHousehold,
  type Actor,
  type BulkResult,
  type Parsed,
  type Refused,
} from './household.records.js';
import { HouseholdInput, HouseholdRef, type Household, type HouseholdSearch } from './household.schema.js';
import { isUniqueViolation, type HouseholdRow, type HouseholdStore, type MemberRow, type Runner } from './household.store.js';

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
const key = (tenantId: string, value: string) => `${tenantId}\u0000${value}`;

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

/** Runs `work` in a transaction; a unique key lost to a concurrent writer retries once (the retry sees the winner). */
export async function withRetryOnRace<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await database.transaction(work);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    return database.transaction(work);
  }
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
      const k = key(tenantId, code);
      if (!seen.has(k)) {
        let found = false;
        for (const tenant of tenantLineage(tenantId)) {
          const hits = await boundary.service.searchBoundaries({ tenantId: tenant, codes: [code], limit: 1 }).catch(() => []);
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
    };
  }

  /** The address as stored: DIGIT's fields only, with the server's id for it. */
  function addressOf(input: HouseholdInput, stored: HouseholdRow | null): unknown {
    const a = input.address;
    if (!a) return null;
    const previous = (stored?.address ?? null) as { id?: string | null } | null;
    return {
      id: a.id ?? previous?.id ?? newId(),
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

  /** Stored households named by id or client reference id, by both keys. */
  async function loadByIdentity(
    db: Runner,
    tenantId: string,
    refs: ReadonlyArray<{ id?: string | null; clientReferenceId?: string | null }>,
  ) {
    const ids = refs.map((r) => r.id).filter((v): v is string => typeof v === 'string');
    const clientRefs = refs.map((r) => r.clientReferenceId).filter((v): v is string => typeof v === 'string');
    const byId = new Map<string, HouseholdRow>();
    const byRef = new Map<string, HouseholdRow>();
    for (const row of [
      ...(await store.householdsById(db, tenantId, ids)),
      ...(await store.householdsByClientRef(db, tenantId, clientRefs)),
    ]) {
      byId.set(row.id, row);
      byRef.set(row.client_reference_id, row);
    }
    return {
      find(ref: { id?: string | null; clientReferenceId?: string | null }): HouseholdRow | 'mismatch' | undefined {
        const a = ref.id ? byId.get(ref.id) : undefined;
        const b = ref.clientReferenceId ? byRef.get(ref.clientReferenceId) : undefined;
        if (ref.id && ref.clientReferenceId && a !== b) return 'mismatch';
        return a ?? b;
      },
      put(row: HouseholdRow) {
        byId.set(row.id, row);
        byRef.set(row.client_reference_id, row);
      },
    };
  }

  const notFound = (ref: { id?: string | null; clientReferenceId?: string | null }): Refusal => ({
    code: 'NON_EXISTENT_ENTITY',
    message: `No household ${ref.id ?? ''}${ref.id && ref.clientReferenceId ? ' / ' : ''}${ref.clientReferenceId ?? ''} in this tenant`,
  });

  return {
    /**
     * DIGIT's bulk create, answered per record. A create re-sent with a stored clientReferenceId
     * answers the stored household; members already waiting for it are linked in the same transaction.
     */
    async create(records: readonly unknown[], actor: Actor): Promise<BulkResult<Household>> {
      const { parsed, refused } = parseBatch<HouseholdInput>(HouseholdInput, records);
      const withRef: Array<Parsed<HouseholdInput>> = [];
      for (const item of parsed) {
        if (item.record.clientReferenceId) withRef.push(item);
        else
          refused.push({
            ...item,
            refusal: { code: 'MISSING_CLIENT_REFERENCE_ID', message: 'clientReferenceId is required: it makes a re-sent create safe' },
          });
      }
      const unique = firstOfEachKey(withRef, (item) => key(item.record.tenantId, item.record.clientReferenceId!), 'DUPLICATE_ENTITY');
      refused.push(...unique.refused.map((r) => ({ index: r.record.index, record: r.record.record, refusal: r.refusal })));
      const checked = await checkRecords(
        unique.kept.map((k) => k.record),
        refused,
      );

      const accepted = new Map<number, HouseholdRow>();
      for (const [tenantId, items] of byTenant(checked)) {
        // Numbers are drawn before the transaction (idgen commits its own); a resend only leaves a gap.
        const known = new Set(
          (
            await store.householdsByClientRef(
              store.runner(),
              tenantId,
              items.map((i) => i.record.clientReferenceId!),
            )
          ).map((r) => r.client_reference_id),
        );
        const fresh = items.filter((i) => !known.has(i.record.clientReferenceId!));
        const ids = fresh.length === 0 ? [] : await idgen.service.generate([{ idName: ID_NAME, tenantId, count: fresh.length }]);
        const rows = await withRetryOnRace(database, async (tx) => {
          const db = store.runner(tx);
          const now = clock.now();
          const stored = new Map(
            (
              await store.householdsByClientRef(
                db,
                tenantId,
                items.map((i) => i.record.clientReferenceId!),
              )
            ).map((r) => [r.client_reference_id, r]),
          );
          const out = new Map<number, HouseholdRow>();
          let next = 0;
          for (const item of items) {
            const existing = stored.get(item.record.clientReferenceId!);
            if (existing) {
              out.set(item.index, existing);
              continue;
            }
            const id = ids[next++];
            // Unreachable: records only ever get stored between the two reads, never removed.
            if (id === undefined) throw new Error('household: fewer ids drawn than new households');
            const row = rowFromInput(item.record, id, actor, now);
            await store.insertHousehold(db, row);
            const linked = await store.linkHousehold(db, tenantId, row.id, row.client_reference_id, now);
            if (linked.length > 0) await onMembersLinked(tx, linked);
            await outbox.append(tx, {
              type: 'plinth.household.created.v1',
              source: SOURCE,
              subject: row.id,
              tenantId,
              data: eventData(row),
            });
            out.set(item.index, row);
          }
          return out;
        });
        for (const [index, row] of rows) accepted.set(index, row);
      }
      return {
        accepted: [...accepted.entries()].sort(([a], [b]) => a - b).map(([, row]) => toHousehold(row)),
        errors: toErrors(refused),
      };
    },

    /** DIGIT's bulk update: the device sends the rowVersion it last saw; a stale one is refused with the current record. */
    async update(records: readonly unknown[], actor: Actor): Promise<BulkResult<Household>> {
      const { parsed, refused } = parseBatch<HouseholdInput>(HouseholdInput, records);
      const named: Array<Parsed<HouseholdInput>> = [];
      for (const item of parsed) {
        if (!item.record.id && !item.record.clientReferenceId) {
          refused.push({ ...item, refusal: { code: 'NULL_ID', message: 'id (or clientReferenceId) is required to update a household' } });
        } else if (item.record.isDeleted === true) {
          refused.push({ ...item, refusal: { code: 'IS_DELETED_TRUE', message: 'isDeleted cannot be true on update: use _delete' } });
        } else named.push(item);
      }
      const unique = firstOfEachKey(
        named,
        (i) => key(i.record.tenantId, i.record.id ?? `ref:${i.record.clientReferenceId}`),
        'DUPLICATE_ENTITY',
      );
      refused.push(...unique.refused.map((r) => ({ index: r.record.index, record: r.record.record, refusal: r.refusal })));
      const checked = await checkRecords(
        unique.kept.map((k) => k.record),
        refused,
      );
      const accepted = new Map<number, HouseholdRow>();
      for (const [tenantId, items] of byTenant(checked)) {
        const result = await database.transaction(async (tx) => {
          const db = store.runner(tx);
          const now = clock.now();
          const stored = await loadByIdentity(
            db,
            tenantId,
            items.map((i) => i.record),
          );
          const out = new Map<number, HouseholdRow>();
          const refusals: Refused[] = [];
          for (const item of items) {
            const current = stored.find(item.record);
            if (current === undefined || current === 'mismatch' || current.is_deleted) {
              refusals.push({ ...item, refusal: notFound(item.record) });
              continue;
            }
            const stale = rowVersionRefusal(item.record.rowVersion, current.row_version, toHousehold(current));
            if (stale) {
              refusals.push({ ...item, refusal: stale });
              continue;
            }
            const row: HouseholdRow = {
              ...current,
              member_count: item.record.memberCount,
              household_type: item.record.householdType ?? null,
              locality_code: item.record.address?.locality?.code ?? null,
              address: addressOf(item.record, current),
              additional_fields: item.record.additionalFields ?? null,
              client_audit_details: item.record.clientAuditDetails ?? current.client_audit_details,
              row_version: current.row_version + 1,
              sync_time: now,
              last_modified_by: actor.uuid,
              last_modified_time: now,
            };
            await store.updateHousehold(db, row);
            await outbox.append(tx, {
              type: 'plinth.household.updated.v1',
              source: SOURCE,
              subject: row.id,
              tenantId,
              data: eventData(row),
            });
            stored.put(row);
            out.set(item.index, row);
          }
          return { out, refusals };
        });
        refused.push(...result.refusals);
        for (const [index, row] of result.out) accepted.set(index, row);
      }
      return {
        accepted: [...accepted.entries()].sort(([a], [b]) => a - b).map(([, row]) => toHousehold(row)),
        errors: toErrors(refused),
      };
    },

    /** Soft delete. Deleting an already deleted household answers it again (a re-sent delete is harmless). */
    async remove(records: readonly unknown[], actor: Actor): Promise<BulkResult<Household>> {
      const { parsed, refused } = parseBatch<HouseholdRef>(HouseholdRef, records);
      const named: Array<Parsed<HouseholdRef>> = [];
      for (const item of parsed) {
        if (!item.record.id && !item.record.clientReferenceId) {
          refused.push({ ...item, refusal: { code: 'NULL_ID', message: 'id (or clientReferenceId) is required to delete a household' } });
        } else named.push(item);
      }
      const unique = firstOfEachKey(
        named,
        (i) => key(i.record.tenantId, i.record.id ?? `ref:${i.record.clientReferenceId}`),
        'DUPLICATE_ENTITY',
      );
      refused.push(...unique.refused.map((r) => ({ index: r.record.index, record: r.record.record, refusal: r.refusal })));
      const tenantOk = tenantChecker(tenants);
      const checked: Array<Parsed<HouseholdRef>> = [];
      for (const { record: item } of unique.kept) {
        const refusal = await tenantOk(item.record.tenantId);
        if (refusal) refused.push({ ...item, refusal });
        else checked.push(item);
      }
      const accepted = new Map<number, HouseholdRow>();
      for (const [tenantId, items] of byTenant(checked)) {
        const result = await database.transaction(async (tx) => {
          const db = store.runner(tx);
          const now = clock.now();
          const stored = await loadByIdentity(
            db,
            tenantId,
            items.map((i) => i.record),
          );
          const out = new Map<number, HouseholdRow>();
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
            const stale = rowVersionRefusal(item.record.rowVersion, current.row_version, toHousehold(current));
            if (stale) {
              refusals.push({ ...item, refusal: stale });
              continue;
            }
            const row: HouseholdRow = {
              ...current,
              is_deleted: true,
              row_version: current.row_version + 1,
              sync_time: now,
              last_modified_by: actor.uuid,
              last_modified_time: now,
            };
            await store.updateHousehold(db, row);
            await outbox.append(tx, {
              type: 'plinth.household.deleted.v1',
              source: SOURCE,
              subject: row.id,
              tenantId,
              data: eventData(row),
            });
            stored.put(row);
            out.set(item.index, row);
          }
          return { out, refusals };
        });
        refused.push(...result.refusals);
        for (const [index, row] of result.out) accepted.set(index, row);
      }
      return {
        accepted: [...accepted.entries()].sort(([a], [b]) => a - b).map(([, row]) => toHousehold(row)),
        errors: toErrors(refused),
      };
    },

    /** DIGIT's _search: body filters, URL params for tenant, paging and incremental pull; ordered by last change, then id. */
    async search(
      criteria: HouseholdSearch | null | undefined,
      params: OfflineSearchParams,
    ): Promise<{ totalCount: number; households: Household[] }> {
      await assertKnownTenant(tenants, params.tenantId);
      if (criteria?.tenantId && criteria.tenantId !== params.tenantId) {
        throw invalid('INVALID_TENANT_ID', `The body's tenantId ${criteria.tenantId} differs from the URL's ${params.tenantId}`, [
          criteria.tenantId,
        ]);
      }
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
