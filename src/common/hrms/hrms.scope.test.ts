import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, post, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { scopeFor, SYSTEM_SCOPE } from '../../kernel/scope.js';
import { createHrmsService } from './hrms.service.js';

// Issue #14 Build 1: employee search reads only users on tenants inside the caller's Scope. The
// kernel refuses requests naming a tenant outside it; this test calls the service directly, so the
// user store's scope filter must hold on its own. (HRMS has no writes in Plinth.)

let platform: TestPlatform;
let hrms: ReturnType<typeof createHrmsService>;

beforeAll(async () => {
  platform = await testPlatform();
  hrms = createHrmsService({ users: platform.users.service, tenants: platform.mdms.service.tenants });
  const admin = await adminAuth(platform);
  for (const [userName, tenantId] of [
    ['scope_hr_jal', 'pb.jalandhar'],
    ['scope_hr_amr', 'pb.amritsar'],
  ] as const) {
    const created = await post(
      platform,
      '/user/users/_createnovalidate',
      {
        RequestInfo: {},
        user: {
          userName,
          name: `Scope ${userName}`,
          password: 'Scope@2026x',
          type: 'EMPLOYEE',
          tenantId,
          mobileNumber: '9812345678',
          roles: [{ code: 'EMPLOYEE', tenantId }],
        },
      },
      admin,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
  }
});
afterAll(() => platform.drop());

const codes = (employees: ReadonlyArray<{ code: string }>) => employees.map((e) => e.code);

describe('employee search reads only users inside the scope', () => {
  it("finds a city's employees inside its scope or the state's, never from another city's", async () => {
    const jalandhar = { tenantId: 'pb.jalandhar', codes: ['scope_hr_jal'] };
    expect(codes(await hrms.search(jalandhar, scopeFor(null, ['pb.jalandhar'])))).toEqual(['scope_hr_jal']);
    expect(codes(await hrms.search(jalandhar, scopeFor(null, ['pb'])))).toEqual(['scope_hr_jal']);
    expect(codes(await hrms.search(jalandhar, SYSTEM_SCOPE))).toEqual(['scope_hr_jal']);
    expect(await hrms.search(jalandhar, scopeFor(null, ['pb.amritsar']))).toEqual([]);
    expect(await hrms.search({ tenantId: 'pb.jalandhar' }, scopeFor(null, ['pb.amritsar']))).toEqual([]);
    expect(await hrms.search(jalandhar, scopeFor(null, []))).toEqual([]);
    expect(codes(await hrms.search({ tenantId: 'pb.amritsar', codes: ['scope_hr_amr'] }, scopeFor(null, ['pb.amritsar'])))).toEqual([
      'scope_hr_amr',
    ]);
  });
});
