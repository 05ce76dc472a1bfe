import type { Tx } from '../../kernel/db.js';
import type { Refusal } from '../../kernel/offline.js';
import { newId } from '../../kernel/ids.js';
import {
  byTenant,
  knownTenants,
  parseBatch,
  toErrors,
  withClientReference,
  type Actor,
  type BulkResult,
  type Parsed,
} from '../../kernel/offline.batch.js';
import { createEach, type Fresh, type Outcome } from '../../kernel/offline.write.js';
import { HouseholdMemberInput, type HouseholdMember } from './household.schema.js';
import type { HouseholdRow, MemberRow } from './household.store.js';
import { relativeResolver, writeRelationships } from './member.relatives.js';
import { ALREADY_MEMBER, linkRefusal, memberAnnouncer, withRelationships, type MemberDeps } from './member.shared.js';

/** A record with the server id of its individual, when the individual registry knows it. */
type Linked = HouseholdMemberInput & { readonly linkedIndividualId: string | null };

/**
 * DIGIT's bulk member create, per record. A member may name a household or an individual that has
 * not arrived yet (by client reference id): it is stored waiting and linked when the parent arrives.
 */
export function memberCreate(deps: MemberDeps) {
  const { database, store, clock, tenants, individual } = deps;
  const announce = memberAnnouncer(deps.outbox);

  /** The individual registry is asked before the transaction (its own queries, its own connection use). */
  async function withIndividuals(
    tenantId: string,
    group: ReadonlyArray<Parsed<HouseholdMemberInput>>,
    refuse: (item: Parsed<HouseholdMemberInput>, refusal: Refusal) => void,
  ) {
    const givenIds = group.map((i) => i.record.individualId).filter((v): v is string => !!v);
    const givenRefs = group.map((i) => i.record.individualClientReferenceId).filter((v): v is string => !!v);
    const existingIndividuals = givenIds.length > 0 ? await individual.existingIds(tenantId, givenIds) : new Set<string>();
    const individualByRef = givenRefs.length > 0 ? await individual.idsByClientReferenceId(tenantId, givenRefs) : new Map<string, string>();
    const linked: Array<Parsed<Linked>> = [];
    for (const item of group) {
      const { individualId: id, individualClientReferenceId: ref } = item.record;
      const fromRef = ref ? individualByRef.get(ref) : undefined;
      if (id && !existingIndividuals.has(id)) {
        refuse(item, { code: 'NON_EXISTENT_ENTITY', message: `No individual ${id} (individualId) in tenant ${tenantId}` });
      } else if (id && fromRef && fromRef !== id) {
        refuse(item, {
          code: 'INVALID_INDIVIDUAL_LINK',
          message: `individualId ${id} and individualClientReferenceId ${ref} name different individuals`,
        });
      } else linked.push({ index: item.index, record: { ...item.record, linkedIndividualId: id ?? fromRef ?? null } });
    }
    return linked;
  }

  /** Stores one tenant's new members: each checked against its household, its individual and the head rule first. */
  async function insert(tx: Tx, fresh: ReadonlyArray<Fresh<Linked>>, now: number, actor: Actor): Promise<Map<number, Outcome<MemberRow>>> {
    const tenantId = fresh[0]!.record.tenantId;
    const db = store.runner(tx);
    const records = fresh.map((f) => f.record);
    const householdIds = records.map((r) => r.householdId).filter((v): v is string => !!v);
    const householdRefs = records.map((r) => r.householdClientReferenceId).filter((v): v is string => !!v);
    const householdsById = new Map((await store.householdsById(db, tenantId, householdIds)).map((h) => [h.id, h]));
    const householdsByRef = new Map(
      (await store.householdsByClientRef(db, tenantId, householdRefs)).map((h) => [h.client_reference_id, h]),
    );
    const relatives = await relativeResolver(store, db, tenantId, records);
    // Who is already a living member, and which households already have a living head.
    const resolvedIds = records.map((r) => r.linkedIndividualId).filter((v): v is string => !!v);
    const livingByIndividual = await store.findMembers(db, { tenantId, individualIds: resolvedIds, includeDeleted: false });
    const livingByIndividualRef = await store.findMembers(db, {
      tenantId,
      individualClientReferenceIds: records.map((r) => r.individualClientReferenceId).filter((v): v is string => !!v),
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

    const out = new Map<number, Outcome<MemberRow>>();
    const refuse = (index: number, code: string, message: string) => out.set(index, { refusal: { code, message } });
    for (const { index, record, id } of fresh) {
      let household: HouseholdRow | undefined;
      if (record.householdId) {
        household = householdsById.get(record.householdId);
        if (!household) {
          refuse(index, 'NON_EXISTENT_ENTITY', `No household ${record.householdId} (householdId) in tenant ${tenantId}`);
          continue;
        }
        if (record.householdClientReferenceId && household.client_reference_id !== record.householdClientReferenceId) {
          refuse(
            index,
            'INVALID_HOUSEHOLD_LINK',
            `householdId ${record.householdId} and householdClientReferenceId ${record.householdClientReferenceId} name different households`,
          );
          continue;
        }
      } else household = householdsByRef.get(record.householdClientReferenceId!);
      if (household?.is_deleted) {
        refuse(index, 'NON_EXISTENT_ENTITY', `Household ${household.id} is deleted`);
        continue;
      }
      const householdRef = household?.client_reference_id ?? record.householdClientReferenceId!;
      const individualRef = record.individualClientReferenceId ?? null;
      const individualId = record.linkedIndividualId;
      if ((individualId && takenIndividuals.has(individualId)) || (individualRef && takenIndividualRefs.has(individualRef))) {
        refuse(index, ALREADY_MEMBER, `Individual ${individualId ?? individualRef} is already a member of a household`);
        continue;
      }
      if (record.isHeadOfHousehold === true && heads.has(householdRef)) {
        refuse(index, 'HOUSEHOLD_ALREADY_HAS_HEAD', `Household ${household?.id ?? householdRef} already has a head of household`);
        continue;
      }
      // Relatives are checked before anything of this record is written.
      const relativeProblem = relatives.problem(record);
      if (relativeProblem) {
        out.set(index, { refusal: relativeProblem });
        continue;
      }
      const row: MemberRow = {
        id,
        tenant_id: tenantId,
        client_reference_id: record.clientReferenceId!,
        household_id: household?.id ?? null,
        household_client_reference_id: householdRef,
        individual_id: individualId,
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
        change_time: now,
      };
      if (!(await store.insertMember(tx, row))) continue;
      const inputs = record.memberRelationships ?? [];
      await writeRelationships(store, tx, { member: row, inputs, stored: [], relativeIdOf: (r) => relatives.idOf(r), actor, now });
      // Relationships stored earlier that were waiting for this member.
      await store.touchMembers(tx, tenantId, await store.linkRelatives(tx, tenantId, row.id, row.client_reference_id, now), now);
      relatives.add(row);
      if (row.individual_id) takenIndividuals.add(row.individual_id);
      if (individualRef) takenIndividualRefs.add(individualRef);
      if (row.is_head_of_household) heads.add(householdRef);
      if (row.household_id) await store.touchHouseholds(tx, tenantId, [row.household_id], now);
      await announce(tx, 'plinth.household.member.created.v1', row);
      out.set(index, row);
    }
    return out;
  }

  return async function create(records: readonly unknown[], actor: Actor): Promise<BulkResult<HouseholdMember>> {
    const { parsed, refused } = parseBatch<HouseholdMemberInput>(HouseholdMemberInput, records);
    const kept = withClientReference(parsed, refused, (record) => linkRefusal(record, true));
    const items: Array<Parsed<Linked>> = [];
    for (const [tenantId, group] of byTenant(await knownTenants(tenants, kept, refused))) {
      items.push(...(await withIndividuals(tenantId, group, (item, refusal) => refused.push({ ...item, refusal }))));
    }
    const accepted = await createEach(items, refused, {
      database,
      clock,
      byClientRef: (tx, tenantId, refs) => store.membersByClientRef(store.runner(tx), tenantId, refs),
      drawIds: async (_tenantId, count) => Array.from({ length: count }, () => newId()),
      insert: (tx, fresh, now) => insert(tx, fresh, now, actor),
    });
    const rows = [...accepted.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
    return { accepted: await withRelationships(store, store.runner(), rows), errors: toErrors(refused) };
  };
}
