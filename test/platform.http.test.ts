import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlatform } from '../src/platform.js';
import { adminAuth, post, requestInfo, testDatabase, testPlatform, type TestPlatform } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the platform over HTTP', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await testPlatform({ config: { bodyLimit: 64 * 1024 } });
  });
  afterAll(async () => {
    await platform.drop();
  });

  it('answers liveness and readiness', async () => {
    expect((await platform.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    const ready = await platform.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'UP' });
  });

  it('exposes Prometheus metrics including request durations by route', async () => {
    await post(platform, '/mdms-v2/v2/_search', { MdmsCriteria: { tenantId: 'pb', schemaCode: 'tenant.tenants' } });
    const metrics = await platform.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(
      /plinth_http_request_duration_seconds_count\{method="POST",route="\/mdms-v2\/v2\/_search",status_code="200"\} \d+/,
    );
  });

  it('serves an OpenAPI document generated from the route schemas, and a docs page', async () => {
    const spec = (await platform.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Json;
    expect(spec['openapi']).toBe('3.1.0');
    expect(Object.keys(spec['paths'])).toEqual(
      expect.arrayContaining([
        '/mdms-v2/v2/_search',
        '/mdms-v2/v2/_create/{schemaCode}',
        '/mdms-v2/v1/_search',
        '/egov-mdms-service/v1/_search',
      ]),
    );
    const search = spec['paths']['/mdms-v2/v2/_search'].post;
    expect(JSON.stringify(search.requestBody)).toContain('MdmsCriteria');
    const docs = await platform.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });

  it('echoes x-correlation-id, or makes one', async () => {
    const echoed = await platform.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-correlation-id': 'abc-123' } });
    expect(echoed.headers['x-correlation-id']).toBe('abc-123');
    const made = await platform.app.inject({ method: 'GET', url: '/health/live' });
    expect(made.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await platform.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-correlation-id': 'bad id\twith spaces' },
    });
    expect(unsafe.headers['x-correlation-id']).not.toContain(' ');
    const search = await post(
      platform,
      '/mdms-v2/v2/_search',
      { MdmsCriteria: { tenantId: 'pb', schemaCode: 'tenant.tenants' } },
      { 'x-correlation-id': 'corr-1' },
    );
    expect((search.body['ResponseInfo'] as Json)['resMsgId']).toBe('corr-1');
  });

  it('answers unknown paths with 404 in DIGIT error shape', async () => {
    const response = await post(platform, '/no/such/_search', {});
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'NOT_FOUND' }] });
  });

  it('refuses an oversize body with 413 and writes nothing', async () => {
    const huge = { RequestInfo: requestInfo, Mdms: { tenantId: 'pb', data: { code: 'X', name: 'y'.repeat(100 * 1024) } } };
    const response = await post(platform, '/mdms-v2/v2/_create/common-masters.Department', huge, await adminAuth(platform));
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'PAYLOAD_TOO_LARGE' }] });
    const count = await post(platform, '/mdms-v2/v2/_count', {
      MdmsCriteria: { tenantId: 'pb', schemaCode: 'common-masters.Department', filters: { code: 'X' } },
    });
    expect(count.body['totalCount']).toBe(0);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const response = await platform.app.inject({
      method: 'POST',
      url: '/mdms-v2/v2/_search',
      headers: { 'content-type': 'text/csv' },
      payload: 'a,b',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'UNSUPPORTED_MEDIA_TYPE' }] });
  });

  it('refuses text no field can hold (NUL, unpaired surrogates) and malformed URLs, in DIGIT shape', async () => {
    for (const payload of [
      '{"MdmsCriteria":{"tenantId":"pb","schemaCode":"a\\u0000"}}',
      '{"MdmsCriteria":{"tenantId":"pb","filters":{"code":"\\ud800"}}}',
    ]) {
      const response = await post(platform, '/mdms-v2/v2/_search', payload);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'INVALID_CHARACTERS' }] });
    }
    // A correctly paired surrogate (an emoji) is fine.
    expect((await post(platform, '/mdms-v2/v2/_search', '{"MdmsCriteria":{"tenantId":"pb","schemaCode":"a.\\ud83d\\ude00"}}')).status).toBe(
      200,
    );
    expect((await post(platform, '/mdms-v2/v2/_search?tenantId=%00', { MdmsCriteria: { tenantId: 'pb' } })).body).toMatchObject({
      Errors: [{ code: 'INVALID_CHARACTERS' }],
    });
    const badUrl = await platform.app.inject({ method: 'POST', url: '/user/_search%E0%A4%A' });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json()).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'INVALID_URL' }] });
  });

  it('refuses numerals too large for any number (Ajv would coerce them to Infinity unchecked)', async () => {
    for (const query of ['offset=1e309', 'limit=-1E400', `offset=${'9'.repeat(400)}`]) {
      const response = await post(platform, `/boundary-service/boundary/_search?tenantId=pb&${query}`, {});
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'INVALID_REQUEST', params: ['querystring'] }] });
    }
    const body = await post(platform, '/mdms-v2/v2/_search', { MdmsCriteria: { tenantId: 'pb', limit: '1e999' } });
    expect(body.status).toBe(400);
    expect(body.body).toMatchObject({ Errors: [{ code: 'INVALID_REQUEST', params: ['the request body'] }] });
    // Ordinary numerals still work, as numbers and as numeral strings.
    expect((await post(platform, '/boundary-service/boundary/_search?tenantId=pb&offset=1e1', {})).status).toBe(200);
    expect((await post(platform, '/mdms-v2/v2/_search', { MdmsCriteria: { tenantId: 'pb', limit: '5' } })).status).toBe(200);
  });

  it('answers a rate-limited caller with 429 in DIGIT shape', async () => {
    const send = () =>
      post(
        platform,
        '/user-otp/v1/_send',
        { RequestInfo: {}, otp: { mobileNumber: '9000000001', tenantId: 'pb', type: 'login' } },
        { 'x-forwarded-for': '1.2.3.4' },
      );
    let last = await send();
    for (let i = 0; i < 20 && last.status !== 429; i++) last = await send();
    expect(last.status).toBe(429);
    expect(last.body).toMatchObject({
      ResponseInfo: null,
      Errors: [{ code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/retry in \d+ s/) }],
    });
  });

  it('answers deep nesting and huge strings with a 4xx, never a 5xx', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 2000; i++) deep = { a: deep };
    const nested = await post(platform, '/mdms-v2/v2/_search', { MdmsCriteria: { tenantId: 'pb', filters: deep } });
    expect(nested.status).toBeLessThan(500);
    const long = await post(platform, '/mdms-v2/v2/_search', { MdmsCriteria: { tenantId: 'p'.repeat(50_000) } });
    expect(long.status).toBe(400);
    // A condition per level (SQLite refuses expressions deeper than 1000): refused, not a 500.
    let layered: Record<string, unknown> = { tenantId: 'pb' };
    for (let i = 0; i < 1200; i++) layered = { tenantId: 'pb', a: layered };
    const conditions = await post(platform, '/mdms-v2/v2/_search', { MdmsCriteria: { tenantId: 'pb', filters: layered } });
    expect(conditions.status).toBe(400);
    expect(conditions.body).toMatchObject({ Errors: [{ code: 'INVALID_FILTERS' }] });
  });
});

describe('durability', () => {
  it('keeps data written through the API across a restart, and seeds only once', async () => {
    const db = await testDatabase();
    try {
      const first = await createPlatform(db.config, { seedOnFirstStart: true });
      await first.bootstrapAdmin();
      const auth = await adminAuth(first);
      const created = await post(
        first,
        '/mdms-v2/v2/_create/common-masters.Department',
        {
          RequestInfo: requestInfo,
          Mdms: { tenantId: 'pb', data: { code: 'DEPT_RESTART', name: 'Survives restarts', active: true } },
        },
        auth,
      );
      expect(created.status).toBe(202);
      // An operator's change to seeded data must survive the next start (no re-seed over it).
      const [tenant] = (
        await post(first, '/mdms-v2/v2/_search', {
          MdmsCriteria: { tenantId: 'pb', schemaCode: 'tenant.tenants', uniqueIdentifiers: ['pb.phagwara'] },
        })
      ).body['mdms'] as Json[];
      const deactivated = await post(first, '/mdms-v2/v2/_update/tenant.tenants', { Mdms: { ...tenant, isActive: false } }, auth);
      expect(deactivated.status).toBe(202);
      await first.stop();

      const second = await createPlatform(db.config, { seedOnFirstStart: true });
      const found = await post(second, '/mdms-v2/v2/_search', {
        MdmsCriteria: { tenantId: 'pb.amritsar', schemaCode: 'common-masters.Department', filters: { code: 'DEPT_RESTART' } },
      });
      expect((found.body['mdms'] as Json[]).map((m) => m['data'].name)).toEqual(['Survives restarts']);
      const phagwara = await post(second, '/mdms-v2/v2/_search', {
        MdmsCriteria: { tenantId: 'pb.phagwara', schemaCode: 'common-masters.Department' },
      });
      expect(phagwara.status).toBe(400); // no longer a tenant
      await second.stop();
    } finally {
      await db.drop();
    }
  });
});
