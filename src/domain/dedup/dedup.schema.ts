import { Type, type Static } from 'typebox';
import { AuditDetails, RequestInfo, ResponseInfo } from '../../kernel/envelope.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const TenantId = Type.String({ minLength: 1, maxLength: 256, description: 'Dot-separated tenant id, e.g. pb.amritsar' });
const Program = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_.-]+$',
  description: 'Deduplication program (MDMS Dedup.Config); default: the configured default',
});
const Offset = Type.Integer({ minimum: 0, maximum: 10_000_000 });
const ReviewStatus = Type.Union([Type.Literal('PENDING'), Type.Literal('DUPLICATE'), Type.Literal('NOT_DUPLICATE')]);
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Text = (maxLength: number) => Type.Optional(Nullable(Type.String({ maxLength })));

export const Review = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  program: Type.String(),
  recordId: Type.String({ description: 'The record whose registration found the match' }),
  matchId: Type.String({ description: 'The existing record it resembles' }),
  score: Type.Number({ description: 'Match probability of the two encodings, 0–1 (clk.ts similarity)' }),
  status: ReviewStatus,
  decidedBy: Nullable(Type.String()),
  decidedTime: Nullable(Type.Number()),
  comment: Nullable(Type.String()),
  auditDetails: AuditDetails,
});
export type Review = Static<typeof Review>;

export const ReviewSearchRequest = Type.Object(
  {
    RequestInfo,
    ReviewSearch: Type.Object(
      {
        tenantId: TenantId,
        program: Type.Optional(Nullable(Program)),
        status: Type.Optional(Nullable(ReviewStatus)),
        ids: Type.Optional(Nullable(Type.Array(Id, { maxItems: 100 }))),
        recordIds: Type.Optional(
          Nullable(Type.Array(Id, { maxItems: 100, description: 'Reviews where any of these records is either side' })),
        ),
        offset: Type.Optional(Nullable(Offset)),
        limit: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1000 }))),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);
export type ReviewSearchRequest = Static<typeof ReviewSearchRequest>;

export const ReviewSearchResponse = Type.Object({ ResponseInfo, TotalCount: Type.Integer(), Reviews: Type.Array(Review) });

export const DecideRequest = Type.Object(
  {
    RequestInfo,
    Review: Type.Object(
      {
        tenantId: TenantId,
        id: Id,
        status: Type.Union([Type.Literal('DUPLICATE'), Type.Literal('NOT_DUPLICATE')]),
        comment: Text(2000),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);
export type DecideRequest = Static<typeof DecideRequest>;

export const DecideResponse = Type.Object({
  ResponseInfo,
  Review,
  linkId: Nullable(Type.String({ description: 'The link recorded for a DUPLICATE decision (the records are linked, never deleted)' })),
});

const Name = Type.Object({ givenName: Text(200), familyName: Text(200), otherNames: Text(200) }, { additionalProperties: true });
const Address = Type.Object(
  {
    locality: Type.Optional(
      Nullable(Type.Object({ code: Type.Optional(Nullable(Type.String({ maxLength: 64 }))) }, { additionalProperties: true })),
    ),
  },
  { additionalProperties: true },
);

/** The identifying parts of DIGIT's Individual; other fields are accepted and ignored. */
export const CheckRequest = Type.Object(
  {
    RequestInfo,
    program: Type.Optional(Nullable(Program)),
    Individual: Type.Object(
      {
        tenantId: TenantId,
        name: Type.Optional(Nullable(Name)),
        dateOfBirth: Text(32),
        gender: Text(32),
        mobileNumber: Text(32),
        address: Type.Optional(Nullable(Type.Array(Address, { maxItems: 3 }))),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);
export type CheckRequest = Static<typeof CheckRequest>;

const Candidate = Type.Object({ recordId: Type.String(), score: Type.Number() });

export const CheckResponse = Type.Object({
  ResponseInfo,
  program: Type.String(),
  threshold: Type.Number(),
  Candidates: Type.Array(Candidate),
});

export const EncodingSearchRequest = Type.Object(
  {
    RequestInfo,
    EncodingSearch: Type.Object(
      {
        tenantId: TenantId,
        program: Type.Optional(Nullable(Program)),
        localities: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
          minItems: 1,
          maxItems: 200,
          description: 'Locality boundary codes',
        }),
        lastChangedSince: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }))),
        includeDeleted: Type.Optional(Nullable(Type.Boolean())),
        offset: Type.Optional(Nullable(Offset)),
        limit: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 5000 }))),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: true },
);
export type EncodingSearchRequest = Static<typeof EncodingSearchRequest>;

/** What a device needs to compare encodings as the server does (clk.ts CLK_SCHEME); none of it is secret. */
const EncodingScheme = Type.Object({
  id: Type.String({ description: 'Encodings of another scheme are not comparable' }),
  bits: Type.Integer(),
  segments: Type.Record(Type.String(), Type.Array(Type.Integer(), { minItems: 2, maxItems: 2 }), {
    description: "Each field's Bloom filter: 32-bit words [from, to) of the encoding",
  }),
  bias: Type.Number({ description: 'Match weight (log-odds) of a pair before any term' }),
  weights: Type.Record(Type.String(), Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 })), {
    description: 'Per term, [similarity, weight] knots interpolated linearly; the score is 1 / (1 + e^-(bias + Σ weights))',
  }),
});

export const EncodingSearchResponse = Type.Object({
  ResponseInfo,
  TotalCount: Type.Integer(),
  program: Type.String(),
  threshold: Type.Number(),
  scheme: EncodingScheme,
  Encodings: Type.Array(
    Type.Object({
      recordId: Type.String(),
      locality: Nullable(Type.String()),
      clk: Type.String({ description: 'The encoding: 32 little-endian 32-bit words, base64 (empty for a deleted record)' }),
      blocks: Type.String({ description: 'Keyed blocking keys, 32-bit words, base64' }),
      isDeleted: Type.Boolean(),
      lastModifiedTime: Type.Number(),
    }),
  ),
});

export const KeyRequest = Type.Object(
  { RequestInfo, tenantId: TenantId, program: Type.Optional(Nullable(Program)) },
  { additionalProperties: true },
);
export type KeyRequest = Static<typeof KeyRequest>;

export const KeyResponse = Type.Object({
  ResponseInfo,
  program: Type.String(),
  threshold: Type.Number(),
  scheme: EncodingScheme,
  stateTenantId: Type.String({ description: 'Keys belong to the state tenant: one key serves all its cities' }),
  key: Type.String({
    description: "The program's 32-byte encoding key, base64. Keep it on the device only; it opens this program's encodings and no other",
  }),
});
