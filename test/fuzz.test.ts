import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { routeTable, type RouteEntry } from '../src/kernel/http.js';
import { ADMIN_PASSWORD, isDigitError, testPlatform, WEB_STAND_IN } from './helpers.js';

/**
 * Fuzzes every route of the platform, walked from its route table so new routes are covered
 * without editing this file: generated bodies (random JSON, schema-shaped bodies with wrong types,
 * huge strings, deep nesting, missing envelopes, broken JSON, form bodies, other media types),
 * random query strings and path parameters, anonymous and as the SUPERUSER. No call may answer 5xx;
 * every 4xx must be in DIGIT's error shape (or the documented exceptions below).
 */

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 50);
/** FUZZ_STATS=1 prints how often each route answered each status, to see how deep the fuzz gets. */
const stats = process.env['FUZZ_STATS'] ? new Map<string, Map<string, number>>() : undefined;

// 'error' so that a 5xx's stack is logged; the lines are caught below, not printed.
const platform = await testPlatform({ config: { logLevel: 'error', webDir: WEB_STAND_IN } });

/**
 * Server log lines by correlation id, caught from pino's destination so that a passing run prints
 * nothing (the deliberate 501s are logged as errors) and a failure shows the server's own stack.
 * Lines without a correlation id, and everything if pino's internals change, still go to stdout.
 */
const serverLogs = new Map<string, string>();
{
  let holder: object | null = platform.app.log;
  let stream: { write(line: string): boolean } | undefined;
  while (holder && !stream) {
    const symbol = Object.getOwnPropertySymbols(holder).find((s) => s.description === 'pino.stream');
    if (symbol) stream = (holder as Record<symbol, { write(line: string): boolean }>)[symbol];
    holder = Object.getPrototypeOf(holder) as object | null;
  }
  if (stream) {
    const write = stream.write.bind(stream);
    stream.write = (line: string) => {
      const id = /"correlationId":"([^"]+)"/.exec(line)?.[1];
      if (id === undefined) return write(line);
      serverLogs.set(id, (serverLogs.get(id) ?? '') + line);
      return true;
    };
  }
}
/** The server's log of one request, formatted for a failure message (stack traces unescaped). */
function serverLogOf(correlationId: string | undefined): string {
  if (correlationId === undefined) return '';
  const lines = serverLogs.get(correlationId) ?? '';
  serverLogs.delete(correlationId);
  return lines
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; err?: { type?: string; code?: string; message?: string; stack?: string } };
        return `${entry.msg ?? ''}: ${entry.err?.type ?? ''} ${entry.err?.code ?? ''} ${entry.err?.stack ?? entry.err?.message ?? ''}`;
      } catch {
        return line;
      }
    })
    .join('\n')
    .slice(0, 3000);
}
afterAll(async () => {
  if (stats) for (const [name, counts] of stats) console.log(name, JSON.stringify(Object.fromEntries([...counts].sort())));
  await platform.drop();
});

const routeName = (route: Pick<RouteEntry, 'method' | 'url'>) => `${route.method} ${route.url}`;
// The docs page's static files come from disk through @fastify/static: not our code to fuzz.
const routes = routeTable(platform.app).filter((r) => !r.url.startsWith('/docs/static'));

/** Deliberate 5xx answers: DIGIT's "not supported" for schema updates (always 501, DIGIT's shape). */
const MAY_ANSWER_501 = new Set(['POST /mdms-v2/schema/v1/_update']);
/** Spring's OAuth2 error body, as DIGIT's login answers it. */
const OAUTH_ROUTES = new Set(['POST /user/oauth/token']);
/** The gateway's authorize call answers 200 or 401 with an empty body, as egov-accesscontrol. */
const EMPTY_401_ROUTES = new Set(['POST /access/v1/actions/_authorize']);

// ---------------------------------------------------------------------------------------------
// The admin token, kept valid: the fuzz may log it out (POST /user/_logout without access_token
// revokes the caller's own token). Fresh client addresses keep re-logins clear of the rate limit.

let loginCount = 0;
async function adminToken(): Promise<string> {
  loginCount += 1;
  const response = await platform.app.inject({
    method: 'POST',
    url: '/user/oauth/token',
    remoteAddress: `10.250.${Math.floor(loginCount / 250)}.${loginCount % 250}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ username: 'admin', password: ADMIN_PASSWORD, tenantId: 'pb', userType: 'EMPLOYEE', grant_type: 'password' }).toString(),
  });
  const body = response.json() as Record<string, unknown>;
  if (response.statusCode !== 200 || typeof body['access_token'] !== 'string') throw new Error(`admin login failed: ${response.statusCode} ${response.body}`);
  return body['access_token'];
}
let token = await adminToken();
async function liveToken(): Promise<string> {
  if (!(await platform.users.authenticator.authenticate(token))) token = await adminToken();
  return token;
}

// ---------------------------------------------------------------------------------------------
// Request bodies, from the route's own JSON Schema as published in the OpenAPI document.

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
};
type Parameter = { in: string; name: string; schema?: Schema };
type Operation = { requestBody?: { content?: Record<string, { schema?: Schema }> }; parameters?: Parameter[] };

const spec = platform.app.swagger() as unknown as { paths?: Record<string, Record<string, Operation>> };
function operationOf(route: RouteEntry): Operation | undefined {
  const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return spec.paths?.[path]?.[route.method.toLowerCase()];
}

const schemaCodes = (
  (
    await platform.app.inject({
      method: 'POST',
      url: '/mdms-v2/schema/v1/_search',
      payload: { RequestInfo: {}, SchemaDefCriteria: { tenantId: 'pb', limit: 1000 } },
    })
  ).json() as { SchemaDefinitions?: Array<{ code: string }> }
).SchemaDefinitions?.map((s) => s.code) ?? [];
if (schemaCodes.length === 0) throw new Error('the demo seed defines no MDMS schemas');

const NASTY_STRINGS = [
  '', ' ', '\u0000', 'pb\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '😀', 'ñ', "'", '"', '\\', '%', '_', '%_%', "' OR '1'='1' --",
  '"; DROP TABLE users; --', '../../etc/passwd', '$', '$..*', '$[?(@.a==1)]', '{}', '[]', 'null', 'true', '0', '-1', '1e309', 'NaN',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'pb', 'pb.amritsar', 'PB', 'pb.', '.pb', 'pb..x', 'a.b.c.d',
  'common-masters.Department', 'x'.repeat(257), 'x'.repeat(5000), '\n\r\t', '<script>alert(1)</script>', '${jndi:ldap://x}',
];
const fuzzString = (maxLength = 64): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.string({ maxLength }), weight: 3 },
    { arbitrary: fc.string({ unit: 'binary', maxLength }), weight: 2 },
    { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 3 },
  );
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, '', [], {}, [null], { '': null }),
  fuzzString(),
);
const TENANTS = ['pb', 'pb.amritsar', 'pb.jalandhar', 'PB', 'xx', 'xx.yy'];
const ROLES = ['SUPERUSER', 'EMPLOYEE', 'CITIZEN', 'ANONYMOUS', 'GRO', 'NOPE'];
const JSONPATH_PARTS = ['$', '.', '..', '*', '[', ']', '[*]', '[?(', ')]', '(', ')', '@', '@.code', '@.active', '@.name', '==', '!=', '<', '>', '=~', '/.*/i', '&&', '||', '!', "'x'", '"x"', '1', 'true', 'null', 'in', ' ', '[0]', '[-1:]', '[0:2]', '.length', 'constructor', '__proto__'];
const jsonPath = fc.array(fc.constantFrom(...JSONPATH_PARTS), { maxLength: 12 }).map((parts) => parts.join(''));
const jsonSchemaLike: fc.Arbitrary<unknown> = fc.record(
  {
    type: fc.constantFrom<unknown>('object', 'string', 'array', 'number', 'bogus', 5, null, ['object', 'null']),
    properties: fc.dictionary(fc.constantFrom('code', 'name', 'active', 'a.b', '__proto__', ''), fc.record({ type: fc.constantFrom<unknown>('string', 'integer', 'boolean', 'object', 'nope', 1) }, { requiredKeys: [] }), { maxKeys: 3 }),
    required: fc.array(fc.constantFrom('code', 'name', 'missing', ''), { maxLength: 3 }),
    'x-unique': fc.array(fc.constantFrom('code', 'name', 'missing', '', 'a.b'), { maxLength: 3 }),
    'x-ref-schema': fc.array(fc.record({ fieldPath: fc.constantFrom('code', 'name', 'x', ''), schemaCode: fc.constantFrom(...schemaCodes, 'no.such', '') }, { requiredKeys: [] }), { maxLength: 2 }),
    pattern: fc.constantFrom('(', '[', '^a+$', '(a+)+$'),
    $ref: fc.constantFrom('#/nope', 'http://example.com/x.json'),
    additionalProperties: fc.boolean(),
  },
  { requiredKeys: ['type'] },
);

/** Values that make sense for a field of this name, so that some bodies get past validation. */
function hintFor(key: string, schema: Schema): fc.Arbitrary<unknown> | undefined {
  const isArray = schema.type === 'array';
  switch (key) {
    case 'tenantId':
      return fc.oneof({ arbitrary: fc.constantFrom('pb', 'pb.amritsar'), weight: 6 }, { arbitrary: fc.constantFrom(...TENANTS), weight: 1 }, { arbitrary: fuzzString(300), weight: 1 });
    case 'tenantIds':
      return fc.array(fc.constantFrom(...TENANTS), { maxLength: 3 });
    case 'schemaCode':
      return fc.oneof(fc.constantFrom(...schemaCodes), fuzzString());
    case 'codes':
      return fc.array(fc.oneof(fc.constantFrom(...schemaCodes), fuzzString()), { maxLength: 3 });
    case 'roleCodes':
      return fc.array(fc.constantFrom(...ROLES), { minLength: 1, maxLength: 3 });
    case 'uri':
      return fc.oneof(fc.constantFrom(...routes.map((r) => r.url)), fuzzString(3000));
    case 'filter':
      return fc.oneof(jsonPath, fuzzString(2100));
    case 'filters':
    case 'data':
      return fc.dictionary(fuzzString(16), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
    case 'definition':
      return jsonSchemaLike;
    // Never an existing user: the fuzz must not deactivate or strip the administrator it calls as.
    case 'id':
      return isArray ? fc.array(fc.integer({ min: 1_000_000, max: 2 ** 31 - 1 }), { maxLength: 3 }) : fc.integer({ min: 1_000_000, max: 2 ** 31 - 1 });
    case 'uuid':
      return isArray ? fc.array(fc.uuid(), { maxLength: 3 }) : fc.uuid();
    case 'userName':
    case 'username':
      return fuzzString(190).filter((s) => s.toLowerCase() !== 'admin');
    case 'mobileNumber':
      return fc.oneof(fc.stringMatching(/^[6-9][0-9]{9}$/), fuzzString(25));
    case 'grant_type':
      return fc.oneof(fc.constantFrom('password', 'refresh_token', 'client_credentials'), fuzzString(40));
    case 'userType':
    case 'type':
      return schema.anyOf || schema.enum ? undefined : fc.oneof(fc.constantFrom('EMPLOYEE', 'CITIZEN', 'SYSTEM', 'BUSINESS', 'citizen'), fuzzString(20));
    default:
      return undefined;
  }
}

const MAX_INT = 2 ** 31 - 1;

/**
 * An arbitrary for values of `schema`. `mutation` is how often a value is replaced by one of the
 * wrong type: 0 gives bodies that pass validation (mostly), higher levels probe the validator.
 */
function fromSchema(schema: Schema | undefined, mutation: number, key = '', depth = 0): fc.Arbitrary<unknown> {
  const right = rightValue(schema, mutation, key, depth);
  if (mutation === 0 || depth > 6) return right;
  return fc.oneof({ arbitrary: right, weight: Math.round(10 / mutation) }, { arbitrary: wrongValue, weight: 1 });
}

function rightValue(schema: Schema | undefined, mutation: number, key: string, depth: number): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.jsonValue({ maxDepth: 2 });
  const hint = hintFor(key, schema);
  if (hint) return hint;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives && alternatives.length > 0) return fc.oneof(...alternatives.map((s) => rightValue(s, mutation, key, depth)));
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      const max = schema.maxLength ?? 200;
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).map((s) => s.slice(0, max));
      return fuzzString(max).map((s) => (s.length < (schema.minLength ?? 0) ? s.padEnd(schema.minLength ?? 0, 'x') : s.slice(0, max)));
    }
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -MAX_INT, -MAX_INT), max: Math.min(schema.maximum ?? MAX_INT, MAX_INT) });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum ?? -1e300, max: schema.maximum ?? 1e300 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fromSchema(schema.items, mutation, key, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const names = Object.keys(properties);
      if (names.length === 0) return fc.dictionary(fuzzString(16), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const name of names) model[name] = fromSchema(properties[name], mutation, name, depth + 1);
      const required = schema.required ?? [];
      // Required keys go missing only when mutating.
      return fc.record(model, { requiredKeys: mutation === 0 ? required.filter((k) => k in model) : [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---------------------------------------------------------------------------------------------
// Requests.

type FuzzRequest = { kind: string; contentType: string | undefined; payload: string; query: string; path: string; correlationId: string | undefined };

/**
 * Each call comes from a new client address, so that the per-address rate limits (login, OTP) do
 * not turn a shrinking counterexample into a 429; the rate limit has its own test below.
 */
let clients = 0;
function nextClient(): string {
  clients += 1;
  return `10.${(clients >> 16) & 255}.${(clients >> 8) & 255}.${clients & 255}`;
}

const HUGE = '__PLINTH_FUZZ_HUGE__';
/** Builds deep nesting as text: JSON.stringify of a 2000-deep value is fine, but this is cheaper. */
function deepJson(depth: number, shape: 'array' | 'object' | 'mixed'): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const asArray = shape === 'array' || (shape === 'mixed' && i % 2 === 0);
    open += asArray ? '[' : '{"tenantId":"pb","a":';
    close = (asArray ? ']' : '}') + close;
  }
  return `${open}1${close}`;
}
const deep = fc.record({ depth: fc.integer({ min: 500, max: 2000 }), shape: fc.constantFrom<'array' | 'object' | 'mixed'>('array', 'object', 'mixed') }).map(({ depth, shape }) => deepJson(depth, shape));
/** A JSON string of 100k–300k characters, at most ~900 kB once escaped: under the 1 MiB body limit. */
const huge = fc
  .record({ length: fc.integer({ min: 100_000, max: 300_000 }), char: fc.constantFrom('a', 'é', '\u0000', '"', '\\', '😀', '\ud800') })
  .map(({ length, char }) => {
    const escapedBytes = Buffer.byteLength(JSON.stringify(char)) - 2;
    return JSON.stringify(char.repeat(Math.floor(Math.min(length, 900_000 / escapedBytes) / char.length)));
  });

/** Every property path of the body schema (`[]` is the body itself), where a huge or deep value may go. */
function pathsOf(schema: Schema | undefined, prefix: string[] = [], depth = 0): string[][] {
  const out: string[][] = [prefix];
  if (!schema || depth > 4) return out;
  for (const alternative of schema.anyOf ?? []) out.push(...pathsOf(alternative, prefix, depth).slice(1));
  for (const [name, child] of Object.entries(schema.properties ?? {})) out.push(...pathsOf(child, [...prefix, name], depth + 1));
  if (schema.items) out.push(...pathsOf(schema.items, [...prefix, '0'], depth + 1));
  return out;
}
function setAt(body: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const container: Record<string, unknown> | unknown[] =
    body && typeof body === 'object' ? (Array.isArray(body) ? [...(body as unknown[])] : { ...(body as Record<string, unknown>) }) : /^\d+$/.test(head) ? [] : {};
  const current = (container as Record<string, unknown>)[head];
  (container as Record<string, unknown>)[head] = setAt(current, rest, value);
  return container;
}

function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function requestsFor(route: RouteEntry): fc.Arbitrary<FuzzRequest> {
  const operation = operationOf(route);
  const bodySchema = operation?.requestBody?.content?.['application/json']?.schema;
  const json = 'application/json';
  const envelope = fc.oneof(fc.constant<unknown>({}), fc.constant<unknown>(null), fc.dictionary(fuzzString(16), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), wrongValue);
  const shaped = (mutation: number) => fromSchema(bodySchema ?? { type: 'object', properties: { tenantId: { type: 'string' } } }, mutation);
  const withEnvelope = (mutation: number) =>
    fc.tuple(shaped(mutation), envelope).map(([body, info]) => (body && typeof body === 'object' && !Array.isArray(body) ? { RequestInfo: info, ...body } : body));
  const topLevelKeys = Object.keys(bodySchema?.properties ?? {}).filter((k) => k !== 'RequestInfo');
  const paths = pathsOf(bodySchema);

  const jsonBody = (kind: string, value: fc.Arbitrary<unknown>) => value.map((v) => ({ kind, contentType: json, payload: JSON.stringify(v) ?? 'null' }));
  /** A schema-shaped body with a huge or deep value spliced in at some path, as text. */
  const spliced = (kind: string, inner: fc.Arbitrary<string>) =>
    fc.tuple(withEnvelope(0), fc.constantFrom(...paths), inner).map(([body, path, text]) => ({
      kind: `${kind} at ${path.join('.') || 'the root'}`,
      contentType: json,
      payload: (JSON.stringify(setAt(body, path, HUGE)) ?? 'null').replace(JSON.stringify(HUGE), () => text),
    }));

  const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ weight, arbitrary });
  const formWeight = OAUTH_ROUTES.has(routeName(route)) ? 12 : 1;
  const bodies: Array<fc.WeightedArbitrary<{ kind: string; contentType: string | undefined; payload: string }>> = [
    w(2, jsonBody('random JSON', fc.jsonValue())),
    w(6, jsonBody('a valid-looking body', withEnvelope(0))),
    w(2, jsonBody('a body with some wrong types', withEnvelope(3))),
    w(1, jsonBody('a body with many wrong types', withEnvelope(10))),
    w(1, jsonBody('the right top-level keys, wrong types', fc.record(Object.fromEntries(topLevelKeys.map((k) => [k, wrongValue])), { requiredKeys: [] }).map((b) => ({ RequestInfo: {}, ...b })))),
    w(2, jsonBody('no envelope', shaped(0))),
    w(1, jsonBody('an envelope only', fc.constantFrom<unknown>({ RequestInfo: {} }, { RequestInfo: null }, { requestInfo: {} }, { RequestInfo: { authToken: 'x', userInfo: { uuid: 'x', roles: [{ code: 'SUPERUSER', tenantId: 'pb' }] } } }, {}, [], null, '', 0))),
    w(1, jsonBody('lower-cased top-level keys', withEnvelope(0).map((b) => (b && typeof b === 'object' && !Array.isArray(b) ? Object.fromEntries(Object.entries(b).map(([k, v]) => [k.toLowerCase(), v])) : b)))),
    w(2, spliced('a huge string', huge)),
    w(2, spliced('deep nesting', deep)),
    w(1, huge.map((text) => ({ kind: 'a huge JSON string as the body', contentType: json, payload: text }))),
    w(1, fc.constant({ kind: 'a body over the size limit', contentType: json, payload: JSON.stringify({ RequestInfo: {}, tenantId: 'pb', x: 'x'.repeat(1_100_000) }) })),
    w(
      2,
      fc
        .oneof(
          fc.string(),
          fc.constantFrom('', '{', '{"RequestInfo":', '[1,2', '{"a":1}}', "{'a':1}", 'undefined', 'NaN', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '\u0000', '\ufeff{}', '{"a":1,"a":2}'),
          withEnvelope(0).map((b) => (JSON.stringify(b) ?? '').slice(0, -1)),
        )
        .map((payload) => ({ kind: 'not JSON, sent as JSON', contentType: json, payload })),
    ),
    w(
      formWeight,
      fc
        .dictionary(fc.oneof(fc.constantFrom('grant_type', 'username', 'password', 'tenantId', 'userType', 'scope', 'refresh_token', 'RequestInfo', ...topLevelKeys), fuzzString(12)), fuzzString(200), { maxKeys: 8 })
        .chain((fields) =>
          fc
            .record({ grant_type: hintFor('grant_type', {})!, username: hintFor('username', {})!, password: fuzzString(130), tenantId: hintFor('tenantId', {})!, userType: hintFor('userType', {})! }, { requiredKeys: [] })
            .map((known) => ({ ...fields, ...known })),
        )
        .map((fields) => ({ kind: 'a form body', contentType: 'application/x-www-form-urlencoded', payload: new URLSearchParams(fields as Record<string, string>).toString() })),
    ),
    w(
      1,
      fc
        .tuple(
          fc.constantFrom(undefined, 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml', 'application/x-www-form-urlencoded', 'application/json;;', 'bogus'),
          fc.oneof(fc.string(), withEnvelope(0).map((b) => JSON.stringify(b) ?? '')),
        )
        .map(([contentType, payload]) => ({ kind: `content type ${String(contentType)}`, contentType, payload })),
    ),
  ];

  const queryParams = (operation?.parameters ?? []).filter((p) => p.in === 'query');
  const query = fc
    .tuple(
      fc.record(Object.fromEntries(queryParams.map((p) => [p.name, fc.oneof(fromSchema(p.schema, 0, p.name).map(String), fuzzString(5000))])), { requiredKeys: [] }),
      fc.option(fc.tuple(fc.constantFrom('tenantId', 'code', 'access_token', '__proto__', 'x'), fc.array(fuzzString(20), { minLength: 1, maxLength: 3 })), { nil: undefined }),
    )
    .map(([known, extra]) => {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(known)) search.append(k, String(v));
      if (extra) for (const value of extra[1]) search.append(extra[0], value);
      const text = search.toString();
      return text === '' ? '' : `?${text}`;
    });

  const params = route.url.match(/:[A-Za-z0-9_]+|\*/g) ?? [];
  // Well-formed percent-encoding and at most the router's 100 characters: the router's own
  // refusals (malformed encoding, over-long parameters) have their own test below.
  const segment = fc.oneof(
    { arbitrary: fc.constantFrom(...schemaCodes).map(percentEncode), weight: 3 },
    { arbitrary: fuzzString(100).map(percentEncode).filter((s) => s.length <= 100), weight: 2 },
    { arbitrary: fc.constantFrom('%00', '..%2F..', '%2e%2e', 'a%2Fb', '%25'), weight: 1 },
  );
  const path = fc.tuple(...params.map(() => segment)).map((values) => {
    let i = 0;
    return route.url.replace(/:[A-Za-z0-9_]+|\*/g, () => values[i++] ?? 'x');
  });

  return fc.record({
    body: fc.oneof(...bodies),
    query,
    path: params.length === 0 ? fc.constant(route.url) : path,
    correlationId: fc.option(fc.oneof(fc.constantFrom('abc-123', 'bad id', 'x'.repeat(200)), fuzzString(40)), { nil: undefined }),
  }).map(({ body, query: q, path: p, correlationId }) => ({ ...body, query: q, path: p, correlationId }));
}

// ---------------------------------------------------------------------------------------------
// What every answer must look like.

function isOAuthError(json: unknown): boolean {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return false;
  const body = json as Record<string, unknown>;
  return typeof body['error'] === 'string' && typeof body['error_description'] === 'string';
}

function verdict(route: RouteEntry, status: number, text: string): string | undefined {
  const name = routeName(route);
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (status >= 500) {
    if (status === 501 && MAY_ANSWER_501.has(name) && isDigitError(json)) return undefined;
    return `answered ${status}`;
  }
  if (status >= 400) {
    if (isDigitError(json)) return undefined;
    if (OAUTH_ROUTES.has(name) && status === 400 && isOAuthError(json)) return undefined;
    if (EMPTY_401_ROUTES.has(name) && status === 401 && text === '') return undefined;
    return `answered ${status} outside DIGIT's error shape`;
  }
  return undefined;
}

async function send(route: RouteEntry, request: FuzzRequest, authorization: string | undefined) {
  const headers: Record<string, string> = {};
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  if (request.correlationId !== undefined) headers['x-correlation-id'] = request.correlationId;
  if (authorization !== undefined) headers['authorization'] = authorization;
  const response = await platform.app.inject({
    method: route.method as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: `${request.path}${request.query}`,
    headers,
    remoteAddress: nextClient(),
    ...(route.method === 'GET' || route.method === 'HEAD' ? {} : { payload: request.payload }),
  });
  if (stats) {
    const counts = stats.get(routeName(route)) ?? new Map<string, number>();
    const key = `${authorization === undefined ? 'anon' : 'admin'} ${response.statusCode}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    stats.set(routeName(route), counts);
  }
  const problem = verdict(route, response.statusCode, response.body);
  const log = serverLogOf(String(response.headers['x-correlation-id']));
  if (!problem) return;
  const who = authorization === undefined ? 'anonymous' : 'as admin';
  expect(
    problem,
    `${route.method} ${request.path.slice(0, 300)}${request.query.slice(0, 300)} (${who}; ${request.kind}; content-type ${String(request.contentType)}) ${problem}\n` +
      `request body (first 500 of ${request.payload.length} chars): ${request.payload.slice(0, 500)}\n` +
      `response body: ${response.body.slice(0, 2000)}\n` +
      `server log: ${log || '(none)'}`,
  ).toBeUndefined();
}

describe('fuzzing every route', () => {
  it('finds the routes to fuzz', () => {
    expect(routes.length).toBeGreaterThan(30);
  });

  it.each(routes.map((r) => [routeName(r), r] as const))('%s never answers 5xx, and answers 4xx in DIGIT shape', async (_name, route) => {
    await fc.assert(
      fc.asyncProperty(requestsFor(route), async (request) => {
        await send(route, request, undefined);
        await send(route, request, `Bearer ${await liveToken()}`);
      }),
      { numRuns: RUNS },
    );
  });

  /**
   * Counterexamples the fuzz has found, replayed on every run so they fail deterministically until
   * fixed (all answered 500 on PostgreSQL: a NUL character in a text parameter, or NUL and lone
   * surrogates inside JSON sent to jsonb; SQLite accepts them).
   */
  const NUL = '\u0000';
  const found: Array<[string, string, boolean, unknown]> = [
    ['NUL in a user search field', '/user/_search', true, { RequestInfo: {}, tenantId: 'pb', userName: `a${NUL}b` }],
    ['NUL in a user search field (v1)', '/user/v1/_search', true, { RequestInfo: {}, tenantId: 'pb', mobileNumber: `98765${NUL}4321` }],
    ['NUL in an MDMS schema code', '/mdms-v2/v2/_search', false, { RequestInfo: {}, MdmsCriteria: { tenantId: 'pb', schemaCode: `common-masters.Department${NUL}` } }],
    ['NUL in an MDMS count', '/mdms-v2/v2/_count', false, { RequestInfo: {}, MdmsCriteria: { tenantId: 'pb', schemaCode: `x${NUL}` } }],
    ['NUL in an MDMS filter (jsonb @>)', '/mdms-v2/v2/_search', false, { RequestInfo: {}, MdmsCriteria: { tenantId: 'pb', filters: { code: `a${NUL}` } } }],
    ['a lone surrogate in an MDMS filter (jsonb @>)', '/mdms-v2/v2/_search', false, { RequestInfo: {}, MdmsCriteria: { tenantId: 'pb', filters: { code: '\ud800' } } }],
    ['NUL in a v1 master name', '/egov-mdms-service/v1/_search', false, { RequestInfo: {}, MdmsCriteria: { tenantId: 'pb', moduleDetails: [{ moduleName: 'x', masterDetails: [{ name: NUL }] }] } }],
    ['NUL in a schema search code', '/mdms-v2/schema/v1/_search', false, { RequestInfo: {}, SchemaDefCriteria: { tenantId: 'pb', codes: [`a${NUL}`] } }],
    ['NUL in a role name (stored in jsonb)', '/access/v1/roles/_create?tenantId=pb', true, { RequestInfo: {}, roles: [{ code: 'FUZZ', name: `Fuzz${NUL}` }] }],
    ['NUL in an OTP identity', '/otp/v1/_validate', false, { RequestInfo: {}, otp: { tenantId: 'pb', identity: `98765${NUL}4321`, otp: '123456' } }],
    ['NUL in an OTP identity (create)', '/otp/v1/_create', true, { RequestInfo: {}, otp: { tenantId: 'pb', identity: `98765${NUL}4321`, type: 'login' } }],
    // An e-mail identity where e-mail is not configured (found by CI's fuzz run): 400, not 503.
    ['an OTP to an e-mail address with no e-mail configured', '/otp/v1/_create', true, { RequestInfo: {}, otp: { tenantId: 'pb', identity: '@' } }],
    ['NUL in a password-reset user name', '/user/password/nologin/_update', false, { RequestInfo: {}, otpReference: '', userName: NUL, newPassword: '', tenantId: 'pb' }],
    // Integers past PostgreSQL's bigint (found by CI's fuzz run): refused by the schemas' bounds.
    ['a user id past bigint', '/user/v1/_search', true, { RequestInfo: null, id: [-9223372036854776000] }],
    ['a user id past bigint (scalar)', '/user/v1/_search', true, { RequestInfo: null, id: -9223372036854776000 }],
    ['an MDMS offset past bigint', '/mdms-v2/v2/_search', false, { RequestInfo: {}, MdmsCriteria: { tenantId: 'pb', offset: 1e20 } }],
    ['an audit time past bigint', '/audit/v1/_search', true, { RequestInfo: {}, AuditCriteria: { tenantId: 'pb', fromTime: 1e20 } }],
  ];
  it.each(found)('replays a found counterexample: %s (%s)', async (_what, url, asAdmin, body) => {
    const route = routes.find((r) => r.method === 'POST' && new RegExp(`^${r.url.replace(/:[A-Za-z0-9_]+/g, '[^/]+')}$`).test(url.split('?')[0]!))!;
    const payload = JSON.stringify(body);
    await send(route, { kind: 'a found counterexample', contentType: 'application/json', payload, query: url.includes('?') ? `?${url.split('?')[1]}` : '', path: url.split('?')[0]!, correlationId: undefined }, asAdmin ? `Bearer ${await liveToken()}` : undefined);
  });

  // Walks every route too, so a rate limit added to a new route is checked without editing this.
  it('answers rate-limited calls (429) in DIGIT shape, with code TOO_MANY_REQUESTS', async () => {
    const limited: string[] = [];
    const offenders: string[] = [];
    for (const route of routes.filter((r) => !r.url.startsWith('/docs'))) {
      const remoteAddress = nextClient();
      // More calls than the largest per-address limit (login: 30 a minute); cheap, invalid bodies.
      for (let i = 0; i < 35; i++) {
        const response = await platform.app.inject({
          method: route.method as 'GET' | 'POST',
          url: route.url.replace(/:[A-Za-z0-9_]+|\*/g, 'x'),
          remoteAddress,
          headers: { 'content-type': 'application/json' },
          ...(route.method === 'GET' ? {} : { payload: '{}' }),
        });
        if (response.statusCode !== 429) continue;
        limited.push(routeName(route));
        const json = JSON.parse(response.body) as Record<string, unknown>;
        const code = Array.isArray(json['Errors']) ? (json['Errors'][0] as Record<string, unknown> | undefined)?.['code'] : undefined;
        if (!isDigitError(json) || code !== 'TOO_MANY_REQUESTS') offenders.push(`${routeName(route)} after ${i} calls: ${response.body.slice(0, 300)}`);
        break;
      }
    }
    expect(limited).toContain('POST /user/oauth/token');
    expect(offenders.length, `${offenders.length} of ${limited.length} rate-limited routes:\n${offenders.join('\n')}`).toBe(0);
  });

  // One test for all routes, so that one defect of the router shows as one failure.
  it("answers the router's own refusals (malformed percent-encoding, over-long path parameter) in DIGIT shape, on every route", async () => {
    const offenders: string[] = [];
    const samples = new Map<string, string>();
    for (const route of routes) {
      const base = route.url.replace(/:[A-Za-z0-9_]+|\*/g, 'x');
      const paths: Array<[string, string]> = [
        ['a stray %', `${base}%`],
        ['a truncated UTF-8 escape', `${base}%E0%A4%A`],
        ['an invalid escape', route.url.includes(':') ? route.url.replace(/:[A-Za-z0-9_]+/, '%ZZ') : `${base}%ZZ`],
      ];
      if (route.url.includes(':')) paths.push(['a 101-character path parameter', route.url.replace(/:[A-Za-z0-9_]+/g, 'a.'.padEnd(101, 'b'))]);
      for (const [what, path] of paths) {
        const response = await platform.app.inject({ method: route.method as 'GET' | 'POST', url: path, headers: { 'content-type': 'application/json' }, ...(route.method === 'GET' ? {} : { payload: '{"RequestInfo":{}}' }) });
        const problem = verdict(route, response.statusCode, response.body);
        if (!problem) continue;
        if (!offenders.includes(routeName(route))) offenders.push(routeName(route));
        if (!samples.has(what)) samples.set(what, `${route.method} ${path} ${problem}: ${response.body.slice(0, 300)}`);
      }
    }
    const report = [...samples].map(([what, sample]) => `${what}: ${sample}`).join('\n');
    expect(offenders.length, `${offenders.length} of ${routes.length} routes:\n${report}\nroutes: ${offenders.join(', ')}`).toBe(0);
  });
});
