import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, post, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { isCipherText } from '../encryption/index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Issue #14 Build 4, users: identifiers and other personal fields of the profile are ciphertext at rest. */
let platform: TestPlatform;
let admin: Record<string, string>;
beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
});
afterAll(() => platform.drop());

const SECRETS = { aadhaarNumber: '555566667777', pan: 'PQRSX9876K', permanentAddress: 'House 12 Marker Lane', fatherOrHusbandName: 'Markerfather Singh' };

type Raw = { profile: unknown; key_id: string | null };
const raw = async (uuid: string): Promise<Raw> =>
  (await sql<Raw>`select profile, key_id from users where uuid = ${uuid}`.execute(platform.database.kysely)).rows[0]!;
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
