import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { HttpApp } from '../../kernel/http.js';
import { errorBody, RequestInfo, responseInfo } from '../../kernel/envelope.js';
import { DomainError } from '../../kernel/errors.js';
import { RecordError } from '../../kernel/offline.js';
import { BulkIndividualsRequest, OfflineSearchParams, SearchRequest, SingleIndividualRequest } from './individual.schema.js';
import type { Accepted, BatchResult, Caller, IndividualService } from './individual.service.js';

const tags = ['individual'];
const callerOf = (request: FastifyRequest): Caller => ({ user: request.userInfo, correlationId: request.id });

const Loose = Type.Object({}, { additionalProperties: true });
const Candidates = Type.Array(Type.Object({ recordId: Type.String(), score: Type.Number() }));
const BulkResponse = Type.Object({
  ResponseInfo: Loose,
  Individuals: Type.Array(Loose),
  Errors: Type.Array(RecordError),
  PotentialDuplicates: Type.Array(
    Type.Object({
      index: Type.Integer(),
      id: Type.String(),
      clientReferenceId: Type.Union([Type.String(), Type.Null()]),
      candidates: Candidates,
    }),
  ),
});
const SingleResponse = Type.Object({ ResponseInfo: Loose, Individual: Loose, PotentialDuplicates: Type.Optional(Candidates) });
const DeleteRequest = Type.Object({
  RequestInfo,
  Individual: Type.Object(
    { id: Type.String({ minLength: 1, maxLength: 64 }), tenantId: Type.String({ minLength: 1, maxLength: 256 }) },
    { additionalProperties: true },
  ),
});

function bulkAnswer(request: FastifyRequest, info: RequestInfo, result: BatchResult) {
  return {
    ResponseInfo: responseInfo(info, request.id),
    Individuals: result.accepted.map((a) => a.record),
    Errors: result.errors,
    PotentialDuplicates: result.accepted
      .filter((a) => a.duplicates.length > 0)
      .map((a) => ({
        index: a.index,
        id: a.record.id,
        clientReferenceId: (a.record['clientReferenceId'] as string | null) ?? null,
        candidates: a.duplicates,
      })),
  };
}

/**
 * A single call's one record: accepted, or its refusal as DIGIT's error body. A stale or deleted
 * record answers 409 with the server's current record next to the error, so the device can resolve.
 */
function single(reply: FastifyReply, result: BatchResult): Accepted | undefined {
  const [error] = result.errors;
  if (error) {
    const body = errorBody([{ code: error.errorCode, message: error.errorMessage, params: error.id ? [error.id] : null }]);
    if (error.current !== undefined) {
      void reply.status(409).send({ ...body, Individual: error.current });
      return undefined;
    }
    throw new DomainError('invalid', { code: error.errorCode, message: error.errorMessage });
  }
  return result.accepted[0];
}

/** DIGIT's individual service (health-campaign-services `individual`), context `/individual`; every write commits before answering. */
export function individualRoutes(service: IndividualService) {
  return (app: HttpApp) => {
    app.post(
      '/individual/v1/_create',
      {
        schema: {
          tags,
          summary: 'Register one person (a create sent again with a stored clientReferenceId answers the stored record)',
          body: SingleIndividualRequest,
          response: { 200: SingleResponse },
        },
      },
      async (request, reply) => {
        const accepted = single(reply, await service.create([request.body.Individual], callerOf(request)));
        if (!accepted) return reply;
        return {
          ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
          Individual: accepted.record,
          PotentialDuplicates: accepted.duplicates,
        };
      },
    );

    app.post(
      '/individual/v1/bulk/_create',
      {
        schema: {
          tags,
          summary: 'Register people; each record is accepted or refused on its own, all committed before the answer',
          body: BulkIndividualsRequest,
          response: { 200: BulkResponse },
        },
      },
      async (request) => bulkAnswer(request, request.body.RequestInfo, await service.create(request.body.Individuals, callerOf(request))),
    );

    app.post(
      '/individual/v1/_update',
      {
        schema: {
          tags,
          summary: 'Update one person; needs the current rowVersion (409 with the current record otherwise)',
          body: SingleIndividualRequest,
          response: { 200: SingleResponse },
        },
      },
      async (request, reply) => {
        const accepted = single(reply, await service.update([request.body.Individual], callerOf(request)));
        if (!accepted) return reply;
        return {
          ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
          Individual: accepted.record,
          PotentialDuplicates: accepted.duplicates,
        };
      },
    );

    app.post(
      '/individual/v1/bulk/_update',
      {
        schema: {
          tags,
          summary: 'Update people; stale rowVersions are refused per record with the current record',
          body: BulkIndividualsRequest,
          response: { 200: BulkResponse },
        },
      },
      async (request) => bulkAnswer(request, request.body.RequestInfo, await service.update(request.body.Individuals, callerOf(request))),
    );

    app.post(
      '/individual/v1/_delete',
      {
        schema: {
          tags,
          summary: 'Soft-delete one person (needs the current rowVersion)',
          body: DeleteRequest,
          response: { 200: SingleResponse },
        },
      },
      async (request, reply) => {
        const accepted = single(reply, await service.remove([request.body.Individual], callerOf(request)));
        if (!accepted) return reply;
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Individual: accepted.record };
      },
    );

    app.post(
      '/individual/v1/bulk/_delete',
      { schema: { tags, summary: 'Soft-delete people, per record', body: BulkIndividualsRequest, response: { 200: BulkResponse } } },
      async (request) => bulkAnswer(request, request.body.RequestInfo, await service.remove(request.body.Individuals, callerOf(request))),
    );

    app.post(
      '/individual/v1/_search',
      {
        schema: {
          tags,
          summary:
            'Search people; names, mobile numbers and identifiers match exactly (blind indexes); lastChangedSince and includeDeleted for incremental download',
          querystring: OfflineSearchParams,
          body: SearchRequest,
          response: { 200: Type.Object({ ResponseInfo: Loose, TotalCount: Type.Integer(), Individual: Type.Array(Loose) }) },
        },
      },
      async (request) => {
        const { total, records } = await service.search(request.body.Individual, request.query, callerOf(request), request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TotalCount: total, Individual: records };
      },
    );
  };
}
