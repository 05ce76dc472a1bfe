import type { FastifyRequest } from 'fastify';
import type { UserInfo } from '../../kernel/auth.js';
import { responseInfo, type RequestInfo } from '../../kernel/envelope.js';
import { DomainError } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import { CountResponse, EnvelopeOnly, EventRequest, EventResponse, LatQuery, LatResponse, SearchQuery } from './userevent.schema.js';
import type { UserEventService } from './userevent.service.js';

const tags = ['userevent'];
const BASE = '/egov-user-event/v1/events';

function callerOf(request: FastifyRequest): UserInfo {
  if (!request.userInfo) throw new DomainError('unauthenticated', { code: 'CustomException', message: 'Authentication required: send a valid access token' });
  return request.userInfo;
}

const envelope = (body: { RequestInfo?: RequestInfo; requestInfo?: RequestInfo } | undefined) => body?.RequestInfo ?? body?.requestInfo;

/** `a,b` and repeated parameters alike, as Spring binds a List from the query string. */
function list(values: readonly string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  const out = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return out.length > 0 ? out : undefined;
}

/** DIGIT's egov-user-event: in-app events; search criteria come in the query string, as in DIGIT. */
export function userEventRoutes(service: UserEventService) {
  return (app: HttpApp) => {
    app.post(
      `${BASE}/_create`,
      { schema: { tags, summary: 'Create in-app events (all or none)', body: EventRequest, response: { 200: EventResponse } } },
      async (request) => {
        const user = callerOf(request);
        const events = await service.create(request.body.events, { uuid: user.uuid }, request.scope);
        return { ResponseInfo: responseInfo(envelope(request.body), request.id), events };
      },
    );

    app.post(
      `${BASE}/_update`,
      { schema: { tags, summary: 'Update in-app events by id (all or none)', body: EventRequest, response: { 200: EventResponse } } },
      async (request) => {
        const user = callerOf(request);
        const events = await service.update(request.body.events, { uuid: user.uuid }, request.scope);
        return { ResponseInfo: responseInfo(envelope(request.body), request.id), events };
      },
    );

    app.post(
      `${BASE}/_search`,
      {
        schema: {
          tags,
          summary: 'Events visible to the caller: a citizen sees those addressed to them or their roles',
          querystring: SearchQuery,
          body: EnvelopeOnly,
          response: { 200: EventResponse },
        },
      },
      async (request) => {
        const user = callerOf(request);
        const q = request.query;
        const criteria = {
          tenantId: q.tenantId,
          ids: list(q.ids),
          userids: list(q.userids),
          postedBy: list(q.postedBy),
          name: list(q.name),
          referenceIds: list(q.referenceIds),
          source: list(q.source),
          status: list(q.status),
          eventTypes: list(q.eventTypes),
          fromDate: q.fromDate,
          toDate: q.toDate,
          offset: q.offset,
          limit: q.limit,
        };
        const found = await service.search(
          Object.fromEntries(Object.entries(criteria).filter(([, v]) => v !== undefined)) as typeof criteria,
          user,
          request.scope,
        );
        return { ResponseInfo: responseInfo(envelope(request.body), request.id), events: found.events, totalCount: found.totalCount };
      },
    );

    app.post(
      `${BASE}/notifications/_count`,
      {
        schema: { tags, summary: "Counts of the caller's notifications: all, and unread since their last access", querystring: SearchQuery, body: EnvelopeOnly, response: { 200: CountResponse } },
      },
      async (request) => {
        const user = callerOf(request);
        const counts = await service.count(request.query.tenantId, user, request.scope);
        return { ResponseInfo: responseInfo(envelope(request.body), request.id), ...counts };
      },
    );

    app.post(
      `${BASE}/lat/_update`,
      { schema: { tags, summary: 'Record that the caller has seen their notifications now (DIGIT answers a bare ResponseInfo)', querystring: LatQuery, body: EnvelopeOnly, response: { 200: LatResponse } } },
      async (request) => {
        const user = callerOf(request);
        await service.markSeen(request.query.tenantId, user);
        return responseInfo(envelope(request.body), request.id);
      },
    );
  };
}
