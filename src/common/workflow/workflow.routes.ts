import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { DomainError, invalid } from '../../kernel/errors.js';
import { ResponseInfo, responseInfo } from '../../kernel/envelope.js';
import type { HttpApp } from '../../kernel/http.js';
import type { EscalationService } from './workflow.escalation.js';
import {
  BusinessServiceParams,
  BusinessServiceRequest,
  BusinessServiceResponse,
  BusinessServiceSearchQuery,
  ProcessInstanceRequest,
  ProcessSearchQuery,
  ProcessSearchResponse,
  RequestInfoBody,
  StatusCount,
  StatusCountBody,
  TransitionResponse,
} from './workflow.schema.js';
import type { ProcessCriteria, WorkflowCaller, WorkflowService } from './workflow.service.js';

const tags = ['workflow'];
const BASE = '/egov-workflow-v2/egov-wf';

function callerOf(request: FastifyRequest): WorkflowCaller {
  // Every workflow route is protected, so the kernel has put the user here; this guards a misconfiguration.
  if (!request.userInfo) throw new DomainError('unauthenticated', { code: 'CustomException', message: 'Authentication required: send a valid access token' });
  return request.userInfo;
}

const StatusCountQuery = Type.Partial(ProcessSearchQuery, { additionalProperties: true });

/** `_statuscount` takes its criteria from the body when given (DIGIT's StatusCountRequest), else from the query. */
function statusCriteria(body: StatusCountBody, query: Partial<ProcessSearchQuery>): ProcessCriteria {
  const fromBody = body.ProcessInstanceSearchCriteria;
  const source: unknown = fromBody ? Value.Convert(ProcessSearchQuery, { ...fromBody }) : query;
  if (!Value.Check(ProcessSearchQuery, source)) {
    const first = [...Value.Errors(ProcessSearchQuery, source)][0];
    const field = first ? first.instancePath.split('/').filter(Boolean).join('.') || 'criteria' : 'criteria';
    throw invalid('INVALID_REQUEST', `${fromBody ? 'ProcessInstanceSearchCriteria' : 'querystring'} ${field} ${first?.message ?? 'is invalid'} (tenantId is required)`, [field]);
  }
  return source;
}

export function workflowRoutes(service: WorkflowService, escalation: EscalationService) {
  return (app: HttpApp) => {
    app.post(
      `${BASE}/businessservice/_create`,
      { schema: { tags, summary: 'Define workflows: states, actions, roles and SLAs', body: BusinessServiceRequest, response: { 200: BusinessServiceResponse } } },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        BusinessServices: await service.createBusinessServices(request.body.BusinessServices, callerOf(request).uuid),
      }),
    );

    app.post(
      `${BASE}/businessservice/_update`,
      {
        schema: {
          tags,
          summary: 'Change workflows: existing states and actions keep their uuids; states cannot be removed, actions left out are retired',
          body: BusinessServiceRequest,
          response: { 200: BusinessServiceResponse },
        },
      },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        BusinessServices: await service.updateBusinessServices(request.body.BusinessServices, callerOf(request).uuid),
      }),
    );

    app.post(
      `${BASE}/businessservice/_search`,
      { schema: { tags, summary: 'Workflows serving a tenant (state-level ones included)', querystring: BusinessServiceSearchQuery, body: RequestInfoBody, response: { 200: BusinessServiceResponse } } },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        BusinessServices: await service.searchBusinessServices(request.query),
      }),
    );

    app.post(
      `${BASE}/process/_transition`,
      { schema: { tags, summary: 'Take actions on applications (all or nothing)', body: ProcessInstanceRequest, response: { 200: TransitionResponse } } },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        ProcessInstances: await service.transition(callerOf(request), request.body.ProcessInstances),
      }),
    );

    app.post(
      `${BASE}/process/_search`,
      {
        schema: {
          tags,
          summary: 'Applications and their history; without businessIds, ids, assignee or status: the caller’s inbox',
          querystring: ProcessSearchQuery,
          body: RequestInfoBody,
          response: { 200: ProcessSearchResponse },
        },
      },
      async (request) => ({ ResponseInfo: null, ...(await service.search(callerOf(request), request.query)) }),
    );

    app.post(
      `${BASE}/process/_count`,
      { schema: { tags, summary: 'How many applications match (a bare number)', querystring: ProcessSearchQuery, body: RequestInfoBody, response: { 200: Type.Integer() } } },
      async (request) => service.count(callerOf(request), request.query),
    );

    app.post(
      `${BASE}/process/_statuscount`,
      {
        schema: {
          tags,
          summary: 'Applications per status',
          querystring: StatusCountQuery,
          body: StatusCountBody,
          response: { 200: Type.Array(StatusCount) },
        },
      },
      async (request) => service.statusCount(callerOf(request), statusCriteria(request.body, request.query)),
    );

    app.post(
      `${BASE}/process/_nearingslacount`,
      { schema: { tags, summary: 'Applications nearing their business SLA (needs businessService)', querystring: ProcessSearchQuery, body: RequestInfoBody, response: { 200: Type.Integer() } } },
      async (request) => service.nearingSlaCount(callerOf(request), request.query),
    );

    app.post(
      `${BASE}/escalate/_search`,
      { schema: { tags, summary: 'Applications moved by auto-escalation', querystring: ProcessSearchQuery, body: RequestInfoBody, response: { 200: ProcessSearchResponse } } },
      async (request) => ({ ResponseInfo: null, ...(await service.searchEscalated(callerOf(request), request.query)) }),
    );

    app.post(
      `${BASE}/auto/:businessService/_escalate`,
      {
        // Escalation runs over every tenant's applications of the business service.
        config: { tenant: 'none' },
        schema: {
          tags,
          summary: 'Escalate overdue applications per MDMS Workflow.AutoEscalation (caller needs AUTO_ESCALATE)',
          params: BusinessServiceParams,
          body: RequestInfoBody,
          response: { 200: ResponseInfo },
        },
      },
      async (request) => {
        await escalation.escalate(callerOf(request), request.params.businessService);
        return responseInfo(request.body.RequestInfo, request.id);
      },
    );

    app.post(
      `${BASE}/auto/:businessService/_test`,
      {
        config: { tenant: 'none' },
        schema: { tags, summary: 'Which applications _escalate would move now (changes nothing)', params: BusinessServiceParams, body: RequestInfoBody, response: { 200: Type.Array(Type.String()) } },
      },
      async (request) => (await escalation.dryRun(callerOf(request), request.params.businessService)).map((r) => r.businessId),
    );
  };
}
