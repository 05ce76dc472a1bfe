import { invalid } from './errors.js';

/**
 * DIGIT tenant ids are dot-separated: `pb` is a state, `pb.amritsar` a city of it.
 * Lower-case letters, digits, `_` and `-` in each part, at most three levels (central instances).
 */
const TENANT_PATTERN = /^[a-z][a-z0-9_-]{0,63}(\.[a-z0-9][a-z0-9_-]{0,63}){0,2}$/;

export function isTenantIdSyntax(tenantId: string): boolean {
  return TENANT_PATTERN.test(tenantId);
}

/** `pb.amritsar` → `pb`. */
export function stateTenantOf(tenantId: string): string {
  const dot = tenantId.indexOf('.');
  return dot === -1 ? tenantId : tenantId.slice(0, dot);
}

/** The tenant and its ancestors, most specific first: `pb.amritsar` → [`pb.amritsar`, `pb`]. */
export function tenantLineage(tenantId: string): string[] {
  const parts = tenantId.split('.');
  const lineage: string[] = [];
  for (let i = parts.length; i > 0; i--) lineage.push(parts.slice(0, i).join('.'));
  return lineage;
}

/** True when `ancestor` is `tenantId` itself or one of its parents. */
export function tenantCovers(ancestor: string, tenantId: string): boolean {
  return tenantId === ancestor || tenantId.startsWith(`${ancestor}.`);
}

/**
 * The tenants that exist. Which ones do is master data (MDMS `tenant.tenants`), so the kernel only
 * holds the question; the app wires in the MDMS answer.
 */
export type TenantDirectory = {
  /** Known tenant codes; an empty set means nothing has been configured yet (first start). */
  knownTenants(): Promise<ReadonlySet<string>>;
};

export async function assertKnownTenant(directory: TenantDirectory, tenantId: string): Promise<void> {
  if (!isTenantIdSyntax(tenantId)) {
    throw invalid('INVALID_TENANT_ID', `tenantId "${tenantId}" is not a valid tenant id (expected e.g. "pb" or "pb.amritsar")`, [tenantId]);
  }
  const known = await directory.knownTenants();
  if (known.size > 0 && !known.has(tenantId)) {
    throw invalid('INVALID_TENANT_ID', `tenantId "${tenantId}" is not a tenant of this platform`, [tenantId]);
  }
}
