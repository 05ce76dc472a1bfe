import type { FastifyRequest } from 'fastify';
import { responseInfo } from '../../kernel/envelope.js';
import type { HttpApp } from '../../kernel/http.js';
import {
  DeliverySearchRequest,
  DeliverySearchResponse,
  ReplayRequest,
  ReplayResponse,
  RetryRequest,
  RetryResponse,
  SubscriptionRequest,
  SubscriptionResponse,
  SubscriptionSearchRequest,
  SubscriptionSearchResponse,
  SubscriptionUpdateRequest,
} from './subscriptions.schema.js';
import type { Actor, SubscriptionService } from './subscriptions.service.js';

const tags = ['exchange'];
const actorOf = (request: FastifyRequest): Actor => ({ uuid: request.userInfo?.uuid ?? null });

/** Subscriptions of other agencies to this deployment's events, and their deliveries (SUPERUSER by role-action). */
export function subscriptionRoutes(service: SubscriptionService) {
  return (app: HttpApp) => {
    app.post(
      '/exchange/v1/subscriptions/_create',
      {
        schema: {
          tags,
          summary: "Subscribe an agency to this deployment's events: tenants, event types, conditions, the fields it may receive, its webhook",
          body: SubscriptionRequest,
          response: { 200: SubscriptionResponse },
        },
      },
      async (request) => {
        const created = await service.create(request.body.Subscription, actorOf(request), request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Subscriptions: [created] };
      },
    );

    app.post(
      '/exchange/v1/subscriptions/_update',
      {
        schema: {
          tags,
          summary: 'Replace a subscription (the whole object, by id); already queued deliveries keep what they were cut to',
          body: SubscriptionUpdateRequest,
          response: { 200: SubscriptionResponse },
        },
      },
      async (request) => {
        const updated = await service.update(request.body.Subscription, actorOf(request), request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Subscriptions: [updated] };
      },
    );

    app.post(
      '/exchange/v1/subscriptions/_search',
      {
        schema: {
          tags,
          summary: 'Subscriptions of a tenant and its cities (by ids, agencyId, status; offset/limit)',
          body: SubscriptionSearchRequest,
          response: { 200: SubscriptionSearchResponse },
        },
      },
      async (request) => {
        const { total, subscriptions } = await service.search(request.body.SubscriptionCriteria, request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TotalCount: total, Subscriptions: subscriptions };
      },
    );

    app.post(
      '/exchange/v1/subscriptions/_replay',
      {
        schema: {
          tags,
          summary: "Send a subscription's events from fromTime (epoch ms, event time) again, as new deliveries with new message ids",
          body: ReplayRequest,
          response: { 200: ReplayResponse },
        },
      },
      async (request) => {
        const { tenantId, id, fromTime } = request.body;
        const { replayId, deliveries } = await service.replay(tenantId, id, fromTime, request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), replayId, Deliveries: deliveries };
      },
    );

    app.post(
      '/exchange/v1/deliveries/_search',
      {
        schema: {
          tags,
          summary: 'Deliveries of a tenant\'s subscriptions (by subscriptionId, ids, status, eventId, event time range; offset/limit), in event order',
          body: DeliverySearchRequest,
          response: { 200: DeliverySearchResponse },
        },
      },
      async (request) => {
        const { total, deliveries } = await service.searchDeliveries(request.body.DeliveryCriteria, request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), TotalCount: total, Deliveries: deliveries };
      },
    );

    app.post(
      '/exchange/v1/deliveries/_retry',
      {
        schema: {
          tags,
          summary: 'Put DEAD deliveries (by ids, or all of a subscription) back in the queue with fresh attempts and the same message id',
          body: RetryRequest,
          response: { 200: RetryResponse },
        },
      },
      async (request) => {
        const { tenantId, ids, subscriptionId } = request.body;
        const deliveries = await service.retry(tenantId, { ids: ids ?? undefined, subscriptionId: subscriptionId ?? undefined }, request.scope);
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), Deliveries: deliveries };
      },
    );
  };
}
