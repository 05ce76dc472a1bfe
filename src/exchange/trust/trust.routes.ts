import type { FastifyRequest } from 'fastify';
import { responseInfo } from '../../kernel/envelope.js';
import type { HttpApp } from '../../kernel/http.js';
import { MAX_JWS_LENGTH } from './trust.jws.js';
import type { KeyRing, Actor } from './trust.keys.js';
import type { Receiver } from './trust.receive.js';
import type { AgencyRegistry } from './trust.registry.js';
import {
  AgenciesResponse,
  AgencyCreateRequest,
  AgencySearchRequest,
  AgencyUpdateRequest,
  InboxSearchRequest,
  InboxSearchResponse,
  Jwks,
  ReceiveResponse,
  RotateRequest,
  RotateResponse,
} from './trust.schema.js';

const tags = ['exchange-trust'];
/**
 * Per client address on the open receive route: far above what a sending agency's worker posts
 * (it sends one message at a time and backs off), low enough that one address cannot flood the
 * refusal records or the signature checks.
 */
export const RECEIVE_RATE_LIMIT = { max: 600, timeWindow: 60_000 } as const;
const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The trust side of data exchange: this agency's keys, the agencies it trusts, and the receiving end. */
export function trustRoutes(keys: KeyRing, registry: AgencyRegistry, receiver: Receiver) {
  return (app: HttpApp) => {
    app.get(
      '/exchange/v1/.well-known/jwks.json',
      {
        config: { open: true },
        schema: { tags, summary: "This agency's public signing keys (the current one first), to verify what it signs", response: { 200: Jwks } },
      },
      async () => keys.jwks(),
    );

    app.post(
      '/exchange/v1/keys/_rotate',
      {
        config: { tenant: 'none' },
        schema: {
          tags,
          summary: 'Make a new signing key current; retired keys stay published so what they signed keeps verifying',
          body: RotateRequest,
          response: { 200: RotateResponse },
        },
      },
      async (request) => {
        const rotated = await keys.rotate(actorOf(request));
        return {
          ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
          SigningKey: { kid: rotated.kid, previousKid: rotated.previousKid ?? null },
          jwks: await keys.jwks(),
        };
      },
    );

    app.post(
      '/exchange/v1/agencies/_create',
      { config: { tenant: 'none' }, schema: { tags, summary: 'Register a trusted agency and its Ed25519 public keys', body: AgencyCreateRequest, response: { 200: AgenciesResponse } } },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        Agencies: [await registry.create(request.body.Agency, actorOf(request))],
      }),
    );

    app.post(
      '/exchange/v1/agencies/_update',
      {
        config: { tenant: 'none' },
        schema: {
          tags,
          summary: "Change a trusted agency's name, keys, jwksUrl or status (fields left out keep their value)",
          body: AgencyUpdateRequest,
          response: { 200: AgenciesResponse },
        },
      },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        Agencies: [await registry.update(request.body.Agency, actorOf(request))],
      }),
    );

    app.post(
      '/exchange/v1/agencies/_search',
      { config: { tenant: 'none' }, schema: { tags, summary: 'Trusted agencies, by id and status', body: AgencySearchRequest, response: { 200: AgenciesResponse } } },
      async (request) => ({
        ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
        Agencies: await registry.search(request.body.AgencySearchCriteria ?? {}),
      }),
    );

    app.post(
      '/exchange/v1/inbox/_search',
      {
        config: { tenant: 'none' },
        schema: {
          tags,
          summary: 'Received messages (kind RECEIVED, with the JWS and receipt as evidence) or refusals (kind REFUSED), newest first',
          body: InboxSearchRequest,
          response: { 200: InboxSearchResponse },
        },
      },
      async (request) => {
        const found = await receiver.search(request.body.InboxSearchCriteria ?? {});
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Messages: found.messages, Refusals: found.refusals };
      },
    );

    // Its own scope, so that `application/jose` bodies are read as text here and nowhere else.
    void app.register(async (scope) => {
      scope.addContentTypeParser('application/jose', { parseAs: 'string', bodyLimit: MAX_JWS_LENGTH }, (_request, body, done) => {
        done(null, body);
      });
      scope.post(
        '/exchange/v1/events/_receive',
        {
          // Authenticated by the message's signature against the trusted agencies' keys, not by a token.
          config: { open: true, rateLimit: RECEIVE_RATE_LIMIT },
          schema: {
            tags,
            summary:
              'Receive a signed message from a trusted agency (body: compact JWS as application/jose, or {"jws": "..."} as application/json); answers a signed receipt',
            response: { 200: ReceiveResponse },
          },
        },
        async (request) => {
          const body: unknown = request.body;
          const jws = typeof body === 'string' ? body.trim() : isRecord(body) && typeof body['jws'] === 'string' ? body['jws'] : undefined;
          const raw = typeof body === 'string' ? body : (JSON.stringify(body ?? null) ?? '');
          const result = await receiver.receive(jws, raw, request.ip ?? null);
          const requestInfo = isRecord(body) && isRecord(body['RequestInfo']) ? body['RequestInfo'] : undefined;
          return { ResponseInfo: responseInfo(requestInfo, request.id), status: result.status, receipt: result.receipt };
        },
      );
    });
  };
}
