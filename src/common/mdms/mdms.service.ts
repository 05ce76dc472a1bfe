import { createReadCache } from '../../kernel/cache.js';
import type { Clock } from '../../kernel/clock.js';
import { auditDetailsOf } from '../../kernel/envelope.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError, invalid, type ErrorDetail } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { isUniqueViolation } from '../../kernel/offline.store.js';
import { assertInScope, publicScope, scopeKey, SYSTEM_SCOPE, type Scope } from '../../kernel/scope.js';
import { assertKnownTenant, isTenantIdSyntax, tenantLineage, type TenantDirectory } from '../../kernel/tenancy.js';
import type { AuditLog } from '../audit/index.js';
import { assertAccessControlAtState, auditAccessControl } from './mdms.audit.js';
import { applyFilter, filterBudget, FilterTooExpensive } from './mdms.jsonpath.js';
import type { Mdms, MdmsCriteria, MdmsRes, SchemaDefinition, V1Criteria } from './mdms.schema.js';
import type { DataRow, MdmsStore, Runner, SchemaRow } from './mdms.store.js';
import { checkDefinition, refSchemas, uniqueIdentifierOf, validateData, valuesAt, type SchemaDefinitionBody } from './mdms.validation.js';

/** Who is writing; `null` until the caller is authenticated (user module). */
export type Actor = { uuid: string | null };

export type SchemaInput = { tenantId: string; code: string; description?: string | null; definition: object; isActive?: boolean };
export type DataInput = {
  id?: string | null;
  tenantId: string;
  schemaCode?: string | null;
  data: object;
  isActive?: boolean;
  auditDetails?: object | null;
};

export const TENANT_SCHEMA = 'tenant.tenants';
const SOURCE = '/plinth/mdms';
const CHANGE_TOPIC = 'mdms';

export type MdmsServiceDeps = {
  database: Database;
  store: MdmsStore;
  clock: Clock;
  outbox: Outbox;
  changes: ChangeFeed;
  /** Where changes of ACCESSCONTROL-* masters are recorded (see mdms.audit.ts). */
  audit: Pick<AuditLog, 'appendInTx'>;
};

/**
 * Master data is public reference data: a read of one tenant's masters reaches the tenant and its
 * lineage, whoever asks (see publicScope). Writes take the caller's scope.
 */
export const readableFrom = (tenantId: string): Scope => publicScope(tenantLineage(tenantId));

/**
 * Filters become one SQL condition per leaf; SQLite refuses expressions deeper than 1000 and a
 * huge filter is only load. Answers the number of conditions, or Infinity when nested too deep.
 */
const MAX_FILTER_CONDITIONS = 200;
/**
 * Work one v1 search may do (see FilterBudget): well above what DIGIT's UIs ask for (a few
 * thousand steps for a page's masters: a record or two per record filtered), and about a quarter
 * of a second of jsonpath-plus at worst, where the 110 KB request of #14 held the loop for 9 s.
 */
export const MAX_V1_SEARCH_STEPS = 100_000;
const MAX_FILTER_DEPTH = 16;
function filterConditions(value: unknown, depth: number): number {
  if (depth > MAX_FILTER_DEPTH) return Infinity;
  if (Array.isArray(value)) return Math.max(1, value.length);
  if (value === null || typeof value !== 'object') return 1;
  let total = 0;
  for (const child of Object.values(value)) total += filterConditions(child, depth + 1);
  return total;
}

// SQLite reads filter keys inside a quoted JSON path, where a backslash or a quote ends or breaks
// the label (a 500 before #14); no DIGIT master names a field so. Refused on both engines alike.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNUSABLE_KEY = /["\\\u0000-\u001f]/;
function unusableFilterKey(value: unknown, depth: number): string | undefined {
  if (depth > MAX_FILTER_DEPTH || value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (UNUSABLE_KEY.test(key)) return key;
    const nested = unusableFilterKey(child, depth + 1);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

export function createMdmsService({ database, store, clock, outbox, changes, audit }: MdmsServiceDeps) {
  // Search answers, keyed by the normalised criteria; master data is read far more than written.
  const answers = createReadCache<object>(changes, CHANGE_TOPIC, { maxSize: 5000 });
  const tenantList = createReadCache<ReadonlySet<string>>(changes, CHANGE_TOPIC, { maxSize: 1 });

  const runner = (tx?: Tx): Runner => (tx ? (tx.kysely.withTables() as unknown as Runner) : store.runner());

  const tenants: TenantDirectory = {
    // The platform's own directory of every state's tenants, whoever asks.
    knownTenants: () => tenantList.get('all', async () => new Set(await store.tenantCodes(store.runner(), SYSTEM_SCOPE))),
  };

  /** Inside a transaction the tenant list is read through it: it may hold tenants not yet committed. */
  function tenantsSeenBy(db: Runner): TenantDirectory {
    return { knownTenants: async () => new Set(await store.tenantCodes(db, SYSTEM_SCOPE)) };
  }

  /** A new state may register its own tenant list before it is a known tenant. */
  async function assertWritableTenant(db: Runner, tenantId: string, schemaCode: string): Promise<void> {
    if (schemaCode === TENANT_SCHEMA && isTenantIdSyntax(tenantId) && !tenantId.includes('.')) return;
    await assertKnownTenant(tenantsSeenBy(db), tenantId);
  }

  function cached<T extends object>(key: string, load: () => Promise<T>): Promise<T> {
    return answers.get(key, load) as Promise<T>;
  }

  function toSchema(row: SchemaRow): SchemaDefinition {
    return {
      id: row.id,
      tenantId: row.tenant_id,
      code: row.code,
      description: row.description,
      definition: row.definition as Record<string, unknown>,
      isActive: row.is_active,
      auditDetails: auditDetailsOf(row),
    };
  }

  function toMdms(row: DataRow): Mdms {
    return {
      id: row.id,
      tenantId: row.tenant_id,
      schemaCode: row.schema_code,
      uniqueIdentifier: row.unique_identifier,
      data: row.data,
      isActive: row.is_active,
      auditDetails: auditDetailsOf(row),
    };
  }

  /** The definition that governs `schemaCode` at `tenantId`: its own, else the nearest ancestor's. */
  async function resolveSchema(db: Runner, tenantId: string, schemaCode: string): Promise<SchemaRow> {
    const lineage = tenantLineage(tenantId);
    const rows = await store.findSchema(db, lineage, schemaCode, readableFrom(tenantId));
    const row = lineage.map((t) => rows.find((r) => r.tenant_id === t)).find((r) => r !== undefined);
    if (!row || !row.is_active) {
      throw invalid('SCHEMA_DEFINITION_NOT_FOUND_ERR', `No schema "${schemaCode}" is defined for tenant ${tenantId} or its state`, [
        schemaCode,
      ]);
    }
    return row;
  }

  /** Every x-ref-schema value must be an active record's uniqueIdentifier at the tenant or above. */
  async function checkReferences(db: Runner, tenantId: string, definition: SchemaDefinitionBody, data: unknown): Promise<ErrorDetail[]> {
    const errors: ErrorDetail[] = [];
    for (const ref of refSchemas(definition)) {
      const values = [...new Set(valuesAt(data, ref.fieldPath).map(String))];
      if (values.length === 0) continue;
      const found = await store.activeData(db, tenantLineage(tenantId), [ref.schemaCode], values, readableFrom(tenantId));
      const existing = new Set(found.map((row) => row.unique_identifier));
      const missing = values.filter((v) => !existing.has(v));
      if (missing.length > 0) {
        errors.push({
          code: 'REFERENCE_VALIDATION_ERR',
          message: `data.${ref.fieldPath}: ${missing.map((m) => `"${m}"`).join(', ')} not found in ${ref.schemaCode}`,
          params: [ref.fieldPath, ...missing],
        });
      }
    }
    return errors;
  }

  async function validateRecord(db: Runner, schema: SchemaRow, tenantId: string, data: unknown) {
    const definition = schema.definition as SchemaDefinitionBody;
    const errors = validateData(schema.id, definition, data);
    if (errors.length > 0) throw new DomainError('invalid', errors);
    const uniqueIdentifier = uniqueIdentifierOf(definition, data);
    if (uniqueIdentifier === undefined) {
      throw invalid(
        'UNIQUE_IDENTIFIER_EMPTY_ERR',
        `The unique fields (${(definition['x-unique'] as string[]).map((p) => `data.${p}`).join(', ')}) must have values`,
      );
    }
    return { definition, uniqueIdentifier };
  }

  function schemaCodeOf(pathCode: string, body: string | null | undefined): string {
    if (body && body !== pathCode) {
      throw invalid('INVALID_SCHEMA_CODE', `Mdms.schemaCode "${body}" does not match the schema code in the path "${pathCode}"`);
    }
    return pathCode;
  }

  async function createSchemaInTx(tx: Tx, input: SchemaInput, actor: Actor, scope: Scope): Promise<SchemaDefinition> {
    assertInScope(scope, input.tenantId);
    const db = runner(tx);
    await assertWritableTenant(db, input.tenantId, input.code);
    const problems = checkDefinition(input.definition);
    if (problems.length > 0) throw new DomainError('invalid', problems);
    const existing = await store.findSchema(db, [input.tenantId], input.code, scope);
    if (existing.length > 0) {
      throw invalid('DUPLICATE_SCHEMA_CODE', `Schema "${input.code}" already exists for tenant ${input.tenantId}`, [input.code]);
    }
    const now = clock.now();
    const row: SchemaRow = {
      id: newId(),
      tenant_id: input.tenantId,
      code: input.code,
      description: input.description ?? null,
      definition: input.definition,
      is_active: input.isActive ?? true,
      created_by: actor.uuid,
      last_modified_by: actor.uuid,
      created_time: now,
      last_modified_time: now,
    };
    await store.insertSchema(db, row, scope);
    const schema = toSchema(row);
    await outbox.append(tx, {
      type: 'plinth.mdms.schema.created.v1',
      source: SOURCE,
      subject: row.id,
      tenantId: row.tenant_id,
      data: schema,
    });
    await changes.publish(tx, CHANGE_TOPIC);
    return schema;
  }

  async function createDataInTx(tx: Tx, pathSchemaCode: string, input: DataInput, actor: Actor, scope: Scope): Promise<Mdms> {
    const schemaCode = schemaCodeOf(pathSchemaCode, input.schemaCode);
    assertInScope(scope, input.tenantId);
    assertAccessControlAtState(schemaCode, input.tenantId, input.isActive ?? true);
    const db = runner(tx);
    await assertWritableTenant(db, input.tenantId, schemaCode);
    const schema = await resolveSchema(db, input.tenantId, schemaCode);
    const { definition, uniqueIdentifier } = await validateRecord(db, schema, input.tenantId, input.data);
    const duplicate = (hint = '') =>
      invalid('DUPLICATE_RECORD', `A ${schemaCode} record with unique identifier "${uniqueIdentifier}" already exists${hint}`, [uniqueIdentifier]);
    const existing = await store.findByKey(db, input.tenantId, schemaCode, uniqueIdentifier, scope);
    if (existing) throw duplicate(existing.is_active ? '' : ' (it is deactivated: update it with isActive true instead)');
    const refErrors = await checkReferences(db, input.tenantId, definition, input.data);
    if (refErrors.length > 0) throw new DomainError('invalid', refErrors);
    const now = clock.now();
    const row: DataRow = {
      id: newId(),
      tenant_id: input.tenantId,
      schema_code: schemaCode,
      unique_identifier: uniqueIdentifier,
      data: input.data,
      is_active: input.isActive ?? true,
      created_by: actor.uuid,
      last_modified_by: actor.uuid,
      created_time: now,
      last_modified_time: now,
    };
    try {
      await store.insertData(db, row, scope);
    } catch (error) {
      // Two writers passed the check above at once (PostgreSQL): the loser gets the same refusal.
      if (isUniqueViolation(error)) throw duplicate();
      throw error;
    }
    const record = toMdms(row);
    await outbox.append(tx, {
      type: 'plinth.mdms.data.created.v1',
      source: SOURCE,
      subject: row.id,
      tenantId: row.tenant_id,
      data: record,
    });
    await changes.publish(tx, CHANGE_TOPIC);
    return record;
  }

  async function updateDataInTx(tx: Tx, pathSchemaCode: string, input: DataInput, actor: Actor, scope: Scope): Promise<Mdms> {
    const schemaCode = schemaCodeOf(pathSchemaCode, input.schemaCode);
    if (!input.id) throw invalid('MASTER_DATA_ID_ABSENT_ERR', 'Mdms.id is required to update a record');
    if (!input.auditDetails) throw invalid('AUDIT_DETAILS_ABSENT_ERR', 'Mdms.auditDetails must be sent back as read');
    const db = runner(tx);
    await assertKnownTenant(tenantsSeenBy(db), input.tenantId);
    // The STORED record's tenant must be in the caller's scope (403), whatever the body names.
    const existing = await store.findById(db, input.id, scope);
    if (!existing || existing.tenant_id !== input.tenantId || existing.schema_code !== schemaCode) {
      throw invalid('INVALID_MASTER_DATA_ID', `No ${schemaCode} record with id "${input.id}" at tenant ${input.tenantId}`, [input.id]);
    }
    const schema = await resolveSchema(db, input.tenantId, schemaCode);
    const { definition, uniqueIdentifier } = await validateRecord(db, schema, input.tenantId, input.data);
    if (uniqueIdentifier !== existing.unique_identifier) {
      throw invalid(
        'UNIQUE_KEY_UPDATE_ERR',
        `The unique fields (${(definition['x-unique'] as string[]).join(', ')}) cannot change: "${existing.unique_identifier}" would become "${uniqueIdentifier}"`,
      );
    }
    const isActive = input.isActive ?? existing.is_active;
    assertAccessControlAtState(schemaCode, existing.tenant_id, isActive);
    if (isActive) {
      const refErrors = await checkReferences(db, input.tenantId, definition, input.data);
      if (refErrors.length > 0) throw new DomainError('invalid', refErrors);
    }
    const now = clock.now();
    const changesToRow = { data: input.data, is_active: isActive, last_modified_by: actor.uuid, last_modified_time: now };
    await store.updateData(db, existing.id, changesToRow, scope);
    const record = toMdms({ ...existing, ...changesToRow });
    await outbox.append(tx, {
      type: 'plinth.mdms.data.updated.v1',
      source: SOURCE,
      subject: existing.id,
      tenantId: existing.tenant_id,
      data: record,
    });
    await changes.publish(tx, CHANGE_TOPIC);
    return record;
  }

  /** DIGIT's v2 fallback: the first tenant, from the requested one up to its state, that has matches. */
  async function fallbackTenant(criteria: MdmsCriteria, scope: Scope): Promise<string | undefined> {
    for (const tenantId of tenantLineage(criteria.tenantId)) {
      const count = await store.countData(store.runner(), dataQuery(criteria, tenantId), scope);
      if (count > 0) return tenantId;
    }
    return undefined;
  }

  function dataQuery(criteria: MdmsCriteria, tenantId: string) {
    const badKey = criteria.filters ? unusableFilterKey(criteria.filters, 0) : undefined;
    if (badKey !== undefined) {
      throw invalid('INVALID_FILTERS', `The filter key ${JSON.stringify(badKey)} holds a character no field name may (\\, " or a control character)`, [
        'MdmsCriteria.filters',
      ]);
    }
    if (criteria.filters && filterConditions(criteria.filters, 0) > MAX_FILTER_CONDITIONS) {
      throw invalid(
        'INVALID_FILTERS',
        `filters may hold at most ${MAX_FILTER_CONDITIONS} conditions, nested at most ${MAX_FILTER_DEPTH} deep`,
        ['MdmsCriteria.filters'],
      );
    }
    return {
      tenantId,
      schemaCode: criteria.schemaCode ?? undefined,
      ids: criteria.ids ?? undefined,
      uniqueIdentifiers: criteria.uniqueIdentifiers ?? undefined,
      filters: criteria.filters ?? undefined,
      isActive: criteria.isActive ?? undefined,
    };
  }

  return {
    tenants,

    /** `scope`: the caller's (request.scope), or SYSTEM_SCOPE for the platform's own writes. */
    createSchema(input: SchemaInput, actor: Actor, scope: Scope): Promise<SchemaDefinition> {
      return database.transaction((tx) => createSchemaInTx(tx, input, actor, scope));
    },

    /** `scope`: readableFrom(tenantId) for callers (public data), SYSTEM_SCOPE for the platform. */
    async searchSchemas(criteria: { tenantId: string; codes?: string[]; offset?: number; limit?: number }, scope: Scope): Promise<SchemaDefinition[]> {
      await assertKnownTenant(tenants, criteria.tenantId);
      const page = { offset: criteria.offset ?? 0, limit: criteria.limit ?? 10 };
      return cached(`schema|${scopeKey(scope)}|${JSON.stringify([criteria.tenantId, criteria.codes ?? [], page])}`, async () =>
        (await store.searchSchemas(store.runner(), { ...criteria, ...page }, scope)).map(toSchema),
      );
    },

    createData(schemaCode: string, input: DataInput, actor: Actor, scope: Scope): Promise<Mdms> {
      return database.transaction(async (tx) => {
        const record = await createDataInTx(tx, schemaCode, input, actor, scope);
        await auditAccessControl(tx, audit, record, 'created', actor);
        return record;
      });
    },

    updateData(schemaCode: string, input: DataInput, actor: Actor, scope: Scope): Promise<Mdms> {
      return database.transaction(async (tx) => {
        const record = await updateDataInTx(tx, schemaCode, input, actor, scope);
        await auditAccessControl(tx, audit, record, 'updated', actor);
        return record;
      });
    },

    async searchData(criteria: MdmsCriteria, scope: Scope): Promise<Mdms[]> {
      await assertKnownTenant(tenants, criteria.tenantId);
      const page = { offset: criteria.offset ?? 0, limit: criteria.limit ?? 10 };
      return cached(`data|${scopeKey(scope)}|${JSON.stringify({ ...criteria, ...page })}`, async () => {
        const tenantId = await fallbackTenant(criteria, scope);
        if (tenantId === undefined) return [];
        return (await store.searchData(store.runner(), dataQuery(criteria, tenantId), page, scope)).map(toMdms);
      });
    },

    async countData(criteria: MdmsCriteria, scope: Scope): Promise<number> {
      await assertKnownTenant(tenants, criteria.tenantId);
      const { count } = await cached(`count|${scopeKey(scope)}|${JSON.stringify(criteria)}`, async () => {
        for (const tenantId of tenantLineage(criteria.tenantId)) {
          const n = await store.countData(store.runner(), dataQuery(criteria, tenantId), scope);
          if (n > 0) return { count: n };
        }
        return { count: 0 };
      });
      return count;
    },

    /**
     * DIGIT's v1 search: active records per master, most specific tenant wins, JsonPath filter
     * applied. Anonymous and cheap to send, so its work is bounded: the records handed out and
     * every step of the filters come out of one budget per request (400 when exceeded).
     */
    async searchV1(criteria: V1Criteria, scope: Scope): Promise<MdmsRes> {
      await assertKnownTenant(tenants, criteria.tenantId);
      return cached(`v1|${scopeKey(scope)}|${JSON.stringify(criteria)}`, async () => {
        // One answer per module and master (a later masterDetail of the same name replaces an
        // earlier one, as in the answer's map), so repeating a master costs nothing more.
        const wanted = new Map<string, { module: string; master: string; filter: string }>();
        for (const module of criteria.moduleDetails) {
          for (const master of module.masterDetails) {
            const key = JSON.stringify([module.moduleName, master.name]);
            wanted.delete(key);
            wanted.set(key, { module: module.moduleName, master: master.name, filter: master.filter ?? '' });
          }
        }
        const lineage = tenantLineage(criteria.tenantId);
        const codes = [...new Set([...wanted.values()].map((w) => `${w.module}.${w.master}`))];
        const byCode = new Map<string, Awaited<ReturnType<typeof store.activeData>>>();
        for (const row of await store.activeData(store.runner(), lineage, codes, undefined, scope)) {
          const list = byCode.get(row.schema_code);
          if (list) list.push(row);
          else byCode.set(row.schema_code, [row]);
        }
        const budget = filterBudget(MAX_V1_SEARCH_STEPS);
        const result: MdmsRes = {};
        for (const { module, master, filter } of wanted.values()) {
          const code = `${module}.${master}`;
          const ofCode = byCode.get(code) ?? [];
          const tenantId = lineage.find((t) => ofCode.some((row) => row.tenant_id === t));
          if (tenantId === undefined) continue;
          const records = ofCode.filter((row) => row.tenant_id === tenantId).map((row) => row.data);
          let filtered: unknown[];
          try {
            filtered = applyFilter(records, filter, budget);
          } catch (error) {
            if (error instanceof FilterTooExpensive) {
              throw invalid(
                'FILTER_TOO_EXPENSIVE',
                `The search is refused: ${error.message}; ask for fewer masters or simpler filters`,
                [filter],
              );
            }
            throw invalid('INVALID_FILTER', `The filter of ${code} is not a valid JsonPath: ${(error as Error).message}`, [filter]);
          }
          (result[module] ??= {})[master] = filtered;
        }
        return result;
      });
    },

    /** For the seed loader: several writes in the caller's transaction. */
    inTransaction: { createSchemaInTx, createDataInTx, updateDataInTx },
    resolveSchema: (tx: Tx, tenantId: string, schemaCode: string) => resolveSchema(runner(tx), tenantId, schemaCode),
    /** One record, read through the caller's transaction (master data: readable from the tenant's lineage). */
    findByKey: (tx: Tx, tenantId: string, schemaCode: string, uniqueIdentifier: string) =>
      store.findByKey(runner(tx), tenantId, schemaCode, uniqueIdentifier, readableFrom(tenantId)),
    toMdms,
  };
}

export type MdmsService = ReturnType<typeof createMdmsService>;
