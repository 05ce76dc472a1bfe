import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, unknown>;
type Employee = { uuid: string; code: string; tenantId: string; isActive: boolean; user: Json & { roles: Json[] } };

const PASSWORD = 'Field@2026x';
let platform: TestPlatform;
let admin: Record<string, string>;
const uuids: Record<string, string> = {};
const auths: Record<string, Record<string, string>> = {};

async function person(userName: string, type: 'EMPLOYEE' | 'CITIZEN', roles: readonly string[], tenantId: string, mobileNumber: string) {
  const created = await post(platform, '/user/users/_createnovalidate', { RequestInfo: {}, user: { userName, name: `Name ${userName}`, password: PASSWORD, type, tenantId, mobileNumber, roles: roles.map((code) => ({ code, tenantId })) } }, admin);
  if (created.status !== 200) throw new Error(`creating ${userName}: ${JSON.stringify(created.body)}`);
  const { body } = await login(platform, userName, PASSWORD, tenantId, type);
  uuids[userName] = String((body['UserRequest'] as Json)['uuid']);
  auths[userName] = { authorization: `Bearer ${String(body['access_token'])}` };
}

const search = (query: Record<string, string>, auth = auths['hr_gro']!) =>
  post(platform, `/egov-hrms/employees/_search?${new URLSearchParams(query).toString()}`, { RequestInfo: requestInfo }, auth);
const codes = (body: Json) => (body['Employees'] as Employee[]).map((e) => e.code);

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  await person('hr_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], 'pb.jalandhar', '9811111111');
  await person('hr_lme_b', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], 'pb.jalandhar', '9822222222');
  await person('hr_lme_a', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], 'pb.jalandhar', '9822222223');
  await person('hr_lme_amr', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], 'pb.amritsar', '9822222224');
  await person('9844444444', 'CITIZEN', ['CITIZEN'], 'pb', '9844444444');
});
afterAll(() => platform.drop());

describe('employee search (/egov-hrms/employees/_search)', () => {
  it("answers a tenant's active employees holding a role, in DIGIT's Employee shape", async () => {
    const { status, body } = await search({ tenantId: 'pb.jalandhar', roles: 'PGR_LME' });
    expect(status, JSON.stringify(body)).toBe(200);
    // Sorted by name; not the GRO, not Amritsar's LME, not the citizen.
    expect(codes(body)).toEqual(['hr_lme_a', 'hr_lme_b']);
    const [first] = body['Employees'] as Employee[];
    expect(first).toMatchObject({ uuid: uuids['hr_lme_a'], tenantId: 'pb.jalandhar', isActive: true, employeeStatus: 'EMPLOYED', assignments: [], jurisdictions: [] });
    expect(first!.user).toMatchObject({ userName: 'hr_lme_a', name: 'Name hr_lme_a', mobileNumber: '9822222223', type: 'EMPLOYEE' });
    expect(first!.user['password']).toBeUndefined();
    expect(first!.user.roles.map((r) => r['code']).sort()).toEqual(['EMPLOYEE', 'PGR_LME']);
  });

  it('filters by codes, names, uuids and phone, and pages', async () => {
    expect(codes((await search({ tenantId: 'pb.jalandhar', roles: 'GRO,PGR_LME' })).body)).toEqual(['hr_gro', 'hr_lme_a', 'hr_lme_b']);
    expect(codes((await search({ tenantId: 'pb.jalandhar', codes: 'hr_lme_b,hr_gro' })).body)).toEqual(['hr_gro', 'hr_lme_b']);
    expect(codes((await search({ tenantId: 'pb.jalandhar', names: 'Name hr_lme_b' })).body)).toEqual(['hr_lme_b']);
    expect(codes((await search({ tenantId: 'pb.jalandhar', uuids: uuids['hr_lme_a']! })).body)).toEqual(['hr_lme_a']);
    expect(codes((await search({ tenantId: 'pb.jalandhar', phone: '9822222222' })).body)).toEqual(['hr_lme_b']);
    // Pages follow the users' ids (names are ciphertext at rest; DIGIT's HRMS pages by uuid, not name): hr_lme_b came first.
    expect(codes((await search({ tenantId: 'pb.jalandhar', roles: 'PGR_LME', limit: '1', offset: '0' })).body)).toEqual(['hr_lme_b']);
    expect(codes((await search({ tenantId: 'pb.jalandhar', roles: 'PGR_LME', limit: '1', offset: '1' })).body)).toEqual(['hr_lme_a']);
    expect(codes((await search({ tenantId: 'pb.jalandhar', codes: 'hr_lme_amr' })).body)).toEqual([]);
    expect(codes((await search({ tenantId: 'pb.jalandhar', codes: 'hr_lme_a', isActive: 'false' })).body)).toEqual([]);
  });

  it('refuses bad input with 400 in DIGIT shape', async () => {
    const bad: Record<string, string>[] = [{}, { tenantId: 'pb.atlantis' }, { tenantId: 'pb.jalandhar', limit: '0' }, { tenantId: 'pb.jalandhar', limit: '1000' }, { tenantId: 'pb.jalandhar', roles: "GRO'--" }, { tenantId: 'pb.jalandhar', phone: 'abc' }];
    for (const query of bad) {
      const { status, body } = await search(query, admin);
      expect(status, JSON.stringify(query)).toBe(400);
      expect(isDigitError(body)).toBe(true);
    }
  });

  it('is for signed-in callers of the tenant; citizens get no contact details', async () => {
    expect((await search({ tenantId: 'pb.jalandhar' }, {})).status).toBe(401);
    expect((await search({ tenantId: 'pb.amritsar' })).status).toBe(403);
    const asCitizen = await search({ tenantId: 'pb.jalandhar', roles: 'PGR_LME' }, auths['9844444444']);
    expect(asCitizen.status).toBe(200);
    expect((asCitizen.body['Employees'] as Employee[]).map((e) => e.user['mobileNumber'])).toEqual([null, null]);
  });
});
