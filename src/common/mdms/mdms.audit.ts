import type { Tx } from '../../kernel/db.js';
import type { AuditLog } from '../audit/index.js';
import type { Mdms } from './mdms.schema.js';

/** The masters that say who may do what: every change to them is written to the audit log. */
const ACCESS_CONTROL = /^ACCESSCONTROL-/;

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
