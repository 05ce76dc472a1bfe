// The dashboard's calls: the complaint summary (/pgr-services/v2/dashboard/_summary), and the
// cities, complaint types and localities its filters offer.
import { post } from '../../shell/api';

export type Criteria = { tenantId: string; fromDate: number; toDate: number; serviceCode?: string; locality?: string };
export type Summary = {
  total: number;
  open: number;
  resolved: number;
  closed: number;
  byStatus: { status: string; count: number }[];
  byType: { serviceCode: string; count: number }[];
  byLocality: { locality: string; count: number }[];
  slaCompliance: { period: string; total: number; withinSla: number; rate: number | null }[];
  averageResolutionHours: number | null;
  medianResolutionHours?: number | null;
};

export async function summary(criteria: Criteria): Promise<Summary> {
  const body = await post<{ summary: Summary }>('/pgr-services/v2/dashboard/_summary', { criteria });
  return body.summary;
}

type Mdms<T> = { MdmsRes?: Record<string, Record<string, T[] | undefined> | undefined> };

/** The cities of the state (MDMS tenant.tenants, not the state itself). */
export async function cities(stateTenant: string): Promise<string[]> {
  const body = await post<Mdms<{ code: string }>>(
    '/egov-mdms-service/v1/_search',
    { MdmsCriteria: { tenantId: stateTenant, moduleDetails: [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants' }] }] } },
    { anonymous: true },
  );
  return (body.MdmsRes?.['tenant']?.['tenants'] ?? [])
    .map((t) => t.code)
    .filter((c) => c.startsWith(`${stateTenant}.`))
    .sort();
}

/** Complaint type codes (RAINMAKER-PGR.ServiceDefs), inactive ones included: old complaints have them. */
export async function complaintTypes(stateTenant: string): Promise<string[]> {
  const body = await post<Mdms<{ serviceCode: string }>>(
    '/egov-mdms-service/v1/_search',
    { MdmsCriteria: { tenantId: stateTenant, moduleDetails: [{ moduleName: 'RAINMAKER-PGR', masterDetails: [{ name: 'ServiceDefs' }] }] } },
    { anonymous: true },
  );
  return (body.MdmsRes?.['RAINMAKER-PGR']?.['ServiceDefs'] ?? []).map((d) => d.serviceCode);
}

type Node = { code: string; boundaryType?: string; children?: Node[] };
const localitiesIn = (nodes: readonly Node[]): string[] =>
  nodes.flatMap((n) => [...(n.boundaryType === 'Locality' ? [n.code] : []), ...localitiesIn(n.children ?? [])]);

/** The localities of a city (boundary ADMIN hierarchy); none when the city has no such hierarchy. */
export async function localities(tenantId: string): Promise<string[]> {
  try {
    const body = await post<{ TenantBoundary: { boundary: Node[] }[] }>(
      '/boundary-service/boundary-relationships/_search',
      {},
      { query: { tenantId, hierarchyType: 'ADMIN', boundaryType: 'Locality' }, anonymous: true },
    );
    return localitiesIn(body.TenantBoundary.flatMap((b) => b.boundary));
  } catch {
    return [];
  }
}

/** DIGIT's localization codes of a city, a locality and a complaint status. */
export const cityCode = (tenantId: string) => `TENANT_TENANTS_${tenantId.toUpperCase().replaceAll('.', '_')}`;
export const localityCode = (tenantId: string, code: string) =>
  `${tenantId.toUpperCase().replaceAll('.', '_')}_ADMIN_${code.toUpperCase()}`;
export const statusCode = (status: string) => `CS_COMMON_${status.toUpperCase()}`;
