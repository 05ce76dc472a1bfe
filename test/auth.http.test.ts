import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, adminAuth, login, post, testPlatform, type TestPlatform } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let now = Date.now();
const clock = { now: () => now };
const sentOtps: Array<{ mobileNumber: string; code: string; purpose: string }> = [];
let platform: TestPlatform;
let admin: Record<string, string>;

beforeAll(async () => {
  platform = await testPlatform({ clock, otpSink: { send: async (m) => void sentOtps.push(m) } });
  admin = await adminAuth(platform);
});
afterAll(async () => {
  await platform.drop();
});

const bearer = (token: unknown) => ({ authorization: `Bearer ${String(token)}` });
const lastOtp = (mobileNumber: string) => [...sentOtps].reverse().find((m) => m.mobileNumber === mobileNumber)?.code;
const department = (code: string, tenantId: string, headers: Record<string, string>) =>
  post(platform, '/mdms-v2/v2/_create/common-masters.Department', { RequestInfo: {}, Mdms: { tenantId, data: { code, name: `Department ${code}`, active: true } } }, headers);

async function createEmployee(userName: string, roles: Array<{ code: string; tenantId: string }>, tenantId = 'pb.amritsar') {
  const response = await post(
    platform,
    '/user/users/_createnovalidate',
    { RequestInfo: {}, user: { userName, name: `Employee ${userName}`, password: 'Clerk@123', type: 'EMPLOYEE', tenantId, mobileNumber: '9812345678', roles } },
    admin,
  );
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return (response.body['user'] as Json[])[0]!;
}

async function auditActions(subject: string): Promise<string[]> {
  const entries = await platform.audit.log.search({ tenantId: 'pb.amritsar', subject, offset: 0, limit: 100 });
  return entries.map((e) => e.action);
}

describe('the walk-through', () => {
  it('superuser creates a city employee who can act on its city, not another, and not after logout', async () => {
    const employee = await createEmployee('clerk.amritsar', [
      { code: 'EMPLOYEE', tenantId: 'pb.amritsar' },
      { code: 'MDMS_ADMIN', tenantId: 'pb.amritsar' },
    ]);
    expect(employee).toMatchObject({ userName: 'clerk.amritsar', type: 'EMPLOYEE', tenantId: 'pb.amritsar', active: true });
    expect(employee['password']).toBeUndefined();
    expect(JSON.stringify(employee)).not.toContain('argon2');

    const session = await login(platform, 'clerk.amritsar', 'Clerk@123', 'pb.amritsar');
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ token_type: 'bearer', scope: 'read', UserRequest: { userName: 'clerk.amritsar', type: 'EMPLOYEE' } });
    expect(String(session.body['access_token']).split('.')).toHaveLength(3); // a JWT
    const headers = bearer(session.body['access_token']);

    expect((await department('DEPT_AMR_1', 'pb.amritsar', headers)).status).toBe(202);
    const elsewhere = await department('DEPT_JAL_1', 'pb.jalandhar', headers);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'CustomException', message: 'Not authorized to access this resource' }] });
    // A state-level write is not the city's either.
    expect((await department('DEPT_PB_1', 'pb', headers)).status).toBe(403);

    const details = await platform.app.inject({ method: 'POST', url: `/user/_details?access_token=${String(session.body['access_token'])}` });
    expect(details.json()).toMatchObject({ userName: 'clerk.amritsar', roles: expect.arrayContaining([expect.objectContaining({ code: 'MDMS_ADMIN', tenantId: 'pb.amritsar' })]) });

    const logout = await post(platform, '/user/_logout', { RequestInfo: {}, access_token: session.body['access_token'] });
    expect(logout.status).toBe(200);
    expect((await department('DEPT_AMR_2', 'pb.amritsar', headers)).status).toBe(401);
    expect(await auditActions(employee['uuid'])).toEqual(expect.arrayContaining(['user.created', 'user.login', 'user.logout']));
  });

  it('a citizen registers and logs in with one-time passwords, each usable once', async () => {
    const mobile = '9876543210';
    const send = (type: string) => post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: mobile, tenantId: 'pb.amritsar', type, userType: 'CITIZEN' } });
    expect((await send('register')).body).toMatchObject({ isSuccessful: true });
    const registerCode = lastOtp(mobile)!;
    expect(registerCode).toMatch(/^\d{6}$/);
    // The mobile number is not stored: the OTP row holds a keyed blind index of it (#14 Build 4).
    const identities = await platform.database.kysely.withTables<{ user_otps: { identity: string } }>().selectFrom('user_otps').select('identity').execute();
    expect(identities.length).toBeGreaterThan(0);
    expect(identities.filter((r) => r.identity.includes(mobile))).toEqual([]);
    const validated = await post(platform, '/otp/v1/_validate', { RequestInfo: {}, otp: { tenantId: 'pb', identity: mobile, otp: registerCode } });
    expect(validated.status).toBe(200);
    const reference = (validated.body['otp'] as Json)['UUID'];

    const citizen = await post(platform, '/user/citizen/_create', { RequestInfo: {}, user: { name: 'Asha Devi', mobileNumber: mobile, tenantId: 'pb.amritsar', otpReference: reference } });
    expect(citizen.status, JSON.stringify(citizen.body)).toBe(200);
    expect((citizen.body['user'] as Json[])[0]).toMatchObject({ userName: mobile, type: 'CITIZEN', tenantId: 'pb', roles: [{ code: 'CITIZEN', tenantId: 'pb' }] });
    // The reference is spent.
    const again = await post(platform, '/user/citizen/_create', { RequestInfo: {}, user: { name: 'Someone', mobileNumber: mobile, tenantId: 'pb', otpReference: reference } });
    expect(again.status).toBe(400);

    expect((await send('login')).status).toBe(200);
    const loginCode = lastOtp(mobile)!;
    const wrong = await login(platform, mobile, loginCode === '000000' ? '111111' : '000000', 'pb', 'CITIZEN');
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'Invalid login credentials' } });
    const session = await login(platform, mobile, loginCode, 'pb.amritsar', 'CITIZEN');
    expect(session.status).toBe(200);
    expect(session.body['UserRequest']).toMatchObject({ type: 'CITIZEN', mobileNumber: mobile });
    expect((await login(platform, mobile, loginCode, 'pb', 'CITIZEN')).status).toBe(400); // single use

    // OTPs expire.
    await send('login');
    const late = lastOtp(mobile)!;
    now += 6 * 60_000;
    expect((await login(platform, mobile, late, 'pb', 'CITIZEN')).status).toBe(400);
  });

  it('five wrong passwords lock the account; the right one is then refused alike; it unlocks after the cool-down', async () => {
    const employee = await createEmployee('clerk.locked', [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }]);
    for (let i = 0; i < 5; i++) {
      const attempt = await login(platform, 'clerk.locked', `Wrong@${i}23`, 'pb.amritsar');
      expect(attempt).toMatchObject({ status: 400, body: { error_description: 'Invalid login credentials' } });
    }
    const locked = await login(platform, 'clerk.locked', 'Clerk@123', 'pb.amritsar');
    expect(locked).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'Invalid login credentials' } });
    const unknown = await login(platform, 'no.such.user', 'Clerk@123', 'pb.amritsar');
    expect(unknown.body).toEqual(locked.body); // nothing tells the caller why
    const actions = await auditActions(employee['uuid']);
    expect(actions.filter((a) => a === 'user.login.failed').length).toBeGreaterThanOrEqual(6);
    expect(actions).toContain('user.locked');

    now += 61 * 60_000;
    expect((await login(platform, 'clerk.locked', 'Clerk@123', 'pb.amritsar')).status).toBe(200);
  });
});

describe('tokens', () => {
  it('refresh tokens rotate, and replaying a used one revokes the family', async () => {
    const first = await login(platform, 'admin', ADMIN_PASSWORD, 'pb');
    const refresh = (token: unknown) =>
      platform.app.inject({
        method: 'POST',
        url: '/user/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: String(token) }).toString(),
      });
    const second = await refresh(first.body['refresh_token']);
    expect(second.statusCode).toBe(200);
    const next = second.json() as Json;
    expect(next['refresh_token']).not.toBe(first.body['refresh_token']);
    expect((await refresh(first.body['refresh_token'])).statusCode).toBe(400); // replay
    expect((await refresh(next['refresh_token'])).statusCode).toBe(400); // family revoked
  });

  it('expired and malformed tokens get 401; the signing keys are published', async () => {
    const session = await login(platform, 'admin', ADMIN_PASSWORD, 'pb');
    const headers = bearer(session.body['access_token']);
    const search = () => post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb', userName: 'admin' }, headers);
    expect((await search()).status).toBe(200);
    for (const bad of ['not-a-token', `${String(session.body['access_token'])}x`, 'a.b.c']) {
      expect((await post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb' }, bearer(bad))).status).toBe(401);
    }
    // The token may also come as DIGIT's auth-token header or in RequestInfo.
    expect((await post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb', userName: 'admin' }, { 'auth-token': String(session.body['access_token']) })).status).toBe(200);
    expect((await post(platform, '/user/_search', { RequestInfo: { authToken: session.body['access_token'] }, tenantId: 'pb', userName: 'admin' })).status).toBe(200);

    now += 9 * 60 * 60_000; // past the 8-hour lifetime
    expect((await search()).status).toBe(401);

    const jwks = (await platform.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as Json;
    expect(jwks['keys'][0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwks['keys'][0]['d']).toBeUndefined();
  });

  it('a client cannot claim to be someone through RequestInfo.userInfo on the public port', async () => {
    admin = await adminAuth(platform); // the clock moved past the first token's lifetime
    const [adminUser] = (await post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb', userName: 'admin' }, admin)).body['user'] as Json[];
    const claim = { RequestInfo: { userInfo: { uuid: adminUser!['uuid'], roles: [{ code: 'SUPERUSER', tenantId: 'pb' }] } }, tenantId: 'pb', userName: 'admin' };
    expect((await post(platform, '/user/_search', claim)).status).toBe(401);
  });
});

describe('users', () => {
  beforeAll(async () => {
    admin = await adminAuth(platform);
  });

  it('refuses a weak password, an unknown role, a duplicate user name and a grant beyond the caller', async () => {
    const create = (user: Json, headers = admin) => post(platform, '/user/users/_createnovalidate', { RequestInfo: {}, user }, headers);
    const base = { userName: 'clerk.rules', name: 'Rules', type: 'EMPLOYEE', tenantId: 'pb.amritsar', roles: [{ code: 'EMPLOYEE' }] };
    expect((await create({ ...base, password: 'weak' })).body['Errors']).toEqual([expect.objectContaining({ code: 'INVALID_PASSWORD' })]);
    expect((await create({ ...base, roles: [{ code: 'NO_SUCH_ROLE' }] })).body['Errors']).toEqual([expect.objectContaining({ code: 'INVALID_ROLE' })]);
    expect((await create({ ...base, mobileNumber: '12' })).body['Errors']).toEqual([expect.objectContaining({ code: 'INVALID_USER_FIELD' })]);
    expect((await create(base)).status).toBe(200);
    expect((await create(base)).body['Errors']).toEqual([expect.objectContaining({ code: 'DUPLICATE_USER_NAME' })]);

    // An employee administrator of one city cannot hand out SUPERUSER, nor roles in another city.
    await createEmployee('hr.amritsar', [
      { code: 'EMPLOYEE', tenantId: 'pb.amritsar' },
      { code: 'SUPERUSER', tenantId: 'pb.amritsar' },
    ]);
    const hr = bearer((await login(platform, 'hr.amritsar', 'Clerk@123', 'pb.amritsar')).body['access_token']);
    const other = await create({ ...base, userName: 'x1', tenantId: 'pb.jalandhar', roles: [{ code: 'EMPLOYEE', tenantId: 'pb.jalandhar' }] }, hr);
    expect(other.status).toBe(403);
  });

  it('updates a user and its roles, audited; profile updates only touch oneself', async () => {
    const user = await createEmployee('clerk.update', [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }]);
    const updated = await post(platform, '/user/users/_updatenovalidate', { RequestInfo: {}, user: { uuid: user['uuid'], name: 'Renamed Clerk', userName: 'ignored', roles: [{ code: 'GRO', tenantId: 'pb.amritsar' }] } }, admin);
    expect(updated.status).toBe(200);
    expect((updated.body['user'] as Json[])[0]).toMatchObject({ name: 'Renamed Clerk', userName: 'clerk.update', roles: [{ code: 'GRO', tenantId: 'pb.amritsar' }] });
    expect(await auditActions(user['uuid'])).toContain('role.changed');

    const own = bearer((await login(platform, 'clerk.update', 'Clerk@123', 'pb.amritsar')).body['access_token']);
    const [adminUser] = (await post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb', userName: 'admin' }, admin)).body['user'] as Json[];
    const meddle = await post(platform, '/user/profile/_update', { RequestInfo: {}, user: { uuid: adminUser!['uuid'], name: 'Hacked' } }, own);
    expect([403, 401]).toContain(meddle.status);
  });

  it('changes a password: the old one stops working', async () => {
    await createEmployee('clerk.pw', [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }]);
    const own = bearer((await login(platform, 'clerk.pw', 'Clerk@123', 'pb.amritsar')).body['access_token']);
    const changed = await post(platform, '/user/password/_update', { RequestInfo: {}, existingPassword: 'Clerk@123', newPassword: 'Better@456', tenantId: 'pb.amritsar', type: 'EMPLOYEE' }, own);
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect((await login(platform, 'clerk.pw', 'Clerk@123', 'pb.amritsar')).status).toBe(400);
    expect((await login(platform, 'clerk.pw', 'Better@456', 'pb.amritsar')).status).toBe(200);
  });
});

describe('lockout settings from the environment', () => {
  it('locks after PLINTH_LOCKOUT_MAX_FAILURES failures', async () => {
    const strict = await testPlatform({ config: { lockoutMaxFailures: 2 } });
    try {
      expect((await login(strict, 'admin', 'Wrong@1234', 'pb')).status).toBe(400);
      expect((await login(strict, 'admin', ADMIN_PASSWORD, 'pb')).status).toBe(200); // one failure: still open
      expect((await login(strict, 'admin', 'Wrong@1234', 'pb')).status).toBe(400);
      expect((await login(strict, 'admin', 'Wrong@1234', 'pb')).status).toBe(400);
      expect((await login(strict, 'admin', ADMIN_PASSWORD, 'pb')).status).toBe(400); // locked
    } finally {
      await strict.drop();
    }
  });
});

describe('sweeping expired credentials', () => {
  it('deletes expired OTPs, revocations and refresh tokens, and nothing still usable', async () => {
    const count = async (table: 'user_otps' | 'user_revoked_tokens' | 'user_refresh_tokens') =>
      Number(
        (await platform.database.kysely.withTables<Record<typeof table, { id: string }>>().selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0,
      );
    expect(await count('user_otps')).toBeGreaterThan(0);
    expect(await count('user_refresh_tokens')).toBeGreaterThan(0);
    now += 15 * 24 * 60 * 60_000; // past every OTP, access token and refresh token issued so far
    const fresh = await login(platform, 'admin', ADMIN_PASSWORD, 'pb');
    expect(fresh.status).toBe(200);
    expect(await platform.users.sweep()).toBeGreaterThan(0);
    expect(await count('user_otps')).toBe(0);
    expect(await count('user_revoked_tokens')).toBe(0);
    expect(await count('user_refresh_tokens')).toBe(1); // only the fresh one
    const search = await post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb', userName: 'admin' }, bearer(fresh.body['access_token']));
    expect(search.status).toBe(200);
  });
});
