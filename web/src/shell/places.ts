// Where things are, for every service's pages: the state's tenants (MDMS `tenant.tenants`) and a
// city's localities (boundary v2's ADMIN hierarchy), with DIGIT's localization codes for both.
import { post } from './api';

type Tenant = { code: string };
type BoundaryNode = { code: string; boundaryType?: string; children?: BoundaryNode[] };

const upper = (tenantId: string) => tenantId.toUpperCase().replaceAll('.', '_');

/** DIGIT's localization code of a tenant (`TENANT_TENANTS_PB_AMRITSAR`). */
export const tenantLabel = (tenantId: string) => `TENANT_TENANTS_${upper(tenantId)}`;

/** DIGIT's localization code of a locality (`PB_AMRITSAR_ADMIN_SUN04`). */
export const localityLabel = (tenantId: string, code: string) => `${upper(tenantId)}_ADMIN_${code.toUpperCase()}`;

const tenantLists = new Map<string, Promise<string[]>>();

/** Every tenant code of the state, the state first, then its cities in order; read once per page load. */
export function stateTenants(stateTenant: string): Promise<string[]> {
  let list = tenantLists.get(stateTenant);
  if (!list) {
    list = post<{ MdmsRes?: { tenant?: { tenants?: Tenant[] } } }>(
      '/egov-mdms-service/v1/_search',
      { MdmsCriteria: { tenantId: stateTenant, moduleDetails: [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants' }] }] } },
      { anonymous: true },
    ).then((body) => {
      const codes = (body.MdmsRes?.tenant?.tenants ?? []).map((t) => t.code).filter((c) => c === stateTenant || c.startsWith(`${stateTenant}.`));
      return [...new Set([stateTenant, ...codes])].sort((a, b) => (a === stateTenant ? -1 : b === stateTenant ? 1 : a.localeCompare(b)));
    });
    // A failed read is not kept: the next page asks again.
    list.catch(() => tenantLists.delete(stateTenant));
    tenantLists.set(stateTenant, list);
  }
  return list;
}

/** The cities of the state (its tenants without the state itself). */
export async function cityTenants(stateTenant: string): Promise<string[]> {
  return (await stateTenants(stateTenant)).filter((c) => c !== stateTenant);
}

function localitiesIn(nodes: readonly BoundaryNode[]): string[] {
  return nodes.flatMap((n) => [...(n.boundaryType === 'Locality' ? [n.code] : []), ...localitiesIn(n.children ?? [])]);
}

/** The locality codes of a city; none when it has no ADMIN hierarchy. */
export async function localities(tenantId: string): Promise<string[]> {
  try {
    const body = await post<{ TenantBoundary: { boundary: BoundaryNode[] }[] }>(
      '/boundary-service/boundary-relationships/_search',
      {},
      { query: { tenantId, hierarchyType: 'ADMIN', boundaryType: 'Locality' }, anonymous: true },
    );
    return localitiesIn(body.TenantBoundary.flatMap((b) => b.boundary));
  } catch {
    return [];
  }
}
