import { Type, type Static } from 'typebox';

/**
 * What every record synced from offline devices shares (DIGIT's EgovOfflineModel): the device's
 * own id for it, the device's audit times, an optimistic-lock version and a soft-delete flag.
 * Registries (individual, household, …) build their schemas and bulk answers from these pieces so
 * a field app sees one behaviour everywhere.
 */

/** DIGIT's typed key/value extension bag. */
export const AdditionalFields = Type.Object(
  {
    schema: Type.Optional(Type.Union([Type.String({ minLength: 2, maxLength: 64 }), Type.Null()])),
    version: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()])),
    fields: Type.Optional(
      Type.Union([
        Type.Array(
          Type.Object({ key: Type.String({ minLength: 1, maxLength: 512 }), value: Type.String({ minLength: 1, maxLength: 10_000 }) }),
          {
            maxItems: 200,
          },
        ),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);
export type AdditionalFields = Static<typeof AdditionalFields>;

const epochMs = Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()]);

/** The device-side created/modified by and time: kept as sent, never used for ordering. */
export const ClientAuditDetails = Type.Object(
  {
    createdBy: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    lastModifiedBy: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    createdTime: Type.Optional(epochMs),
    lastModifiedTime: Type.Optional(epochMs),
  },
  { additionalProperties: false },
);
export type ClientAuditDetails = Static<typeof ClientAuditDetails>;

/** A device's id for a record: unique per tenant and record type. */
export const ClientReferenceId = Type.String({ minLength: 2, maxLength: 64 });

/** DIGIT's URLParams of every registry search, in the query string. */
export const OfflineSearchParams = Type.Object({
  tenantId: Type.String({ minLength: 1, maxLength: 256 }),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 })),
  /** Epoch ms: only records changed at or after it (incremental download). */
  lastChangedSince: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  includeDeleted: Type.Optional(Type.Boolean({ default: false })),
});
export type OfflineSearchParams = Static<typeof OfflineSearchParams>;

/**
 * One refused record of a bulk call. `index` is its position in the request; `current` carries
 * the server's record when the refusal is ROW_VERSION_MISMATCH, so the device can resolve.
 */
export const RecordError = Type.Object({
  index: Type.Integer(),
  clientReferenceId: Type.Union([Type.String(), Type.Null()]),
  id: Type.Union([Type.String(), Type.Null()]),
  errorCode: Type.String(),
  errorMessage: Type.String(),
  current: Type.Optional(Type.Unknown()),
});
export type RecordError = Static<typeof RecordError>;

/** Why a record of a batch was refused; the rest of the batch still lands. */
export type Refusal = { readonly code: string; readonly message: string; readonly current?: unknown };

export function recordError(
  index: number,
  record: { clientReferenceId?: string | null; id?: string | null } | undefined,
  refusal: Refusal,
): RecordError {
  return {
    index,
    clientReferenceId: record?.clientReferenceId ?? null,
    id: record?.id ?? null,
    errorCode: refusal.code,
    errorMessage: refusal.message,
    ...(refusal.current === undefined ? {} : { current: refusal.current }),
  };
}

/**
 * Splits a batch by a key (clientReferenceId on create, id on update): the first record with a
 * key is kept, later ones are refused with `code` (DIGIT v2.1: first kept, the rest per record).
 * Records without the key are kept; validation refuses them if the key is required.
 */
export function firstOfEachKey<T>(
  records: readonly T[],
  keyOf: (record: T) => string | null | undefined,
  code: string,
): { kept: Array<{ index: number; record: T }>; refused: Array<{ index: number; record: T; refusal: Refusal }> } {
  const seen = new Set<string>();
  const kept: Array<{ index: number; record: T }> = [];
  const refused: Array<{ index: number; record: T; refusal: Refusal }> = [];
  records.forEach((record, index) => {
    const key = keyOf(record);
    if (key === null || key === undefined) {
      kept.push({ index, record });
    } else if (seen.has(key)) {
      refused.push({ index, record, refusal: { code, message: `"${key}" appears more than once in this batch; the first one was kept` } });
    } else {
      seen.add(key);
      kept.push({ index, record });
    }
  });
  return { kept, refused };
}

/** Optimistic lock: the device must send the version it last saw. */
export function rowVersionRefusal(sent: number | null | undefined, stored: number, current: unknown): Refusal | undefined {
  if (sent === stored) return undefined;
  return {
    code: 'ROW_VERSION_MISMATCH',
    message: `rowVersion ${sent ?? 'missing'} is not the stored version ${stored}; search the record, resolve and send it again`,
    current,
  };
}
