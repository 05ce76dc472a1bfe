import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import { inScope, SYSTEM_SCOPE, type Scope } from '../../kernel/scope.js';
import { tenantCovers } from '../../kernel/tenancy.js';
import type { BlobStore } from './filestore.blob.js';
import { checkFileType, isImage, type FileKind } from './filestore.detect.js';
import { checkLink, signLink } from './filestore.signing.js';
import type { FileRow, FilestoreStore } from './filestore.store.js';
import type { BlobRef, FileSealing } from './filestore.sealing.js';

/** DIGIT's thumbnail widths (egov-filestore image.small/medium/large.width). */
export const THUMBNAILS = { large: 1024, medium: 314, small: 100 } as const;
export type Variant = keyof typeof THUMBNAILS;
const VARIANTS = Object.keys(THUMBNAILS) as Variant[];

export type FilestoreSettings = {
  maxBytes: number;
  linkTtlMs: number;
  orphanMaxAgeMs: number;
  allowed: readonly FileKind[];
};

export type IncomingFile = { fileName: string; declaredType: string | undefined; bytes: Buffer };
export type UploadRequest = { tenantId: string; module: string | undefined; tag: string | undefined; files: readonly IncomingFile[] };
export type FileOwner = { module: string; referenceId: string };

export type FileMetadata = {
  fileStoreId: string;
  tenantId: string;
  module: string | null;
  tag: string | null;
  fileName: string;
  contentType: string;
  fileSize: number;
  sha256: string;
  owner: FileOwner | null;
  createdBy: string | null;
  createdTime: number;
};

export type FileLink = { id: string; tenantId: string; url: string };

/** Whether `userUuid` owns the record `referenceId` of tenant `tenantId` (e.g. a complaint of theirs). */
export type RecordOwnerCheck = (tenantId: string, referenceId: string, userUuid: string) => Promise<boolean>;

const TENANT = /^[A-Za-z0-9]+(\.[A-Za-z0-9_-]+)*$/;
/** Blob names in links: an id, optionally with a thumbnail variant. */
const NAME = /^([0-9a-f-]{36})(?:_(large|medium|small))?$/;

const notFound = (id: string) => new DomainError('not_found', { code: 'FILE_NOT_FOUND', message: `No file ${id} for this tenant`, params: [id] });

export type FilestoreService = ReturnType<typeof createFilestoreService>;

export function createFilestoreService(deps: {
  database: Database;
  store: FilestoreStore;
  blobs: BlobStore;
  /** File bytes are stored encrypted (filestore.sealing.ts). */
  sealing: FileSealing;
  clock: Clock;
  logger: FastifyBaseLogger;
  settings: FilestoreSettings;
  timeZone: string;
}) {
  const { database, store, blobs, sealing, clock, settings } = deps;
  let key: Buffer | undefined;
  const linkKey = async () => {
    if (!key) {
      const secret = await store.signingKey();
      if (!secret) throw new Error('filestore: the link signing key is missing (migration 0001 not applied?)');
      key = Buffer.from(secret, 'base64');
    }
    return key;
  };

  const yearMonth = (time: number) => {
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone: deps.timeZone, year: 'numeric', month: '2-digit' }).formatToParts(time);
    return `${parts.find((p) => p.type === 'year')?.value ?? '0000'}/${parts.find((p) => p.type === 'month')?.value ?? '00'}`;
  };
  const variantsOf = (row: FileRow) => (Array.isArray(row.variants) ? (row.variants as string[]).filter((v): v is Variant => v in THUMBNAILS) : []);
  const blobKey = (row: Pick<FileRow, 'storage_key'>, variant?: Variant) => (variant ? `${row.storage_key}_${variant}` : row.storage_key);
  /** A blob's store key, and its name inside the ciphertext (`<id>[_variant]`, as in links). */
  const blobRef = (row: Pick<FileRow, 'id' | 'storage_key'>, variant?: Variant): BlobRef => ({ key: blobKey(row, variant), name: variant ? `${row.id}_${variant}` : row.id });
  const blobsOf = (row: FileRow): BlobRef[] => [blobRef(row), ...variantsOf(row).map((v) => blobRef(row, v))];

  /** Per owner module (the `module` of a claim, e.g. PGR): who owns its records. */
  const recordOwners = new Map<string, RecordOwnerCheck>();

  /**
   * Whether the caller may read the file: its STORED tenant must be inside the scope; a citizen
   * reads only files they uploaded or that are attached to a record of theirs (a complaint they
   * filed), as the owning module answers.
   */
  async function mayRead(scope: Scope, row: FileRow): Promise<boolean> {
    if (!inScope(scope, row.tenant_id)) return false;
    if (!scope.citizen) return true;
    const uuid = scope.user?.uuid;
    if (!uuid) return false;
    if (row.created_by === uuid) return true;
    if (row.owner_module === null || row.owner_reference_id === null) return false;
    const owns = recordOwners.get(row.owner_module);
    return owns ? owns(row.tenant_id, row.owner_reference_id, uuid) : false;
  }

  /**
   * Files of these ids the tenant may see (its own or its cities') and the scope may read; refuses
   * unknown and unreadable ones alike (404), so a caller learns nothing of others' files.
   */
  async function visible(tenantId: string, ids: readonly string[], tx?: Tx, scope: Scope = SYSTEM_SCOPE): Promise<FileRow[]> {
    const rows = await store.byIds([...new Set(ids)], tx);
    const byId = new Map<string, FileRow>();
    for (const row of rows) if (tenantCovers(tenantId, row.tenant_id) && (await mayRead(scope, row))) byId.set(row.id, row);
    const missing = ids.find((id) => !byId.has(id));
    if (missing !== undefined) throw notFound(missing);
    return ids.map((id) => byId.get(id)!);
  }

  async function link(base: string, name: string, expires: number): Promise<string> {
    return `${base}/filestore/v1/files/download/${name}?expires=${expires}&signature=${signLink(await linkKey(), name, expires)}`;
  }

  /** DIGIT's url: for images the original and its thumbnails, comma-joined. */
  async function urlOf(row: FileRow, base: string, expires: number): Promise<string> {
    const names = [row.id, ...variantsOf(row).map((v) => `${row.id}_${v}`)];
    return (await Promise.all(names.map((n) => link(base, n, expires)))).join(',');
  }

  async function thumbnails(bytes: Buffer, kind: FileKind, fileName: string): Promise<Array<[Variant, Buffer]>> {
    if (!isImage(kind)) return [];
    try {
      // sharp (libvips) is loaded on the first image, not at start: it costs memory in every process.
      const { default: sharp } = await import('sharp');
      const image = sharp(bytes, { failOn: 'error' });
      const { width } = await image.metadata();
      // Rotated by EXIF and shrunk only: a thumbnail never grows past the original.
      return await Promise.all(
        VARIANTS.map(async (v) => [v, await sharp(bytes).rotate().resize({ width: Math.min(THUMBNAILS[v], width ?? THUMBNAILS[v]), withoutEnlargement: true }).toBuffer()] as [Variant, Buffer]),
      );
    } catch {
      throw invalid('INVALID_FILE', `${fileName} is not a readable image`, [fileName]);
    }
  }

  return {
    settings,

    /** Declares who owns the records of `module`, so their citizens read the files attached to them. */
    registerRecordOwner(module: string, check: RecordOwnerCheck): void {
      if (recordOwners.has(module)) throw new Error(`filestore: the owner of ${module} records is already registered`);
      recordOwners.set(module, check);
    },

    async upload(request: UploadRequest, createdBy: string | null): Promise<Array<{ fileStoreId: string; tenantId: string }>> {
      const { tenantId } = request;
      if (!TENANT.test(tenantId) || tenantId.length > 128) throw invalid('INVALID_TENANT_ID', `tenantId ${tenantId} is not a tenant id`, [tenantId]);
      if (request.files.length === 0) throw invalid('NO_FILE', 'Send at least one part named "file"');
      for (const text of [request.module, request.tag]) {
        if (text !== undefined && text.length > 256) throw invalid('INVALID_REQUEST', 'module and tag are at most 256 characters');
      }
      // Every file is checked before any is stored: one bad file refuses the whole upload.
      const checked = [];
      for (const file of request.files) {
        if (file.bytes.length > settings.maxBytes) {
          throw new DomainError('too_large', { code: 'FILE_TOO_LARGE', message: `${file.fileName} is larger than ${settings.maxBytes} bytes`, params: [file.fileName] });
        }
        if (file.bytes.length === 0) throw invalid('INVALID_FILE_TYPE', `${file.fileName} is empty`, [file.fileName]);
        const type = checkFileType(file.bytes, file.fileName, file.declaredType, settings.allowed);
        if (!type.ok) throw invalid('INVALID_FILE_TYPE', type.reason, [file.fileName]);
        checked.push({ file, type, thumbs: await thumbnails(file.bytes, type.kind, file.fileName) });
      }
      const now = clock.now();
      // A key per file, sealed under the state's: loaded before the metadata's transaction.
      const fileKeys = await Promise.all(checked.map(() => sealing.newKey(tenantId)));
      const rows: FileRow[] = [];
      const written: string[] = [];
      try {
        for (const [i, { file, type, thumbs }] of checked.entries()) {
          const id = newId();
          const storageKey = `${tenantId}/${yearMonth(now)}/${id}`;
          const fileKey = fileKeys[i]!;
          // A file and its thumbnails in parallel (one round trip's latency on S3), each encrypted
          // as it is written. Every put is settled before a failure is thrown, so the removal below
          // cannot race a late write.
          const stored = { id, storage_key: storageKey };
          const blobsOfFile: Array<[BlobRef, Buffer]> = [[blobRef(stored), file.bytes], ...thumbs.map(([v, bytes]): [BlobRef, Buffer] => [blobRef(stored, v), bytes])];
          written.push(...blobsOfFile.map(([ref]) => ref.key));
          const failed = (await Promise.allSettled(blobsOfFile.map(([ref, bytes]) => blobs.put(ref.key, sealing.seal(fileKey.key, ref, bytes))))).find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
          rows.push({
            id,
            tenant_id: tenantId,
            module: request.module ?? null,
            tag: request.tag ?? null,
            file_name: file.fileName,
            content_type: type.contentType,
            file_size: file.bytes.length,
            sha256: createHash('sha256').update(file.bytes).digest('hex'),
            storage_key: storageKey,
            variants: thumbs.map(([v]) => v),
            owner_module: null,
            owner_reference_id: null,
            data_key: fileKey.sealed,
            sealed_time: now,
            created_by: createdBy,
            created_time: now,
            last_modified_by: createdBy,
            last_modified_time: now,
          });
        }
        await database.transaction(async (tx) => {
          for (const row of rows) await store.insert(row, tx);
        });
      } catch (error) {
        // Nothing half stored: the bytes go with the refused metadata.
        await Promise.all(written.map((k) => blobs.remove(k).catch(() => undefined)));
        throw error;
      }
      return rows.map((r) => ({ fileStoreId: r.id, tenantId: r.tenant_id }));
    },

    /** Signed, expiring links; `now` is the signing time (tests sign in the past). */
    async urls(tenantId: string, ids: readonly string[], base: string, now = clock.now(), scope: Scope = SYSTEM_SCOPE): Promise<FileLink[]> {
      const rows = await visible(tenantId, ids, undefined, scope);
      const expires = now + settings.linkTtlMs;
      return Promise.all(rows.map(async (row) => ({ id: row.id, tenantId: row.tenant_id, url: await urlOf(row, base, expires) })));
    },

    /** The files of a tag the scope may read (a citizen: theirs and their records'), oldest first. */
    async byTag(tenantId: string, tag: string, base: string, scope: Scope): Promise<Array<{ url: string; contentType: string }>> {
      const expires = clock.now() + settings.linkTtlMs;
      const rows: FileRow[] = [];
      for (const row of await store.byTag(tenantId, tag, 500)) if (await mayRead(scope, row)) rows.push(row);
      return Promise.all(rows.map(async (row) => ({ url: await urlOf(row, base, expires), contentType: row.content_type })));
    },

    async metadata(tenantId: string, id: string, scope: Scope = SYSTEM_SCOPE): Promise<FileMetadata> {
      const [row] = await visible(tenantId, [id], undefined, scope);
      return {
        fileStoreId: row!.id,
        tenantId: row!.tenant_id,
        module: row!.module,
        tag: row!.tag,
        fileName: row!.file_name,
        contentType: row!.content_type,
        fileSize: row!.file_size,
        sha256: row!.sha256,
        owner: row!.owner_module ? { module: row!.owner_module, referenceId: row!.owner_reference_id ?? '' } : null,
        createdBy: row!.created_by,
        createdTime: row!.created_time,
      };
    },

    /** The file's bytes for an authenticated caller of the tenant. */
    async open(tenantId: string, id: string, scope: Scope): Promise<{ stream: Readable; row: FileRow; length: number }> {
      const [row] = await visible(tenantId, [id], undefined, scope);
      return { stream: await sealing.open(row!, blobRef(row!)), row: row!, length: row!.file_size };
    },

    /** The bytes behind a signed link: 403 when the link is tampered with or expired. */
    async openLink(name: string, expires: number, signature: string): Promise<{ stream: Readable; row: FileRow; contentType: string; length: number | undefined }> {
      const verdict = checkLink(await linkKey(), name, expires, signature, clock.now());
      if (verdict !== 'valid') {
        throw new DomainError('forbidden', { code: verdict === 'expired' ? 'LINK_EXPIRED' : 'INVALID_SIGNATURE', message: `This download link is ${verdict === 'expired' ? 'expired' : 'not valid'}` });
      }
      const match = NAME.exec(name);
      const [row] = match ? await store.byIds([match[1]!]) : [];
      const variant = match?.[2] as Variant | undefined;
      if (!row || (variant && !variantsOf(row).includes(variant))) throw notFound(name);
      // The plaintext's length is recorded for the original only (thumbnails stream without one).
      return { stream: await sealing.open(row, blobRef(row, variant)), row, contentType: row.content_type, length: variant ? undefined : row.file_size };
    },

    /**
     * Marks files as owned by a record, in the caller's transaction when given; refuses ids that
     * are unknown to the tenant or already owned by another record.
     */
    async claim(tenantId: string, ids: readonly string[], owner: FileOwner, by: string | null = null, tx?: Tx): Promise<void> {
      if (ids.length === 0) return;
      const rows = await visible(tenantId, ids, tx);
      const taken = rows.find((r) => r.owner_module !== null && (r.owner_module !== owner.module || r.owner_reference_id !== owner.referenceId));
      if (taken) throw invalid('FILE_ALREADY_CLAIMED', `File ${taken.id} already belongs to another record`, [taken.id]);
      await store.setOwner(ids, owner, by, clock.now(), tx);
    },

    /** Encrypts the files uploaded before files were encrypted (idempotent); answers how many, and how many failed. */
    sealStored: (stopped?: () => boolean) => sealing.sealStored(blobsOf, stopped),

    /** Deletes files nobody claimed within the allowed age; answers how many went. */
    async cleanup(now = clock.now()): Promise<number> {
      let removed = 0;
      for (;;) {
        const rows = await store.unclaimedBefore(now - settings.orphanMaxAgeMs, 100);
        if (rows.length === 0) return removed;
        for (const row of rows) {
          // Row first: a claim racing the cleanup either wins (row stays) or finds no file.
          if (!(await store.deleteUnclaimed(row.id))) continue;
          for (const ref of blobsOf(row)) await blobs.remove(ref.key);
          removed += 1;
        }
        if (rows.length < 100) return removed;
      }
    },
  };
}
