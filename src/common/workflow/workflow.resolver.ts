import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Database } from '../../kernel/db.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { MdmsService } from '../mdms/index.js';
import { compileWorkflow, type CompiledWorkflow } from './workflow.definition.js';
import type { BusinessService } from './workflow.schema.js';
import type { BusinessServiceRow, WorkflowStore } from './workflow.store.js';
import { CHANGE_TOPIC } from './workflow.types.js';

export type ResolverDeps = { database: Database; store: WorkflowStore; changes: ChangeFeed; mdms: MdmsService };

/**
 * Which definition serves a tenant: its own, or the state's when MDMS's
 * Workflow.BusinessServiceMasterConfig says the business service is state-level. Cached per tenant
 * and code until a definition or MDMS changes.
 */
export function createResolver({ database, store, changes, mdms }: ResolverDeps) {
  // Definitions are read on every transition and search, written rarely: cache per tenant and code.
  // MDMS holds BusinessServiceMasterConfig, which decides where a definition is looked up.
  const cache = createReadCache<{ value: unknown }>(changes, [CHANGE_TOPIC, 'mdms'], { maxSize: 5000 });

  async function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const entry = await cache.get(key, async () => ({ value: await load() }));
    return entry.value as T;
  }

  async function master(stateTenant: string, moduleName: string, name: string): Promise<unknown[]> {
    try {
      const result = await mdms.searchV1({ tenantId: stateTenant, moduleDetails: [{ moduleName, masterDetails: [{ name }] }] }, SYSTEM_SCOPE);
      return result[moduleName]?.[name] ?? [];
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'invalid') return [];
      throw error;
    }
  }

  const isTrue = (value: unknown) => value === true || value === 'true';

  /** Workflow.BusinessServiceMasterConfig: 'state' when one definition at the state serves every city. */
  async function levelOf(stateTenant: string, code: string): Promise<'state' | 'tenant' | undefined> {
    const records = (await master(stateTenant, 'Workflow', 'BusinessServiceMasterConfig')) as Array<Record<string, unknown>>;
    const record = records.find((r) => r['businessService'] === code && (r['active'] === undefined || isTrue(r['active'])));
    if (!record) return undefined;
    return isTrue(record['isStatelevel']) ? 'state' : 'tenant';
  }

  async function knownRoles(stateTenant: string): Promise<Set<string>> {
    const roles = (await master(stateTenant, 'ACCESSCONTROL-ROLES', 'roles')) as Array<{ code?: unknown }>;
    return new Set(roles.map((r) => r.code).filter((c): c is string => typeof c === 'string'));
  }

  const definitionOf = (row: BusinessServiceRow) => database.fromJson<BusinessService>(row.definition);

  async function loadAt(tenantId: string, code: string): Promise<CompiledWorkflow | null> {
    const [row] = await store.businessServices(store.runner(), [tenantId], [code]);
    return row ? compileWorkflow(definitionOf(row)) : null;
  }

  /** The definition that serves `tenantId`: its own, or the state's when configured state-level. */
  function resolve(tenantId: string, code: string): Promise<CompiledWorkflow | null> {
    return cached(`bs|${tenantId}|${code}`, async () => {
      const state = stateTenantOf(tenantId);
      const level = await levelOf(state, code);
      if (level === 'state') return loadAt(state, code);
      if (level === 'tenant' || tenantId === state) return loadAt(tenantId, code);
      return (await loadAt(tenantId, code)) ?? (await loadAt(state, code));
    });
  }

  /** Every definition that serves `tenantId`, for the inbox and listing. */
  function applicable(tenantId: string): Promise<CompiledWorkflow[]> {
    return cached(`list|${tenantId}`, async () => {
      const state = stateTenantOf(tenantId);
      const rows = await store.businessServices(store.runner(), tenantId === state ? [state] : [tenantId, state]);
      const codes = [...new Set(rows.map((r) => r.business_service))];
      const chosen: CompiledWorkflow[] = [];
      for (const code of codes) {
        const own = rows.find((r) => r.tenant_id === tenantId && r.business_service === code);
        const atState = rows.find((r) => r.tenant_id === state && r.business_service === code);
        const level = await levelOf(state, code);
        const row = level === 'state' ? atState : level === 'tenant' ? own : (own ?? atState);
        if (row) chosen.push(compileWorkflow(definitionOf(row)));
      }
      return chosen;
    });
  }

  async function requireWorkflow(tenantId: string, code: string): Promise<CompiledWorkflow> {
    const workflow = await resolve(tenantId, code);
    if (!workflow) {
      throw invalid('BUSINESSSERVICE ERROR', `No businessService object found for businessService: ${code} and tenantId: ${tenantId}`, [
        code,
        tenantId,
      ]);
    }
    return workflow;
  }

  return { master, levelOf, knownRoles, definitionOf, resolve, applicable, requireWorkflow };
}

export type Resolver = ReturnType<typeof createResolver>;
