import type { Clock } from '../../kernel/clock.js';
import { invalid } from '../../kernel/errors.js';
import { assertKnownTenant, stateTenantOf } from '../../kernel/tenancy.js';
import type { MdmsService } from '../mdms/index.js';
import { intersects, rolesAt } from './workflow.definition.js';
import type { Presenter } from './workflow.present.js';
import type { Resolver } from './workflow.resolver.js';
import type { ProcessInstance, StatusCount } from './workflow.schema.js';
import type { InstanceQuery, InstanceRow, WorkflowStore } from './workflow.store.js';
import type { ProcessCriteria, WorkflowCaller } from './workflow.types.js';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

/** DIGIT's comma-separated lists: `["a,b", "c"]` → `["a", "b", "c"]`; nothing left → undefined. */
export function splitList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const split = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return split.length > 0 ? split : undefined;
}

export function normalise(criteria: ProcessCriteria): ProcessCriteria {
  const businessIds = splitList(criteria.businessIds);
  const short = businessIds?.filter((b) => b.length < 4) ?? [];
  if (short.length > 0) {
    throw invalid('INVALID_REQUEST', `businessIds must be at least 4 characters long: ${short.join(', ')}`, short);
  }
  return {
    ...criteria,
    businessIds,
    ids: splitList(criteria.ids),
    status: splitList(criteria.status),
    businessService: criteria.businessService || undefined,
    moduleName: criteria.moduleName || undefined,
    assignee: criteria.assignee || undefined,
  };
}

/** DIGIT's `isNull`: no businessIds, ids, assignee or status means "my inbox". */
export const isInbox = (c: ProcessCriteria) => !c.businessIds && !c.ids && !c.assignee && !c.status;

export type SearchesDeps = { store: WorkflowStore; clock: Clock; mdms: MdmsService; resolver: Resolver; presenter: Presenter };

/** Process searches and counts, each limited to what the caller may see (citizens: their own). */
export function createSearches({ store, clock, mdms, resolver, presenter }: SearchesDeps) {
  const { master, resolve, applicable, requireWorkflow } = resolver;
  const { usersByUuid, present } = presenter;

  /** State uuids where the caller's roles can move an application on. */
  async function actionableStatuses(caller: WorkflowCaller, tenantId: string, businessService: string | undefined): Promise<string[]> {
    const roles = rolesAt(caller.roles, tenantId);
    const statuses: string[] = [];
    for (const workflow of await applicable(tenantId)) {
      if (businessService && workflow.definition.businessService !== businessService) continue;
      for (const state of workflow.definition.states) {
        if (intersects(workflow.transitionRoles(state), roles)) statuses.push(state.uuid);
      }
    }
    return statuses;
  }

  async function queryOf(caller: WorkflowCaller, criteria: ProcessCriteria, inbox: boolean): Promise<InstanceQuery> {
    await assertKnownTenant(mdms.tenants, criteria.tenantId);
    const query: InstanceQuery = {
      tenantId: criteria.tenantId,
      businessService: criteria.businessService,
      moduleName: criteria.moduleName,
      businessIds: criteria.businessIds,
      ids: criteria.ids,
      statuses: criteria.status,
      assignee: criteria.assignee,
      fromDate: criteria.fromDate,
      toDate: criteria.toDate,
      history: inbox ? false : (criteria.history ?? false),
    };
    // Citizens see their own applications only: those they started or were ever assigned.
    if (caller.type === 'CITIZEN') query.ownedBy = caller.uuid ?? '';
    else if (inbox)
      query.inbox = { statuses: await actionableStatuses(caller, criteria.tenantId, criteria.businessService), user: caller.uuid ?? '' };
    return query;
  }

  async function presentRows(rows: readonly InstanceRow[], caller: WorkflowCaller): Promise<ProcessInstance[]> {
    const assigneeRows = await store.assignees(
      store.runner(),
      rows.map((r) => r.id),
    );
    const byInstance = new Map<string, string[]>();
    for (const a of assigneeRows) byInstance.set(a.process_instance_id, [...(byInstance.get(a.process_instance_id) ?? []), a.assignee]);
    const people = await usersByUuid([...assigneeRows.map((a) => a.assignee), ...rows.flatMap((r) => (r.assigner ? [r.assigner] : []))]);
    const now = clock.now();
    const out: ProcessInstance[] = [];
    for (const row of rows) {
      const workflow = await resolve(row.tenant_id, row.business_service);
      out.push(present(row, byInstance.get(row.id) ?? [], people, workflow, caller, now));
    }
    return out;
  }

  async function search(caller: WorkflowCaller, raw: ProcessCriteria, extra: Partial<InstanceQuery> = {}) {
    const criteria = normalise(raw);
    const query = { ...(await queryOf(caller, criteria, isInbox(criteria))), ...extra };
    const limit = Math.min(criteria.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const db = store.runner();
    const [rows, totalCount] = await Promise.all([
      store.search(db, query, { offset: criteria.offset ?? 0, limit }),
      store.count(db, query),
    ]);
    return { ProcessInstances: await presentRows(rows, caller), totalCount };
  }

  async function count(caller: WorkflowCaller, raw: ProcessCriteria): Promise<number> {
    const criteria = normalise(raw);
    return store.count(store.runner(), await queryOf(caller, criteria, isInbox(criteria)));
  }

  async function statusCount(caller: WorkflowCaller, raw: ProcessCriteria): Promise<StatusCount[]> {
    const criteria = normalise(raw);
    // As DIGIT: the inbox's counts only when a business service is named.
    const query = await queryOf(caller, criteria, isInbox(criteria) && criteria.businessService !== undefined);
    const rows = await store.statusCount(store.runner(), query);
    const out: StatusCount[] = [];
    for (const row of rows) {
      const workflow = await resolve(criteria.tenantId, row.business_service);
      out.push({
        count: row.count,
        applicationstatus: workflow?.state(row.status)?.applicationStatus ?? null,
        businessservice: row.business_service,
        statusid: row.status,
      });
    }
    return out;
  }

  /**
   * DIGIT's nearing-SLA count: steps touched within `maxSla − slotPercentage% × maxSla` of now, where
   * maxSla is the business SLA and slotPercentage comes from common-masters.wfSlaConfig.
   */
  async function nearingSlaCount(caller: WorkflowCaller, raw: ProcessCriteria): Promise<number> {
    const criteria = normalise(raw);
    if (!criteria.businessService)
      throw invalid(
        'EG_WF_BUSINESSSRV_ERR',
        'Providing business service is mandatory for nearing escalation count: add businessService to the query',
      );
    await assertKnownTenant(mdms.tenants, criteria.tenantId);
    const workflow = await requireWorkflow(criteria.tenantId, criteria.businessService);
    const maxSla = workflow.definition.businessServiceSla;
    if (maxSla === null)
      throw invalid('EG_WF_SLA_ERR', `Business service ${criteria.businessService} has no businessServiceSla, so nothing can be near it`);
    const state = stateTenantOf(criteria.tenantId);
    const configs = (await master(state, 'common-masters', 'wfSlaConfig')) as Array<{ slotPercentage?: unknown }>;
    const slot = configs.map((c) => c.slotPercentage).find((p): p is number => typeof p === 'number');
    if (slot === undefined) throw invalid('EG_WF_SLA_CONFIG_ERR', `common-masters.wfSlaConfig of tenant ${state} has no slotPercentage`);
    // Java long arithmetic: maxSla/100 truncates.
    const limit = maxSla - slot * Math.trunc(maxSla / 100);
    const now = clock.now();
    const query = await queryOf(caller, criteria, isInbox(criteria));
    return store.count(store.runner(), { ...query, modifiedBetween: { from: now - limit, to: now } });
  }

  return { search, count, statusCount, nearingSlaCount };
}
