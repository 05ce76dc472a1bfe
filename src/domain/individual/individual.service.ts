import type { TenantKeys } from '../../common/encryption/index.js';
import type { Tx } from '../../kernel/db.js';
import { individualChange } from './individual.change.js';
import { individualCreate } from './individual.create.js';
import { individualReencryption } from './individual.reencrypt.js';
import { rowCodec } from './individual.rows.js';
import { individualSearch } from './individual.search.js';
import type { IndividualServiceDeps } from './individual.types.js';
import { individualValidation } from './individual.validate.js';
import { individualViewer } from './individual.viewer.js';

export type { Accepted, BatchResult, Caller, IndividualServiceDeps, SearchParams } from './individual.types.js';

/**
 * DIGIT's individual registry, one file per operation: create (individual.create.ts), update and
 * delete (individual.change.ts), search and the lookups of other registries (individual.search.ts),
 * re-encryption (individual.reencrypt.ts); over the rules (individual.validate.ts), the rows and
 * their encryption (individual.rows.ts) and who sees what (individual.viewer.ts). Writes run on
 * the kernel's offline write protocol.
 */
export function createIndividualService(deps: IndividualServiceDeps) {
  const codec = rowCodec(deps.database);
  const views = individualViewer(deps, codec);
  const validate = individualValidation(deps, views);
  const parts = { codec, views, validate };
  const { update, remove } = individualChange(deps, parts);
  const { search, lookup } = individualSearch(deps, views);
  const reencryptBatch: (keys: TenantKeys, tx: Tx) => Promise<number> = individualReencryption(deps);
  return { create: individualCreate(deps, parts), update, remove, search, reencryptBatch, lookup };
}

export type IndividualService = ReturnType<typeof createIndividualService>;
