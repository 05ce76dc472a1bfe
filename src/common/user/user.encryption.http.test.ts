import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { isCipherText } from '../encryption/index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Issue #14 Build 4, users: the identity columns and the profile's personal fields are ciphertext at rest. */
let platform: TestPlatform;
let admin: Record<string, string>;
const sentOtps: Array<{ mobileNumber: string; code: string }> = [];
beforeAll(async () => {
  platform = await testPlatform({ otpSink: { send: async (m) => void sentOtps.push(m) } });
  admin = await adminAuth(platform);
});
afterAll(() => platform.drop());

const SECRETS = { aadhaarNumber: '555566667777', pan: 'PQRSX9876K', permanentAddress: 'House 12 Marker Lane', fatherOrHusbandName: 'Markerfather Singh' };

const IDENTITY = ['user_name', 'name', 'mobile_number', 'email_id'] as const;
type Raw = { profile: unknown; key_id: string | null } & Record<(typeof IDENTITY)[number], string | null>;
const raw = async (uuid: string): Promise<Raw> =>
  (await sql<Raw>`select profile, key_id, user_name, name, mobile_number, email_id from users where uuid = ${uuid}`.execute(platform.database.kysely)).rows[0]!;
const profileText = (row: Raw) => (typeof row.profile === 'string' ? row.profile : JSON.stringify(row.profile));
const asAdmin = async (uuid: string) => ((await post(platform, '/user/_search', { RequestInfo: {}, uuid: [uuid], tenantId: 'pb.amritsar' }, admin)).body['user'] as Json[])[0]!;

async function employee(userName: string) {
  const made = await post(
    platform,
    '/user/users/_createnovalidate',
    { RequestInfo: {}, user: { userName, name: 'Enc Test', password: 'Clerk@123', type: 'EMPLOYEE', tenantId: 'pb.amritsar', mobileNumber: '9855500001', roles: [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }], ...SECRETS } },
    admin,
  );
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  return (made.body['user'] as Json[])[0]!;
}

function expectSealed(row: Raw) {
  const text = profileText(row);
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  const profile = JSON.parse(text) as Json;
  for (const field of Object.keys(SECRETS)) expect(isCipherText(profile[field]), field).toBe(true);
  expect(row.key_id).toBeTruthy();
  // The identity is under the same data key as the profile.
  for (const column of IDENTITY) if (row[column] !== null) expect(row[column]!.startsWith(`${row.key_id}|`), column).toBe(true);
}

describe('user profiles at rest (Build 4)', () => {
  it('stores Aadhaar, PAN, address and relatives in ciphertext, answers them to those who may see them', async () => {
    const user = await employee('enc.create');
    expect(user).toMatchObject(SECRETS);
    expectSealed(await raw(user['uuid']));
    expect(await asAdmin(user['uuid'])).toMatchObject(SECRETS);

    const renamed = await post(platform, '/user/users/_updatenovalidate', { RequestInfo: {}, user: { uuid: user['uuid'], name: 'Enc Renamed', pan: 'ZZZZZ1111Z' } }, admin);
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect((renamed.body['user'] as Json[])[0]).toMatchObject({ ...SECRETS, pan: 'ZZZZZ1111Z' });
    expect(profileText(await raw(user['uuid']))).not.toContain('ZZZZZ1111Z');
  });

  it('seals profiles written in the clear before, when the module starts', async () => {
    const user = await employee('enc.legacy');
    await sql`update users set profile = ${platform.database.toJson({ ...SECRETS, gender: 'FEMALE' })}, key_id = null where uuid = ${user['uuid']}`.execute(platform.database.kysely);
    expect(profileText(await raw(user['uuid']))).toContain(SECRETS.aadhaarNumber);
    await platform.users.init();
    expectSealed(await raw(user['uuid']));
    expect(await asAdmin(user['uuid'])).toMatchObject({ ...SECRETS, gender: 'FEMALE' });
  });

  it('moves profiles to the new data key after a rotation', async () => {
    const user = await employee('enc.rotate');
    const before = (await raw(user['uuid'])).key_id;
    await platform.encryption.service.rotateKey('pb');
    const moved = await platform.encryption.service.reencrypt('pb');
    expect(moved['user']).toBeGreaterThanOrEqual(1);
    const after = await raw(user['uuid']);
    expect(after.key_id).not.toBe(before);
    expectSealed(after);
    expect(await asAdmin(user['uuid'])).toMatchObject(SECRETS);
  });
});

describe('user identity at rest (Build 4)', () => {
  const who = { userName: 'enc.identity', name: 'Identitymarker Kaur', mobileNumber: '9855500077', emailId: 'identity.marker@example.org' };

  it('stores the user name, name, mobile and e-mail only as ciphertext; login, _details and search by each go through the index', async () => {
    const made = await post(
      platform,
      '/user/users/_createnovalidate',
      { RequestInfo: {}, user: { ...who, password: 'Clerk@123', type: 'EMPLOYEE', tenantId: 'pb.amritsar', roles: [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }] } },
      admin,
    );
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const uuid = String((made.body['user'] as Json[])[0]!['uuid']);
    const row = await raw(uuid);
    for (const column of IDENTITY) expect(isCipherText(row[column]), column).toBe(true);
    for (const value of Object.values(who)) expect(JSON.stringify(row)).not.toContain(value);

    const session = await login(platform, who.userName, 'Clerk@123', 'pb.amritsar');
    expect(session.status, JSON.stringify(session.body)).toBe(200);
    expect(session.body['UserRequest']).toMatchObject(who);
    const details = await post(platform, `/user/_details?access_token=${String(session.body['access_token'])}`, {});
    expect(details.body).toMatchObject({ uuid, ...who });

    for (const [field, value] of Object.entries(who)) {
      const found = await post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb.amritsar', [field]: value }, admin);
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      expect((found.body['user'] as Json[]).map((u) => u['uuid']), field).toEqual([uuid]);
      expect((found.body['user'] as Json[])[0], field).toMatchObject(who);
    }
    // HRMS finds the employee by phone and by name through the same indexes.
    const byPhone = await post(platform, `/egov-hrms/employees/_search?tenantId=pb.amritsar&phone=${who.mobileNumber}`, { RequestInfo: {} }, admin);
    expect((byPhone.body['Employees'] as Json[]).map((e) => e['uuid']), JSON.stringify(byPhone.body)).toEqual([uuid]);
    const byName = await post(platform, `/egov-hrms/employees/_search?tenantId=pb.amritsar&names=${encodeURIComponent(who.name)}`, { RequestInfo: {} }, admin);
    expect((byName.body['Employees'] as Json[]).map((e) => e['uuid'])).toEqual([uuid]);
  });

  it('a citizen registers and logs in by OTP, found by the mobile number sealed in the row', async () => {
    const mobile = '9855500078';
    const lastOtp = () => [...sentOtps].reverse().find((m) => m.mobileNumber === mobile)?.code;
    expect((await post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: mobile, tenantId: 'pb', type: 'register', userType: 'CITIZEN' } })).status).toBe(200);
    const validated = await post(platform, '/otp/v1/_validate', { RequestInfo: {}, otp: { tenantId: 'pb', identity: mobile, otp: lastOtp() } });
    const otpReference = String((validated.body['otp'] as Json)['UUID']);
    const made = await post(platform, '/user/citizen/_create', { RequestInfo: {}, user: { name: 'Otp Citizen', mobileNumber: mobile, tenantId: 'pb', otpReference } });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const uuid = String((made.body['user'] as Json[])[0]!['uuid']);
    expect(JSON.stringify(await raw(uuid))).not.toContain(mobile);

    // A login OTP is sent only to a registered number: the lookup finds it through its blind index.
    const sent = sentOtps.length;
    await post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: mobile, tenantId: 'pb', type: 'login', userType: 'CITIZEN' } });
    expect(sentOtps.length).toBe(sent + 1);
    const session = await login(platform, mobile, lastOtp()!, 'pb', 'CITIZEN');
    expect(session.status, JSON.stringify(session.body)).toBe(200);
    expect(session.body['UserRequest']).toMatchObject({ uuid, userName: mobile, mobileNumber: mobile, name: 'Otp Citizen' });
    // And a second registration of the number is not offered an OTP.
    await post(platform, '/user-otp/v1/_send', { RequestInfo: {}, otp: { mobileNumber: mobile, tenantId: 'pb', type: 'register', userType: 'CITIZEN' } });
    expect(sentOtps.length).toBe(sent + 1);
  });

  it('refuses a second user with the same user name, also when both are created at once (DUPLICATE_USER_NAME)', async () => {
    const create = () =>
      post(
        platform,
        '/user/users/_createnovalidate',
        { RequestInfo: {}, user: { userName: 'enc.twin', name: 'Twin', password: 'Clerk@123', type: 'EMPLOYEE', tenantId: 'pb.amritsar', roles: [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }] } },
        admin,
      );
    const answers = await Promise.all([create(), create(), create(), create()]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400, 400]);
    for (const refused of answers.filter((a) => a.status === 400)) expect(refused.body['Errors']).toEqual([expect.objectContaining({ code: 'DUPLICATE_USER_NAME' })]);
    const found = await post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb.amritsar', userName: 'enc.twin' }, admin);
    expect(found.body['user']).toHaveLength(1);
  });
});
