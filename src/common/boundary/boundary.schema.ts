import { Type, type Static } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb or pb.amritsar' });
const Code = Type.String({ minLength: 1, maxLength: 128, description: 'Boundary code, unique per tenant, e.g. SUN04' });
const TypeName = Type.String({ minLength: 1, maxLength: 64 });
const JsonObject = Type.Object({}, { additionalProperties: true });

// ---------------------------------------------------------------------------------------------
// Boundary entities

export const Boundary = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  code: Type.String(),
  geometry: Type.Unknown({ description: 'GeoJSON Point, Polygon or MultiPolygon, or null' }),
  auditDetails: AuditDetails,
  additionalDetails: Type.Unknown({ description: 'Any JSON object, or null' }),
});
export type Boundary = Static<typeof Boundary>;

export const BoundaryInput = Type.Object(
  {
    tenantId: TenantId,
    code: Code,
    geometry: Type.Optional(Nullable(Type.Unknown({ description: 'GeoJSON Point, Polygon or MultiPolygon ([longitude, latitude])' }))),
    additionalDetails: Type.Optional(Nullable(JsonObject)),
  },
  { additionalProperties: true },
);
export type BoundaryInput = Static<typeof BoundaryInput>;

export const BoundaryRequest = Type.Object({
  RequestInfo,
  Boundary: Type.Array(BoundaryInput, { minItems: 1, maxItems: 500 }),
});
export const BoundaryResponse = Type.Object({ ResponseInfo, Boundary: Type.Array(Boundary) });

/** Search criteria come as query parameters, as DIGIT's `@ModelAttribute` (`?tenantId=pb.amritsar&codes=SUN04,SUN11`). */
export const BoundarySearchQuery = Type.Object({
  tenantId: TenantId,
  codes: Type.Optional(Type.Array(Type.String({ maxLength: 20_000 }), { maxItems: 100, description: 'Comma-separated, or repeated' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
});
export type BoundarySearchQuery = Static<typeof BoundarySearchQuery>;

/** Search bodies carry only the envelope. */
export const EnvelopeOnly = Type.Object({ RequestInfo }, { additionalProperties: true });

// ---------------------------------------------------------------------------------------------
// Hierarchy definitions

export const BoundaryTypeLevel = Type.Object({
  boundaryType: Type.String(),
  parentBoundaryType: Nullable(Type.String()),
  active: Type.Boolean(),
});

export const BoundaryHierarchy = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  hierarchyType: Type.String(),
  boundaryHierarchy: Type.Array(BoundaryTypeLevel),
  auditDetails: AuditDetails,
});
export type BoundaryHierarchy = Static<typeof BoundaryHierarchy>;

export const BoundaryHierarchyInput = Type.Object(
  {
    tenantId: TenantId,
    hierarchyType: TypeName,
    boundaryHierarchy: Type.Array(
      Type.Object(
        {
          boundaryType: TypeName,
          parentBoundaryType: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
          active: Type.Optional(Nullable(Type.Boolean())),
        },
        { additionalProperties: true },
      ),
      { minItems: 1, maxItems: 50 },
    ),
  },
  { additionalProperties: true },
);
export type BoundaryHierarchyInput = Static<typeof BoundaryHierarchyInput>;

export const BoundaryHierarchyRequest = Type.Object({ RequestInfo, BoundaryHierarchy: BoundaryHierarchyInput });
export const BoundaryHierarchyResponse = Type.Object({
  ResponseInfo,
  totalCount: Type.Optional(Type.Integer()),
  BoundaryHierarchy: Type.Array(BoundaryHierarchy),
});

export const HierarchySearchCriteria = Type.Object(
  {
    tenantId: TenantId,
    hierarchyType: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: true },
);
export type HierarchySearchCriteria = Static<typeof HierarchySearchCriteria>;
export const HierarchySearchRequest = Type.Object({ RequestInfo, BoundaryTypeHierarchySearchCriteria: HierarchySearchCriteria });

// ---------------------------------------------------------------------------------------------
// Relationships

export const BoundaryRelation = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  code: Type.String(),
  hierarchyType: Type.String(),
  boundaryType: Type.String(),
  parent: Nullable(Type.String()),
  auditDetails: AuditDetails,
});
export type BoundaryRelation = Static<typeof BoundaryRelation>;

export const BoundaryRelationInput = Type.Object(
  {
    tenantId: TenantId,
    code: Code,
    hierarchyType: TypeName,
    boundaryType: TypeName,
    parent: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
  },
  { additionalProperties: true },
);
export type BoundaryRelationInput = Static<typeof BoundaryRelationInput>;

export const BoundaryRelationshipRequest = Type.Object({ RequestInfo, BoundaryRelationship: BoundaryRelationInput });
export const BoundaryRelationshipResponse = Type.Object({ ResponseInfo, TenantBoundary: Type.Array(BoundaryRelation) });

export const RelationshipSearchQuery = Type.Object({
  tenantId: TenantId,
  hierarchyType: Type.String({ minLength: 1, maxLength: 64 }),
  boundaryType: Type.Optional(Type.String({ maxLength: 64 })),
  codes: Type.Optional(Type.Array(Type.String({ maxLength: 20_000 }), { maxItems: 100, description: 'Comma-separated, or repeated' })),
  parent: Type.Optional(Type.String({ maxLength: 128 })),
  includeChildren: Type.Optional(Type.Boolean({ default: false })),
  includeParents: Type.Optional(Type.Boolean({ default: false })),
});
export type RelationshipSearchQuery = Static<typeof RelationshipSearchQuery>;

export const TenantBoundary = Type.Object({
  tenantId: Type.String(),
  hierarchyType: Type.String(),
  boundary: Type.Array(Type.Unknown({ description: 'EnrichedBoundary {id, code, boundaryType, children[]}' })),
});
export type TenantBoundary = Static<typeof TenantBoundary>;
export const RelationshipSearchResponse = Type.Object({ ResponseInfo, TenantBoundary: Type.Array(TenantBoundary) });
