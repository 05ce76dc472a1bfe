import { defineModule } from '../../kernel/module.js';
import type { Tx } from '../../kernel/db.js';
import { encryptionModule, type EncryptionApi } from '../../common/encryption/index.js';
import { mdmsModule, type MdmsApi } from '../../common/mdms/index.js';
import type { PersonForLinkage } from './clk.js';
import { dedupRoutes } from './dedup.routes.js';
import { createDedupService, type Actor, type DedupServiceImpl, type DuplicateCandidate } from './dedup.service.js';
import { createDedupStore } from './dedup.store.js';
import { init } from './migrations/0001_init.js';
import { changeTime } from './migrations/0002_change_time.js';

export type { PersonForLinkage } from './clk.js';
export type { Actor, DuplicateCandidate, ProgramConfig, Review } from './dedup.service.js';
export { CLK_SCHEME, DEFAULT_THRESHOLD } from './clk.js';
export { DEFAULT_PROGRAM } from './dedup.service.js';

export type DedupService = {
  /**
   * Loads the tenant's default-program key outside any transaction. Call it before the
   * transaction that calls register/update/forget: on SQLite (one connection) the first load of
   * keys cannot run inside someone else's transaction.
   */
  prepare(tenantId: string): Promise<void>;
  /**
   * Encodes each person (keyed per program), stores the encodings in `tx`, and answers for each
   * the existing records at or above the threshold; every such pair is queued for review. The
   * program is "default" (its threshold from MDMS Dedup.Config). Registrations of one program wait
   * for each other's transactions (see dedup.service.ts), so a duplicate registered at the same
   * moment elsewhere is still found.
   */
  register(
    tx: Tx,
    tenantId: string,
    people: ReadonlyArray<{ recordId: string; person: PersonForLinkage }>,
    actor?: Actor,
  ): Promise<DuplicateCandidate[][]>;
  /** Replaces a record's encoding after an update (no new review items for pairs already decided). */
  update(tx: Tx, tenantId: string, recordId: string, person: PersonForLinkage, actor?: Actor): Promise<DuplicateCandidate[]>;
  /** Drops a deleted record's encoding from matching. */
  forget(tx: Tx, tenantId: string, recordId: string): Promise<void>;
  /** Scores a person against the program's records without registering anything. */
  check: DedupServiceImpl['check'];
  searchReviews: DedupServiceImpl['searchReviews'];
  decide: DedupServiceImpl['decide'];
};

export type DedupApi = { readonly service: DedupService };

/** Privacy-preserving duplicate detection: keyed field-level Bloom filters compared by Dice and weighed Fellegi–Sunter style. */
export const dedupModule = defineModule<DedupApi, { encryption: EncryptionApi; mdms: MdmsApi }>({
  name: 'dedup',
  requires: { encryption: encryptionModule, mdms: mdmsModule },
  migrations: [init, changeTime],
  create({ database, clock, outbox }, { encryption, mdms }) {
    const store = createDedupStore(database, clock);
    const service = createDedupService({ database, store, clock, outbox, encryption: encryption.service, mdms: mdms.service });
    return { api: { service }, routes: dedupRoutes(service) };
  },
});
