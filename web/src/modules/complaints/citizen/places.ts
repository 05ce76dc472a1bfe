// The cities a citizen may file in and their localities: MDMS tenants, and boundary v2's ADMIN
// hierarchy at the Locality level.
import { post } from '../../../shell/api';
import { searchComplaints, type ServiceWrapper } from '../api';

type Tenant = { code: string; name?: string };
export type Locality = { code: string };
export type City = { code: string; localities: Locality[] };

/** DIGIT's localization code of a city (`TENANT_TENANTS_PB_AMRITSAR`). */
export const cityCode = (tenantId: string) => `TENANT_TENANTS_${tenantId.toUpperCase().replaceAll('.', '_')}`;
/** DIGIT's localization code of a locality (`PB_AMRITSAR_ADMIN_SUN04`). */
export const localityCode = (tenantId: string, code: string) =>
  `${tenantId.toUpperCase().replaceAll('.', '_')}_ADMIN_${code.toUpperCase()}`;

type Node = { code: string; boundaryType?: string; children?: Node[] };

function localitiesIn(nodes: readonly Node[]): Locality[] {
  return nodes.flatMap((n) => [...(n.boundaryType === 'Locality' ? [{ code: n.code }] : []), ...localitiesIn(n.children ?? [])]);
}

async function localitiesOf(tenantId: string): Promise<Locality[]> {
  try {
    const body = await post<{ TenantBoundary: { boundary: Node[] }[] }>(
      '/boundary-service/boundary-relationships/_search',
      {},
      { query: { tenantId, hierarchyType: 'ADMIN', boundaryType: 'Locality' }, anonymous: true },
    );
    return localitiesIn(body.TenantBoundary.flatMap((b) => b.boundary));
  } catch {
    // A city without the ADMIN hierarchy has no localities to offer.
    return [];
  }
}

let tenantsOnce: Promise<string[]> | undefined;

/** The cities of the state (not the state itself), from MDMS. */
function cityTenants(stateTenant: string): Promise<string[]> {
  tenantsOnce ??= post<{ MdmsRes?: { tenant?: { tenants?: Tenant[] } } }>(
    '/egov-mdms-service/v1/_search',
    { MdmsCriteria: { tenantId: stateTenant, moduleDetails: [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants' }] }] } },
    { anonymous: true },
  )
    .then((body) => (body.MdmsRes?.tenant?.tenants ?? []).map((t) => t.code).filter((c) => c.startsWith(`${stateTenant}.`)))
    .catch((error: unknown) => {
      tenantsOnce = undefined;
      throw error;
    });
  return tenantsOnce;
}

/** Cities that have localities to file a complaint in. */
export async function cities(stateTenant: string): Promise<City[]> {
  const codes = await cityTenants(stateTenant);
  const found = await Promise.all(codes.map(async (code) => ({ code, localities: await localitiesOf(code) })));
  return found.filter((c) => c.localities.length > 0);
}

/** The citizen's complaints in every city, newest first (a complaint search is per city). */
export async function myComplaints(stateTenant: string, query: Record<string, string> = {}): Promise<ServiceWrapper[]> {
  const codes = await cityTenants(stateTenant);
  const found = await Promise.all(codes.map((tenantId) => searchComplaints({ tenantId, ...query })));
  return found.flat().sort((a, b) => b.service.auditDetails.createdTime - a.service.auditDetails.createdTime);
}
