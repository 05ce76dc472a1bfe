import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../../kernel/http.js';
import { responseInfo } from '../../kernel/envelope.js';
import {
  BoundaryHierarchyRequest,
  BoundaryHierarchyResponse,
  BoundaryRelationshipRequest,
  BoundaryRelationshipResponse,
  BoundaryRequest,
  BoundaryResponse,
  BoundarySearchQuery,
  EnvelopeOnly,
  HierarchySearchRequest,
  RelationshipSearchQuery,
  RelationshipSearchResponse,
} from './boundary.schema.js';
import { readableFrom, type Actor, type BoundaryService } from './boundary.service.js';

const tags = ['boundary'];
const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });
// Boundaries are public reference data: DIGIT's UIs load a city's localities before anyone logs
// in (a citizen picks one to file a complaint), so searches run in mixed mode and read the named
// tenant whoever asks (readableFrom); writes take the caller's request.scope.
const anonymous = { anonymous: true };

/** DIGIT's boundary-service v2; writes answer 202 as DIGIT does, but are committed when they answer. */
export function boundaryRoutes(service: BoundaryService) {
  return (app: HttpApp) => {
    app.post(
      '/boundary-service/boundary/_create',
      {
        schema: {
          tags,
          summary: 'Create boundary entities (code and GeoJSON geometry)',
          body: BoundaryRequest,
          response: { 202: BoundaryResponse },
        },
      },
      async (request, reply) => {
        const created = await service.createBoundaries(request.body.Boundary, actorOf(request), request.scope);
        return reply.status(202).send({ ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Boundary: created });
      },
    );

    app.post(
      '/boundary-service/boundary/_search',
      {
        schema: {
          tags,
          summary: 'Search boundary entities by tenant and codes (query parameters)',
          querystring: BoundarySearchQuery,
          body: EnvelopeOnly,
          response: { 200: BoundaryResponse },
        },
        config: anonymous,
      },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        Boundary: await service.searchBoundaries(request.query, readableFrom(request.query.tenantId)),
      }),
    );

    app.post(
      '/boundary-service/boundary/_update',
      {
        schema: {
          tags,
          summary: 'Update boundary entities (geometry, additionalDetails) by tenant and code',
          body: BoundaryRequest,
          response: { 202: BoundaryResponse },
        },
      },
      async (request, reply) => {
        const updated = await service.updateBoundaries(request.body.Boundary, actorOf(request), request.scope);
        return reply.status(202).send({ ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Boundary: updated });
      },
    );

    app.post(
      '/boundary-service/boundary-hierarchy-definition/_create',
      {
        schema: {
          tags,
          summary: 'Define a hierarchy: one chain of boundary types from a single root',
          body: BoundaryHierarchyRequest,
          response: { 202: BoundaryHierarchyResponse },
        },
      },
      async (request, reply) => {
        const created = await service.createHierarchy(request.body.BoundaryHierarchy, actorOf(request), request.scope);
        return reply.status(202).send({ ResponseInfo: responseInfo(request.body.RequestInfo, request.id), BoundaryHierarchy: [created] });
      },
    );

    app.post(
      '/boundary-service/boundary-hierarchy-definition/_search',
      {
        schema: {
          tags,
          summary: 'Search hierarchy definitions',
          body: HierarchySearchRequest,
          response: { 200: BoundaryHierarchyResponse },
        },
        config: anonymous,
      },
      async (request) => {
        const { totalCount, hierarchies } = await service.searchHierarchies(
          request.body.BoundaryTypeHierarchySearchCriteria,
          readableFrom(request.body.BoundaryTypeHierarchySearchCriteria.tenantId),
        );
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), totalCount, BoundaryHierarchy: hierarchies };
      },
    );

    app.post(
      '/boundary-service/boundary-relationships/_create',
      {
        schema: {
          tags,
          summary: "Place a boundary in a hierarchy under its parent (the parent's direct child type)",
          body: BoundaryRelationshipRequest,
          response: { 202: BoundaryRelationshipResponse },
        },
      },
      async (request, reply) => {
        const created = await service.createRelationship(request.body.BoundaryRelationship, actorOf(request), request.scope);
        return reply.status(202).send({ ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TenantBoundary: [created] });
      },
    );

    app.post(
      '/boundary-service/boundary-relationships/_search',
      {
        schema: {
          tags,
          summary: 'Search a hierarchy as a tree (query parameters; includeChildren, includeParents)',
          querystring: RelationshipSearchQuery,
          body: EnvelopeOnly,
          response: { 200: RelationshipSearchResponse },
        },
        config: anonymous,
      },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        TenantBoundary: [await service.searchRelationships(request.query, readableFrom(request.query.tenantId))],
      }),
    );

    app.post(
      '/boundary-service/boundary-relationships/_update',
      {
        schema: {
          tags,
          summary: 'Move a boundary under another parent of the same level',
          body: BoundaryRelationshipRequest,
          response: { 202: BoundaryRelationshipResponse },
        },
      },
      async (request, reply) => {
        const updated = await service.updateRelationship(request.body.BoundaryRelationship, actorOf(request), request.scope);
        return reply.status(202).send({ ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TenantBoundary: [updated] });
      },
    );
  };
}
