import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import type { FilestoreS3Config } from '../../kernel/config.js';

// The file store's HTTP flows with the bytes in S3 (a real s3rver), down to S3 failing.

type S3rver = { run(): Promise<{ port: number }>; close(): Promise<void> };
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: Record<string, unknown>) => S3rver;

const BUCKET = 'plinth-files';
let server: S3rver;
let directory: string;
let s3: FilestoreS3Config;
let client: S3Client;
let platform: TestPlatform;
let amritsar: Record<string, string>;

beforeAll(async () => {
  directory = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-s3-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  s3 = { endpoint: `http://127.0.0.1:${port}`, bucket: BUCKET, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, forcePathStyle: true };
  client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials });
  platform = await testPlatform({ config: { filestoreS3: s3 } });
  amritsar = await employeeAuth(platform, await adminAuth(platform), 'fs3_amritsar', ['EMPLOYEE'], 'pb.amritsar');
});
afterAll(async () => {
  await platform.drop();
  client.destroy();
  await server.close().catch(() => undefined);
  await fs.rm(directory, { recursive: true, force: true });
});

function multipart(fields: Record<string, string>, files: Array<{ fileName: string; contentType: string; bytes: Buffer }>) {
  const boundary = `----plinth${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  for (const f of files) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.fileName}"\r\nContent-Type: ${f.contentType}\r\n\r\n`), f.bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function upload(tag: string, files: Array<{ fileName: string; contentType: string; bytes: Buffer }>) {
  const { payload, headers } = multipart({ tenantId: 'pb.amritsar', module: 'PGR', tag }, files);
  const response = await platform.app.inject({ method: 'POST', url: '/filestore/v1/files', payload, headers: { ...headers, ...amritsar } });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

/** Every key in the bucket. */
async function objects(): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
}

const fileRows = async () => Number((await sql<{ n: number | string }>`select count(*) as n from filestore_file`.execute(platform.database.kysely)).rows[0]!.n);
const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#c33' } }).jpeg().toBuffer();
const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const get = (url: string, auth: Record<string, string> = {}) => platform.app.inject({ method: 'GET', url, headers: auth });
const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;

describe('file store on S3', () => {
  let photoId: string;
  let pdfId: string;

  it('stores an upload and its thumbnails in the bucket, nothing on disk', async () => {
    const { status, body } = await upload('s3-1', [
      { fileName: 'pole.jpg', contentType: 'image/jpeg', bytes: jpeg },
      { fileName: 'letter.pdf', contentType: 'application/pdf', bytes: pdf },
    ]);
    expect(status, JSON.stringify(body)).toBe(200);
    [photoId, pdfId] = (body['files'] as Array<{ fileStoreId: string }>).map((f) => f.fileStoreId) as [string, string];
    const keys = await objects();
    const year = String(new Date().getFullYear());
    expect(keys.filter((k) => k.includes(photoId)).sort()).toEqual(
      ['', '_large', '_medium', '_small'].map((v) => expect.stringMatching(new RegExp(`^pb\\.amritsar/${year}/\\d{2}/${photoId}${v}$`))),
    );
    expect(keys.filter((k) => k.includes(pdfId))).toHaveLength(1);
    await expect(fs.access(path.join(platform.config.dataDir, 'files'))).rejects.toThrow();
    // The bucket holds ciphertext only (#14 Build 4): nothing of the PDF's text, nor of the photo.
    for (const key of keys.filter((k) => k.includes(pdfId) || k.includes(photoId))) {
      const stored = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
      expect(stored.subarray(0, 7).toString('ascii'), key).toBe('PLNTHFS');
      expect(stored.includes(Buffer.from('/Type /Catalog')), key).toBe(false);
      expect(stored.includes(jpeg.subarray(100, 200)), key).toBe(false);
    }
  });

  it('answers metadata, signed urls and downloads from S3 (original, thumbnail, by id)', async () => {
    const meta = await get(`/filestore/v1/files/metadata?tenantId=pb.amritsar&fileStoreId=${photoId}`, amritsar);
    expect(meta.statusCode).toBe(200);
    expect(meta.json()).toMatchObject({ fileName: 'pole.jpg', contentType: 'image/jpeg', fileSize: jpeg.length, tag: 's3-1', owner: null });

    const urls = await get(`/filestore/v1/files/url?tenantId=pb.amritsar&fileStoreIds=${photoId},${pdfId}`, amritsar);
    expect(urls.statusCode).toBe(200);
    const body = urls.json() as Record<string, string>;
    const photoUrls = body[photoId]!.split(',');
    expect(photoUrls).toHaveLength(4);
    // Plinth's own signed links, never the bucket's.
    expect([...photoUrls, body[pdfId]!].every((u) => u.startsWith(`${platform.config.publicUrl}/filestore/v1/files/download/`))).toBe(true);

    const original = await get(pathOf(photoUrls[0]!));
    expect(original.statusCode).toBe(200);
    expect(original.headers['content-type']).toBe('image/jpeg');
    expect(original.rawPayload.equals(jpeg)).toBe(true);
    const small = await get(pathOf(photoUrls.find((u) => u.includes('_small'))!));
    expect(small.statusCode).toBe(200);
    expect((await sharp(small.rawPayload).metadata()).width).toBe(100);
    const byId = await get(`/filestore/v1/files/id?tenantId=pb.amritsar&fileStoreId=${pdfId}`, amritsar);
    expect(byId.statusCode).toBe(200);
    expect(byId.rawPayload.equals(pdf)).toBe(true);
  });

  it('the orphan sweep deletes an unclaimed file and its thumbnails from the bucket, keeping the claimed one', async () => {
    await platform.filestore.claim('pb.amritsar', [pdfId], { module: 'complaint', referenceId: 'PG-S3-1' });
    await platform.filestore.cleanup();
    expect((await objects()).some((k) => k.includes(photoId))).toBe(true);

    expect(await platform.filestore.cleanup(Date.now() + 25 * 3_600_000)).toBeGreaterThanOrEqual(1);
    const keys = await objects();
    expect(keys.filter((k) => k.includes(photoId))).toEqual([]);
    expect(keys.filter((k) => k.includes(pdfId))).toHaveLength(1);
    await expect(platform.filestore.metadata('pb.amritsar', photoId)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((await get(`/filestore/v1/files/id?tenantId=pb.amritsar&fileStoreId=${pdfId}`, amritsar)).rawPayload.equals(pdf)).toBe(true);
  });

  // Last: it stops the S3 server.
  it('with S3 unreachable: upload answers 503 FILESTORE_UNAVAILABLE and leaves no record; downloads 503 too', async () => {
    const [link] = await platform.filestore.urls('pb.amritsar', [pdfId]);
    const rowsBefore = await fileRows();
    await server.close();

    const { status, body } = await upload('s3-down', [{ fileName: 'pole.jpg', contentType: 'image/jpeg', bytes: jpeg }]);
    expect(status).toBe(503);
    expect(isDigitError(body)).toBe(true);
    expect((body['Errors'] as Array<{ code: string }>)[0]!.code).toBe('FILESTORE_UNAVAILABLE');
    expect(await fileRows()).toBe(rowsBefore);
    expect((await get('/filestore/v1/files/tag?tenantId=pb.amritsar&tag=s3-down', amritsar)).json()).toEqual({ files: [] });

    const download = await get(pathOf(link!.url));
    expect(download.statusCode).toBe(503);
    expect(isDigitError(download.json())).toBe(true);
  });
});
