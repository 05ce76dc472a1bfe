import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import type { RoleGrant, UserInfo } from '../../kernel/auth.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { createGrantPolicy, type GrantPolicy } from './access.grants.js';

/** The seeded policy (seed/mdms/ACCESSCONTROL-ROLES.rolegrants.json), read through MDMS. */
let platform: TestPlatform;
let policy: GrantPolicy;
beforeAll(async () => {
  platform = await testPlatform();
  policy = createGrantPolicy({ mdms: platform.mdms.service, changes: platform.changes });
});
afterAll(async () => {
  policy.close();
  await platform.drop();
});

const r = (code: string, tenantId: string): RoleGrant => ({ code, tenantId });
const caller = (...roles: RoleGrant[]): UserInfo => ({
  id: 1, uuid: 'caller', userName: 'caller', name: null, mobileNumber: null, emailId: null, type: 'EMPLOYEE', tenantId: roles[0]!.tenantId, roles,
});
const employee = (tenantId: string, ...codes: string[]) => ({ tenantId, type: 'EMPLOYEE', roles: codes.map((c) => r(c, tenantId)) });
const may = async (who: UserInfo, target: Parameters<GrantPolicy['refusal']>[1]) => (await policy.refusal(who, target)) === undefined;

const ADMIN_AND_INTERNAL = ['SUPERUSER', 'STADMIN', 'MDMS_ADMIN', 'LOC_ADMIN', 'HRMS_ADMIN', 'EMPLOYEE_ADMIN', 'PGR-ADMIN', 'INTERNAL_MICROSERVICE_ROLE', 'SYSTEM', 'REINDEXING_ROLE', 'AUTO_ESCALATE'];

describe('the role-grant policy', () => {
  it('SUPERUSER grants any role within its tenant, nothing outside it', async () => {
    const city = caller(r('SUPERUSER', 'pb.amritsar'), r('EMPLOYEE', 'pb.amritsar'));
    expect(await may(city, employee('pb.amritsar', 'SUPERUSER', 'MDMS_ADMIN', 'GRO'))).toBe(true);
    expect(await may(city, employee('pb.jalandhar', 'EMPLOYEE'))).toBe(false);
    expect(await may(city, employee('pb', 'EMPLOYEE'))).toBe(false);
    // The record on its city, one role on the state: refused.
    expect(await may(city, { tenantId: 'pb.amritsar', type: 'EMPLOYEE', roles: [r('EMPLOYEE', 'pb.amritsar'), r('GRO', 'pb')] })).toBe(false);
    const state = caller(r('SUPERUSER', 'pb'));
    expect(await may(state, employee('pb.jalandhar', 'SUPERUSER', 'INTERNAL_MICROSERVICE_ROLE'))).toBe(true);
    expect(await may(state, { tenantId: 'pb', type: 'CITIZEN', roles: [r('CITIZEN', 'pb')] })).toBe(true);
  });

  it('HRMS_ADMIN grants employee roles but no administrator or internal role, and only to employees', async () => {
    const hr = caller(r('HRMS_ADMIN', 'pb.amritsar'), r('EMPLOYEE', 'pb.amritsar'));
    expect(await may(hr, employee('pb.amritsar', 'EMPLOYEE', 'GRO', 'CSR', 'PGR_LME'))).toBe(true);
    for (const code of ADMIN_AND_INTERNAL) expect(await may(hr, employee('pb.amritsar', 'EMPLOYEE', code)), code).toBe(false);
    expect(await may(hr, employee('pb.jalandhar', 'EMPLOYEE'))).toBe(false);
    expect(await may(hr, { tenantId: 'pb', type: 'CITIZEN', roles: [r('CITIZEN', 'pb')] })).toBe(false);
  });

  it('CSR creates citizens (at the state) and nothing else', async () => {
    const csr = caller(r('CSR', 'pb.amritsar'), r('EMPLOYEE', 'pb.amritsar'));
    expect(await may(csr, { tenantId: 'pb', type: 'CITIZEN', roles: [r('CITIZEN', 'pb')] })).toBe(true);
    for (const code of ['EMPLOYEE', 'GRO', ...ADMIN_AND_INTERNAL]) expect(await may(csr, employee('pb.amritsar', code)), code).toBe(false);
    // Not a citizen of another state, not an employee record carrying only CITIZEN.
    expect(await may(csr, { tenantId: 'xx', type: 'CITIZEN', roles: [r('CITIZEN', 'xx')] })).toBe(false);
    expect(await may(csr, { tenantId: 'pb.amritsar', type: 'EMPLOYEE', roles: [r('CITIZEN', 'pb.amritsar')] })).toBe(false);
  });

  it('roles without a rule grant nothing; a policy change in MDMS applies at once', async () => {
    const gro = caller(r('GRO', 'pb.amritsar'), r('EMPLOYEE', 'pb.amritsar'), r('MDMS_ADMIN', 'pb.amritsar'));
    expect(await may(gro, employee('pb.amritsar', 'EMPLOYEE'))).toBe(false);
    await platform.mdms.service.createData(
      'ACCESSCONTROL-ROLES.rolegrants',
      { tenantId: 'pb', schemaCode: 'ACCESSCONTROL-ROLES.rolegrants', data: { granterRole: 'GRO', roles: ['PGR_LME'], userTypes: ['EMPLOYEE'] }, isActive: true },
      { uuid: null }, SYSTEM_SCOPE,
    );
    expect(await may(gro, employee('pb.amritsar', 'PGR_LME'))).toBe(true);
    expect(await may(gro, employee('pb.amritsar', 'PGR_LME', 'EMPLOYEE'))).toBe(false);
  });
});
