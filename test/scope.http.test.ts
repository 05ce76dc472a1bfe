import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, post, requestInfo, testPlatform, type TestPlatform } from './helpers.js';
import { SYSTEM_SCOPE } from '../src/kernel/scope.js';

/**
 * Issue #14, finding 1: the tenant check read only string tenantIds before validation, and Ajv then
 * coerced `["pb.amritsar"]` to `"pb.amritsar"`; a request naming no string tenant fell back to the
 * caller's own city. Each reproduction below answered 200 on 6201013; the kernel now checks every
 * tenant the validated request names against the caller's scope for the action.
 */

type Json = Record<string, unknown>;

let platform: TestPlatform;
let admin: Record<string, string>;
let jalandhar: Record<string, string>;
let amritsarMdmsAdmin: Record<string, string>;
let amritsar: Record<string, string>;

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  jalandhar = await employeeAuth(platform, admin, 'scope.jalandhar', ['EMPLOYEE'], 'pb.jalandhar');
  amritsar = await employeeAuth(platform, admin, 'scope.amritsar', ['EMPLOYEE'], 'pb.amritsar');
  amritsarMdmsAdmin = await employeeAuth(platform, admin, 'scope.mdms.amritsar', ['EMPLOYEE', 'MDMS_ADMIN'], 'pb.amritsar');
});
afterAll(() => platform.drop());

function expectRefused(response: { status: number; body: Json }, status: 400 | 401 | 403) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(isDigitError(response.body)).toBe(true);
}

const person = (tenantId: unknown) => ({
  tenantId,
  clientReferenceId: `scope-${Math.random().toString(36).slice(2, 10)}`,
  name: { givenName: 'Scope', familyName: 'Probe' },
  dateOfBirth: '14/03/1985',
  gender: 'FEMALE',
});

const broadcast = (tenantId: unknown) => ({
  tenantId,
  eventType: 'BROADCAST',
  eventCategory: 'PGR',
  name: 'Water cut',
  description: 'No water on Sunday',
  source: 'WEBAPP',
  recepient: null,
});

describe('finding 1: a one-element array no longer carries a request into another city', () => {
  it('user search: a pb.jalandhar employee cannot search Amritsar in any shape', async () => {
    for (const body of [{ tenantId: ['pb.amritsar'] }, { tenantId: 'pb.amritsar' }, { tenantId: 'pb.jalandhar,pb.amritsar' }]) {
      expectRefused(await post(platform, '/user/v1/_search', { RequestInfo: requestInfo, ...body }), 401);
      expectRefused(await post(platform, '/user/v1/_search', { RequestInfo: requestInfo, ...body }, jalandhar), 403);
    }
    expectRefused(await post(platform, '/user/v1/_search?tenantId=pb.amritsar', { RequestInfo: requestInfo, tenantId: 'pb.jalandhar' }, jalandhar), 403);
    // Two tenants where the schema takes one: refused before anything else.
    expectRefused(await post(platform, '/user/v1/_search', { RequestInfo: requestInfo, tenantId: ['pb.jalandhar', 'pb.amritsar'] }, jalandhar), 400);
    const own = await post(platform, '/user/v1/_search', { RequestInfo: requestInfo, tenantId: ['pb.jalandhar'] }, jalandhar);
    expect(own.status, JSON.stringify(own.body)).toBe(200);
  });

  it("user search: naming no tenant searches the caller's scope only, never the whole platform", async () => {
    // User search takes no tenant (a citizen asks for their own record); the store filters by scope.
    const missing = await post(platform, '/user/v1/_search', { RequestInfo: requestInfo, userName: 'admin' }, jalandhar);
    expect(missing.status, JSON.stringify(missing.body)).toBe(200);
    expect(missing.body['user']).toEqual([]);
    const own = await post(platform, '/user/v1/_search', { RequestInfo: requestInfo, roleCodes: ['EMPLOYEE', 'SUPERUSER', 'GRO'], pageSize: 500 }, jalandhar);
    expect(own.status).toBe(200);
    const tenants = new Set((own.body['user'] as Array<{ tenantId: string }>).map((u) => u.tenantId));
    expect(tenants.size).toBeGreaterThan(0);
    expect([...tenants].every((t) => t === 'pb.jalandhar' || t.startsWith('pb.jalandhar.')), [...tenants].join(',')).toBe(true);
  });

  it('a tenantId of another type is a 400 in DIGIT\'s shape', async () => {
    for (const tenantId of [7, { $ne: null }, [['pb.jalandhar']], true]) {
      const response = await post(platform, '/user/v1/_search', { RequestInfo: requestInfo, tenantId }, jalandhar);
      expectRefused(response, 400);
      expect(response.body['Errors']).toEqual([expect.objectContaining({ code: 'INVALID_TENANT_ID' })]);
    }
  });

  it('MDMS: a city MDMS_ADMIN cannot write a state-level role-action with Mdms.tenantId ["pb"]', async () => {
    const url = '/mdms-v2/v2/_create/ACCESSCONTROL-ROLEACTIONS.roleactions';
    const data = { rolecode: 'EMPLOYEE', actionid: 1, actioncode: '', tenantId: 'pb' };
    for (const tenantId of [['pb'], 'pb', ['pb.jalandhar']]) {
      expectRefused(await post(platform, url, { RequestInfo: requestInfo, Mdms: { tenantId, schemaCode: 'ACCESSCONTROL-ROLEACTIONS.roleactions', data } }, amritsarMdmsAdmin), 403);
    }
    // The record's own tenantId counts too: naming the city outside, the state inside, is refused.
    expectRefused(await post(platform, url, { RequestInfo: requestInfo, Mdms: { tenantId: 'pb.amritsar', schemaCode: 'ACCESSCONTROL-ROLEACTIONS.roleactions', data } }, amritsarMdmsAdmin), 403);
    const [kept] = await platform.mdms.service.searchData({ tenantId: 'pb', schemaCode: 'ACCESSCONTROL-ROLEACTIONS.roleactions', uniqueIdentifiers: ['EMPLOYEE.1'] }, SYSTEM_SCOPE);
    expect(kept).toBeUndefined();
  });

  it('individual: a pb.jalandhar employee cannot register a person in Amritsar', async () => {
    for (const tenantId of [['pb.amritsar'], 'pb.amritsar']) {
      expectRefused(await post(platform, '/individual/v1/_create', { RequestInfo: requestInfo, Individual: person(tenantId) }, jalandhar), 403);
      expectRefused(await post(platform, '/individual/v1/bulk/_create', { RequestInfo: requestInfo, Individuals: [person(tenantId)] }, jalandhar), 403);
    }
    const found = await post(platform, '/individual/v1/_search?tenantId=pb.amritsar&limit=100&offset=0', { RequestInfo: requestInfo, Individual: {} }, admin);
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect((found.body['Individual'] as Json[]).filter((i) => (i['name'] as Json)['givenName'] === 'Scope')).toEqual([]);
  });

  it('user events: a pb.jalandhar employee cannot broadcast in Amritsar', async () => {
    for (const tenantId of [['pb.amritsar'], 'pb.amritsar']) {
      expectRefused(await post(platform, '/egov-user-event/v1/events/_create', { RequestInfo: requestInfo, events: [broadcast(tenantId)] }, jalandhar), 403);
    }
    const own = await post(platform, '/egov-user-event/v1/events/_create', { RequestInfo: requestInfo, events: [broadcast(['pb.jalandhar'])] }, jalandhar);
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    const amritsarEvents = await post(platform, '/egov-user-event/v1/events/_search?tenantId=pb.amritsar', { RequestInfo: requestInfo }, amritsar);
    expect(amritsarEvents.status, JSON.stringify(amritsarEvents.body)).toBe(200);
    expect(amritsarEvents.body['events']).toEqual([]);
  });

  it('notification log: a pb.jalandhar employee cannot read Amritsar\'s', async () => {
    for (const tenantId of [['pb.amritsar'], 'pb.amritsar']) {
      const response = await post(platform, '/notification/v1/_search', { RequestInfo: requestInfo, criteria: { tenantId } }, jalandhar);
      expect(response.status, JSON.stringify(response.body)).toBe(403);
    }
  });

  it('the query\'s tenant is checked as well as the body\'s', async () => {
    expectRefused(await post(platform, '/egov-user-event/v1/events/_search?tenantId=pb.jalandhar,pb.amritsar', { RequestInfo: requestInfo }, jalandhar), 403);
    // A repeated parameter is no string: refused by the schema.
    expectRefused(await post(platform, '/egov-user-event/v1/events/_search?tenantId=pb.jalandhar&tenantId=pb.amritsar', { RequestInfo: requestInfo }, jalandhar), 400);
  });
});
