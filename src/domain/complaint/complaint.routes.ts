import type { FastifyRequest } from 'fastify';
import type { UserInfo } from '../../kernel/auth.js';
import { responseInfo } from '../../kernel/envelope.js';
import { DomainError } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import { CountResponse, RequestInfoBody, SearchQuery, ServiceRequest, UpdateRequest, WrappersResponse } from './complaint.schema.js';
import type { ComplaintService } from './complaint.service.js';

const tags = ['pgr'];
const BASE = '/pgr-services/v2/request';

function callerOf(request: FastifyRequest): UserInfo {
  // Every complaint route is protected, so the kernel has put the user here; this guards a misconfiguration.
  if (!request.userInfo) throw new DomainError('unauthenticated', { code: 'CustomException', message: 'Authentication required: send a valid access token' });
  return request.userInfo;
}

/** DIGIT's pgr-services v2: complaints filed, moved through the PGR workflow, searched and counted. */
export function complaintRoutes(service: ComplaintService) {
  return (app: HttpApp) => {
    app.post(
      `${BASE}/_create`,
      { schema: { tags, summary: 'File a complaint (workflow action APPLY); an employee files for a citizen by mobile number', body: ServiceRequest, response: { 200: WrappersResponse } } },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        ServiceWrappers: [await service.create(callerOf(request), request.body, { ip: request.ip, correlationId: request.id })],
      }),
    );

    app.post(
      `${BASE}/_update`,
      { schema: { tags, summary: 'Take a workflow action on a complaint (ASSIGN, REASSIGN, RESOLVE, REJECT, REOPEN, RATE, COMMENT)', body: UpdateRequest, response: { 200: WrappersResponse } } },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        ServiceWrappers: [await service.update(callerOf(request), request.body, { correlationId: request.id })],
      }),
    );

    app.post(
      `${BASE}/_search`,
      { schema: { tags, summary: 'Search complaints: citizens see their own, employees those of the tenant; newest first unless sortOrder=ASC', querystring: SearchQuery, body: RequestInfoBody, response: { 200: WrappersResponse } } },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        ServiceWrappers: await service.search(callerOf(request), request.query, { correlationId: request.id }),
      }),
    );

    app.post(
      `${BASE}/_count`,
      { schema: { tags, summary: 'Count complaints matching the search criteria', querystring: SearchQuery, body: RequestInfoBody, response: { 200: CountResponse } } },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        count: await service.count(callerOf(request), request.query),
      }),
    );
  };
}
