import { Type, type Static, type TSchema } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';
import { AdditionalFields, ClientAuditDetails, ClientReferenceId, RecordError } from '../../kernel/offline.js';

/**
 * The Sample record as DIGIT-style clients send and receive it: one name for the TypeBox schema
 * and its type. Requests are read leniently (optional fields may be null, unknown keys are
 * ignored); answers are exact.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Opt = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));
const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb.amritsar' });
const Id = Type.String({ minLength: 2, maxLength: 64 });
const Code = Type.String({ minLength: 1, maxLength: 64 });
const RowVersion = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });
const EpochMs = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const MAX_BATCH = 1000;

export const SampleInput = Type.Object(
  {
    id: Opt(Id),
    tenantId: TenantId,
    clientReferenceId: Opt(ClientReferenceId),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    category: Code,
    status: Opt(Code),
    validFrom: Opt(EpochMs),
    validTo: Opt(EpochMs),
    additionalFields: Opt(AdditionalFields),
    clientAuditDetails: Opt(ClientAuditDetails),
    /** The version the device last saw: required to update. */
    rowVersion: Opt(RowVersion),
  },
  { additionalProperties: true },
);
export type SampleInput = Static<typeof SampleInput>;

export const Sample = Type.Object({
  id: Type.String({ description: 'From idgen (format sample.id)' }),
  tenantId: Type.String(),
  clientReferenceId: Type.String(),
  name: Type.String(),
  category: Type.String(),
  status: Type.String(),
  validFrom: Nullable(Type.Number()),
  validTo: Nullable(Type.Number()),
  additionalFields: Nullable(AdditionalFields),
  clientAuditDetails: Nullable(ClientAuditDetails),
  rowVersion: Type.Integer(),
  isDeleted: Type.Boolean(),
  auditDetails: AuditDetails,
});
export type Sample = Static<typeof Sample>;

/** Records of a bulk call are checked one by one, so one bad record cannot refuse the others. */
const LooseBatch = Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: MAX_BATCH });

export const SampleRequest = Type.Object({ RequestInfo, Sample: SampleInput });
export const SampleBulkRequest = Type.Object({ RequestInfo, Samples: LooseBatch });
export const SampleResponse = Type.Object({ ResponseInfo, Sample });
export const SampleBulkResponse = Type.Object({ ResponseInfo, Samples: Type.Array(Sample), Errors: Type.Array(RecordError) });

const IdList = Type.Array(Type.String({ maxLength: 256 }), { maxItems: 1000 });

export const SampleSearch = Type.Object(
  {
    id: Opt(IdList),
    clientReferenceId: Opt(IdList),
    category: Opt(Type.Union([Code, Type.Array(Code, { maxItems: 100 })])),
    status: Opt(Type.Union([Code, Type.Array(Code, { maxItems: 100 })])),
    tenantId: Opt(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: true },
);
export type SampleSearch = Static<typeof SampleSearch>;

export const SampleSearchRequest = Type.Object({ RequestInfo, Sample: Type.Optional(Nullable(SampleSearch)) });
export const SampleSearchResponse = Type.Object({ ResponseInfo, TotalCount: Type.Integer(), Samples: Type.Array(Sample) });
