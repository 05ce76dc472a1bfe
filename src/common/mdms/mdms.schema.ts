import { Type, type Static } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb or pb.amritsar' });
const SchemaCode = Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)+$', description: '<moduleName>.<masterName>' });
const Offset = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 });
const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 10 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const SchemaDefinition = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  code: Type.String(),
  description: Nullable(Type.String()),
  definition: Type.Object({}, { additionalProperties: true }),
  isActive: Type.Boolean(),
  auditDetails: AuditDetails,
});
export type SchemaDefinition = Static<typeof SchemaDefinition>;

export const SchemaCreateRequest = Type.Object({
  RequestInfo,
  SchemaDefinition: Type.Object(
    {
      tenantId: TenantId,
      code: SchemaCode,
      description: Type.Optional(Nullable(Type.String({ maxLength: 4096 }))),
      definition: Type.Object({}, { additionalProperties: true }),
      isActive: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: true },
  ),
});
export type SchemaCreateRequest = Static<typeof SchemaCreateRequest>;

export const SchemaSearchRequest = Type.Object({
  RequestInfo,
  SchemaDefCriteria: Type.Object(
    {
      tenantId: TenantId,
      codes: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 500 })),
      offset: Type.Optional(Offset),
      limit: Type.Optional(Limit),
    },
    { additionalProperties: true },
  ),
});
export type SchemaSearchRequest = Static<typeof SchemaSearchRequest>;

export const SchemaResponse = Type.Object({ ResponseInfo, SchemaDefinitions: Type.Array(SchemaDefinition) });

export const Mdms = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  schemaCode: Type.String(),
  uniqueIdentifier: Type.String(),
  data: Type.Unknown(),
  isActive: Type.Boolean(),
  auditDetails: AuditDetails,
});
export type Mdms = Static<typeof Mdms>;

export const MdmsWriteRequest = Type.Object({
  RequestInfo,
  Mdms: Type.Object(
    {
      id: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
      tenantId: TenantId,
      schemaCode: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
      uniqueIdentifier: Type.Optional(Nullable(Type.String())),
      data: Type.Object({}, { additionalProperties: true }),
      isActive: Type.Optional(Type.Boolean()),
      auditDetails: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
    },
    { additionalProperties: true },
  ),
});
export type MdmsWriteRequest = Static<typeof MdmsWriteRequest>;

export const SchemaCodeParams = Type.Object({ schemaCode: SchemaCode });

export const MdmsResponse = Type.Object({ ResponseInfo, mdms: Type.Array(Mdms) });

export const MdmsSearchRequest = Type.Object({
  RequestInfo,
  MdmsCriteria: Type.Object(
    {
      tenantId: TenantId,
      schemaCode: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
      ids: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 }))),
      uniqueIdentifiers: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 1000 }))),
      filters: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown(), { maxProperties: 50 }))),
      isActive: Type.Optional(Nullable(Type.Boolean())),
      offset: Type.Optional(Offset),
      limit: Type.Optional(Limit),
    },
    { additionalProperties: true },
  ),
});
export type MdmsSearchRequest = Static<typeof MdmsSearchRequest>;
export type MdmsCriteria = MdmsSearchRequest['MdmsCriteria'];

export const MdmsCountResponse = Type.Object({ ResponseInfo, totalCount: Type.Integer() });

export const MasterDetail = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 256 }), filter: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))) },
  { additionalProperties: true },
);
export const ModuleDetail = Type.Object(
  {
    moduleName: Type.String({ minLength: 1, maxLength: 256 }),
    masterDetails: Type.Array(MasterDetail, { minItems: 1, maxItems: 200 }),
  },
  { additionalProperties: true },
);

export const V1SearchRequest = Type.Object({
  RequestInfo,
  MdmsCriteria: Type.Object(
    { tenantId: TenantId, moduleDetails: Type.Array(ModuleDetail, { minItems: 1, maxItems: 100 }) },
    { additionalProperties: true },
  ),
});
export type V1SearchRequest = Static<typeof V1SearchRequest>;
export type V1Criteria = V1SearchRequest['MdmsCriteria'];

export const MdmsRes = Type.Record(Type.String(), Type.Record(Type.String(), Type.Array(Type.Unknown())));
export type MdmsRes = Static<typeof MdmsRes>;
export const V1SearchResponse = Type.Object({ ResponseInfo, MdmsRes });
