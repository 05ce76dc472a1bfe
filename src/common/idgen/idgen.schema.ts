import { Type, type Static } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

/** Most ids one call may ask for, across its requests; also the largest reservation. */
export const MAX_IDS_PER_CALL = 10_000;

const TenantId = Type.String({ minLength: 1, maxLength: 200, description: 'Dot-separated tenant id, e.g. pb or pb.amritsar' });

/** DIGIT's IdRequest (`@Size(max=200)` on idName, tenantId and format). */
export const IdRequest = Type.Object(
  {
    idName: Type.String({
      maxLength: 200,
      description: 'Looked up in MDMS common-masters.IdFormat (idname); its format wins over `format`',
    }),
    tenantId: TenantId,
    format: Type.Optional(Nullable(Type.String({ maxLength: 200, description: 'Used only when the idName has no configured format' }))),
    count: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: MAX_IDS_PER_CALL, description: 'How many ids (default 1)' }))),
  },
  { additionalProperties: true },
);
export type IdRequest = Static<typeof IdRequest>;

export const GenerateRequest = Type.Object(
  { RequestInfo, idRequests: Type.Array(IdRequest, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: true },
);
export type GenerateRequest = Static<typeof GenerateRequest>;

const IdResponse = Type.Object({ id: Type.String() });

/** As DIGIT's egov-idgen: lower-camel `responseInfo`, every request's ids in one list, in request order. */
export const GenerateResponse = Type.Object({ responseInfo: ResponseInfo, idResponses: Type.Array(IdResponse) });

export const ReservationInput = Type.Object(
  {
    tenantId: TenantId,
    idName: Type.String({ maxLength: 200 }),
    format: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    count: Type.Integer({ minimum: 1, maximum: MAX_IDS_PER_CALL }),
    deviceId: Type.Optional(
      Nullable(Type.String({ minLength: 1, maxLength: 256, description: 'The offline device that will use the ids' })),
    ),
    expiresInDays: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 3650, description: 'Default 60 days, as DHIS2' }))),
  },
  { additionalProperties: true },
);
export type ReservationInput = Static<typeof ReservationInput>;

export const ReserveRequest = Type.Object({ RequestInfo, reservation: ReservationInput }, { additionalProperties: true });
export type ReserveRequest = Static<typeof ReserveRequest>;

export const Reservation = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  idName: Type.String(),
  format: Type.String({ description: 'The format the ids were made with' }),
  count: Type.Integer(),
  deviceId: Nullable(Type.String()),
  expiresTime: Type.Integer({
    description: 'Epoch ms after which the device should not use the ids (they are never issued again either way)',
  }),
  ids: Type.Optional(Type.Array(Type.String())),
  auditDetails: AuditDetails,
});
export type Reservation = Static<typeof Reservation>;

export const ReserveResponse = Type.Object({ responseInfo: ResponseInfo, reservation: Reservation, idResponses: Type.Array(IdResponse) });

export const ReservationCriteria = Type.Object(
  {
    tenantId: TenantId,
    ids: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 }))),
    idName: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    deviceId: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    reservedId: Type.Optional(Nullable(Type.String({ maxLength: 400, description: 'A reserved id: finds the reservation that holds it' }))),
    includeIds: Type.Optional(Nullable(Type.Boolean({ description: 'Also answer the reserved ids (for a device that lost them)' }))),
    offset: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }))),
    limit: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 100 }))),
  },
  { additionalProperties: true },
);
export type ReservationCriteria = Static<typeof ReservationCriteria>;

export const ReservationSearchRequest = Type.Object({ RequestInfo, criteria: ReservationCriteria }, { additionalProperties: true });
export type ReservationSearchRequest = Static<typeof ReservationSearchRequest>;

export const ReservationSearchResponse = Type.Object({ responseInfo: ResponseInfo, reservations: Type.Array(Reservation) });
