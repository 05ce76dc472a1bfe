import type { Tx } from '../../kernel/db.js';
import { newId } from '../../kernel/ids.js';
import type { Refusal } from '../../kernel/offline.js';
import type { Actor } from '../../kernel/offline.batch.js';
import type { HouseholdMemberInput, RelationshipInput } from './household.schema.js';
import type { HouseholdStore, MemberRow, RelationshipRow, Runner } from './household.store.js';

/**
 * A member's relationships to other members of its household: a relative named by server id must
 * exist; one named by client reference id may not have arrived yet and waits (linked on arrival).
 */

/** Resolves the relatives a batch names, read once for the batch. */
export async function relativeResolver(store: HouseholdStore, db: Runner, tenantId: string, inputs: ReadonlyArray<HouseholdMemberInput>) {
  const rels = inputs.flatMap((i) => i.memberRelationships ?? []);
  const ids = rels.map((r) => r.relativeId).filter((v): v is string => !!v);
  const refs = rels.map((r) => r.relativeClientReferenceId).filter((v): v is string => !!v);
  const byId = new Set((await store.membersById(db, tenantId, ids)).map((m) => m.id));
  const byRef = new Map((await store.membersByClientRef(db, tenantId, refs)).map((m) => [m.client_reference_id, m.id]));
  const resolve = (r: RelationshipInput): string | null | Refusal => {
    if (r.relativeId) {
      return byId.has(r.relativeId)
        ? r.relativeId
        : { code: 'NON_EXISTENT_ENTITY', message: `No household member ${r.relativeId} (relativeId)` };
    }
    return (r.relativeClientReferenceId && byRef.get(r.relativeClientReferenceId)) || null;
  };
  return {
    /** A member stored earlier in this batch. */
    add(row: MemberRow) {
      byId.add(row.id);
      byRef.set(row.client_reference_id, row.id);
    },
    /** Why a record's relationships cannot be stored (a relativeId that names no member), checked before anything is written. */
    problem(record: HouseholdMemberInput): Refusal | undefined {
      return (record.memberRelationships ?? []).map(resolve).find((r): r is Refusal => r !== null && typeof r === 'object');
    },
    /** The relative's server id, or null while it has not arrived (only after `problem` found none). */
    idOf(r: RelationshipInput): string | null {
      const resolved = resolve(r);
      return typeof resolved === 'string' ? resolved : null;
    },
  };
}

/** Relationship rows of a member from its input: existing ones (by id or clientReferenceId) updated, new ones added. */
export async function writeRelationships(
  store: HouseholdStore,
  tx: Tx,
  change: {
    member: MemberRow;
    inputs: readonly RelationshipInput[];
    stored: readonly RelationshipRow[];
    relativeIdOf: (r: RelationshipInput) => string | null;
    actor: Actor;
    now: number;
  },
): Promise<void> {
  const { member, inputs, stored, relativeIdOf, actor, now } = change;
  for (const input of inputs) {
    const relativeId = relativeIdOf(input);
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
      await store.updateRelationship(tx, {
        ...existing,
        ...base,
        relative_id: relativeId ?? existing.relative_id,
        row_version: existing.row_version + 1,
      });
    } else if (input.isDeleted !== true) {
      await store.insertRelationship(tx, {
        ...base,
        id: input.id ?? newId(),
        client_reference_id: input.clientReferenceId ?? null,
        row_version: 1,
        created_by: actor.uuid,
        created_time: now,
      });
    }
  }
}
