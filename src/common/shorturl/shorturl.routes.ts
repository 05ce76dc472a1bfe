import { Type } from 'typebox';
import { RequestInfo } from '../../kernel/envelope.js';
import { DomainError } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import { MAX_URL_LENGTH, type ShortUrlService } from './shorturl.service.js';

const tags = ['shorturl'];

/** DIGIT's ShortenRequest: the long URL and an optional validity window (epoch ms). */
const ShortenRequest = Type.Object({
  RequestInfo,
  requestInfo: RequestInfo,
  id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  url: Type.String({ minLength: 1, maxLength: MAX_URL_LENGTH }),
  validFrom: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  validTill: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
});

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

const notFound = () => new DomainError('not_found', { code: 'INVALID_REQUEST', message: 'Invalid Key' });

/**
 * DIGIT's egov-url-shortening: `POST …/shortener` answers the short URL as plain text;
 * `GET …/{id}` redirects (302, Spring's RedirectView) and is open, since the link travels in SMS.
 */
export function shortUrlRoutes(service: ShortUrlService) {
  return (app: HttpApp) => {
    for (const base of ['/egov-url-shortening', '/eus']) {
      app.post(
        `${base}/shortener`,
        {
          config: { tenant: 'none' },
          schema: {
            tags,
            summary: 'Shorten an http(s) URL; answers the short URL as text/plain',
            body: ShortenRequest,
            response: { 200: Type.String() },
          },
        },
        async (request, reply) => {
          const { url, validFrom, validTill } = request.body;
          const user = request.userInfo;
          const short = await service.shorten(url, {
            validFrom: validFrom ?? undefined,
            validTill: validTill ?? undefined,
            tenantId: user?.tenantId,
            actor: user?.uuid,
          });
          return reply.type('text/plain; charset=utf-8').send(short);
        },
      );

      app.get(
        `${base}/:id`,
        {
          schema: { tags, summary: 'Redirect (302) to the long URL of a short link; 404 when unknown or expired', params: IdParams },
          config: { open: true },
        },
        async (request, reply) => {
          const target = await service.resolve(request.params.id);
          if (target === undefined) throw notFound();
          return reply.redirect(target, 302);
        },
      );
    }
  };
}
