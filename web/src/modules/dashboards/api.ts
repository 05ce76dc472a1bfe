// The dashboard's calls: the complaint summary (/pgr-services/v2/dashboard/_summary), and the
// complaint types its filter offers (cities and localities come from the shell's places).
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

/** Complaint type codes (RAINMAKER-PGR.ServiceDefs), inactive ones included: old complaints have them. */
export async function complaintTypes(stateTenant: string): Promise<string[]> {
  const body = await post<Mdms<{ serviceCode: string }>>(
    '/egov-mdms-service/v1/_search',
    { MdmsCriteria: { tenantId: stateTenant, moduleDetails: [{ moduleName: 'RAINMAKER-PGR', masterDetails: [{ name: 'ServiceDefs' }] }] } },
    { anonymous: true },
  );
  return (body.MdmsRes?.['RAINMAKER-PGR']?.['ServiceDefs'] ?? []).map((d) => d.serviceCode);
}

