import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import { errorBody } from '../../kernel/envelope.js';
import type { HttpApp } from '../../kernel/http.js';
import { splitList } from './localization.rules.js';
import {
  CacheBustBody,
  CacheBustResponse,
  CreateMessagesRequest,
  DeleteMessagesRequest,
  DeleteMessagesResponse,
  MessagesResponse,
  SearchBody,
  SearchQuery,
  UpdateMessagesRequest,
  V2SearchRequest,
} from './localization.schema.js';
import { readableFrom, type Actor, type LocalizationService } from './localization.service.js';

const tags = ['localization'];

const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });

type AjvIssue = { keyword: string; instancePath: string; message?: string; params: Record<string, unknown> };

/** Fastify's schema failures as error details, fields named like `messages.0.code`. */
function validationDetails(error: FastifyError): ErrorDetail[] {
  const where = error.validationContext ?? 'body';
  return ((error.validation ?? []) as AjvIssue[]).slice(0, 10).map((issue) => {
    const parts = issue.instancePath.split('/').filter(Boolean);
    if (typeof issue.params['missingProperty'] === 'string') parts.push(issue.params['missingProperty']);
    const field = parts.length === 0 ? where : parts.join('.');
    const text = issue.keyword === 'required' ? 'is required' : (issue.message ?? 'is invalid');
    return { code: 'INVALID_REQUEST', message: `${where === 'body' ? '' : `${where} `}${field} ${text}`, params: [field] };
  });
}

/**
 * egov-localization answers a bad request in services-common's legacy shape,
 * `{responseInfo, error: {code: 400, message, description, fields: [{code, message, field}]}}`,
 * which DIGIT's localization clients read. The platform's `{ResponseInfo: null, Errors}` is sent in
 * the same body, so clients of either shape find their errors (unknown keys are ignored by both).
 */
export function legacyErrorBody(details: readonly ErrorDetail[]) {
  return {
    ...errorBody(details),
    responseInfo: null,
    error: {
      code: 400,
      message: details[0]?.message ?? 'Invalid request',
      description: null,
      fields: details.map((d) => ({ code: d.code, message: d.message, field: d.params?.[0] ?? null })),
    },
  };
}

/**
 * This service's own error mapping: its 400s in the legacy shape above; everything else (401/403
 * from the gateway checks, malformed JSON, 5xx) is rethrown to the platform's handler, as DIGIT's
 * gateway answered those before the request reached egov-localization.
 */
function localizationErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof DomainError && error.kind === 'invalid') return reply.status(400).send(legacyErrorBody(error.details));
  if (error.validation) return reply.status(400).send(legacyErrorBody(validationDetails(error)));
  throw error;
}

export function localizationRoutes(service: LocalizationService) {
  return (app: HttpApp) => {
    const search = async (query: SearchQuery) => ({
      messages: await service.search(
        { tenantId: query.tenantId, locale: query.locale, modules: splitList(query.module), codes: splitList(query.codes) },
        readableFrom(query.tenantId),
      ),
    });

    // Open, as in DIGIT's gateway whitelist (`/localization/messages/v1/_search`): the UIs read
    // their labels before anyone logs in, and messages are public text.
    app.post(
      '/localization/messages/v1/_search',
      {
        schema: {
          tags,
          summary:
            'Messages for a tenant and locale (query: locale, tenantId, module, codes), merged city → state → default, en_IN filling gaps',
          querystring: SearchQuery,
          body: SearchBody,
          response: { 200: MessagesResponse },
        },
        config: { open: true },
        errorHandler: localizationErrors,
      },
      async (request) => search(request.query),
    );

    // Open for the same reason: DIGIT's GET variant of the search above.
    app.get(
      '/localization/messages',
      {
        schema: { tags, summary: 'The v1 search as a GET', querystring: SearchQuery, response: { 200: MessagesResponse } },
        config: { open: true },
        errorHandler: localizationErrors,
      },
      async (request) => search(request.query),
    );

    app.post(
      '/localization/messages/v2/_search',
      {
        schema: {
          tags,
          summary: 'Search with the criteria in the body (messageSearchCriteria)',
          body: V2SearchRequest,
          response: { 200: MessagesResponse },
        },
        errorHandler: localizationErrors,
      },
      async (request) => {
        const criteria = request.body.messageSearchCriteria;
        return {
          messages: await service.search(
            { tenantId: criteria.tenantId, locale: criteria.locale, modules: splitList(criteria.module), codes: splitList(criteria.codes) },
            readableFrom(criteria.tenantId),
          ),
        };
      },
    );

    app.post(
      '/localization/messages/v1/_upsert',
      {
        schema: {
          tags,
          summary: 'Create messages, or change the text of existing ones',
          body: CreateMessagesRequest,
          response: { 200: MessagesResponse },
        },
        errorHandler: localizationErrors,
      },
      async (request) => {
        const { tenantId, messages } = request.body;
        await service.upsert(tenantId, messages, actorOf(request), request.scope);
        return { messages };
      },
    );

    app.post(
      '/localization/messages/v1/_create',
      {
        schema: {
          tags,
          summary: 'Create messages; refused if any already exists',
          body: CreateMessagesRequest,
          response: { 200: MessagesResponse },
        },
        errorHandler: localizationErrors,
      },
      async (request) => {
        const { tenantId, messages } = request.body;
        await service.create(tenantId, messages, actorOf(request), request.scope);
        return { messages };
      },
    );

    app.post(
      '/localization/messages/v1/_update',
      {
        schema: {
          tags,
          summary: 'Change the text of existing messages of one locale and module',
          body: UpdateMessagesRequest,
          response: { 200: MessagesResponse },
        },
        errorHandler: localizationErrors,
      },
      async (request) => {
        const { tenantId, locale, module, messages } = request.body;
        await service.update({ tenantId, locale, module, messages }, actorOf(request), request.scope);
        return { messages: messages.map((m) => ({ code: m.code, message: m.message, module, locale })) };
      },
    );

    app.post(
      '/localization/messages/v1/_delete',
      {
        schema: {
          tags,
          summary: 'Delete messages by tenant, locale, module and code',
          body: DeleteMessagesRequest,
          response: { 200: DeleteMessagesResponse },
        },
        errorHandler: localizationErrors,
      },
      async (request) => {
        const { tenantId, messages } = request.body;
        await service.delete(tenantId, messages, request.scope);
        return { successful: true };
      },
    );

    app.post(
      '/localization/messages/cache-bust',
      {
        config: { tenant: 'none' },
        schema: {
          tags,
          summary: 'Drop the cached message lists in every process',
          body: CacheBustBody,
          response: { 200: CacheBustResponse },
        },
        errorHandler: localizationErrors,
      },
      async () => {
        await service.bustCache();
        return { responseInfo: null, isSuccessful: true };
      },
    );
  };
}
