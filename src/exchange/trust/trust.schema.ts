import { Type, type Static } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const AgencyId = Type.String({ minLength: 1, maxLength: 64, description: 'Lower-case letters, digits, dots and dashes, e.g. pb.health' });
const Status = Type.Union([Type.Literal('ACTIVE'), Type.Literal('INACTIVE')]);
const Epoch = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });

export const PublicJwk = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.Optional(Type.Literal('EdDSA')),
  use: Type.Optional(Type.Literal('sig')),
});

export const Jwks = Type.Object({ keys: Type.Array(PublicJwk) });

/** What is registered: checked in depth by the service (Ed25519 public keys only, no private members). */
const JwksInput = Type.Object(
  { keys: Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 50 }) },
  { additionalProperties: true, description: 'A JWKS of the agency\'s Ed25519 public keys, each with a kid' },
);

export const AgencyCreate = Type.Object(
  {
    agencyId: AgencyId,
    name: Type.String({ minLength: 1, maxLength: 256 }),
    jwks: JwksInput,
    jwksUrl: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
    status: Type.Optional(Status),
  },
  { additionalProperties: true },
);

export const AgencyUpdate = Type.Object(
  {
    agencyId: AgencyId,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    jwks: Type.Optional(JwksInput),
    jwksUrl: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
    status: Type.Optional(Status),
  },
  { additionalProperties: true },
);

export const AgencyCreateRequest = Type.Object({ RequestInfo, Agency: AgencyCreate }, { additionalProperties: true });
export const AgencyUpdateRequest = Type.Object({ RequestInfo, Agency: AgencyUpdate }, { additionalProperties: true });
export const AgencySearchRequest = Type.Object(
  {
    RequestInfo,
    AgencySearchCriteria: Type.Optional(
      Type.Object(
        {
          agencyIds: Type.Optional(Type.Array(AgencyId, { maxItems: 1000 })),
          status: Type.Optional(Status),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);
export type AgencySearchRequest = Static<typeof AgencySearchRequest>;

export const Agency = Type.Object({
  agencyId: Type.String(),
  name: Type.String(),
  jwks: Jwks,
  jwksUrl: Nullable(Type.String()),
  status: Status,
  jwksFetchedTime: Nullable(Type.Number()),
  rowVersion: Type.Integer(),
  auditDetails: AuditDetails,
});

export const AgenciesResponse = Type.Object({ ResponseInfo, Agencies: Type.Array(Agency) });

export const RotateRequest = Type.Object({ RequestInfo }, { additionalProperties: true });
export const RotateResponse = Type.Object({
  ResponseInfo,
  SigningKey: Type.Object({ kid: Type.String(), previousKid: Nullable(Type.String()) }),
  jwks: Jwks,
});

export const ReceiveResponse = Type.Object({
  ResponseInfo,
  status: Type.Union([Type.Literal('ACCEPTED'), Type.Literal('DUPLICATE')]),
  receipt: Type.String({ description: 'Compact JWS, typ plinth-receipt+jws, signed by this agency' }),
});

export const InboxSearchRequest = Type.Object(
  {
    RequestInfo,
    InboxSearchCriteria: Type.Optional(
      Type.Object(
        {
          kind: Type.Optional(Type.Union([Type.Literal('RECEIVED'), Type.Literal('REFUSED')], { description: 'RECEIVED (default): accepted messages; REFUSED: refusals' })),
          sender: Type.Optional(Type.String({ maxLength: 200 })),
          messageId: Type.Optional(Type.String({ maxLength: 200 })),
          eventType: Type.Optional(Type.String({ maxLength: 200 })),
          code: Type.Optional(Type.String({ maxLength: 64 })),
          fromTime: Type.Optional(Epoch),
          toTime: Type.Optional(Epoch),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);
export type InboxSearchRequest = Static<typeof InboxSearchRequest>;

export const InboxMessage = Type.Object({
  id: Type.String(),
  sender: Type.String(),
  messageId: Type.String(),
  kid: Type.String(),
  subscriptionId: Nullable(Type.String()),
  eventId: Type.String(),
  eventType: Type.String(),
  tenantId: Type.String(),
  digest: Type.String(),
  jws: Type.String(),
  receipt: Type.String(),
  handoverEventId: Type.String(),
  receivedTime: Type.Number(),
});

export const Refusal = Type.Object({
  id: Type.String(),
  code: Type.String(),
  message: Type.String(),
  sender: Nullable(Type.String()),
  senderVerified: Type.Boolean(),
  messageId: Nullable(Type.String()),
  remoteAddress: Nullable(Type.String()),
  bodyHead: Type.String(),
  bodyLength: Type.Number(),
  receivedTime: Type.Number(),
});

export const InboxSearchResponse = Type.Object({ ResponseInfo, Messages: Type.Array(InboxMessage), Refusals: Type.Array(Refusal) });
