import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import type { Scope } from '../../kernel/scope.js';
import type { CloudEvent, Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { rowVersionRefusal, type OfflineSearchParams, type Refusal } from '../../kernel/offline.js';
import {
  assertSearchTenant,
  byTenant,
  knownTenants,
  listFilter,
  namedOnce,
  notFoundRefusal,
  pageOf,
  parseBatch,
  toErrors,
  withClientReference,
  withRetryOnRace,
  type Actor,
  type BulkResult,
  type Parsed,
  type Refused,
} from '../../kernel/offline.batch.js';
import { assertKnownTenant, type TenantDirectory } from '../../kernel/tenancy.js';
import type { IndividualLookup } from '../individual/index.js';
import { SOURCE, toMember } from './household.records.js';
import {
  HouseholdMemberInput,
  HouseholdMemberRef,
  type HouseholdMember,
  type HouseholdMemberSearch,
  type RelationshipInput,
  type SyncStatusCriteria,
  type WaitingLink,
} from './household.schema.js';
import type { HouseholdRow, HouseholdStore, MemberRow, RelationshipRow, Runner } from './household.store.js';

export type MemberServiceDeps = {
  database: Database;
  store: HouseholdStore;
  clock: Clock;
  outbox: Outbox;
  tenants: TenantDirectory;
  individual: IndividualLookup;
};

const ALREADY_MEMBER = 'INDIVIDUAL_ALREADY_MEMBER_OF_HOUSEHOLD';

/** Events carry ids and flags only. */
function eventData(row: MemberRow) {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientReferenceId: row.client_reference_id,
    householdId: row.household_id,
    householdClientReferenceId: row.household_client_reference_id,
    individualId: row.individual_id,
    individualClientReferenceId: row.individual_client_reference_id,
    isHeadOfHousehold: row.is_head_of_household,
    rowVersion: row.row_version,
    isDeleted: row.is_deleted,
  };
}

/** Checks that need no database: the links are there and a relationship does not point at its own member. */
function linkRefusal(record: HouseholdMemberInput, requireLinks: boolean): Refusal | undefined {
  if (requireLinks && !record.householdId && !record.householdClientReferenceId) {
    return { code: 'REQUIRED_LINK_MISSING', message: 'A household member needs householdId or householdClientReferenceId' };
  }
  if (requireLinks && !record.individualId && !record.individualClientReferenceId) {
    return { code: 'REQUIRED_LINK_MISSING', message: 'A household member needs individualId or individualClientReferenceId' };
  }
  for (const r of record.memberRelationships ?? []) {
    if (!r.relativeId && !r.relativeClientReferenceId) {
      return { code: 'REQUIRED_LINK_MISSING', message: 'A relationship needs relativeId or relativeClientReferenceId' };
    }
    const selfRef = record.clientReferenceId;
    if (
      (r.selfClientReferenceId && selfRef && r.selfClientReferenceId !== selfRef) ||
      (r.selfId && record.id && r.selfId !== record.id) ||
      (r.relativeClientReferenceId && selfRef && r.relativeClientReferenceId === selfRef) ||
      (r.relativeId && record.id && r.relativeId === record.id)
    ) {
      return { code: 'INVALID_RELATIONSHIP', message: 'A relationship links its own member (self) to another member (relative)' };
    }
  }
  return undefined;
}

export function createMemberService({ database, store, clock, outbox, tenants, individual }: MemberServiceDeps) {
  async function withRelationships(db: Runner, rows: readonly MemberRow[]): Promise<HouseholdMember[]> {
    const rels = await store.relationshipsOf(
      db,
      rows.map((r) => r.id),
    );
    const byMember = new Map<string, RelationshipRow[]>();
    for (const rel of rels) {
      const list = byMember.get(rel.member_id);
      if (list) list.push(rel);
      else byMember.set(rel.member_id, [rel]);
    }
    return rows.map((row) => toMember(row, byMember.get(row.id) ?? []));
  }

  async function announce(tx: Tx, type: string, row: MemberRow): Promise<void> {
    await outbox.append(tx, { type, source: SOURCE, subject: row.id, tenantId: row.tenant_id, data: eventData(row) });
  }

  /** Members linked to a household that just arrived: the household's downsync position moves, and each link is announced. */
  async function membersLinked(tx: Tx, members: readonly MemberRow[]): Promise<void> {
    const first = members[0];
    if (!first) return;
    const now = clock.now();
    const householdIds = members.map((m) => m.household_id).filter((v): v is string => v !== null);
    await store.touchHouseholds(store.runner(tx), first.tenant_id, householdIds, now);
    for (const member of members) await announce(tx, 'plinth.household.member.linked.v1', member);
  }

  /** Fills a waiting member's individual, unless that individual already belongs to a living member (then says why). */
  async function linkIndividual(tx: Tx, tenantId: string, memberId: string, individualId: string): Promise<void> {
    const db = store.runner(tx);
    // Read again inside the transaction: the subscriber and a re-resolve pass may race for the same member.
    const [row] = await store.membersById(db, tenantId, [memberId]);
    if (!row || row.individual_id !== null || row.is_deleted) return;
    const now = clock.now();
    const others = await store.livingMembersOfIndividual(db, row.tenant_id, individualId, row.id);
    if (others.length > 0) {
      if (row.link_problem !== ALREADY_MEMBER) await store.setIndividual(db, row.id, null, ALREADY_MEMBER, now);
      return;
    }
    await store.setIndividual(db, row.id, individualId, null, now);
    const linked = { ...row, individual_id: individualId, link_problem: null, last_modified_time: now };
    if (linked.household_id) await store.touchHouseholds(db, row.tenant_id, [linked.household_id], now);
    await announce(tx, 'plinth.household.member.linked.v1', linked);
  }

  /**
   * Links what can be linked now, whatever the event timing: individuals that have arrived (asked
   * of the individual registry), households and relative members stored meanwhile.
   */
  async function resolveWaiting(tenantId: string, refs: readonly string[] | undefined): Promise<void> {
    const waiting = await store.waitingMembers(store.runner(), tenantId, refs);
    const individualRefs = [
      ...new Set(
        waiting.filter((m) => m.individual_id === null && m.individual_client_reference_id).map((m) => m.individual_client_reference_id!),
      ),
    ];
    const individuals =
      individualRefs.length > 0 ? await individual.idsByClientReferenceId(tenantId, individualRefs) : new Map<string, string>();
    const householdRefs = [...new Set(waiting.filter((m) => m.household_id === null).map((m) => m.household_client_reference_id))];
    const households = await store.householdsByClientRef(store.runner(), tenantId, householdRefs);
    const relationships = await store.waitingRelationships(store.runner(), tenantId);
    if (individuals.size === 0 && households.length === 0 && relationships.length === 0) return;
    await database.transaction(async (tx) => {
      const db = store.runner(tx);
      const now = clock.now();
      for (const household of households) {
        if (household.is_deleted) continue;
        const linked = await store.linkHousehold(db, tenantId, household.id, household.client_reference_id, now);
        if (linked.length > 0) await membersLinked(tx, linked);
      }
      for (const member of waiting) {
        const found = member.individual_client_reference_id ? individuals.get(member.individual_client_reference_id) : undefined;
        if (found && member.individual_id === null) await linkIndividual(tx, tenantId, member.id, found);
      }
      const relativeRefs = [...new Set(relationships.map((r) => r.relative_client_reference_id!).filter(Boolean))];
      for (const relative of await store.membersByClientRef(db, tenantId, relativeRefs)) {
        const touched = await store.linkRelatives(db, tenantId, relative.id, relative.client_reference_id, now);
        await store.touchMembers(db, touched, now);
      }
    });
  }

  /** Relationship rows of a member from its input: existing ones (by id or clientReferenceId) updated, new ones added. */
  async function writeRelationships(
    db: Runner,
    member: MemberRow,
    inputs: readonly RelationshipInput[],
    stored: readonly RelationshipRow[],
    relativeIdOf: (r: RelationshipInput) => string | null | Refusal,
    actor: Actor,
    now: number,
  ): Promise<Refusal | undefined> {
    const planned: Array<{ row: RelationshipRow; isNew: boolean }> = [];
    for (const input of inputs) {
      const relativeId = relativeIdOf(input);
      if (relativeId !== null && typeof relativeId === 'object') return relativeId;
      const existing = stored.find(
        (s) => (input.id && s.id === input.id) || (input.clientReferenceId && s.client_reference_id === input.clientReferenceId),
      );
      const base = {
        tenant_id: member.tenant_id,
        member_id: member.id,
        relative_id: relativeId,
        relative_client_reference_id: input.relativeClientReferenceId ?? null,
        relationship_type: input.relationshipType,
        additional_fields: input.additionalFields ?? null,
        client_audit_details: input.clientAuditDetails ?? null,
        is_deleted: input.isDeleted === true,
        last_modified_by: actor.uuid,
        last_modified_time: now,
      };
      if (existing) {
        planned.push({
          row: { ...existing, ...base, relative_id: relativeId ?? existing.relative_id, row_version: existing.row_version + 1 },
          isNew: false,
        });
      } else if (input.isDeleted !== true) {
        planned.push({
          row: {
            ...base,
            id: input.id ?? newId(),
            client_reference_id: input.clientReferenceId ?? null,
            row_version: 1,
            created_by: actor.uuid,
            created_time: now,
          },
          isNew: true,
        });
      }
    }
    for (const { row, isNew } of planned) {
      if (isNew) await store.insertRelationship(db, row);
      else await store.updateRelationship(db, row);
    }
    return undefined;
  }

  /** Resolves relatives named in a batch: by server id (must exist) or by client reference id (may wait). */
  async function relativeResolver(db: Runner, tenantId: string, inputs: ReadonlyArray<HouseholdMemberInput>) {
    const rels = inputs.flatMap((i) => i.memberRelationships ?? []);
    const ids = rels.map((r) => r.relativeId).filter((v): v is string => !!v);
    const refs = rels.map((r) => r.relativeClientReferenceId).filter((v): v is string => !!v);
    const byId = new Set((await store.membersById(db, tenantId, ids)).map((m) => m.id));
    const byRef = new Map((await store.membersByClientRef(db, tenantId, refs)).map((m) => [m.client_reference_id, m.id]));
    return {
      /** A member stored earlier in this batch. */
      add(row: MemberRow) {
        byId.add(row.id);
        byRef.set(row.client_reference_id, row.id);
      },
      resolve(r: RelationshipInput): string | null | Refusal {
        if (r.relativeId) {
          return byId.has(r.relativeId)
            ? r.relativeId
            : { code: 'NON_EXISTENT_ENTITY', message: `No household member ${r.relativeId} (relativeId)` };
        }
        return (r.relativeClientReferenceId && byRef.get(r.relativeClientReferenceId)) || null;
      },
    };
  }

  const notFound = (ref: { id?: string | null; clientReferenceId?: string | null }): Refusal => notFoundRefusal('household member', ref);

  /** Stored members named by id or client reference id, with their relationships. */
  async function loadByIdentity(
    db: Runner,
    tenantId: string,
    refs: ReadonlyArray<{ id?: string | null; clientReferenceId?: string | null }>,
  ) {
    const rows = [
      ...(await store.membersById(
        db,
        tenantId,
        refs.map((r) => r.id).filter((v): v is string => !!v),
      )),
      ...(await store.membersByClientRef(
        db,
        tenantId,
        refs.map((r) => r.clientReferenceId).filter((v): v is string => !!v),
      )),
    ];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const byRef = new Map(rows.map((r) => [r.client_reference_id, r]));
    const rels = await store.relationshipsOf(db, [...byId.keys()]);
    return {
      find(ref: { id?: string | null; clientReferenceId?: string | null }): MemberRow | undefined {
        const a = ref.id ? byId.get(ref.id) : undefined;
        const b = ref.clientReferenceId ? byRef.get(ref.clientReferenceId) : undefined;
        if (ref.id && ref.clientReferenceId && a !== b) return undefined;
        return a ?? b;
      },
      relationshipsOf: (memberId: string) => rels.filter((r) => r.member_id === memberId),
      put(row: MemberRow) {
        byId.set(row.id, row);
        byRef.set(row.client_reference_id, row);
      },
    };
  }

  async function answer(accepted: Map<number, MemberRow>, refused: Refused[]): Promise<BulkResult<HouseholdMember>> {
    const rows = [...accepted.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
    return { accepted: await withRelationships(store.runner(), rows), errors: toErrors(refused) };
  }

  return {
    membersLinked,
    resolveWaiting,

    /**
     * DIGIT's bulk create, per record. A member may name a household or an individual that has not
     * arrived yet (by client reference id): it is stored waiting and linked when the parent arrives.
     */
    async create(records: readonly unknown[], actor: Actor): Promise<BulkResult<HouseholdMember>> {
      const { parsed, refused } = parseBatch<HouseholdMemberInput>(HouseholdMemberInput, records);
      const kept = withClientReference(parsed, refused, (record) => linkRefusal(record, true));
      const accepted = new Map<number, MemberRow>();
      for (const [tenantId, group] of byTenant(await knownTenants(tenants, kept, refused))) {
        // The individual registry is asked before the transaction (its own queries, its own connection use).
        const givenIds = group.map((i) => i.record.individualId).filter((v): v is string => !!v);
        const givenRefs = group.map((i) => i.record.individualClientReferenceId).filter((v): v is string => !!v);
        const existingIndividuals = givenIds.length > 0 ? await individual.existingIds(tenantId, givenIds) : new Set<string>();
        const individualByRef =
          givenRefs.length > 0 ? await individual.idsByClientReferenceId(tenantId, givenRefs) : new Map<string, string>();
        const items: Array<Parsed<HouseholdMemberInput> & { individualId: string | null }> = [];
        for (const item of group) {
          const { individualId: id, individualClientReferenceId: ref } = item.record;
          const fromRef = ref ? individualByRef.get(ref) : undefined;
          if (id && !existingIndividuals.has(id)) {
            refused.push({
              ...item,
              refusal: { code: 'NON_EXISTENT_ENTITY', message: `No individual ${id} (individualId) in tenant ${tenantId}` },
            });
          } else if (id && fromRef && fromRef !== id) {
            refused.push({
              ...item,
              refusal: {
                code: 'INVALID_INDIVIDUAL_LINK',
                message: `individualId ${id} and individualClientReferenceId ${ref} name different individuals`,
              },
            });
          } else items.push({ ...item, individualId: id ?? fromRef ?? null });
        }

        const result = await withRetryOnRace(database, async (tx) => {
          const db = store.runner(tx);
          const now = clock.now();
          const out = new Map<number, MemberRow>();
          const refusals: Refused[] = [];
          const stored = new Map(
            (
              await store.membersByClientRef(
                db,
                tenantId,
                items.map((i) => i.record.clientReferenceId!),
              )
            ).map((m) => [m.client_reference_id, m]),
          );
          const householdIds = items.map((i) => i.record.householdId).filter((v): v is string => !!v);
          const householdRefs = items.map((i) => i.record.householdClientReferenceId).filter((v): v is string => !!v);
          const householdsById = new Map((await store.householdsById(db, tenantId, householdIds)).map((h) => [h.id, h]));
          const householdsByRef = new Map(
            (await store.householdsByClientRef(db, tenantId, householdRefs)).map((h) => [h.client_reference_id, h]),
          );
          const relatives = await relativeResolver(
            db,
            tenantId,
            items.map((i) => i.record),
          );
          // Who is already a living member, and which households already have a living head.
          const resolvedIds = items.map((i) => i.individualId).filter((v): v is string => !!v);
          const livingByIndividual = await store.findMembers(db, { tenantId, individualIds: resolvedIds, includeDeleted: false });
          const livingByIndividualRef = await store.findMembers(db, {
            tenantId,
            individualClientReferenceIds: items.map((i) => i.record.individualClientReferenceId).filter((v): v is string => !!v),
            includeDeleted: false,
          });
          const takenIndividuals = new Set(livingByIndividual.map((m) => m.individual_id!));
          const takenIndividualRefs = new Set(livingByIndividualRef.map((m) => m.individual_client_reference_id!));
          const householdRefsOfBatch = [...new Set([...householdRefs, ...[...householdsById.values()].map((h) => h.client_reference_id)])];
          const heads = new Set(
            (
              await store.findMembers(db, {
                tenantId,
                householdClientReferenceIds: householdRefsOfBatch,
                isHeadOfHousehold: true,
                includeDeleted: false,
              })
            ).map((m) => m.household_client_reference_id),
          );

          for (const item of items) {
            const { record } = item;
            const resent = stored.get(record.clientReferenceId!);
            if (resent) {
              out.set(item.index, resent);
              continue;
            }
            let household: HouseholdRow | undefined;
            if (record.householdId) {
              household = householdsById.get(record.householdId);
              if (!household) {
                refusals.push({
                  ...item,
                  refusal: {
                    code: 'NON_EXISTENT_ENTITY',
                    message: `No household ${record.householdId} (householdId) in tenant ${tenantId}`,
                  },
                });
                continue;
              }
              if (record.householdClientReferenceId && household.client_reference_id !== record.householdClientReferenceId) {
                refusals.push({
                  ...item,
                  refusal: {
                    code: 'INVALID_HOUSEHOLD_LINK',
                    message: `householdId ${record.householdId} and householdClientReferenceId ${record.householdClientReferenceId} name different households`,
                  },
                });
                continue;
              }
            } else household = householdsByRef.get(record.householdClientReferenceId!);
            if (household?.is_deleted) {
              refusals.push({ ...item, refusal: { code: 'NON_EXISTENT_ENTITY', message: `Household ${household.id} is deleted` } });
              continue;
            }
            const householdRef = household?.client_reference_id ?? record.householdClientReferenceId!;
            const individualRef = record.individualClientReferenceId ?? null;
            if (
              (item.individualId && takenIndividuals.has(item.individualId)) ||
              (individualRef && takenIndividualRefs.has(individualRef))
            ) {
              refusals.push({
                ...item,
                refusal: {
                  code: ALREADY_MEMBER,
                  message: `Individual ${item.individualId ?? individualRef} is already a member of a household`,
                },
              });
              continue;
            }
            if (record.isHeadOfHousehold === true && heads.has(householdRef)) {
              refusals.push({
                ...item,
                refusal: {
                  code: 'HOUSEHOLD_ALREADY_HAS_HEAD',
                  message: `Household ${household?.id ?? householdRef} already has a head of household`,
                },
              });
              continue;
            }
            const row: MemberRow = {
              id: newId(),
              tenant_id: tenantId,
              client_reference_id: record.clientReferenceId!,
              household_id: household?.id ?? null,
              household_client_reference_id: householdRef,
              individual_id: item.individualId,
              individual_client_reference_id: individualRef,
              is_head_of_household: record.isHeadOfHousehold === true,
              additional_fields: record.additionalFields ?? null,
              client_audit_details: record.clientAuditDetails ?? null,
              row_version: 1,
              is_deleted: false,
              link_problem: null,
              created_by: actor.uuid,
              last_modified_by: actor.uuid,
              created_time: now,
              last_modified_time: now,
            };
            // Relatives are checked before anything of this record is written.
            const relativeProblem = (record.memberRelationships ?? [])
              .map((r) => relatives.resolve(r))
              .find((r): r is Refusal => r !== null && typeof r === 'object');
            if (relativeProblem) {
              refusals.push({ ...item, refusal: relativeProblem });
              continue;
            }
            await store.insertMember(db, row);
            await writeRelationships(db, row, record.memberRelationships ?? [], [], (r) => relatives.resolve(r), actor, now);
            // Relationships stored earlier that were waiting for this member.
            await store.touchMembers(db, await store.linkRelatives(db, tenantId, row.id, row.client_reference_id, now), now);
            relatives.add(row);
            if (row.individual_id) takenIndividuals.add(row.individual_id);
            if (individualRef) takenIndividualRefs.add(individualRef);
            if (row.is_head_of_household) heads.add(householdRef);
            if (row.household_id) await store.touchHouseholds(db, tenantId, [row.household_id], now);
            await announce(tx, 'plinth.household.member.created.v1', row);
            out.set(item.index, row);
          }
          return { out, refusals };
        });
        refused.push(...result.refusals);
        for (const [index, row] of result.out) accepted.set(index, row);
      }
      return answer(accepted, refused);
    },

    /**
     * DIGIT's bulk update, per record: head of household, relationships and extension fields.
     * The links to household and individual are set on create (to move a member: delete, create).
     */
    async update(records: readonly unknown[], actor: Actor): Promise<BulkResult<HouseholdMember>> {
      const { parsed, refused } = parseBatch<HouseholdMemberInput>(HouseholdMemberInput, records);
      const kept = namedOnce(parsed, refused, { entity: 'household member', verb: 'update' }, (record) =>
        record.isDeleted === true
          ? { code: 'IS_DELETED_TRUE', message: 'isDeleted cannot be true on update: use _delete' }
          : linkRefusal(record, false),
      );
      const accepted = new Map<number, MemberRow>();
      for (const [tenantId, items] of byTenant(await knownTenants(tenants, kept, refused))) {
        const result = await withRetryOnRace(database, async (tx) => {
          const db = store.runner(tx);
          const now = clock.now();
          const out = new Map<number, MemberRow>();
          const refusals: Refused[] = [];
          const stored = await loadByIdentity(
            db,
            tenantId,
            items.map((i) => i.record),
          );
          const relatives = await relativeResolver(
            db,
            tenantId,
            items.map((i) => i.record),
          );
          for (const item of items) {
            const { record } = item;
            const current = stored.find(record);
            if (!current || current.is_deleted) {
              refusals.push({ ...item, refusal: notFound(record) });
              continue;
            }
            const currentRels = stored.relationshipsOf(current.id);
            const stale = rowVersionRefusal(record.rowVersion, current.row_version, toMember(current, currentRels));
            if (stale) {
              refusals.push({ ...item, refusal: stale });
              continue;
            }
            const isHead = record.isHeadOfHousehold ?? current.is_head_of_household;
            if (isHead && !current.is_head_of_household) {
              const heads = await store.findMembers(db, {
                tenantId,
                householdClientReferenceIds: [current.household_client_reference_id],
                isHeadOfHousehold: true,
                includeDeleted: false,
              });
              if (heads.some((h) => h.id !== current.id)) {
                refusals.push({
                  ...item,
                  refusal: {
                    code: 'HOUSEHOLD_ALREADY_HAS_HEAD',
                    message: `Household ${current.household_id ?? current.household_client_reference_id} already has a head of household`,
                  },
                });
                continue;
              }
            }
            const selfChecked = { ...record, id: current.id, clientReferenceId: current.client_reference_id };
            const selfProblem = linkRefusal(selfChecked, false);
            const relativeProblem =
              selfProblem ??
              (record.memberRelationships ?? [])
                .map((r) => relatives.resolve(r))
                .find((r): r is Refusal => r !== null && typeof r === 'object');
            if (relativeProblem) {
              refusals.push({ ...item, refusal: relativeProblem });
              continue;
            }
            const row: MemberRow = {
              ...current,
              is_head_of_household: isHead,
              additional_fields: record.additionalFields ?? null,
              client_audit_details: record.clientAuditDetails ?? current.client_audit_details,
              row_version: current.row_version + 1,
              last_modified_by: actor.uuid,
              last_modified_time: now,
            };
            await store.updateMember(db, row);
            await writeRelationships(db, row, record.memberRelationships ?? [], currentRels, (r) => relatives.resolve(r), actor, now);
            if (row.household_id) await store.touchHouseholds(db, tenantId, [row.household_id], now);
            await announce(tx, 'plinth.household.member.updated.v1', row);
            stored.put(row);
            out.set(item.index, row);
          }
          return { out, refusals };
        });
        refused.push(...result.refusals);
        for (const [index, row] of result.out) accepted.set(index, row);
      }
      return answer(accepted, refused);
    },

    /** Soft delete; a re-sent delete answers the deleted member again. */
    async remove(records: readonly unknown[], actor: Actor): Promise<BulkResult<HouseholdMember>> {
      const { parsed, refused } = parseBatch<HouseholdMemberRef>(HouseholdMemberRef, records);
      const kept = namedOnce(parsed, refused, { entity: 'household member', verb: 'delete' });
      const accepted = new Map<number, MemberRow>();
      for (const [tenantId, items] of byTenant(await knownTenants(tenants, kept, refused))) {
        const result = await database.transaction(async (tx) => {
          const db = store.runner(tx);
          const now = clock.now();
          const out = new Map<number, MemberRow>();
          const refusals: Refused[] = [];
          const stored = await loadByIdentity(
            db,
            tenantId,
            items.map((i) => i.record),
          );
          for (const item of items) {
            const current = stored.find(item.record);
            if (!current) {
              refusals.push({ ...item, refusal: notFound(item.record) });
              continue;
            }
            if (current.is_deleted) {
              out.set(item.index, current);
              continue;
            }
            const stale = rowVersionRefusal(
              item.record.rowVersion,
              current.row_version,
              toMember(current, stored.relationshipsOf(current.id)),
            );
            if (stale) {
              refusals.push({ ...item, refusal: stale });
              continue;
            }
            const row: MemberRow = {
              ...current,
              is_deleted: true,
              row_version: current.row_version + 1,
              last_modified_by: actor.uuid,
              last_modified_time: now,
            };
            await store.updateMember(db, row);
            if (row.household_id) await store.touchHouseholds(db, tenantId, [row.household_id], now);
            await announce(tx, 'plinth.household.member.deleted.v1', row);
            stored.put(row);
            out.set(item.index, row);
          }
          return { out, refusals };
        });
        refused.push(...result.refusals);
        for (const [index, row] of result.out) accepted.set(index, row);
      }
      return answer(accepted, refused);
    },

    /** DIGIT's member _search; members still waiting for a parent are re-resolved first. */
    async search(
      criteria: HouseholdMemberSearch | null | undefined,
      params: OfflineSearchParams,
      scope: Scope,
    ): Promise<{ totalCount: number; members: HouseholdMember[] }> {
      await assertSearchTenant(tenants, criteria?.tenantId, params.tenantId);
      const filter = {
        tenantId: params.tenantId,
        ids: listFilter(criteria?.id),
        clientReferenceIds: listFilter(criteria?.clientReferenceId),
        householdIds: listFilter(criteria?.householdId),
        householdClientReferenceIds: listFilter(criteria?.householdClientReferenceId),
        individualIds: listFilter(criteria?.individualId),
        individualClientReferenceIds: listFilter(criteria?.individualClientReferenceId),
        isHeadOfHousehold: criteria?.isHeadOfHousehold ?? undefined,
        lastChangedSince: params.lastChangedSince,
        includeDeleted: params.includeDeleted ?? false,
      };
      const page = pageOf(params);
      let found = await store.searchMembers(store.runner(), filter, page, scope);
      const waiting = found.rows.filter((m) => !m.is_deleted && (m.household_id === null || m.individual_id === null));
      if (waiting.length > 0) {
        await resolveWaiting(
          params.tenantId,
          waiting.map((m) => m.client_reference_id),
        );
        found = await store.searchMembers(store.runner(), filter, page, scope);
      }
      return { totalCount: found.total, members: await withRelationships(store.runner(), found.rows) };
    },

    /** Children still waiting for a parent, oldest first; links what can be linked before answering. */
    async syncStatus(criteria: SyncStatusCriteria): Promise<{ totalCount: number; links: WaitingLink[] }> {
      await assertKnownTenant(tenants, criteria.tenantId);
      const refs = listFilter(criteria.clientReferenceIds);
      await resolveWaiting(criteria.tenantId, refs);
      const db = store.runner();
      const links: WaitingLink[] = [];
      for (const m of await store.waitingMembers(db, criteria.tenantId, refs)) {
        const base = {
          entity: 'HouseholdMember' as const,
          id: m.id,
          clientReferenceId: m.client_reference_id,
          memberClientReferenceId: null,
          waitingSince: m.created_time,
        };
        if (m.household_id === null)
          links.push({ ...base, link: 'household', parentClientReferenceId: m.household_client_reference_id, problem: null });
        if (m.individual_id === null) {
          links.push({
            ...base,
            link: 'individual',
            parentClientReferenceId: m.individual_client_reference_id ?? '',
            problem: m.link_problem,
          });
        }
      }
      const wanted = refs ? new Set(refs) : undefined;
      for (const r of await store.waitingRelationships(db, criteria.tenantId)) {
        const names = [r.client_reference_id, r.member_client_reference_id, r.relative_client_reference_id];
        if (wanted && !names.some((n) => n !== null && wanted.has(n))) continue;
        links.push({
          entity: 'Relationship',
          id: r.id,
          clientReferenceId: r.client_reference_id,
          memberClientReferenceId: r.member_client_reference_id,
          link: 'relative',
          parentClientReferenceId: r.relative_client_reference_id ?? '',
          waitingSince: r.created_time,
          problem: null,
        });
      }
      links.sort((a, b) => a.waitingSince - b.waitingSince || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || a.link.localeCompare(b.link));
      const offset = criteria.offset ?? 0;
      const limit = criteria.limit ?? 100;
      return { totalCount: links.length, links: links.slice(offset, offset + limit) };
    },

    /** Subscriber to the individual registry: an individual arrived, so members waiting for it are linked (idempotent). */
    async onIndividualCreated(event: CloudEvent): Promise<void> {
      const data = (event.data ?? {}) as { id?: unknown; clientReferenceId?: unknown; tenantId?: unknown };
      const tenantId = typeof data.tenantId === 'string' ? data.tenantId : event.tenantid;
      if (typeof data.id !== 'string' || typeof data.clientReferenceId !== 'string') return;
      const individualId = data.id;
      const waiting = (
        await store.findMembers(store.runner(), { tenantId, individualClientReferenceIds: [data.clientReferenceId], includeDeleted: false })
      ).filter((m) => m.individual_id === null);
      if (waiting.length === 0) return;
      await database.transaction(async (tx) => {
        for (const member of waiting) await linkIndividual(tx, tenantId, member.id, individualId);
      });
    },

    /** Members of these households, with relationships, for a downsync page. */
    async ofHouseholds(
      tenantId: string,
      householdIds: readonly string[],
      since: number | undefined,
      includeDeleted: boolean,
    ): Promise<HouseholdMember[]> {
      if (householdIds.length === 0) return [];
      const db = store.runner();
      const rows = await store.findMembers(db, { tenantId, householdIds, lastChangedSince: since, includeDeleted });
      return withRelationships(db, rows);
    },
  };
}

export type MemberService = ReturnType<typeof createMemberService>;
