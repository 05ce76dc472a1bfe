import type { ErrorDetail } from '../../kernel/errors.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import { intersects, rolesAt, type CompiledWorkflow } from './workflow.definition.js';
import type { ProcessInstanceInput, State } from './workflow.schema.js';
import type { HeadRow, InstanceRow } from './workflow.store.js';
import type { DigitUser, Plan, WorkflowCaller } from './workflow.types.js';

// DIGIT's checks of one transition (WorkflowValidator): pure functions of the definition, the
// application's latest step, the caller and the people named. Refusals are collected, not thrown.

const RATE_ACTION = 'RATE';

export const keyOf = (k: { tenantId: string; businessService: string; businessId: string }) =>
  `${k.tenantId}\u0000${k.businessService}\u0000${k.businessId}`;
export const label = (state: State) => (state.state === null ? 'the start state' : `state ${state.state}`);
export const list = (values: Iterable<string>) => [...values].sort().join(', ') || 'none';

export const assigneesOf = (input: ProcessInstanceInput) => {
  const refs = input.assignes ?? input.assignees;
  return refs === null || refs === undefined ? undefined : [...new Set(refs.map((r) => r.uuid))];
};

/** DIGIT's checks that need the definition only (WorkflowValidator.validateAction, validateDocuments). */
export function planOne(
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
    errors.push({
      code: 'INVALID STATE',
      message: `${where} is in a state (${latest!.instance.status}) that workflow ${workflow.definition.businessService} no longer has`,
      params: [input.businessId],
    });
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
    errors.push({
      code: 'INVALID_ACTION',
      message: `Rating can be given only upon taking RATE action (${where} was sent ${action.action})`,
      params: [input.businessId],
    });
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
    errors.push({
      code: 'INVALID DOCUMENT',
      message: `Documents cannot be null for status: ${resultant.state ?? ''} (${where}): attach at least one document`,
      params: [input.businessId],
    });
  }
  const requested = assigneesOf(input);
  // A comment or other in-place action keeps the people it was marked to unless it names others.
  const assignees = requested ?? (stateChanging ? [] : priorAssignees);
  if (errors.length > before) return undefined;
  return {
    input,
    workflow,
    head: latest?.head,
    prior: latest?.instance,
    priorAssignees,
    current,
    action,
    resultant,
    stateChanging,
    assignees,
  };
}

/** Checks that need the people: assignees exist and may act next; citizens act on their own. */
export function checkPeople(plan: Plan, caller: WorkflowCaller, people: ReadonlyMap<string, DigitUser>, errors: ErrorDetail[]): void {
  const { input, workflow } = plan;
  const tenantId = input.tenantId;
  const state = stateTenantOf(tenantId);
  if (assigneesOf(input) !== undefined) {
    for (const uuid of plan.assignees) {
      const user = people.get(uuid);
      if (!user) {
        errors.push({
          code: 'INVALID UUID',
          message: `User not found for uuid: ${uuid} (assignee of ${input.businessId})`,
          params: [uuid],
        });
        continue;
      }
      if (!user.active) {
        errors.push({
          code: 'INVALID_ASSIGNEE',
          message: `Cannot assign ${input.businessId} to the user: ${uuid}: the account is inactive`,
          params: [uuid],
        });
        continue;
      }
      if (user.tenantId !== tenantId && user.tenantId !== state) {
        errors.push({
          code: 'INVALID_ASSIGNEE',
          message: `Cannot assign ${input.businessId} to the user: ${uuid}: they belong to tenant ${user.tenantId}, not ${tenantId}`,
          params: [uuid],
        });
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
      errors.push({
        code: 'INVALID_USER',
        message: `Citizen not authorized to perform action on application: ${input.businessId}: it is not theirs`,
        params: [input.businessId],
      });
    }
  }
}
