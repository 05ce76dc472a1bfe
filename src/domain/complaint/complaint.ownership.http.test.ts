import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

/**
 * Issue #14, ownership: the PGR workflow is driven only by pgr-services (finding 7); citizens read
 * only their own files and those attached to complaints of theirs, employees only their cities'
 * (finding 9); complaints, notifications and in-app events are their citizen's alone, and the
 * notification log is for operators only (Build 3, finding 13).
 */

type Json = Record<string, unknown>;
type Who = { auth: Record<string, string>; uuid: string };

const PASSWORD = 'Field@2026x';
const BASE = '/pgr-services/v2/request';
const WF = '/egov-workflow-v2/egov-wf';

let platform: TestPlatform;
let admin: Record<string, string>;
let gro: Who;
let lme: Who;
let citizenA: Who;
let citizenB: Who;
let jalandhar: Who;
let operator: Who;

async function person(userName: string, type: 'EMPLOYEE' | 'CITIZEN', roles: readonly string[], mobileNumber: string, tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar'): Promise<Who> {
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
  gro = await person('own_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9711111111');
  lme = await person('own_lme', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9722222222');
  citizenA = await person('9733333333', 'CITIZEN', ['CITIZEN'], '9733333333');
  citizenB = await person('9744444444', 'CITIZEN', ['CITIZEN'], '9744444444');
  jalandhar = await person('own_jalandhar', 'EMPLOYEE', ['EMPLOYEE', 'GRO', 'PGR_LME'], '9755555555', 'pb.jalandhar');
  operator = await person('own_operator', 'EMPLOYEE', ['EMPLOYEE', 'NOTIFICATION_ADMIN'], '9766666666');
});
afterAll(() => platform.drop());

const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#36c' } }).jpeg().toBuffer();

async function upload(auth: Record<string, string>, tag: string): Promise<string> {
  const boundary = `----plinth${randomBytes(8).toString('hex')}`;
  const field = (name: string, value: string) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const payload = Buffer.concat([
    field('tenantId', 'pb.amritsar'),
    field('module', 'PGR'),
    field('tag', tag),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    jpeg,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const response = await platform.app.inject({ method: 'POST', url: '/filestore/v1/files', payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...auth } });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { files: Array<{ fileStoreId: string }> }).files[0]!.fileStoreId;
}

/** The status of each way to read one file: by id (bytes), url (signed links) and metadata. */
async function reads(auth: Record<string, string>, fileStoreId: string, tenantId = 'pb.amritsar'): Promise<number[]> {
  const urls = [`/filestore/v1/files/id?tenantId=${tenantId}&fileStoreId=${fileStoreId}`, `/filestore/v1/files/url?tenantId=${tenantId}&fileStoreIds=${fileStoreId}`, `/filestore/v1/files/metadata?tenantId=${tenantId}&fileStoreId=${fileStoreId}`];
  return Promise.all(urls.map(async (url) => (await platform.app.inject({ method: 'GET', url, headers: auth })).statusCode));
}

/** The files a tag lists to the caller, as their ids (the signed links name them). */
async function tagged(auth: Record<string, string>, tag: string): Promise<string[]> {
  const response = await platform.app.inject({ method: 'GET', url: `/filestore/v1/files/tag?tenantId=pb.amritsar&tag=${tag}`, headers: auth });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { files: Array<{ url: string }> }).files.map((f) => /download\/([0-9a-f-]{36})\?/.exec(f.url)![1]!).sort();
}

const service = (): Json => ({
  tenantId: 'pb.amritsar',
  serviceCode: 'StreetLightNotWorking',
  description: 'The light on the corner is out',
  address: { locality: { code: 'SUN04' } },
});
const codes = (body: Json) => ((body['Errors'] as Json[] | undefined) ?? []).map((e) => e['code']);
const file = (auth: Record<string, string>, workflow: Json = { action: 'APPLY' }) => post(platform, `${BASE}/_create`, { RequestInfo: requestInfo, service: service(), workflow }, auth);
const act = (auth: Record<string, string>, id: string, workflow: Json) =>
  post(platform, `${BASE}/_update`, { RequestInfo: requestInfo, service: { tenantId: 'pb.amritsar', serviceRequestId: id }, workflow }, auth);
const idOf = (body: Json) => String(((body['ServiceWrappers'] as Json[])[0]!['service'] as Json)['serviceRequestId']);
const transition = (auth: Record<string, string>, businessId: string, action: string) =>
  post(platform, `${WF}/process/_transition`, { RequestInfo: requestInfo, ProcessInstances: [{ tenantId: 'pb.amritsar', businessService: 'PGR', businessId, action }] }, auth);

/** The complaint's status and the workflow's latest state for it, as the administrator sees them. */
async function statuses(id: string): Promise<{ complaint: unknown; workflow: unknown }> {
  const complaint = await post(platform, `${BASE}/_search?tenantId=pb.amritsar&serviceRequestId=${id}`, { RequestInfo: requestInfo }, admin);
  const workflow = await post(platform, `${WF}/process/_search?tenantId=pb.amritsar&businessIds=${id}`, { RequestInfo: requestInfo }, admin);
  return {
    complaint: ((complaint.body['ServiceWrappers'] as Json[])[0]!['service'] as Json)['applicationStatus'],
    workflow: (((workflow.body['ProcessInstances'] as Json[])[0]!['state'] as Json)['applicationStatus']),
  };
}

describe('the PGR workflow is moved only through pgr-services (finding 7)', () => {
  it('a citizen cannot squat the next complaint id with APPLY; the next real filing gets it', async () => {
    const first = await file(citizenA.auth);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const id = idOf(first.body);
    const digits = /(\d+)$/.exec(id)![1]!;
    const next = id.slice(0, id.length - digits.length) + String(Number(digits) + 1).padStart(digits.length, '0');

    const squat = await transition(citizenB.auth, next, 'APPLY');
    expect(squat.status, JSON.stringify(squat.body)).toBe(400);
    expect(codes(squat.body)).toEqual(['BUSINESSSERVICE_OWNED']);

    const second = await file(citizenA.auth);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(idOf(second.body)).toBe(next);
    expect(await statuses(next)).toEqual({ complaint: 'PENDINGFORASSIGNMENT', workflow: 'PENDINGFORASSIGNMENT' });
  });

  it('a direct REOPEN of a resolved complaint is refused; workflow and complaint still agree', async () => {
    const filed = await file(citizenA.auth);
    const id = idOf(filed.body);
    expect((await act(gro.auth, id, { action: 'ASSIGN', assignes: [lme.uuid] })).status).toBe(200);
    expect((await act(lme.auth, id, { action: 'RESOLVE' })).status).toBe(200);

    for (const auth of [citizenA.auth, admin]) {
      const reopen = await transition(auth, id, 'REOPEN');
      expect(reopen.status, JSON.stringify(reopen.body)).toBe(400);
      expect(codes(reopen.body)).toEqual(['BUSINESSSERVICE_OWNED']);
    }
    expect(await statuses(id)).toEqual({ complaint: 'RESOLVED', workflow: 'RESOLVED' });

    // Through the complaint, the same action moves both.
    const reopened = await act(citizenA.auth, id, { action: 'REOPEN' });
    expect(reopened.status, JSON.stringify(reopened.body)).toBe(200);
    expect(await statuses(id)).toEqual({ complaint: 'PENDINGFORASSIGNMENT', workflow: 'PENDINGFORASSIGNMENT' });
  });
});

describe('files: a citizen reads their own and their complaints\', an employee their cities\' (finding 9)', () => {
  it('citizen B reads nothing of citizen A\'s upload, by id, url, metadata or tag', async () => {
    const ofA = await upload(citizenA.auth, 'shared-tag');
    const ofB = await upload(citizenB.auth, 'shared-tag');
    expect(await reads(citizenA.auth, ofA)).toEqual([200, 200, 200]);
    expect(await reads(citizenB.auth, ofA)).toEqual([404, 404, 404]);
    // Several ids at once: one unreadable id refuses the whole request.
    const both = await platform.app.inject({ method: 'GET', url: `/filestore/v1/files/url?tenantId=pb.amritsar&fileStoreIds=${ofB},${ofA}`, headers: citizenB.auth });
    expect(both.statusCode).toBe(404);
    // At the state, as citizens' roles are: still only their own.
    expect(await reads(citizenB.auth, ofA, 'pb')).toEqual([404, 404, 404]);
    expect(await tagged(citizenA.auth, 'shared-tag')).toEqual([ofA]);
    expect(await tagged(citizenB.auth, 'shared-tag')).toEqual([ofB]);
    // The city's employees see both; another city's employee neither.
    expect(await tagged(gro.auth, 'shared-tag')).toEqual([ofA, ofB].sort());
    expect(await reads(gro.auth, ofA)).toEqual([200, 200, 200]);
    expect(await reads(jalandhar.auth, ofA, 'pb.jalandhar')).toEqual([404, 404, 404]);
    expect(await reads(jalandhar.auth, ofA)).toEqual([403, 403, 403]);
    const foreignTag = await platform.app.inject({ method: 'GET', url: '/filestore/v1/files/tag?tenantId=pb.amritsar&tag=shared-tag', headers: jalandhar.auth });
    expect(foreignTag.statusCode).toBe(403);
  });

  it('a complaint\'s citizen reads the files attached to it by employees; others do not', async () => {
    const photo = await upload(citizenA.auth, 'complaint-files');
    const filed = await file(citizenA.auth, { action: 'APPLY', verificationDocuments: [{ documentType: 'PHOTO', fileStoreId: photo }] });
    expect(filed.status, JSON.stringify(filed.body)).toBe(200);
    const id = idOf(filed.body);
    expect((await act(gro.auth, id, { action: 'ASSIGN', assignes: [lme.uuid] })).status).toBe(200);
    const repair = await upload(lme.auth, 'complaint-files');
    expect(await reads(citizenA.auth, repair)).toEqual([404, 404, 404]);
    const resolved = await act(lme.auth, id, { action: 'RESOLVE', verificationDocuments: [{ documentType: 'PHOTO', fileStoreId: repair }] });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);

    expect(await reads(citizenA.auth, repair)).toEqual([200, 200, 200]);
    expect(await reads(citizenB.auth, repair)).toEqual([404, 404, 404]);
    expect(await reads(citizenB.auth, photo)).toEqual([404, 404, 404]);
    expect(await tagged(citizenA.auth, 'complaint-files')).toEqual([photo, repair].sort());
    expect(await tagged(citizenB.auth, 'complaint-files')).toEqual([]);
  });

  it('a citizen cannot attach another citizen\'s file to a complaint of theirs to read it', async () => {
    const ofA = await upload(citizenA.auth, 'attach');
    const stolen = await file(citizenB.auth, { action: 'APPLY', verificationDocuments: [{ documentType: 'PHOTO', fileStoreId: ofA }] });
    expect(stolen.status, JSON.stringify(stolen.body)).toBe(400);
    expect(codes(stolen.body)).toEqual(['INVALID_FILESTOREID']);
    const mine = await file(citizenB.auth);
    const onUpdate = await act(citizenB.auth, idOf(mine.body), { action: 'COMMENT', comments: 'see photo', verificationDocuments: [{ fileStoreId: ofA }] });
    expect(onUpdate.status, JSON.stringify(onUpdate.body)).toBe(400);
    expect(codes(onUpdate.body)).toEqual(['INVALID_FILESTOREID']);
    expect(await reads(citizenB.auth, ofA)).toEqual([404, 404, 404]);
  });
});

describe('complaints, notifications and in-app events: a citizen sees and touches only theirs (Build 3)', () => {
  const events = async (auth: Record<string, string>, query: string) => {
    const { status, body } = await post(platform, `/egov-user-event/v1/events/_search?tenantId=pb.amritsar&${query}`, { RequestInfo: requestInfo }, auth);
    return { status, events: ((body['events'] as Json[] | undefined) ?? []) as Json[] };
  };
  const notifications = (auth: Record<string, string>, criteria: Json) => post(platform, '/notification/v1/_search', { RequestInfo: requestInfo, criteria }, auth);

  it('citizen B finds, counts and moves nothing of citizen A\'s complaint', async () => {
    const filed = await file(citizenA.auth);
    const id = idOf(filed.body);
    const searched = await post(platform, `${BASE}/_search?tenantId=pb.amritsar&serviceRequestId=${id}`, { RequestInfo: requestInfo }, citizenB.auth);
    expect(searched.body['ServiceWrappers']).toEqual([]);
    const byMobile = await post(platform, `${BASE}/_search?tenantId=pb.amritsar&mobileNumber=9733333333`, { RequestInfo: requestInfo }, citizenB.auth);
    expect(byMobile.body['ServiceWrappers']).toEqual([]);
    const counted = await post(platform, `${BASE}/_count?tenantId=pb.amritsar&serviceRequestId=${id}`, { RequestInfo: requestInfo }, citizenB.auth);
    expect(counted.body['count']).toBe(0);
    const commented = await act(citizenB.auth, id, { action: 'COMMENT', comments: 'mine now' });
    expect(commented.status).toBe(400);
    expect(await statuses(id)).toEqual({ complaint: 'PENDINGFORASSIGNMENT', workflow: 'PENDINGFORASSIGNMENT' });
    // The workflow's own search answers B nothing of it either.
    const process = await post(platform, `${WF}/process/_search?tenantId=pb.amritsar&businessIds=${id}`, { RequestInfo: requestInfo }, citizenB.auth);
    expect(process.body['ProcessInstances']).toEqual([]);
  });

  it('in-app events: B sees none of A\'s, however asked, and may not change them', async () => {
    const filed = await file(citizenA.auth);
    const id = idOf(filed.body);
    for (let i = 0; i < 3; i++) await platform.dispatcher.deliverPending();
    const mine = await events(citizenA.auth, `referenceIds=${id}`);
    expect(mine.status).toBe(200);
    expect(mine.events).toHaveLength(1);
    const eventId = String(mine.events[0]!['id']);
    for (const query of [`referenceIds=${id}`, `ids=${eventId}`, `userids=${citizenA.uuid}`, '']) {
      const theirs = await events(citizenB.auth, query);
      expect(theirs.status).toBe(200);
      expect(theirs.events.filter((e) => e['referenceId'] === id)).toEqual([]);
    }
    const changed = await post(platform, '/egov-user-event/v1/events/_update', { RequestInfo: requestInfo, events: [{ ...mine.events[0], status: 'INACTIVE' }] }, citizenB.auth);
    expect(changed.status).toBe(403);
    expect((await events(citizenA.auth, `ids=${eventId}`)).events[0]).toMatchObject({ status: 'ACTIVE' });
  });

  it('the notification log is for operators: not citizens, not every employee, not another city', async () => {
    const filed = await file(citizenA.auth);
    const id = idOf(filed.body);
    for (let i = 0; i < 3; i++) await platform.dispatcher.deliverPending();
    const criteria = { tenantId: 'pb.amritsar', referenceId: id };
    for (const who of [citizenA, citizenB, gro, lme, jalandhar]) {
      const refused = await notifications(who.auth, criteria);
      expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    }
    expect((await notifications(jalandhar.auth, { ...criteria, tenantId: 'pb.jalandhar' })).status).toBe(403);
    expect((await notifications(operator.auth, { ...criteria, tenantId: 'pb.jalandhar' })).status).toBe(403);
    const read = await notifications(operator.auth, criteria);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect((read.body['messages'] as Json[]).map((m) => m['channel']).sort()).toEqual(['IN_APP', 'SMS']);
    expect((await notifications(admin, criteria)).status).toBe(200);
  });
});
