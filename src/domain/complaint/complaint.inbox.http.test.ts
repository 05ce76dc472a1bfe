import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

type Json = Record<string, unknown>;
type Who = { auth: Record<string, string>; uuid: string };
type Item = { ProcessInstance: Json & { state: Json; nextActions: Json[]; assignes: Json[] | null }; businessObject: Json & { serviceSla: number | null } };
type Inbox = { totalCount: number; nearingSlaCount: number; items: Item[] };

const HOUR = 3_600_000;
const PASSWORD = 'Field@2026x';
const BASE = '/pgr-services/v2/request';
// A clock the test moves, so SLA figures are exact; tokens outlive the moves.
const t0 = Date.now();
let now = t0;

let platform: TestPlatform;
let admin: Record<string, string>;
let gro: Who;
let lme1: Who;
let lme2: Who;
let csr: Who;
let citizen: Who;
let jalandharGro: Who;

async function person(userName: string, type: 'EMPLOYEE' | 'CITIZEN', roles: readonly string[], mobileNumber: string, city = 'pb.amritsar'): Promise<Who> {
  const tenantId = type === 'CITIZEN' ? 'pb' : city;
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

const inboxBody = (inbox: Json = {}, moduleSearchCriteria: Json = {}, processSearchCriteria: Json = {}) => ({
  RequestInfo: requestInfo,
  inbox: {
    tenantId: 'pb.amritsar',
    processSearchCriteria: { businessService: ['PGR'], moduleName: 'rainmaker-pgr', ...processSearchCriteria },
    moduleSearchCriteria,
    limit: 20,
    offset: 0,
    ...inbox,
  },
});
async function inbox(who: Who, ...args: Parameters<typeof inboxBody>): Promise<Inbox> {
  const { status, body } = await post(platform, '/inbox/v2/_search', inboxBody(...args), who.auth);
  expect(status, JSON.stringify(body)).toBe(200);
  return body as unknown as Inbox;
}
const idsOf = (answer: Inbox) => answer.items.map((i) => i.businessObject['serviceRequestId']);

async function file(serviceCode: string, locality: string): Promise<string> {
  const { status, body } = await post(
    platform,
    `${BASE}/_create`,
    { RequestInfo: requestInfo, service: { tenantId: 'pb.amritsar', serviceCode, description: `${serviceCode} here`, source: 'web', address: { locality: { code: locality } } }, workflow: { action: 'APPLY' } },
    citizen.auth,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return String(((body['ServiceWrappers'] as Json[])[0]!['service'] as Json)['serviceRequestId']);
}
async function act(who: Who, serviceRequestId: string, workflow: Json) {
  const { status, body } = await post(platform, `${BASE}/_update`, { RequestInfo: requestInfo, service: { tenantId: 'pb.amritsar', serviceRequestId }, workflow }, who.auth);
  expect(status, JSON.stringify(body)).toBe(200);
}

let roadA: string;
let lightB: string;
let lightC: string;

beforeAll(async () => {
  platform = await testPlatform({ clock: { now: () => now }, users: { accessTokenTtlMs: 1000 * 24 * HOUR } });
  admin = await adminAuth(platform);
  gro = await person('inbox_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9811111111');
  lme1 = await person('inbox_lme1', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9822222222');
  lme2 = await person('inbox_lme2', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9822222223');
  csr = await person('inbox_csr', 'EMPLOYEE', ['EMPLOYEE', 'CSR'], '9833333333');
  jalandharGro = await person('inbox_gro_jal', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9811111112', 'pb.jalandhar');
  citizen = await person('9844444444', 'CITIZEN', ['CITIZEN'], '9844444444');

  // DamagedRoad gets a one-day limit (through MDMS, as an official would), so the two types differ.
  const found = await post(platform, '/mdms-v2/v2/_search', { RequestInfo: requestInfo, MdmsCriteria: { tenantId: 'pb', schemaCode: 'RAINMAKER-PGR.ServiceDefs', uniqueIdentifiers: ['DamagedRoad'] } }, admin);
  const record = (found.body['mdms'] as Json[])[0] as Json & { data: Json };
  const changed = await post(platform, '/mdms-v2/v2/_update/RAINMAKER-PGR.ServiceDefs', { RequestInfo: requestInfo, Mdms: { ...record, data: { ...record.data, slaHours: 24 } } }, admin);
  expect(changed.status, JSON.stringify(changed.body)).toBe(202);

  lightB = await file('StreetLightNotWorking', 'SUN04');
  roadA = await file('DamagedRoad', 'SUN11');
  now = t0 + HOUR;
  lightC = await file('StreetLightNotWorking', 'SUN04');
  now = t0 + 20 * HOUR;
});
afterAll(() => platform.drop());

describe('the PGR inbox (/inbox/v2/_search)', () => {
  it("answers a GRO the complaints waiting for assignment, most urgent first, with the time left and what they may do", async () => {
    const answer = await inbox(gro);
    // DamagedRoad (24 h) is due before either street light (336 h), though filed after one of them.
    expect(idsOf(answer)).toEqual([roadA, lightB, lightC]);
    expect(answer.totalCount).toBe(3);
    expect(answer.items.map((i) => i.businessObject.serviceSla)).toEqual([4 * HOUR, 316 * HOUR, 317 * HOUR]);
    // 4 h left of 24 is under DIGIT's default slot (33 %); 316 h of 336 is not.
    expect(answer.nearingSlaCount).toBe(1);
    const first = answer.items[0]!;
    expect(first.businessObject).toMatchObject({ serviceCode: 'DamagedRoad', applicationStatus: 'PENDINGFORASSIGNMENT', tenantId: 'pb.amritsar', address: { locality: { code: 'SUN11' } } });
    expect(first.ProcessInstance).toMatchObject({ businessId: roadA, businessService: 'PGR', state: { applicationStatus: 'PENDINGFORASSIGNMENT' } });
    expect(first.ProcessInstance.nextActions.map((a) => a['action'])).toEqual(['ASSIGN', 'REJECT']);
  });

  it('filters by type, locality and status, and pages', async () => {
    expect(idsOf(await inbox(gro, {}, { serviceCode: 'StreetLightNotWorking' }))).toEqual([lightB, lightC]);
    expect(idsOf(await inbox(gro, {}, { locality: ['SUN11'] }))).toEqual([roadA]);
    expect(idsOf(await inbox(gro, {}, { locality: 'SUN04,SUN11', serviceCode: ['DamagedRoad'] }))).toEqual([roadA]);
    expect(idsOf(await inbox(gro, {}, { applicationStatus: 'PENDINGATLME' }))).toEqual([]);
    expect(idsOf(await inbox(gro, {}, {}, { status: ['PENDINGFORASSIGNMENT'] }))).toEqual([roadA, lightB, lightC]);
    const page = await inbox(gro, { limit: 1, offset: 1 });
    expect(idsOf(page)).toEqual([lightB]);
    expect(page.totalCount).toBe(3);
    expect(page.nearingSlaCount).toBe(1);
  });

  it('follows the complaint to the LME it is assigned to, and to the CSR once resolved', async () => {
    expect((await inbox(lme1)).totalCount).toBe(0);
    await act(gro, lightB, { action: 'ASSIGN', assignes: [lme1.uuid], comments: 'please fix' });

    expect(idsOf(await inbox(gro))).toEqual([roadA, lightC]);
    const mine = await inbox(lme1);
    expect(idsOf(mine)).toEqual([lightB]);
    expect(mine.items[0]!.ProcessInstance.nextActions.map((a) => a['action'])).toEqual(['REASSIGN', 'RESOLVE']);
    expect(mine.items[0]!.ProcessInstance.assignes?.map((a) => a['uuid'])).toEqual([lme1.uuid]);
    // Another LME does not see a complaint marked to a colleague.
    expect((await inbox(lme2)).totalCount).toBe(0);
    expect(idsOf(await inbox(gro, {}, {}, { assignee: lme1.uuid }))).toEqual([]);
    expect(idsOf(await inbox(lme1, {}, {}, { assignee: lme1.uuid }))).toEqual([lightB]);
    expect((await inbox(csr)).totalCount).toBe(0);

    await act(lme1, lightB, { action: 'RESOLVE', comments: 'fixed' });
    expect((await inbox(lme1)).totalCount).toBe(0);
    // The CSR may reopen a resolved complaint for the citizen.
    expect(idsOf(await inbox(csr))).toEqual([lightB]);
  });

  it('shows overdue complaints with negative time left, still first', async () => {
    now = t0 + 30 * HOUR;
    const answer = await inbox(gro);
    expect(idsOf(answer)).toEqual([roadA, lightC]);
    expect(answer.items[0]!.businessObject.serviceSla).toBe(-6 * HOUR);
    expect(answer.nearingSlaCount).toBe(1);
    now = t0 + 300 * HOUR;
    // 36 h of 336 left on the street light: nearing too.
    expect((await inbox(gro)).nearingSlaCount).toBe(2);
    now = t0 + 20 * HOUR;
  });

  it('refuses bad input with 400 in DIGIT shape', async () => {
    const bad: Json[] = [
      { RequestInfo: requestInfo },
      inboxBody({ limit: 0 }),
      inboxBody({ limit: 1000 }),
      inboxBody({ offset: -1 }),
      inboxBody({}, {}, { businessService: ['TL'] }),
      inboxBody({}, {}, { businessService: [] }),
      inboxBody({}, {}, { moduleName: 'tl-services' }),
      inboxBody({}, {}, { status: ['NOSUCHSTATE'] }),
      inboxBody({}, { locality: "SUN04'; drop table" }),
      inboxBody({}, { tenantId: 'pb.jalandhar' }),
      inboxBody({ processSearchCriteria: 'PGR' }),
    ];
    // The state is no city, Atlantis no tenant.
    for (const tenantId of ['pb', 'pb.atlantis']) {
      const answer = await post(platform, '/inbox/v2/_search', inboxBody({ tenantId }), admin);
      expect(answer.status, tenantId).toBe(400);
      expect(isDigitError(answer.body)).toBe(true);
    }
    // As the SUPERUSER of pb, whom access control lets through to the checks of the route.
    for (const body of bad) {
      const { status, body: answer } = await post(platform, '/inbox/v2/_search', body, admin);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(isDigitError(answer), JSON.stringify(answer)).toBe(true);
    }
  });

  it('is for signed-in people of the tenant only', async () => {
    expect((await post(platform, '/inbox/v2/_search', inboxBody(), {})).status).toBe(401);
    // DIGIT lets citizens in: theirs are only their own complaints where they act next (rate or reopen).
    expect(idsOf(await inbox(citizen))).toEqual([lightB]);
    const other = await person('9855555555', 'CITIZEN', ['CITIZEN'], '9855555555');
    expect((await inbox(other)).totalCount).toBe(0);
    // A GRO of Jalandhar may not read Amritsar's inbox, and has nothing in their own.
    expect((await post(platform, '/inbox/v2/_search', inboxBody(), jalandharGro.auth)).status).toBe(403);
    expect((await inbox(jalandharGro, { tenantId: 'pb.jalandhar' })).totalCount).toBe(0);
  });
});
