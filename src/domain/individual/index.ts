import type { UserInfo } from '../../kernel/auth.js';
import { defineModule } from '../../kernel/module.js';
import type { AuditApi } from '../../common/audit/index.js';
import type { BoundaryApi } from '../../common/boundary/index.js';
import type { EncryptionApi } from '../../common/encryption/index.js';
import type { IdgenApi } from '../../common/idgen/index.js';
import type { MdmsApi } from '../../common/mdms/index.js';
import type { DedupApi } from '../dedup/index.js';
import { individualRoutes } from './individual.routes.js';
import { createIndividualService, type BatchResult } from './individual.service.js';
import { createIndividualStore } from './individual.store.js';
import { init } from './migrations/0001_init.js';
import { changeTime } from './migrations/0002_change_time.js';

export { normalizeIdentifier, normalizeMobile, normalizeName } from './individual.rows.js';
export type { Accepted as IndividualAccepted, BatchResult as IndividualBatchResult } from './individual.service.js';

/** What other registries may ask of individuals (households link members to them). */
export type IndividualLookup = {
  /** Server ids of the individuals with these client reference ids (deleted ones included), by client reference id. */
  idsByClientReferenceId(tenantId: string, clientReferenceIds: readonly string[]): Promise<Map<string, string>>;
  /** The subset of these server ids that exist in the tenant (deleted ones included). */
  existingIds(tenantId: string, ids: readonly string[]): Promise<Set<string>>;
  /**
   * DIGIT-shaped Individuals by server id, decrypted and masked for `viewer` by the security
   * policy, each decryption audited: what a downsync hands a device.
   */
  view(tenantId: string, ids: readonly string[], viewer: UserInfo, options?: { includeDeleted?: boolean }): Promise<unknown[]>;
};

export type IndividualApi = {
  readonly lookup: IndividualLookup;
  /**
   * Creates individuals for the system itself (no HTTP caller, no account link), e.g. a child
   * announced by another agency. Answers per record as the bulk create does: a clientReferenceId
   * already stored answers the stored person, so a redelivered event registers no one twice.
   */
  readonly createAsSystem: (records: readonly unknown[], correlationId?: string | null) => Promise<BatchResult>;
};

export type IndividualDeps = {
  mdms: MdmsApi;
  audit: AuditApi;
  boundary: BoundaryApi;
  idgen: IdgenApi;
  encryption: EncryptionApi;
  dedup: DedupApi;
};

/** DIGIT's individual registry: people, encrypted at rest, synced from offline devices. */
export const individualModule = defineModule<IndividualApi, IndividualDeps>({
  name: 'individual',
  migrations: [init, changeTime],
  create({ database, clock, outbox }, { mdms, audit, boundary, idgen, encryption, dedup }) {
    const store = createIndividualStore(database, clock);
    const service = createIndividualService({
      database,
      store,
      clock,
      outbox,
      mdms: mdms.service,
      audit: audit.log,
      boundary: boundary.service,
      idgen: idgen.service,
      encryption: encryption.service,
      dedup: dedup.service,
    });
    // Key rotation: the encryption service runs this until no individual is left under an old key.
    encryption.service.registerReencryption('individual', (keys, tx) => service.reencryptBatch(keys, tx));
    return {
      api: {
        lookup: service.lookup,
        createAsSystem: (records, correlationId) => service.create(records, { user: null, correlationId: correlationId ?? null }),
      },
      routes: individualRoutes(service),
    };
  },
});
