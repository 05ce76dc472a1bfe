// The workbench's own calls: DIGIT's inbox v2 for PGR, the employee picker (egov-hrms) and the
// city's localities (boundary v2, ADMIN hierarchy).
import { post } from '../../../shell/api';
import type { Complaint, ProcessInstance } from '../api';

/** A process instance as the inbox and history answer it, with the actions the caller may take next. */
export type Process = ProcessInstance & { nextActions?: { action: string; nextState: string; roles: string[] }[] | null };
export type InboxItem = { ProcessInstance: Process | null; businessObject: Complaint & { serviceSla: number | null } };
export type InboxAnswer = { totalCount: number; nearingSlaCount: number; items: InboxItem[] };
export type InboxFilters = { status: string; serviceCode: string; locality: string };

export const PAGE_SIZE = 20;

export async function searchInbox(tenantId: string, filters: InboxFilters, offset: number): Promise<InboxAnswer> {
  return post<InboxAnswer>('/inbox/v2/_search', {
    inbox: {
      tenantId,
      processSearchCriteria: { businessService: ['PGR'], moduleName: 'rainmaker-pgr', ...(filters.status ? { status: [filters.status] } : {}) },
      moduleSearchCriteria: { ...(filters.locality ? { locality: [filters.locality] } : {}), ...(filters.serviceCode ? { serviceCode: [filters.serviceCode] } : {}) },
      limit: PAGE_SIZE,
      offset,
    },
  });
}

export type Employee = { uuid: string; code: string; user: { uuid: string; name: string | null; userName: string } };

/** Active employees of the city holding one of these roles (the assignment picker). */
export async function employees(tenantId: string, roles: readonly string[]): Promise<Employee[]> {
  const body = await post<{ Employees: Employee[] }>('/egov-hrms/employees/_search', {}, { query: { tenantId, roles: roles.join(','), limit: 100 } });
  return body.Employees;
}

/** The states an employee's inbox can hold, in workflow order (filter choices). */
export const INBOX_STATUSES = ['PENDINGFORASSIGNMENT', 'PENDINGFORREASSIGNMENT', 'PENDINGATLME', 'RESOLVED', 'REJECTED'] as const;

/** The complaint roles that use the workbench. */
export const WORKBENCH_ROLES = ['GRO', 'DGRO', 'PGR_LME', 'CSR', 'PGR-ADMIN', 'SUPERUSER'] as const;

const HOUR = 3_600_000;
/** Time left (or overdue) as whole days and hours, with the localization code that says which. */
export function slaText(ms: number): { code: 'WB_SLA_LEFT' | 'WB_SLA_OVERDUE'; days: number; hours: number; overdue: boolean } {
  const overdue = ms < 0;
  const hoursTotal = Math.floor(Math.abs(ms) / HOUR);
  return { code: overdue ? 'WB_SLA_OVERDUE' : 'WB_SLA_LEFT', days: Math.floor(hoursTotal / 24), hours: hoursTotal % 24, overdue };
}
