// The complaint calls both apps make: DIGIT's /pgr-services/v2/request/* and the workflow's
// process history (/egov-workflow-v2/egov-wf/process/_search).
import { post } from '../../shell/api';

export type Document = { id?: string; documentType?: string | null; fileStoreId: string };
export type Complaint = {
  id: string;
  tenantId: string;
  serviceCode: string;
  serviceRequestId: string;
  description: string | null;
  applicationStatus: string;
  rating: number | null;
  source: string | null;
  citizen: { uuid: string; name: string | null; mobileNumber: string | null };
  address: { locality?: { code: string; name?: string }; [key: string]: unknown };
  additionalDetail: unknown;
  documents: Document[];
  auditDetails: { createdTime: number; lastModifiedTime: number; createdBy: string | null; lastModifiedBy: string | null };
};
export type WorkflowAction = { action: string; assignes?: string[]; comments?: string; verificationDocuments?: Document[]; rating?: number };
export type ServiceWrapper = { service: Complaint; workflow: { action: string; assignes: string[]; comments: string | null; verificationDocuments: Document[] } };

const BASE = '/pgr-services/v2/request';

export async function searchComplaints(query: Record<string, string | number | undefined>): Promise<ServiceWrapper[]> {
  const body = await post<{ ServiceWrappers: ServiceWrapper[] }>(`${BASE}/_search`, {}, { query });
  return body.ServiceWrappers;
}

export async function countComplaints(query: Record<string, string | number | undefined>): Promise<number> {
  const body = await post<{ count: number }>(`${BASE}/_count`, {}, { query });
  return body.count;
}

export async function fileComplaint(service: Record<string, unknown>, workflow: WorkflowAction): Promise<ServiceWrapper> {
  const body = await post<{ ServiceWrappers: ServiceWrapper[] }>(`${BASE}/_create`, { service, workflow });
  return body.ServiceWrappers[0]!;
}

export async function updateComplaint(service: { tenantId: string; serviceRequestId: string; rating?: number }, workflow: WorkflowAction): Promise<ServiceWrapper> {
  const body = await post<{ ServiceWrappers: ServiceWrapper[] }>(`${BASE}/_update`, { service, workflow });
  return body.ServiceWrappers[0]!;
}

/** One step of a complaint's history, newest first, with the actions its state allows next. */
export type ProcessInstance = {
  id: string;
  businessId: string;
  action: string;
  state: { state: string | null; applicationStatus: string | null; actions?: { action: string; nextState: string; roles: string[] }[] | null };
  comment: string | null;
  assigner: { uuid: string; name?: string | null } | null;
  assignes: { uuid: string; name?: string | null }[] | null;
  documents: Document[] | null;
  auditDetails: { createdTime: number };
  businesssServiceSla?: number | null;
};

export async function complaintHistory(tenantId: string, serviceRequestId: string): Promise<ProcessInstance[]> {
  const body = await post<{ ProcessInstances: ProcessInstance[] }>('/egov-workflow-v2/egov-wf/process/_search', {}, { query: { tenantId, businessIds: serviceRequestId, history: true } });
  return body.ProcessInstances;
}

/** Complaint types from MDMS (RAINMAKER-PGR.ServiceDefs), as the citizen and employee pick them. */
export type ServiceDef = { serviceCode: string; name: string; department: string; slaHours: number; menuPath?: string; active?: boolean };

export async function serviceDefs(tenantId: string): Promise<ServiceDef[]> {
  const body = await post<{ MdmsRes?: { 'RAINMAKER-PGR'?: { ServiceDefs?: ServiceDef[] } } }>(
    '/egov-mdms-service/v1/_search',
    { MdmsCriteria: { tenantId, moduleDetails: [{ moduleName: 'RAINMAKER-PGR', masterDetails: [{ name: 'ServiceDefs' }] }] } },
    { anonymous: true },
  );
  return (body.MdmsRes?.['RAINMAKER-PGR']?.ServiceDefs ?? []).filter((d) => d.active !== false);
}

/** Localization code of a complaint status (`CS_COMMON_PENDINGFORASSIGNMENT`), DIGIT's. */
export const statusCode = (status: string) => `CS_COMMON_${status.toUpperCase()}`;
