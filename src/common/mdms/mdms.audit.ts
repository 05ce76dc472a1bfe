import type { Tx } from '../../kernel/db.js';
import { invalid } from '../../kernel/errors.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { AuditLog } from '../audit/index.js';
import type { Mdms } from './mdms.schema.js';

/** The masters that say who may do what: every change to them is written to the audit log. */
const ACCESS_CONTROL = /^ACCESSCONTROL-/;

/**
 * Roles, actions, role-actions and grant policies are read at the state tenant only (the access
 * service compiles each state's mapping; DIGIT's egov-accesscontrol reads its state's MDMS), so an
 * active ACCESSCONTROL-* record at a city would look like a grant and do nothing. Refused (400);
 * deactivating one is allowed, so records written before this rule can be switched off.
 */
export function assertAccessControlAtState(schemaCode: string, tenantId: string, isActive: boolean): void {
  if (!ACCESS_CONTROL.test(schemaCode) || !isActive || stateTenantOf(tenantId) === tenantId) return;
  throw invalid(
    'INVALID_TENANT_ID',
    `${schemaCode} records are read at the state tenant only: write it at ${stateTenantOf(tenantId)}, not ${tenantId}, where it would have no effect`,
    ['Mdms.tenantId'],
  );
}

/**
 * Records a change of a role, action or role-action (ACCESSCONTROL-* masters, written through
 * MDMS v2 or the access API) in the audit log, in the write's transaction, so the grant and its
 * record exist together. The records name roles and API actions only, no personal data, so the
 * whole record goes into the entry. Seed loads are not recorded: they come from files the
 * operator keeps under version control, and would flood the chain on every first start.
 */
export async function auditAccessControl(tx: Tx, audit: Pick<AuditLog, 'appendInTx'>, record: Mdms, change: 'created' | 'updated', actor: { uuid: string | null }): Promise<void> {
  if (!ACCESS_CONTROL.test(record.schemaCode)) return;
  await audit.appendInTx(tx, {
    tenantId: record.tenantId,
    action: 'access.changed',
    subject: `${record.schemaCode}:${record.uniqueIdentifier}`,
    outcome: 'success',
    actorUuid: actor.uuid,
    details: { change, schemaCode: record.schemaCode, id: record.id, uniqueIdentifier: record.uniqueIdentifier, isActive: record.isActive, data: record.data },
  });
}
