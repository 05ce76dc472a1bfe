import { Type } from 'typebox';
import { RequestInfo, ResponseInfo, responseInfo } from '../../kernel/envelope.js';
import { DomainError } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import { CHANNELS } from './notification.render.js';
import type { NotificationService } from './notification.service.js';

const tags = ['notification'];
const Str = (maxLength: number) => Type.String({ minLength: 1, maxLength });

const SearchRequest = Type.Object({
  RequestInfo: Type.Optional(RequestInfo),
  criteria: Type.Object({
    tenantId: Str(256),
    referenceId: Type.Optional(Str(256)),
    module: Type.Optional(Str(128)),
    channel: Type.Optional(Type.Union(CHANNELS.map((c) => Type.Literal(c)))),
    status: Type.Optional(Type.Union(['sending', 'sent', 'skipped', 'failed'].map((s) => Type.Literal(s as 'sending' | 'sent' | 'skipped' | 'failed')))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  }),
});

const Message = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  module: Type.String(),
  referenceId: Type.String(),
  templateKey: Type.String(),
  channel: Type.String(),
  recipient: Type.String(),
  address: Type.Union([Type.String(), Type.Null()]),
  locale: Type.Union([Type.String(), Type.Null()]),
  subject: Type.Union([Type.String(), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  attempts: Type.Number(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdTime: Type.Number(),
  sentTime: Type.Union([Type.Number(), Type.Null()]),
});

const SearchResponse = Type.Object({ ResponseInfo, messages: Type.Array(Message), totalCount: Type.Number() });

/** What went out, for operators: messages by tenant, reference, channel and status (newest first), masked by policy. */
export function notificationRoutes(service: NotificationService) {
  return (app: HttpApp) => {
    app.post(
      '/notification/v1/_search',
      { schema: { tags, summary: 'Notifications sent (or skipped, failed) by tenant, reference, channel and status', body: SearchRequest, response: { 200: SearchResponse } } },
      async (request) => {
        // The route is protected, so the kernel has put the user here; this guards a misconfiguration.
        if (!request.userInfo) throw new DomainError('unauthenticated', { code: 'CustomException', message: 'Authentication required: send a valid access token' });
        const found = await service.searchAs(request.userInfo, request.body.criteria, request.id);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), ...found };
      },
    );
  };
}
