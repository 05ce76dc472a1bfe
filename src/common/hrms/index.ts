import { defineModule } from '../../kernel/module.js';
import type { Scope } from '../../kernel/scope.js';
import type { TenantDirectory } from '../../kernel/tenancy.js';
import type { UserApi } from '../user/index.js';
import { hrmsRoutes } from './hrms.routes.js';
import { createHrmsService, type Employee, type EmployeeCriteria } from './hrms.service.js';

export type { Employee, EmployeeCriteria } from './hrms.service.js';

export type HrmsApi = {
  /**
   * Active employees of a tenant, filtered as DIGIT's `/egov-hrms/employees/_search` filters them,
   * among the users on tenants inside `scope` (SYSTEM_SCOPE for the platform's own reads).
   */
  search(criteria: EmployeeCriteria, scope: Scope): Promise<Employee[]>;
};

/**
 * DIGIT's egov-hrms, read side: employees are the tenant's EMPLOYEE users (from the user module);
 * Plinth keeps no assignments, jurisdictions or service history, so those lists are empty.
 */
export const hrmsModule = defineModule<HrmsApi, { users: UserApi; tenants: TenantDirectory }>({
  name: 'hrms',
  migrations: [],
  create(_context, { users, tenants }) {
    const service = createHrmsService({ users: users.service, tenants });
    return { api: { search: (criteria, scope) => service.search(criteria, scope) }, routes: hrmsRoutes(service) };
  },
});
