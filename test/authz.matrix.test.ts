import { afterAll, describe, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { templatePattern } from '../src/common/access/access.service.js';
import type { RoleGrant } from '../src/kernel/auth.js';
import { routeTable, type RouteEntry } from '../src/kernel/http.js';
import { stateTenantOf, tenantCovers } from '../src/kernel/tenancy.js';
import { adminAuth, login, post, testPlatform } from './helpers.js';

/**
 * Issue #14's authorization matrix, generated from the route table: every protected route, called by
 * every kind of caller, with the tenant in every shape, must answer what the role-actions say.
 *
 * - anonymous: 401 on protected routes; mixed-mode routes serve it (and 400 a missing tenant);
 * - a caller naming tenants: 403 unless every tenant named lies in a grant whose role the state's
 *   role-action mapping gives the route, else the kernel lets the call through (neither 401 nor 403);
 * - a caller naming none: 400, unless the route is reviewed below as taking no tenant.
 *
 * The role-actions are read from the platform's MDMS through the access service's menu search (not
 * the kernel's compiled mapping), so the expectation is computed apart from the code it checks.
 * Every route of the route table is called, listed here or not. A route that takes no tenant or
 * serves anonymous callers needs an entry in MATRIX: one added without fails here, and so does an
 * entry whose `tenant` does not match the route's config, so taking no tenant is always a reviewed
 * choice. A plain route (a tenant from the request, callers with a token) needs none, so a module
 * made by `plinth new-module` is checked here without an edit outside its folder.
 */

type Json = Record<string, unknown>;

type Entry = {
  /** The route takes no tenant (`config.tenant: 'none'`): naming none is no 400; a tenant it names is still checked. */
  tenant?: 'none';
  /** Whose records a citizen reaches on this route within its tenants (kept by the module's store). */
  owner?: string;
  /** A valid body, where the schema's patterned fields keep one from being generated. */
  body?: Json;
  /** A valid query, likewise. */
  query?: Record<string, string>;
  /** Why the handler may still refuse with 403 once the kernel has let the call through. */
  handler403?: string;
};

/** The reviewed table: every route taking no tenant or serving anonymous callers, and plain routes with a note or a hand-made body. */
const MATRIX: Record<string, Entry> = {
  "POST /mdms-v2/schema/v1/_create": {
    // The definition's `properties.tenantId` is a JSON Schema, not a tenant (config.tenantOpaque).
    body: { SchemaDefinition: { tenantId: 'pb', code: 'matrix.Probe', definition: { type: 'object', properties: { tenantId: { type: 'string' } } } } },
  },
  "POST /mdms-v2/schema/v1/_search": {},
  "POST /mdms-v2/v2/_create/:schemaCode": {},
  "POST /mdms-v2/v2/_update/:schemaCode": {},
  "POST /mdms-v2/v2/_search": {},
  "POST /mdms-v2/v2/_count": {},
  "POST /mdms-v2/v1/_search": {},
  "POST /egov-mdms-service/v1/_search": {},
  "POST /audit/v1/_search": {},
  // Without a tenant every chain is checked; it answers counts, no entries.
  "POST /audit/v1/_verify": { tenant: 'none' },
  "POST /access/v1/actions/_search": {},
  "POST /access/v1/actions/mdms/_get": {},
  "POST /access/v1/roles/_search": {},
  "POST /access/v1/roles/mdms/_search": {},
  "POST /access/v1/roles/_create": { body: { roles: [{ code: 'MATRIX_PROBE', name: 'Matrix probe' }] } },
  "POST /access/v1/roles/_update": { body: { roles: [{ code: 'MATRIX_PROBE', name: 'Matrix probe' }] } },
  "POST /user/users/_createnovalidate": {},
  // Found by uuid or id; the STORED user's tenant is checked against the scope, never the body's.
  "POST /user/users/_updatenovalidate": { tenant: 'none' },
  // Own profile: the user is the caller; a tenant named in the body is still checked.
  "POST /user/profile/_update": { tenant: 'none', owner: 'the caller\'s own record only' },
  // DIGIT's search needs no tenant: without one it answers the users of the caller's scope.
  "POST /user/_search": { tenant: 'none', owner: "a citizen's search answers their own record" },
  "POST /user/v1/_search": { tenant: 'none', owner: "a citizen's search answers their own record" },
  "POST /user/password/_update": { tenant: 'none', owner: 'the caller\'s own password only' },
  "POST /otp/v1/_create": {},
  "POST /boundary-service/boundary/_create": {},
  "POST /boundary-service/boundary/_search": {},
  "POST /boundary-service/boundary/_update": {},
  "POST /boundary-service/boundary-hierarchy-definition/_create": {},
  "POST /boundary-service/boundary-hierarchy-definition/_search": {},
  "POST /boundary-service/boundary-relationships/_create": {},
  "POST /boundary-service/boundary-relationships/_search": {},
  "POST /boundary-service/boundary-relationships/_update": {},
  "POST /localization/messages/v2/_search": {},
  "POST /localization/messages/v1/_upsert": {},
  "POST /localization/messages/v1/_create": {},
  "POST /localization/messages/v1/_update": {},
  "POST /localization/messages/v1/_delete": {},
  // Drops every process's message cache; names no tenant's data.
  "POST /localization/messages/cache-bust": { tenant: 'none' },
  "POST /egov-idgen/id/_generate": {},
  "POST /egov-idgen/id/_reserve": {},
  "POST /egov-idgen/id/reservation/_search": {},
  "POST /egov-workflow-v2/egov-wf/businessservice/_create": {},
  "POST /egov-workflow-v2/egov-wf/businessservice/_update": {},
  "POST /egov-workflow-v2/egov-wf/businessservice/_search": {},
  "POST /egov-workflow-v2/egov-wf/process/_transition": {},
  "POST /egov-workflow-v2/egov-wf/process/_search": {},
  "POST /egov-workflow-v2/egov-wf/process/_count": {},
  "POST /egov-workflow-v2/egov-wf/process/_statuscount": {},
  "POST /egov-workflow-v2/egov-wf/process/_nearingslacount": {},
  "POST /egov-workflow-v2/egov-wf/escalate/_search": {},
  // Escalation runs over every tenant of the business service (AUTO_ESCALATE, a system role).
  "POST /egov-workflow-v2/egov-wf/auto/:businessService/_escalate": { tenant: 'none' },
  "POST /egov-workflow-v2/egov-wf/auto/:businessService/_test": { tenant: 'none' },
  "POST /egov-enc-service/crypto/v1/_encrypt": { body: { encryptionRequests: [{ tenantId: 'pb.amritsar', type: 'Normal', value: 'matrix' }] } },
  // The body is the ciphertext structure; each ciphertext's key id names its state.
  "POST /egov-enc-service/crypto/v1/_decrypt": { tenant: 'none' },
  "POST /egov-enc-service/crypto/v1/_sign": {},
  "POST /egov-enc-service/crypto/v1/_verify": { tenant: 'none' },
  "POST /egov-enc-service/crypto/v1/_rotatekey": {},
  "GET /filestore/v1/files/url": {},
  "GET /filestore/v1/files/id": { owner: "a citizen reads the files they uploaded" },
  "GET /filestore/v1/files/tag": { owner: "a citizen lists the files they uploaded" },
  "GET /filestore/v1/files/metadata": {},
  // A short link for a URL; no tenant's data.
  "POST /egov-url-shortening/shortener": { tenant: 'none' },
  "POST /eus/shortener": { tenant: 'none' },
  "POST /egov-user-event/v1/events/_create": {},
  "POST /egov-user-event/v1/events/_update": {},
  "POST /egov-user-event/v1/events/_search": { owner: "a citizen sees broadcasts and the events addressed to them" },
  "POST /egov-user-event/v1/events/notifications/_count": {},
  "POST /egov-user-event/v1/events/lat/_update": {},
  "POST /notification/v1/_search": {},
  "POST /egov-hrms/employees/_search": { body: {}, query: {} },
  "POST /dedup/v1/review/_search": {},
  "POST /dedup/v1/review/_decide": {},
  "POST /dedup/v1/_check": {},
  "POST /dedup/v1/encodings/_search": {},
  "POST /dedup/v1/key/_get": {},
  "POST /individual/v1/_create": {},
  "POST /individual/v1/bulk/_create": {},
  "POST /individual/v1/_update": {},
  "POST /individual/v1/bulk/_update": {},
  "POST /individual/v1/_delete": {},
  "POST /individual/v1/bulk/_delete": {},
  "POST /individual/v1/_search": {},
  "POST /household/v1/_create": {},
  "POST /household/v1/bulk/_create": {},
  "POST /household/v1/_update": {},
  "POST /household/v1/bulk/_update": {},
  "POST /household/v1/_delete": {},
  "POST /household/v1/bulk/_delete": {},
  "POST /household/member/v1/_create": {},
  "POST /household/member/v1/bulk/_create": {},
  "POST /household/member/v1/_update": {},
  "POST /household/member/v1/bulk/_update": {},
  "POST /household/member/v1/_delete": {},
  "POST /household/member/v1/bulk/_delete": {},
  "POST /household/v1/_search": {},
  "POST /household/member/v1/_search": {},
  "POST /household/v1/sync/_status": {},
  "POST /household/v1/_downsync": {},
  "POST /pgr-services/v2/request/_create": {
    owner: 'a citizen files for themself',
    body: { service: { tenantId: 'pb.amritsar', serviceCode: 'StreetLightNotWorking', address: { locality: { code: 'SUN04' } } }, workflow: { action: 'APPLY' } },
  },
  "POST /pgr-services/v2/request/_update": {
    owner: "a citizen acts on their own complaints only (another's is not found)",
    body: { service: { tenantId: 'pb.amritsar', serviceRequestId: 'PB-PGR-MATRIX' }, workflow: { action: 'RATE' } },
  },
  "POST /pgr-services/v2/request/_search": { owner: "a citizen finds their own complaints only", body: {}, query: {} },
  "POST /pgr-services/v2/request/_count": { owner: "a citizen counts their own complaints only", body: {}, query: {} },
  "POST /pgr-services/v2/dashboard/_summary": { body: { criteria: { tenantId: 'pb.amritsar', fromDate: 0, toDate: 1 } } },
  "POST /inbox/v2/_search": { owner: "a citizen's inbox holds their own applications", body: { inbox: { tenantId: 'pb.amritsar', processSearchCriteria: { businessService: ['PGR'] } } } },
  "POST /project/task/v1/_create": {},
  "POST /project/task/v1/bulk/_create": {},
  "POST /project/task/v1/_update": {},
  "POST /project/task/v1/bulk/_update": {},
  "POST /project/task/v1/_delete": {},
  "POST /project/task/v1/bulk/_delete": {},
  "POST /project/task/v1/_search": {},
  // The exchange's agency keys and trusted agencies belong to the deployment, not to a tenant.
  "POST /exchange/v1/keys/_rotate": { tenant: 'none' },
  "POST /exchange/v1/agencies/_create": { tenant: 'none' },
  "POST /exchange/v1/agencies/_update": { tenant: 'none' },
  "POST /exchange/v1/agencies/_search": { tenant: 'none' },
  "POST /exchange/v1/inbox/_search": { tenant: 'none' },
  "POST /exchange/v1/subscriptions/_create": {},
  "POST /exchange/v1/subscriptions/_update": {},
  "POST /exchange/v1/subscriptions/_search": {},
  "POST /exchange/v1/subscriptions/_replay": {},
  "POST /exchange/v1/deliveries/_search": {},
  "POST /exchange/v1/deliveries/_retry": {},
  // Multipart: the kernel cannot read the tenant field; the handler checks it against the scope.
  "POST /filestore/v1/files": { tenant: 'none' },
};

const platform = await testPlatform();
afterAll(() => platform.drop());
const admin = await adminAuth(platform);
const routes = routeTable(platform.app).filter((r) => !r.open);
const key = (route: Pick<RouteEntry, 'method' | 'url'>) => `${route.method} ${route.url}`;

// ---- who may call what, from MDMS ----------------------------------------------------------------
const TARGET = 'pb.amritsar';
const roleCodes = (await platform.access.service.searchRoles({ tenantId: 'pb' })).map((r) => r.code).filter((c) => c !== 'ANONYMOUS');
const urlsByRole = new Map<string, string[]>();
for (const code of new Set([...roleCodes, 'CITIZEN', 'EMPLOYEE'])) {
  const actions = await platform.access.service.searchActions({ roleCodes: [code], tenantId: 'pb' });
  urlsByRole.set(code, actions.map((a) => a.url));
}
const urlAllows = (url: string, uri: string) => url === uri || (url.includes('{') && templatePattern(url).test(uri));
/** The tenant roots where these grants may call `uri`, from the role-actions of each grant's state. */
function expectedScope(grants: readonly RoleGrant[], uri: string): string[] {
  return grants.filter((g) => stateTenantOf(g.tenantId) === 'pb' && (urlsByRole.get(g.code) ?? []).some((url) => urlAllows(url, uri))).map((g) => g.tenantId);
}

// ---- the callers -----------------------------------------------------------------------------------
type Actor = { name: string; home: string; grants: RoleGrant[]; headers: Record<string, string> | null };

async function actor(name: string, type: 'CITIZEN' | 'EMPLOYEE', home: string, codes: readonly string[], mobileNumber: string): Promise<Actor> {
  const password = 'Matrix@2026x';
  const grants = codes.map((code) => ({ code, tenantId: home }));
  const created = await post(platform, '/user/users/_createnovalidate', { RequestInfo: {}, user: { userName: name, name, password, type, tenantId: home, mobileNumber, roles: grants } }, admin);
  if (created.status !== 200) throw new Error(`creating ${name}: ${created.status} ${JSON.stringify(created.body)}`);
  const session = await login(platform, name, password, home, type);
  if (session.status !== 200) throw new Error(`${name} login: ${session.status} ${JSON.stringify(session.body)}`);
  return { name, home, grants, headers: { authorization: `Bearer ${String(session.body['access_token'])}` } };
}

const actors: Actor[] = [
  { name: 'anonymous', home: 'pb', grants: [], headers: null },
  await actor('matrix.citizen.a', 'CITIZEN', 'pb', ['CITIZEN'], '9800000001'),
  await actor('matrix.citizen.b', 'CITIZEN', 'pb', ['CITIZEN'], '9800000002'),
  // Its city is the target: it passes where EMPLOYEE has the action and is refused where it has not.
  await actor('matrix.city.clerk', 'EMPLOYEE', TARGET, ['EMPLOYEE'], '9800000003'),
  // Every role, but in another city.
  await actor('matrix.other.city', 'EMPLOYEE', 'pb.jalandhar', roleCodes, '9800000004'),
  // Every role, at the state.
  await actor('matrix.state', 'EMPLOYEE', 'pb', roleCodes, '9800000005'),
];

// ---- requests in every shape -----------------------------------------------------------------------
const TENANT_KEY = /^tenantids?$/i;
type Path = Array<string | number>;
type Schema = { properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; type?: unknown };

/** Where the body carries tenants: keys of the generated body, and optional tenant keys its schema declares. */
function tenantPaths(schema: Schema | undefined, value: unknown, path: Path = []): Path[] {
  if (!schema || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => tenantPaths(schema.items ?? {}, item, [...path, i]));
  const variants = schema.anyOf ?? [schema];
  const found = new Map<string, Path>();
  for (const variant of variants) {
    for (const [name, child] of Object.entries(variant.properties ?? {})) {
      if (path.length === 0 && name === 'RequestInfo') continue;
      if (TENANT_KEY.test(name)) found.set(JSON.stringify([...path, name]), [...path, name]);
      else if (name in (value as Json)) for (const p of tenantPaths(child, (value as Json)[name], [...path, name])) found.set(JSON.stringify(p), p);
    }
  }
  return [...found.values()];
}

function setAt(target: unknown, path: Path, value: unknown): void {
  let node = target as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) Reflect.deleteProperty(node, last);
  else node[last] = value;
}

const SHAPES = ['string', 'array', 'nested', 'query', 'missing'] as const;
type Shape = (typeof SHAPES)[number];
type Call = { url: string; body: unknown; named: string[] };

const SAMPLE_PARAMS: Record<string, string> = { schemaCode: 'common-masters.Department', businessService: 'PGR' };
const concrete = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => SAMPLE_PARAMS[name] ?? 'sample');

function baseRequest(route: RouteEntry, entry: Entry): { body: unknown; query: Record<string, string> } {
  const schema = route.schema;
  const body = entry.body !== undefined ? structuredClone(entry.body) : schema.body ? Value.Create(schema.body as never) : undefined;
  const generated = entry.query ?? (schema.querystring ? (Value.Create(schema.querystring as never) as Json) : {});
  const query = Object.fromEntries(Object.entries(generated).filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object').map(([k, v]) => [k, String(v)]));
  return { body, query };
}

/** The request in one shape, with `tenant` as the tenant it is about and `home` where the others go. */
function shaped(route: RouteEntry, entry: Entry, shape: Shape, tenant: string, home: string): Call {
  const { body, query } = baseRequest(route, entry);
  const bodyPaths = tenantPaths(route.schema.body as Schema, body);
  const queryKeys = Object.keys((route.schema.querystring as Schema | undefined)?.properties ?? {}).filter((k) => TENANT_KEY.test(k));
  for (const k of queryKeys) Reflect.deleteProperty(query, k);
  const named = new Set<string>();
  const put = (path: Path, value: string | string[]) => {
    setAt(body, path, value);
    for (const t of [value].flat()) named.add(t);
  };
  const deepest = bodyPaths.reduce<Path | undefined>((a, p) => (!a || p.length > a.length ? p : a), undefined);
  switch (shape) {
    case 'string':
    case 'array':
      for (const p of bodyPaths) put(p, shape === 'array' ? [tenant] : tenant);
      for (const k of queryKeys) query[k] = tenant;
      if (bodyPaths.length === 0 && queryKeys.length === 0) query['tenantId'] = tenant;
      if (queryKeys.length > 0 || bodyPaths.length === 0) named.add(tenant);
      break;
    case 'nested':
      // The tenant only at the deepest place the body names one; the caller's own everywhere else.
      for (const p of bodyPaths) put(p, p === deepest ? tenant : home);
      for (const k of queryKeys) {
        query[k] = bodyPaths.length === 0 ? tenant : home;
        named.add(query[k]);
      }
      if (bodyPaths.length === 0 && queryKeys.length === 0) {
        query['tenantId'] = tenant;
        named.add(tenant);
      }
      break;
    case 'query':
      for (const p of bodyPaths) put(p, home);
      query[queryKeys[0] ?? 'tenantId'] = tenant;
      named.add(tenant);
      break;
    case 'missing':
      for (const p of [...bodyPaths].reverse()) setAt(body, p, undefined);
      break;
  }
  const search = new URLSearchParams(query).toString();
  return { url: `${concrete(route.url)}${search ? `?${search}` : ''}`, body, named: [...named] };
}

// ---- the expectation ----------------------------------------------------------------------------------
type Outcome = 401 | 403 | 400 | 'through';

function expected(route: RouteEntry, entry: Entry, who: Actor, call: Call): Outcome {
  if (!who.headers) {
    if (!route.anonymous) return 401;
    return call.named.length === 0 ? 400 : 'through';
  }
  const scope = expectedScope(who.grants, concrete(route.url));
  if (call.named.length === 0) {
    if (entry.tenant !== 'none') return 400;
    return scope.length > 0 ? 'through' : 403;
  }
  return scope.length > 0 && call.named.every((t) => scope.some((root) => tenantCovers(root, t))) ? 'through' : 403;
}

function matches(outcome: Outcome, entry: Entry, status: number): boolean {
  if (outcome === 'through') return status !== 401 && (status !== 403 || entry.handler403 !== undefined) && status < 500;
  return status === outcome;
}

async function send(route: RouteEntry, who: Actor, call: Call) {
  const response = await platform.app.inject({
    method: route.method as 'GET' | 'POST',
    url: call.url,
    headers: { ...(who.headers ?? {}), ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }) },
    ...(route.method === 'GET' ? {} : { payload: JSON.stringify(call.body ?? {}) }),
  });
  return { status: response.statusCode, body: response.body };
}

describe('the authorization matrix', () => {
  it('has a reviewed entry for every protected route taking no tenant or serving anonymous callers, and none for routes that are gone', () => {
    const keys = new Set(routes.map(key));
    expect(Object.keys(MATRIX).filter((k) => !keys.has(k))).toEqual([]);
    expect(routes.filter((r) => (r.tenant === 'none' || r.anonymous) && !(key(r) in MATRIX)).map(key)).toEqual([]);
  });

  it("matches each entry's tenant review to the route's config", () => {
    const differing = routes.filter((r) => (MATRIX[key(r)]?.tenant ?? undefined) !== r.tenant).map(key);
    expect(differing).toEqual([]);
  });

  it('builds a valid request for every route (a route needing a hand-made body says so in its entry)', () => {
    const failed: string[] = [];
    for (const route of routes) {
      try {
        baseRequest(route, MATRIX[key(route)] ?? {});
      } catch (error) {
        failed.push(`${key(route)}: ${(error as Error).message}`);
      }
    }
    expect(failed).toEqual([]);
  });

  it.each(actors.map((a) => [a.name, a] as const))('answers %s as the role-actions say, in every shape', async (_name, who) => {
    // Routes run side by side; a route's shapes one after another, so two calls never race to
    // create the same record (a race that is each module's own concern, not this matrix's).
    const perRoute = routes.map((route) => async (): Promise<string[]> => {
      const entry = MATRIX[key(route)] ?? {};
      const wrong: string[] = [];
      for (const shape of SHAPES) {
        let call: Call;
        try {
          call = shaped(route, entry, shape, TARGET, who.home);
        } catch {
          continue; // reported by the test above
        }
        const outcome = expected(route, entry, who, call);
        const { status, body } = await send(route, who, call);
        if (!matches(outcome, entry, status)) {
          wrong.push(`${key(route)} [${shape}, names ${call.named.join(',') || 'none'}]: expected ${outcome}, got ${status} ${body.slice(0, 200)}`);
        }
      }
      return wrong;
    });
    const wrong: string[] = [];
    for (let i = 0; i < perRoute.length; i += 8) {
      for (const result of await Promise.all(perRoute.slice(i, i + 8).map((run) => run()))) wrong.push(...result);
    }
    expect(wrong).toEqual([]);
  });
});
