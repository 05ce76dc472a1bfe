import type { FastifyRequest } from 'fastify';
import { DomainError, invalid } from './errors.js';
import type { HttpApp } from './http.js';
import { namedTenants } from './named.js';
import { inScope, scopeFor, type Scope } from './scope.js';

export type { RoleGrant, UserInfo, UserType } from './userinfo.js';
import type { RoleGrant, UserInfo } from './userinfo.js';

/** Resolves an access token to its user; `undefined` for anything not currently valid. */
export type Authenticator = { authenticate(token: string): Promise<UserInfo | undefined> };

/** DIGIT's access-control decision, from the role-action mapping of each grant's state. */
export type Authorizer = {
  /** The tenant roots of the grants whose role may call `uri` (each covers its sub-tenants). */
  scopeFor(roles: readonly RoleGrant[], uri: string): Promise<readonly string[]>;
  /** May these roles call `uri` on every one of these tenants? Equal to: every tenant inside `scopeFor`. */
  isAuthorized(roles: readonly RoleGrant[], uri: string, tenantIds: readonly string[]): Promise<boolean>;
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null on open routes and anonymous calls. */
    userInfo: UserInfo | null;
    /**
     * What the caller may reach for the matched action, computed after validation (see installAuth):
     * stores take it. Empty (no tenants, not system) on open routes and for anonymous callers.
     */
    scope: Scope;
  }
  interface FastifyContextConfig {
    /**
     * DIGIT's mixed mode: callers without a token pass as ANONYMOUS; callers with one are
     * authenticated and authorized as on any other route.
     */
    anonymous?: boolean;
    /**
     * `'none'`: the route takes no tenant (own profile, key management, a multipart body the kernel
     * cannot read and the handler checks against `request.scope`), so naming none is no 400. Any
     * tenant the request does name must still be in scope. Reviewed in test/authz.matrix.test.ts.
     */
    tenant?: 'none';
    /** Body paths holding documents, not request fields (a JSON Schema): tenant keys inside are not read. */
    tenantOpaque?: readonly string[];
  }
}

export const ANONYMOUS_ROLE = 'ANONYMOUS';

/** Bearer header, DIGIT's `auth-token` header, or `RequestInfo.authToken`, in that order. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^bearer /i.test(header)) return header.slice(7).trim() || undefined;
  const authToken = request.headers['auth-token'];
  if (typeof authToken === 'string' && authToken !== '') return authToken;
  const info = requestInfoOf(request);
  const fromBody = info?.['authToken'];
  return typeof fromBody === 'string' && fromBody !== '' ? fromBody : undefined;
}

function requestInfoOf(request: FastifyRequest): Record<string, unknown> | undefined {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const info = (body as Record<string, unknown>)['RequestInfo'];
  return info && typeof info === 'object' && !Array.isArray(info) ? (info as Record<string, unknown>) : undefined;
}

const unauthenticated = () =>
  new DomainError('unauthenticated', { code: 'CustomException', message: 'Authentication required: send a valid access token' });
const forbidden = () => new DomainError('forbidden', { code: 'CustomException', message: 'Not authorized to access this resource' });

export type AuthOptions = {
  authenticator: Authenticator;
  authorizer: Authorizer;
  /**
   * For the internal listener only: trust `RequestInfo.userInfo` when no token is sent, as DIGIT's
   * services trust each other behind the gateway. Never on the public port.
   */
  trustRequestUserInfo?: (request: FastifyRequest, claimed: Record<string, unknown>) => Promise<UserInfo | undefined>;
};

const missingTenant = () => invalid('INVALID_TENANT_ID', 'tenantId is required');

/** Anonymous callers of mixed-mode routes, and open routes: no tenants, not the system. */
const NOBODY: Scope = scopeFor(null, []);

/**
 * Authenticates and authorizes every route before its handler, as DIGIT's gateway does, but on the
 * request as the handler will read it. Before validation: open routes pass; otherwise no valid
 * token is 401. After validation (Ajv has coerced `["pb.amritsar"]` to `"pb.amritsar"` by then):
 * every tenant the request names, in any shape (see namedTenants), must lie inside the caller's
 * scope for the route's action, else 403; a route that takes a tenant and names none is a 400,
 * never a fallback to the caller's home. The scope lands in `request.scope` for the stores, the
 * user in `request.userInfo` and in `RequestInfo.userInfo`; the token is removed from the body.
 */
export function installAuth(app: HttpApp, options: AuthOptions): void {
  app.decorateRequest('userInfo', null);
  // Fastify refuses object defaults (they would be shared); every request gets NOBODY first.
  app.decorateRequest('scope', null as unknown as Scope);
  app.addHook('preValidation', async (request) => {
    request.scope = NOBODY;
    // Unknown paths answer 404 to everyone; there is nothing to protect.
    if (request.is404) return;
    const config = request.routeOptions.config;
    const token = tokenOf(request);
    const info = requestInfoOf(request);
    const claimedInfo = info?.['userInfo'];
    const claimed =
      token === undefined && options.trustRequestUserInfo && claimedInfo && typeof claimedInfo === 'object'
        ? await options.trustRequestUserInfo(request, claimedInfo as Record<string, unknown>)
        : undefined;
    // As the gateway: whatever the client says about who it is, only the token counts.
    if (info) {
      delete info['authToken'];
      delete info['userInfo'];
    }
    if (config.open) return;

    let user = claimed;
    if (token !== undefined) {
      user = await options.authenticator.authenticate(token);
      if (!user) throw unauthenticated();
    }
    if (!user && !config.anonymous) throw unauthenticated();
    // Types are judged as sent: Ajv would coerce a number or a boolean to a string tenant.
    namedTenants(request.body, request.query, config.tenantOpaque);
    if (!user) return;
    request.userInfo = user;
    if (info) info['userInfo'] = user;
  });
  app.addHook('preHandler', async (request) => {
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.open) return;
    const tenants = namedTenants(request.body, request.query, config.tenantOpaque);
    if (tenants.length === 0 && config.tenant !== 'none') throw missingTenant();
    const user = request.userInfo;
    // Only mixed-mode routes get here without a user (preValidation refused the rest).
    if (!user) return;
    const uri = request.url.split('?')[0] ?? request.url;
    const scope = scopeFor(user, await options.authorizer.scopeFor(user.roles, uri));
    if (scope.tenants.length === 0 || !tenants.every((tenant) => inScope(scope, tenant))) throw forbidden();
    request.scope = scope;
  });
}
