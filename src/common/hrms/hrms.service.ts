import { invalid } from '../../kernel/errors.js';
import type { Scope } from '../../kernel/scope.js';
import { assertKnownTenant, tenantCovers, type TenantDirectory } from '../../kernel/tenancy.js';
import type { UserService } from '../user/index.js';

/** DIGIT's EmployeeSearchCriteria, lists already split. */
export type EmployeeCriteria = {
  tenantId: string;
  /** Employee codes: Plinth's employee code is the user name, as DIGIT's HRMS makes it. */
  codes?: readonly string[] | undefined;
  names?: readonly string[] | undefined;
  uuids?: readonly string[] | undefined;
  /** Role codes, of which the employee holds one on the tenant (or on its state). */
  roles?: readonly string[] | undefined;
  phone?: string | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
};

type DigitUser = Awaited<ReturnType<UserService['search']>>[number];

/** DIGIT's Employee, with the parts Plinth records (the user); the HRMS-only lists are empty. */
export type Employee = {
  id: number;
  uuid: string;
  code: string;
  employeeStatus: string;
  employeeType: string | null;
  dateOfAppointment: number | null;
  isActive: boolean;
  tenantId: string;
  jurisdictions: object[];
  assignments: object[];
  serviceHistory: object[];
  education: object[];
  tests: object[];
  documents: object[];
  user: {
    id: number;
    uuid: string;
    userName: string;
    name: string | null;
    mobileNumber: string | null;
    emailId: string | null;
    type: string;
    tenantId: string;
    active: boolean;
    roles: { code: string; name: string | null; tenantId: string }[];
  };
  auditDetails: { createdBy: string | null; createdDate: number | null; lastModifiedBy: string | null; lastModifiedDate: number | null };
};

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;
/** Users read per call to the user module while filtering. */
const BATCH = 100;

function employeeOf(user: DigitUser): Employee {
  return {
    id: user.id,
    uuid: user.uuid,
    code: user.userName,
    employeeStatus: 'EMPLOYED',
    employeeType: null,
    dateOfAppointment: null,
    isActive: user.active,
    tenantId: user.tenantId,
    jurisdictions: [],
    assignments: [],
    serviceHistory: [],
    education: [],
    tests: [],
    documents: [],
    user: {
      id: user.id,
      uuid: user.uuid,
      userName: user.userName,
      name: user.name,
      mobileNumber: user.mobileNumber,
      emailId: user.emailId,
      type: user.type,
      tenantId: user.tenantId,
      active: user.active,
      roles: user.roles.map((r) => ({ code: r.code, name: r.name ?? null, tenantId: r.tenantId })),
    },
    auditDetails: { createdBy: user.createdBy ?? null, createdDate: user.createdDate ?? null, lastModifiedBy: user.lastModifiedBy ?? null, lastModifiedDate: user.lastModifiedDate ?? null },
  };
}

export function createHrmsService({ users, tenants }: { users: UserService; tenants: TenantDirectory }) {
  return {
    /** Only employees on tenants inside `scope` (the caller's request.scope; SYSTEM_SCOPE for the platform). */
    async search(criteria: EmployeeCriteria, scope: Scope): Promise<Employee[]> {
      await assertKnownTenant(tenants, criteria.tenantId);
      const limit = criteria.limit ?? DEFAULT_LIMIT;
      const offset = criteria.offset ?? 0;
      if (limit > MAX_LIMIT) throw invalid('INVALID_LIMIT', `limit must be at most ${MAX_LIMIT}`, ['limit']);
      const roles = criteria.roles && criteria.roles.length > 0 ? new Set(criteria.roles) : undefined;
      const names = criteria.names && criteria.names.length > 0 ? new Set(criteria.names) : undefined;
      // A role counts when granted on the tenant or on a tenant above it (a state role covers its cities).
      const matches = (u: DigitUser) =>
        u.active && u.type === 'EMPLOYEE' && u.tenantId === criteria.tenantId && (!names || (u.name !== null && names.has(u.name))) && (!roles || u.roles.some((r) => roles.has(r.code) && tenantCovers(r.tenantId, criteria.tenantId)));
      const base = {
        tenantId: criteria.tenantId,
        // The user store reads only users on these tenants or below them.
        ...(scope.system ? {} : { tenantRoots: scope.tenants }),
        type: 'EMPLOYEE' as const,
        active: true,
        ...(roles ? { roleCodes: [...roles] } : {}),
        ...(criteria.uuids && criteria.uuids.length > 0 ? { uuids: criteria.uuids } : {}),
        ...(criteria.phone ? { mobileNumber: criteria.phone } : {}),
      };
      // The user module filters one user name (or name) per query: one query per code asked for.
      const queries = criteria.codes && criteria.codes.length > 0 ? criteria.codes.map((userName) => ({ ...base, userName })) : names && names.size === 1 ? [{ ...base, name: [...names][0] }] : [base];
      const found: DigitUser[] = [];
      const seen = new Set<string>();
      for (const query of queries) {
        for (let page = 0; found.length < offset + limit; page++) {
          const batch = await users.search(query, { pageSize: BATCH, pageNumber: page });
          for (const user of batch) {
            if (!seen.has(user.uuid) && matches(user)) {
              seen.add(user.uuid);
              found.push(user);
            }
          }
          if (batch.length < BATCH) break;
        }
      }
      // Paged by id, as the user search pages (names are ciphertext at rest), each page sorted by name.
      return found
        .sort((a, b) => a.id - b.id)
        .slice(offset, offset + limit)
        .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.id - b.id)
        .map(employeeOf);
    },
  };
}

export type HrmsService = ReturnType<typeof createHrmsService>;
