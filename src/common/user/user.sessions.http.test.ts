import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Issue #14 finding 8 and Build 5: sessions that end. */
let platform: TestPlatform;
let admin: Record<string, string>;
const sentOtps: Array<{ mobileNumber: string; code: string; purpose: string }> = [];
beforeAll(async () => {
  // Many logins and OTPs from one address: the per-address rate limits are not what is tested here.
  platform = await testPlatform({ otpSink: { send: async (m) => void sentOtps.push(m) }, config: { loginRateLimit: 10_000, otpRateLimit: 10_000 } });
  admin = await adminAuth(platform);
});
afterAll(() => platform.drop());

const PASSWORD = 'Clerk@123';
const bearer = (token: unknown) => ({ authorization: `Bearer ${String(token)}` });
const lastOtp = (identity: string) => [...sentOtps].reverse().find((m) => m.mobileNumber === identity)?.code;

async function employee(userName: string, mobileNumber: string) {
  const made = await post(
    platform,
    '/user/users/_createnovalidate',
    { RequestInfo: {}, user: { userName, name: `Employee ${userName}`, password: PASSWORD, type: 'EMPLOYEE', tenantId: 'pb.amritsar', mobileNumber, roles: [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }] } },
    admin,
  );
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  return (made.body['user'] as Json[])[0]!;
}

async function session(userName: string, password = PASSWORD) {
  const answer = await login(platform, userName, password, 'pb.amritsar');
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return { headers: bearer(answer.body['access_token']), refreshToken: String(answer.body['refresh_token']), accessToken: String(answer.body['access_token']) };
}

/** A call every employee may make: 200 while the token is good, 401 once it is not. */
const probe = (headers: Record<string, string>) => post(platform, '/user/v1/_search', { RequestInfo: {}, tenantId: 'pb.amritsar', userName: 'nobody' }, headers);
const refresh = (token: string) =>
  platform.app.inject({
    method: 'POST',
    url: '/user/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
  });
const validated = async (identity: string) => {
  const answer = await post(platform, '/otp/v1/_validate', { RequestInfo: {}, otp: { tenantId: 'pb', identity, otp: lastOtp(identity) } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return String((answer.body['otp'] as Json)['UUID']);
};

describe('sessions end (finding 8)', () => {
  it('logout revokes the refresh token of the session too', async () => {
    await employee('sess.logout', '9844400001');
    const s = await session('sess.logout');
    expect((await post(platform, '/user/_logout', { RequestInfo: {}, access_token: s.accessToken })).status).toBe(200);
    expect((await probe(s.headers)).status).toBe(401);
    expect((await refresh(s.refreshToken)).statusCode).toBe(400);
  });

  it('a password change ends every access token issued before it', async () => {
    await employee('sess.change', '9844400002');
    const one = await session('sess.change');
    const other = await session('sess.change');
    expect((await probe(other.headers)).status).toBe(200);
    const changed = await post(platform, '/user/password/_update', { RequestInfo: {}, existingPassword: PASSWORD, newPassword: 'Better@456', tenantId: 'pb.amritsar', type: 'EMPLOYEE' }, one.headers);
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect((await probe(other.headers)).status).toBe(401);
    expect((await probe(one.headers)).status).toBe(401);
    expect((await refresh(other.refreshToken)).statusCode).toBe(400);
    expect((await probe((await session('sess.change', 'Better@456')).headers)).status).toBe(200);
  });

  it('a password reset by OTP ends every access token issued before it', async () => {
    await employee('sess.reset', '9844400003');
    const old = await session('sess.reset');
    await post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: '9844400003', tenantId: 'pb', type: 'passwordreset', userType: 'EMPLOYEE' } });
    const otpReference = await validated('9844400003');
    const reset = await post(platform, '/user/password/nologin/_update', { RequestInfo: {}, otpReference, userName: 'sess.reset', newPassword: 'Reset@2026', tenantId: 'pb.amritsar', type: 'EMPLOYEE' });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect((await probe(old.headers)).status).toBe(401);
  });

  it('a deactivation ends the sessions for good, even when the account comes back', async () => {
    const user = await employee('sess.deactivate', '9844400004');
    const old = await session('sess.deactivate');
    const set = (active: boolean) => post(platform, '/user/users/_updatenovalidate', { RequestInfo: {}, user: { uuid: user['uuid'], active } }, admin);
    expect((await set(false)).status).toBe(200);
    expect((await probe(old.headers)).status).toBe(401);
    expect((await set(true)).status).toBe(200);
    expect((await probe(old.headers)).status).toBe(401);
    expect((await probe((await session('sess.deactivate')).headers)).status).toBe(200);
  });

  it('a replayed refresh token ends the access tokens issued before it, not only the family', async () => {
    await employee('sess.replay', '9844400005');
    const first = await session('sess.replay');
    const rotated = await refresh(first.refreshToken);
    expect(rotated.statusCode).toBe(200);
    const next = bearer((rotated.json() as Json)['access_token']);
    expect((await probe(next)).status).toBe(200);
    expect((await refresh(first.refreshToken)).statusCode).toBe(400); // the replay
    expect((await probe(next)).status).toBe(401);
    expect((await probe(first.headers)).status).toBe(401);
    expect((await probe((await session('sess.replay')).headers)).status).toBe(200);
  });
});

describe('self-service contact changes need an OTP to the new address', () => {
  it('refuses a new mobile number without one, and takes it with one', async () => {
    const user = await employee('sess.mobile', '9844400006');
    const own = await session('sess.mobile');
    const change = (extra: Json) => post(platform, '/user/profile/_update', { RequestInfo: {}, user: { uuid: user['uuid'], mobileNumber: '9844400106', ...extra } }, own.headers);
    const refused = await change({});
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ Errors: [{ code: 'INVALID_OTP_REFERENCE' }] });
    // An OTP proven for the OLD number does not do.
    await post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: '9844400006', tenantId: 'pb', type: 'passwordreset', userType: 'EMPLOYEE' } });
    expect((await change({ otpReference: await validated('9844400006') })).status).toBe(400);
    const [still] = await platform.users.service.search({ uuids: [user['uuid']] }, { pageSize: 1 });
    expect(still!.mobileNumber).toBe('9844400006');

    await post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: '9844400106', tenantId: 'pb', type: 'register', userType: 'EMPLOYEE' } });
    const accepted = await change({ otpReference: await validated('9844400106') });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect((accepted.body['user'] as Json[])[0]).toMatchObject({ mobileNumber: '9844400106' });
    // The same name and unchanged contacts need nothing.
    expect((await post(platform, '/user/profile/_update', { RequestInfo: {}, user: { uuid: user['uuid'], name: 'Renamed Self', mobileNumber: '9844400106' } }, own.headers)).status).toBe(200);
    expect((await post(platform, '/user/profile/_update', { RequestInfo: {}, user: { uuid: user['uuid'], emailId: 'new@example.org' } }, own.headers)).status).toBe(400);
  });
});

describe('refusals take the same time', () => {
  it('an inactive account costs a password check, like a wrong password', async () => {
    const user = await employee('sess.timing', '9844400007');
    expect((await post(platform, '/user/users/_updatenovalidate', { RequestInfo: {}, user: { uuid: user['uuid'], active: false } }, admin)).status).toBe(200);
    await employee('sess.timing2', '9844400008');
    const median = async (userName: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        expect((await login(platform, userName, 'Wrong@1234', 'pb.amritsar')).status).toBe(400);
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[2]!;
    };
    const wrong = await median('sess.timing2');
    const inactive = await median('sess.timing');
    expect(inactive).toBeGreaterThan(wrong * 0.5);
  });
});

describe('lockout and own mobile (finding 13)', () => {
  it('25 parallel wrong passwords: only the first five are checked, the account locks', async () => {
    const user = await employee('sess.race', '9844400009');
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => login(platform, 'sess.race', `Wrong@${1000 + i}`, 'pb.amritsar')));
    expect(answers.every((a) => a.status === 400)).toBe(true);
    const entries = await platform.audit.log.search({ tenantId: 'pb.amritsar', subject: user['uuid'], actions: ['user.login.failed'], offset: 0, limit: 100 });
    const checked = entries.filter((e) => (e.details as Json | null)?.['reason'] === 'wrong credentials');
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(entries.length).toBe(25);
    expect((await login(platform, 'sess.race', PASSWORD, 'pb.amritsar')).status).toBe(400); // locked
  });

  it('a citizen cannot change their own mobile number without an OTP to the new one', async () => {
    const mobile = '9844400010';
    await post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: mobile, tenantId: 'pb', type: 'register', userType: 'CITIZEN' } });
    const made = await post(platform, '/user/citizen/_create', { RequestInfo: {}, user: { name: 'Own Mobile', mobileNumber: mobile, tenantId: 'pb', otpReference: await validated(mobile) } });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    await post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: mobile, tenantId: 'pb', type: 'login', userType: 'CITIZEN' } });
    const own = bearer((await login(platform, mobile, lastOtp(mobile)!, 'pb', 'CITIZEN')).body['access_token']);
    const uuid = (made.body['user'] as Json[])[0]!['uuid'];
    const changed = await post(platform, '/user/profile/_update', { RequestInfo: {}, user: { uuid, mobileNumber: '9844400110' } }, own);
    expect(changed.status).toBe(400);
    const [still] = await platform.users.service.search({ uuids: [uuid] }, { pageSize: 1 });
    expect(still!.mobileNumber).toBe(mobile);
  });
});
