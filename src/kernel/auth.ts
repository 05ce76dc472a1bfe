import type { FastifyRequest } from 'fastify';
import { DomainError } from './errors.js';
import type { HttpApp } from './http.js';

export type UserType = 'CITIZEN' | 'EMPLOYEE' | 'SYSTEM' | 'BUSINESS';

export type RoleGrant = { code: string; name?: string | null; tenantId: string };

/** DIGIT's `RequestInfo.userInfo`, as the gateway puts it into every request. */
export type UserInfo = {
  id: number;
  uuid: string;
  userName: string;
  name: string | null;
  mobileNumber: string | null;
  emailId: string | null;
  type: UserType;
  tenantId: string;
  roles: RoleGrant[];
};

/** Resolves an access token to its user; `undefined` for anything not currently valid. */
export type Authenticator = { authenticate(token: string): Promise<UserInfo | undefined> };

/** DIGIT's access-control decision: may these roles call `uri` on these tenants? */
export type Authorizer = { isAuthorized(roles: readonly RoleGrant[], uri: string, tenantIds: readonly string[]): Promise<boolean> };

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null on open routes and anonymous calls. */
    userInfo: UserInfo | null;
  }
  interface FastifyContextConfig {
    /**
     * DIGIT's mixed mode: callers without a token pass as ANONYMOUS; callers with one are
     * authenticated and authorized as on any other route.
     */
    anonymous?: boolean;
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

/**
 * The tenants a request touches: every `tenantId` in the body outside RequestInfo, and the
 * `tenantId` query parameter (comma-separated), else the user's own. DIGIT's gateway reads the
 * query only when the body names none; services that search by the query's tenant would then be
 * authorised against the body's, so Plinth takes both.
 */
export function tenantIdsOf(request: FastifyRequest, user: UserInfo | null): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, depth: number) => {
    if (depth > 32 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) walk(item, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      if (depth === 0 && key === 'RequestInfo') continue;
      if (key === 'tenantId' && typeof child === 'string' && child !== '') found.add(child);
      else walk(child, depth + 1);
    }
  };
  walk(request.body, 0);
  const query = (request.query as Record<string, unknown> | undefined)?.['tenantId'];
  const queried = Array.isArray(query) ? query : [query];
  for (const value of queried) if (typeof value === 'string') for (const t of value.split(',')) if (t.trim()) found.add(t.trim());
  if (found.size === 0 && user) found.add(user.tenantId);
  return [...found];
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

/**
 * Authenticates and authorizes every route before its handler, as DIGIT's gateway does:
 * open routes pass; otherwise no valid token is 401, and roles that do not allow the route's
 * path on the tenants the request touches are 403. The user lands in `request.userInfo` and in
 * `RequestInfo.userInfo`; the token is removed from the body.
 */
export function installAuth(app: HttpApp, options: AuthOptions): void {
  app.decorateRequest('userInfo', null);
  app.addHook('preValidation', async (request) => {
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
    if (!user) {
      if (!config.anonymous) throw unauthenticated();
      return;
    }
    const uri = request.url.split('?')[0] ?? request.url;
    const tenantIds = tenantIdsOf(request, user);
    if (!(await options.authorizer.isAuthorized(user.roles, uri, tenantIds))) throw forbidden();
    request.userInfo = user;
    if (info) info['userInfo'] = user;
  });
}
