import { defineModule } from '../../kernel/module.js';
import type { Tx } from '../../kernel/db.js';
import type { EncryptionApi } from '../../common/encryption/index.js';
import type { MdmsApi } from '../../common/mdms/index.js';

/** The identifying fields of a person, as the registry holds them in plain text before encryption. */
export type PersonForLinkage = {
  readonly givenName?: string | null;
  readonly familyName?: string | null;
  readonly otherNames?: string | null;
  /** DIGIT's `dd/MM/yyyy`. */
  readonly dateOfBirth?: string | null;
  readonly gender?: string | null;
  /** Boundary code of the locality. */
  readonly locality?: string | null;
  readonly mobileNumber?: string | null;
};

/** Another record of the same tenant and program whose encoding is similar (Dice ≥ threshold). */
export type DuplicateCandidate = { readonly recordId: string; readonly score: number };

export type DedupService = {
  /**
   * Encodes each person (keyed per program), stores the encodings in `tx`, and answers for each
   * the existing records at or above the threshold; every such pair is queued for review.
   */
  register(
    tx: Tx,
    tenantId: string,
    people: ReadonlyArray<{ recordId: string; person: PersonForLinkage }>,
  ): Promise<DuplicateCandidate[][]>;
  /** Replaces a record's encoding after an update (no new review items for pairs already decided). */
  update(tx: Tx, tenantId: string, recordId: string, person: PersonForLinkage): Promise<DuplicateCandidate[]>;
  /** Drops a deleted record's encoding from matching. */
  forget(tx: Tx, tenantId: string, recordId: string): Promise<void>;
};

export type DedupApi = { readonly service: DedupService };

/** Privacy-preserving duplicate detection: keyed Bloom-filter encodings compared by Dice. */
export const dedupModule = defineModule<DedupApi, { encryption: EncryptionApi; mdms: MdmsApi }>({
  name: 'dedup',
  migrations: [],
  create() {
    const notYet = (): never => {
      throw new Error('dedup: not implemented yet');
    };
    return { api: { service: { register: notYet, update: notYet, forget: notYet } } };
  },
});
