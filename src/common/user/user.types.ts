import type { AuditLog } from '../audit/index.js';
import type { DataSecurityMasters } from './user.privacy.js';

// The user service's settings and collaborators, shared by the service and its sessions.

export type AuditSink = Pick<AuditLog, 'append' | 'appendInTx'>;

/** Master data the user rules read (roles, mobile number format), per state tenant. */
export type UserMasters = {
  roleNames(stateTenantId: string): Promise<ReadonlyMap<string, string>>;
  mobilePattern(stateTenantId: string): Promise<RegExp | undefined>;
  /** DIGIT's DataSecurity.SecurityPolicy and MaskingPatterns records, for masking user answers. */
  dataSecurity: DataSecurityMasters;
};

export type LockoutSettings = { maxFailures: number; windowMs: number; coolDownMs: number };
export const defaultLockout: LockoutSettings = { maxFailures: 5, windowMs: 30 * 60_000, coolDownMs: 60 * 60_000 };

/** Where a request came from, for the audit log. */
export type Origin = { ip: string | null; correlationId: string | null };

