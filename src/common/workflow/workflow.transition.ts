import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { auditDetailsOf, type AuditDetails } from '../../kernel/envelope.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { assertKnownTenant } from '../../kernel/tenancy.js';
import type { MdmsService } from '../mdms/index.js';
import type { CompiledWorkflow } from './workflow.definition.js';
import type { Ownership, OwnerOfService } from './workflow.ownership.js';
import { checkPeople, keyOf, label, planOne } from './workflow.plan.js';
import type { Presenter } from './workflow.present.js';
import type { Resolver } from './workflow.resolver.js';
import type { Document, ProcessInstance, ProcessInstanceInput, State } from './workflow.schema.js';
import { isUniqueViolation, type AssigneeRow, type HeadRow, type InstanceRow, type WorkflowStore } from './workflow.store.js';
import {
  ESCALATED_EVENT,
  SOURCE,
  TRANSITIONED_EVENT,
  type OwnedWorkflow,
  type Plan,
  type PreparedTransition,
  type TransitionEvent,
  type TransitionOptions,
  type WorkflowCaller,
} from './workflow.types.js';

export type TransitionsDeps = {
  database: Database;
  store: WorkflowStore;
  clock: Clock;
  outbox: Outbox;
  mdms: MdmsService;
  resolver: Resolver;
  presenter: Presenter;
  ownership: Ownership;
};

/** Moving applications: prepare (read and check, outside any transaction), then commit (write, guarded). */
export function createTransitions({ database, store, clock, outbox, mdms, resolver, presenter, ownership }: TransitionsDeps) {
  const { requireWorkflow } = resolver;
  const { usersByUuid, present } = presenter;

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

  /**
   * Everything a transition needs before writing: the definitions, the applications' latest steps,
   * DIGIT's checks, the people involved, and the rows to write. Reads other modules, so it runs
   * outside any transaction; `commitTransition` then writes only if nobody moved the applications.
   */
  async function prepareTransition(
    caller: WorkflowCaller,
    inputs: readonly ProcessInstanceInput[],
    options: TransitionOptions = {},
    owner?: string,
  ): Promise<PreparedTransition> {
    const errors: ErrorDetail[] = ownership.refusals(inputs, owner);
    if (errors.length > 0) throw new DomainError('invalid', errors);
    const seen = new Set<string>();
    for (const input of inputs) {
      if (seen.has(keyOf(input))) {
        errors.push({
          code: 'INVALID_REQUEST',
          message: `businessId ${input.businessId} appears twice in the request; send one action per application`,
          params: [input.businessId],
        });
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
    const latest = new Map(
      (await store.latest(reader, inputs)).map((l) => [
        keyOf({ tenantId: l.head.tenant_id, businessService: l.head.business_service, businessId: l.head.business_id }),
        l,
      ]),
    );
    const priorAssigneeRows = await store.assignees(
      reader,
      [...latest.values()].map((l) => l.instance.id),
    );

    const plans: Plan[] = [];
    for (const input of inputs) {
      const found = latest.get(keyOf(input));
      const prior = found ? priorAssigneeRows.filter((a) => a.process_instance_id === found.instance.id).map((a) => a.assignee) : [];
      const plan = planOne(input, workflows.get(`${input.tenantId}|${input.businessService}`)!, found, prior, caller, errors);
      if (plan) plans.push(plan);
    }
    if (errors.length > 0) throw new DomainError('invalid', errors);

    const people = await usersByUuid([
      ...plans.flatMap((p) => [...p.assignees, ...p.priorAssignees]),
      ...(caller.uuid ? [caller.uuid] : []),
    ]);
    for (const plan of plans) checkPeople(plan, caller, people, errors);
    if (errors.length > 0) throw new DomainError('invalid', errors);

    const now = clock.now();
    return {
      caller,
      people,
      escalation: options.escalation,
      steps: plans.map((plan) => ({ plan, ...stepOf(plan, caller, now, options) })),
    };
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
        await outbox.append(tx, {
          type: ESCALATED_EVENT,
          source: SOURCE,
          subject: row.business_id,
          tenantId: row.tenant_id,
          data: { topic: escalation.topic, ProcessInstance: event },
        });
      }
    }
    return prepared.steps.map(({ plan, row, assignees }) =>
      present(
        row,
        assignees.map((a) => a.assignee),
        prepared.people,
        plan.workflow,
        caller,
        undefined,
        plan.input.entity,
      ),
    );
  }

  async function transition(
    caller: WorkflowCaller,
    inputs: readonly ProcessInstanceInput[],
    options: TransitionOptions = {},
    owner?: string,
  ): Promise<ProcessInstance[]> {
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

  function stepOf(
    plan: Plan,
    caller: WorkflowCaller,
    now: number,
    options: TransitionOptions,
  ): { row: InstanceRow; assignees: AssigneeRow[] } {
    const { input, prior, resultant, stateChanging } = plan;
    const id = newId();
    const elapsed = prior ? now - prior.last_modified_time : 0;
    // DIGIT's SLA arithmetic: the business SLA runs down across the whole application; the state
    // SLA restarts on entering a state and runs down while the application stays in it.
    const businessSla = prior
      ? prior.business_service_sla === null
        ? null
        : prior.business_service_sla - elapsed
      : plan.workflow.definition.businessServiceSla;
    const stateSla = stateChanging
      ? resultant.sla
      : prior?.state_sla === null || prior?.state_sla === undefined
        ? null
        : prior.state_sla - elapsed;
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
      state: {
        uuid: plan.resultant.uuid,
        state: plan.resultant.state,
        applicationStatus: plan.resultant.applicationStatus,
        isTerminateState: plan.resultant.isTerminateState,
      },
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

  return { claimBusinessService, prepareTransition, commitTransition, transition };
}
