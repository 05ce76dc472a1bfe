import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, unknown>;
type Who = { auth: Record<string, string>; uuid: string };

let platform: TestPlatform;
let admin: Record<string, string>;
let gro: Who;
let lme: Who;
let csr: Who;
let citizenA: Who;
let citizenB: Who;

const PASSWORD = 'Field@2026x';
const BASE = '/pgr-services/v2/request';

/** Creates a user through the admin API and logs it in; answers its bearer header and uuid. */
async function person(userName: string, type: 'EMPLOYEE' | 'CITIZEN', roles: readonly string[], mobileNumber: string): Promise<Who> {
  const tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar';
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    { RequestInfo: {}, user: { userName, name: `Person ${userName}`, password: PASSWORD, type, tenantId, mobileNumber, roles: roles.map((code) => ({ code, tenantId })) } },
    admin,
  );
  if (created.status !== 200) throw new Error(`creating ${userName}: ${created.status} ${JSON.stringify(created.body)}`);
  const { status, body } = await login(platform, userName, PASSWORD, tenantId, type);
  if (status !== 200) throw new Error(`${userName} login: ${status} ${JSON.stringify(body)}`);
  return { auth: { authorization: `Bearer ${String(body['access_token'])}` }, uuid: String((body['UserRequest'] as Json)['uuid']) };
}

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  gro = await person('pgr_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9811111111');
  lme = await person('pgr_lme', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9822222222');
  csr = await person('pgr_csr', 'EMPLOYEE', ['EMPLOYEE', 'CSR'], '9833333333');
  citizenA = await person('9844444444', 'CITIZEN', ['CITIZEN'], '9844444444');
  citizenB = await person('9855555555', 'CITIZEN', ['CITIZEN'], '9855555555');
});
afterAll(() => platform.drop());

const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } }).jpeg().toBuffer();

async function uploadPhoto(auth: Record<string, string>): Promise<string> {
  const boundary = `----plinth${randomBytes(8).toString('hex')}`;
  const field = (name: string, value: string) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const payload = Buffer.concat([
    field('tenantId', 'pb.amritsar'),
    field('module', 'PGR'),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="light.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    jpeg,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const response = await platform.app.inject({ method: 'POST', url: '/filestore/v1/files', payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...auth } });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { files: Array<{ fileStoreId: string }> }).files[0]!.fileStoreId;
}

const service = (overrides: Json = {}): Json => ({
  tenantId: 'pb.amritsar',
  serviceCode: 'StreetLightNotWorking',
  description: 'The light on the corner is out',
  source: 'web',
  address: { locality: { code: 'SUN04' }, geoLocation: { latitude: 31.63, longitude: 74.87 } },
  ...overrides,
});
const create = (auth: Record<string, string>, svc: Json, workflow: Json = { action: 'APPLY' }) => post(platform, `${BASE}/_create`, { RequestInfo: requestInfo, service: svc, workflow }, auth);
const update = (auth: Record<string, string>, svc: Json, workflow: Json) => post(platform, `${BASE}/_update`, { RequestInfo: requestInfo, service: svc, workflow }, auth);
const search = (auth: Record<string, string>, params: Record<string, string> = {}) =>
  post(platform, `${BASE}/_search?${new URLSearchParams({ tenantId: 'pb.amritsar', ...params }).toString()}`, { RequestInfo: requestInfo }, auth);
const count = async (auth: Record<string, string>, params: Record<string, string> = {}) => {
  const { status, body } = await post(platform, `${BASE}/_count?${new URLSearchParams({ tenantId: 'pb.amritsar', ...params }).toString()}`, { RequestInfo: requestInfo }, auth);
  expect(status, JSON.stringify(body)).toBe(200);
  return body['count'] as number;
};
const wrapperOf = (body: Json) => (body['ServiceWrappers'] as Json[])[0] as { service: Json; workflow: Json };

async function outbox(subject: string) {
  const rows = await platform.database.kysely
    .withTables<{ plinth_outbox: { id: string; type: string; subject: string; data: unknown } }>()
    .selectFrom('plinth_outbox')
    .selectAll()
    .where('subject', '=', subject)
    .where('type', 'like', 'plinth.complaint.%')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ type: r.type, data: platform.database.fromJson<Json>(r.data) }));
}

describe('the life of a complaint', () => {
  it('is filed with a photo, assigned by the GRO, resolved by the LME and rated by its citizen', async () => {
    const photo = await uploadPhoto(citizenA.auth);
    const filed = await create(citizenA.auth, service(), { action: 'APPLY', verificationDocuments: [{ documentType: 'PHOTO', fileStoreId: photo }] });
    expect(filed.status, JSON.stringify(filed.body)).toBe(200);
    const { service: svc, workflow } = wrapperOf(filed.body);
    const id = String(svc['serviceRequestId']);
    expect(id).toMatch(/^PB-PGR-\d{4}-\d{2}-\d{2}-\d+$/);
    expect(svc).toMatchObject({ applicationStatus: 'PENDINGFORASSIGNMENT', accountId: citizenA.uuid, serviceCode: 'StreetLightNotWorking', active: true });
    expect(svc['additionalDetail']).toMatchObject({ department: expect.any(String) });
    expect((svc['documents'] as Json[]).map((d) => d['fileStoreId'])).toEqual([photo]);
    expect(svc['auditDetails']).toMatchObject({ createdBy: citizenA.uuid });
    expect(workflow).toMatchObject({ action: 'APPLY' });
    // The photo now belongs to the complaint (the orphan cleanup will not remove it).
    const meta = await platform.app.inject({ method: 'GET', url: `/filestore/v1/files/metadata?tenantId=pb.amritsar&fileStoreId=${photo}`, headers: citizenA.auth });
    expect(meta.json()).toMatchObject({ owner: { module: 'PGR', referenceId: id } });

    // The LME may not assign: the workflow refuses, nothing changes.
    const refused = await update(lme.auth, { tenantId: 'pb.amritsar', serviceRequestId: id }, { action: 'ASSIGN', assignes: [lme.uuid] });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(isDigitError(refused.body)).toBe(true);
    expect(wrapperOf((await search(gro.auth, { serviceRequestId: id })).body).service['applicationStatus']).toBe('PENDINGFORASSIGNMENT');

    const assigned = await update(gro.auth, { tenantId: 'pb.amritsar', serviceRequestId: id }, { action: 'ASSIGN', assignes: [lme.uuid], comments: 'please fix' });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
    expect(wrapperOf(assigned.body).service['applicationStatus']).toBe('PENDINGATLME');
    expect(wrapperOf(assigned.body).workflow['assignes']).toEqual([lme.uuid]);

    const resolved = await update(lme.auth, { tenantId: 'pb.amritsar', serviceRequestId: id }, { action: 'RESOLVE', comments: 'replaced the bulb' });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(wrapperOf(resolved.body).service['applicationStatus']).toBe('RESOLVED');

    // Citizen B can neither see nor rate A's complaint.
    expect(wrapperOf(resolved.body).service['rating']).toBeNull();
    expect((await search(citizenB.auth, { serviceRequestId: id })).body['ServiceWrappers']).toEqual([]);
    const foreign = await update(citizenB.auth, { tenantId: 'pb.amritsar', serviceRequestId: id, rating: 1 }, { action: 'RATE' });
    expect(foreign.status).toBe(400);
    expect(isDigitError(foreign.body)).toBe(true);

    const rated = await update(citizenA.auth, { tenantId: 'pb.amritsar', serviceRequestId: id, rating: 4 }, { action: 'RATE', comments: 'thanks' });
    expect(rated.status, JSON.stringify(rated.body)).toBe(200);
    expect(wrapperOf(rated.body).service).toMatchObject({ applicationStatus: 'CLOSEDAFTERRESOLUTION', rating: 4 });

    const mine = await search(citizenA.auth, { serviceRequestId: id });
    expect(wrapperOf(mine.body).service).toMatchObject({ applicationStatus: 'CLOSEDAFTERRESOLUTION', rating: 4, serviceRequestId: id });

    const events = await outbox(id);
    expect(events.map((e) => [e.type, e.data['action'], e.data['applicationStatus']])).toEqual([
      ['plinth.complaint.created.v1', 'APPLY', 'PENDINGFORASSIGNMENT'],
      ['plinth.complaint.updated.v1', 'ASSIGN', 'PENDINGATLME'],
      ['plinth.complaint.updated.v1', 'RESOLVE', 'RESOLVED'],
      ['plinth.complaint.updated.v1', 'RATE', 'CLOSEDAFTERRESOLUTION'],
    ]);
    expect(events[1]!.data).toEqual({
      serviceRequestId: id,
      tenantId: 'pb.amritsar',
      action: 'ASSIGN',
      applicationStatus: 'PENDINGATLME',
      serviceCode: 'StreetLightNotWorking',
      citizen: { uuid: citizenA.uuid },
      assignees: [lme.uuid],
    });
  });
});

describe('bad input', () => {
  it('refuses an unknown complaint type, locality or file, saving nothing', async () => {
    const before = await count(gro.auth);
    const photo = await uploadPhoto(citizenA.auth);
    const cases: Array<[Json, Json, string]> = [
      [service({ serviceCode: 'NoSuchComplaint' }), { action: 'APPLY', verificationDocuments: [{ fileStoreId: photo }] }, 'INVALID_SERVICECODE'],
      [service({ address: { locality: { code: 'NOWHERE1' } } }), { action: 'APPLY', verificationDocuments: [{ fileStoreId: photo }] }, 'INVALID_BOUNDARY'],
      [service(), { action: 'APPLY', verificationDocuments: [{ fileStoreId: 'no-such-file' }] }, 'INVALID_FILESTOREID'],
      [service(), { action: 'ASSIGN' }, 'INVALID_ACTION'],
    ];
    for (const [svc, workflow, code] of cases) {
      const { status, body } = await create(citizenA.auth, svc, workflow);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(isDigitError(body)).toBe(true);
      expect((body['Errors'] as Json[])[0]!['code']).toBe(code);
    }
    expect(await count(gro.auth)).toBe(before);
    const meta = await platform.app.inject({ method: 'GET', url: `/filestore/v1/files/metadata?tenantId=pb.amritsar&fileStoreId=${photo}`, headers: citizenA.auth });
    expect(meta.json()).toMatchObject({ owner: null });
  });

  it('asks an employee for the citizen mobile number', async () => {
    const { status, body } = await create(csr.auth, service());
    expect(status).toBe(400);
    expect((body['Errors'] as Json[])[0]!['code']).toBe('INVALID_CITIZEN');
  });
});

describe('filing on behalf of a citizen', () => {
  it('creates the citizen user for a new mobile number and finds it for a known one', async () => {
    const first = await create(csr.auth, service({ citizen: { name: 'Ram Lal', mobileNumber: '9866666666' } }));
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const account = String(wrapperOf(first.body).service['accountId']);
    expect(account).not.toBe(csr.uuid);
    expect(wrapperOf(first.body).service['citizen']).toMatchObject({ uuid: account, name: 'Ram Lal', mobileNumber: '9866666666' });
    const users = await post(platform, '/user/_search', { RequestInfo: {}, tenantId: 'pb', mobileNumber: '9866666666', userType: 'CITIZEN' }, admin);
    expect(users.status, JSON.stringify(users.body)).toBe(200);
    expect((users.body['user'] as Json[]).map((u) => u['uuid'])).toEqual([account]);

    const again = await create(csr.auth, service({ citizen: { name: 'Ram', mobileNumber: '9866666666' } }));
    expect(wrapperOf(again.body).service['accountId']).toBe(account);

    const existing = await create(csr.auth, service({ citizen: { mobileNumber: '9844444444' } }));
    expect(wrapperOf(existing.body).service['accountId']).toBe(citizenA.uuid);
    expect(wrapperOf(existing.body).service['applicationStatus']).toBe('PENDINGFORASSIGNMENT');

    // The citizen acts on a complaint filed for them as on their own.
    const id = String(wrapperOf(existing.body).service['serviceRequestId']);
    const ref = { tenantId: 'pb.amritsar', serviceRequestId: id };
    expect((await update(gro.auth, ref, { action: 'REJECT', comments: 'duplicate' })).status).toBe(200);
    const rated = await update(citizenA.auth, { ...ref, rating: 2 }, { action: 'RATE' });
    expect(rated.status, JSON.stringify(rated.body)).toBe(200);
    expect(wrapperOf(rated.body).service).toMatchObject({ applicationStatus: 'CLOSEDAFTERREJECTION', rating: 2 });
  });
});

describe('search and count', () => {
  it('shows citizens their own complaints, employees those of the tenant, with filters', async () => {
    const b = await create(citizenB.auth, service({ serviceCode: 'NoStreetlight', address: { locality: { code: 'SUN11' } } }));
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    const all = await count(gro.auth);
    const ofA = await count(citizenA.auth);
    const ofB = await count(citizenB.auth);
    expect(ofB).toBe(1);
    expect(ofA).toBeGreaterThanOrEqual(2);
    expect(all).toBeGreaterThanOrEqual(ofA + ofB + 2);
    const listed = await search(citizenB.auth);
    expect((listed.body['ServiceWrappers'] as Json[]).map((w) => (w['service'] as Json)['accountId'])).toEqual([citizenB.uuid]);
    expect(await count(gro.auth, { serviceCode: 'NoStreetlight' })).toBe(1);
    expect(await count(gro.auth, { locality: 'SUN11' })).toBe(1);
    expect(await count(gro.auth, { applicationStatus: 'CLOSEDAFTERRESOLUTION' })).toBe(1);
    expect(await count(gro.auth, { mobileNumber: '9855555555' })).toBe(1);
    const page = await search(gro.auth, { limit: '2', offset: '0', sortOrder: 'ASC' });
    expect(page.body['ServiceWrappers']).toHaveLength(2);
    expect(await count(gro.auth, { fromDate: String(Date.now() + 3_600_000) })).toBe(0);
    // An employee of Amritsar sees nothing of another city.
    const elsewhere = await search(gro.auth, { tenantId: 'pb.jalandhar' });
    expect(elsewhere.status).toBe(403);
    expect(isDigitError(elsewhere.body)).toBe(true);
  });
});
