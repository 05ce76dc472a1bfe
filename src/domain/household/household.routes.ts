import type { FastifyInstance, FastifyRequest } from 'fastify';
import { responseInfo } from '../../kernel/envelope.js';
import { DomainError } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import { OfflineSearchParams } from '../../kernel/offline.js';
import type { Actor, BulkResult } from '../../kernel/offline.batch.js';
import { singleRecord } from '../../kernel/offline.http.js';
import type { Downsync } from './household.downsync.js';
import {
  DownsyncRequest,
  DownsyncResponse,
  HouseholdBulkRequest,
  HouseholdBulkResponse,
  HouseholdDeleteRequest,
  HouseholdMemberBulkRequest,
  HouseholdMemberBulkResponse,
  HouseholdMemberDeleteRequest,
  HouseholdMemberRequest,
  HouseholdMemberResponse,
  HouseholdMemberSearchRequest,
  HouseholdMemberSearchResponse,
  HouseholdRequest,
  HouseholdResponse,
  HouseholdSearchRequest,
  HouseholdSearchResponse,
  SyncStatusRequest,
  SyncStatusResponse,
} from './household.schema.js';
import type { HouseholdService } from './household.service.js';
import type { MemberService } from './member.service.js';

const tags = ['household'];
const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });

type Write = (records: readonly unknown[], actor: Actor) => Promise<BulkResult<unknown>>;

/** DIGIT's household service (health-campaign-services `household`), context `/household`; every write commits before answering. */
export function householdRoutes(households: HouseholdService, members: MemberService, downsync: Downsync) {
  return (app: HttpApp) => {
    const entities = [
      {
        base: '/household/v1',
        one: 'Household',
        many: 'Households',
        service: households,
        schemas: {
          single: HouseholdRequest,
          remove: HouseholdDeleteRequest,
          bulk: HouseholdBulkRequest,
          one: HouseholdResponse,
          many: HouseholdBulkResponse,
        },
      },
      {
        base: '/household/member/v1',
        one: 'HouseholdMember',
        many: 'HouseholdMembers',
        service: members,
        schemas: {
          single: HouseholdMemberRequest,
          remove: HouseholdMemberDeleteRequest,
          bulk: HouseholdMemberBulkRequest,
          one: HouseholdMemberResponse,
          many: HouseholdMemberBulkResponse,
        },
      },
    ] as const;

    // One loop serves both entities, so the handlers are typed by the services, not by the
    // entity-specific schemas (which still validate the requests and shape the answers).
    const writes = app as unknown as FastifyInstance;
    for (const entity of entities) {
      const operations: Array<{ path: string; verb: string; write: Write; remove: boolean }> = [
        { path: '_create', verb: 'Create', write: (r, a) => entity.service.create(r, a), remove: false },
        { path: '_update', verb: 'Update (needs the current rowVersion)', write: (r, a) => entity.service.update(r, a), remove: false },
        { path: '_delete', verb: 'Soft-delete (needs the current rowVersion)', write: (r, a) => entity.service.remove(r, a), remove: true },
      ];
      for (const op of operations) {
        writes.post(
          `${entity.base}/${op.path}`,
          {
            schema: {
              tags,
              summary: `${op.verb} one ${entity.one}; a refusal is DIGIT's error body (409 with the current record for a stale rowVersion)`,
              body: op.remove ? entity.schemas.remove : entity.schemas.single,
              response: { 200: entity.schemas.one },
            },
          },
          async (request, reply) => {
            const body = request.body as Record<string, unknown>;
            const accepted = singleRecord(reply, await op.write([body[entity.one]], actorOf(request)), entity.one);
            if (accepted === undefined) return reply;
            return { ResponseInfo: responseInfo(body['RequestInfo'] as object | undefined, request.id), [entity.one]: accepted };
          },
        );
        writes.post(
          `${entity.base}/bulk/${op.path}`,
          {
            schema: {
              tags,
              summary: `${op.verb} many ${entity.many}: each accepted or refused on its own (Errors), all committed before the answer`,
              body: entity.schemas.bulk,
              response: { 200: entity.schemas.many },
            },
          },
          async (request) => {
            const body = request.body as Record<string, unknown>;
            const result = await op.write(body[entity.many] as unknown[], actorOf(request));
            return {
              ResponseInfo: responseInfo(body['RequestInfo'] as object | undefined, request.id),
              [entity.many]: result.accepted,
              Errors: result.errors,
            };
          },
        );
      }
    }

    app.post(
      '/household/v1/_search',
      {
        schema: {
          tags,
          summary:
            'Search households (URL params: tenantId, limit, offset, lastChangedSince, includeDeleted); ordered by last change, then id',
          querystring: OfflineSearchParams,
          body: HouseholdSearchRequest,
          response: { 200: HouseholdSearchResponse },
        },
      },
      async (request) => {
        const { totalCount, households: found } = await households.search(request.body.Household, request.query, request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TotalCount: totalCount, Households: found };
      },
    );

    app.post(
      '/household/member/v1/_search',
      {
        schema: {
          tags,
          summary: 'Search household members (URL params as household search); members waiting for a parent are re-linked first',
          querystring: OfflineSearchParams,
          body: HouseholdMemberSearchRequest,
          response: { 200: HouseholdMemberSearchResponse },
        },
      },
      async (request) => {
        const { totalCount, members: found } = await members.search(request.body.HouseholdMember, request.query, request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TotalCount: totalCount, HouseholdMembers: found };
      },
    );

    app.post(
      '/household/v1/sync/_status',
      {
        schema: {
          tags,
          summary: 'Members and relationships still waiting for a household, individual or relative that has not arrived (never dropped)',
          body: SyncStatusRequest,
          response: { 200: SyncStatusResponse },
        },
      },
      async (request) => {
        const { totalCount, links } = await members.syncStatus(request.body.SyncStatusCriteria);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TotalCount: totalCount, WaitingLinks: links };
      },
    );

    app.post(
      '/household/v1/_downsync',
      {
        schema: {
          tags,
          summary:
            "A locality's households, their members and the members' individuals, paged (DIGIT's DownsyncCriteria; resume with nextCursor)",
          body: DownsyncRequest,
          response: { 200: DownsyncResponse },
        },
      },
      async (request) => {
        const viewer = request.userInfo;
        if (!viewer)
          throw new DomainError('unauthenticated', {
            code: 'CustomException',
            message: 'Authentication required: send a valid access token',
          });
        const page = await downsync(request.body.DownsyncCriteria, viewer);
        return {
          ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
          TotalCount: page.DownsyncCriteria.totalCount,
          Downsync: page,
        };
      },
    );
  };
}
