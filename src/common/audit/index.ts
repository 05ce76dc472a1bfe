import { defineModule } from '../../kernel/module.js';
import { auditRoutes } from './audit.routes.js';
import { createAuditLog, type AuditLog } from './audit.service.js';
import { init } from './migrations/0001_init.js';

export type {
  AuditAction,
  AuditCriteria,
  AuditEntry,
  AuditEntryInput,
  AuditLog,
  AuditOutcome,
  BrokenLink,
  BrokenReason,
  VerifyReport,
} from './audit.service.js';
export { AUDIT_ACTIONS, createAuditLog, formatVerifyReport } from './audit.service.js';

export type AuditApi = { readonly log: AuditLog };

/** The tamper-evident audit log: logins, lockouts, user and role changes, PII decryptions. */
export const auditModule = defineModule<AuditApi>({
  name: 'audit',
  migrations: [init],
  create({ database, clock }) {
    const log = createAuditLog({ database, clock });
    return { api: { log }, routes: auditRoutes(log) };
  },
});
