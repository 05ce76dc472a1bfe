// The cities a citizen may file in (those with localities), and the citizen's complaints in all of them.
import { cityTenants, localities } from '../../../shell/places';
import { searchComplaints, type ServiceWrapper } from '../api';

export type Locality = { code: string };
export type City = { code: string; localities: Locality[] };

/** Cities that have localities to file a complaint in. */
export async function cities(stateTenant: string): Promise<City[]> {
  const codes = await cityTenants(stateTenant);
  const found = await Promise.all(codes.map(async (code) => ({ code, localities: (await localities(code)).map((l) => ({ code: l })) })));
  return found.filter((c) => c.localities.length > 0);
}

/** The citizen's complaints in every city, newest first (a complaint search is per city). */
export async function myComplaints(stateTenant: string, query: Record<string, string> = {}): Promise<ServiceWrapper[]> {
  const codes = await cityTenants(stateTenant);
  const found = await Promise.all(codes.map((tenantId) => searchComplaints({ tenantId, ...query })));
  return found.flat().sort((a, b) => b.service.auditDetails.createdTime - a.service.auditDetails.createdTime);
}
