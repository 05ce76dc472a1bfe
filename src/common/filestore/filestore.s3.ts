import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { FilestoreS3Config } from '../../kernel/config.js';
import { DomainError } from '../../kernel/errors.js';
import type { BlobStore } from './filestore.blob.js';

/** Waits for a connection and for each read on a socket; a silent server fails the request rather than hang it. */
const CONNECT_TIMEOUT_MS = 5_000;
const SOCKET_TIMEOUT_MS = 30_000;

/**
 * The storage could not be reached or answered 5xx: 503 to the caller (DIGIT's error shape), the
 * cause in the log. Other S3 answers (no such bucket, access denied) are configuration faults and
 * stay plain errors (500, logged).
 */
function unavailable(error: unknown): unknown {
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  const unreachable = !(error instanceof S3ServiceException) || status === undefined || status >= 500;
  if (!unreachable) return error;
  const wrapped = new DomainError('unavailable', { code: 'FILESTORE_UNAVAILABLE', message: 'The file storage is not reachable; try again later' });
  wrapped.cause = error;
  return wrapped;
}

const isNotFound = (error: unknown) => error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404 && (error.name === 'NotFound' || error.name === 'NoSuchKey');

/**
 * Bytes in an S3-compatible bucket (AWS, MinIO, …) under the same keys as on disk. A PUT is
 * atomic in S3: an object is visible only once its upload completed, as the disk store's rename.
 */
export function s3BlobStore(config: FilestoreS3Config): BlobStore & { close(): void } {
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    // Unset: the SDK's default chain (environment, shared profile, instance or task role).
    credentials: config.credentials,
    // Checksums only where S3 requires them (Content-MD5 is sent below): many S3-compatible
    // servers do not understand the SDK's newer default (CRC32 trailers).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: SOCKET_TIMEOUT_MS },
  });
  const Bucket = config.bucket;
  const send = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw unavailable(error);
    }
  };
  return {
    async put(key, body) {
      // One buffer, not a stream: the SDK can retry a request only with a body it can send again.
      // (An upload is whole in memory already; its encrypted copy is the same size.)
      const Body = Buffer.isBuffer(body) ? body : Buffer.concat([...body.chunks()], body.length);
      // The server checks the MD5: a body damaged in transit is refused, not stored.
      const ContentMD5 = createHash('md5').update(Body).digest('base64');
      await send(() => client.send(new PutObjectCommand({ Bucket, Key: key, Body, ContentLength: Body.length, ContentMD5, ContentType: 'application/octet-stream' })));
    },
    async read(key) {
      // The body streams from S3 to the caller; nothing is buffered whole.
      const answer = await send(() => client.send(new GetObjectCommand({ Bucket, Key: key })));
      if (!answer.Body) throw new Error(`S3 answered no body for ${key}`);
      return answer.Body as Readable;
    },
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw unavailable(error);
      }
    },
    async remove(key) {
      // S3 answers a DELETE of a missing key with success, as the disk store's `rm --force`.
      await send(() => client.send(new DeleteObjectCommand({ Bucket, Key: key })));
    },
    close() {
      client.destroy();
    },
  };
}
