import type { RoleGrant } from '../../kernel/auth.js';
import type { AuditDetails } from '../../kernel/envelope.js';
import type { ErrorDetail } from '../../kernel/errors.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { Action, ActionInput, BusinessService, BusinessServiceInput, State } from './workflow.schema.js';

/** Every role used anywhere in the workflow. */
export const ANY_ROLE = '*';

export type BuildContext = {
  now: number;
  actor: string | null;
  newId: () => string;
  /** Role codes of the state (ACCESSCONTROL-ROLES); empty means "not configured, do not check". */
  knownRoles: ReadonlySet<string>;
};

const err = (code: string, message: string, params?: string[]): ErrorDetail => ({ code, message, params: params ?? null });
const display = (name: string | null) => (name === null ? 'the start state' : `state ${name}`);
const lower = (value: string) => value.toLowerCase();

function audit(previous: AuditDetails | null | undefined, ctx: BuildContext): AuditDetails {
  return previous
    ? { createdBy: previous.createdBy, createdTime: previous.createdTime, lastModifiedBy: ctx.actor, lastModifiedTime: ctx.now }
    : { createdBy: ctx.actor, createdTime: ctx.now, lastModifiedBy: ctx.actor, lastModifiedTime: ctx.now };
}

/** DIGIT's start state is the one without a name; "" counts as none. */
function stateName(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

/**
 * Turns a create or update request into the stored definition: uuids for new states and actions
 * (existing ones keep theirs, matched by uuid or else by name), `nextState` resolved from a name to
 * a uuid, and the whole graph checked. Answers every problem found, not just the first.
 */
export function buildBusinessService(
  input: BusinessServiceInput,
  existing: BusinessService | undefined,
  ctx: BuildContext,
): { value: BusinessService; errors: ErrorDetail[] } {
  const errors: ErrorDetail[] = [];
  const where = `${input.businessService} (${input.tenantId})`;
  if (existing && input.uuid && input.uuid !== existing.uuid) {
    errors.push(err('INVALID UUID', `The uuid ${input.uuid} is not the uuid of business service ${where} (${existing.uuid})`, [input.uuid]));
  }
  const uuid = existing?.uuid ?? ctx.newId();

  // States first: actions name their next state, which may come later in the list.
  const existingStates = new Map((existing?.states ?? []).map((s) => [s.uuid, s]));
  const existingByName = new Map((existing?.states ?? []).map((s) => [s.state === null ? null : lower(s.state), s]));
  const usedStateUuids = new Set<string>();
  const seenNames = new Set<string | null>();
  const states: State[] = [];
  const inputActions: Array<readonly ActionInput[]> = [];
  for (const [index, s] of input.states.entries()) {
    const name = stateName(s.state);
    const key = name === null ? null : lower(name);
    if (seenNames.has(key)) {
      errors.push(
        name === null
          ? err('INVALID STATE', `${where} has more than one start state (a state whose "state" is null or empty); keep exactly one`)
          : err('INVALID STATE', `State: ${name} is duplicate in ${where} (state names are compared without case)`, [name]),
      );
    }
    seenNames.add(key);
    let previous: State | undefined;
    if (s.uuid) {
      previous = existingStates.get(s.uuid);
      if (!previous) errors.push(err('INVALID UUID', `The uuid: ${s.uuid} of states[${index}] is not a state of ${where}; leave uuid out to add a state`, [s.uuid]));
    } else {
      previous = existingByName.get(key);
    }
    let stateUuid = previous?.uuid ?? ctx.newId();
    if (usedStateUuids.has(stateUuid)) {
      errors.push(err('INVALID UUID', `The uuid: ${stateUuid} is used by two states of ${where}`, [stateUuid]));
      stateUuid = ctx.newId();
    }
    usedStateUuids.add(stateUuid);
    states.push({
      auditDetails: audit(previous?.auditDetails, ctx),
      uuid: stateUuid,
      tenantId: input.tenantId,
      businessServiceId: uuid,
      sla: s.sla ?? null,
      state: name,
      applicationStatus: s.applicationStatus ?? null,
      docUploadRequired: s.docUploadRequired ?? false,
      isStartState: s.isStartState ?? name === null,
      isTerminateState: s.isTerminateState ?? false,
      isStateUpdatable: s.isStateUpdatable ?? false,
      actions: null,
    });
    inputActions.push(s.actions ?? []);
  }
  for (const old of existing?.states ?? []) {
    if (!usedStateUuids.has(old.uuid)) {
      errors.push(
        err(
          'INVALID STATE',
          `${display(old.state)} (uuid ${old.uuid}) is missing from the update of ${where}; states cannot be removed, because applications may be in them`,
          [old.uuid],
        ),
      );
    }
  }

  const byUuid = new Map(states.map((s) => [s.uuid, s]));
  const byName = new Map(states.filter((s) => s.state !== null).map((s) => [s.state!, s]));
  const byLowerName = new Map(states.filter((s) => s.state !== null).map((s) => [lower(s.state!), s]));
  const existingActions = new Map((existing?.states ?? []).flatMap((s) => (s.actions ?? []).map((a) => [a.uuid, { action: a, state: s.uuid }] as const)));
  const usedActionUuids = new Set<string>();

  for (const [index, state] of states.entries()) {
    const previousState = existingStates.get(state.uuid);
    const previousByName = new Map((previousState?.actions ?? []).map((a) => [lower(a.action), a]));
    const seen = new Set<string>();
    const actions: Action[] = [];
    for (const a of inputActions[index]!) {
      const name = a.action.trim();
      if (seen.has(lower(name))) {
        errors.push(err('INVALID ACTION', `Action: ${name} is duplicate in ${display(state.state)} of ${where}`, [name]));
        continue;
      }
      seen.add(lower(name));
      let previous: Action | undefined;
      if (a.uuid) {
        const found = existingActions.get(a.uuid);
        if (!found || found.state !== state.uuid) {
          errors.push(err('INVALID UUID', `The uuid: ${a.uuid} of action ${name} is not an action of ${display(state.state)} in ${where}; leave uuid out to add an action`, [a.uuid]));
        } else previous = found.action;
      } else {
        previous = previousByName.get(lower(name));
      }
      let actionUuid = previous?.uuid ?? ctx.newId();
      if (usedActionUuids.has(actionUuid)) actionUuid = ctx.newId();
      usedActionUuids.add(actionUuid);

      const target = a.nextState.trim();
      const next = byUuid.get(target) ?? byName.get(target) ?? byLowerName.get(lower(target));
      if (!next) {
        errors.push(
          err('INVALID NEXTSTATE', `The state with name: ${target} does not exist in config: action ${name} of ${display(state.state)} in ${where} leads nowhere`, [target]),
        );
      }
      const roles = [...new Set(a.roles.map((r) => r.trim()).filter(Boolean))];
      if (roles.length === 0) {
        errors.push(err('INVALID ROLE', `Action ${name} of ${display(state.state)} in ${where} has no roles: nobody could ever take it`, [name]));
      }
      for (const role of roles) {
        if (role !== ANY_ROLE && ctx.knownRoles.size > 0 && !ctx.knownRoles.has(role)) {
          errors.push(err('INVALID ROLE', `Role ${role} of action ${name} in ${where} is not a role of this state (ACCESSCONTROL-ROLES.roles)`, [role]));
        }
      }
      actions.push({
        auditDetails: audit(previous?.auditDetails, ctx),
        uuid: actionUuid,
        tenantId: input.tenantId,
        currentState: state.uuid,
        action: name,
        nextState: next?.uuid ?? target,
        roles,
        active: a.active ?? true,
      });
    }
    // An action left out of an update is retired, not deleted: history still names it.
    for (const old of previousState?.actions ?? []) {
      if (!usedActionUuids.has(old.uuid) && !seen.has(lower(old.action))) {
        actions.push({ ...old, active: false, auditDetails: audit(old.auditDetails, ctx) });
        usedActionUuids.add(old.uuid);
      }
    }
    state.actions = actions.length > 0 ? actions : null;
  }

  const value: BusinessService = {
    tenantId: input.tenantId,
    uuid,
    businessService: input.businessService,
    business: input.business,
    getUri: input.getUri ?? null,
    postUri: input.postUri ?? null,
    businessServiceSla: input.businessServiceSla ?? null,
    states,
    auditDetails: audit(existing?.auditDetails, ctx),
  };
  if (errors.length === 0) errors.push(...checkGraph(value));
  return { value, errors };
}

/**
 * The rules a workflow must follow to be usable: one start state that starts something, nothing
 * leading back into it, every state reachable from it, no state without a way on unless it is
 * terminal, and a terminal state reachable from every state (no closed loops).
 */
export function checkGraph(bs: BusinessService): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const where = `${bs.businessService} (${bs.tenantId})`;
  const starts = bs.states.filter((s) => s.state === null);
  if (starts.length !== 1) {
    return [err('INVALID STATE', `${where} has no start state: add a state with "state": null whose actions start an application (e.g. APPLY)`)];
  }
  const start = starts[0]!;
  const active = (s: State) => (s.actions ?? []).filter((a) => a.active);
  const byUuid = new Map(bs.states.map((s) => [s.uuid, s]));

  if (start.isTerminateState) errors.push(err('INVALID STATE', `The start state of ${where} cannot be a terminate state`));
  if (active(start).length === 0) errors.push(err('INVALID STATE', `The start state of ${where} has no actions: no application could ever start`));
  for (const s of bs.states) {
    for (const a of active(s)) {
      if (a.nextState === start.uuid) {
        errors.push(err('INVALID NEXTSTATE', `Action ${a.action} of ${display(s.state)} in ${where} leads back to the start state; an application cannot be un-started`, [a.action]));
      }
    }
  }

  const reached = new Set<string>([start.uuid]);
  const queue = [start];
  while (queue.length > 0) {
    for (const a of active(queue.shift()!)) {
      const next = byUuid.get(a.nextState);
      if (next && !reached.has(next.uuid)) {
        reached.add(next.uuid);
        queue.push(next);
      }
    }
  }
  for (const s of bs.states) {
    if (!reached.has(s.uuid)) {
      errors.push(err('INVALID STATE', `State ${s.state} of ${where} cannot be reached from the start state: no active action leads to it`, [s.state ?? '']));
    }
  }

  const deadEnds = new Set<string>();
  for (const s of bs.states) {
    if (s.state !== null && !s.isTerminateState && active(s).length === 0) {
      deadEnds.add(s.uuid);
      errors.push(err('INVALID STATE', `State ${s.state} of ${where} has no actions but is not marked isTerminateState: give it actions or mark it terminal`, [s.state]));
    }
  }

  // Which states can still end: walk backwards from the terminal ones.
  const incoming = new Map<string, string[]>();
  for (const s of bs.states) for (const a of active(s)) incoming.set(a.nextState, [...(incoming.get(a.nextState) ?? []), s.uuid]);
  const canEnd = new Set(bs.states.filter((s) => s.isTerminateState).map((s) => s.uuid));
  const back = [...canEnd];
  while (back.length > 0) {
    for (const from of incoming.get(back.shift()!) ?? []) {
      if (!canEnd.has(from)) {
        canEnd.add(from);
        back.push(from);
      }
    }
  }
  const trapped = bs.states.filter((s) => reached.has(s.uuid) && !canEnd.has(s.uuid) && !deadEnds.has(s.uuid));
  if (trapped.length > 0 && bs.states.every((s) => !s.isTerminateState)) {
    errors.push(err('INVALID STATE', `${where} has no terminate state: mark the states where an application ends with isTerminateState: true`));
  } else {
    for (const s of trapped) {
      errors.push(
        err('INVALID STATE', `From ${display(s.state)} of ${where} no terminate state can be reached: its actions only cycle; add an action towards a terminate state`, [s.state ?? '']),
      );
    }
  }
  return errors;
}

/** A definition prepared for transitions: lookups by uuid and name, `*` expanded. */
export type CompiledWorkflow = {
  readonly definition: BusinessService;
  readonly start: State;
  readonly rolesInService: ReadonlySet<string>;
  state(uuid: string): State | undefined;
  stateNamed(name: string): State | undefined;
  /** An active action of `state`, by name without case. */
  action(state: State, name: string): Action | undefined;
  activeActions(state: State): readonly Action[];
  /** The roles that may take `action`. */
  actionRoles(action: Action): ReadonlySet<string>;
  /** Roles of the actions that move an application out of `state`. */
  transitionRoles(state: State): ReadonlySet<string>;
  isStateChanging(action: Action): boolean;
};

export function compileWorkflow(definition: BusinessService): CompiledWorkflow {
  const states = new Map(definition.states.map((s) => [s.uuid, s]));
  const named = new Map(definition.states.filter((s) => s.state !== null).map((s) => [lower(s.state!), s]));
  const start = definition.states.find((s) => s.state === null);
  if (!start) throw new Error(`business service ${definition.businessService} of ${definition.tenantId} has no start state`);
  const rolesInService = new Set(definition.states.flatMap((s) => (s.actions ?? []).flatMap((a) => a.roles)).filter((r) => r !== ANY_ROLE));
  const actionRoles = (action: Action): ReadonlySet<string> => (action.roles.includes(ANY_ROLE) ? rolesInService : new Set(action.roles));
  const activeActions = (state: State) => (state.actions ?? []).filter((a) => a.active);
  const transitionRoles = new Map(
    definition.states.map((s) => [s.uuid, new Set(activeActions(s).filter((a) => a.nextState !== a.currentState).flatMap((a) => [...actionRoles(a)]))]),
  );
  return {
    definition,
    start,
    rolesInService,
    state: (uuid) => states.get(uuid),
    stateNamed: (name) => named.get(lower(name)),
    action: (state, name) => activeActions(state).find((a) => lower(a.action) === lower(name)),
    activeActions,
    actionRoles,
    transitionRoles: (state) => transitionRoles.get(state.uuid) ?? new Set(),
    isStateChanging: (action) => action.nextState !== action.currentState,
  };
}

/** The caller's role codes that count on `tenantId`: granted there or at its state (DIGIT's rule). */
export function rolesAt(roles: readonly RoleGrant[], tenantId: string): Set<string> {
  const state = stateTenantOf(tenantId);
  return new Set(roles.filter((r) => r.tenantId === tenantId || r.tenantId === state).map((r) => r.code));
}

export function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const value of a) if (b.has(value)) return true;
  return false;
}
