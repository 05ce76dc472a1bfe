import { Type, type Static } from 'typebox';
import { RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb or pb.amritsar' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const EpochMs = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Epoch milliseconds, inclusive' });

export const AuditEntry = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  seq: Type.Integer({ description: "Position in the tenant's chain, from 1" }),
  time: Type.Integer({ description: 'Epoch milliseconds' }),
  actorUuid: Nullable(Type.String()),
  action: Type.String({ description: 'e.g. user.login, user.login.failed, user.locked, role.changed, pii.decrypted' }),
  subject: Type.String(),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  details: Type.Object({}, { additionalProperties: true }),
  ip: Nullable(Type.String()),
  correlationId: Nullable(Type.String()),
  prevHash: Type.String(),
  hash: Type.String(),
});

export const AuditSearchRequest = Type.Object({
  RequestInfo,
  AuditCriteria: Type.Object(
    {
      tenantId: TenantId,
      actions: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 100 }))),
      subject: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
      actorUuid: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
      fromTime: Type.Optional(Nullable(EpochMs)),
      toTime: Type.Optional(Nullable(EpochMs)),
      offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    },
    { additionalProperties: true },
  ),
});
export type AuditSearchRequest = Static<typeof AuditSearchRequest>;

export const AuditSearchResponse = Type.Object({ ResponseInfo, AuditEntries: Type.Array(AuditEntry) });

export const AuditVerifyRequest = Type.Object({
  RequestInfo,
  tenantId: Type.Optional(Nullable(TenantId)),
});
export type AuditVerifyRequest = Static<typeof AuditVerifyRequest>;

export const BrokenLink = Type.Object({
  tenantId: Type.String(),
  seq: Type.Integer(),
  id: Nullable(Type.String()),
  reason: Type.Union([
    Type.Literal('hash-mismatch'),
    Type.Literal('broken-link'),
    Type.Literal('missing-entry'),
    Type.Literal('head-mismatch'),
    Type.Literal('head-signature'),
  ]),
  message: Type.String(),
});

export const AuditVerifyResponse = Type.Object({
  ResponseInfo,
  ok: Type.Boolean(),
  tenants: Type.Integer(),
  entries: Type.Integer(),
  firstBroken: Nullable(BrokenLink),
});
