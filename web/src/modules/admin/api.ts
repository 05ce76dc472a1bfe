// The calls of the admin console: MDMS v2, localization, users and workflow definitions, with
// DIGIT's bodies (see src/common/{mdms,localization,user,workflow}).
import { post } from '../../shell/api';
import { stateTenants } from '../../shell/places';

export type AuditDetails = { createdBy?: string | null; lastModifiedBy?: string | null; createdTime?: number; lastModifiedTime?: number };
export type JsonSchema = Record<string, unknown> & { properties?: Record<string, Record<string, unknown>>; required?: string[]; 'x-unique'?: string[] };
export type SchemaDefinition = { id: string; tenantId: string; code: string; description: string | null; definition: JsonSchema; isActive: boolean };
export type MdmsRecord = { id: string; tenantId: string; schemaCode: string; uniqueIdentifier: string; data: Record<string, unknown>; isActive: boolean; auditDetails: AuditDetails };

export async function searchSchemas(tenantId: string, codes?: string[]): Promise<SchemaDefinition[]> {
  const body = await post<{ SchemaDefinitions: SchemaDefinition[] }>('/mdms-v2/schema/v1/_search', {
    SchemaDefCriteria: { tenantId, ...(codes ? { codes } : {}), limit: 1000 },
  });
  return body.SchemaDefinitions;
}

export async function searchRecords(criteria: { tenantId: string; schemaCode: string; ids?: string[]; offset?: number; limit?: number }): Promise<MdmsRecord[]> {
  const body = await post<{ mdms: MdmsRecord[] }>('/mdms-v2/v2/_search', { MdmsCriteria: { limit: 1000, ...criteria } });
  return body.mdms;
}

/** Creates a record; its uniqueIdentifier is computed by the server from the master's x-unique. */
export async function createRecord(schemaCode: string, tenantId: string, data: Record<string, unknown>, isActive: boolean): Promise<MdmsRecord> {
  const body = await post<{ mdms: MdmsRecord[] }>(`/mdms-v2/v2/_create/${encodeURIComponent(schemaCode)}`, { Mdms: { tenantId, schemaCode, data, isActive } });
  return body.mdms[0]!;
}

/** Updates a record: id and auditDetails go back as read, as DIGIT requires. */
export async function updateRecord(record: MdmsRecord, data: Record<string, unknown>, isActive: boolean): Promise<MdmsRecord> {
  const body = await post<{ mdms: MdmsRecord[] }>(`/mdms-v2/v2/_update/${encodeURIComponent(record.schemaCode)}`, {
    Mdms: { id: record.id, tenantId: record.tenantId, schemaCode: record.schemaCode, uniqueIdentifier: record.uniqueIdentifier, data, isActive, auditDetails: record.auditDetails },
  });
  return body.mdms[0]!;
}

export type Message = { code: string; message: string; module: string; locale: string };

/** Every message of one module and locale at the state (en_IN fills the gaps of other locales). */
export async function searchMessages(tenantId: string, locale: string, module: string): Promise<Message[]> {
  const body = await post<{ messages: Message[] }>('/localization/messages/v1/_search', {}, { query: { tenantId, locale, module } });
  return body.messages;
}

/** Creates or changes messages; the server drops its cached lists, so every app's next load reads the new text. */
export async function upsertMessages(tenantId: string, messages: Message[]): Promise<void> {
  await post('/localization/messages/v1/_upsert', { tenantId, messages });
}

export type Role = { code: string; name?: string | null; tenantId: string };
export type User = {
  id: number;
  uuid: string;
  userName: string;
  name: string | null;
  mobileNumber: string | null;
  emailId: string | null;
  type: string;
  tenantId: string;
  active: boolean;
  roles: Role[];
};

export async function searchUsers(criteria: Record<string, unknown>): Promise<User[]> {
  const body = await post<{ user: User[] }>('/user/_search', { pageSize: 50, ...criteria });
  return body.user;
}

export async function updateUserRoles(uuid: string, roles: Role[]): Promise<User> {
  const body = await post<{ user: User[] }>('/user/users/_updatenovalidate', { user: { uuid, roles } });
  return body.user[0]!;
}

export async function createEmployee(user: { userName: string; name: string; mobileNumber: string; emailId?: string; password: string; tenantId: string; roles: Role[] }): Promise<User> {
  const body = await post<{ user: User[] }>('/user/users/_createnovalidate', { user: { ...user, type: 'EMPLOYEE', active: true } });
  return body.user[0]!;
}

/** The roles an official may grant: the ACCESSCONTROL-ROLES master. */
export async function roleCodes(tenantId: string): Promise<string[]> {
  const records = await searchRecords({ tenantId, schemaCode: 'ACCESSCONTROL-ROLES.roles' });
  return records.filter((r) => r.isActive).map((r) => String(r.data['code']));
}

export type Tenant = { code: string };
/** The state and its cities. */
export async function tenants(stateTenant: string): Promise<Tenant[]> {
  return (await stateTenants(stateTenant)).map((code) => ({ code }));
}

export type WorkflowAction = { uuid?: string; action: string; nextState: string; roles: string[] };
export type WorkflowState = { uuid: string; state: string | null; applicationStatus: string | null; isStartState: boolean; isTerminateState: boolean; sla: number | null; actions: WorkflowAction[] | null };
export type BusinessService = { uuid: string; tenantId: string; businessService: string; business: string; businessServiceSla: number | null; states: WorkflowState[] };

export async function businessServices(tenantId: string): Promise<BusinessService[]> {
  const body = await post<{ BusinessServices: BusinessService[] }>('/egov-workflow-v2/egov-wf/businessservice/_search', {}, { query: { tenantId } });
  return body.BusinessServices;
}

/** DIGIT's label code of a role (`PGR-ADMIN` → `ACCESSCONTROL_ROLES_ROLES_PGR_ADMIN`). */
export const roleLabelCode = (code: string) => `ACCESSCONTROL_ROLES_ROLES_${code.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
