import { Type, type Static } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';
import { AdditionalFields, ClientAuditDetails, ClientReferenceId, RecordError } from '../../kernel/offline.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb.amritsar' });
const Id = Type.String({ minLength: 2, maxLength: 64 });
const RowVersion = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });
const Text = (maxLength: number) => Nullable(Type.String({ maxLength }));
const MAX_BATCH = 1000;
const MAX_IDS = 1000;

// ---------------------------------------------------------------------------------------------
// Household

export const HouseholdType = Type.Union([Type.Literal('FAMILY'), Type.Literal('COMMUNITY'), Type.Literal('OTHER')]);
export type HouseholdType = Static<typeof HouseholdType>;

/** DIGIT's Boundary as an address holds it: the code is what counts. */
const LocalityInput = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 128 }), tenantId: Type.Optional(Nullable(Type.String({ maxLength: 256 }))) },
  { additionalProperties: true },
);

/** DIGIT's household Address (health-services-models household/Address.java). */
export const AddressInput = Type.Object(
  {
    id: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    clientReferenceId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    tenantId: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    doorNo: Type.Optional(Text(64)),
    latitude: Type.Optional(Nullable(Type.Number({ minimum: -90, maximum: 90 }))),
    longitude: Type.Optional(Nullable(Type.Number({ minimum: -180, maximum: 180 }))),
    locationAccuracy: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 10_000_000 }))),
    type: Type.Optional(Nullable(Type.Union([Type.Literal('PERMANENT'), Type.Literal('CORRESPONDENCE'), Type.Literal('OTHER')]))),
    addressLine1: Type.Optional(Text(256)),
    addressLine2: Type.Optional(Text(256)),
    landmark: Type.Optional(Text(256)),
    city: Type.Optional(Text(256)),
    pincode: Type.Optional(Text(64)),
    buildingName: Type.Optional(Text(256)),
    street: Type.Optional(Text(256)),
    locality: Type.Optional(Nullable(LocalityInput)),
  },
  { additionalProperties: true },
);
export type AddressInput = Static<typeof AddressInput>;

export const Address = Type.Object({
  id: Nullable(Type.String()),
  clientReferenceId: Nullable(Type.String()),
  tenantId: Type.String(),
  doorNo: Nullable(Type.String()),
  latitude: Nullable(Type.Number()),
  longitude: Nullable(Type.Number()),
  locationAccuracy: Nullable(Type.Number()),
  type: Nullable(Type.String()),
  addressLine1: Nullable(Type.String()),
  addressLine2: Nullable(Type.String()),
  landmark: Nullable(Type.String()),
  city: Nullable(Type.String()),
  pincode: Nullable(Type.String()),
  buildingName: Nullable(Type.String()),
  street: Nullable(Type.String()),
  locality: Nullable(Type.Object({ code: Type.String() }, { additionalProperties: true })),
});
export type Address = Static<typeof Address>;

export const HouseholdInput = Type.Object(
  {
    id: Type.Optional(Nullable(Id)),
    tenantId: TenantId,
    clientReferenceId: Type.Optional(Nullable(ClientReferenceId)),
    memberCount: Type.Integer({ minimum: 0, maximum: 1000 }),
    householdType: Type.Optional(Nullable(HouseholdType)),
    address: Type.Optional(Nullable(AddressInput)),
    additionalFields: Type.Optional(Nullable(AdditionalFields)),
    clientAuditDetails: Type.Optional(Nullable(ClientAuditDetails)),
    rowVersion: Type.Optional(Nullable(RowVersion)),
    isDeleted: Type.Optional(Nullable(Type.Boolean())),
  },
  { additionalProperties: true },
);
export type HouseholdInput = Static<typeof HouseholdInput>;

/** For deletes only the record's identity and version matter. */
export const HouseholdRef = Type.Object(
  {
    id: Type.Optional(Nullable(Id)),
    tenantId: TenantId,
    clientReferenceId: Type.Optional(Nullable(ClientReferenceId)),
    rowVersion: Type.Optional(Nullable(RowVersion)),
  },
  { additionalProperties: true },
);
export type HouseholdRef = Static<typeof HouseholdRef>;

export const Household = Type.Object({
  id: Type.String({ description: 'From idgen (format household.id), as DIGIT' }),
  tenantId: Type.String(),
  clientReferenceId: Type.String(),
  memberCount: Type.Integer(),
  householdType: Nullable(Type.String()),
  address: Nullable(Address),
  additionalFields: Nullable(AdditionalFields),
  clientAuditDetails: Nullable(ClientAuditDetails),
  rowVersion: Type.Integer(),
  isDeleted: Type.Boolean(),
  hasErrors: Type.Boolean(),
  auditDetails: AuditDetails,
});
export type Household = Static<typeof Household>;

/** Records of a bulk call are checked one by one, so one bad record cannot refuse the others. */
const LooseRecord = Type.Object({}, { additionalProperties: true });
const LooseBatch = Type.Array(LooseRecord, { minItems: 1, maxItems: MAX_BATCH });

export const HouseholdRequest = Type.Object({ RequestInfo, Household: HouseholdInput });
export const HouseholdDeleteRequest = Type.Object({ RequestInfo, Household: HouseholdRef });
export const HouseholdBulkRequest = Type.Object({ RequestInfo, Households: LooseBatch });
export const HouseholdResponse = Type.Object({ ResponseInfo, Household });
export const HouseholdBulkResponse = Type.Object({ ResponseInfo, Households: Type.Array(Household), Errors: Type.Array(RecordError) });

const IdList = Type.Array(Type.String({ maxLength: 256 }), { maxItems: MAX_IDS });

export const HouseholdSearch = Type.Object(
  {
    id: Type.Optional(Nullable(IdList)),
    clientReferenceId: Type.Optional(Nullable(IdList)),
    tenantId: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    /** Locality code of the address (DIGIT: boundaryCode, older localityCode). */
    boundaryCode: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
    localityCode: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
    householdType: Type.Optional(Nullable(HouseholdType)),
  },
  { additionalProperties: true },
);
export type HouseholdSearch = Static<typeof HouseholdSearch>;

export const HouseholdSearchRequest = Type.Object({ RequestInfo, Household: Type.Optional(Nullable(HouseholdSearch)) });
export const HouseholdSearchResponse = Type.Object({ ResponseInfo, TotalCount: Type.Integer(), Households: Type.Array(Household) });

// ---------------------------------------------------------------------------------------------
// Household member and relationship

export const RelationshipInput = Type.Object(
  {
    id: Type.Optional(Nullable(Id)),
    tenantId: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    clientReferenceId: Type.Optional(Nullable(ClientReferenceId)),
    selfId: Type.Optional(Nullable(Id)),
    selfClientReferenceId: Type.Optional(Nullable(ClientReferenceId)),
    relativeId: Type.Optional(Nullable(Id)),
    relativeClientReferenceId: Type.Optional(Nullable(ClientReferenceId)),
    relationshipType: Type.String({ minLength: 2, maxLength: 64 }),
    additionalFields: Type.Optional(Nullable(AdditionalFields)),
    clientAuditDetails: Type.Optional(Nullable(ClientAuditDetails)),
    rowVersion: Type.Optional(Nullable(RowVersion)),
    isDeleted: Type.Optional(Nullable(Type.Boolean())),
  },
  { additionalProperties: true },
);
export type RelationshipInput = Static<typeof RelationshipInput>;

export const Relationship = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  clientReferenceId: Nullable(Type.String()),
  selfId: Type.String(),
  selfClientReferenceId: Type.String(),
  relativeId: Nullable(Type.String()),
  relativeClientReferenceId: Nullable(Type.String()),
  relationshipType: Type.String(),
  additionalFields: Nullable(AdditionalFields),
  clientAuditDetails: Nullable(ClientAuditDetails),
  rowVersion: Type.Integer(),
  isDeleted: Type.Boolean(),
  auditDetails: AuditDetails,
});
export type Relationship = Static<typeof Relationship>;

export const HouseholdMemberInput = Type.Object(
  {
    id: Type.Optional(Nullable(Id)),
    tenantId: TenantId,
    clientReferenceId: Type.Optional(Nullable(ClientReferenceId)),
    householdId: Type.Optional(Nullable(Id)),
    householdClientReferenceId: Type.Optional(Nullable(ClientReferenceId)),
    individualId: Type.Optional(Nullable(Id)),
    individualClientReferenceId: Type.Optional(Nullable(ClientReferenceId)),
    isHeadOfHousehold: Type.Optional(Nullable(Type.Boolean())),
    memberRelationships: Type.Optional(Nullable(Type.Array(RelationshipInput, { maxItems: 100 }))),
    additionalFields: Type.Optional(Nullable(AdditionalFields)),
    clientAuditDetails: Type.Optional(Nullable(ClientAuditDetails)),
    rowVersion: Type.Optional(Nullable(RowVersion)),
    isDeleted: Type.Optional(Nullable(Type.Boolean())),
  },
  { additionalProperties: true },
);
export type HouseholdMemberInput = Static<typeof HouseholdMemberInput>;

export const HouseholdMemberRef = Type.Object(
  {
    id: Type.Optional(Nullable(Id)),
    tenantId: TenantId,
    clientReferenceId: Type.Optional(Nullable(ClientReferenceId)),
    rowVersion: Type.Optional(Nullable(RowVersion)),
  },
  { additionalProperties: true },
);
export type HouseholdMemberRef = Static<typeof HouseholdMemberRef>;

export const HouseholdMember = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  clientReferenceId: Type.String(),
  householdId: Nullable(Type.String({ description: 'null while the household has not arrived' })),
  householdClientReferenceId: Type.String(),
  individualId: Nullable(Type.String({ description: 'null while the individual has not arrived' })),
  individualClientReferenceId: Nullable(Type.String()),
  isHeadOfHousehold: Type.Boolean(),
  memberRelationships: Type.Array(Relationship),
  additionalFields: Nullable(AdditionalFields),
  clientAuditDetails: Nullable(ClientAuditDetails),
  rowVersion: Type.Integer(),
  isDeleted: Type.Boolean(),
  hasErrors: Type.Boolean(),
  auditDetails: AuditDetails,
});
export type HouseholdMember = Static<typeof HouseholdMember>;

export const HouseholdMemberRequest = Type.Object({ RequestInfo, HouseholdMember: HouseholdMemberInput });
export const HouseholdMemberDeleteRequest = Type.Object({ RequestInfo, HouseholdMember: HouseholdMemberRef });
export const HouseholdMemberBulkRequest = Type.Object({ RequestInfo, HouseholdMembers: LooseBatch });
export const HouseholdMemberResponse = Type.Object({ ResponseInfo, HouseholdMember });
export const HouseholdMemberBulkResponse = Type.Object({
  ResponseInfo,
  HouseholdMembers: Type.Array(HouseholdMember),
  Errors: Type.Array(RecordError),
});

export const HouseholdMemberSearch = Type.Object(
  {
    id: Type.Optional(Nullable(IdList)),
    clientReferenceId: Type.Optional(Nullable(IdList)),
    householdId: Type.Optional(Nullable(IdList)),
    householdClientReferenceId: Type.Optional(Nullable(IdList)),
    individualId: Type.Optional(Nullable(IdList)),
    individualClientReferenceId: Type.Optional(Nullable(IdList)),
    isHeadOfHousehold: Type.Optional(Nullable(Type.Boolean())),
    tenantId: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  },
  { additionalProperties: true },
);
export type HouseholdMemberSearch = Static<typeof HouseholdMemberSearch>;

export const HouseholdMemberSearchRequest = Type.Object({ RequestInfo, HouseholdMember: Type.Optional(Nullable(HouseholdMemberSearch)) });
export const HouseholdMemberSearchResponse = Type.Object({
  ResponseInfo,
  TotalCount: Type.Integer(),
  HouseholdMembers: Type.Array(HouseholdMember),
});

// ---------------------------------------------------------------------------------------------
// Sync status: children still waiting for a parent

export const SyncStatusCriteria = Type.Object(
  {
    tenantId: TenantId,
    /** The waiting children's own client reference ids, or their parents'; all waiting records when absent. */
    clientReferenceIds: Type.Optional(Nullable(IdList)),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type SyncStatusCriteria = Static<typeof SyncStatusCriteria>;

export const WaitingLink = Type.Object({
  entity: Type.Union([Type.Literal('HouseholdMember'), Type.Literal('Relationship')]),
  id: Type.String(),
  clientReferenceId: Nullable(Type.String()),
  /** The member the waiting relationship belongs to (relationships only). */
  memberClientReferenceId: Nullable(Type.String()),
  link: Type.Union([Type.Literal('household'), Type.Literal('individual'), Type.Literal('relative')]),
  parentClientReferenceId: Type.String(),
  /** Epoch ms: when the server accepted the child. */
  waitingSince: Type.Number(),
  /** Set when the parent has arrived but the link could not be made (e.g. the individual is already a member elsewhere). */
  problem: Nullable(Type.String()),
});
export type WaitingLink = Static<typeof WaitingLink>;

export const SyncStatusRequest = Type.Object({ RequestInfo, SyncStatusCriteria });
export const SyncStatusResponse = Type.Object({ ResponseInfo, TotalCount: Type.Integer(), WaitingLinks: Type.Array(WaitingLink) });

// ---------------------------------------------------------------------------------------------
// Downsync (DIGIT's beneficiary-downsync DownsyncCriteria)

export const DownsyncCriteria = Type.Object(
  {
    tenantId: TenantId,
    /** A boundary code of the tenant: the households whose address locality it is. */
    locality: Type.String({ minLength: 1, maxLength: 128 }),
    /** Epoch ms: only households that (or whose members) changed at or after it. */
    lastSyncedTime: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }))),
    includeDeleted: Type.Optional(Nullable(Type.Boolean())),
    offset: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 10_000_000 }))),
    limit: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 500 }))),
    /** The nextCursor of the previous page: resumes after it even if records changed meanwhile (takes precedence over offset). */
    cursor: Type.Optional(Nullable(Type.String({ maxLength: 512 }))),
    totalCount: Type.Optional(Nullable(Type.Integer())),
    projectId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    householdId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  },
  { additionalProperties: true },
);
export type DownsyncCriteria = Static<typeof DownsyncCriteria>;

export const DownsyncRequest = Type.Object({ RequestInfo, DownsyncCriteria });
export const DownsyncResponse = Type.Object({
  ResponseInfo,
  TotalCount: Type.Integer(),
  Downsync: Type.Object({
    DownsyncCriteria: Type.Object(
      {
        tenantId: Type.String(),
        locality: Type.String(),
        lastSyncedTime: Nullable(Type.Number()),
        includeDeleted: Type.Boolean(),
        offset: Type.Integer(),
        limit: Type.Integer(),
        totalCount: Type.Integer(),
        /** Where the next page starts; null on the last page. */
        nextOffset: Nullable(Type.Integer()),
        nextCursor: Nullable(Type.String()),
      },
      { additionalProperties: true },
    ),
    Households: Type.Array(Household),
    HouseholdMembers: Type.Array(HouseholdMember),
    Individuals: Type.Array(Type.Unknown()),
  }),
});
