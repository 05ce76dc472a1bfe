import { Type, type Static, type TSchema } from 'typebox';
import { RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Opt = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));
const Str = (maxLength: number, minLength = 0) => Type.String({ maxLength, minLength });
const TenantId = Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$', description: 'e.g. pb.amritsar' });
const Code = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' });
const Loose = Type.Object({}, { additionalProperties: true });

export const DocumentInput = Type.Object(
  {
    documentType: Opt(Str(64)),
    fileStoreId: Type.String({ minLength: 1, maxLength: 64 }),
    documentUid: Opt(Str(64)),
    additionalDetails: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type DocumentInput = Static<typeof DocumentInput>;

export const AddressInput = Type.Object(
  {
    locality: Type.Object({ code: Code }, { additionalProperties: true }),
    geoLocation: Opt(Type.Object({ latitude: Opt(Type.Number()), longitude: Opt(Type.Number()) }, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

export const CitizenInput = Type.Object(
  { name: Opt(Str(100)), mobileNumber: Opt(Type.String({ pattern: '^[0-9]{6,15}$' })), uuid: Opt(Str(64)) },
  { additionalProperties: true },
);

/** DIGIT's Service as sent: server-owned fields (ids, status, audit) are ignored on create. */
export const ServiceInput = Type.Object(
  {
    tenantId: TenantId,
    serviceCode: Code,
    serviceRequestId: Opt(Str(128)),
    description: Opt(Str(2048)),
    rating: Opt(Type.Integer({ minimum: 1, maximum: 5 })),
    source: Opt(Str(64)),
    citizen: Opt(CitizenInput),
    address: AddressInput,
    additionalDetail: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type ServiceInput = Static<typeof ServiceInput>;

export const WorkflowInput = Type.Object(
  {
    action: Code,
    // DIGIT's spelling; uuids of the employees to mark the complaint to.
    assignes: Opt(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 })),
    comments: Opt(Str(1024)),
    verificationDocuments: Opt(Type.Array(DocumentInput, { maxItems: 20 })),
    rating: Opt(Type.Integer({ minimum: 1, maximum: 5 })),
  },
  { additionalProperties: true },
);
export type WorkflowInput = Static<typeof WorkflowInput>;

export const ServiceRequest = Type.Object({ RequestInfo, service: ServiceInput, workflow: WorkflowInput });
export type ServiceRequest = Static<typeof ServiceRequest>;

export const UpdateServiceInput = Type.Object(
  {
    tenantId: TenantId,
    serviceRequestId: Type.String({ minLength: 1, maxLength: 128 }),
    rating: Opt(Type.Integer({ minimum: 1, maximum: 5 })),
    additionalDetail: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export const UpdateRequest = Type.Object({ RequestInfo, service: UpdateServiceInput, workflow: WorkflowInput });
export type UpdateRequest = Static<typeof UpdateRequest>;

export const Document = Type.Object({
  id: Type.String(),
  documentType: Nullable(Type.String()),
  fileStoreId: Type.String(),
  documentUid: Nullable(Type.String()),
  additionalDetails: Type.Unknown(),
});
export type Document = Static<typeof Document>;

export const AuditDetails = Type.Object({
  createdBy: Nullable(Type.String()),
  lastModifiedBy: Nullable(Type.String()),
  createdTime: Type.Number(),
  lastModifiedTime: Type.Number(),
});

export const Service = Type.Object({
  active: Type.Boolean(),
  citizen: Type.Object({ uuid: Type.String(), name: Nullable(Type.String()), mobileNumber: Nullable(Type.String()), type: Type.String() }),
  id: Type.String(),
  tenantId: Type.String(),
  serviceCode: Type.String(),
  serviceRequestId: Type.String(),
  description: Nullable(Type.String()),
  accountId: Type.String(),
  rating: Nullable(Type.Integer()),
  additionalDetail: Type.Unknown(),
  applicationStatus: Type.String(),
  source: Nullable(Type.String()),
  address: Loose,
  documents: Type.Array(Document),
  auditDetails: AuditDetails,
});
export type Service = Static<typeof Service>;

export const Workflow = Type.Object({
  action: Type.String(),
  assignes: Type.Array(Type.String()),
  comments: Nullable(Type.String()),
  verificationDocuments: Type.Array(Document),
});
export type Workflow = Static<typeof Workflow>;

export const ServiceWrapper = Type.Object({ service: Service, workflow: Workflow });
export type ServiceWrapper = Static<typeof ServiceWrapper>;

export const WrappersResponse = Type.Object({ ResponseInfo, ServiceWrappers: Type.Array(ServiceWrapper) });
export const CountResponse = Type.Object({ ResponseInfo, count: Type.Integer() });
export const RequestInfoBody = Type.Object({ RequestInfo }, { additionalProperties: true });

const CsvCodes = Type.String({ maxLength: 2048, pattern: '^[A-Za-z0-9_.,-]*$' });
export const SearchQuery = Type.Object(
  {
    tenantId: TenantId,
    serviceRequestId: Type.Optional(CsvCodes),
    ids: Type.Optional(CsvCodes),
    mobileNumber: Type.Optional(Type.String({ pattern: '^[0-9]{6,15}$' })),
    applicationStatus: Type.Optional(CsvCodes),
    serviceCode: Type.Optional(CsvCodes),
    locality: Type.Optional(CsvCodes),
    fromDate: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    toDate: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 200 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    sortOrder: Type.Optional(Type.Union([Type.Literal('ASC'), Type.Literal('DESC')])),
  },
  { additionalProperties: true },
);
export type SearchQuery = Static<typeof SearchQuery>;
