import { Type } from 'typebox';
import { RequestInfo, ResponseInfo, responseInfo } from '../../kernel/envelope.js';
import type { HttpApp } from '../../kernel/http.js';
import { MAX_LIMIT, type HrmsService } from './hrms.service.js';

const tags = ['hrms'];
const Csv = (pattern: string) => Type.Optional(Type.String({ maxLength: 2048, pattern }));

/** DIGIT's EmployeeSearchCriteria as query parameters (lists comma-separated). */
const SearchQuery = Type.Object(
  {
    tenantId: Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' }),
    codes: Csv('^[^\\s,][^,]*(,[^,]+)*$'),
    names: Csv('^[^,]+(,[^,]+)*$'),
    uuids: Csv('^[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*$'),
    roles: Csv('^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$'),
    phone: Type.Optional(Type.String({ pattern: '^[0-9]{6,15}$' })),
    isActive: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  },
  { additionalProperties: true },
);

const Loose = Type.Object({}, { additionalProperties: true });
const Employee = Type.Object(
  {
    id: Type.Number(),
    uuid: Type.String(),
    code: Type.String(),
    employeeStatus: Type.String(),
    employeeType: Type.Union([Type.String(), Type.Null()]),
    dateOfAppointment: Type.Union([Type.Number(), Type.Null()]),
    isActive: Type.Boolean(),
    tenantId: Type.String(),
    jurisdictions: Type.Array(Loose),
    assignments: Type.Array(Loose),
    serviceHistory: Type.Array(Loose),
    education: Type.Array(Loose),
    tests: Type.Array(Loose),
    documents: Type.Array(Loose),
    user: Loose,
    auditDetails: Loose,
  },
  { additionalProperties: true },
);

const split = (value: string | undefined) => {
  const parts = value?.split(',').map((v) => v.trim()).filter(Boolean);
  return parts && parts.length > 0 ? parts : undefined;
};

/** DIGIT's `/egov-hrms/employees/_search`: the active employees of a tenant (the workbench's employee picker). */
export function hrmsRoutes(service: HrmsService) {
  return (app: HttpApp) => {
    app.post(
      '/egov-hrms/employees/_search',
      {
        schema: {
          tags,
          summary: 'Active employees of a tenant, filtered by codes (user names), names, uuids, roles (held on the tenant) or phone',
          querystring: SearchQuery,
          body: Type.Optional(Type.Object({ RequestInfo }, { additionalProperties: true })),
          response: { 200: Type.Object({ ResponseInfo, Employees: Type.Array(Employee) }) },
        },
      },
      async (request) => {
        const q = request.query;
        // Only active employees are served (isActive=false asks for none).
        const employees =
          q.isActive === false
            ? []
            : await service.search({ tenantId: q.tenantId, codes: split(q.codes), names: split(q.names), uuids: split(q.uuids), roles: split(q.roles), phone: q.phone, limit: q.limit, offset: q.offset }, request.scope);
        // DIGIT lets citizens search employees; they get names and roles, not contact details.
        const shown = request.userInfo?.type === 'CITIZEN' ? employees.map((e) => ({ ...e, user: { ...e.user, mobileNumber: null, emailId: null } })) : employees;
        return { ResponseInfo: responseInfo(request.body?.RequestInfo, request.id), Employees: shown };
      },
    );
  };
}
