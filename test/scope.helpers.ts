import { expect } from 'vitest';
import { errorBody } from '../src/kernel/envelope.js';
import { DomainError, type ErrorKind } from '../src/kernel/errors.js';
import { isDigitError } from './helpers.js';

/**
 * Awaits a store or service call that must be refused, and checks the refusal as the HTTP layer
 * would answer it: a DomainError of `kind` (403 for `forbidden`), rendered in DIGIT's error shape
 * (`{ResponseInfo: null, Errors: [{code, message, …}]}`). Answers the error's first code.
 */
export async function expectRefusal(work: Promise<unknown>, kind: ErrorKind = 'forbidden'): Promise<string> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the call was not refused').toBeInstanceOf(DomainError);
  const refusal = error as DomainError;
  expect(refusal.kind, refusal.message).toBe(kind);
  expect(isDigitError(errorBody(refusal.details))).toBe(true);
  return refusal.code;
}

/** A refusal because the stored record lies outside the caller's scope (kernel/scope.ts outOfScope). */
export async function expectOutOfScope(work: Promise<unknown>): Promise<void> {
  expect(await expectRefusal(work, 'forbidden')).toBe('CustomException');
}
