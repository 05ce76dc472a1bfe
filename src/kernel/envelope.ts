import { Type, type Static } from 'typebox';
import type { ErrorDetail } from './errors.js';

/**
 * DIGIT's RequestInfo. Services never enforced its "required" fields and clients send nulls, so it
 * is read leniently: any object (or nothing), extra keys ignored.
 */
export const RequestInfo = Type.Optional(
  Type.Union([Type.Object({}, { additionalProperties: true, description: "DIGIT's request envelope" }), Type.Null()]),
);
export type RequestInfo = object | null | undefined;

export const ResponseInfo = Type.Object({
  apiId: Type.Union([Type.String(), Type.Null()]),
  ver: Type.Union([Type.String(), Type.Null()]),
  ts: Type.Union([Type.Number(), Type.Null()]),
  resMsgId: Type.String(),
  msgId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
});
export type ResponseInfo = Static<typeof ResponseInfo>;

function echo(value: unknown): string | null {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

/** As DIGIT's ResponseInfoFactory: echoes apiId, ver, ts and msgId; resMsgId carries our correlation id. */
export function responseInfo(requestInfo: RequestInfo, correlationId: string, status = 'successful'): ResponseInfo {
  const info = (requestInfo ?? {}) as Record<string, unknown>;
  const ts = info['ts'];
  return {
    apiId: echo(info['apiId']),
    ver: echo(info['ver']),
    ts: typeof ts === 'number' ? ts : Date.now(),
    resMsgId: correlationId,
    msgId: echo(info['msgId']),
    status,
  };
}

export const ErrorBody = Type.Object({
  ResponseInfo: Type.Null(),
  Errors: Type.Array(
    Type.Object({
      code: Type.String(),
      message: Type.String(),
      description: Type.Union([Type.String(), Type.Null()]),
      params: Type.Union([Type.Array(Type.String()), Type.Null()]),
    }),
  ),
});
export type ErrorBody = Static<typeof ErrorBody>;

export function errorBody(details: readonly ErrorDetail[]): ErrorBody {
  return {
    ResponseInfo: null,
    Errors: details.map((d) => ({
      code: d.code,
      message: d.message,
      description: d.description ?? null,
      params: d.params ?? null,
    })),
  };
}

/** Epoch-millisecond audit trail on every record, as DIGIT's AuditDetails. */
export const AuditDetails = Type.Object({
  createdBy: Type.Union([Type.String(), Type.Null()]),
  lastModifiedBy: Type.Union([Type.String(), Type.Null()]),
  createdTime: Type.Number(),
  lastModifiedTime: Type.Number(),
});
export type AuditDetails = Static<typeof AuditDetails>;

/** The audit columns every table carries, as DIGIT's AuditDetails. */
export type AuditColumns = { created_by: string | null; last_modified_by: string | null; created_time: number; last_modified_time: number };

export function auditDetailsOf(row: AuditColumns): AuditDetails {
  return {
    createdBy: row.created_by,
    lastModifiedBy: row.last_modified_by,
    createdTime: row.created_time,
    lastModifiedTime: row.last_modified_time,
  };
}
