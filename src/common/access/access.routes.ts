import type { FastifyRequest } from 'fastify';
import type { RoleGrant } from '../../kernel/auth.js';
import { responseInfo } from '../../kernel/envelope.js';
import { invalid } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { Actor } from '../mdms/index.js';
import {
  ActionSearchRequest,
  ActionSearchResponse,
  AuthorizeRequest,
  RequestInfoOnly,
  RoleResponse,
  RoleSearchQuery,
  RoleWriteQuery,
  RoleWriteRequest,
} from './access.schema.js';
import type { AccessService } from './access.service.js';

const tags = ['access'];
/** egov-accesscontrol answers with the Spring status text, not ResponseInfoFactory's "successful". */
const OK = '200 OK';

const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });

/**
 * Role writes go to the query's tenant, else the caller's state: roles are state-level masters, so
 * the caller's scope must cover the state (MDMS checks the write against request.scope).
 */
function writeTenantOf(request: FastifyRequest, query: string | undefined): string {
  const tenantId = query ?? request.userInfo?.tenantId;
  if (!tenantId) throw invalid('INVALID_TENANT_ID', 'tenantId is required (query parameter)', ['tenantId']);
  return stateTenantOf(tenantId);
}

export function accessRoutes(service: AccessService) {
  return (app: HttpApp) => {
    app.post(
      '/access/v1/actions/_authorize',
      {
        // DIGIT's services (the gateway first) ask this about other callers, so it cannot itself demand their rights.
        config: { open: true },
        schema: {
          tags,
          summary: 'May these roles call this URI on these tenants? 200 or 401, empty body',
          body: AuthorizeRequest,
        },
      },
      async (request, reply) => {
        const { roles, uri, tenantIds } = request.body.AuthorizationRequest;
        // A role without a tenant covers no tenant, so it is dropped rather than refused.
        const grants: RoleGrant[] = roles.flatMap((r) => (typeof r.tenantId === 'string' ? [{ code: r.code, tenantId: r.tenantId }] : []));
        const allowed = await service.isAuthorized(grants, uri, tenantIds);
        return reply.status(allowed ? 200 : 401).send();
      },
    );

    for (const [url, summary] of [
      ['/access/v1/actions/_search', 'Actions of these roles (the UI menu)'],
      ['/access/v1/actions/mdms/_get', 'Actions of these roles, read from MDMS (as _search)'],
    ] as const) {
      app.post(url, { schema: { tags, summary, body: ActionSearchRequest, response: { 200: ActionSearchResponse } } }, async (request) => {
        const { RequestInfo, roleCodes, tenantId, enabled, actionMaster } = request.body;
        const actions = await service.searchActions({ roleCodes, tenantId, enabled, actionMaster });
        return { responseInfo: responseInfo(RequestInfo, request.id, OK), actions };
      });
    }

    for (const [url, summary] of [
      ['/access/v1/roles/_search', 'Roles by code (comma-separated) at a tenant; criteria in the query'],
      ['/access/v1/roles/mdms/_search', 'Roles from MDMS (as _search)'],
    ] as const) {
      app.post(
        url,
        { schema: { tags, summary, querystring: RoleSearchQuery, body: RequestInfoOnly, response: { 200: RoleResponse } } },
        async (request) => {
          const { code, tenantId: queryTenant } = request.query;
          const tenantId = queryTenant ?? request.userInfo?.tenantId;
          if (!tenantId) throw invalid('INVALID_TENANT_ID', 'tenantId is required (query parameter)', ['tenantId']);
          const codes = (code ?? '')
            .split(',')
            .map((c) => c.trim())
            .filter((c) => c !== '');
          const roles = await service.searchRoles({ codes, tenantId });
          return { responseInfo: responseInfo(request.body?.RequestInfo, request.id, OK), roles };
        },
      );
    }

    app.post(
      '/access/v1/roles/_create',
      {
        schema: {
          tags,
          summary: 'Add roles to the state roles master',
          querystring: RoleWriteQuery,
          body: RoleWriteRequest,
          response: { 200: RoleResponse },
        },
      },
      async (request) => {
        const { RequestInfo, roles } = request.body;
        const created = await service.createRoles(roles, writeTenantOf(request, request.query.tenantId), actorOf(request), request.scope);
        return { responseInfo: responseInfo(RequestInfo, request.id, OK), roles: created };
      },
    );

    app.post(
      '/access/v1/roles/_update',
      {
        schema: {
          tags,
          summary: 'Rename or re-describe roles; the code is the key',
          querystring: RoleWriteQuery,
          body: RoleWriteRequest,
          response: { 200: RoleResponse },
        },
      },
      async (request) => {
        const { RequestInfo, roles } = request.body;
        const updated = await service.updateRoles(roles, writeTenantOf(request, request.query.tenantId), actorOf(request), request.scope);
        return { responseInfo: responseInfo(RequestInfo, request.id, OK), roles: updated };
      },
    );
  };
}
