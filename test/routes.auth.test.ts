import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT, generateKeyPair } from 'jose';
import { installAuth, type UserInfo } from '../src/kernel/auth.js';
import { loadConfig } from '../src/kernel/config.js';
import { createHttpApp, routeTable, type HttpApp, type RouteEntry } from '../src/kernel/http.js';
import { createMetrics } from '../src/kernel/metrics.js';
import { isDigitError, testPlatform, WEB_STAND_IN } from './helpers.js';

/**
 * Every route of the platform is walked from its own route table, so a route added tomorrow is
 * checked without anyone editing this file: a call without a token must be refused (401, DIGIT's
 * error shape) unless the route is marked `open` (public) or `anonymous` (DIGIT's mixed mode).
 */

const platform = await testPlatform({ config: { webDir: WEB_STAND_IN } });
afterAll(() => platform.drop());

const routes = routeTable(platform.app);
const name = (route: Pick<RouteEntry, 'method' | 'url'>) => `${route.method} ${route.url}`;
const protectedRoutes = routes.filter((r) => !r.open && !r.anonymous);
const anonymousRoutes = routes.filter((r) => r.anonymous);

// The bootstrap administrator, whose identity the forged tokens below claim.
const [admin] = await platform.users.service.search({ userName: 'admin', tenantId: 'pb' }, { pageSize: 1 });
if (!admin) throw new Error('the bootstrap administrator is missing');
const jwks = (await platform.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: Array<{ kid?: string }> };
const realKid = jwks.keys[0]?.kid ?? 'unknown';

// A well-formed token with the real key id, issuer and the admin's subject, signed with another Ed25519 key.
const { privateKey: strangerKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
const nowSeconds = Math.floor(Date.now() / 1000);
const forgedJwt = await new SignJWT({ tid: 'pb', typ: 'EMPLOYEE' })
  .setProtectedHeader({ alg: 'EdDSA', kid: realKid, typ: 'JWT' })
  .setIssuer('plinth')
  .setSubject(admin.uuid)
  .setJti(randomBytes(8).toString('hex'))
  .setIssuedAt(nowSeconds)
  .setExpirationTime(nowSeconds + 3600)
  .sign(strangerKey);
// The same claims, unsigned ("alg": "none").
const unsignedJwt = new UnsecuredJWT({ tid: 'pb', typ: 'EMPLOYEE' })
  .setIssuer('plinth')
  .setSubject(admin.uuid)
  .setJti(randomBytes(8).toString('hex'))
  .setExpirationTime(nowSeconds + 3600)
  .encode();
const randomToken = randomBytes(24).toString('base64url');

const forgedTokens: Record<string, string> = { 'a JWT signed with a foreign Ed25519 key': forgedJwt, 'an unsigned JWT': unsignedJwt, 'a random string': randomToken };

/** The three places DIGIT clients put a token (see tokenOf in src/kernel/auth.ts). */
type Carrier = 'bearer' | 'auth-token' | 'RequestInfo.authToken';
const carriers: readonly Carrier[] = ['bearer', 'auth-token', 'RequestInfo.authToken'];

const SAMPLE_PARAMS: Record<string, string> = { schemaCode: 'common-masters.Department' };

/** A concrete path for a route pattern: `:schemaCode` → a sample code, `*` → a file name. */
function concreteUrl(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, (_m, param: string) => SAMPLE_PARAMS[param] ?? 'sample').replace(/\*/g, 'index.html');
}

type Probe = { status: number; body: string; json: unknown };

/** One call with a plausible DIGIT body, anonymous unless a token and its carrier are given. */
async function probe(app: HttpApp, route: Pick<RouteEntry, 'method' | 'url'>, token?: string, carrier: Carrier = 'bearer'): Promise<Probe> {
  const requestInfo: Record<string, unknown> = { apiId: 'Rainmaker', msgId: 'route-auth-check' };
  const headers: Record<string, string> = {};
  if (token !== undefined) {
    if (carrier === 'bearer') headers['authorization'] = `Bearer ${token}`;
    else if (carrier === 'auth-token') headers['auth-token'] = token;
    else requestInfo['authToken'] = token;
  }
  const hasPayload = route.method !== 'GET' && route.method !== 'HEAD';
  const response = await app.inject({
    method: route.method as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: concreteUrl(route.url),
    headers: hasPayload ? { ...headers, 'content-type': 'application/json' } : headers,
    ...(hasPayload ? { payload: JSON.stringify({ RequestInfo: requestInfo, tenantId: 'pb' }) } : {}),
  });
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, body: response.body, json };
}


/** The check every protected route must pass: refused with 401 in DIGIT's shape. */
function isRefusal(response: Probe): boolean {
  return response.status === 401 && isDigitError(response.json);
}

const show = (route: Pick<RouteEntry, 'method' | 'url'>, response: Probe) => `${name(route)} answered ${response.status}: ${response.body.slice(0, 500)}`;

describe('every route refuses anonymous callers unless it is marked open or anonymous', () => {
  it('finds the routes to check (the route table is not empty)', () => {
    expect(routes.length).toBeGreaterThan(20);
    expect(protectedRoutes.length).toBeGreaterThan(10);
  });

  it.each(protectedRoutes.map((r) => [name(r), r] as const))('%s answers 401 without a token', async (_label, route) => {
    const response = await probe(platform.app, route);
    expect(isRefusal(response), show(route, response)).toBe(true);
  });

  it.each(protectedRoutes.map((r) => [name(r), r] as const))('%s answers 401 to forged tokens', async (_label, route) => {
    for (const [kind, token] of Object.entries(forgedTokens)) {
      for (const carrier of carriers) {
        const response = await probe(platform.app, route, token, carrier);
        expect(isRefusal(response), `${kind} in ${carrier}: ${show(route, response)}`).toBe(true);
      }
    }
  });

  it.each(anonymousRoutes.map((r) => [name(r), r] as const))('%s (mixed mode) serves anonymous callers but refuses forged tokens', async (_label, route) => {
    const anonymous = await probe(platform.app, route);
    expect(anonymous.status, show(route, anonymous)).not.toBe(401);
    expect(anonymous.status, show(route, anonymous)).toBeLessThan(500);
    for (const [kind, token] of Object.entries(forgedTokens)) {
      const forged = await probe(platform.app, route, token);
      expect(isRefusal(forged), `${kind}: ${show(route, forged)}`).toBe(true);
    }
  });

  /**
   * DELIBERATE REVIEW GATE: these are the only routes anyone may call without a token. Marking a
   * new route `open` (or `anonymous`) fails this test until the route is added here, so that the
   * change is seen and reviewed as a security decision, not slipped in with a feature.
   */
  it('has exactly the reviewed open routes', () => {
    expect(routes.filter((r) => r.open).map(name).sort()).toEqual(
      [
        'GET /docs',
        'GET /docs/json',
        'GET /docs/static/*',
        'GET /docs/static/index.html',
        'GET /docs/static/swagger-initializer.js',
        'GET /docs/yaml',
        'GET /openapi.json',
        'GET /.well-known/jwks.json',
        // exchange-trust: this agency's public signing keys, fetched by the agencies it sends to.
        'GET /exchange/v1/.well-known/jwks.json',
        // exchange-trust: authenticated by the message's signature against the registry of trusted agencies.
        'POST /exchange/v1/events/_receive',
        // shorturl: the short link travels in SMS and is followed by whoever receives it.
        'GET /egov-url-shortening/:id',
        'GET /eus/:id',
        // filestore: a signed, expiring link from /filestore/v1/files/url; the signature is the credential.
        'GET /filestore/v1/files/download/:name',
        // web apps: the pages and their static files are public; every API call they make is authorized.
        'GET /',
        'GET /assets/*',
        'GET /citizen',
        'GET /citizen/*',
        'GET /employee',
        'GET /employee/*',
        'GET /health/live',
        'GET /health/ready',
        'GET /localization/messages',
        'POST /localization/messages/v1/_search',
        'GET /metrics',
        'POST /access/v1/actions/_authorize',
        'POST /mdms-v2/schema/v1/_update',
        'POST /otp/v1/_validate',
        'POST /user-otp/v1/_send',
        'POST /user/_details',
        'POST /user/_logout',
        'POST /user/citizen/_create',
        'POST /user/oauth/token',
        'POST /user/password/nologin/_update',
      ].sort(),
    );
  });

  /** DELIBERATE REVIEW GATE, as above, for DIGIT's mixed mode (public reference data). */
  it('has exactly the reviewed anonymous (mixed-mode) routes', () => {
    expect(anonymousRoutes.map(name).sort()).toEqual(
      [
        'POST /boundary-service/boundary-hierarchy-definition/_search',
        'POST /boundary-service/boundary-relationships/_search',
        'POST /boundary-service/boundary/_search',
        'POST /egov-mdms-service/v1/_search',
        'POST /mdms-v2/schema/v1/_search',
        'POST /mdms-v2/v1/_search',
        'POST /mdms-v2/v2/_count',
        'POST /mdms-v2/v2/_search',
      ].sort(),
    );
  });

  it('marks no route both open and anonymous', () => {
    expect(routes.filter((r) => r.open && r.anonymous).map(name)).toEqual([]);
  });
});

describe('the check above can fail (the mechanism it relies on is real)', () => {
  const user: UserInfo = {
    id: 1,
    uuid: '00000000-0000-4000-8000-000000000001',
    userName: 'meta',
    name: null,
    mobileNumber: null,
    emailId: null,
    type: 'EMPLOYEE',
    tenantId: 'pb',
    roles: [{ code: 'SUPERUSER', tenantId: 'pb' }],
  };

  async function metaApp(): Promise<HttpApp> {
    const config = loadConfig({ DATA_DIR: os.tmpdir(), LOG_LEVEL: 'silent' });
    const app = await createHttpApp({ config, metrics: createMetrics({ defaultMetrics: false }), version: 'test' });
    installAuth(app, {
      authenticator: { authenticate: async (token) => (token === 'good-token' ? user : undefined) },
      authorizer: { isAuthorized: async () => true, scopeFor: async () => ['pb'] },
    });
    const ok = async () => ({ ok: true });
    app.post('/meta/forgot-the-flag', ok);
    app.post('/meta/public', { config: { open: true } }, ok);
    app.post('/meta/mixed', { config: { anonymous: true } }, ok);
    // Answers before authentication runs: unprotected although it is not marked open.
    app.post('/meta/bypasses-auth', { onRequest: async (_request, reply) => reply.send({ ok: true }) }, ok);
    await app.ready();
    return app;
  }

  it('refuses an anonymous call to a route registered without config.open, and serves one marked open', async () => {
    const app = await metaApp();
    try {
      const table = routeTable(app);
      const entry = (url: string) => table.find((r) => r.url === url)!;
      expect(entry('/meta/forgot-the-flag')).toMatchObject({ method: 'POST', open: false, anonymous: false });
      expect(entry('/meta/public')).toMatchObject({ open: true });
      expect(entry('/meta/mixed')).toMatchObject({ anonymous: true });

      const unflagged = await probe(app, entry('/meta/forgot-the-flag'));
      expect(unflagged.status).toBe(401);
      expect(isRefusal(unflagged)).toBe(true);
      expect((await probe(app, entry('/meta/forgot-the-flag'), 'good-token')).status).toBe(200);
      expect((await probe(app, entry('/meta/forgot-the-flag'), 'bad-token')).status).toBe(401);

      expect((await probe(app, entry('/meta/public'))).status).toBe(200);
      expect((await probe(app, entry('/meta/mixed'))).status).toBe(200);
      expect((await probe(app, entry('/meta/mixed'), 'bad-token')).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('flags a route that is not marked open but answers anonymous callers', async () => {
    const app = await metaApp();
    try {
      const flagged = [];
      for (const route of routeTable(app).filter((r) => !r.open && !r.anonymous)) {
        if (!isRefusal(await probe(app, route))) flagged.push(name(route));
      }
      expect(flagged).toEqual(['POST /meta/bypasses-auth']);
    } finally {
      await app.close();
    }
  });
});
