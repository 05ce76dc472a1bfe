import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilestoreS3Config } from '../../kernel/config.js';
import { DomainError } from '../../kernel/errors.js';
import { s3BlobStore } from './filestore.s3.js';

// s3rver ships no types: the little of it used here.
type S3rver = { run(): Promise<{ port: number }>; close(): Promise<void> };
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => S3rver;

const BUCKET = 'plinth-files';
let server: S3rver;
let directory: string;
let config: FilestoreS3Config;
let store: ReturnType<typeof s3BlobStore>;

/** A port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  directory = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-s3-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  config = {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: BUCKET,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
  };
  store = s3BlobStore(config);
});
afterAll(async () => {
  store.close();
  await server.close();
  await fs.rm(directory, { recursive: true, force: true });
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('s3BlobStore', () => {
  it('stores bytes under a key and streams them back, in chunks rather than one buffer', async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const key = 'pb.amritsar/2026/01/0199aaaa-0000-7000-8000-000000000001';
    await store.put(key, bytes);
    const stream = await store.read(key);
    expect(stream).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(chunks.length).toBeGreaterThan(1);
    const back = Buffer.concat(chunks);
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('knows which keys exist, keeps thumbnails apart from their original, and removes one without the others', async () => {
    const key = 'pb.amritsar/2026/01/0199aaaa-0000-7000-8000-000000000002';
    await store.put(key, Buffer.from('original'));
    await store.put(`${key}_small`, Buffer.from('small'));
    expect(await store.exists(key)).toBe(true);
    expect(await store.exists(`${key}_small`)).toBe(true);
    expect(await store.exists(`${key}_large`)).toBe(false);

    await store.remove(`${key}_small`);
    expect(await store.exists(`${key}_small`)).toBe(false);
    expect((await readAll(await store.read(key))).toString()).toBe('original');
    // Removing what is already gone succeeds, as on disk (the cleanup may run twice).
    await store.remove(`${key}_small`);
  });

  it('replaces an object as a whole when a key is written again', async () => {
    const key = 'pb/2026/02/0199aaaa-0000-7000-8000-000000000003';
    await store.put(key, Buffer.from('first version, longer'));
    await store.put(key, Buffer.from('second'));
    expect((await readAll(await store.read(key))).toString()).toBe('second');
  });

  it('fails to read a missing key (not a 503: the storage answered)', async () => {
    const error = await store.read('pb/2026/01/missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(DomainError);
  });

  it('answers 503 FILESTORE_UNAVAILABLE when the server cannot be reached, for every call', async () => {
    const down = s3BlobStore({ ...config, endpoint: `http://127.0.0.1:${await closedPort()}` });
    try {
      for (const call of [() => down.put('pb/x', Buffer.from('x')), () => down.read('pb/x'), () => down.exists('pb/x'), () => down.remove('pb/x')]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(DomainError);
        expect(error).toMatchObject({ kind: 'unavailable', code: 'FILESTORE_UNAVAILABLE' });
      }
    } finally {
      down.close();
    }
  });

  it('keeps configuration faults (unknown access key, missing bucket) as plain errors, not 503', async () => {
    // s3rver checks the access key id but not v4 signatures: an unknown key stands for wrong credentials.
    const wrongKey = s3BlobStore({ ...config, credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'S3RVER' } });
    const noBucket = s3BlobStore({ ...config, bucket: 'no-such-bucket' });
    try {
      for (const attempt of [() => wrongKey.put('pb/y', Buffer.from('y')), () => noBucket.put('pb/y', Buffer.from('y'))]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(DomainError);
      }
      // Nothing was stored by the refused writes.
      expect(await store.exists('pb/y')).toBe(false);
    } finally {
      wrongKey.close();
      noBucket.close();
    }
  });
});
