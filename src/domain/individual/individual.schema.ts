import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { RequestInfo } from '../../kernel/envelope.js';
import { AdditionalFields, ClientAuditDetails, ClientReferenceId, OfflineSearchParams } from '../../kernel/offline.js';

/**
 * DIGIT's Individual (health-campaign-services `models/individual/Individual.java`), read
 * leniently as the field app sends it: every optional field may be null, unknown keys are ignored.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Opt = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));
const Str = (min: number, max: number) => Type.String({ minLength: min, maxLength: max });
const Id = Str(1, 64);
const lenient = { additionalProperties: true } as const;

const AuditDetailsIn = Type.Object(
  {
    createdBy: Opt(Type.String({ maxLength: 256 })),
    lastModifiedBy: Opt(Type.String({ maxLength: 256 })),
    createdTime: Opt(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    lastModifiedTime: Opt(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  },
  lenient,
);

export const GENDERS = ['MALE', 'FEMALE', 'OTHER', 'TRANSGENDER'] as const;
export const BLOOD_GROUPS = ['A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-'] as const;
export const ADDRESS_TYPES = ['PERMANENT', 'CORRESPONDENCE', 'OTHER'] as const;

export const Name = Type.Object({ givenName: Opt(Str(2, 200)), familyName: Opt(Str(2, 200)), otherNames: Opt(Str(0, 200)) }, lenient);
export type Name = Static<typeof Name>;

/** DIGIT's Boundary reference inside an address: only the code matters here. */
const BoundaryRef = Type.Object(
  {
    id: Opt(Id),
    tenantId: Opt(Str(1, 256)),
    code: Str(1, 64),
    geometry: Type.Optional(Type.Unknown()),
    additionalDetails: Type.Optional(Type.Unknown()),
  },
  lenient,
);

export const Address = Type.Object(
  {
    id: Opt(Id),
    clientReferenceId: Opt(ClientReferenceId),
    individualId: Opt(Id),
    tenantId: Opt(Str(1, 256)),
    doorNo: Opt(Str(0, 64)),
    latitude: Opt(Type.Number({ minimum: -90, maximum: 90 })),
    longitude: Opt(Type.Number({ minimum: -180, maximum: 180 })),
    locationAccuracy: Opt(Type.Number({ minimum: 0, maximum: 10_000_000 })),
    type: Type.Union(ADDRESS_TYPES.map((t) => Type.Literal(t))),
    addressLine1: Opt(Str(0, 256)),
    addressLine2: Opt(Str(0, 256)),
    landmark: Opt(Str(0, 256)),
    city: Opt(Str(0, 256)),
    pincode: Opt(Str(0, 64)),
    buildingName: Opt(Str(0, 256)),
    street: Opt(Str(0, 256)),
    locality: Opt(BoundaryRef),
    ward: Opt(BoundaryRef),
    isDeleted: Opt(Type.Boolean()),
    auditDetails: Opt(AuditDetailsIn),
  },
  lenient,
);
export type Address = Static<typeof Address>;

export const Identifier = Type.Object(
  {
    id: Opt(Id),
    clientReferenceId: Opt(ClientReferenceId),
    individualId: Opt(Id),
    individualClientReferenceId: Opt(ClientReferenceId),
    identifierType: Str(2, 64),
    identifierId: Str(2, 64),
    isDeleted: Opt(Type.Boolean()),
    auditDetails: Opt(AuditDetailsIn),
  },
  lenient,
);
export type Identifier = Static<typeof Identifier>;

export const Skill = Type.Object(
  {
    id: Opt(Id),
    clientReferenceId: Opt(ClientReferenceId),
    individualId: Opt(Id),
    type: Opt(Str(0, 256)),
    level: Opt(Str(0, 256)),
    experience: Opt(Str(0, 256)),
    isDeleted: Opt(Type.Boolean()),
    auditDetails: Opt(AuditDetailsIn),
  },
  lenient,
);
export type Skill = Static<typeof Skill>;

export const IndividualInput = Type.Object(
  {
    id: Opt(Id),
    tenantId: Str(1, 256),
    clientReferenceId: Opt(ClientReferenceId),
    individualId: Opt(Str(2, 64)),
    userId: Opt(Str(0, 64)),
    userUuid: Opt(Str(0, 64)),
    name: Name,
    // dd/MM/yyyy, checked as a real date after masked values sent back are restored (update).
    dateOfBirth: Opt(Str(0, 10)),
    gender: Opt(Type.Union(GENDERS.map((g) => Type.Literal(g)))),
    bloodGroup: Opt(Type.Union(BLOOD_GROUPS.map((g) => Type.Literal(g)))),
    mobileNumber: Opt(Str(0, 20)),
    altContactNumber: Opt(Str(0, 16)),
    email: Opt(Str(5, 200)),
    fatherName: Opt(Str(0, 100)),
    husbandName: Opt(Str(0, 100)),
    relationship: Opt(Str(1, 100)),
    photo: Opt(Str(0, 2048)),
    address: Opt(Type.Array(Address, { maxItems: 3 })),
    identifiers: Opt(Type.Array(Identifier, { maxItems: 20 })),
    skills: Opt(Type.Array(Skill, { maxItems: 50 })),
    isDeleted: Opt(Type.Boolean()),
    isSystemUser: Opt(Type.Boolean()),
    isSystemUserActive: Opt(Type.Boolean()),
    rowVersion: Opt(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
    source: Opt(Str(0, 256)),
    applicationId: Opt(Str(0, 256)),
    hasErrors: Opt(Type.Boolean()),
    additionalFields: Opt(AdditionalFields),
    auditDetails: Opt(AuditDetailsIn),
    clientAuditDetails: Opt(ClientAuditDetails),
    userDetails: Type.Optional(Type.Unknown()),
  },
  lenient,
);
export type IndividualInput = Static<typeof IndividualInput>;

/** Per-record validation for bulk calls: one bad record must not refuse its batch. */
export const individualValidator = Compile(IndividualInput);

/** `Individuals/3/name/givenName` style messages for a refused record. */
export function schemaProblems(value: unknown): string[] {
  return individualValidator
    .Errors(value)
    .slice(0, 5)
    .map((e) => `${e.instancePath === '' ? 'the record' : e.instancePath.slice(1).replaceAll('/', '.')} ${e.message}`);
}

export const MAX_BATCH = 1000;

/** A bulk body: records are checked one by one in the service so each gets its own answer. */
export const BulkIndividualsRequest = Type.Object({
  RequestInfo,
  Individuals: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH }),
});
export type BulkIndividualsRequest = Static<typeof BulkIndividualsRequest>;

export const SingleIndividualRequest = Type.Object({ RequestInfo, Individual: IndividualInput });
export type SingleIndividualRequest = Static<typeof SingleIndividualRequest>;

const StrList = Opt(Type.Array(Str(1, 256), { maxItems: 1000 }));

/** DIGIT's IndividualSearch; personal fields are matched exactly through blind indexes. */
export const IndividualSearch = Type.Object(
  {
    id: StrList,
    clientReferenceId: StrList,
    individualId: StrList,
    name: Opt(Name),
    individualName: Opt(Str(1, 200)),
    mobileNumber: StrList,
    identifier: Opt(Type.Object({ identifierType: Str(2, 64), identifierId: Str(2, 64) }, lenient)),
    gender: Opt(Type.Union(GENDERS.map((g) => Type.Literal(g)))),
    boundaryCode: Opt(Str(1, 64)),
    wardCode: Opt(Str(1, 64)),
    userId: StrList,
    userUuid: StrList,
    createdFrom: Opt(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    createdTo: Opt(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  },
  lenient,
);
export type IndividualSearch = Static<typeof IndividualSearch>;

export const SearchRequest = Type.Object({ RequestInfo, Individual: Opt(IndividualSearch) });
export type SearchRequest = Static<typeof SearchRequest>;

export { OfflineSearchParams };

/** The stored Individual as answered (after decryption and masking); kept loose for the answer. */
export type IndividualOut = Record<string, unknown> & { id: string; tenantId: string; rowVersion: number; isDeleted: boolean };

export const IndividualResponseSchema = Type.Object({}, { additionalProperties: true });
