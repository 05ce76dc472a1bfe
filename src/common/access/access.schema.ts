import { Type, type Static } from 'typebox';
import { RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb or pb.amritsar' });
const RoleCode = Type.String({ minLength: 1, maxLength: 50 });

/** A role as a user holds it: DIGIT sends `id` and `name` too, which the decision ignores. */
export const RoleGrantInput = Type.Object(
  { code: RoleCode, tenantId: Type.Optional(Nullable(Type.String({ maxLength: 256 }))), name: Type.Optional(Nullable(Type.String())) },
  { additionalProperties: true },
);

export const AuthorizeRequest = Type.Object({
  RequestInfo,
  AuthorizationRequest: Type.Object(
    {
      roles: Type.Array(RoleGrantInput, { maxItems: 500 }),
      uri: Type.String({ minLength: 1, maxLength: 2048 }),
      tenantIds: Type.Array(Type.String({ maxLength: 256 }), { maxItems: 500 }),
    },
    { additionalProperties: true },
  ),
});
export type AuthorizeRequest = Static<typeof AuthorizeRequest>;

export const ActionSearchRequest = Type.Object(
  {
    RequestInfo,
    roleCodes: Type.Array(RoleCode, { minItems: 1, maxItems: 500 }),
    tenantId: TenantId,
    actionMaster: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9_-]+$' }))),
    enabled: Type.Optional(Nullable(Type.Boolean())),
  },
  { additionalProperties: true },
);
export type ActionSearchRequest = Static<typeof ActionSearchRequest>;

/**
 * An action as DIGIT's menu answers it. The master allows extra fields, which pass through; the
 * audit fields are always null because MDMS action records carry none (as in DIGIT).
 */
export const Action = Type.Object(
  {
    id: Type.Number(),
    name: Type.String(),
    url: Type.String(),
    displayName: Nullable(Type.String()),
    orderNumber: Nullable(Type.Number()),
    queryParams: Nullable(Type.String()),
    parentModule: Nullable(Type.String()),
    enabled: Type.Boolean(),
    serviceCode: Nullable(Type.String()),
    code: Nullable(Type.String()),
    path: Nullable(Type.String()),
    navigationURL: Nullable(Type.String()),
    leftIcon: Nullable(Type.String()),
    rightIcon: Nullable(Type.String()),
    createdDate: Nullable(Type.Number()),
    createdBy: Nullable(Type.String()),
    lastModifiedDate: Nullable(Type.Number()),
    lastModifiedBy: Nullable(Type.String()),
  },
  { additionalProperties: true },
);
export type Action = Static<typeof Action>;

export const ActionSearchResponse = Type.Object({ responseInfo: ResponseInfo, actions: Type.Array(Action) });

export const Role = Type.Object({ name: Type.String(), code: Type.String(), description: Nullable(Type.String()) });
export type Role = Static<typeof Role>;

export const RoleSearchQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096, description: 'Comma-separated role codes' })),
  tenantId: Type.Optional(TenantId),
});
export type RoleSearchQuery = Static<typeof RoleSearchQuery>;

export const RequestInfoOnly = Type.Union([Type.Object({ RequestInfo }, { additionalProperties: true }), Type.Null()]);

/** The limits of the ACCESSCONTROL-ROLES.roles master, checked up front so a batch fails before any write. */
export const RoleInput = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 50, pattern: '^[A-Z][A-Z0-9_-]*$' }),
    name: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
  },
  { additionalProperties: true },
);
export type RoleInput = Static<typeof RoleInput>;

export const RoleWriteRequest = Type.Object({ RequestInfo, roles: Type.Array(RoleInput, { minItems: 1, maxItems: 100 }) });
export type RoleWriteRequest = Static<typeof RoleWriteRequest>;

export const RoleWriteQuery = Type.Object({ tenantId: Type.Optional(TenantId) });

export const RoleResponse = Type.Object({ responseInfo: ResponseInfo, roles: Type.Array(Role) });
