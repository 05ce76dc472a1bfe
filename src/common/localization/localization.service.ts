import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { assertInScope, publicScope, scopeKey, type Scope } from '../../kernel/scope.js';
import { assertKnownTenant, isTenantIdSyntax, tenantLineage, type TenantDirectory } from '../../kernel/tenancy.js';
import {
  DEFAULT_TENANT,
  FALLBACK_LOCALE,
  MAX_CODE_LENGTH,
  MAX_MESSAGES_PER_CALL,
  MAX_MODULE_LENGTH,
  MAX_SEARCH_CODES,
  MAX_SEARCH_MODULES,
  checkLocale,
  checkMessage,
  checkName,
  keyOf,
  mergeMessages,
  type Message,
  type MessageKey,
} from './localization.rules.js';
import type { LocalizationStore, MessageRow, Runner } from './localization.store.js';

/** Who is writing; `null` for the seed loader. */
export type Actor = { uuid: string | null };

export type SearchCriteria = {
  tenantId: string;
  locale: string;
  /** Module names; empty or absent means every module. */
  modules?: readonly string[] | undefined;
  /** Codes; empty or absent means every code. */
  codes?: readonly string[] | undefined;
};

export type UpdateInput = { tenantId: string; locale: string; module: string; messages: ReadonlyArray<{ code: string; message: string }> };

/** What a write did; messages equal to the stored ones are left alone (and announce nothing). */
export type WriteCounts = { created: number; updated: number; unchanged: number };

type WriteMode = 'create' | 'update' | 'upsert';

const SOURCE = '/plinth/localization';
const CHANGE_TOPIC = 'localization';
/** Cached lists are bounded by the messages they hold: an open search must not grow memory at will. */
const CACHE_MAX_MESSAGES = 500_000;

export type LocalizationServiceDeps = {
  database: Database;
  store: LocalizationStore;
  clock: Clock;
  outbox: Outbox;
  changes: ChangeFeed;
  /** The tenants that exist (MDMS `tenant.tenants`). */
  tenants: TenantDirectory;
};

/** Enough to fix a file by; a call of 10 000 bad messages must not answer megabytes of errors. */
const MAX_REPORTED_ERRORS = 100;
const invalid = (details: ErrorDetail[]) => new DomainError('invalid', details.slice(0, MAX_REPORTED_ERRORS));

/** PostgreSQL's unique_violation, or SQLite's UNIQUE constraint failure. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** The tenants a search of `tenantId` merges: the tenant, its ancestors, then `default`. */
function lineageOf(tenantId: string): string[] {
  return tenantId === DEFAULT_TENANT ? [DEFAULT_TENANT] : [...tenantLineage(tenantId), DEFAULT_TENANT];
}

/** Messages are public text (DIGIT's UIs read their labels before login): anyone reads a tenant's lineage. */
export const readableFrom = (tenantId: string): Scope => publicScope(lineageOf(tenantId));

/**
 * DIGIT's egov-localization: messages per tenant, locale, module and code. Reads merge the tenant
 * lineage (city → state → `default`) and fill missing codes from `en_IN`; the computed lists are
 * cached per (tenant, locale, modules) and dropped on every change, here or in another process.
 */
export function createLocalizationService({ database, store, clock, outbox, changes, tenants }: LocalizationServiceDeps) {
  const cache = createReadCache<readonly Message[]>(changes, CHANGE_TOPIC, { maxSize: CACHE_MAX_MESSAGES, size: (list) => list.length + 1 });

  /** `default` is not a tenant of MDMS but DIGIT's root of every lineage. */
  async function assertTenant(tenantId: string, field = 'tenantId'): Promise<void> {
    if (tenantId === DEFAULT_TENANT) return;
    try {
      await assertKnownTenant(tenants, tenantId);
    } catch (error) {
      if (error instanceof DomainError) throw invalid(error.details.map((d) => ({ ...d, params: [field, ...(d.params ?? [])] })));
      throw error;
    }
  }

  async function computed(tenantId: string, locale: string, modules: readonly string[] | undefined, scope: Scope): Promise<readonly Message[]> {
    return cache.get(JSON.stringify([scopeKey(scope), tenantId, locale, modules ?? null]), async () => {
      const lineage = lineageOf(tenantId);
      const locales = locale === FALLBACK_LOCALE ? [locale] : [locale, FALLBACK_LOCALE];
      const rows = await store.forSearch(store.runner(), lineage, locales, modules, scope);
      return Object.freeze(mergeMessages(rows, lineage, locale));
    });
  }

  function checkSearch(criteria: SearchCriteria): ErrorDetail[] {
    const errors = [...checkLocale(criteria.locale, 'locale')];
    const modules = criteria.modules ?? [];
    const codes = criteria.codes ?? [];
    if (modules.length > MAX_SEARCH_MODULES)
      errors.push({ code: 'INVALID_MODULE', message: `module: at most ${MAX_SEARCH_MODULES} modules per search`, params: ['module'] });
    else modules.forEach((m) => errors.push(...checkName(m, 'module', MAX_MODULE_LENGTH, 'INVALID_MODULE')));
    if (codes.length > MAX_SEARCH_CODES)
      errors.push({ code: 'INVALID_CODE', message: `codes: at most ${MAX_SEARCH_CODES} codes per search`, params: ['codes'] });
    else codes.forEach((c) => errors.push(...checkName(c, 'codes', MAX_CODE_LENGTH, 'INVALID_CODE')));
    return errors;
  }

  /**
   * The tenant of a call: well-formed and known. Checked before the transaction opens: the tenant
   * directory reads outside it, which on SQLite's single connection would wait for it forever.
   */
  async function checkTenant(tenantId: string): Promise<void> {
    if (typeof tenantId !== 'string' || !isTenantIdSyntax(tenantId)) {
      throw invalid([
        {
          code: 'INVALID_TENANT_ID',
          message: `tenantId: "${String(tenantId).slice(0, 80)}" is not a valid tenant id`,
          params: ['tenantId'],
        },
      ]);
    }
    await assertTenant(tenantId);
  }

  /** Every field of every message, and no message twice in one call (DIGIT's unique key would refuse the second). */
  function checkMessages(messages: readonly Partial<Message>[]): void {
    if (messages.length === 0)
      throw invalid([{ code: 'INVALID_MESSAGES', message: 'messages: at least one message is required', params: ['messages'] }]);
    if (messages.length > MAX_MESSAGES_PER_CALL) {
      throw invalid([
        { code: 'INVALID_MESSAGES', message: `messages: at most ${MAX_MESSAGES_PER_CALL} messages per call`, params: ['messages'] },
      ]);
    }
    const errors: ErrorDetail[] = [];
    const seen = new Map<string, number>();
    messages.forEach((message, index) => {
      const problems = checkMessage(message, `messages[${index}]`);
      errors.push(...problems);
      if (problems.length > 0) return;
      const key = keyOf(message as Message);
      const first = seen.get(key);
      if (first !== undefined) {
        errors.push({
          code: 'core.DUPLICATE_MESSAGE_IDENTITY',
          message: `messages[${index}]: locale ${message.locale}, module ${message.module}, code ${message.code} is also messages[${first}]; each must be unique in one call`,
          params: [`messages[${index}]`],
        });
      } else seen.set(key, index);
    });
    if (errors.length > 0) throw invalid(errors);
  }

  /** Groups messages by (locale, module): the unit the store reads existing rows in. */
  function groups<T extends MessageKey>(messages: readonly T[]): Map<string, T[]> {
    const byGroup = new Map<string, T[]>();
    for (const message of messages) {
      const group = JSON.stringify([message.locale, message.module]);
      let list = byGroup.get(group);
      if (!list) byGroup.set(group, (list = []));
      list.push(message);
    }
    return byGroup;
  }

  async function existingRows(db: Runner, tenantId: string, messages: readonly MessageKey[], scope: Scope): Promise<Map<string, MessageRow>> {
    const existing = new Map<string, MessageRow>();
    for (const [, list] of groups(messages)) {
      const first = list[0]!;
      for (const row of await store.inGroup(db, tenantId, first.locale, first.module, scope)) existing.set(keyOf(row), row);
    }
    return existing;
  }

  async function announce(tx: Tx, tenantId: string, operation: 'upserted' | 'deleted', keys: readonly MessageKey[]): Promise<void> {
    await outbox.append(tx, {
      type: `plinth.localization.messages.${operation}.v1`,
      source: SOURCE,
      subject: tenantId,
      tenantId,
      data: { tenantId, messages: keys.map(({ code, module, locale }) => ({ code, module, locale })) },
    });
    await changes.publish(tx, CHANGE_TOPIC);
  }

  /**
   * The write path shared by create, update, upsert and the seed loader, in the caller's
   * transaction. The caller has checked the tenant (`checkTenant`) before opening it; `scope` is the
   * caller's (request.scope) or SYSTEM_SCOPE for the seed loader, and must cover the tenant.
   */
  async function writeInTx(tx: Tx, tenantId: string, messages: readonly Message[], mode: WriteMode, actor: Actor, scope: Scope): Promise<WriteCounts> {
    assertInScope(scope, tenantId);
    checkMessages(messages);
    const db = store.runner(tx);
    const existing = await existingRows(db, tenantId, messages, scope);
    const errors: ErrorDetail[] = [];
    messages.forEach((message, index) => {
      const found = existing.has(keyOf(message));
      if (mode === 'create' && found) {
        errors.push({
          code: 'core.DUPLICATE_MESSAGE_IDENTITY',
          message: `messages[${index}]: tenant ${tenantId}, locale ${message.locale}, module ${message.module}, code ${message.code} already exists; use _update or _upsert`,
          params: [`messages[${index}]`],
        });
      } else if (mode === 'update' && !found) {
        errors.push({
          code: 'MESSAGE_NOT_FOUND',
          message: `messages[${index}]: no message ${message.code} in module ${message.module}, locale ${message.locale} at tenant ${tenantId}; use _create or _upsert`,
          params: [`messages[${index}]`],
        });
      }
    });
    if (errors.length > 0) throw invalid(errors);

    const now = clock.now();
    const inserts: MessageRow[] = [];
    const changed: MessageKey[] = [];
    let unchanged = 0;
    let updated = 0;
    for (const message of messages) {
      const row = existing.get(keyOf(message));
      if (!row) {
        inserts.push({
          id: newId(),
          tenant_id: tenantId,
          locale: message.locale,
          module: message.module,
          code: message.code,
          message: message.message,
          created_by: actor.uuid,
          last_modified_by: actor.uuid,
          created_time: now,
          last_modified_time: now,
        });
        changed.push(message);
      } else if (row.message === message.message) {
        unchanged++;
      } else {
        await store.updateMessage(db, row.id, { message: message.message, last_modified_by: actor.uuid, last_modified_time: now }, scope);
        changed.push(message);
        updated++;
      }
    }
    try {
      await store.insert(db, inserts, mode === 'upsert' ? 'replace' : 'fail', scope);
    } catch (error) {
      // Another transaction created one of these messages after we looked.
      if (isUniqueViolation(error)) {
        throw invalid([
          {
            code: 'core.DUPLICATE_MESSAGE_IDENTITY',
            message: 'Combination of tenant, locale, module and code should be unique.',
            params: ['messages'],
          },
        ]);
      }
      throw error;
    }
    if (changed.length > 0) await announce(tx, tenantId, 'upserted', changed);
    return { created: inserts.length, updated, unchanged };
  }

  async function deleteInTx(tx: Tx, tenantId: string, keys: readonly MessageKey[], scope: Scope): Promise<number> {
    assertInScope(scope, tenantId);
    // Deletion names messages by key only; the text is not asked for.
    checkMessages(keys.map((k) => ({ ...k, message: '-' })));
    const db = store.runner(tx);
    const existing = await existingRows(db, tenantId, keys, scope);
    const ids = keys.flatMap((k) => existing.get(keyOf(k))?.id ?? []);
    const deleted = await store.deleteByIds(db, ids, scope);
    if (deleted > 0)
      await announce(
        tx,
        tenantId,
        'deleted',
        keys.filter((k) => existing.has(keyOf(k))),
      );
    return deleted;
  }

  return {
    /**
     * DIGIT's search: merged over the tenant lineage, filled from `en_IN`, sorted by code. `scope`:
     * readableFrom(tenantId) for callers (messages are public text), SYSTEM_SCOPE for the platform.
     */
    async search(criteria: SearchCriteria, scope: Scope): Promise<Message[]> {
      const errors = checkSearch(criteria);
      if (errors.length > 0) throw invalid(errors);
      await checkTenant(criteria.tenantId);
      const modules = criteria.modules && criteria.modules.length > 0 ? [...new Set(criteria.modules)].sort() : undefined;
      const list = await computed(criteria.tenantId, criteria.locale, modules, scope);
      if (!criteria.codes || criteria.codes.length === 0) return [...list];
      const codes = new Set(criteria.codes);
      return list.filter((m) => codes.has(m.code));
    },

    /** Inserts new messages and changes the text of existing ones (by tenant, locale, module, code). */
    async upsert(tenantId: string, messages: readonly Message[], actor: Actor, scope: Scope): Promise<WriteCounts> {
      await checkTenant(tenantId);
      return database.transaction((tx) => writeInTx(tx, tenantId, messages, 'upsert', actor, scope));
    },

    /** Inserts messages; refuses the whole call if any of them already exists. */
    async create(tenantId: string, messages: readonly Message[], actor: Actor, scope: Scope): Promise<WriteCounts> {
      await checkTenant(tenantId);
      return database.transaction((tx) => writeInTx(tx, tenantId, messages, 'create', actor, scope));
    },

    /** Changes the text of existing messages of one locale and module; refuses the call if any is missing. */
    async update(input: UpdateInput, actor: Actor, scope: Scope): Promise<WriteCounts> {
      await checkTenant(input.tenantId);
      const messages = input.messages.map((m) => ({ code: m.code, message: m.message, module: input.module, locale: input.locale }));
      return database.transaction((tx) => writeInTx(tx, input.tenantId, messages, 'update', actor, scope));
    },

    /** Deletes messages by key; keys that name nothing are ignored (deleting is idempotent). Answers how many went. */
    async delete(tenantId: string, keys: readonly MessageKey[], scope: Scope): Promise<number> {
      await checkTenant(tenantId);
      return database.transaction((tx) => deleteInTx(tx, tenantId, keys, scope));
    },

    /** Drops every cached list, in this process and (PostgreSQL) in the others. */
    async bustCache(): Promise<void> {
      cache.clear();
      await database.transaction((tx) => changes.publish(tx, CHANGE_TOPIC));
    },

    /** For the seed loader: writes in the caller's transaction. */
    inTransaction: { writeInTx },
    checkTenant,
  };
}

export type LocalizationService = ReturnType<typeof createLocalizationService>;
