import { isDeepStrictEqual } from 'node:util';
import type { RoleGrant, UserType } from '../../kernel/auth.js';
import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { auditDetailsOf, type AuditDetails } from '../../kernel/envelope.js';
import { DomainError, invalid, type ErrorDetail } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { assertKnownTenant, stateTenantOf } from '../../kernel/tenancy.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { MdmsService } from '../mdms/index.js';
import type { UserService } from '../user/index.js';
import { createOwnership, type OwnerOfService } from './workflow.ownership.js';
import { buildBusinessService, compileWorkflow, intersects, rolesAt, type CompiledWorkflow } from './workflow.definition.js';
import type {
  Action,
  BusinessService,
  BusinessServiceInput,
  Document,
  ProcessInstance,
  ProcessInstanceInput,
  State,
  StatusCount,
  User,
} from './workflow.schema.js';
import { isUniqueViolation, type AssigneeRow, type BusinessServiceRow, type HeadRow, type InstanceQuery, type InstanceRow, type WorkflowStore } from './workflow.store.js';

/**
 * Who acts: the authenticated user (DIGIT's RequestInfo.userInfo), or the platform itself for
 * automatic escalation (no uuid; its roles say what it may do).
 */
export type WorkflowCaller = {
  readonly uuid: string | null;
  readonly type: UserType;
  readonly tenantId: string;
  readonly roles: readonly RoleGrant[];
};

/** DIGIT's process search criteria, lists already split. */
export type ProcessCriteria = {
  tenantId: string;
  businessIds?: readonly string[] | undefined;
  ids?: readonly string[] | undefined;
  assignee?: string | undefined;
  status?: readonly string[] | undefined;
  history?: boolean | undefined;
  fromDate?: number | undefined;
  toDate?: number | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
  businessService?: string | undefined;
  moduleName?: string | undefined;
};

export type TransitionOptions = {
  /** Set by auto-escalation: the steps are marked escalated and announced on this topic. */
  escalation?: { topic: string };
};

/** `plinth.workflow.transitioned.v1`: one per step, written with it. */
export type TransitionEvent = {
  id: string;
  tenantId: string;
  businessService: string;
  businessId: string;
  action: string;
  moduleName: string;
  state: { uuid: string; state: string | null; applicationStatus: string | null; isTerminateState: boolean };
  previousStatus: string | null;
  assigner: string | null;
  assignes: string[];
  comment: string | null;
  rating: number | null;
  escalated: boolean;
  stateSla: number | null;
  businesssServiceSla: number | null;
  auditDetails: AuditDetails;
};

export const TRANSITIONED_EVENT = 'plinth.workflow.transitioned.v1';
export const ESCALATED_EVENT = 'plinth.workflow.escalated.v1';
const SOURCE = '/plinth/workflow';
const CHANGE_TOPIC = 'workflow';
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
const RATE_ACTION = 'RATE';

export type WorkflowServiceDeps = {
  database: Database;
  store: WorkflowStore;
  clock: Clock;
  outbox: Outbox;
  changes: ChangeFeed;
  mdms: MdmsService;
  users: UserService;
};

/** Definitions checked against other modules' data, ready to be written in a transaction. */
export type PreparedDefinitions = {
  readonly inputs: readonly BusinessServiceInput[];
  readonly errors: readonly ErrorDetail[];
  readonly roles: ReadonlyMap<string, ReadonlySet<string>>;
};

/** The owner's handle on its business service: the only way to move its applications. */
export type OwnedWorkflow = {
  readonly businessService: string;
  prepareTransition(caller: WorkflowCaller, inputs: readonly ProcessInstanceInput[], options?: TransitionOptions): Promise<PreparedTransition>;
  commitTransition(tx: Tx, prepared: PreparedTransition): Promise<ProcessInstance[]>;
};

/** A transition checked and ready to write; see `prepareTransition`. */
export type PreparedTransition = {
  readonly caller: WorkflowCaller;
  readonly people: ReadonlyMap<string, DigitUser>;
  readonly escalation: { topic: string } | undefined;
  readonly steps: ReadonlyArray<{ plan: Plan; row: InstanceRow; assignees: AssigneeRow[] }>;
};

type DigitUser = Awaited<ReturnType<UserService['search']>>[number];

type Plan = {
  input: ProcessInstanceInput;
  workflow: CompiledWorkflow;
  head: HeadRow | undefined;
  prior: InstanceRow | undefined;
  priorAssignees: string[];
  current: State;
  action: Action;
  resultant: State;
  stateChanging: boolean;
  assignees: string[];
};

const keyOf = (k: { tenantId: string; businessService: string; businessId: string }) => `${k.tenantId}\u0000${k.businessService}\u0000${k.businessId}`;
const label = (state: State) => (state.state === null ? 'the start state' : `state ${state.state}`);
const list = (values: Iterable<string>) => [...values].sort().join(', ') || 'none';

function splitList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const split = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return split.length > 0 ? split : undefined;
}

export function createWorkflowService({ database, store, clock, outbox, changes, mdms, users }: WorkflowServiceDeps) {
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
      throw invalid('BUSINESSSERVICE ERROR', `No businessService object found for businessService: ${code} and tenantId: ${tenantId}`, [code, tenantId]);
    }
    return workflow;
  }

  // -------------------------------------------------------------------------------------------
  // Business services

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

  function duplicatesIn(inputs: readonly BusinessServiceInput[]): ErrorDetail[] {
    const seen = new Set<string>();
    const errors: ErrorDetail[] = [];
    for (const input of inputs) {
      const key = `${input.tenantId}|${input.businessService}`;
      if (seen.has(key)) {
        errors.push({ code: 'INVALID BUSINESSSERVICE', message: `BusinessService: ${input.businessService} of tenant ${input.tenantId} is duplicate in the request`, params: [input.businessService] });
      }
      seen.add(key);
    }
    return errors;
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

  async function saveBusinessServices(inputs: readonly BusinessServiceInput[], actor: string | null, mode: 'create' | 'update'): Promise<BusinessService[]> {
    const prepared = await prepareBusinessServices(inputs);
    return (await database.transaction((tx) => saveBusinessServicesInTx(tx, prepared, actor, mode))).map((r) => r.value);
  }

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

  // -------------------------------------------------------------------------------------------
  // Ownership (see workflow.ownership.ts)

  const ownership = createOwnership();

  function claimBusinessService(businessService: string, claim: OwnerOfService): OwnedWorkflow {
    ownership.claim(businessService, claim);
    const mine = (inputs: readonly ProcessInstanceInput[]) => {
      const other = inputs.find((i) => i.businessService !== businessService);
      if (other) throw new Error(`${claim.owner} owns workflow ${businessService}, not ${other.businessService}`);
    };
    return {
      businessService,
      prepareTransition(caller, inputs, options) {
        mine(inputs);
        return prepareTransition(caller, inputs, options, claim.owner);
      },
      commitTransition,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Transitions

  function toUser(user: DigitUser | undefined, uuid: string): User {
    if (!user) return { id: null, uuid, userName: null, name: null, type: null, mobileNumber: null, emailId: null, roles: [], tenantId: null };
    return {
      id: user.id,
      uuid: user.uuid,
      userName: user.userName,
      name: user.name,
      type: user.type,
      mobileNumber: user.mobileNumber,
      emailId: user.emailId,
      roles: user.roles.map((r) => ({ name: r.name ?? null, code: r.code, tenantId: r.tenantId })),
      tenantId: user.tenantId,
    };
  }

  async function usersByUuid(uuids: Iterable<string>): Promise<Map<string, DigitUser>> {
    const wanted = [...new Set(uuids)];
    if (wanted.length === 0) return new Map();
    const found = await users.search({ uuids: wanted }, { pageSize: wanted.length });
    return new Map(found.map((u) => [u.uuid, u]));
  }

  function presentState(state: State): State {
    return { ...state, actions: state.actions?.filter((a) => a.active) ?? null };
  }

  function nextActions(workflow: CompiledWorkflow, state: State, caller: WorkflowCaller, tenantId: string): Action[] {
    const roles = rolesAt(caller.roles, tenantId);
    return workflow
      .activeActions(state)
      .filter((a) => intersects(workflow.actionRoles(a), roles))
      .sort((a, b) => a.action.localeCompare(b.action));
  }

  function present(
    row: InstanceRow,
    assignees: readonly string[],
    people: ReadonlyMap<string, DigitUser>,
    workflow: CompiledWorkflow | null,
    caller: WorkflowCaller,
    slaAt: number | undefined,
    entity: unknown = null,
  ): ProcessInstance {
    const state = workflow?.state(row.status);
    const elapsed = slaAt === undefined ? 0 : slaAt - row.last_modified_time;
    return {
      id: row.id,
      tenantId: row.tenant_id,
      businessService: row.business_service,
      businessId: row.business_id,
      action: row.action,
      moduleName: row.module_name,
      state: state
        ? presentState(state)
        : {
            auditDetails: null,
            uuid: row.status,
            tenantId: row.tenant_id,
            businessServiceId: '',
            sla: null,
            state: null,
            applicationStatus: null,
            docUploadRequired: false,
            isStartState: false,
            isTerminateState: false,
            isStateUpdatable: false,
            actions: null,
          },
      comment: row.comment,
      // A row read back (jsonb or text) or one just built (encoded for the engine): both decode here.
      documents: (typeof row.documents === 'string' ? (JSON.parse(row.documents) as Document[]) : database.fromJson<Document[] | null>(row.documents)) ?? null,
      assigner: row.assigner === null ? null : toUser(people.get(row.assigner), row.assigner),
      assignes: assignees.length > 0 ? assignees.map((uuid) => toUser(people.get(uuid), uuid)) : null,
      nextActions: state && workflow ? nextActions(workflow, state, caller, row.tenant_id) : [],
      stateSla: row.state_sla === null ? null : row.state_sla - elapsed,
      businesssServiceSla: row.business_service_sla === null ? null : row.business_service_sla - elapsed,
      previousStatus: row.previous_status,
      entity: entity ?? null,
      auditDetails: auditDetailsOf(row),
      rating: row.rating,
      escalated: database.fromBool(row.escalated),
    };
  }

  const assigneesOf = (input: ProcessInstanceInput) => {
    const refs = input.assignes ?? input.assignees;
    return refs === null || refs === undefined ? undefined : [...new Set(refs.map((r) => r.uuid))];
  };

  /** DIGIT's checks that need the definition only (WorkflowValidator.validateAction, validateDocuments). */
  function planOne(
    input: ProcessInstanceInput,
    workflow: CompiledWorkflow,
    latest: { head: HeadRow; instance: InstanceRow } | undefined,
    priorAssignees: string[],
    caller: WorkflowCaller,
    errors: ErrorDetail[],
  ): Plan | undefined {
    const where = `businessId ${input.businessId}`;
    const current = latest ? workflow.state(latest.instance.status) : workflow.start;
    if (!current) {
      errors.push({ code: 'INVALID STATE', message: `${where} is in a state (${latest!.instance.status}) that workflow ${workflow.definition.businessService} no longer has`, params: [input.businessId] });
      return undefined;
    }
    const action = workflow.action(current, input.action);
    if (!action) {
      const available = workflow.activeActions(current).map((a) => a.action);
      errors.push({
        code: 'INVALID ACTION',
        message:
          available.length === 0
            ? `Action ${input.action} not found in config for the ${where}: it is in ${label(current)}, which ends the workflow and has no actions`
            : latest
              ? `Action ${input.action} not found in config for the ${where}: in ${label(current)} the actions are ${list(available)}`
              : `Action ${input.action} cannot start ${where}: a new application starts with ${list(available)}`,
        params: [input.action, input.businessId],
      });
      return undefined;
    }
    const resultant = workflow.state(action.nextState)!;
    const stateChanging = workflow.isStateChanging(action);
    const roles = rolesAt(caller.roles, input.tenantId);
    const before = errors.length;
    if (input.rating !== undefined && input.rating !== null && action.action.toUpperCase() !== RATE_ACTION) {
      errors.push({ code: 'INVALID_ACTION', message: `Rating can be given only upon taking RATE action (${where} was sent ${action.action})`, params: [input.businessId] });
    }
    if (stateChanging && !intersects(workflow.actionRoles(action), roles)) {
      errors.push({
        code: 'INVALID ROLE',
        message: `User is not authorized to perform action ${action.action} on ${where}: it needs one of ${list(workflow.actionRoles(action))} on tenant ${input.tenantId}`,
        params: [action.action, input.businessId],
      });
    }
    if (!stateChanging && !intersects(workflow.rolesInService, roles)) {
      errors.push({
        code: 'INVALID ROLE',
        message: `User is not authorized to perform action ${action.action} on ${where}: it needs a role of workflow ${workflow.definition.businessService} on tenant ${input.tenantId}`,
        params: [action.action, input.businessId],
      });
    }
    if (resultant.docUploadRequired && !(input.documents?.length ?? 0)) {
      errors.push({ code: 'INVALID DOCUMENT', message: `Documents cannot be null for status: ${resultant.state ?? ''} (${where}): attach at least one document`, params: [input.businessId] });
    }
    const requested = assigneesOf(input);
    // A comment or other in-place action keeps the people it was marked to unless it names others.
    const assignees = requested ?? (stateChanging ? [] : priorAssignees);
    if (errors.length > before) return undefined;
    return { input, workflow, head: latest?.head, prior: latest?.instance, priorAssignees, current, action, resultant, stateChanging, assignees };
  }

  /** Checks that need the people: assignees exist and may act next; citizens act on their own. */
  function checkPeople(plan: Plan, caller: WorkflowCaller, people: ReadonlyMap<string, DigitUser>, errors: ErrorDetail[]): void {
    const { input, workflow } = plan;
    const tenantId = input.tenantId;
    const state = stateTenantOf(tenantId);
    if (assigneesOf(input) !== undefined) {
      for (const uuid of plan.assignees) {
        const user = people.get(uuid);
        if (!user) {
          errors.push({ code: 'INVALID UUID', message: `User not found for uuid: ${uuid} (assignee of ${input.businessId})`, params: [uuid] });
          continue;
        }
        if (!user.active) {
          errors.push({ code: 'INVALID_ASSIGNEE', message: `Cannot assign ${input.businessId} to the user: ${uuid}: the account is inactive`, params: [uuid] });
          continue;
        }
        if (user.tenantId !== tenantId && user.tenantId !== state) {
          errors.push({ code: 'INVALID_ASSIGNEE', message: `Cannot assign ${input.businessId} to the user: ${uuid}: they belong to tenant ${user.tenantId}, not ${tenantId}`, params: [uuid] });
          continue;
        }
        const needed = workflow.transitionRoles(plan.resultant);
        if (plan.stateChanging && !intersects(needed, rolesAt(user.roles, tenantId))) {
          errors.push({
            code: 'INVALID_ASSIGNEE',
            message: `Cannot assign to the user: ${uuid}: in ${label(plan.resultant)} only ${list(needed)} can act, and they hold none of these on ${tenantId}`,
            params: [uuid],
          });
        }
      }
    }
    if (caller.type === 'CITIZEN' && plan.head) {
      const citizenAssignees = plan.priorAssignees.filter((uuid) => people.get(uuid)?.type === 'CITIZEN');
      const allowed = citizenAssignees.length > 0 ? citizenAssignees.includes(caller.uuid ?? '') : plan.head.created_by === caller.uuid;
      if (!allowed) {
        errors.push({ code: 'INVALID_USER', message: `Citizen not authorized to perform action on application: ${input.businessId}: it is not theirs`, params: [input.businessId] });
      }
    }
  }

  /**
   * Everything a transition needs before writing: the definitions, the applications' latest steps,
   * DIGIT's checks, the people involved, and the rows to write. Reads other modules, so it runs
   * outside any transaction; `commitTransition` then writes only if nobody moved the applications.
   */
  async function prepareTransition(caller: WorkflowCaller, inputs: readonly ProcessInstanceInput[], options: TransitionOptions = {}, owner?: string): Promise<PreparedTransition> {
    const errors: ErrorDetail[] = ownership.refusals(inputs, owner);
    if (errors.length > 0) throw new DomainError('invalid', errors);
    const seen = new Set<string>();
    for (const input of inputs) {
      if (seen.has(keyOf(input))) {
        errors.push({ code: 'INVALID_REQUEST', message: `businessId ${input.businessId} appears twice in the request; send one action per application`, params: [input.businessId] });
      }
      seen.add(keyOf(input));
    }
    if (errors.length > 0) throw new DomainError('invalid', errors);

    const workflows = new Map<string, CompiledWorkflow>();
    for (const input of inputs) {
      const key = `${input.tenantId}|${input.businessService}`;
      if (workflows.has(key)) continue;
      await assertKnownTenant(mdms.tenants, input.tenantId);
      workflows.set(key, await requireWorkflow(input.tenantId, input.businessService));
    }
    const reader = store.runner();
    const latest = new Map((await store.latest(reader, inputs)).map((l) => [keyOf({ tenantId: l.head.tenant_id, businessService: l.head.business_service, businessId: l.head.business_id }), l]));
    const priorAssigneeRows = await store.assignees(reader, [...latest.values()].map((l) => l.instance.id));

    const plans: Plan[] = [];
    for (const input of inputs) {
      const found = latest.get(keyOf(input));
      const prior = found ? priorAssigneeRows.filter((a) => a.process_instance_id === found.instance.id).map((a) => a.assignee) : [];
      const plan = planOne(input, workflows.get(`${input.tenantId}|${input.businessService}`)!, found, prior, caller, errors);
      if (plan) plans.push(plan);
    }
    if (errors.length > 0) throw new DomainError('invalid', errors);

    const people = await usersByUuid([...plans.flatMap((p) => [...p.assignees, ...p.priorAssignees]), ...(caller.uuid ? [caller.uuid] : [])]);
    for (const plan of plans) checkPeople(plan, caller, people, errors);
    if (errors.length > 0) throw new DomainError('invalid', errors);

    const now = clock.now();
    return { caller, people, escalation: options.escalation, steps: plans.map((plan) => ({ plan, ...stepOf(plan, caller, now, options) })) };
  }

  /**
   * Writes prepared steps in `tx`, each with its event. An application moved since it was read
   * (another transition won the race) refuses the whole commit with CONCURRENT_TRANSITION.
   */
  async function commitTransition(tx: Tx, prepared: PreparedTransition): Promise<ProcessInstance[]> {
    const db = store.runner(tx);
    const { caller, escalation } = prepared;
    for (const { plan, row, assignees } of prepared.steps) {
      const key = { tenantId: row.tenant_id, businessService: row.business_service, businessId: row.business_id };
      const head: HeadRow = {
        tenant_id: row.tenant_id,
        business_service: row.business_service,
        business_id: row.business_id,
        sequence: row.sequence,
        latest_id: row.id,
        status: row.status,
        last_modified_time: row.last_modified_time,
        created_by: plan.head?.created_by ?? caller.uuid,
        created_time: plan.head?.created_time ?? row.created_time,
      };
      const moved = plan.head ? await store.moveHead(db, head, plan.head.sequence) : await store.insertHead(db, head);
      if (!moved) {
        // The head is readable: the compare-and-set changed nothing, so the transaction is intact.
        const now = await store.head(db, key);
        throw conflict(key, now ? plan.workflow.state(now.status) : undefined);
      }
      try {
        await store.insertInstance(db, row, assignees);
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(key, undefined);
        throw error;
      }
      const event = eventOf(plan, row, assignees);
      await outbox.append(tx, { type: TRANSITIONED_EVENT, source: SOURCE, subject: row.business_id, tenantId: row.tenant_id, data: event });
      if (escalation) {
        await outbox.append(tx, { type: ESCALATED_EVENT, source: SOURCE, subject: row.business_id, tenantId: row.tenant_id, data: { topic: escalation.topic, ProcessInstance: event } });
      }
    }
    return prepared.steps.map(({ plan, row, assignees }) =>
      present(row, assignees.map((a) => a.assignee), prepared.people, plan.workflow, caller, undefined, plan.input.entity),
    );
  }

  async function transition(caller: WorkflowCaller, inputs: readonly ProcessInstanceInput[], options: TransitionOptions = {}, owner?: string): Promise<ProcessInstance[]> {
    if (inputs.length === 0) return [];
    const prepared = await prepareTransition(caller, inputs, options, owner);
    try {
      return await database.transaction((tx) => commitTransition(tx, prepared));
    } catch (error) {
      // PostgreSQL may report the lost race as the unique key of the step instead.
      if (isUniqueViolation(error)) throw conflict(inputs[0]!, undefined);
      throw error;
    }
  }

  function conflict(key: { businessId: string }, state: State | undefined): DomainError {
    const now = state ? ` (it is now in ${label(state)})` : '';
    return new DomainError('conflict', {
      code: 'CONCURRENT_TRANSITION',
      message: `businessId ${key.businessId} was moved by another request while this one was being processed${now}; nothing was changed: search it again and retry if the action still applies`,
      params: [key.businessId],
    });
  }

  function stepOf(plan: Plan, caller: WorkflowCaller, now: number, options: TransitionOptions): { row: InstanceRow; assignees: AssigneeRow[] } {
    const { input, prior, resultant, stateChanging } = plan;
    const id = newId();
    const elapsed = prior ? now - prior.last_modified_time : 0;
    // DIGIT's SLA arithmetic: the business SLA runs down across the whole application; the state
    // SLA restarts on entering a state and runs down while the application stays in it.
    const businessSla = prior ? (prior.business_service_sla === null ? null : prior.business_service_sla - elapsed) : plan.workflow.definition.businessServiceSla;
    const stateSla = stateChanging ? resultant.sla : prior?.state_sla === null || prior?.state_sla === undefined ? null : prior.state_sla - elapsed;
    const auditDetails: AuditDetails = {
      createdBy: !stateChanging && prior ? prior.created_by : caller.uuid,
      createdTime: !stateChanging && prior ? prior.created_time : now,
      lastModifiedBy: caller.uuid,
      lastModifiedTime: now,
    };
    const documents: Document[] | null =
      input.documents && input.documents.length > 0
        ? input.documents.map((d) => ({
            id: newId(),
            tenantId: input.tenantId,
            documentType: d.documentType ?? null,
            fileStoreId: d.fileStoreId,
            documentUid: d.documentUid ?? null,
            auditDetails,
          }))
        : null;
    const row: InstanceRow = {
      id,
      tenant_id: input.tenantId,
      business_service: input.businessService,
      business_id: input.businessId,
      sequence: (plan.head?.sequence ?? 0) + 1,
      action: plan.action.action,
      module_name: plan.workflow.definition.business,
      status: resultant.uuid,
      previous_status: prior ? (plan.current.state ?? null) : null,
      comment: input.comment ?? null,
      assigner: caller.uuid,
      state_sla: stateSla,
      business_service_sla: businessSla,
      rating: input.rating ?? null,
      escalated: database.toBool(options.escalation !== undefined),
      documents: documents ? database.toJson(documents) : null,
      created_by: auditDetails.createdBy,
      created_time: auditDetails.createdTime,
      last_modified_by: auditDetails.lastModifiedBy,
      last_modified_time: auditDetails.lastModifiedTime,
    };
    const assignees = plan.assignees.map((assignee) => ({
      process_instance_id: id,
      tenant_id: input.tenantId,
      business_service: input.businessService,
      business_id: input.businessId,
      assignee,
    }));
    return { row, assignees };
  }

  function eventOf(plan: Plan, row: InstanceRow, assignees: readonly AssigneeRow[]): TransitionEvent {
    return {
      id: row.id,
      tenantId: row.tenant_id,
      businessService: row.business_service,
      businessId: row.business_id,
      action: row.action,
      moduleName: row.module_name,
      state: { uuid: plan.resultant.uuid, state: plan.resultant.state, applicationStatus: plan.resultant.applicationStatus, isTerminateState: plan.resultant.isTerminateState },
      previousStatus: row.previous_status,
      assigner: row.assigner,
      assignes: assignees.map((a) => a.assignee),
      comment: row.comment,
      rating: row.rating,
      escalated: database.fromBool(row.escalated),
      stateSla: row.state_sla,
      businesssServiceSla: row.business_service_sla,
      auditDetails: auditDetailsOf(row),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Search and counts

  function normalise(criteria: ProcessCriteria): ProcessCriteria {
    const businessIds = splitList(criteria.businessIds);
    const short = businessIds?.filter((b) => b.length < 4) ?? [];
    if (short.length > 0) {
      throw invalid('INVALID_REQUEST', `businessIds must be at least 4 characters long: ${short.join(', ')}`, short);
    }
    return { ...criteria, businessIds, ids: splitList(criteria.ids), status: splitList(criteria.status), businessService: criteria.businessService || undefined, moduleName: criteria.moduleName || undefined, assignee: criteria.assignee || undefined };
  }

  /** DIGIT's `isNull`: no businessIds, ids, assignee or status means "my inbox". */
  const isInbox = (c: ProcessCriteria) => !c.businessIds && !c.ids && !c.assignee && !c.status;

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
    else if (inbox) query.inbox = { statuses: await actionableStatuses(caller, criteria.tenantId, criteria.businessService), user: caller.uuid ?? '' };
    return query;
  }

  async function presentRows(rows: readonly InstanceRow[], caller: WorkflowCaller): Promise<ProcessInstance[]> {
    const assigneeRows = await store.assignees(store.runner(), rows.map((r) => r.id));
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
    const [rows, totalCount] = await Promise.all([store.search(db, query, { offset: criteria.offset ?? 0, limit }), store.count(db, query)]);
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
      out.push({ count: row.count, applicationstatus: workflow?.state(row.status)?.applicationStatus ?? null, businessservice: row.business_service, statusid: row.status });
    }
    return out;
  }

  /**
   * DIGIT's nearing-SLA count: steps touched within `maxSla − slotPercentage% × maxSla` of now, where
   * maxSla is the business SLA and slotPercentage comes from common-masters.wfSlaConfig.
   */
  async function nearingSlaCount(caller: WorkflowCaller, raw: ProcessCriteria): Promise<number> {
    const criteria = normalise(raw);
    if (!criteria.businessService) throw invalid('EG_WF_BUSINESSSRV_ERR', 'Providing business service is mandatory for nearing escalation count: add businessService to the query');
    await assertKnownTenant(mdms.tenants, criteria.tenantId);
    const workflow = await requireWorkflow(criteria.tenantId, criteria.businessService);
    const maxSla = workflow.definition.businessServiceSla;
    if (maxSla === null) throw invalid('EG_WF_SLA_ERR', `Business service ${criteria.businessService} has no businessServiceSla, so nothing can be near it`);
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

  return {
    /** The definition serving a tenant (state-level ones included), or null. */
    resolve,
    createBusinessServices: (inputs: readonly BusinessServiceInput[], actor: string | null) => saveBusinessServices(inputs, actor, 'create'),
    updateBusinessServices: (inputs: readonly BusinessServiceInput[], actor: string | null) => saveBusinessServices(inputs, actor, 'update'),
    prepareBusinessServices,
    saveBusinessServicesInTx,
    async searchBusinessServices(criteria: { tenantId: string; businessServices?: readonly string[] | undefined }): Promise<BusinessService[]> {
      await assertKnownTenant(mdms.tenants, criteria.tenantId);
      const codes = splitList(criteria.businessServices);
      const found = codes
        ? (await Promise.all(codes.map((code) => resolve(criteria.tenantId, code)))).filter((w): w is CompiledWorkflow => w !== null)
        : await applicable(criteria.tenantId);
      return found.map((w) => forTenant(w.definition, criteria.tenantId));
    },
    /** Moves applications of business services no module owns (see `claimBusinessService`). */
    transition: (caller: WorkflowCaller, inputs: readonly ProcessInstanceInput[], options: TransitionOptions = {}) => transition(caller, inputs, options),
    /**
     * Declares that `businessService`'s applications are records of the claiming module: from now on
     * only the answered handle moves them; `transition` and `prepareTransition` refuse them for
     * everyone. A module claims at creation, before any request is served.
     */
    claimBusinessService,
    /** The module owning a business service's applications, if any. */
    ownerOf: ownership.ownerOf,
    /** For a module that writes its own records with the transition: prepare first, then commit in its transaction. */
    prepareTransition: (caller: WorkflowCaller, inputs: readonly ProcessInstanceInput[], options: TransitionOptions = {}) => prepareTransition(caller, inputs, options),
    commitTransition,
    search,
    count,
    statusCount,
    nearingSlaCount,
    /** Applications whose latest step was an automatic escalation. */
    searchEscalated: (caller: WorkflowCaller, criteria: ProcessCriteria) => search(caller, criteria, { escalated: true, history: false }),
    /** For auto-escalation: overdue applications of one state. */
    overdue: (query: Parameters<WorkflowStore['overdue']>[1]) => store.overdue(store.runner(), query),
  };
}

export type WorkflowService = ReturnType<typeof createWorkflowService>;
