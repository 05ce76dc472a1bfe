import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import type { Outbox } from '../../kernel/events.js';
import type { Refusal } from '../../kernel/offline.js';
import type { TenantDirectory } from '../../kernel/tenancy.js';
import type { IndividualLookup } from '../individual/index.js';
import { SOURCE, toMember } from './household.records.js';
import type { HouseholdMember, HouseholdMemberInput } from './household.schema.js';
import type { HouseholdStore, MemberRow, RelationshipRow, Runner } from './household.store.js';

/** What every member operation may use. */
export type MemberDeps = {
  database: Database;
  store: HouseholdStore;
  clock: Clock;
  outbox: Outbox;
  tenants: TenantDirectory;
  individual: IndividualLookup;
};

export const ALREADY_MEMBER = 'INDIVIDUAL_ALREADY_MEMBER_OF_HOUSEHOLD';

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

/** Announces a member's change in its transaction. */
export function memberAnnouncer(outbox: Outbox) {
  return async (tx: Tx, type: string, row: MemberRow): Promise<void> => {
    await outbox.append(tx, { type, source: SOURCE, subject: row.id, tenantId: row.tenant_id, data: eventData(row) });
  };
}

/** Members as DIGIT answers them, each with its relationships. */
export async function withRelationships(store: HouseholdStore, db: Runner, rows: readonly MemberRow[]): Promise<HouseholdMember[]> {
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

/** Checks that need no database: the links are there and a relationship does not point at its own member. */
export function linkRefusal(record: HouseholdMemberInput, requireLinks: boolean): Refusal | undefined {
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
