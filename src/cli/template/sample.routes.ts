import { responseInfo } from '../../kernel/envelope.js';
import type { HttpApp } from '../../kernel/http.js';
import { OfflineSearchParams } from '../../kernel/offline.js';
import { singleRecord } from '../../kernel/offline.http.js';
import type { Scope } from '../../kernel/scope.js';
import type { BulkResult } from '../../kernel/offline.batch.js';
import {
  SampleBulkRequest,
  SampleBulkResponse,
  SampleRequest,
  SampleResponse,
  SampleSearchRequest,
  SampleSearchResponse,
  type Sample,
} from './sample.schema.js';
import type { SampleService } from './sample.service.js';

const tags = ['sample'];
export const BASE = '/sample/v1';

type Write = (records: readonly unknown[], scope: Scope) => Promise<BulkResult<Sample>>;

/**
 * The registry's HTTP API, DIGIT-style: `_create`/`_update` of one record and `bulk/…` of many,
 * `_search` with URL params. Each route is denied unless the role-actions (sample.masters.ts) allow
 * it; the kernel checks every tenant named against the caller's scope and hands the scope on.
 * Every write commits before the answer.
 */
export function sampleRoutes(service: SampleService) {
  return (app: HttpApp) => {
    const operations: Array<{ path: string; verb: string; write: Write }> = [
      { path: '_create', verb: 'Create', write: (records, scope) => service.create(records, scope) },
      { path: '_update', verb: 'Update (needs the current rowVersion)', write: (records, scope) => service.update(records, scope) },
    ];
    for (const op of operations) {
      app.post(
        `${BASE}/${op.path}`,
        {
          schema: {
            tags,
            summary: `${op.verb} one Sample; a refusal is DIGIT's error body (409 with the current Sample for a stale rowVersion)`,
            body: SampleRequest,
            response: { 200: SampleResponse },
          },
        },
        async (request, reply) => {
          const accepted = singleRecord(reply, await op.write([request.body.Sample], request.scope), 'Sample');
          if (accepted === undefined) return reply;
          return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Sample: accepted };
        },
      );
      app.post(
        `${BASE}/bulk/${op.path}`,
        {
          schema: {
            tags,
            summary: `${op.verb} many Samples: each accepted or refused on its own (Errors), all committed before the answer`,
            body: SampleBulkRequest,
            response: { 200: SampleBulkResponse },
          },
        },
        async (request) => {
          const result = await op.write(request.body.Samples, request.scope);
          return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Samples: result.accepted, Errors: result.errors };
        },
      );
    }

    app.post(
      `${BASE}/_search`,
      {
        schema: {
          tags,
          summary:
            'Search (URL params: tenantId, limit, offset, lastChangedSince, includeDeleted); ordered by change (commit order), then id',
          querystring: OfflineSearchParams,
          body: SampleSearchRequest,
          response: { 200: SampleSearchResponse },
        },
      },
      async (request) => {
        const { totalCount, records } = await service.search(request.body.Sample, request.query, request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TotalCount: totalCount, Samples: records };
      },
    );
  };
}
