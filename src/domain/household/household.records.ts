import { auditDetailsOf } from '../../kernel/envelope.js';
import type { AdditionalFields, ClientAuditDetails } from '../../kernel/offline.js';
import type { Address, Household, HouseholdMember, Relationship } from './household.schema.js';
import type { HouseholdRow, MemberRow, RelationshipRow } from './household.store.js';

export const SOURCE = '/plinth/household';

export function toHousehold(row: HouseholdRow): Household {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientReferenceId: row.client_reference_id,
    memberCount: row.member_count,
    householdType: row.household_type,
    address: (row.address as Address | null) ?? null,
    additionalFields: (row.additional_fields as AdditionalFields | null) ?? null,
    clientAuditDetails: (row.client_audit_details as ClientAuditDetails | null) ?? null,
    rowVersion: row.row_version,
    isDeleted: row.is_deleted,
    hasErrors: false,
    auditDetails: auditDetailsOf(row),
  };
}

export function toRelationship(row: RelationshipRow, member: MemberRow): Relationship {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientReferenceId: row.client_reference_id,
    selfId: member.id,
    selfClientReferenceId: member.client_reference_id,
    relativeId: row.relative_id,
    relativeClientReferenceId: row.relative_client_reference_id,
    relationshipType: row.relationship_type,
    additionalFields: (row.additional_fields as AdditionalFields | null) ?? null,
    clientAuditDetails: (row.client_audit_details as ClientAuditDetails | null) ?? null,
    rowVersion: row.row_version,
    isDeleted: row.is_deleted,
    auditDetails: auditDetailsOf(row),
  };
}

export function toMember(row: MemberRow, relationships: readonly RelationshipRow[]): HouseholdMember {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    clientReferenceId: row.client_reference_id,
    householdId: row.household_id,
    householdClientReferenceId: row.household_client_reference_id,
    individualId: row.individual_id,
    individualClientReferenceId: row.individual_client_reference_id,
    isHeadOfHousehold: row.is_head_of_household,
    memberRelationships: relationships.map((r) => toRelationship(r, row)),
    additionalFields: (row.additional_fields as AdditionalFields | null) ?? null,
    clientAuditDetails: (row.client_audit_details as ClientAuditDetails | null) ?? null,
    rowVersion: row.row_version,
    isDeleted: row.is_deleted,
    hasErrors: false,
    auditDetails: auditDetailsOf(row),
  };
}
