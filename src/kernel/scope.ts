import type { UserInfo } from './userinfo.js';
import { DomainError } from './errors.js';
import { tenantCovers } from './tenancy.js';

/**
 * What the caller may see and touch for the action of the current request. The kernel computes it
 * once, after the body is parsed and validated (see installAuth): the tenants where one of the
 * caller's roles allows the matched action, each covering its sub-tenants (`pb` covers
 * `pb.amritsar`). Stores take a Scope, so a query can only reach rows inside it, and a change to
 * one record is checked against the stored record's tenant, never the body's.
 */
export type Scope = {
  /** The caller; null for anonymous callers of mixed-mode routes and for the platform itself. */
  readonly user: UserInfo | null;
  /** Tenant roots the caller's roles cover for this action; every tenant below a root is in scope. */
  readonly tenants: readonly string[];
  /** True for citizens: besides the tenants, they see and touch only what is theirs. */
  readonly citizen: boolean;
  /** True only for the platform's own work (workers, seeders, CLI): every tenant is in scope. */
  readonly system: boolean;
};

/** The platform acting for itself (event handlers, seeders, the CLI): every tenant, no owner. */
export const SYSTEM_SCOPE: Scope = Object.freeze({ user: null, tenants: Object.freeze([]) as readonly string[], citizen: false, system: true });

export function scopeFor(user: UserInfo | null, tenants: readonly string[]): Scope {
  return Object.freeze({ user, tenants: Object.freeze([...new Set(tenants)]), citizen: user?.type === 'CITIZEN', system: false });
}

/**
 * The scope of a read of public reference data (master data, localization messages, boundaries):
 * DIGIT serves it to anyone, anonymous callers included (a citizen's app loads a city's localities
 * before login), so it is the tenants the read reaches (the tenant named and its lineage), not
 * the caller's roles. Only for reads: a write always takes the caller's `request.scope`.
 */
export function publicScope(tenants: readonly string[]): Scope {
  return scopeFor(null, tenants);
}

/** A stable text for the scope, for caches whose answers depend on it. */
export function scopeKey(scope: Scope): string {
  return scope.system ? '*' : [...scope.tenants].sort().join(',');
}

/** True when `tenantId` is one of the scope's tenants or below one. */
export function inScope(scope: Scope, tenantId: string): boolean {
  if (scope.system) return true;
  return scope.tenants.some((root) => tenantCovers(root, tenantId));
}

export const outOfScope = () =>
  new DomainError('forbidden', { code: 'CustomException', message: 'Not authorized to access this resource' });

/** Throws 403 unless `tenantId` is inside the scope. Use it on the STORED record's tenant. */
export function assertInScope(scope: Scope, tenantId: string): void {
  if (!inScope(scope, tenantId)) throw outOfScope();
}

/**
 * True when the record belongs to the caller, for citizens; employees and the system own nothing
 * in particular and pass (their limit is the tenant). `ownerUuid` is the record's owner column.
 */
export function ownsOrNotCitizen(scope: Scope, ownerUuid: string | null | undefined): boolean {
  if (!scope.citizen) return true;
  return ownerUuid !== null && ownerUuid !== undefined && ownerUuid === scope.user?.uuid;
}
