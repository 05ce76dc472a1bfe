import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { assertKnownTenant, tenantLineage } from '../../kernel/tenancy.js';
import { assertInScope, SYSTEM_SCOPE, type Scope } from '../../kernel/scope.js';
import type { EncryptionService } from '../../common/encryption/index.js';
import type { MdmsService } from '../../common/mdms/index.js';
import {
  CLK_SCHEME,
  DEFAULT_THRESHOLD,
  bytesToBase64,
  createEncoder,
  encodingFrom,
  wordsToBase64,
  type Encoder,
  type Encoding,
  type PersonForLinkage,
} from './clk.js';
import { createLinkageIndex, type LinkageIndex, type Match } from './linkage.js';
import type { DedupStore, EncodingRow, ReviewRow, ReviewStatus, Runner } from './dedup.store.js';

export type Actor = { uuid: string | null };
export type DuplicateCandidate = { readonly recordId: string; readonly score: number };

export const DEFAULT_PROGRAM = 'default';
/** Most candidates answered (and queued) per person: the best ones. */
export const MAX_CANDIDATES = 20;
const SOURCE = '/plinth/dedup';
const CONFIG_SCHEMA = 'Dedup.Config';

function configOf(record: unknown): ProgramConfig | undefined {
  const r = (record ?? {}) as { program?: unknown; threshold?: unknown; active?: unknown };
  if (typeof r.program !== 'string' || typeof r.threshold !== 'number' || r.active === false) return undefined;
  return { program: r.program, threshold: r.threshold };
}

export type ProgramConfig = { readonly program: string; readonly threshold: number };

export type Review = {
  id: string;
  tenantId: string;
  program: string;
  recordId: string;
  matchId: string;
  score: number;
  status: ReviewStatus;
  decidedBy: string | null;
  decidedTime: number | null;
  comment: string | null;
  auditDetails: { createdBy: string | null; lastModifiedBy: string | null; createdTime: number; lastModifiedTime: number };
};

/**
 * The in-memory blocking index of one (tenant, program), and the version it reflects. Every write
 * takes the program's next version under a row lock (dedup_program_state), so versions are
 * issued in commit order across processes: a writer holding version v knows every version < v is
 * committed, and `rows with version > mine` brings any process's index up to date exactly,
 * including records another server registered a moment ago. Registrations of one program are
 * thereby serialized (the lock is held to the end of the registry's transaction): the price of
 * finding a duplicate registered at the same moment on another server.
 */
type ProgramIndex = { index: LinkageIndex; version: number; versions: Map<string, number> };

export type DedupServiceDeps = {
  database: Database;
  store: DedupStore;
  clock: Clock;
  outbox: Outbox;
  encryption: EncryptionService;
  mdms: MdmsService;
};

export function createDedupService({ database, store, clock, outbox, encryption, mdms }: DedupServiceDeps) {
  const indexes = new Map<string, ProgramIndex>();
  const encoders = new Map<string, Encoder>();

  /** Programs and thresholds from MDMS `Dedup.Config` (the state's records apply to its cities); "default" at DEFAULT_THRESHOLD when not configured. */
  async function programs(tenantId: string): Promise<ProgramConfig[]> {
    const res = await mdms.searchV1(
      { tenantId, moduleDetails: [{ moduleName: 'Dedup', masterDetails: [{ name: 'Config' }] }] },
      SYSTEM_SCOPE,
    );
    const list = (res['Dedup']?.['Config'] ?? []).flatMap((record) => configOf(record) ?? []);
    if (!list.some((c) => c.program === DEFAULT_PROGRAM)) list.push({ program: DEFAULT_PROGRAM, threshold: DEFAULT_THRESHOLD });
    return list;
  }

  async function programOf(tenantId: string, program?: string | null): Promise<ProgramConfig> {
    const wanted = program ?? DEFAULT_PROGRAM;
    const found = (await programs(tenantId)).find((c) => c.program === wanted);
    if (!found) throw invalid('UNKNOWN_PROGRAM', `Deduplication program "${wanted}" is not configured in MDMS Dedup.Config`, [wanted]);
    return found;
  }

  /**
   * The default program's configuration read through `tx`: registries call register inside their
   * transaction, and on SQLite (one connection) a read outside it would wait for it forever.
   */
  async function defaultProgramInTx(tx: Tx, tenantId: string): Promise<ProgramConfig> {
    for (const tenant of tenantLineage(tenantId)) {
      const row = await mdms.findByKey(tx, tenant, CONFIG_SCHEMA, DEFAULT_PROGRAM);
      if (row) return (row.is_active ? configOf(row.data) : undefined) ?? { program: DEFAULT_PROGRAM, threshold: DEFAULT_THRESHOLD };
    }
    return { program: DEFAULT_PROGRAM, threshold: DEFAULT_THRESHOLD };
  }

  /** The program's HMAC key: derived per program from the state's keys, so programs' encodings cannot be joined. */
  async function programKey(tenantId: string, program: string): Promise<{ stateTenant: string; key: Uint8Array }> {
    const keys = await encryption.forTenant(tenantId);
    return { stateTenant: keys.tenantId, key: keys.derivedKey(`dedup:${program}`) };
  }

  /**
   * Encoders per (tenant, program), kept for the process's life: the derived key does not change
   * when data keys rotate. The first use loads the tenant's keys; inside a registry's transaction
   * on SQLite that load must already be cached (the registry encrypts the same people first, or
   * calls `prepare`).
   */
  async function encoderOf(tenantId: string, program: string): Promise<Encoder> {
    const cacheKey = `${tenantId}|${program}`;
    let encoder = encoders.get(cacheKey);
    if (!encoder) {
      encoder = createEncoder((await programKey(tenantId, program)).key);
      encoders.set(cacheKey, encoder);
    }
    return encoder;
  }

  function apply(state: ProgramIndex, row: Pick<EncodingRow, 'record_id' | 'clk' | 'blocks' | 'version' | 'is_deleted'>) {
    const seen = state.versions.get(row.record_id);
    if (seen !== undefined && seen > row.version) return;
    state.versions.set(row.record_id, row.version);
    if (database.fromBool(row.is_deleted) || row.clk === '') state.index.remove(row.record_id);
    else state.index.put(row.record_id, encodingFrom(row.clk, row.blocks));
  }

  /** The index brought up to `upTo` (every version ≤ upTo is committed), reading through `db`. */
  async function indexAt(db: Runner, tenantId: string, program: string, upTo: number): Promise<ProgramIndex> {
    const key = `${tenantId}|${program}`;
    let state = indexes.get(key);
    if (!state) {
      state = { index: createLinkageIndex(), version: 0, versions: new Map() };
      indexes.set(key, state);
    }
    if (state.version < upTo) {
      const from = state.version;
      // The index is the platform's, one per tenant and program, shared by every caller: it reads the
      // whole tenant; check() decides whether a caller may match against it.
      for (const row of await store.changedSince(db, tenantId, program, from, SYSTEM_SCOPE)) if (row.version <= upTo) apply(state, row);
      state.version = Math.max(state.version, upTo);
    }
    return state;
  }

  function best(matches: readonly Match[]): DuplicateCandidate[] {
    return matches.slice(0, MAX_CANDIDATES).map((m) => ({ recordId: m.id, score: Math.round(m.score * 10_000) / 10_000 }));
  }

  /**
   * Encodes, matches against the index (and against earlier people of the same batch), stores the
   * encodings and queues every candidate pair not queued before.
   */
  async function registerInTx(
    tx: Tx,
    tenantId: string,
    people: ReadonlyArray<{ recordId: string; person: PersonForLinkage }>,
    actor: Actor,
  ): Promise<DuplicateCandidate[][]> {
    if (people.length === 0) return [];
    const { program, threshold } = await defaultProgramInTx(tx, tenantId);
    const encoder = await encoderOf(tenantId, program);
    const db = store.runner(tx);
    const now = clock.now();
    const version = await store.nextVersion(db, tenantId, program, now);
    const state = await indexAt(db, tenantId, program, version - 1);

    const batch = createLinkageIndex(people.length);
    const encoded: Array<{ recordId: string; encoding: Encoding; locality: string | null }> = [];
    const answers: DuplicateCandidate[][] = [];
    const reviews: ReviewRow[] = [];
    const lastOf = new Map<string, number>();
    people.forEach(({ recordId }, i) => lastOf.set(recordId, i));
    people.forEach(({ recordId, person }, i) => {
      const encoding = encoder.encode(person);
      const probe = encoder.probeKeys(person);
      const byId = new Map<string, number>();
      for (const m of [...state.index.match(encoding, probe, threshold, recordId), ...batch.match(encoding, probe, threshold, recordId)]) {
        byId.set(m.id, Math.max(m.score, byId.get(m.id) ?? 0));
      }
      const candidates = best([...byId].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)));
      answers.push(candidates);
      // A record sent twice in one batch: its last version wins, as in the table.
      if (lastOf.get(recordId) === i) {
        batch.put(recordId, encoding);
        encoded.push({ recordId, encoding, locality: person.locality?.trim() || null });
      }
      for (const c of candidates) {
        reviews.push({
          id: newId(),
          tenant_id: tenantId,
          program,
          record_id: recordId,
          match_id: c.recordId,
          pair_key: recordId < c.recordId ? `${recordId}|${c.recordId}` : `${c.recordId}|${recordId}`,
          score: c.score,
          status: 'PENDING',
          decided_by: null,
          decided_time: null,
          comment: null,
          created_by: actor.uuid,
          created_time: now,
          last_modified_by: actor.uuid,
          last_modified_time: now,
        });
      }
    });

    const rows: EncodingRow[] = encoded.map(({ recordId, encoding, locality }) => ({
      tenant_id: tenantId,
      program,
      record_id: recordId,
      locality,
      clk: wordsToBase64(encoding.clk),
      blocks: wordsToBase64(encoding.blocks),
      version,
      is_deleted: database.toBool(false),
      created_by: actor.uuid,
      created_time: now,
      last_modified_by: actor.uuid,
      last_modified_time: now,
      change_time: now,
    }));
    await store.upsertEncodings(tx, rows);
    const queued = await store.insertReviews(db, reviews);
    for (const review of queued) {
      await outbox.append(tx, {
        type: 'plinth.dedup.review.created.v1',
        source: SOURCE,
        subject: review.id,
        tenantId,
        data: { program, recordId: review.record_id, matchId: review.match_id, score: review.score },
      });
    }
    tx.afterCommit(() => {
      for (const row of rows) apply(state, row);
      state.version = Math.max(state.version, version);
    });
    return answers;
  }

  function toReview(row: ReviewRow): Review {
    return {
      id: row.id,
      tenantId: row.tenant_id,
      program: row.program,
      recordId: row.record_id,
      matchId: row.match_id,
      score: row.score,
      status: row.status,
      decidedBy: row.decided_by,
      decidedTime: row.decided_time,
      comment: row.comment,
      auditDetails: {
        createdBy: row.created_by,
        lastModifiedBy: row.last_modified_by,
        createdTime: row.created_time,
        lastModifiedTime: row.last_modified_time,
      },
    };
  }

  return {
    /** Loads what register needs (the program's key) outside any transaction; registries call it before theirs. */
    async prepare(tenantId: string): Promise<void> {
      await encoderOf(tenantId, DEFAULT_PROGRAM);
    },

    register(
      tx: Tx,
      tenantId: string,
      people: ReadonlyArray<{ recordId: string; person: PersonForLinkage }>,
      actor: Actor = { uuid: null },
    ) {
      return registerInTx(tx, tenantId, people, actor);
    },

    async update(
      tx: Tx,
      tenantId: string,
      recordId: string,
      person: PersonForLinkage,
      actor: Actor = { uuid: null },
    ): Promise<DuplicateCandidate[]> {
      const [candidates] = await registerInTx(tx, tenantId, [{ recordId, person }], actor);
      return candidates ?? [];
    },

    async forget(tx: Tx, tenantId: string, recordId: string): Promise<void> {
      const { program } = await defaultProgramInTx(tx, tenantId);
      const db = store.runner(tx);
      const now = clock.now();
      const version = await store.nextVersion(db, tenantId, program, now);
      const state = await indexAt(db, tenantId, program, version - 1);
      await store.tombstone(tx, tenantId, program, recordId, version, now, database.toBool(true));
      tx.afterCommit(() => {
        apply(state, { record_id: recordId, clk: '', blocks: '', version, is_deleted: database.toBool(true) });
        state.version = Math.max(state.version, version);
      });
    },

    /** Scores a person against the program's records without registering anything. */
    async check(
      tenantId: string,
      person: PersonForLinkage,
      program: string | null | undefined,
      scope: Scope,
    ): Promise<{ program: string; threshold: number; candidates: DuplicateCandidate[] }> {
      assertInScope(scope, tenantId);
      await assertKnownTenant(mdms.tenants, tenantId);
      const config = await programOf(tenantId, program);
      const encoder = await encoderOf(tenantId, config.program);
      const db = store.runner();
      const state = await indexAt(db, tenantId, config.program, await store.currentVersion(db, tenantId, config.program));
      const matches = state.index.match(encoder.encode(person), encoder.probeKeys(person), config.threshold);
      return { ...config, candidates: best(matches) };
    },

    async searchReviews(
      criteria: {
        tenantId: string;
        program?: string | null;
        status?: ReviewStatus | null;
        ids?: readonly string[] | null;
        recordIds?: readonly string[] | null;
        offset?: number | null;
        limit?: number | null;
      },
      scope: Scope,
    ): Promise<{ reviews: Review[]; totalCount: number }> {
      await assertKnownTenant(mdms.tenants, criteria.tenantId);
      const { rows, total } = await store.searchReviews(
        store.runner(),
        {
          tenantId: criteria.tenantId,
          program: criteria.program ?? undefined,
          status: criteria.status ?? undefined,
          ids: criteria.ids ?? undefined,
          recordIds: criteria.recordIds ?? undefined,
          offset: criteria.offset ?? 0,
          limit: criteria.limit ?? 100,
        },
        scope,
      );
      return { reviews: rows.map(toReview), totalCount: total };
    },

    /**
     * Closes a PENDING review. DUPLICATE links the two records (the review's record is a duplicate
     * of its match; both stay in the registry); NOT_DUPLICATE only closes it. A review already
     * decided answers 409 REVIEW_ALREADY_DECIDED with its decision, so two reviewers cannot both win.
     */
    async decide(
      input: { tenantId: string; id: string; status: 'DUPLICATE' | 'NOT_DUPLICATE'; comment?: string | null },
      actor: Actor,
      scope: Scope,
    ): Promise<{ review: Review; linkId: string | null }> {
      await assertKnownTenant(mdms.tenants, input.tenantId);
      return database.transaction(async (tx) => {
        const db = store.runner(tx);
        // The STORED review's tenant must be in the caller's scope (403), whatever the body names.
        await store.reviewTenant(db, input.id, scope);
        const now = clock.now();
        const change = { status: input.status, decidedBy: actor.uuid, comment: input.comment ?? null, now };
        const row = await store.decide(db, input.tenantId, input.id, change, scope);
        if (!row) {
          const { rows } = await store.searchReviews(db, { tenantId: input.tenantId, ids: [input.id], offset: 0, limit: 1 }, scope);
          const existing = rows[0];
          if (!existing)
            throw new DomainError('not_found', {
              code: 'REVIEW_NOT_FOUND',
              message: `No review ${input.id} in tenant ${input.tenantId}`,
              params: [input.id],
            });
          throw new DomainError('conflict', {
            code: 'REVIEW_ALREADY_DECIDED',
            message: `Review ${input.id} was already decided ${existing.status}`,
            params: [input.id, existing.status],
          });
        }
        let linkId: string | null = null;
        if (row.status === 'DUPLICATE') {
          linkId = newId();
          await store.insertLink(db, {
            id: linkId,
            tenant_id: row.tenant_id,
            program: row.program,
            record_id: row.record_id,
            duplicate_of: row.match_id,
            review_id: row.id,
            created_by: actor.uuid,
            created_time: now,
            last_modified_by: actor.uuid,
            last_modified_time: now,
          });
        }
        await outbox.append(tx, {
          type: 'plinth.dedup.review.decided.v1',
          source: SOURCE,
          subject: row.id,
          tenantId: row.tenant_id,
          data: { program: row.program, recordId: row.record_id, matchId: row.match_id, status: row.status, linkId },
        });
        return { review: toReview(row), linkId };
      });
    },

    /** Encodings of some localities, for a field device: record ids, locality, CLK and blocking keys (base64); no names or numbers. */
    async searchEncodings(
      criteria: {
        tenantId: string;
        program?: string | null;
        localities: readonly string[];
        lastChangedSince?: number | null;
        includeDeleted?: boolean | null;
        offset?: number | null;
        limit?: number | null;
      },
      scope: Scope,
    ) {
      await assertKnownTenant(mdms.tenants, criteria.tenantId);
      const config = await programOf(criteria.tenantId, criteria.program);
      const db = store.runner();
      const { rows, total } = await store.searchEncodings(
        db,
        {
          tenantId: criteria.tenantId,
          program: config.program,
          localities: criteria.localities,
          lastChangedSince: criteria.lastChangedSince ?? undefined,
          includeDeleted: criteria.includeDeleted ?? false,
          offset: criteria.offset ?? 0,
          limit: criteria.limit ?? 1000,
        },
        database.toBool(false),
        scope,
      );
      return {
        program: config.program,
        threshold: config.threshold,
        totalCount: total,
        encodings: rows.map((r) => ({
          recordId: r.record_id,
          locality: r.locality,
          clk: r.clk,
          blocks: r.blocks,
          isDeleted: database.fromBool(r.is_deleted),
          lastModifiedTime: r.last_modified_time,
        })),
      };
    },

    /**
     * The program's encoding key, for a field device that must encode offline. It is per program
     * (derived from the state's keys), so it opens only that program's encodings; each hand-out is
     * recorded as an event with the caller.
     */
    async issueKey(tenantId: string, program: string | null | undefined, actor: Actor, scope: Scope) {
      assertInScope(scope, tenantId);
      await assertKnownTenant(mdms.tenants, tenantId);
      const config = await programOf(tenantId, program);
      const { stateTenant, key } = await programKey(tenantId, config.program);
      await database.transaction((tx) =>
        outbox.append(tx, {
          type: 'plinth.dedup.key.issued.v1',
          source: SOURCE,
          subject: `${stateTenant}|${config.program}`,
          tenantId,
          data: { program: config.program, issuedTo: actor.uuid },
        }),
      );
      return { program: config.program, threshold: config.threshold, stateTenantId: stateTenant, key: bytesToBase64(key) };
    },

    /** The scheme's public parameters, served with encodings and keys so a device compares as the server does. */
    scheme: {
      id: CLK_SCHEME.id,
      bits: CLK_SCHEME.bits,
      segments: Object.fromEntries(Object.entries(CLK_SCHEME.segments).map(([field, words]) => [field, [...words]])),
      bias: CLK_SCHEME.bias,
      weights: Object.fromEntries(Object.entries(CLK_SCHEME.weights).map(([term, knots]) => [term, knots.map((knot) => [...knot])])),
    },
  };
}

export type DedupServiceImpl = ReturnType<typeof createDedupService>;
