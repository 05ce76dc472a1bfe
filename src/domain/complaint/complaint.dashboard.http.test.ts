import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

// Known complaints filed, assigned, resolved, reopened, rejected and rated at chosen times on a
// clock the test moves; the dashboard must answer exactly the figures those times give.

type Json = Record<string, unknown>;
type Who = { uuid: string; headers(): Promise<Record<string, string>> };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2 March 2026, 00:00 in India: the start of a dashboard week. */
const T0 = Date.parse('2026-03-02T00:00:00+05:30');
const PASSWORD = 'Field@2026x';
const BASE = '/pgr-services/v2/request';
const SUMMARY = '/pgr-services/v2/dashboard/_summary';

let time = T0 - DAY;
const clock = { now: () => time };
const at = (ms: number) => {
  expect(ms).toBeGreaterThanOrEqual(time);
  time = ms;
};

let platform: TestPlatform;
let admin: () => Promise<Record<string, string>>;
let mobile = 9760000000;

/** Logs in when first asked, and again before the token may have expired on the moved clock (8 hours). */
function session(open: () => Promise<string>): () => Promise<Record<string, string>> {
  let token: { value: string; at: number } | undefined;
  return async () => {
    if (!token || clock.now() - token.at > 6 * HOUR) token = { value: await open(), at: clock.now() };
    return { authorization: `Bearer ${token.value}` };
  };
}

async function person(
  userName: string,
  type: 'EMPLOYEE' | 'CITIZEN',
  roles: readonly string[],
  tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar',
): Promise<Who> {
  const number = String(mobile++);
  const name = type === 'CITIZEN' ? number : userName;
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: {
        userName: name,
        name: `Person ${userName}`,
        password: PASSWORD,
        type,
        tenantId,
        mobileNumber: number,
        roles: roles.map((code) => ({ code, tenantId })),
      },
    },
    await admin(),
  );
  if (created.status !== 200) throw new Error(`creating ${userName}: ${created.status} ${JSON.stringify(created.body)}`);
  return {
    uuid: String((created.body['user'] as Json[])[0]!['uuid']),
    headers: session(async () => {
      const answer = await login(platform, name, PASSWORD, tenantId, type);
      if (answer.status !== 200) throw new Error(`login of ${userName}: ${JSON.stringify(answer.body)}`);
      return String(answer.body['access_token']);
    }),
  };
}

let citizen: Who;
let gro: Who;
let lme: Who;
let pgrAdmin: Who;
let stateAdmin: Who;

async function file(serviceCode: string, locality: string): Promise<string> {
  const res = await post(
    platform,
    `${BASE}/_create`,
    {
      RequestInfo: requestInfo,
      service: { tenantId: 'pb.amritsar', serviceCode, description: 'dashboard', source: 'web', address: { locality: { code: locality } } },
      workflow: { action: 'APPLY' },
    },
    await citizen.headers(),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return String(((res.body['ServiceWrappers'] as Json[])[0]!['service'] as Json)['serviceRequestId']);
}

async function act(who: Who, serviceRequestId: string, workflow: Json, extra: Json = {}): Promise<void> {
  const res = await post(
    platform,
    `${BASE}/_update`,
    { RequestInfo: requestInfo, service: { tenantId: 'pb.amritsar', serviceRequestId, ...extra }, workflow },
    await who.headers(),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

async function summary(headers: Record<string, string>, criteria: Json) {
  return post(platform, SUMMARY, { RequestInfo: requestInfo, criteria: { tenantId: 'pb.amritsar', ...criteria } }, headers);
}

async function summaryOf(criteria: Json, who?: Who): Promise<Json> {
  const res = await summary(who ? await who.headers() : await admin(), criteria);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body['summary'] as Json;
}

const TWO_WEEKS = { fromDate: T0, toDate: T0 + 14 * DAY - 1 };

beforeAll(async () => {
  platform = await testPlatform({ clock });
  admin = session(async () => (await adminAuth(platform))['authorization']!.slice('Bearer '.length));
  citizen = await person('citizen', 'CITIZEN', ['CITIZEN']);
  gro = await person('dash_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO']);
  lme = await person('dash_lme', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME']);
  pgrAdmin = await person('dash_pgr_admin', 'EMPLOYEE', ['EMPLOYEE', 'PGR-ADMIN']);
  stateAdmin = await person('dash_stadmin', 'EMPLOYEE', ['EMPLOYEE', 'STADMIN']);

  // Filed the day before the period: never counted.
  await file('StreetLightNotWorking', 'SUN04');

  // Week of 2 March: C1 resolved after 10 hours (then reopened and resolved again much later: the
  // first resolution counts), C2 resolved after 400 hours (beyond the 336-hour SLA), C3 never touched.
  at(T0);
  const c1 = await file('StreetLightNotWorking', 'SUN04');
  const c2 = await file('GarbageNeedsTobeCleared', 'SUN04');
  const c3 = await file('StreetLightNotWorking', 'SUN11');
  at(T0 + 2 * HOUR);
  await act(gro, c1, { action: 'ASSIGN', assignes: [lme.uuid] });
  await act(gro, c2, { action: 'ASSIGN', assignes: [lme.uuid] });
  at(T0 + 10 * HOUR);
  await act(lme, c1, { action: 'RESOLVE' });
  at(T0 + 20 * HOUR);
  await act(citizen, c1, { action: 'REOPEN' });

  // Week of 9 March: C4 resolved 232 hours after filing, then rated (closed); C5 rejected, then rated (closed).
  at(T0 + 7 * DAY);
  const c4 = await file('StreetLightNotWorking', 'SUN04');
  const c5 = await file('GarbageNeedsTobeCleared', 'SUN04');
  at(T0 + 7 * DAY + HOUR);
  await act(gro, c4, { action: 'ASSIGN', assignes: [lme.uuid] });
  await act(gro, c5, { action: 'REJECT', comments: 'not ours' });
  await act(gro, c1, { action: 'ASSIGN', assignes: [lme.uuid] });
  await act(citizen, c5, { action: 'RATE' }, { rating: 2 });

  at(T0 + 400 * HOUR);
  await act(lme, c1, { action: 'RESOLVE' });
  await act(lme, c2, { action: 'RESOLVE' });
  await act(lme, c4, { action: 'RESOLVE' });
  await act(citizen, c4, { action: 'RATE' }, { rating: 5 });
  void c3;
}, 120_000);
afterAll(() => platform.drop());

describe('the complaint dashboard', () => {
  it('counts the complaints filed in the period by status, type and locality, with resolution times and weekly SLA compliance', async () => {
    const s = await summaryOf({ ...TWO_WEEKS, toDate: T0 + 21 * DAY - 1 });
    expect(s).toEqual({
      total: 5,
      open: 1,
      resolved: 2,
      closed: 2,
      byStatus: [
        { status: 'CLOSEDAFTERREJECTION', count: 1 },
        { status: 'CLOSEDAFTERRESOLUTION', count: 1 },
        { status: 'PENDINGFORASSIGNMENT', count: 1 },
        { status: 'RESOLVED', count: 2 },
      ],
      byType: [
        { serviceCode: 'StreetLightNotWorking', count: 3 },
        { serviceCode: 'GarbageNeedsTobeCleared', count: 2 },
      ],
      byLocality: [
        { locality: 'SUN04', count: 4 },
        { locality: 'SUN11', count: 1 },
      ],
      slaCompliance: [
        { period: '2026-03-02', total: 3, withinSla: 1, rate: 1 / 3 },
        { period: '2026-03-09', total: 2, withinSla: 1, rate: 0.5 },
        { period: '2026-03-16', total: 0, withinSla: 0, rate: null },
      ],
      // (10 + 400 + 232) / 3 hours; the median is 232.
      averageResolutionHours: 214,
      medianResolutionHours: 232,
    });
  });

  it('narrows to one complaint type, one department, one locality or a shorter period', async () => {
    const streetLights = await summaryOf({ ...TWO_WEEKS, serviceCode: 'StreetLightNotWorking' });
    expect(streetLights).toMatchObject({
      total: 3,
      open: 1,
      resolved: 1,
      closed: 1,
      byType: [{ serviceCode: 'StreetLightNotWorking', count: 3 }],
      slaCompliance: [
        { period: '2026-03-02', total: 2, withinSla: 1, rate: 0.5 },
        { period: '2026-03-09', total: 1, withinSla: 1, rate: 1 },
      ],
      averageResolutionHours: 121,
      medianResolutionHours: 121,
    });

    // Garbage complaints are DEPT_3's (RAINMAKER-PGR.ServiceDefs).
    const department = await summaryOf({ ...TWO_WEEKS, department: 'DEPT_3' });
    expect(department).toMatchObject({
      total: 2,
      resolved: 1,
      closed: 1,
      open: 0,
      byType: [{ serviceCode: 'GarbageNeedsTobeCleared', count: 2 }],
      averageResolutionHours: 400,
    });

    const locality = await summaryOf({ ...TWO_WEEKS, locality: 'SUN11' });
    expect(locality).toMatchObject({
      total: 1,
      open: 1,
      byLocality: [{ locality: 'SUN11', count: 1 }],
      averageResolutionHours: null,
      medianResolutionHours: null,
    });

    const secondWeek = await summaryOf({ fromDate: T0 + 7 * DAY, toDate: T0 + 14 * DAY - 1 });
    expect(secondWeek).toMatchObject({
      total: 2,
      closed: 2,
      open: 0,
      averageResolutionHours: 232,
      slaCompliance: [{ period: '2026-03-09', total: 2, withinSla: 1, rate: 0.5 }],
    });

    // The day before the period holds the one complaint filed then.
    expect(await summaryOf({ fromDate: T0 - DAY, toDate: T0 - 1 })).toMatchObject({ total: 1, open: 1 });
  });

  it('is answered to complaint administrators, grievance officers and the state administrator, on their tenants only', async () => {
    for (const who of [pgrAdmin, gro, stateAdmin]) expect((await summaryOf(TWO_WEEKS, who))['total']).toBe(5);
    const refused = await summary(await lme.headers(), TWO_WEEKS);
    expect(refused.status).toBe(403);
    expect((await summary(await citizen.headers(), TWO_WEEKS)).status).toBe(403);
    const elsewhere = await person('dash_gro_jalandhar', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], 'pb.jalandhar');
    const foreign = await summary(await elsewhere.headers(), TWO_WEEKS);
    expect(foreign.status).toBe(403);
    expect(isDigitError(foreign.body)).toBe(true);
    expect((await summary(await elsewhere.headers(), { ...TWO_WEEKS, tenantId: 'pb.jalandhar' })).body['summary']).toMatchObject({
      total: 0,
      byStatus: [],
    });
    const anonymous = await post(platform, SUMMARY, { RequestInfo: requestInfo, criteria: { tenantId: 'pb.amritsar', ...TWO_WEEKS } });
    expect(anonymous.status).toBe(401);
  });

  it('refuses bad criteria with a 400 in DIGIT error shape', async () => {
    const headers = await admin();
    const cases: Array<[Json, string | undefined]> = [
      [{ fromDate: T0 + DAY, toDate: T0 }, 'INVALID_DATE_RANGE'],
      [{ fromDate: T0, toDate: T0 + 367 * DAY }, 'INVALID_DATE_RANGE'],
      [{ ...TWO_WEEKS, serviceCode: 'NoSuchType' }, 'INVALID_SERVICECODE'],
      [{ ...TWO_WEEKS, department: 'DEPT_NONE' }, 'INVALID_DEPARTMENT'],
      [{ ...TWO_WEEKS, tenantId: 'pb.nowhere' }, undefined],
      [{ fromDate: -1, toDate: T0 }, undefined],
      [{ fromDate: 'yesterday', toDate: T0 }, undefined],
      [{ toDate: T0 }, undefined],
      [{ ...TWO_WEEKS, locality: "SUN04' OR 1=1" }, undefined],
      [{ ...TWO_WEEKS, extra: 1 }, undefined],
    ];
    for (const [criteria, code] of cases) {
      const res = await summary(headers, criteria);
      expect(res.status, JSON.stringify(criteria)).toBe(400);
      expect(isDigitError(res.body)).toBe(true);
      if (code) expect((res.body['Errors'] as Json[]).map((e) => e['code'])).toContain(code);
    }
    expect((await post(platform, SUMMARY, { RequestInfo: requestInfo }, headers)).status).toBe(400);
    // A full year (366 days) is allowed.
    expect((await summary(headers, { fromDate: T0, toDate: T0 + 366 * DAY })).status).toBe(200);
  });
});
