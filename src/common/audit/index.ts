import { defineModule } from '../../kernel/module.js';
import { auditRoutes } from './audit.routes.js';
import { createAuditLog, type AuditLog } from './audit.service.js';
import { loadMasterKey } from '../../kernel/masterkey.js';
import { headKeyFrom } from './audit.chain.js';
import { init } from './migrations/0001_init.js';
import { headMac } from './migrations/0002_head_mac.js';

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
export { headKeyFrom } from './audit.chain.js';

export type AuditApi = { readonly log: AuditLog };

/** The tamper-evident audit log: logins, lockouts, user and role changes, PII decryptions. */
export const auditModule = defineModule<AuditApi>({
  name: 'audit',
  migrations: [init, headMac],
  create({ config, database, clock }) {
    // Read on first use: the same master key the encryption service loads (and creates in development).
    const headKey = () => headKeyFrom(loadMasterKey({ masterKey: config.masterKey, masterKeyFile: config.masterKeyFile, dataDir: config.dataDir }).key);
    const log = createAuditLog({ database, clock, headKey });
    return { api: { log }, routes: auditRoutes(log) };
  },
});
