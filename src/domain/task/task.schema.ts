import { Type, type Static, type TSchema } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';
import { AdditionalFields, ClientAuditDetails, ClientReferenceId, RecordError } from '../../kernel/offline.js';

/**
 * DIGIT health's project Task (health-services-models `project/Task.java`, `TaskResource.java`,
 * `TaskStatus.java`), read leniently as the field app sends it: optional fields may be null,
 * unknown keys are kept out of storage but do not refuse the record.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * A scalar or null, as one `type: [t, 'null']`: the HTTP layer's Ajv coerces types, and in an
 * anyOf it would turn a null into 0, "" or false through the first branch; with a type list it
 * coerces only when no listed type matches, so null stays null.
 */
function orNull<T extends TSchema>(schema: T): TSchema {
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  const type = plain['type'];
  if (typeof type === 'string' && type !== 'object' && type !== 'array')
    return Type.Unsafe<Static<T> | null>({ ...plain, type: [type, 'null'] });
  return Nullable(schema);
}
const Opt = <T extends TSchema>(schema: T) => Type.Optional(orNull(schema) as TSchema as ReturnType<typeof Nullable<T>>);
const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb.amritsar' });
const Id = Type.String({ minLength: 2, maxLength: 64 });
const RowVersion = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });
const EpochMs = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const MAX_BATCH = 1000;
const MAX_IDS = 1000;

/** DIGIT's TaskStatus, in its order. */
export const TASK_STATUSES = [
  'ADMINISTRATION_FAILED',
  'ADMINISTRATION_SUCCESS',
  'BENEFICIARY_REFUSED',
  'CLOSED_HOUSEHOLD',
  'DELIVERED',
  'NOT_ADMINISTERED',
  'INELIGIBLE',
  'BENEFICIARY_DIED',
  'BENEFICIARY_MIGRATED',
  'BENEFICIARY_ABSENT',
  'BENEFICIARY_REFERRED',
  'VISITED',
] as const;
export const TaskStatus = Type.Union(TASK_STATUSES.map((s) => Type.Literal(s)));
export type TaskStatus = Static<typeof TaskStatus>;

export const TaskResourceInput = Type.Object(
  {
    id: Opt(Id),
    tenantId: Opt(Type.String({ maxLength: 256 })),
    clientReferenceId: Opt(ClientReferenceId),
    taskId: Opt(Type.String({ maxLength: 64 })),
    productVariantId: Id,
    quantity: Opt(Type.Number({ minimum: 0, maximum: 1_000_000_000 })),
    isDelivered: Opt(Type.Boolean()),
    deliveryComment: Opt(Type.String({ maxLength: 1000 })),
    isDeleted: Opt(Type.Boolean()),
    additionalFields: Opt(AdditionalFields),
  },
  { additionalProperties: true },
);
export type TaskResourceInput = Static<typeof TaskResourceInput>;

export const TaskResource = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  clientReferenceId: Nullable(Type.String()),
  taskId: Type.String(),
  productVariantId: Type.String(),
  quantity: Nullable(Type.Number()),
  isDelivered: Type.Boolean(),
  deliveryComment: Nullable(Type.String()),
  isDeleted: Type.Boolean(),
  additionalFields: Nullable(AdditionalFields),
  auditDetails: AuditDetails,
});
export type TaskResource = Static<typeof TaskResource>;

/** DIGIT's (deprecated but still sent) Address of a task: where it was done. */
export const TaskAddressInput = Type.Object(
  {
    id: Opt(Type.String({ maxLength: 64 })),
    clientReferenceId: Opt(Type.String({ maxLength: 64 })),
    tenantId: Opt(Type.String({ maxLength: 256 })),
    doorNo: Opt(Type.String({ maxLength: 64 })),
    latitude: Opt(Type.Number({ minimum: -90, maximum: 90 })),
    longitude: Opt(Type.Number({ minimum: -180, maximum: 180 })),
    locationAccuracy: Opt(Type.Number({ minimum: 0, maximum: 10_000_000 })),
    type: Opt(Type.Union([Type.Literal('PERMANENT'), Type.Literal('CORRESPONDENCE'), Type.Literal('OTHER')])),
    addressLine1: Opt(Type.String({ maxLength: 256 })),
    addressLine2: Opt(Type.String({ maxLength: 256 })),
    landmark: Opt(Type.String({ maxLength: 256 })),
    city: Opt(Type.String({ maxLength: 256 })),
    pincode: Opt(Type.String({ maxLength: 64 })),
    buildingName: Opt(Type.String({ maxLength: 256 })),
    street: Opt(Type.String({ maxLength: 256 })),
    locality: Opt(Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: true })),
  },
  { additionalProperties: true },
);
export type TaskAddressInput = Static<typeof TaskAddressInput>;

export const TaskInput = Type.Object(
  {
    id: Opt(Id),
    tenantId: TenantId,
    clientReferenceId: Opt(ClientReferenceId),
    /** Free text for now: Plinth has no project registry yet, so it is not checked against one. */
    projectId: Type.String({ minLength: 2, maxLength: 64 }),
    projectBeneficiaryId: Opt(Id),
    projectBeneficiaryClientReferenceId: Opt(ClientReferenceId),
    resources: Opt(Type.Array(TaskResourceInput, { maxItems: 100 })),
    plannedStartDate: Opt(EpochMs),
    plannedEndDate: Opt(EpochMs),
    actualStartDate: Opt(EpochMs),
    actualEndDate: Opt(EpochMs),
    createdBy: Opt(Type.String({ maxLength: 256 })),
    createdDate: Opt(EpochMs),
    address: Opt(TaskAddressInput),
    status: Opt(TaskStatus),
    additionalFields: Opt(AdditionalFields),
    clientAuditDetails: Opt(ClientAuditDetails),
    rowVersion: Opt(RowVersion),
    isDeleted: Opt(Type.Boolean()),
  },
  { additionalProperties: true },
);
export type TaskInput = Static<typeof TaskInput>;

/** What a delete needs: the record and the version the device last saw. */
export const TaskRef = Type.Object(
  { id: Opt(Id), tenantId: TenantId, clientReferenceId: Opt(ClientReferenceId), rowVersion: Opt(RowVersion) },
  { additionalProperties: true },
);
export type TaskRef = Static<typeof TaskRef>;

export const Task = Type.Object({
  id: Type.String({ description: 'From idgen (format project.task.id)' }),
  tenantId: Type.String(),
  clientReferenceId: Type.String(),
  projectId: Type.String(),
  projectBeneficiaryId: Nullable(Type.String()),
  projectBeneficiaryClientReferenceId: Nullable(Type.String()),
  resources: Type.Array(TaskResource),
  plannedStartDate: Nullable(Type.Number()),
  plannedEndDate: Nullable(Type.Number()),
  actualStartDate: Nullable(Type.Number()),
  actualEndDate: Nullable(Type.Number()),
  createdBy: Nullable(Type.String()),
  createdDate: Nullable(Type.Number()),
  address: Nullable(Type.Object({}, { additionalProperties: true })),
  status: Nullable(Type.String()),
  additionalFields: Nullable(AdditionalFields),
  clientAuditDetails: Nullable(ClientAuditDetails),
  rowVersion: Type.Integer(),
  isDeleted: Type.Boolean(),
  hasErrors: Type.Boolean(),
  auditDetails: AuditDetails,
});
export type Task = Static<typeof Task>;

/** Records of a bulk call are checked one by one, so one bad record cannot refuse the others. */
const LooseBatch = Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: MAX_BATCH });

export const TaskRequest = Type.Object({ RequestInfo, Task: TaskInput });
export const TaskDeleteRequest = Type.Object({ RequestInfo, Task: TaskRef });
export const TaskBulkRequest = Type.Object({ RequestInfo, Tasks: LooseBatch });
export const TaskResponse = Type.Object({ ResponseInfo, Task });
export const TaskBulkResponse = Type.Object({ ResponseInfo, Tasks: Type.Array(Task), Errors: Type.Array(RecordError) });

const IdList = Type.Array(Type.String({ maxLength: 256 }), { maxItems: MAX_IDS });

export const TaskSearch = Type.Object(
  {
    id: Opt(IdList),
    clientReferenceId: Opt(IdList),
    projectId: Opt(Type.Union([IdList, Type.String({ maxLength: 64 })])),
    projectBeneficiaryId: Opt(IdList),
    projectBeneficiaryClientReferenceId: Opt(IdList),
    status: Opt(Type.Union([TaskStatus, Type.Array(TaskStatus, { maxItems: TASK_STATUSES.length })])),
    /** DIGIT's filter: tasks planned to start at or after it (epoch ms). */
    plannedStartDate: Opt(EpochMs),
    /** DIGIT's filter: tasks planned to end at or before it (epoch ms). */
    plannedEndDate: Opt(EpochMs),
    /** Plinth: tasks planned to start in [plannedStartDateFrom, plannedStartDateTo] (epoch ms, both inclusive). */
    plannedStartDateFrom: Opt(EpochMs),
    plannedStartDateTo: Opt(EpochMs),
    tenantId: Opt(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: true },
);
export type TaskSearch = Static<typeof TaskSearch>;

export const TaskSearchRequest = Type.Object({ RequestInfo, Task: Type.Optional(Nullable(TaskSearch)) });
export const TaskSearchResponse = Type.Object({ ResponseInfo, TotalCount: Type.Integer(), Tasks: Type.Array(Task) });
