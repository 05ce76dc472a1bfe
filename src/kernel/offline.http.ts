import type { FastifyReply } from 'fastify';
import { errorBody } from './envelope.js';
import { DomainError } from './errors.js';
import type { BulkResult } from './offline.batch.js';

/**
 * A single (non-bulk) call's one record: accepted, or its refusal as DIGIT's error body. A stale
 * rowVersion answers 409 with the server's current record next to the error (under `entityKey`,
 * e.g. "Task"), so the device can resolve.
 */
export function singleRecord<T>(reply: FastifyReply, result: BulkResult<T>, entityKey: string): T | undefined {
  const [error] = result.errors;
  if (error) {
    if (error.current !== undefined) {
      const body = errorBody([{ code: error.errorCode, message: error.errorMessage, params: error.id ? [error.id] : null }]);
      void reply.status(409).send({ ...body, [entityKey]: error.current });
      return undefined;
    }
    throw new DomainError('invalid', {
      code: error.errorCode,
      message: error.errorMessage,
      params: error.clientReferenceId ? [error.clientReferenceId] : null,
    });
  }
  return result.accepted[0];
}
