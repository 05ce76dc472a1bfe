import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

/**
 * Issue #14, ownership: the PGR workflow is driven only by pgr-services (finding 7); citizens read
 * only their own files and those attached to complaints of theirs, employees only their cities'
 * (finding 9).
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
});
afterAll(() => platform.drop());

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
