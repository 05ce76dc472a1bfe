import type { RoleGrant, UserType } from '../../kernel/auth.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import type { AuditDetails } from '../../kernel/envelope.js';
import type { ErrorDetail } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import type { MdmsService } from '../mdms/index.js';
import type { UserService } from '../user/index.js';
import type { CompiledWorkflow } from './workflow.definition.js';
import type { Action, BusinessServiceInput, ProcessInstance, ProcessInstanceInput, State } from './workflow.schema.js';
import type { AssigneeRow, HeadRow, InstanceRow, WorkflowStore } from './workflow.store.js';

// The workflow service's contracts, shared by its parts (workflow.resolver.ts, .businessservices.ts,
// .plan.ts, .transition.ts, .present.ts, .search.ts) and by the modules that call it.

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
export const SOURCE = '/plinth/workflow';
/** The change-feed topic of definitions: caches of them drop on it. */
export const CHANGE_TOPIC = 'workflow';

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
  prepareTransition(
    caller: WorkflowCaller,
    inputs: readonly ProcessInstanceInput[],
    options?: TransitionOptions,
  ): Promise<PreparedTransition>;
  commitTransition(tx: Tx, prepared: PreparedTransition): Promise<ProcessInstance[]>;
};

/** A transition checked and ready to write; see `prepareTransition`. */
export type PreparedTransition = {
  readonly caller: WorkflowCaller;
  readonly people: ReadonlyMap<string, DigitUser>;
  readonly escalation: { topic: string } | undefined;
  readonly steps: ReadonlyArray<{ plan: Plan; row: InstanceRow; assignees: AssigneeRow[] }>;
};

export type DigitUser = Awaited<ReturnType<UserService['search']>>[number];

/** One application's step, checked against its definition: what `commitTransition` writes. */
export type Plan = {
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
