import type { Tx } from '../../kernel/db.js';
import { knownTenants, namedOnce, parseBatch, toErrors, type Actor, type BulkResult, type Refused } from '../../kernel/offline.batch.js';
import { changeEach, nextVersion, type ChangeSpec } from '../../kernel/offline.write.js';
import { toMember } from './household.records.js';
import { HouseholdMemberInput, HouseholdMemberRef, type HouseholdMember } from './household.schema.js';
import type { MemberRow } from './household.store.js';
import { relativeResolver, writeRelationships } from './member.relatives.js';
import { linkRefusal, memberAnnouncer, withRelationships, type MemberDeps } from './member.shared.js';

/**
 * DIGIT's bulk member update and delete, per record: the device sends the rowVersion it last saw.
 * An update changes head of household, relationships and extension fields; the links to household
 * and individual are set on create (to move a member: delete, create).
 */
export function memberChange(deps: MemberDeps) {
  const { database, store, clock, tenants } = deps;
  const announce = memberAnnouncer(deps.outbox);

  /** What update and delete share: members read inside the write's transaction, answered with their relationships. */
  const stored = {
    database,
    clock,
    entity: 'household member',
    byId: (tx: Tx, tenantId: string, ids: readonly string[]) => store.membersById(store.runner(tx), tenantId, ids),
    byClientRef: (tx: Tx, tenantId: string, refs: readonly string[]) => store.membersByClientRef(store.runner(tx), tenantId, refs),
    view: async (row: MemberRow, tx: Tx) => toMember(row, await store.relationshipsOf(store.runner(tx), [row.id])),
  } satisfies Partial<ChangeSpec<unknown, MemberRow>>;

  async function answer(accepted: Map<number, MemberRow>, refused: Refused[]): Promise<BulkResult<HouseholdMember>> {
    const rows = [...accepted.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
    return { accepted: await withRelationships(store, store.runner(), rows), errors: toErrors(refused) };
  }

  return {
    async update(records: readonly unknown[], actor: Actor): Promise<BulkResult<HouseholdMember>> {
      const { parsed, refused } = parseBatch<HouseholdMemberInput>(HouseholdMemberInput, records);
      const kept = namedOnce(parsed, refused, { entity: 'household member', verb: 'update' }, (record) =>
        record.isDeleted === true
          ? { code: 'IS_DELETED_TRUE', message: 'isDeleted cannot be true on update: use _delete' }
          : linkRefusal(record, false),
      );
      const accepted = await changeEach(await knownTenants(tenants, kept, refused), refused, {
        ...stored,
        deleted: 'refuse',
        async change(tx, record, current, now) {
          const db = store.runner(tx);
          const isHead = record.isHeadOfHousehold ?? current.is_head_of_household;
          if (isHead && !current.is_head_of_household) {
            const heads = await store.findMembers(db, {
              tenantId: current.tenant_id,
              householdClientReferenceIds: [current.household_client_reference_id],
              isHeadOfHousehold: true,
              includeDeleted: false,
            });
            if (heads.some((h) => h.id !== current.id)) {
              const household = current.household_id ?? current.household_client_reference_id;
              return { refusal: { code: 'HOUSEHOLD_ALREADY_HAS_HEAD', message: `Household ${household} already has a head of household` } };
            }
          }
          const relatives = await relativeResolver(store, db, current.tenant_id, [record]);
          const problem =
            linkRefusal({ ...record, id: current.id, clientReferenceId: current.client_reference_id }, false) ?? relatives.problem(record);
          if (problem) return { refusal: problem };
          const row: MemberRow = {
            ...current,
            is_head_of_household: isHead,
            additional_fields: record.additionalFields ?? null,
            client_audit_details: record.clientAuditDetails ?? current.client_audit_details,
            ...nextVersion(current, actor, now),
          };
          const previous = await store.relationshipsOf(db, [current.id]);
          if (!(await store.updateMember(tx, row))) return undefined;
          const inputs = record.memberRelationships ?? [];
          await writeRelationships(store, tx, {
            member: row,
            inputs,
            stored: previous,
            relativeIdOf: (r) => relatives.idOf(r),
            actor,
            now,
          });
          if (row.household_id) await store.touchHouseholds(tx, row.tenant_id, [row.household_id], now);
          await announce(tx, 'plinth.household.member.updated.v1', row);
          return row;
        },
      });
      return answer(accepted, refused);
    },

    /** Soft delete; a re-sent delete answers the deleted member again. */
    async remove(records: readonly unknown[], actor: Actor): Promise<BulkResult<HouseholdMember>> {
      const { parsed, refused } = parseBatch<HouseholdMemberRef>(HouseholdMemberRef, records);
      const kept = namedOnce(parsed, refused, { entity: 'household member', verb: 'delete' });
      const accepted = await changeEach(await knownTenants(tenants, kept, refused), refused, {
        ...stored,
        deleted: 'answer',
        async change(tx, _record, current, now) {
          const row: MemberRow = { ...current, is_deleted: true, ...nextVersion(current, actor, now) };
          if (!(await store.updateMember(tx, row))) return undefined;
          if (row.household_id) await store.touchHouseholds(tx, row.tenant_id, [row.household_id], now);
          await announce(tx, 'plinth.household.member.deleted.v1', row);
          return row;
        },
      });
      return answer(accepted, refused);
    },
  };
}
