import type { UserInfo } from '../../kernel/auth.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import type { Outbox } from '../../kernel/events.js';
import type { RecordError } from '../../kernel/offline.js';
import type { AuditLog } from '../../common/audit/index.js';
import type { BoundaryApi } from '../../common/boundary/index.js';
import type { EncryptionService } from '../../common/encryption/index.js';
import type { IdgenService } from '../../common/idgen/index.js';
import type { MdmsService } from '../../common/mdms/index.js';
import type { DedupService, DuplicateCandidate } from '../dedup/index.js';
import type { IndividualOut } from './individual.schema.js';
import type { IndividualStore } from './individual.store.js';

/** Who is calling: the resolved user (null for the system) and the request's correlation id. */
export type Caller = { readonly user: UserInfo | null; readonly correlationId?: string | null };

export type Accepted = { index: number; record: IndividualOut; duplicates: DuplicateCandidate[] };
export type BatchResult = { accepted: Accepted[]; errors: RecordError[] };

export type SearchParams = {
  tenantId: string;
  limit?: number | undefined;
  offset?: number | undefined;
  lastChangedSince?: number | undefined;
  includeDeleted?: boolean | undefined;
};

/** What the individual registry's operations may use. */
export type IndividualServiceDeps = {
  database: Database;
  store: IndividualStore;
  clock: Clock;
  outbox: Outbox;
  mdms: MdmsService;
  audit: AuditLog;
  boundary: BoundaryApi['service'];
  idgen: IdgenService;
  encryption: EncryptionService;
  dedup: DedupService;
};

export const SOURCE = '/plinth/individual';
export const EVENT = {
  created: 'plinth.individual.created.v1',
  updated: 'plinth.individual.updated.v1',
  deleted: 'plinth.individual.deleted.v1',
} as const;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
export const nonEmpty = (value: string | null | undefined): value is string => typeof value === 'string' && value !== '';
