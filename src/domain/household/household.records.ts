import { Compile } from 'typebox/compile';
import type { TSchema } from 'typebox';
import { auditDetailsOf } from '../../kernel/envelope.js';
import { DomainError } from '../../kernel/errors.js';
import type { AdditionalFields, ClientAuditDetails, RecordError, Refusal } from '../../kernel/offline.js';
import { recordError } from '../../kernel/offline.js';
import { assertKnownTenant, type TenantDirectory } from '../../kernel/tenancy.js';
import type { Address, Household, HouseholdMember, Relationship } from './household.schema.js';
import type { HouseholdRow, MemberRow, RelationshipRow } from './household.store.js';

/** Who is writing. */
export type Actor = { uuid: string | null };

/** A bulk call's answer: the records accepted (in request order) and the ones refused, each with its reason. */
export type BulkResult<T> = { accepted: T[]; errors: RecordError[] };

export const SOURCE = '/plinth/household';

/** One record of a batch, once its shape is known to be right. */
export type Parsed<T> = { index: number; record: T };

/** A refusal of one record, in the batch's answer. */
export type Refused = {
  index: number;
  record: { clientReferenceId?: string | null | undefined; id?: string | null | undefined } | undefined;
  refusal: Refusal;
};

/**
 * Checks each record of a batch against its schema, so one malformed record is refused alone
 * instead of failing the whole call.
 */
export function parseBatch<T>(schema: TSchema, records: readonly unknown[]): { parsed: Array<Parsed<T>>; refused: Refused[] } {
  const validator = Compile(schema);
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

/** Per call: each tenant is checked once; an unknown one refuses its records, not the batch. */
export function tenantChecker(tenants: TenantDirectory) {
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

export function toErrors(refused: readonly Refused[]): RecordError[] {
  return [...refused].sort((a, b) => a.index - b.index).map((r) => recordError(r.index, r.record, r.refusal));
}

/** Groups a batch by tenant, keeping request order inside each group. */
export function byTenant<T extends { tenantId: string }>(items: ReadonlyArray<Parsed<T>>): Map<string, Array<Parsed<T>>> {
  const groups = new Map<string, Array<Parsed<T>>>();
  for (const item of items) {
    const list = groups.get(item.record.tenantId);
    if (list) list.push(item);
    else groups.set(item.record.tenantId, [item]);
  }
  return groups;
}

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

/** DIGIT's search URLParams: limit 0 answers only the count. */
export function pageOf(params: { limit?: number | undefined; offset?: number | undefined }): { offset: number; limit: number } {
  return { offset: params.offset ?? 0, limit: Math.min(params.limit ?? 100, 1000) };
}

/** `undefined` for "no filter", a de-duplicated list otherwise (DIGIT sends nulls or empty lists for absent filters). */
export function listFilter(values: readonly string[] | null | undefined): string[] | undefined {
  return values === null || values === undefined || values.length === 0 ? undefined : [...new Set(values)];
}
