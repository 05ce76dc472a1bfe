import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../../kernel/http.js';
import { DomainError } from '../../kernel/errors.js';
import { responseInfo } from '../../kernel/envelope.js';
import {
  MdmsCountResponse,
  MdmsResponse,
  MdmsSearchRequest,
  MdmsWriteRequest,
  SchemaCodeParams,
  SchemaCreateRequest,
  SchemaResponse,
  SchemaSearchRequest,
  V1SearchRequest,
  V1SearchResponse,
} from './mdms.schema.js';
import { readableFrom, type Actor, type MdmsService } from './mdms.service.js';

const tags = ['mdms'];

const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });
// Master data is public reference data (tenants, complaint types…): DIGIT's UIs read it before login,
// so searches read the named tenant's lineage whoever asks (readableFrom); writes take request.scope.
const anonymous = { anonymous: true };
// Filters are conditions on the records' data: a `tenantId` inside them names a field, not a tenant of the request.
const searchConfig = { ...anonymous, tenantOpaque: ['MdmsCriteria.filters'] } as const;

export function mdmsRoutes(service: MdmsService) {
  return (app: HttpApp) => {
    app.post(
      '/mdms-v2/schema/v1/_create',
      // The definition is a JSON Schema: its `properties.tenantId` describes a field, names no tenant.
      { config: { tenantOpaque: ['SchemaDefinition.definition'] }, schema: { tags, summary: 'Define a master (JSON Schema with x-unique and x-ref-schema)', body: SchemaCreateRequest, response: { 202: SchemaResponse } } },
      async (request, reply) => {
        const { SchemaDefinition, RequestInfo } = request.body;
        const created = await service.createSchema(SchemaDefinition, actorOf(request), request.scope);
        return reply.status(202).send({ ResponseInfo: responseInfo(RequestInfo, request.id), SchemaDefinitions: [created] });
      },
    );

    app.post(
      '/mdms-v2/schema/v1/_search',
      { schema: { tags, summary: 'Search master definitions', body: SchemaSearchRequest, response: { 202: SchemaResponse } }, config: anonymous },
      async (request, reply) => {
        const { SchemaDefCriteria, RequestInfo } = request.body;
        const found = await service.searchSchemas(SchemaDefCriteria, readableFrom(SchemaDefCriteria.tenantId));
        return reply.status(202).send({ ResponseInfo: responseInfo(RequestInfo, request.id), SchemaDefinitions: found });
      },
    );

    app.post(
      '/mdms-v2/schema/v1/_update',
      // Open because it changes nothing for anyone: it only says no, as DIGIT does.
      { schema: { tags, summary: 'Not supported, as in DIGIT: definitions are immutable' }, config: { open: true } },
      async () => {
        throw new DomainError('not_implemented', {
          code: 'NOT_IMPLEMENTED',
          message: 'Schema definitions cannot be changed; create a new schema code instead',
        });
      },
    );

    app.post(
      '/mdms-v2/v2/_create/:schemaCode',
      { schema: { tags, summary: 'Create a master data record', params: SchemaCodeParams, body: MdmsWriteRequest, response: { 202: MdmsResponse } } },
      async (request, reply) => {
        const { Mdms, RequestInfo } = request.body;
        const created = await service.createData(request.params.schemaCode, Mdms, actorOf(request), request.scope);
        return reply.status(202).send({ ResponseInfo: responseInfo(RequestInfo, request.id), mdms: [created] });
      },
    );

    app.post(
      '/mdms-v2/v2/_update/:schemaCode',
      {
        schema: {
          tags,
          summary: 'Update a master data record (isActive false is the soft delete)',
          params: SchemaCodeParams,
          body: MdmsWriteRequest,
          response: { 202: MdmsResponse },
        },
      },
      async (request, reply) => {
        const { Mdms, RequestInfo } = request.body;
        const updated = await service.updateData(request.params.schemaCode, Mdms, actorOf(request), request.scope);
        return reply.status(202).send({ ResponseInfo: responseInfo(RequestInfo, request.id), mdms: [updated] });
      },
    );

    app.post(
      '/mdms-v2/v2/_search',
      { schema: { tags, summary: 'Search master data records', body: MdmsSearchRequest, response: { 200: MdmsResponse } }, config: searchConfig },
      async (request) => {
        const { MdmsCriteria, RequestInfo } = request.body;
        return { ResponseInfo: responseInfo(RequestInfo, request.id), mdms: await service.searchData(MdmsCriteria, readableFrom(MdmsCriteria.tenantId)) };
      },
    );

    app.post(
      '/mdms-v2/v2/_count',
      { schema: { tags, summary: 'Count master data records', body: MdmsSearchRequest, response: { 200: MdmsCountResponse } }, config: searchConfig },
      async (request) => {
        const { MdmsCriteria, RequestInfo } = request.body;
        return { ResponseInfo: responseInfo(RequestInfo, request.id), totalCount: await service.countData(MdmsCriteria, readableFrom(MdmsCriteria.tenantId)) };
      },
    );

    for (const url of ['/mdms-v2/v1/_search', '/egov-mdms-service/v1/_search']) {
      app.post(
        url,
        { schema: { tags, summary: "DIGIT's v1 search: moduleDetails/masterDetails with JsonPath filters", body: V1SearchRequest, response: { 200: V1SearchResponse } }, config: anonymous },
        async (request) => {
          const { MdmsCriteria, RequestInfo } = request.body;
          return { ResponseInfo: responseInfo(RequestInfo, request.id), MdmsRes: await service.searchV1(MdmsCriteria, readableFrom(MdmsCriteria.tenantId)) };
        },
      );
    }
  };
}
