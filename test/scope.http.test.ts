import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, post, requestInfo, testPlatform, type TestPlatform } from './helpers.js';
import { SYSTEM_SCOPE } from '../src/kernel/scope.js';

/**
 * Issue #14, finding 1: the tenant check read only string tenantIds before validation, and Ajv then
 * coerced `["pb.amritsar"]` to `"pb.amritsar"`; a request naming no string tenant fell back to the
 * caller's own city. The kernel now checks every tenant the validated request names against the
 * caller's scope for the action.
 *
 * One test per route and shape, so a run against 6201013 shows which shapes got through there: every
 * `regression` case fails on 6201013 (the kernel let it through; all but the bulk create then read
 * or wrote Amritsar's data). `control` cases were refused there too; they are here so each refusal
 * is shown to come from the tenant, not from a missing action (the same caller in its own city is
 * let through) nor from another shape of the request.
 */

type Json = Record<string, unknown>;
type Auth = Record<string, string>;

let platform: TestPlatform;
let admin: Auth;
let jalandhar: Auth;
let jalandharOperator: Auth;
let amritsar: Auth;
let amritsarMdmsAdmin: Auth;

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  jalandhar = await employeeAuth(platform, admin, 'scope.jalandhar', ['EMPLOYEE'], 'pb.jalandhar');
  // Notification search is for operators only (finding 13): the operator has the action in its city.
  jalandharOperator = await employeeAuth(platform, admin, 'scope.jalandhar.ops', ['EMPLOYEE', 'NOTIFICATION_ADMIN'], 'pb.jalandhar');
  amritsar = await employeeAuth(platform, admin, 'scope.amritsar', ['EMPLOYEE'], 'pb.amritsar');
  amritsarMdmsAdmin = await employeeAuth(platform, admin, 'scope.mdms.amritsar', ['EMPLOYEE', 'MDMS_ADMIN'], 'pb.amritsar');
});
afterAll(() => platform.drop());

function expectRefused(response: { status: number; body: Json }, status: 400 | 401 | 403) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(isDigitError(response.body)).toBe(true);
}

function expectOk(response: { status: number; body: Json }) {
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}

const userSearch = (body: Json, auth?: Auth, query = '') =>
  post(platform, `/user/v1/_search${query}`, { RequestInfo: requestInfo, ...body }, auth);
const tenantsOf = (body: Json) => new Set(((body['user'] ?? []) as Array<{ tenantId: string }>).map((u) => u.tenantId));

describe('finding 1, user search: a pb.jalandhar employee cannot search Amritsar', () => {
  it('regression: a one-element array', async () => {
    const response = await userSearch({ tenantId: ['pb.amritsar'] }, jalandhar);
    expectRefused(response, 403);
  });

  it('regression: the query names the own city, the body another in an array', async () => {
    expectRefused(await userSearch({ tenantId: ['pb.amritsar'] }, jalandhar, '?tenantId=pb.jalandhar'), 403);
  });

  it("regression: naming no tenant answers nobody outside the caller's scope", async () => {
    // User search takes no tenant (a citizen asks for their own record); the store filters by scope.
    const admins = await userSearch({ userName: 'admin' }, jalandhar);
    expectOk(admins);
    expect(admins.body['user']).toEqual([]);
    const everyone = await userSearch({ roleCodes: ['EMPLOYEE', 'SUPERUSER', 'GRO'], pageSize: 500 }, jalandhar);
    expectOk(everyone);
    const tenants = tenantsOf(everyone.body);
    expect(tenants.size).toBeGreaterThan(0);
    expect(
      [...tenants].every((t) => t === 'pb.jalandhar' || t.startsWith('pb.jalandhar.')),
      [...tenants].join(','),
    ).toBe(true);
  });

  it("regression: a tenantId of another type is a 400 in DIGIT's shape, never a search", async () => {
    for (const tenantId of [7, { $ne: null }, [['pb.jalandhar']], true]) {
      const response = await userSearch({ tenantId }, jalandhar);
      expectRefused(response, 400);
      expect(response.body['Errors']).toEqual([expect.objectContaining({ code: 'INVALID_TENANT_ID' })]);
    }
  });

  it('control: a string, a comma list, the query, or no token', async () => {
    for (const tenantId of ['pb.amritsar', 'pb.jalandhar,pb.amritsar']) {
      expectRefused(await userSearch({ tenantId }), 401);
      expectRefused(await userSearch({ tenantId }, jalandhar), 403);
    }
    expectRefused(await userSearch({ tenantId: ['pb.amritsar'] }), 401);
    expectRefused(await userSearch({ tenantId: 'pb.jalandhar' }, jalandhar, '?tenantId=pb.amritsar'), 403);
  });

  it('control: two tenants where the schema takes one are refused; the own city in an array is searched', async () => {
    expectRefused(await userSearch({ tenantId: ['pb.jalandhar', 'pb.amritsar'] }, jalandhar), 400);
    const own = await userSearch({ tenantId: ['pb.jalandhar'], pageSize: 500 }, jalandhar);
    expectOk(own);
    expect([...tenantsOf(own.body)]).toEqual(['pb.jalandhar']);
  });
});

describe('finding 1, MDMS: a city MDMS_ADMIN cannot write a state-level role-action', () => {
  const url = '/mdms-v2/v2/_create/ACCESSCONTROL-ROLEACTIONS.roleactions';
  const schemaCode = 'ACCESSCONTROL-ROLEACTIONS.roleactions';
  // Each case would give CITIZEN a SUPERUSER-only access-control action, a different one per case.
  const create = (tenantId: unknown, actionid: number, recordTenant: string) =>
    post(
      platform,
      url,
      {
        RequestInfo: requestInfo,
        Mdms: { tenantId, schemaCode, data: { rolecode: 'CITIZEN', actionid, actioncode: '', tenantId: recordTenant } },
      },
      amritsarMdmsAdmin,
    );
  const stored = async (actionid: number) => {
    const rows = await platform.mdms.service.searchData({ tenantId: 'pb', schemaCode, uniqueIdentifiers: [`CITIZEN.${actionid}`] }, SYSTEM_SCOPE);
    return rows.map((r) => r.tenantId);
  };

  it('regression: Mdms.tenantId ["pb"] with the record naming the own city (the reproduction)', async () => {
    expectRefused(await create(['pb'], 101, 'pb.amritsar'), 403);
    expect(await stored(101)).toEqual([]);
  });

  it('control: Mdms.tenantId "pb" or ["pb"] with the record naming the state', async () => {
    expectRefused(await create('pb', 103, 'pb'), 403);
    expectRefused(await create(['pb'], 104, 'pb'), 403);
    expect([...(await stored(103)), ...(await stored(104))]).toEqual([]);
  });

  it('control: nested, the own city outside and the state in the record', async () => {
    expectRefused(await create('pb.amritsar', 105, 'pb'), 403);
    expectRefused(await create(['pb.jalandhar'], 107, 'pb.jalandhar'), 403);
    expect([...(await stored(105)), ...(await stored(107))]).toEqual([]);
  });

  it('control: in its own city the MDMS_ADMIN gets past the kernel', async () => {
    // Role-actions are read at the state only, so MDMS now refuses a city's (400); 6201013 stored it (202).
    // Either way the kernel let it through: the refusals above are the tenant's, not the action's.
    const response = await create(['pb.amritsar'], 108, 'pb.amritsar');
    expect([400, 202], JSON.stringify(response.body)).toContain(response.status);
    expect(await stored(108)).toEqual([]);
  });
});

/** A person to register, named by the case so each case counts only its own records. */
const person = (tenantId: unknown, marker: string) => ({
  tenantId,
  clientReferenceId: `scope-${Math.random().toString(36).slice(2, 10)}`,
  name: { givenName: marker, familyName: 'Probe' },
  dateOfBirth: '14/03/1985',
  gender: 'FEMALE',
});

describe('finding 1, individual: a pb.jalandhar employee cannot register a person in Amritsar', () => {
  const create = (path: string, body: Json) => post(platform, path, { RequestInfo: requestInfo, ...body }, jalandhar);
  const registered = async (tenantId: string, marker: string) => {
    const found = await post(
      platform,
      `/individual/v1/_search?tenantId=${tenantId}&limit=100&offset=0`,
      { RequestInfo: requestInfo, Individual: { name: { givenName: marker } } },
      admin,
    );
    expectOk(found);
    return (found.body['Individual'] as Json[]).length;
  };

  it('regression: Individual.tenantId as a one-element array', async () => {
    expectRefused(await create('/individual/v1/_create', { Individual: person(['pb.amritsar'], 'Scopearray') }), 403);
    expect(await registered('pb.amritsar', 'Scopearray')).toBe(0);
  });

  // 6201013 let this one through the kernel too; the bulk path then refused the record itself
  // (200 with INVALID_RECORD "tenantId must be string"), so nothing was written there.
  it('regression: nested in a bulk create, refused by the kernel', async () => {
    expectRefused(await create('/individual/v1/bulk/_create', { Individuals: [person(['pb.amritsar'], 'Scopebulk')] }), 403);
    expect(await registered('pb.amritsar', 'Scopebulk')).toBe(0);
  });

  it('regression: the query names the own city, the body Amritsar in an array', async () => {
    expectRefused(await create('/individual/v1/_create?tenantId=pb.jalandhar', { Individual: person(['pb.amritsar'], 'Scopequery') }), 403);
    expect(await registered('pb.amritsar', 'Scopequery')).toBe(0);
  });

  it('control: a string is refused, a missing tenant is a 400, the own city is registered', async () => {
    expectRefused(await create('/individual/v1/_create', { Individual: person('pb.amritsar', 'Scopestring') }), 403);
    expectRefused(await create('/individual/v1/_create', { Individual: person(undefined, 'Scopestring') }), 400);
    expect(await registered('pb.amritsar', 'Scopestring')).toBe(0);
    expectOk(await create('/individual/v1/_create', { Individual: person(['pb.jalandhar'], 'Scopeown') }));
    expect(await registered('pb.jalandhar', 'Scopeown')).toBe(1);
  });
});

/** A broadcast, named by the case so each case looks only for its own events. */
const broadcast = (tenantId: unknown, name: string) => ({
  tenantId,
  eventType: 'BROADCAST',
  eventCategory: 'PGR',
  name,
  description: 'No water on Sunday',
  source: 'WEBAPP',
  recepient: null,
});

describe('finding 1, user events: a pb.jalandhar employee cannot broadcast in Amritsar', () => {
  const create = (events: Json[], query = '') =>
    post(platform, `/egov-user-event/v1/events/_create${query}`, { RequestInfo: requestInfo, events }, jalandhar);
  const named = async (tenantId: string, reader: Auth, name: string) => {
    const found = await post(platform, `/egov-user-event/v1/events/_search?tenantId=${tenantId}`, { RequestInfo: requestInfo }, reader);
    expectOk(found);
    return (found.body['events'] as Json[]).filter((e) => e['name'] === name).length;
  };

  it('regression: events[].tenantId as a one-element array', async () => {
    expectRefused(await create([broadcast(['pb.amritsar'], 'Scope array')]), 403);
    expect(await named('pb.amritsar', amritsar, 'Scope array')).toBe(0);
  });

  it('regression: the query names the own city, the event Amritsar in an array', async () => {
    expectRefused(await create([broadcast(['pb.amritsar'], 'Scope query')], '?tenantId=pb.jalandhar'), 403);
    expect(await named('pb.amritsar', amritsar, 'Scope query')).toBe(0);
  });

  it('control: a string is refused; the own city in an array is broadcast', async () => {
    expectRefused(await create([broadcast('pb.amritsar', 'Scope string')]), 403);
    expect(await named('pb.amritsar', amritsar, 'Scope string')).toBe(0);
    expectOk(await create([broadcast(['pb.jalandhar'], 'Scope own')]));
    expect(await named('pb.jalandhar', jalandhar, 'Scope own')).toBe(1);
  });

  it("control: the search's query tenant is checked", async () => {
    expectRefused(
      await post(platform, '/egov-user-event/v1/events/_search?tenantId=pb.jalandhar,pb.amritsar', { RequestInfo: requestInfo }, jalandhar),
      403,
    );
  });

  it('a repeated query parameter is no string: refused by the schema (6201013 refused it as 403)', async () => {
    expectRefused(
      await post(
        platform,
        '/egov-user-event/v1/events/_search?tenantId=pb.jalandhar&tenantId=pb.amritsar',
        { RequestInfo: requestInfo },
        jalandhar,
      ),
      400,
    );
  });
});

describe("finding 1, notification log: a pb.jalandhar operator cannot read Amritsar's", () => {
  const search = (criteria: Json, query = '', auth = jalandharOperator) =>
    post(platform, `/notification/v1/_search${query}`, { RequestInfo: requestInfo, criteria }, auth);

  beforeAll(async () => {
    // One message in Amritsar's log.
    const request = {
      tenantId: 'pb.amritsar',
      templateKey: 'PGR_CITIZEN_ASSIGN_PENDINGATLME_SMS_MESSAGE',
      localizationModule: 'rainmaker-pgr',
      params: {},
      recipients: [{ mobileNumber: '9800000777' }],
      channels: ['SMS' as const],
      module: 'pgr',
      referenceId: 'SCOPE-PROBE',
      idempotencyKey: 'scope-probe',
    };
    await platform.database.transaction((tx) => platform.notification.notify(tx, request));
    for (let i = 0; i < 3; i++) await platform.dispatcher.deliverPending();
    const logged = await search({ tenantId: 'pb.amritsar', referenceId: 'SCOPE-PROBE' }, '', admin);
    expectOk(logged);
    expect(logged.body['totalCount']).toBe(1);
  });

  it('regression: criteria.tenantId as a one-element array', async () => {
    expectRefused(await search({ tenantId: ['pb.amritsar'], referenceId: 'SCOPE-PROBE' }), 403);
  });

  it('regression: the query names the own city, the criteria Amritsar in an array', async () => {
    expectRefused(await search({ tenantId: ['pb.amritsar'], referenceId: 'SCOPE-PROBE' }, '?tenantId=pb.jalandhar'), 403);
  });

  it('control: a string is refused, a missing tenant is a 400; the own city in an array is searched', async () => {
    expectRefused(await search({ tenantId: 'pb.amritsar' }), 403);
    expectRefused(await search({ referenceId: 'SCOPE-PROBE' }), 400);
    const own = await search({ tenantId: ['pb.jalandhar'] });
    expectOk(own);
    expect(own.body['messages']).toEqual([]);
  });
});
