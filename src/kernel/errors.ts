/**
 * Domain errors carry DIGIT error codes; only the HTTP layer (kernel/http) turns their kind into a
 * status code. DIGIT answers almost every business error with 400, so `invalid` is the usual kind.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  /** Another request changed the record first (a lost race); retrying may succeed. */
  | 'conflict'
  | 'too_large'
  | 'too_many_requests'
  | 'not_implemented'
  /** A service the request needs (e.g. the S3 file storage) does not answer; retrying later may succeed. */
  | 'unavailable';

export type ErrorDetail = {
  code: string;
  message: string;
  description?: string | null;
  params?: string[] | null;
};

export class DomainError extends Error {
  readonly details: readonly ErrorDetail[];

  constructor(
    readonly kind: ErrorKind,
    details: ErrorDetail | readonly ErrorDetail[],
  ) {
    const list = Array.isArray(details) ? (details as readonly ErrorDetail[]) : [details as ErrorDetail];
    super(list.map((d) => `${d.code}: ${d.message}`).join('; '));
    this.name = 'DomainError';
    this.details = list;
  }

  get code(): string {
    return this.details[0]?.code ?? 'ERROR';
  }
}

/** Shorthand for the common case: one 400-class error. */
export function invalid(code: string, message: string, params?: string[]): DomainError {
  return new DomainError('invalid', { code, message, params: params ?? null });
}
