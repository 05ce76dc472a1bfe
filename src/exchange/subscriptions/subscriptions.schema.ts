import { Type, type Static } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb or pb.amritsar' });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Path = Type.String({ minLength: 1, maxLength: 512, description: 'Dot path into the event data, e.g. identifiers.identifierType' });
const Scalar = Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean(), Type.Null()]);
const Epoch = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });

export const SubscriptionStatus = Type.Union([Type.Literal('ACTIVE'), Type.Literal('PAUSED')]);
export type SubscriptionStatus = Static<typeof SubscriptionStatus>;

export const DeliveryStatus = Type.Union([Type.Literal('PENDING'), Type.Literal('DELIVERED'), Type.Literal('DEAD')]);
export type DeliveryStatus = Static<typeof DeliveryStatus>;

export const ConditionInput = Type.Union([
  Type.Object({ path: Path, op: Type.Union([Type.Literal('eq'), Type.Literal('ne')]), value: Scalar }, { additionalProperties: false }),
  Type.Object({ path: Path, op: Type.Literal('in'), value: Type.Array(Scalar, { minItems: 1, maxItems: 100 }) }, { additionalProperties: false }),
  Type.Object(
    { path: Path, op: Type.Literal('exists'), value: Type.Optional(Nullable(Type.Boolean())) },
    { additionalProperties: false },
  ),
]);

const subscriptionFields = {
  tenantId: TenantId,
  agencyId: Type.String({ minLength: 1, maxLength: 64, description: 'The receiving agency (its PLINTH_AGENCY_ID)' }),
  tenantIds: Type.Array(TenantId, { minItems: 1, maxItems: 100, description: "Events of these tenants (a state's id covers its cities)" }),
  eventTypes: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 50 }),
  conditions: Type.Optional(Nullable(Type.Array(ConditionInput, { maxItems: 20 }))),
  fields: Type.Array(Path, { maxItems: 100, description: 'The only data fields the receiver gets; envelope attributes always go' }),
  webhookUrl: Type.String({ minLength: 1, maxLength: 2048 }),
  status: Type.Optional(Nullable(SubscriptionStatus)),
  // Not nullable: Ajv would coerce a 0 to null (union with null) and the default would hide the mistake.
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
};

export const SubscriptionInput = Type.Object({ id: Type.Optional(Nullable(Id)), ...subscriptionFields }, { additionalProperties: true });
export type SubscriptionInput = Static<typeof SubscriptionInput>;

export const SubscriptionUpdateInput = Type.Object({ id: Id, ...subscriptionFields }, { additionalProperties: true });
export type SubscriptionUpdateInput = Static<typeof SubscriptionUpdateInput>;

export const Subscription = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  agencyId: Type.String(),
  tenantIds: Type.Array(Type.String()),
  eventTypes: Type.Array(Type.String()),
  conditions: Type.Array(Type.Object({ path: Type.String(), op: Type.String(), value: Type.Optional(Type.Unknown()) })),
  fields: Type.Array(Type.String()),
  webhookUrl: Type.String(),
  status: SubscriptionStatus,
  maxAttempts: Type.Integer(),
  auditDetails: AuditDetails,
});
export type Subscription = Static<typeof Subscription>;

export const SubscriptionRequest = Type.Object({ RequestInfo, Subscription: SubscriptionInput });
export const SubscriptionUpdateRequest = Type.Object({ RequestInfo, Subscription: SubscriptionUpdateInput });
export const SubscriptionResponse = Type.Object({ ResponseInfo, Subscriptions: Type.Array(Subscription) });

const Paging = {
  offset: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000 }))),
  limit: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1000 }))),
};

export const SubscriptionCriteria = Type.Object(
  {
    tenantId: TenantId,
    ids: Type.Optional(Nullable(Type.Array(Id, { maxItems: 1000 }))),
    agencyId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    status: Type.Optional(Nullable(SubscriptionStatus)),
    ...Paging,
  },
  { additionalProperties: true },
);
export type SubscriptionCriteria = Static<typeof SubscriptionCriteria>;
export const SubscriptionSearchRequest = Type.Object({ RequestInfo, SubscriptionCriteria });
export const SubscriptionSearchResponse = Type.Object({ ResponseInfo, TotalCount: Type.Integer(), Subscriptions: Type.Array(Subscription) });

export const Delivery = Type.Object({
  id: Type.String({ description: 'Also the message id (jti) on the wire' }),
  subscriptionId: Type.String(),
  tenantId: Type.String(),
  agencyId: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  eventSubject: Type.String(),
  eventTime: Type.Number(),
  replayOf: Nullable(Type.String({ description: 'The replay request that created this delivery; null for one made by the event' })),
  status: DeliveryStatus,
  attempts: Type.Integer(),
  nextAttemptTime: Nullable(Type.Number()),
  lastAttemptTime: Nullable(Type.Number()),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  receipt: Nullable(Type.String({ description: "The receiver's signed receipt (compact JWS)" })),
  receiptStatus: Nullable(Type.String()),
  deliveredTime: Nullable(Type.Number()),
  createdTime: Type.Number(),
  event: Type.Unknown({ description: 'The CloudEvent as sent (already projected)' }),
});
export type Delivery = Static<typeof Delivery>;

export const DeliveryCriteria = Type.Object(
  {
    tenantId: TenantId,
    subscriptionId: Type.Optional(Nullable(Id)),
    ids: Type.Optional(Nullable(Type.Array(Id, { maxItems: 1000 }))),
    status: Type.Optional(Nullable(DeliveryStatus)),
    eventId: Type.Optional(Nullable(Id)),
    fromTime: Type.Optional(Nullable(Epoch)),
    toTime: Type.Optional(Nullable(Epoch)),
    ...Paging,
  },
  { additionalProperties: true },
);
export type DeliveryCriteria = Static<typeof DeliveryCriteria>;
export const DeliverySearchRequest = Type.Object({ RequestInfo, DeliveryCriteria });
export const DeliverySearchResponse = Type.Object({ ResponseInfo, TotalCount: Type.Integer(), Deliveries: Type.Array(Delivery) });

export const ReplayRequest = Type.Object({
  RequestInfo,
  tenantId: TenantId,
  id: Type.String({ minLength: 1, maxLength: 64, description: 'The subscription' }),
  fromTime: Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'Epoch ms: events at or after it are sent again' }),
});
export const ReplayResponse = Type.Object({ ResponseInfo, replayId: Type.String(), Deliveries: Type.Array(Delivery) });

export const RetryRequest = Type.Object({
  RequestInfo,
  tenantId: TenantId,
  ids: Type.Optional(Nullable(Type.Array(Id, { maxItems: 1000, description: 'DEAD deliveries to send again' }))),
  subscriptionId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64, description: 'All DEAD deliveries of it' }))),
});
export const RetryResponse = Type.Object({ ResponseInfo, Deliveries: Type.Array(Delivery) });
