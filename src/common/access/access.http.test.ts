import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { systemClock } from '../../kernel/clock.js';
import { createOutbox } from '../../kernel/events.js';
import { createHttpApp, type HttpApp } from '../../kernel/http.js';
import { createMetrics } from '../../kernel/metrics.js';
import type { ModuleInstance } from '../../kernel/module.js';
import { scopeFor, type Scope } from '../../kernel/scope.js';
import { accessModule, type AccessApi } from './index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// The platform does not register the access module yet, so the routes get an app of their own.
let platform: TestPlatform;
let app: HttpApp;
let access: ModuleInstance<AccessApi>;
const routeConfigs = new Map<string, unknown>();
beforeAll(async () => {
  platform = await testPlatform();
  app = await createHttpApp({ config: platform.config, metrics: createMetrics({ defaultMetrics: false }), version: 'test' });
  const outbox = createOutbox(platform.database, systemClock, () => platform.dispatcher.kick());
  access = accessModule.create(
    {
      config: platform.config,
      database: platform.database,
      clock: systemClock,
      outbox,
      dispatcher: platform.dispatcher,
      changes: platform.changes,
      logger: app.log,
    },
    { mdms: platform.mdms },
  );
  // No kernel auth on this bare app: each request gets the scope the kernel would give a state administrator.
  app.decorateRequest('scope', null as unknown as Scope);
  app.addHook('preHandler', async (request) => {
    request.scope = scopeFor(null, ['pb']);
  });
  app.addHook('onRoute', (route) => void routeConfigs.set(route.url, route.config));
  access.routes?.(app);
  await app.ready();
});
afterAll(async () => {
  await access.stop?.();
  await app.close();
  await platform.drop();
});

async function post(url: string, body: unknown) {
  const response = await app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: response.statusCode, text: response.body, json: () => response.json() as Json };
}

const authorize = (roles: object[], uri: string, tenantIds: string[]) =>
  post('/access/v1/actions/_authorize', { RequestInfo: {}, AuthorizationRequest: { roles, uri, tenantIds } });

describe('POST /access/v1/actions/_authorize', () => {
  it('answers 200 with an empty body when the roles allow the URI on the tenants', async () => {
    const response = await authorize(
      [{ code: 'GRO', name: 'Grievance Routing Officer', tenantId: 'pb.amritsar', id: null }],
      '/egov-workflow-v2/egov-wf/process/_transition',
      ['pb.amritsar'],
    );
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
  });

  it('answers 401 with an empty body otherwise', async () => {
    const otherCity = await authorize([{ code: 'GRO', tenantId: 'pb.amritsar' }], '/egov-workflow-v2/egov-wf/process/_transition', [
      'pb.jalandhar',
    ]);
    expect(otherCity.status).toBe(401);
    expect(otherCity.text).toBe('');
    expect((await authorize([{ code: 'GRO', tenantId: 'pb' }], '/no/such/_api', ['pb'])).status).toBe(401);
    expect((await authorize([{ code: 'SUPERUSER', tenantId: 'pb' }], '/egov-hrms/employees/_search', [])).status).toBe(401);
    // A role without a tenant covers nothing.
    expect((await authorize([{ code: 'SUPERUSER' }], '/egov-hrms/employees/_search', ['pb'])).status).toBe(401);
  });

  it('reads lower-case envelope keys, and refuses a request without AuthorizationRequest with 400', async () => {
    const lower = await post('/access/v1/actions/_authorize', {
      requestInfo: {},
      authorizationRequest: {
        roles: [{ code: 'MDMS_ADMIN', tenantId: 'pb' }],
        uri: '/mdms-v2/v2/_update/common-masters.Department',
        tenantIds: ['pb'],
      },
    });
    expect(lower.status).toBe(200);
    const missing = await post('/access/v1/actions/_authorize', { RequestInfo: {} });
    expect(missing.status).toBe(400);
    expect(missing.json()['Errors'][0]).toMatchObject({ code: 'INVALID_REQUEST' });
  });
});

describe('POST /access/v1/actions/_search and mdms/_get', () => {
  it('lists the actions of the roles under lower-case keys, with status "200 OK"', async () => {
    for (const url of ['/access/v1/actions/_search', '/access/v1/actions/mdms/_get']) {
      const response = await post(url, {
        RequestInfo: requestInfo,
        roleCodes: ['CITIZEN'],
        tenantId: 'pb',
        actionMaster: 'actions-test',
        enabled: false,
      });
      expect(response.status).toBe(200);
      const body = response.json();
      expect(body['responseInfo']).toMatchObject({ apiId: 'Rainmaker', msgId: requestInfo.msgId, status: '200 OK' });
      expect(body['actions'].length).toBeGreaterThan(0);
      expect(body['actions'][0]).toEqual(
        expect.objectContaining({
          id: expect.any(Number),
          url: expect.any(String),
          displayName: expect.any(String),
          enabled: false,
          createdDate: null,
        }),
      );
    }
  });

  it('refuses a search without roleCodes', async () => {
    expect((await post('/access/v1/actions/_search', { RequestInfo: requestInfo, tenantId: 'pb' })).status).toBe(400);
  });
});

describe('POST /access/v1/roles/_search, _create, _update', () => {
  it('finds roles by the comma-separated code and tenantId of the query', async () => {
    for (const url of ['/access/v1/roles/_search', '/access/v1/roles/mdms/_search']) {
      const response = await post(`${url}?code=SUPERUSER,EMPLOYEE&tenantId=pb`, { RequestInfo: requestInfo });
      expect(response.status).toBe(200);
      const body = response.json();
      expect(body['responseInfo']).toMatchObject({ status: '200 OK', msgId: requestInfo.msgId });
      expect(body['roles'].map((r: Json) => r['code']).sort()).toEqual(['EMPLOYEE', 'SUPERUSER']);
      expect(Object.keys(body['roles'][0]).sort()).toEqual(['code', 'description', 'name']);
    }
    const all = await post('/access/v1/roles/_search?tenantId=pb.amritsar', { RequestInfo: requestInfo });
    expect(all.json()['roles'].length).toBeGreaterThanOrEqual(21);
  });

  it('needs a tenant (no caller yet to take it from) that exists', async () => {
    expect((await post('/access/v1/roles/_search?code=SUPERUSER', { RequestInfo: requestInfo })).status).toBe(400);
    const unknown = await post('/access/v1/roles/_search?tenantId=zz', { RequestInfo: requestInfo });
    expect(unknown.status).toBe(400);
    expect(unknown.json()['Errors'][0]['code']).toBe('INVALID_TENANT_ID');
  });

  it('creates and updates roles in the state master', async () => {
    const created = await post('/access/v1/roles/_create?tenantId=pb.amritsar', {
      RequestInfo: requestInfo,
      roles: [{ code: 'WS_CEMP', name: 'Water counter employee', description: 'Files water connection applications' }],
    });
    expect(created.status).toBe(200);
    expect(created.json()).toMatchObject({
      responseInfo: { status: '200 OK' },
      roles: [{ code: 'WS_CEMP', name: 'Water counter employee' }],
    });

    const updated = await post('/access/v1/roles/_update?tenantId=pb', {
      RequestInfo: requestInfo,
      roles: [{ code: 'WS_CEMP', name: 'Water clerk' }],
    });
    expect(updated.status).toBe(200);
    const found = await post('/access/v1/roles/_search?code=WS_CEMP&tenantId=pb.jalandhar', { RequestInfo: requestInfo });
    expect(found.json()['roles']).toEqual([{ code: 'WS_CEMP', name: 'Water clerk', description: 'Files water connection applications' }]);
  });

  it('refuses role codes outside the master rules, duplicates and unknown roles with 400', async () => {
    const lower = await post('/access/v1/roles/_create?tenantId=pb', { RequestInfo: requestInfo, roles: [{ code: 'lower', name: 'x' }] });
    expect(lower.status).toBe(400);
    const duplicate = await post('/access/v1/roles/_create?tenantId=pb', {
      RequestInfo: requestInfo,
      roles: [{ code: 'EMPLOYEE', name: 'Employee' }],
    });
    expect(duplicate.json()['Errors'][0]['code']).toBe('DUPLICATE_ROLE_CODE');
    const unknown = await post('/access/v1/roles/_update?tenantId=pb', { RequestInfo: requestInfo, roles: [{ code: 'NOPE', name: 'x' }] });
    expect(unknown.json()['Errors'][0]['code']).toBe('INVALID_ROLE_CODE');
    expect((await post('/access/v1/roles/_create', { RequestInfo: requestInfo, roles: [{ code: 'X', name: 'x' }] })).status).toBe(400);
  });

  it('marks _authorize open and every other access route protected', () => {
    const accessRoutes = [...routeConfigs.keys()].filter((url) => url.startsWith('/access/'));
    expect(accessRoutes).toHaveLength(7);
    const open = accessRoutes.filter((url) => (routeConfigs.get(url) as { open?: boolean } | undefined)?.open === true);
    expect(open).toEqual(['/access/v1/actions/_authorize']);
  });
});
