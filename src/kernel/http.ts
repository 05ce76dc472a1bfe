import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from './config.js';
import { DomainError, type ErrorDetail, type ErrorKind } from './errors.js';
import { errorBody } from './envelope.js';
import type { Metrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Open routes need no token; every other route is authorized by its action (see access). */
    open?: boolean;
  }
}

export type HttpApp = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  too_many_requests: 429,
  not_implemented: 501,
  unavailable: 503,
};

const CORRELATION_ID = /^[A-Za-z0-9._:|-]{1,128}$/;

// Text PostgreSQL cannot store (NUL) or that is not Unicode (unpaired UTF-16 surrogates), as JSON
// escapes: refused at the door with a 400, on both engines alike, rather than failing in SQL.
const UNSTORABLE_JSON =
  /\\u0000|\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/;
const UNSTORABLE_URL = /%00/i;

function hasUnstorableText(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  return Object.values(value).some((child) => hasUnstorableText(child, depth + 1));
}

// Ajv coerces a numeral string such as "1e309" to Infinity and then skips its range checks (they
// only look at finite numbers), so an out-of-range count would reach SQL. Such numerals are refused
// here: in query strings and form bodies by value, in JSON bodies by a scan for quoted ones.
const NUMERAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const QUOTED_HUGE_NUMERAL = /"\s*[+-]?(?:\d{309,}(?:\.\d*)?|(?:\d+\.?\d*|\.\d+)[eE]\+?0*[1-9]\d{2,})\s*"/g;

function overflowingNumeral(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(overflowingNumeral);
  return typeof value === 'string' && NUMERAL.test(value) && !Number.isFinite(Number(value));
}

function hasQuotedOverflowingNumeral(json: string): boolean {
  for (const match of json.matchAll(QUOTED_HUGE_NUMERAL)) if (!Number.isFinite(Number(match[0].slice(1, -1)))) return true;
  return false;
}

const outOfRange = (where: string) =>
  new DomainError('invalid', { code: 'INVALID_REQUEST', message: `${where} holds a number too large for any field`, params: [where] });

const unstorable = () =>
  new DomainError('invalid', {
    code: 'INVALID_CHARACTERS',
    message: 'The request contains a NUL character or an unpaired surrogate, which no field can hold',
  });

// Query parameters whose values the request log keeps: paging, sorting and tenant selectors that
// say nothing about a person. Every other value (access_token, mobileNumber, userName, emailId,
// name, identifiers, file signatures…) is logged as *** with its name, so a token or personal data
// sent in a URL (as DIGIT's gateway sends /user/_details?access_token=) never reaches the log.
const LOGGED_QUERY_VALUES = new Set(
  [
    'tenantId', 'tenantIds', 'limit', 'offset', 'pageSize', 'pageNumber', 'sortBy', 'sortOrder', 'locale', 'module',
    'moduleName', 'schemaCode', 'businessService', 'businessServices', 'status', 'applicationStatus', 'history',
    'isActive', 'includeDeleted', 'hierarchyType', 'boundaryType', 'serviceCode', 'serviceRequestId', 'lastChangedSince',
    'fromDate', 'toDate', 'includeChildren', 'includeParents',
  ].map((name) => name.toLowerCase()),
);
const SECRET_NAME = /token|password|secret|otp|signature|key/i;

/** The URL as the request log may show it: path, query parameter names, and only harmless values. */
export function loggableUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark === -1) return url;
  const query = url.slice(mark + 1);
  if (query === '') return url;
  const parts = query.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    if (equals === -1) return pair;
    const rawName = pair.slice(0, equals);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // Badly encoded: judged as it is.
    }
    const keep = LOGGED_QUERY_VALUES.has(name.toLowerCase()) && !SECRET_NAME.test(name);
    return keep ? pair : `${rawName}=***`;
  });
  return `${url.slice(0, mark)}?${parts.join('&')}`;
}

/** Router-level refusals (bad percent-encoding, over-long path parameters) in DIGIT's shape too. */
function rawRefusal(status: number, code: string, message: string) {
  return (_path: string, _req: IncomingMessage, res: ServerResponse) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(errorBody([{ code, message }])));
  };
}

/** `/MdmsCriteria/tenantId` → `MdmsCriteria.tenantId`. */
function fieldName(instancePath: string, missing?: unknown): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (typeof missing === 'string') parts.push(missing);
  return parts.length === 0 ? 'the request body' : parts.join('.');
}

type AjvIssue = { keyword: string; instancePath: string; message?: string; params: Record<string, unknown> };

function validationDetails(error: FastifyError): ErrorDetail[] {
  const issues = (error.validation ?? []) as AjvIssue[];
  const where = error.validationContext ?? 'body';
  return issues.slice(0, 10).map((issue) => {
    const field = fieldName(issue.instancePath, issue.params['missingProperty']);
    const message =
      issue.keyword === 'required'
        ? `${field} is required`
        : issue.keyword === 'additionalProperties'
          ? `${field} has an unknown property "${String(issue.params['additionalProperty'])}"`
          : `${field} ${issue.message ?? 'is invalid'}`;
    return { code: 'INVALID_REQUEST', message: where === 'body' ? message : `${where} ${message}`, params: [field] };
  });
}

/** Maps every error to DIGIT's shape; internals of a 5xx never reach the caller. */
function toErrorResponse(error: FastifyError | DomainError | Error): { status: number; details: ErrorDetail[] } {
  if (error instanceof DomainError) return { status: STATUS_BY_KIND[error.kind], details: [...error.details] };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return { status: 400, details: validationDetails(fastifyError) };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, details: [{ code: 'JsonParseException', message: `The request body is not valid JSON: ${error.message}` }] };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, details: [{ code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than this server accepts' }] };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, details: [{ code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the request body as application/json' }] };
  }
  if (error instanceof SyntaxError) {
    return { status: 400, details: [{ code: 'JsonParseException', message: `The request body is not valid JSON: ${error.message}` }] };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, details: [{ code: fastifyError.code ?? 'BAD_REQUEST', message: error.message }] };
  }
  return {
    status: 500,
    details: [{ code: 'INTERNAL_SERVER_ERROR', message: 'The server could not complete the request; it has been logged' }],
  };
}

// Per body schema: lower-cased key → the key the schema expects, for DIGIT's case-insensitive reading.
const keyMaps = new WeakMap<object, Map<string, string>>();

function canonicalKeys(schema: unknown): Map<string, string> | undefined {
  if (!schema || typeof schema !== 'object') return undefined;
  let map = keyMaps.get(schema);
  if (!map) {
    const properties = (schema as { properties?: Record<string, unknown> }).properties ?? {};
    map = new Map(Object.keys(properties).map((key) => [key.toLowerCase(), key]));
    keyMaps.set(schema, map);
  }
  return map;
}

/** `requestInfo` → `RequestInfo`, `mdmsCriteria` → `MdmsCriteria`: DIGIT reads top-level keys case-insensitively. */
function normaliseTopLevelKeys(request: FastifyRequest): void {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  const map = canonicalKeys(request.routeOptions.schema?.body);
  if (!map || map.size === 0) return;
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const canonical = map.get(key.toLowerCase());
    if (canonical && canonical !== key && !(canonical in record)) {
      record[canonical] = record[key];
      Reflect.deleteProperty(record, key);
    }
  }
}

/** A registered route, as the coverage and fuzz tests walk them. */
export type RouteEntry = {
  method: string;
  url: string;
  open: boolean;
  anonymous: boolean;
  hasBody: boolean;
  /** `config.tenant`: 'none' when the route takes no tenant (see installAuth). */
  tenant: 'none' | undefined;
  /** The route's request schemas, for tests that build valid requests from them. */
  schema: { body?: unknown; querystring?: unknown; params?: unknown };
};

const routeTables = new WeakMap<object, RouteEntry[]>();

/** Every route of the app, for checks that must cover new routes automatically. */
export function routeTable(app: HttpApp): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

export type HttpAppOptions = {
  config: Config;
  metrics: Metrics;
  version: string;
  /** Where the log goes (stdout by default); tests read it. */
  logStream?: { write(line: string): void } | undefined;
};

export async function createHttpApp({ config, metrics, version, logStream }: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers["auth-token"]', 'req.headers.cookie'],
      ...(logStream ? { stream: logStream } : {}),
    },
    bodyLimit: config.bodyLimit,
    // One line per request, written by our onResponse hook below.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'correlationId' }),
    // genReqId reads and checks x-correlation-id itself; Fastify would take the header unchecked.
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-correlation-id'];
      return typeof incoming === 'string' && CORRELATION_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: true } },
    routerOptions: {
      maxParamLength: 256,
      onBadUrl: rawRefusal(400, 'INVALID_URL', 'The URL is not validly percent-encoded'),
      onMaxParamLength: rawRefusal(414, 'URI_TOO_LONG', 'A path parameter is longer than 256 characters'),
    },
    // request.ip is the X-Forwarded-For client only when the peer is a trusted proxy (rate limits are per request.ip).
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (UNSTORABLE_JSON.test(body as string)) return done(unstorable(), undefined);
    if (hasQuotedOverflowingNumeral(body as string)) return done(outOfRange('the request body'), undefined);
    defaultJson(request, body as string, done);
  });
  app.addHook('onRequest', async (request) => {
    if (UNSTORABLE_URL.test(request.url)) throw unstorable();
  });
  app.addHook('preValidation', async (request) => {
    // Form bodies (DIGIT's token endpoint) arrive decoded: check their values directly.
    const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
    if (form && hasUnstorableText(request.body)) throw unstorable();
    for (const [source, values] of [
      ['querystring', request.query],
      ...(form ? [['the request body', request.body] as const] : []),
    ] as const) {
      if (values && typeof values === 'object' && Object.values(values).some(overflowingNumeral)) throw outOfRange(source);
    }
    normaliseTopLevelKeys(request);
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-correlation-id', request.id);
    // API answers are never cached; the web apps' static files set their own policy.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-cache, no-store, max-age=0, must-revalidate');
  });

  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    request.log.info(
      { method: request.method, url: loggableUrl(request.url), statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  app.setErrorHandler((error: FastifyError | DomainError, request, reply) => {
    const { status, details } = toErrorResponse(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    // Worth retrying: the database or a storage service is away for now.
    if (status === 503) reply.header('retry-after', '5');
    else request.log.debug({ err: error }, 'request refused');
    return reply.status(status).send(errorBody(details));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody([{ code: 'NOT_FOUND', message: `No API at ${request.method} ${request.url.split('?')[0]}` }])),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Plinth',
        version,
        description: "DIGIT's platform APIs, served by Plinth. Every body carries DIGIT's RequestInfo envelope.",
      },
    },
  });
  // The docs page's own routes (HTML, assets) are public, like the spec.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, open: true };
  });
  // After the hook above, so the table sees the docs routes as open.
  const table: RouteEntry[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      table.push({
        method,
        url: route.url,
        open: route.config?.open === true,
        anonymous: route.config?.anonymous === true,
        hasBody: Boolean(route.schema?.body),
        tenant: route.config?.tenant,
        schema: { body: route.schema?.body, querystring: route.schema?.querystring, params: route.schema?.params },
      });
    }
  });

  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true }, config: { open: true } }, async () => app.swagger());

  return app;
}
