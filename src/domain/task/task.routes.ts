import type { FastifyRequest } from 'fastify';
import { responseInfo } from '../../kernel/envelope.js';
import type { HttpApp } from '../../kernel/http.js';
import { OfflineSearchParams } from '../../kernel/offline.js';
import { singleRecord } from '../../kernel/offline.http.js';
import {
  TaskBulkRequest,
  TaskBulkResponse,
  TaskDeleteRequest,
  TaskRequest,
  TaskResponse,
  TaskSearchRequest,
  TaskSearchResponse,
  type Task,
} from './task.schema.js';
import type { Actor, BulkResult, TaskService } from './task.service.js';

const tags = ['project-task'];
const BASE = '/project/task/v1';
const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });

type Write = (records: readonly unknown[], actor: Actor) => Promise<BulkResult<Task>>;

/** DIGIT health's project task service (`/project/task/v1/…`); every write commits before answering. */
export function taskRoutes(service: TaskService) {
  return (app: HttpApp) => {
    const operations: Array<{ path: string; verb: string; write: Write; remove: boolean }> = [
      { path: '_create', verb: 'Create', write: (r, a) => service.create(r, a), remove: false },
      { path: '_update', verb: 'Update (needs the current rowVersion)', write: (r, a) => service.update(r, a), remove: false },
      { path: '_delete', verb: 'Soft-delete (needs the current rowVersion)', write: (r, a) => service.remove(r, a), remove: true },
    ];
    for (const op of operations) {
      app.post(
        `${BASE}/${op.path}`,
        {
          schema: {
            tags,
            summary: `${op.verb} one Task; a refusal is DIGIT's error body (409 with the current Task for a stale rowVersion)`,
            body: op.remove ? TaskDeleteRequest : TaskRequest,
            response: { 200: TaskResponse },
          },
        },
        async (request, reply) => {
          const body = request.body as { RequestInfo?: object | null; Task: unknown };
          const accepted = singleRecord(reply, await op.write([body.Task], actorOf(request)), 'Task');
          if (accepted === undefined) return reply;
          return { ResponseInfo: responseInfo(body.RequestInfo, request.id), Task: accepted };
        },
      );
      app.post(
        `${BASE}/bulk/${op.path}`,
        {
          schema: {
            tags,
            summary: `${op.verb} many Tasks: each accepted or refused on its own (Errors), all committed before the answer`,
            body: TaskBulkRequest,
            response: { 200: TaskBulkResponse },
          },
        },
        async (request) => {
          const result = await op.write(request.body.Tasks, actorOf(request));
          return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Tasks: result.accepted, Errors: result.errors };
        },
      );
    }

    app.post(
      `${BASE}/_search`,
      {
        schema: {
          tags,
          summary: 'Search tasks (URL params: tenantId, limit, offset, lastChangedSince, includeDeleted); ordered by last change, then id',
          querystring: OfflineSearchParams,
          body: TaskSearchRequest,
          response: { 200: TaskSearchResponse },
        },
      },
      async (request) => {
        const { totalCount, tasks } = await service.search(request.body.Task, request.query, request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TotalCount: totalCount, Tasks: tasks };
      },
    );
  };
}
