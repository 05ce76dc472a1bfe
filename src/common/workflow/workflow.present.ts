import type { Database } from '../../kernel/db.js';
import { auditDetailsOf } from '../../kernel/envelope.js';
import type { UserService } from '../user/index.js';
import { intersects, rolesAt, type CompiledWorkflow } from './workflow.definition.js';
import type { Action, Document, ProcessInstance, State, User } from './workflow.schema.js';
import type { InstanceRow } from './workflow.store.js';
import type { DigitUser, WorkflowCaller } from './workflow.types.js';

// A stored step answered as DIGIT's ProcessInstance: its state, the people named, and what the
// caller may do next.

function toUser(user: DigitUser | undefined, uuid: string): User {
  if (!user)
    return { id: null, uuid, userName: null, name: null, type: null, mobileNumber: null, emailId: null, roles: [], tenantId: null };
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

/** Answers steps with the people they name, read from the user service. */
export function createPresenter({ database, users }: { database: Database; users: UserService }) {
  async function usersByUuid(uuids: Iterable<string>): Promise<Map<string, DigitUser>> {
    const wanted = [...new Set(uuids)];
    if (wanted.length === 0) return new Map();
    const found = await users.search({ uuids: wanted }, { pageSize: wanted.length });
    return new Map(found.map((u) => [u.uuid, u]));
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
      documents:
        (typeof row.documents === 'string'
          ? (JSON.parse(row.documents) as Document[])
          : database.fromJson<Document[] | null>(row.documents)) ?? null,
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

  return { usersByUuid, present };
}

export type Presenter = ReturnType<typeof createPresenter>;
