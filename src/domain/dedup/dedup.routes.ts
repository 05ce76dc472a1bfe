import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../../kernel/http.js';
import { responseInfo } from '../../kernel/envelope.js';
import type { PersonForLinkage } from './clk.js';
import {
  CheckRequest,
  CheckResponse,
  DecideRequest,
  DecideResponse,
  EncodingSearchRequest,
  EncodingSearchResponse,
  KeyRequest,
  KeyResponse,
  ReviewSearchRequest,
  ReviewSearchResponse,
} from './dedup.schema.js';
import type { Actor, DedupServiceImpl } from './dedup.service.js';

const tags = ['dedup'];
const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });

/** DIGIT's Individual (name object, address list) as the fields the encoder reads. */
export function personOfIndividual(individual: CheckRequest['Individual']): PersonForLinkage {
  return {
    givenName: individual.name?.givenName ?? null,
    familyName: individual.name?.familyName ?? null,
    otherNames: individual.name?.otherNames ?? null,
    dateOfBirth: individual.dateOfBirth ?? null,
    gender: individual.gender ?? null,
    mobileNumber: individual.mobileNumber ?? null,
    locality: individual.address?.find((a) => a.locality?.code)?.locality?.code ?? null,
  };
}

/** All protected by role-actions (seed/mdms/dedup/); the key hand-out has an action of its own. */
export function dedupRoutes(service: DedupServiceImpl) {
  return (app: HttpApp) => {
    app.post(
      '/dedup/v1/review/_search',
      {
        schema: {
          tags,
          summary: 'The review queue: candidate duplicate pairs by tenant, status, program or record',
          body: ReviewSearchRequest,
          response: { 200: ReviewSearchResponse },
        },
      },
      async (request) => {
        const { reviews, totalCount } = await service.searchReviews(request.body.ReviewSearch, request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TotalCount: totalCount, Reviews: reviews };
      },
    );

    app.post(
      '/dedup/v1/review/_decide',
      {
        schema: {
          tags,
          summary: 'Decide a pending review: DUPLICATE links the records (never deletes), NOT_DUPLICATE closes it; 409 if already decided',
          body: DecideRequest,
          response: { 200: DecideResponse },
        },
      },
      async (request) => {
        const { review, linkId } = await service.decide(request.body.Review, actorOf(request), request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Review: review, linkId };
      },
    );

    app.post(
      '/dedup/v1/_check',
      {
        schema: {
          tags,
          summary: "Score a person (DIGIT Individual fields) against the program's records without registering",
          body: CheckRequest,
          response: { 200: CheckResponse },
        },
      },
      async (request) => {
        const { Individual, program } = request.body;
        const result = await service.check(Individual.tenantId, personOfIndividual(Individual), program, request.scope);
        return {
          ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
          program: result.program,
          threshold: result.threshold,
          Candidates: result.candidates,
        };
      },
    );

    app.post(
      '/dedup/v1/encodings/_search',
      {
        schema: {
          tags,
          summary: 'Encodings of some localities for a field device (record ids and keyed Bloom filters; no names or numbers), paged',
          body: EncodingSearchRequest,
          response: { 200: EncodingSearchResponse },
        },
      },
      async (request) => {
        const result = await service.searchEncodings(request.body.EncodingSearch, request.scope);
        return {
          ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
          TotalCount: result.totalCount,
          program: result.program,
          threshold: result.threshold,
          scheme: service.scheme,
          Encodings: result.encodings,
        };
      },
    );

    app.post(
      '/dedup/v1/key/_get',
      {
        schema: {
          tags,
          summary: "The program's encoding key for a field device that encodes offline (per program; each hand-out is recorded)",
          body: KeyRequest,
          response: { 200: KeyResponse },
        },
      },
      async (request) => {
        const result = await service.issueKey(request.body.tenantId, request.body.program, actorOf(request), request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), scheme: service.scheme, ...result };
      },
    );
  };
}
