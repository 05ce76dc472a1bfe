import { isDeepStrictEqual } from 'node:util';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import { assertKnownTenant, stateTenantOf } from '../../kernel/tenancy.js';
import type { MdmsService } from '../mdms/index.js';
import { buildBusinessService, type CompiledWorkflow } from './workflow.definition.js';
import type { Resolver } from './workflow.resolver.js';
import type { BusinessService, BusinessServiceInput } from './workflow.schema.js';
import { splitList } from './workflow.search.js';
import type { BusinessServiceRow, WorkflowStore } from './workflow.store.js';
import { CHANGE_TOPIC, type PreparedDefinitions } from './workflow.types.js';

export type BusinessServicesDeps = {
  database: Database;
  store: WorkflowStore;
  clock: Clock;
  changes: ChangeFeed;
  mdms: MdmsService;
  resolver: Resolver;
};

/** Same content apart from audit stamps: an idempotent seed leaves the row alone. */
function sameDefinition(a: BusinessService, b: BusinessService): boolean {
  const strip = (bs: BusinessService) => ({
    ...bs,
    auditDetails: null,
    states: bs.states.map((s) => ({ ...s, auditDetails: null, actions: s.actions?.map((x) => ({ ...x, auditDetails: null })) ?? null })),
  });
  // Deep comparison: PostgreSQL's jsonb does not keep key order.
  return isDeepStrictEqual(strip(a), strip(b));
}

/** A state-level definition answered for a city carries the city's tenantId, as DIGIT rewrites it. */
function forTenant(bs: BusinessService, tenantId: string): BusinessService {
  if (bs.tenantId === tenantId) return bs;
  return {
    ...bs,
    tenantId,
    states: bs.states.map((s) => ({ ...s, tenantId, actions: s.actions?.map((a) => ({ ...a, tenantId })) ?? null })),
  };
}

function duplicatesIn(inputs: readonly BusinessServiceInput[]): ErrorDetail[] {
  const seen = new Set<string>();
  const errors: ErrorDetail[] = [];
  for (const input of inputs) {
    const key = `${input.tenantId}|${input.businessService}`;
    if (seen.has(key)) {
      errors.push({
        code: 'INVALID BUSINESSSERVICE',
        message: `BusinessService: ${input.businessService} of tenant ${input.tenantId} is duplicate in the request`,
        params: [input.businessService],
      });
    }
    seen.add(key);
  }
  return errors;
}

/** Business services (DIGIT's businessservice/_create, _update, _search) and the seed's upsert. */
export function createBusinessServices({ database, store, clock, changes, mdms, resolver }: BusinessServicesDeps) {
  const { levelOf, knownRoles, definitionOf, resolve, applicable } = resolver;

  async function checkPlacement(input: BusinessServiceInput): Promise<ErrorDetail[]> {
    await assertKnownTenant(mdms.tenants, input.tenantId);
    const state = stateTenantOf(input.tenantId);
    if (input.tenantId !== state && (await levelOf(state, input.businessService)) === 'state') {
      return [
        {
          code: 'INVALID BUSINESSSERVICE',
          message: `${input.businessService} is a state-level workflow (Workflow.BusinessServiceMasterConfig): define it once at tenant ${state}, it serves ${input.tenantId} from there`,
          params: [input.businessService, input.tenantId],
        },
      ];
    }
    return [];
  }

  function rowOf(bs: BusinessService): BusinessServiceRow {
    return {
      uuid: bs.uuid,
      tenant_id: bs.tenantId,
      business_service: bs.businessService,
      business: bs.business,
      business_service_sla: bs.businessServiceSla,
      definition: database.toJson(bs),
      created_by: bs.auditDetails?.createdBy ?? null,
      created_time: bs.auditDetails?.createdTime ?? clock.now(),
      last_modified_by: bs.auditDetails?.lastModifiedBy ?? null,
      last_modified_time: bs.auditDetails?.lastModifiedTime ?? clock.now(),
    };
  }

  /**
   * What a definition needs from other modules (tenant, state-level placement, role codes), read
   * before the transaction: inside one, SQLite's single connection is the transaction's.
   */
  async function prepareBusinessServices(inputs: readonly BusinessServiceInput[]): Promise<PreparedDefinitions> {
    const errors = duplicatesIn(inputs);
    const roles = new Map<string, ReadonlySet<string>>();
    for (const input of inputs) {
      errors.push(...(await checkPlacement(input)));
      const state = stateTenantOf(input.tenantId);
      if (!roles.has(state)) roles.set(state, await knownRoles(state));
    }
    return { inputs, errors, roles };
  }

  /**
   * Creates (`mode: 'create'`) or replaces (`'update'`) definitions in the caller's transaction;
   * `'upsert'` is the seed's. Nothing is written unless every definition is valid.
   */
  async function saveBusinessServicesInTx(
    tx: Tx,
    prepared: PreparedDefinitions,
    actor: string | null,
    mode: 'create' | 'update' | 'upsert',
  ): Promise<Array<{ value: BusinessService; outcome: 'created' | 'updated' | 'unchanged' }>> {
    const errors = [...prepared.errors];
    const db = store.runner(tx);
    const now = clock.now();
    const results: Array<{ value: BusinessService; outcome: 'created' | 'updated' | 'unchanged'; row: BusinessServiceRow }> = [];
    for (const input of prepared.inputs) {
      const [existingRow] = await store.businessServices(db, [input.tenantId], [input.businessService]);
      const existing = existingRow ? definitionOf(existingRow) : undefined;
      if (mode === 'create' && existing) {
        errors.push({
          code: 'INVALID BUSINESSSERVICE',
          message: `The businessService: ${input.businessService} for tenantId: ${input.tenantId} already exists; use _update to change it`,
          params: [input.businessService],
        });
        continue;
      }
      if (mode === 'update' && !existing) {
        errors.push({
          code: 'INVALID BUSINESSSERVICE',
          message: `The businessService: ${input.businessService} for tenantId: ${input.tenantId} does not exist; use _create first`,
          params: [input.businessService],
        });
        continue;
      }
      const knownRoles = prepared.roles.get(stateTenantOf(input.tenantId)) ?? new Set<string>();
      const built = buildBusinessService(input, existing, { now, actor, newId, knownRoles });
      errors.push(...built.errors);
      if (existing && sameDefinition(existing, built.value)) {
        results.push({ value: existing, outcome: 'unchanged', row: existingRow! });
      } else {
        results.push({ value: built.value, outcome: existing ? 'updated' : 'created', row: rowOf(built.value) });
      }
    }
    if (errors.length > 0) throw new DomainError('invalid', errors);
    for (const result of results) {
      if (result.outcome === 'created') await store.insertBusinessService(db, result.row);
      if (result.outcome === 'updated') await store.updateBusinessService(db, result.row);
    }
    if (results.some((r) => r.outcome !== 'unchanged')) await changes.publish(tx, CHANGE_TOPIC);
    return results.map(({ value, outcome }) => ({ value, outcome }));
  }

  async function saveBusinessServices(
    inputs: readonly BusinessServiceInput[],
    actor: string | null,
    mode: 'create' | 'update',
  ): Promise<BusinessService[]> {
    const prepared = await prepareBusinessServices(inputs);
    return (await database.transaction((tx) => saveBusinessServicesInTx(tx, prepared, actor, mode))).map((r) => r.value);
  }

  async function searchBusinessServices(criteria: {
    tenantId: string;
    businessServices?: readonly string[] | undefined;
  }): Promise<BusinessService[]> {
    await assertKnownTenant(mdms.tenants, criteria.tenantId);
    const codes = splitList(criteria.businessServices);
    const found = codes
      ? (await Promise.all(codes.map((code) => resolve(criteria.tenantId, code)))).filter((w): w is CompiledWorkflow => w !== null)
      : await applicable(criteria.tenantId);
    return found.map((w) => forTenant(w.definition, criteria.tenantId));
  }

  return { prepareBusinessServices, saveBusinessServicesInTx, saveBusinessServices, searchBusinessServices };
}
