import { Type, type Static } from 'typebox';
import { RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

export const EVENT_TYPES = ['SYSTEMGENERATED', 'EVENTSONGROUND', 'BROADCAST'] as const;
export const EVENT_STATUSES = ['ACTIVE', 'INACTIVE', 'CANCELLED'] as const;
export const SOURCES = ['WEBAPP', 'MOBILEAPP'] as const;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Text = (maxLength: number) => Type.String({ maxLength });
const TenantId = Type.String({ minLength: 1, maxLength: 256 });

export const AuditDetails = Type.Object({
  createdBy: Nullable(Type.String()),
  createdTime: Type.Number(),
  lastModifiedBy: Nullable(Type.String()),
  lastModifiedTime: Type.Number(),
});

export const Recepient = Type.Object(
  {
    toRoles: Type.Optional(Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 }))),
    toUsers: Type.Optional(Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 }))),
  },
  { additionalProperties: true },
);
export type Recepient = Static<typeof Recepient>;

export const ActionItem = Type.Object(
  { actionUrl: Type.String({ minLength: 1, maxLength: 2048 }), code: Type.Optional(Nullable(Text(256))) },
  { additionalProperties: true },
);
export const Action = Type.Object(
  {
    id: Type.Optional(Nullable(Text(64))),
    tenantId: Type.Optional(Nullable(Text(256))),
    eventId: Type.Optional(Nullable(Text(64))),
    actionUrls: Type.Optional(Nullable(Type.Array(ActionItem, { maxItems: 20 }))),
  },
  { additionalProperties: true },
);
export type Action = Static<typeof Action>;

const Epoch = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const EventDetails = Type.Object(
  {
    id: Type.Optional(Nullable(Text(64))),
    eventId: Type.Optional(Nullable(Text(64))),
    organizer: Type.Optional(Nullable(Text(500))),
    fromDate: Type.Optional(Nullable(Epoch)),
    toDate: Type.Optional(Nullable(Epoch)),
    latitude: Type.Optional(Nullable(Type.Number({ minimum: -90, maximum: 90 }))),
    longitude: Type.Optional(Nullable(Type.Number({ minimum: -180, maximum: 180 }))),
    address: Type.Optional(Nullable(Text(1000))),
    documents: Type.Optional(Nullable(Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 20 }))),
    fees: Type.Optional(Nullable(Type.Number())),
  },
  { additionalProperties: true },
);
export type EventDetails = Static<typeof EventDetails>;

/** DIGIT's Event as sent to `_create`/`_update` (ids and audit are ours to set on create). */
export const EventInput = Type.Object(
  {
    tenantId: TenantId,
    id: Type.Optional(Nullable(Text(64))),
    referenceId: Type.Optional(Nullable(Text(64))),
    eventType: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
    eventCategory: Type.Optional(Nullable(Text(128))),
    name: Type.String({ minLength: 1, maxLength: 65 }),
    description: Type.String({ minLength: 1, maxLength: 500 }),
    status: Type.Optional(Nullable(Type.Union(EVENT_STATUSES.map((s) => Type.Literal(s))))),
    source: Type.Union(SOURCES.map((s) => Type.Literal(s))),
    postedBy: Type.Optional(Nullable(Text(64))),
    recepient: Type.Optional(Nullable(Recepient)),
    actions: Type.Optional(Nullable(Action)),
    eventDetails: Type.Optional(Nullable(EventDetails)),
    auditDetails: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
    generateCounterEvent: Type.Optional(Nullable(Type.Boolean())),
  },
  { additionalProperties: true },
);
export type EventInput = Static<typeof EventInput>;

export const EventRequest = Type.Object({
  RequestInfo,
  requestInfo: RequestInfo,
  events: Type.Array(EventInput, { minItems: 1, maxItems: 100 }),
});

export const Event = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  source: Type.String(),
  eventType: Type.String(),
  eventCategory: Nullable(Type.String()),
  name: Type.String(),
  description: Type.String(),
  status: Type.String(),
  postedBy: Nullable(Type.String()),
  referenceId: Nullable(Type.String()),
  recepient: Nullable(Recepient),
  actions: Nullable(Action),
  eventDetails: Nullable(EventDetails),
  auditDetails: AuditDetails,
});
export type Event = Static<typeof Event>;

export const EventResponse = Type.Object({
  ResponseInfo,
  events: Type.Array(Event),
  totalCount: Type.Optional(Type.Integer()),
});

/** DIGIT's NotificationCountResponse (Jackson's default names of its fields). */
export const CountResponse = Type.Object({ ResponseInfo, totalCount: Type.Integer(), unreadCount: Type.Integer() });

const List = Type.Optional(Type.Array(Type.String({ maxLength: 20_000 }), { maxItems: 100, description: 'Comma-separated, or repeated' }));

/** DIGIT's EventSearchCriteria, read from the query string as DIGIT's @ModelAttribute does. */
export const SearchQuery = Type.Object(
  {
    tenantId: TenantId,
    ids: List,
    userids: List,
    roles: List,
    postedBy: List,
    name: List,
    referenceIds: List,
    source: List,
    status: List,
    eventTypes: List,
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    isCitizenSearch: Type.Optional(Type.Boolean()),
    fromDate: Type.Optional(Epoch),
    toDate: Type.Optional(Epoch),
  },
  { additionalProperties: true },
);
export type SearchQuery = Static<typeof SearchQuery>;

export const LatQuery = Type.Object({ tenantId: TenantId }, { additionalProperties: true });
export const EnvelopeOnly = Type.Object({ RequestInfo, requestInfo: RequestInfo }, { additionalProperties: true });
export const LatResponse = ResponseInfo;
