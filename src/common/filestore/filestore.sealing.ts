import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../kernel/clock.js';
import type { EncryptionService, SealedTable } from '../encryption/index.js';
import type { BlobStore } from './filestore.blob.js';
import { BlobIntegrityError, isSealed, openBlob, sealBlob, type BlobBody } from './filestore.cipher.js';
import type { FileRow, FilestoreStore } from './filestore.store.js';

/** One stored blob of a file: its key in the blob store and its name in the ciphertext's AAD (`<id>[_variant]`). */
export type BlobRef = { key: string; name: string };

/** The data keys column, for the encryption module's re-sealing after a rotation (the files themselves never change). */
export const SEALED_FILE_KEYS: SealedTable = { name: 'filestore', table: 'filestore_file', id: 'id', text: ['data_key'] };

const PASS_BATCH = 50;

/**
 * Files encrypted at rest (#14 Build 4): each file gets a random data key, stored in its row
 * sealed under its state's key (so a key rotation re-wraps keys, never rewrites files); its
 * blobs — the original and the thumbnails — are sealed with it (filestore.cipher.ts).
 */
export function createFileSealing(deps: {
  encryption: EncryptionService;
  store: FilestoreStore;
  blobs: BlobStore;
  clock: Clock;
  logger: FastifyBaseLogger;
}) {
  const { encryption, store, blobs, clock, logger } = deps;

  async function keyOf(row: Pick<FileRow, 'id' | 'tenant_id' | 'data_key'>): Promise<Buffer | undefined> {
    if (row.data_key === null) return undefined;
    const keys = await encryption.forTenant(row.tenant_id);
    try {
      return Buffer.from(keys.decrypt(row.data_key), 'base64');
    } catch (error) {
      // The key column itself is damaged: the store's fault, not the caller's.
      throw new BlobIntegrityError(`filestore: the data key of file ${row.id} does not open (${(error as Error).message})`);
    }
  }

  async function readAll(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Encrypts the blobs of a file uploaded before files were encrypted; false when it went meanwhile. */
  async function sealFile(row: FileRow, refs: readonly BlobRef[]): Promise<boolean> {
    if (row.data_key === null) {
      const made = (await encryption.forTenant(row.tenant_id)).encrypt(randomBytes(32).toString('base64'));
      // Key first, then blobs, then the mark: a crash anywhere leaves a state the read path and the next pass understand.
      if (!(await store.setDataKey(row.id, made))) {
        const [now] = await store.byIds([row.id]);
        if (!now) return false;
        row = now;
      } else row = { ...row, data_key: made };
    }
    const key = (await keyOf(row))!;
    for (const ref of refs) {
      const bytes = await readAll(await blobs.read(ref.key));
      if (isSealed(bytes)) continue; // sealed by a pass that stopped before its mark
      // Nothing altered is sealed (and so vouched for): the original must still be what was uploaded.
      if (ref.name === row.id && createHash('sha256').update(bytes).digest('hex') !== row.sha256) {
        throw new BlobIntegrityError(`filestore: file ${row.id} no longer matches its checksum; left as it is`);
      }
      await blobs.put(ref.key, sealBlob(key, ref.name, bytes));
    }
    await store.markSealed(row.id, clock.now());
    return true;
  }

  return {
    /** A new file's data key: the key, and the column value (sealed under the state's key). */
    async newKey(tenantId: string): Promise<{ key: Buffer; sealed: string }> {
      const key = randomBytes(32);
      return { key, sealed: (await encryption.forTenant(tenantId)).encrypt(key.toString('base64')) };
    },

    seal: (key: Buffer, ref: BlobRef, plaintext: Buffer): BlobBody => sealBlob(key, ref.name, plaintext),

    /**
     * The plaintext of one blob of the file. A file recorded as sealed must be; one that is not yet
     * (uploaded before, or its sealing stopped halfway) is read by its format.
     */
    async open(row: FileRow, ref: BlobRef): Promise<Readable> {
      const key = await keyOf(row);
      return openBlob(await blobs.read(ref.key), ref.name, key, row.sealed_time !== null);
    },

    /**
     * Encrypts every file uploaded before files were encrypted (at start, and `plinth files seal`):
     * batch by batch, idempotent, each file on its own (one that fails is logged and left as it is).
     */
    async sealStored(
      blobsOf: (row: FileRow) => BlobRef[],
      stopped: () => boolean = () => false,
    ): Promise<{ sealed: number; failed: number }> {
      let sealed = 0;
      let failed = 0;
      let after = '';
      for (;;) {
        const rows = await store.unsealedAfter(after, PASS_BATCH);
        if (rows.length === 0) return { sealed, failed };
        for (const row of rows) {
          // A stopping process leaves the rest to the next start.
          if (stopped()) return { sealed, failed };
          after = row.id;
          try {
            if (await sealFile(row, blobsOf(row))) sealed += 1;
          } catch (error) {
            failed += 1;
            logger.warn({ err: error, fileStoreId: row.id }, 'filestore: a file could not be encrypted; it stays readable as it is');
          }
        }
      }
    },
  };
}

export type FileSealing = ReturnType<typeof createFileSealing>;
