import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Issue #14, the user module's part: who may grant what, on the stored user, by scope. */
let platform: TestPlatform;
let admin: Record<string, string>;
const sentOtps: Array<{ mobileNumber: string; code: string; purpose: string }> = [];
beforeAll(async () => {
  platform = await testPlatform({ otpSink: { send: async (m) => void sentOtps.push(m) } });
  admin = await adminAuth(platform);
});
afterAll(() => platform.drop());

const PASSWORD = 'Clerk@123';
const bearer = (token: unknown) => ({ authorization: `Bearer ${String(token)}` });
const roles = (tenantId: string, ...codes: string[]) => codes.map((code) => ({ code, tenantId }));
const create = (user: Json, headers: Record<string, string>) => post(platform, '/user/users/_createnovalidate', { RequestInfo: {}, user }, headers);
const update = (user: Json, headers: Record<string, string>) => post(platform, '/user/users/_updatenovalidate', { RequestInfo: {}, user }, headers);
const employee = (userName: string, tenantId: string, codes: string[], mobileNumber = '9812345678') => ({
  userName, name: `Employee ${userName}`, password: PASSWORD, type: 'EMPLOYEE', tenantId, mobileNumber, roles: roles(tenantId, 'EMPLOYEE', ...codes),
});

/** Creates an employee as the state admin and logs it in. */
async function staff(userName: string, tenantId: string, codes: string[]) {
  const made = await create(employee(userName, tenantId, codes), admin);
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  const session = await login(platform, userName, PASSWORD, tenantId);
  expect(session.status).toBe(200);
  return { user: (made.body['user'] as Json[])[0]!, headers: bearer(session.body['access_token']) };
}

async function stored(uuid: string): Promise<Json> {
  const [user] = await platform.users.service.search({ uuids: [uuid] }, { pageSize: 1 });
  return user as Json;
}

async function audited(subject: string, tenantId: string) {
  return platform.audit.log.search({ tenantId, subject, offset: 0, limit: 100 });
}

describe('who may grant what (finding 2)', () => {
  it('a CSR creates citizens, and no employee, administrator or internal role', async () => {
    const csr = await staff('grant.csr', 'pb.amritsar', ['CSR']);
    for (const code of ['INTERNAL_MICROSERVICE_ROLE', 'MDMS_ADMIN', 'LOC_ADMIN', 'HRMS_ADMIN', 'SUPERUSER', 'GRO']) {
      const refused = await create(employee(`csr.made.${code.toLowerCase()}`, 'pb.amritsar', [code]), csr.headers);
      expect(refused.status, code).toBe(403);
      expect(refused.body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'ROLE_GRANT_NOT_ALLOWED' }] });
    }
    // A plain EMPLOYEE is not the CSR's to make either.
    expect((await create({ ...employee('csr.made.employee', 'pb.amritsar', []) }, csr.headers)).status).toBe(403);
    const none = await platform.users.service.search({ tenantId: 'pb.amritsar', userName: 'csr.made.mdms_admin' }, { pageSize: 1 });
    expect(none).toEqual([]);
    // The refusal is in the audit log, naming what was refused.
    const refusals = await platform.audit.log.search({ tenantId: 'pb.amritsar', actorUuid: csr.user['uuid'], actions: ['role.changed'], offset: 0, limit: 100 });
    expect(refusals.filter((e) => e.outcome === 'failure').length).toBeGreaterThanOrEqual(7);

    // Citizens live at the state tenant, outside a city CSR's tenant: the kernel refuses the route
    // there (the policy would allow it: see access.grants.test.ts); complaints register them instead.
    const citizen = await create({ userName: '9800000001', name: 'Walk In', mobileNumber: '9800000001', type: 'CITIZEN', tenantId: 'pb', roles: roles('pb', 'CITIZEN') }, csr.headers);
    expect(citizen.status).toBe(403);
  });

  it('a city SUPERUSER grants anything in its city and nothing outside it', async () => {
    const city = await staff('grant.citysu', 'pb.amritsar', ['SUPERUSER']);
    expect((await create(employee('citysu.made.1', 'pb.amritsar', ['MDMS_ADMIN', 'SUPERUSER']), city.headers)).status).toBe(200);
    expect((await create(employee('citysu.made.2', 'pb.jalandhar', ['GRO']), city.headers)).status).toBe(403);
    // Record in the city, a role on the state: refused.
    const mixed = { ...employee('citysu.made.3', 'pb.amritsar', []), roles: [...roles('pb.amritsar', 'EMPLOYEE'), ...roles('pb', 'GRO')] };
    expect((await create(mixed, city.headers)).status).toBe(403);
  });
});

describe('updates check the stored user (finding 3)', () => {
  it("a city SUPERUSER cannot rename a Jalandhar employee nor change the state admin's mobile, whatever the body says", async () => {
    const city = await staff('upd.citysu', 'pb.amritsar', ['SUPERUSER']);
    const jalandhar = (await staff('upd.jalandhar', 'pb.jalandhar', ['GRO'])).user;
    const [stateAdmin] = (await post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb', userName: 'admin' }, admin)).body['user'] as Json[];

    for (const body of [
      { uuid: jalandhar['uuid'], name: 'Renamed' },
      { uuid: jalandhar['uuid'], name: 'Renamed', tenantId: 'pb.amritsar' },
      { id: jalandhar['id'], name: 'Renamed', tenantId: 'pb.amritsar', roles: roles('pb.amritsar', 'EMPLOYEE') },
    ]) {
      const refused = await update(body, city.headers);
      expect(refused.status, JSON.stringify(body)).toBe(403);
    }
    expect((await stored(jalandhar['uuid']))['name']).toBe('Employee upd.jalandhar');

    const mobile = await update({ uuid: stateAdmin!['uuid'], mobileNumber: '9899999999', tenantId: 'pb.amritsar' }, city.headers);
    expect(mobile.status).toBe(403);
    expect((await stored(stateAdmin!['uuid']))['mobileNumber']).toBeNull();

    // Its own city's employee: allowed, and the role change is audited with before and after.
    const own = (await staff('upd.amritsar', 'pb.amritsar', ['GRO'])).user;
    const renamed = await update({ uuid: own['uuid'], name: 'Renamed Amritsar', roles: roles('pb.amritsar', 'EMPLOYEE', 'DGRO') }, city.headers);
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    const change = (await audited(own['uuid'], 'pb.amritsar')).find((e) => e.action === 'role.changed' && e.outcome === 'success');
    expect(change?.details).toMatchObject({ before: ['EMPLOYEE@pb.amritsar', 'GRO@pb.amritsar'], roles: ['EMPLOYEE@pb.amritsar', 'DGRO@pb.amritsar'] });
  });

  it('a city SUPERUSER cannot change a user of its city who holds a role outside it (a state role)', async () => {
    const city = await staff('upd.citysu2', 'pb.amritsar', ['SUPERUSER']);
    const made = await create({ ...employee('upd.statewide', 'pb.amritsar', []), roles: [...roles('pb.amritsar', 'EMPLOYEE'), ...roles('pb', 'SUPERUSER')] }, admin);
    expect(made.status).toBe(200);
    const target = (made.body['user'] as Json[])[0]!;
    expect((await update({ uuid: target['uuid'], mobileNumber: '9811111111' }, city.headers)).status).toBe(403);
    expect((await update({ uuid: target['uuid'], roles: roles('pb.amritsar', 'EMPLOYEE') }, city.headers)).status).toBe(403);
    expect((await stored(target['uuid']))['roles']).toHaveLength(2);
  });
});

const lastOtp = (mobileNumber: string) => [...sentOtps].reverse().find((m) => m.mobileNumber === mobileNumber)?.code;

/** Registers a citizen by OTP, as the citizen app does, and logs them in by OTP. */
async function citizen(mobileNumber: string, name: string) {
  const send = (type: string) => post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber, tenantId: 'pb', type, userType: 'CITIZEN' } });
  await send('register');
  const validated = await post(platform, '/otp/v1/_validate', { RequestInfo: {}, otp: { tenantId: 'pb', identity: mobileNumber, otp: lastOtp(mobileNumber) } });
  const otpReference = (validated.body['otp'] as Json)['UUID'];
  const made = await post(platform, '/user/citizen/_create', { RequestInfo: {}, user: { name, mobileNumber, tenantId: 'pb', otpReference } });
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  await send('login');
  const session = await login(platform, mobileNumber, lastOtp(mobileNumber)!, 'pb', 'CITIZEN');
  expect(session.status).toBe(200);
  return { user: (made.body['user'] as Json[])[0]!, headers: bearer(session.body['access_token']) };
}

const search = (body: Json, headers: Record<string, string>, url = '/user/v1/_search') => post(platform, url, { RequestInfo: {}, ...body }, headers);
const found = (response: { body: Json }) => (response.body['user'] as Json[] | undefined) ?? [];

describe('user search: citizens see themselves, employees their scope, masked by policy (finding 4)', () => {
  it('a citizen finds only their own record, whatever they ask for', async () => {
    const asha = await citizen('9811100001', 'Asha Search');
    const ravi = await citizen('9811100002', 'Ravi Search');
    for (const body of [
      { tenantId: 'pb', pageSize: 500 },
      { tenantId: ['pb'], pageSize: 500 },
      { tenantId: 'pb.amritsar', userType: 'EMPLOYEE' },
      { mobileNumber: '9811100002' },
      { uuid: [ravi.user['uuid'], asha.user['uuid']] },
      { tenantId: 'pb', roleCodes: ['SUPERUSER'] },
    ]) {
      const answer = await search(body, asha.headers);
      expect(answer.status, JSON.stringify(body)).toBe(200);
      expect(found(answer).map((u) => u['uuid']).filter((u) => u !== asha.user['uuid']), JSON.stringify(body)).toEqual([]);
    }
    const own = found(await search({ tenantId: 'pb' }, asha.headers));
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ uuid: asha.user['uuid'], mobileNumber: '9811100001', name: 'Asha Search' }); // their own, in the clear
  });

  it('an employee searches only the tenants of their scope, and sees contact details masked unless their role may see them', async () => {
    const gro = await staff('search.gro', 'pb.amritsar', ['GRO']);
    const made = await create({ ...employee('search.target', 'pb.amritsar', ['PGR_LME'], '9822200001'), emailId: 'target@example.org', aadhaarNumber: '123456789012', pan: 'ABCDE1234F' }, admin);
    expect(made.status).toBe(200);
    await staff('search.jalandhar', 'pb.jalandhar', ['GRO']);

    for (const tenantId of ['pb', ['pb'], 'pb.jalandhar', ['pb.jalandhar']]) {
      const refused = await search({ tenantId, pageSize: 500 }, gro.headers);
      expect(refused.status, JSON.stringify(tenantId)).toBe(403);
      expect(refused.body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'CustomException' }] });
    }
    // No tenant named: only users of the scope come back.
    expect(found(await search({ userName: 'search.jalandhar' }, gro.headers))).toEqual([]);
    expect(found(await search({ mobileNumber: '9811100001' }, gro.headers))).toEqual([]); // a citizen, at the state
    const city = found(await search({ tenantId: 'pb.amritsar', pageSize: 500 }, gro.headers));
    expect(city.length).toBeGreaterThan(1);
    expect(city.every((u) => u['tenantId'] === 'pb.amritsar')).toBe(true);

    const [target] = found(await search({ tenantId: 'pb.amritsar', userName: 'search.target' }, gro.headers));
    expect(target).toMatchObject({ name: 'Employee search.target' });
    expect(target!['mobileNumber']).toBe('******0001');
    expect(target!['aadhaarNumber']).toBe('********9012');
    expect(target!['pan']).toBe('******234F');
    expect(target!['emailId']).not.toContain('target@example.org');
    expect(JSON.stringify(target)).not.toContain('9822200001');

    // The state SUPERUSER may see them.
    const [plain] = found(await search({ tenantId: 'pb.amritsar', userName: 'search.target' }, admin));
    expect(plain).toMatchObject({ mobileNumber: '9822200001', aadhaarNumber: '123456789012', emailId: 'target@example.org' });
  });
});

describe('the CSR → state administrator chain of issue #14', () => {
  it('is refused at every step', async () => {
    const csr = await staff('chain.csr', 'pb.amritsar', ['CSR']);
    const attacker = '9833300001';
    const [stateAdmin] = found(await search({ tenantId: 'pb', userName: 'admin' }, admin, '/user/_search'));

    // 1. A user with internal or administrator roles, in any tenant shape.
    for (const code of ['INTERNAL_MICROSERVICE_ROLE', 'MDMS_ADMIN', 'LOC_ADMIN', 'HRMS_ADMIN']) {
      for (const tenantId of ['pb.amritsar', ['pb.amritsar']]) {
        const user = { ...employee(`chain.${code.toLowerCase()}`, 'pb.amritsar', [code], attacker), tenantId };
        expect((await create(user, csr.headers)).status, `${code} ${JSON.stringify(tenantId)}`).toBe(403);
      }
    }
    // 2. Users of the state or another city, the tenant sent as an array.
    for (const tenantId of [['pb'], ['pb.jalandhar'], 'pb']) {
      expect((await search({ tenantId, pageSize: 500 }, csr.headers)).status, JSON.stringify(tenantId)).toBe(403);
    }
    // 3. The state admin's mobile, whatever tenant the body claims.
    for (const tenantId of [undefined, 'pb.amritsar', ['pb.amritsar']]) {
      const changed = await update({ uuid: stateAdmin!['uuid'], mobileNumber: attacker, ...(tenantId ? { tenantId } : {}) }, csr.headers);
      expect(changed.status, JSON.stringify(tenantId)).toBe(403);
    }
    expect((await stored(stateAdmin!['uuid']))['mobileNumber']).toBeNull();
    // 4. So no password-reset OTP for `admin` reaches the attacker's phone, and a made-up reference fails.
    await post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: attacker, tenantId: 'pb', type: 'passwordreset', userType: 'EMPLOYEE' } });
    expect(lastOtp(attacker)).toBeUndefined();
    const reset = await post(platform, '/user/password/nologin/_update', { RequestInfo: {}, otpReference: 'made-up', userName: 'admin', newPassword: 'Taken@2026', tenantId: 'pb', type: 'EMPLOYEE' });
    expect(reset.status).toBe(400);
    expect((await login(platform, 'admin', 'Taken@2026', 'pb')).status).toBe(400);
  });
});
