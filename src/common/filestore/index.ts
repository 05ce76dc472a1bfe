import path from 'node:path';
import { defineModule } from '../../kernel/module.js';
import type { Tx } from '../../kernel/db.js';
import { accessModule, type AccessApi } from '../access/index.js';
import { encryptionModule, type EncryptionApi } from '../encryption/index.js';
import type { FilestoreS3Config } from '../../kernel/config.js';
import { diskBlobStore, type BlobStore } from './filestore.blob.js';
import { filestoreRoutes } from './filestore.routes.js';
import { createFilestoreService, type FileLink, type FileMetadata, type FileOwner, type RecordOwnerCheck } from './filestore.service.js';
import { createFilestoreStore } from './filestore.store.js';
import { createFileSealing, SEALED_FILE_KEYS } from './filestore.sealing.js';
import { init } from './migrations/0001_init.js';
import { sealed } from './migrations/0002_sealed.js';

export type { BlobStore } from './filestore.blob.js';
export type { FileLink, FileMetadata, FileOwner, RecordOwnerCheck } from './filestore.service.js';

export type FilestoreApi = {
  /**
   * Marks files as belonging to a record (a complaint, …), in the caller's transaction when
   * given; refuses ids unknown to the tenant or owned by another record. Unclaimed files are
   * deleted by the cleanup once older than PLINTH_FILESTORE_ORPHAN_HOURS.
   */
  claim(tenantId: string, fileStoreIds: readonly string[], owner: FileOwner, tx?: Tx): Promise<void>;
  metadata(tenantId: string, fileStoreId: string): Promise<FileMetadata>;
  /**
   * Declares who owns the records files are claimed for under `module` (e.g. PGR → the complaint's
   * citizen): a citizen reads the files attached to records of theirs, besides their own uploads.
   */
  registerRecordOwner(module: string, check: RecordOwnerCheck): void;
  /** Signed download links under `baseUrl` (default PLINTH_PUBLIC_URL), signed at `now` (default: the clock). */
  urls(tenantId: string, fileStoreIds: readonly string[], baseUrl?: string, now?: number): Promise<FileLink[]>;
  /** Deletes unclaimed files older than the allowed age as of `now`; answers how many. */
  cleanup(now?: number): Promise<number>;
  /** Encrypts the files uploaded before files were encrypted (a worker does at start; `plinth files seal`). */
  sealStored(): Promise<{ sealed: number; failed: number }>;
};

const HOUR = 3_600_000;

/** DIGIT's egov-filestore: uploads checked by their bytes, thumbnails, expiring links; files encrypted at rest. */
export const filestoreModule = defineModule<FilestoreApi, { access: AccessApi; encryption: EncryptionApi }>({
  name: 'filestore',
  requires: { access: accessModule, encryption: encryptionModule },
  migrations: [init, sealed],
  create({ config, database, clock, logger }, { access, encryption }) {
    // A bucket configured: S3 (every process of the deployment sees the same files); else the local disk.
    const blobs = config.filestoreS3 ? lazyS3BlobStore(config.filestoreS3) : diskBlobStore(path.join(config.dataDir, 'files'));
    const store = createFilestoreStore(database);
    // Files' data keys follow key rotations (re-wrapped; the files are not rewritten).
    encryption.service.registerSealedTable(SEALED_FILE_KEYS);
    const service = createFilestoreService({
      database,
      store,
      blobs,
      sealing: createFileSealing({ encryption: encryption.service, store, blobs, clock, logger }),
      clock,
      logger,
      timeZone: config.timeZone,
      settings: {
        maxBytes: config.filestoreMaxBytes,
        linkTtlMs: config.filestoreLinkMinutes * 60_000,
        orphanMaxAgeMs: config.filestoreOrphanHours * HOUR,
        allowed: ['jpeg', 'png', 'webp', 'pdf'],
      },
    });
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> | undefined;
    let stopping = false;
    const sweep = () => {
      running ??= service
        .cleanup()
        .then((removed) => removed > 0 && logger.info({ removed }, 'filestore: unclaimed files removed'))
        .catch((error: unknown) => logger.warn({ err: error }, 'filestore: cleanup failed'))
        .finally(() => (running = undefined));
    };
    return {
      api: {
        claim: (tenantId, ids, owner, tx) => service.claim(tenantId, ids, owner, null, tx),
        metadata: (tenantId, id) => service.metadata(tenantId, id),
        registerRecordOwner: (module, check) => service.registerRecordOwner(module, check),
        urls: (tenantId, ids, baseUrl = config.publicUrl, now) => service.urls(tenantId, ids, baseUrl, now),
        cleanup: (now) => service.cleanup(now),
        sealStored: () => service.sealStored(),
      },
      routes: filestoreRoutes(service, access.authorizer, config.publicUrl),
      async start() {
        // Workers sweep; API-only processes leave it to them.
        if (config.role === 'api') return;
        // Files uploaded before files were encrypted are encrypted first, in the background (then the first sweep).
        running = service
          .sealStored(() => stopping)
          .then(({ sealed, failed }) => (sealed > 0 || failed > 0) && logger.info({ sealed, failed }, 'filestore: files stored before encryption encrypted'))
          .catch((error: unknown) => logger.warn({ err: error }, 'filestore: encrypting earlier files failed'))
          .finally(() => (running = undefined));
        // Once now (a restart must not push the sweep back an hour), then hourly.
        void running.then(() => stopping || sweep());
        timer = setInterval(sweep, HOUR);
        timer.unref();
      },
      async stop() {
        stopping = true;
        clearInterval(timer);
        await running;
        blobs.close?.();
      },
    };
  },
});

/**
 * The S3 store, loaded on first use: the AWS SDK costs about 22 MB of memory and 140 ms at start
 * (measured), which deployments on local disk should not pay.
 */
function lazyS3BlobStore(config: FilestoreS3Config): BlobStore {
  let store: Promise<BlobStore> | undefined;
  const get = () => (store ??= import('./filestore.s3.js').then((m) => m.s3BlobStore(config)));
  return {
    put: async (key, bytes) => (await get()).put(key, bytes),
    read: async (key) => (await get()).read(key),
    exists: async (key) => (await get()).exists(key),
    remove: async (key) => (await get()).remove(key),
    close() {
      void store?.then((s) => s.close?.());
    },
  };
}
