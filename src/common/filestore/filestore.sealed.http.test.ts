import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminAuth, employeeAuth, isDigitError, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { multipart, type FilePart } from '../../../test/fixtures/multipart.js';
import { main } from '../../cli/main.js';

// Uploaded files are encrypted at rest (#14 Build 4): on disk, through downloads, tampering,
// files stored before, and key rotation.

let platform: TestPlatform;
let amritsar: Record<string, string>;
const MARK = `SEALMARK${randomBytes(6).toString('hex')}`;
/** A PDF over three chunks (64 KiB each), the marker at its start, middle and end. */
const pdfWith = (mark: string) =>
  Buffer.from(`%PDF-1.4\n% ${mark}\n${'A'.repeat(90_000)} ${mark} ${'B'.repeat(90_000)}\n% ${mark}\n%%EOF\n`);
const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#36c' } })
  .jpeg()
  .toBuffer();

beforeAll(async () => {
  platform = await testPlatform();
  amritsar = await employeeAuth(platform, await adminAuth(platform), 'fsx_amritsar', ['EMPLOYEE'], 'pb.amritsar');
});
afterAll(() => platform.drop());

async function upload(files: FilePart[]): Promise<string[]> {
  const { payload, headers } = multipart({ tenantId: 'pb.amritsar', module: 'PGR', tag: 'sealed' }, files);
  const response = await platform.app.inject({ method: 'POST', url: '/filestore/v1/files', payload, headers: { ...headers, ...amritsar } });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { files: Array<{ fileStoreId: string }> }).files.map((f) => f.fileStoreId);
}

const get = (url: string, headers: Record<string, string> = amritsar) => platform.app.inject({ method: 'GET', url, headers });
const byId = (id: string, headers?: Record<string, string>) =>
  get(`/filestore/v1/files/id?tenantId=pb.amritsar&fileStoreId=${id}`, { ...amritsar, ...headers });
const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;

type Stored = { storage_key: string; data_key: string | null; sealed_time: unknown };
async function rowOf(id: string): Promise<Stored> {
  return (
    await sql<Stored>`select storage_key, data_key, sealed_time from filestore_file where id = ${id}`.execute(platform.database.kysely)
  ).rows[0]!;
}
const diskPath = async (id: string, variant = '') =>
  path.join(platform.config.dataDir, 'files', `${(await rowOf(id)).storage_key}${variant}`);

async function filesOnDisk(): Promise<string[]> {
  const root = path.join(platform.config.dataDir, 'files');
  return (await fs.readdir(root, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('files encrypted at rest', () => {
  let pdfId: string;
  let photoId: string;

  it('stores no byte of an upload in clear, and answers it back whole: by id, by signed link, thumbnails', async () => {
    const pdf = pdfWith(MARK);
    [pdfId, photoId] = (await upload([
      { fileName: 'letter.pdf', contentType: 'application/pdf', bytes: pdf },
      { fileName: 'pole.jpg', contentType: 'image/jpeg', bytes: jpeg },
    ])) as [string, string];
    const onDisk = await filesOnDisk();
    expect(onDisk.length).toBe(5);
    for (const file of onDisk) {
      const bytes = await fs.readFile(file);
      expect(bytes.includes(Buffer.from(MARK)), file).toBe(false);
      expect(bytes.subarray(0, 7).toString('ascii'), file).toBe('PLNTHFS');
    }
    expect((await fs.readFile(await diskPath(photoId))).includes(jpeg.subarray(200, 400))).toBe(false);

    const answer = await byId(pdfId);
    expect(answer.statusCode).toBe(200);
    expect(answer.rawPayload.equals(pdf)).toBe(true);
    // The plaintext's length, never the stored ciphertext's.
    expect(answer.headers['content-length']).toBe(String(pdf.length));
    // No ranges: the whole file, as before files were encrypted.
    const ranged = await byId(pdfId, { range: 'bytes=0-9' });
    expect(ranged.statusCode).toBe(200);
    expect(ranged.headers['content-range']).toBeUndefined();
    expect(ranged.rawPayload.equals(pdf)).toBe(true);

    const links = (await get(`/filestore/v1/files/url?tenantId=pb.amritsar&fileStoreIds=${photoId}`)).json() as Record<string, string>;
    const urls = links[photoId]!.split(',');
    const original = await get(pathOf(urls[0]!), {});
    expect(original.rawPayload.equals(jpeg)).toBe(true);
    expect(original.headers['content-length']).toBe(String(jpeg.length));
    const small = await get(pathOf(urls.find((u) => u.includes('_small'))!), {});
    expect(small.statusCode).toBe(200);
    expect((await sharp(small.rawPayload).metadata()).width).toBe(100);
  });

  it('refuses a file altered or swapped on disk with a clean error, never its bytes', async () => {
    const file = await diskPath(pdfId);
    const good = await fs.readFile(file);
    const refusedWith = async () => {
      const answer = await byId(pdfId);
      expect(answer.statusCode).toBe(500);
      expect(isDigitError(answer.json())).toBe(true);
      expect(answer.json()).toMatchObject({ Errors: [{ code: 'INTERNAL_SERVER_ERROR' }] });
      expect(answer.body).not.toContain(MARK);
      expect(answer.body).not.toContain('%PDF');
    };
    try {
      const flipped = Buffer.from(good);
      flipped[100] = flipped[100]! ^ 0x20;
      await fs.writeFile(file, flipped);
      await refusedWith();
      // Another file's blob (valid under its own key and name) in its place.
      await fs.copyFile(await diskPath(photoId), file);
      await refusedWith();
      // The header's magic removed: the file is recorded as encrypted, so it is not served as it is.
      await fs.writeFile(file, Buffer.concat([Buffer.from('%PDF-1.4'), good.subarray(7)]));
      await refusedWith();
    } finally {
      await fs.writeFile(file, good);
    }
    expect((await byId(pdfId)).rawPayload.equals(pdfWith(MARK))).toBe(true);
  });

  it('reads a file stored before files were encrypted as it is, until `plinth files seal` encrypts it', async () => {
    const mark = `OLDMARK${randomBytes(6).toString('hex')}`;
    const [oldId, alteredId] = (await upload([
      { fileName: 'old.pdf', contentType: 'application/pdf', bytes: pdfWith(mark) },
      { fileName: 'altered.pdf', contentType: 'application/pdf', bytes: pdfWith(`${mark}x`) },
    ])) as [string, string];
    // As a release before this one stored them: bytes in clear, no key, not marked sealed. The
    // second was altered on disk since (it no longer matches its checksum).
    await fs.writeFile(await diskPath(oldId), pdfWith(mark));
    await fs.writeFile(await diskPath(alteredId), pdfWith(`${mark}y`));
    await sql`update filestore_file set data_key = null, sealed_time = null where id in (${oldId}, ${alteredId})`.execute(
      platform.database.kysely,
    );
    expect((await byId(oldId)).rawPayload.equals(pdfWith(mark))).toBe(true);

    const printed: string[] = [];
    const env = { ...process.env };
    process.env['DATA_DIR'] = platform.config.dataDir;
    process.env['LOG_LEVEL'] = 'silent';
    if (platform.config.databaseUrl) process.env['DATABASE_URL'] = platform.config.databaseUrl;
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    // One SQLite connection's lock wait would block the other's in this one thread: keep the server's worker quiet meanwhile.
    await platform.dispatcher.stop();
    try {
      expect(await main(['files', 'seal'])).toBe(1);
    } finally {
      log.mockRestore();
      process.env = env;
      platform.dispatcher.start();
    }
    expect(printed.join('\n')).toMatch(/encrypted 1 file\(s\).*1 could not be/);

    const bytes = await fs.readFile(await diskPath(oldId));
    expect(bytes.includes(Buffer.from(mark))).toBe(false);
    expect(bytes.subarray(0, 7).toString('ascii')).toBe('PLNTHFS');
    expect(await rowOf(oldId)).toMatchObject({ data_key: expect.stringMatching(/^pb:data:\d+\|/), sealed_time: expect.anything() });
    expect((await byId(oldId)).rawPayload.equals(pdfWith(mark))).toBe(true);
    // The altered one is left as it is (readable, not vouched for by encryption).
    expect((await rowOf(alteredId)).sealed_time).toBeNull();
    expect((await byId(alteredId)).rawPayload.equals(pdfWith(`${mark}y`))).toBe(true);
    expect(await platform.filestore.sealStored()).toEqual({ sealed: 0, failed: 1 });
  });

  it('follows a key rotation: file keys are re-wrapped under the new key, files are not rewritten and still open', async () => {
    const before = await fs.readFile(await diskPath(pdfId));
    const { keyId } = await platform.encryption.service.rotateKey('pb');
    // The rotation's event may already have run the job in the background (CI saw 0 left to move
    // here on PostgreSQL), so what is checked is where the keys end up, not who moved them.
    await platform.encryption.service.reencrypt('pb');
    await platform.dispatcher.settle({ timeoutMs: 60_000 });
    const keyIds = (await sql<{ data_key: string | null }>`select data_key from filestore_file`.execute(platform.database.kysely)).rows.map(
      (r) => r.data_key?.split('|')[0],
    );
    expect(new Set(keyIds.filter((k) => k !== undefined))).toEqual(new Set([keyId]));
    expect((await fs.readFile(await diskPath(pdfId))).equals(before)).toBe(true);
    expect((await byId(pdfId)).rawPayload.equals(pdfWith(MARK))).toBe(true);
  });
});
