import { Type, type Static, type TSchema } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Opt = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));
const Str = (maxLength: number, minLength = 0) => Type.String({ maxLength, minLength });
const Millis = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb or pb.amritsar' });
const Code = Type.String({ minLength: 1, maxLength: 128 });
const LooseAudit = Opt(Type.Object({}, { additionalProperties: true }));

// ---------------------------------------------------------------------------------------------
// Business services (workflow definitions), as DIGIT's egov-workflow-v2 models them.

export const ActionInput = Type.Object(
  {
    uuid: Opt(Str(64)),
    tenantId: Opt(Str(256)),
    currentState: Opt(Str(64)),
    action: Code,
    nextState: Type.String({ minLength: 1, maxLength: 128, description: 'The name of the next state (or its uuid, as search answers it)' }),
    roles: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100, description: 'Role codes that may take the action; "*" means every role used in the workflow' }),
    active: Opt(Type.Boolean()),
    auditDetails: LooseAudit,
  },
  { additionalProperties: true },
);
export type ActionInput = Static<typeof ActionInput>;

export const StateInput = Type.Object(
  {
    uuid: Opt(Str(64)),
    tenantId: Opt(Str(256)),
    businessServiceId: Opt(Str(64)),
    sla: Opt(Millis),
    state: Opt(Str(128)),
    applicationStatus: Opt(Str(128)),
    docUploadRequired: Opt(Type.Boolean()),
    isStartState: Opt(Type.Boolean()),
    isTerminateState: Opt(Type.Boolean()),
    isStateUpdatable: Opt(Type.Boolean()),
    actions: Opt(Type.Array(ActionInput, { maxItems: 100 })),
    auditDetails: LooseAudit,
  },
  { additionalProperties: true },
);
export type StateInput = Static<typeof StateInput>;

export const BusinessServiceInput = Type.Object(
  {
    tenantId: TenantId,
    uuid: Opt(Str(64)),
    businessService: Code,
    business: Code,
    getUri: Opt(Str(1024)),
    postUri: Opt(Str(1024)),
    businessServiceSla: Opt(Millis),
    states: Type.Array(StateInput, { minItems: 1, maxItems: 200 }),
    auditDetails: LooseAudit,
  },
  { additionalProperties: true },
);
export type BusinessServiceInput = Static<typeof BusinessServiceInput>;

export const BusinessServiceRequest = Type.Object({
  RequestInfo,
  BusinessServices: Type.Array(BusinessServiceInput, { minItems: 1, maxItems: 50 }),
});
export type BusinessServiceRequest = Static<typeof BusinessServiceRequest>;

export const Action = Type.Object({
  auditDetails: Nullable(AuditDetails),
  uuid: Type.String(),
  tenantId: Type.String(),
  currentState: Type.String(),
  action: Type.String(),
  nextState: Type.String(),
  roles: Type.Array(Type.String()),
  active: Type.Boolean(),
});
export type Action = Static<typeof Action>;

export const State = Type.Object({
  auditDetails: Nullable(AuditDetails),
  uuid: Type.String(),
  tenantId: Type.String(),
  businessServiceId: Type.String(),
  sla: Nullable(Type.Number()),
  state: Nullable(Type.String()),
  applicationStatus: Nullable(Type.String()),
  docUploadRequired: Type.Boolean(),
  isStartState: Type.Boolean(),
  isTerminateState: Type.Boolean(),
  isStateUpdatable: Type.Boolean(),
  actions: Nullable(Type.Array(Action)),
});
export type State = Static<typeof State>;

export const BusinessService = Type.Object({
  tenantId: Type.String(),
  uuid: Type.String(),
  businessService: Type.String(),
  business: Type.String(),
  getUri: Nullable(Type.String()),
  postUri: Nullable(Type.String()),
  businessServiceSla: Nullable(Type.Number()),
  states: Type.Array(State),
  auditDetails: Nullable(AuditDetails),
});
export type BusinessService = Static<typeof BusinessService>;

export const BusinessServiceResponse = Type.Object({ ResponseInfo, BusinessServices: Type.Array(BusinessService) });

export const BusinessServiceSearchQuery = Type.Object(
  {
    tenantId: TenantId,
    businessServices: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 100, description: 'Codes, comma-separated or repeated' })),
  },
  { additionalProperties: true },
);
export type BusinessServiceSearchQuery = Static<typeof BusinessServiceSearchQuery>;

// ---------------------------------------------------------------------------------------------
// Process instances (one row per transition).

export const DocumentInput = Type.Object(
  {
    id: Opt(Str(64)),
    tenantId: Opt(Str(256)),
    documentType: Opt(Str(64)),
    fileStoreId: Type.String({ minLength: 1, maxLength: 64 }),
    documentUid: Opt(Str(64)),
    auditDetails: LooseAudit,
  },
  { additionalProperties: true },
);
export type DocumentInput = Static<typeof DocumentInput>;

const UserRef = Type.Object({ uuid: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: true });

export const ProcessInstanceInput = Type.Object(
  {
    id: Opt(Str(64)),
    tenantId: TenantId,
    businessService: Code,
    businessId: Code,
    action: Code,
    moduleName: Opt(Str(64)),
    comment: Opt(Str(1024)),
    documents: Opt(Type.Array(DocumentInput, { maxItems: 50 })),
    assignes: Opt(Type.Array(UserRef, { maxItems: 20 })),
    // DIGIT accepts the correctly spelled key too.
    assignees: Opt(Type.Array(UserRef, { maxItems: 20 })),
    rating: Opt(Type.Integer({ minimum: 1, maximum: 5 })),
    entity: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type ProcessInstanceInput = Static<typeof ProcessInstanceInput>;

export const ProcessInstanceRequest = Type.Object({
  RequestInfo,
  ProcessInstances: Type.Array(ProcessInstanceInput, { minItems: 1, maxItems: 100 }),
});
export type ProcessInstanceRequest = Static<typeof ProcessInstanceRequest>;

export const Role = Type.Object({ name: Nullable(Type.String()), code: Type.String(), tenantId: Type.String() });

/** services-common's User, as DIGIT puts it into assigner and assignes. */
export const User = Type.Object({
  id: Nullable(Type.Number()),
  uuid: Type.String(),
  userName: Nullable(Type.String()),
  name: Nullable(Type.String()),
  type: Nullable(Type.String()),
  mobileNumber: Nullable(Type.String()),
  emailId: Nullable(Type.String()),
  roles: Type.Array(Role),
  tenantId: Nullable(Type.String()),
});
export type User = Static<typeof User>;

export const Document = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  documentType: Nullable(Type.String()),
  fileStoreId: Type.String(),
  documentUid: Nullable(Type.String()),
  auditDetails: Nullable(AuditDetails),
});
export type Document = Static<typeof Document>;

export const ProcessInstance = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  businessService: Type.String(),
  businessId: Type.String(),
  action: Type.String(),
  moduleName: Type.String(),
  state: State,
  comment: Nullable(Type.String()),
  documents: Nullable(Type.Array(Document)),
  assigner: Nullable(User),
  assignes: Nullable(Type.Array(User)),
  nextActions: Type.Array(Action),
  stateSla: Nullable(Type.Number()),
  // sic: DIGIT's field name has three s.
  businesssServiceSla: Nullable(Type.Number()),
  previousStatus: Nullable(Type.String()),
  entity: Type.Unknown(),
  auditDetails: AuditDetails,
  rating: Nullable(Type.Integer()),
  escalated: Type.Boolean(),
});
export type ProcessInstance = Static<typeof ProcessInstance>;

export const TransitionResponse = Type.Object({ ResponseInfo, ProcessInstances: Type.Array(ProcessInstance) });
export const ProcessSearchResponse = Type.Object({
  ResponseInfo: Type.Null(),
  ProcessInstances: Type.Array(ProcessInstance),
  totalCount: Type.Integer(),
});

const List = (description: string) => Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 200, description }));

/** DIGIT reads process search criteria from the query string (Spring's @ModelAttribute). */
export const ProcessSearchQuery = Type.Object(
  {
    tenantId: TenantId,
    businessIds: List('Application numbers, comma-separated or repeated'),
    ids: List('Process instance ids'),
    assignee: Type.Optional(Type.String({ maxLength: 64 })),
    status: List('State uuids'),
    history: Type.Optional(Type.Boolean({ description: 'true: every transition, newest first; false: the latest per application' })),
    fromDate: Type.Optional(Millis),
    toDate: Type.Optional(Millis),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'At most 100 are answered' })),
    businessService: Type.Optional(Type.String({ maxLength: 128 })),
    moduleName: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);
export type ProcessSearchQuery = Static<typeof ProcessSearchQuery>;

export const RequestInfoBody = Type.Object({ RequestInfo }, { additionalProperties: true });

/** `_statuscount` also takes the criteria in the body, as DIGIT's StatusCountRequest. */
export const StatusCountBody = Type.Object(
  { RequestInfo, ProcessInstanceSearchCriteria: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))) },
  { additionalProperties: true },
);
export type StatusCountBody = Static<typeof StatusCountBody>;

export const StatusCount = Type.Object({
  count: Type.Integer(),
  applicationstatus: Nullable(Type.String()),
  businessservice: Type.String(),
  statusid: Type.String(),
});
export type StatusCount = Static<typeof StatusCount>;

export const BusinessServiceParams = Type.Object({ businessService: Code });
