import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../../kernel/http.js';
import { responseInfo } from '../../kernel/envelope.js';
import {
  GenerateRequest,
  GenerateResponse,
  ReservationSearchRequest,
  ReservationSearchResponse,
  ReserveRequest,
  ReserveResponse,
} from './idgen.schema.js';
import type { Actor, IdgenService } from './idgen.service.js';

const tags = ['idgen'];
// DIGIT's idgen answers status SUCCESSFUL (its own ResponseStatusEnum).
const SUCCESSFUL = 'SUCCESSFUL';

const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });

/**
 * All protected. DIGIT's gateway lists `_generate` as mixed mode (anonymous callers allowed);
 * here a caller needs a role mapped to the action, because an anonymous caller could burn through
 * a state's receipt and application numbers.
 */
export function idgenRoutes(service: IdgenService) {
  return (app: HttpApp) => {
    app.post(
      '/egov-idgen/id/_generate',
      {
        schema: {
          tags,
          summary: "Generate human-readable ids from DIGIT's ID formats (MDMS common-masters.IdFormat, else the request's format)",
          body: GenerateRequest,
          response: { 200: GenerateResponse },
        },
      },
      async (request) => {
        const ids = await service.generate(request.body.idRequests, request.scope);
        return { responseInfo: responseInfo(request.body.RequestInfo, request.id, SUCCESSFUL), idResponses: ids.map((id) => ({ id })) };
      },
    );

    app.post(
      '/egov-idgen/id/_reserve',
      {
        schema: {
          tags,
          summary: 'Reserve a block of ids for an offline device; they are recorded and never issued again',
          body: ReserveRequest,
          response: { 200: ReserveResponse },
        },
      },
      async (request) => {
        const { reservation, ids } = await service.reserve(request.body.reservation, actorOf(request), request.scope);
        return {
          responseInfo: responseInfo(request.body.RequestInfo, request.id, SUCCESSFUL),
          reservation,
          idResponses: ids.map((id) => ({ id })),
        };
      },
    );

    app.post(
      '/egov-idgen/id/reservation/_search',
      {
        schema: {
          tags,
          summary: 'Search id reservations by device, id name, reservation id or a reserved id',
          body: ReservationSearchRequest,
          response: { 200: ReservationSearchResponse },
        },
      },
      async (request) => {
        const reservations = await service.searchReservations(request.body.criteria, request.scope);
        return { responseInfo: responseInfo(request.body.RequestInfo, request.id, SUCCESSFUL), reservations };
      },
    );
  };
}
