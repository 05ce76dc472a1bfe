import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, testPlatform, type TestPlatform } from '../../../test/helpers.js';

let platform: TestPlatform;
let admin: Record<string, string>;
let amritsar: Record<string, string>;
let jalandhar: Record<string, string>;

beforeAll(async () => {
  platform = await testPlatform({ config: { filestoreMaxBytes: 200_000 } });
  admin = await adminAuth(platform);
  amritsar = await employeeAuth(platform, admin, 'fs_amritsar', ['EMPLOYEE'], 'pb.amritsar');
  jalandhar = await employeeAuth(platform, admin, 'fs_jalandhar', ['EMPLOYEE'], 'pb.jalandhar');
});
afterAll(() => platform.drop());

type Part = { name: string; value: string } | { name: string; fileName: string; contentType: string; bytes: Buffer };

function multipart(parts: readonly Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----plinth${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('bytes' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.fileName}"\r\nContent-Type: ${part.contentType}\r\n\r\n`));
      chunks.push(part.bytes, Buffer.from('\r\n'));
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function upload(auth: Record<string, string>, files: Array<{ fileName: string; contentType: string; bytes: Buffer }>, fields: Record<string, string> = { tenantId: 'pb.amritsar', module: 'PGR', tag: 'complaint-1' }) {
  const { payload, headers } = multipart([...Object.entries(fields).map(([name, value]) => ({ name, value })), ...files.map((f) => ({ name: 'file', ...f }))]);
  const response = await platform.app.inject({ method: 'POST', url: '/filestore/v1/files', payload, headers: { ...headers, ...auth } });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

async function filesOnDisk(): Promise<string[]> {
  const root = path.join(platform.config.dataDir, 'files');
  try {
    return (await fs.readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#c33' } }).jpeg().toBuffer();
const png = await sharp({ create: { width: 50, height: 40, channels: 4, background: '#3c3c' } }).png().toBuffer();
const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const get = (url: string, auth: Record<string, string> = {}) => platform.app.inject({ method: 'GET', url, headers: auth });
const pathOf = (url: string) => {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
};

describe('upload', () => {
  it('stores a jpeg, a png and a pdf, answering DIGIT shape, with metadata from the bytes', async () => {
    const { status, body } = await upload(amritsar, [
      { fileName: 'photo.jpg', contentType: 'image/jpeg', bytes: jpeg },
      { fileName: 'map.png', contentType: 'image/png', bytes: png },
      { fileName: 'scan.pdf', contentType: 'application/pdf', bytes: pdf },
    ]);
    expect(status, JSON.stringify(body)).toBe(200);
    const files = body['files'] as Array<{ fileStoreId: string; tenantId: string }>;
    expect(files).toHaveLength(3);
    expect(files.every((f) => f.tenantId === 'pb.amritsar')).toBe(true);
    const meta = await get(`/filestore/v1/files/metadata?tenantId=pb.amritsar&fileStoreId=${files[2]!.fileStoreId}`, amritsar);
    expect(meta.statusCode).toBe(200);
    expect(meta.json()).toMatchObject({ fileName: 'scan.pdf', contentType: 'application/pdf', fileSize: pdf.length, module: 'PGR', tag: 'complaint-1', owner: null });
    // Original plus three thumbnails for each image, the pdf alone.
    const onDisk = await filesOnDisk();
    expect(onDisk.filter((f) => f.includes(files[0]!.fileStoreId))).toHaveLength(4);
    expect(onDisk.filter((f) => f.includes(files[2]!.fileStoreId))).toHaveLength(1);
    expect(onDisk.some((f) => f.includes(path.join('files', 'pb.amritsar', String(new Date().getFullYear()))))).toBe(true);
  });

  it.each([
    ['an executable named .jpg', { fileName: 'photo.jpg', contentType: 'image/jpeg', bytes: Buffer.concat([Buffer.from('MZ'), randomBytes(500)]) }],
    ['text named .jpg', { fileName: 'photo.jpg', contentType: 'image/jpeg', bytes: Buffer.from('hello, not a photo') }],
    ['a pdf named .png', { fileName: 'photo.png', contentType: 'image/png', bytes: pdf }],
  ])('refuses %s with 400 INVALID_FILE_TYPE and stores nothing', async (_label, file) => {
    const before = await filesOnDisk();
    // A good file alongside: the whole upload is refused.
    const { status, body } = await upload(amritsar, [{ fileName: 'ok.png', contentType: 'image/png', bytes: png }, file]);
    expect(status).toBe(400);
    expect(isDigitError(body)).toBe(true);
    expect((body['Errors'] as Array<{ code: string }>)[0]!.code).toBe('INVALID_FILE_TYPE');
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses a file over the size limit with 413 and stores nothing', async () => {
    const before = await filesOnDisk();
    const big = Buffer.concat([pdf, Buffer.alloc(250_000, 0x20)]);
    const { status, body } = await upload(amritsar, [{ fileName: 'big.pdf', contentType: 'application/pdf', bytes: big }]);
    expect(status).toBe(413);
    expect(isDigitError(body)).toBe(true);
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses a JSON body, a missing tenantId and a missing file with 400', async () => {
    const json = await platform.app.inject({ method: 'POST', url: '/filestore/v1/files', payload: { tenantId: 'pb' }, headers: admin });
    expect(json.statusCode).toBe(400);
    expect(isDigitError(json.json())).toBe(true);
    expect((await upload(amritsar, [{ fileName: 'a.pdf', contentType: 'application/pdf', bytes: pdf }], { module: 'PGR' })).status).toBe(400);
    expect((await upload(amritsar, [])).status).toBe(400);
  });

  it("refuses an upload into another city's tenant with 403", async () => {
    const { status, body } = await upload(jalandhar, [{ fileName: 'a.pdf', contentType: 'application/pdf', bytes: pdf }]);
    expect(status).toBe(403);
    expect(isDigitError(body)).toBe(true);
  });
});

describe('links, download, tag', () => {
  let photoId: string;
  let pdfId: string;
  beforeAll(async () => {
    const { body } = await upload(amritsar, [
      { fileName: 'pole.jpg', contentType: 'image/jpeg', bytes: jpeg },
      { fileName: 'letter.pdf', contentType: 'application/pdf', bytes: pdf },
    ], { tenantId: 'pb.amritsar', module: 'PGR', tag: 'links-tag' });
    [photoId, pdfId] = (body['files'] as Array<{ fileStoreId: string }>).map((f) => f.fileStoreId) as [string, string];
  });

  it('answers DIGIT url shape; the signed link downloads the same bytes without a token', async () => {
    const response = await get(`/filestore/v1/files/url?tenantId=pb.amritsar&fileStoreIds=${photoId},${pdfId}`, amritsar);
    expect(response.statusCode).toBe(200);
    const body = response.json() as Record<string, unknown> & { fileStoreIds: Array<{ id: string; url: string; tenantId: string }> };
    expect(body.fileStoreIds.map((f) => f.id)).toEqual([photoId, pdfId]);
    expect(body[photoId]).toBe(body.fileStoreIds[0]!.url);
    const photoUrls = String(body[photoId]).split(',');
    expect(photoUrls).toHaveLength(4);
    expect(String(body[pdfId]).split(',')).toHaveLength(1);

    const original = await get(pathOf(photoUrls[0]!));
    expect(original.statusCode).toBe(200);
    expect(original.headers['content-type']).toBe('image/jpeg');
    expect(String(original.headers['content-disposition'])).toContain('pole.jpg');
    expect(original.rawPayload.equals(jpeg)).toBe(true);
    const small = await get(pathOf(photoUrls.find((u) => u.includes('_small'))!));
    expect(small.statusCode).toBe(200);
    expect((await sharp(small.rawPayload).metadata()).width).toBe(100);
    const letter = await get(pathOf(String(body[pdfId])));
    expect(letter.rawPayload.equals(pdf)).toBe(true);
  });

  it('refuses a tampered or expired link with 403', async () => {
    const [link] = await platform.filestore.urls('pb.amritsar', [pdfId]);
    const url = new URL(link!.url);
    expect(link!.url.startsWith(platform.config.publicUrl)).toBe(true);
    const otherId = url.pathname.replace(pdfId, photoId) + url.search;
    const longer = url.pathname + url.search.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 3_600_000}`);
    for (const tampered of [otherId, longer, `${url.pathname}?expires=1&signature=AAAA`]) {
      const response = await get(tampered);
      expect(response.statusCode, tampered).toBe(403);
      expect(isDigitError(response.json())).toBe(true);
    }
    const [old] = await platform.filestore.urls('pb.amritsar', [pdfId], undefined, Date.now() - 3_600_000);
    const expired = await get(pathOf(old!.url));
    expect(expired.statusCode).toBe(403);
    expect((expired.json() as { Errors: Array<{ code: string }> }).Errors[0]!.code).toBe('LINK_EXPIRED');
  });

  it('downloads by id for an authenticated caller, lists a tag, and hides files from other tenants', async () => {
    const byId = await get(`/filestore/v1/files/id?tenantId=pb.amritsar&fileStoreId=${pdfId}`, amritsar);
    expect(byId.statusCode).toBe(200);
    expect(byId.rawPayload.equals(pdf)).toBe(true);
    const tag = await get('/filestore/v1/files/tag?tenantId=pb.amritsar&tag=links-tag', amritsar);
    expect(tag.statusCode).toBe(200);
    expect((tag.json() as { files: Array<{ contentType: string }> }).files.map((f) => f.contentType)).toEqual(['image/jpeg', 'application/pdf']);
    // The state administrator sees the city's files.
    expect((await get(`/filestore/v1/files/metadata?tenantId=pb&fileStoreId=${pdfId}`, admin)).statusCode).toBe(200);

    // Another city's employee: its own tenant does not hold the file, the file's tenant is not its.
    const own = await get(`/filestore/v1/files/metadata?tenantId=pb.jalandhar&fileStoreId=${pdfId}`, jalandhar);
    expect(own.statusCode).toBe(404);
    expect(isDigitError(own.json())).toBe(true);
    expect((await get(`/filestore/v1/files/id?tenantId=pb.jalandhar&fileStoreId=${pdfId}`, jalandhar)).statusCode).toBe(404);
    expect((await get(`/filestore/v1/files/url?tenantId=pb.jalandhar&fileStoreIds=${pdfId}`, jalandhar)).statusCode).toBe(404);
    expect((await get(`/filestore/v1/files/metadata?tenantId=pb.amritsar&fileStoreId=${pdfId}`, jalandhar)).statusCode).toBe(403);
    expect((await get('/filestore/v1/files/tag?tenantId=pb.jalandhar&tag=links-tag', jalandhar)).json()).toEqual({ files: [] });
  });
});

describe('claim and cleanup', () => {
  it('removes an old unclaimed file and keeps a claimed one; refuses unknown ids and double claims', async () => {
    const { body } = await upload(amritsar, [
      { fileName: 'keep.pdf', contentType: 'application/pdf', bytes: pdf },
      { fileName: 'orphan.jpg', contentType: 'image/jpeg', bytes: jpeg },
    ], { tenantId: 'pb.amritsar', module: 'PGR', tag: 'cleanup' });
    const [keep, orphan] = (body['files'] as Array<{ fileStoreId: string }>).map((f) => f.fileStoreId) as [string, string];

    await expect(platform.filestore.claim('pb.amritsar', [keep, '00000000-0000-7000-8000-000000000000'], { module: 'complaint', referenceId: 'PG-1' })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await expect(platform.filestore.claim('pb.jalandhar', [keep], { module: 'complaint', referenceId: 'PG-1' })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await platform.database.transaction((tx) => platform.filestore.claim('pb.amritsar', [keep], { module: 'complaint', referenceId: 'PG-1' }, tx));
    await expect(platform.filestore.claim('pb.amritsar', [keep], { module: 'complaint', referenceId: 'PG-2' })).rejects.toMatchObject({ code: 'FILE_ALREADY_CLAIMED' });
    expect((await platform.filestore.metadata('pb.amritsar', keep)).owner).toEqual({ module: 'complaint', referenceId: 'PG-1' });

    // Young orphans stay.
    await platform.filestore.cleanup();
    expect((await filesOnDisk()).some((f) => f.includes(orphan))).toBe(true);

    const removed = await platform.filestore.cleanup(Date.now() + 25 * 3_600_000);
    expect(removed).toBeGreaterThanOrEqual(1);
    const onDisk = await filesOnDisk();
    expect(onDisk.some((f) => f.includes(orphan))).toBe(false);
    expect(onDisk.some((f) => f.includes(keep))).toBe(true);
    await expect(platform.filestore.metadata('pb.amritsar', orphan)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((await platform.filestore.metadata('pb.amritsar', keep)).fileName).toBe('keep.pdf');
  });
});
