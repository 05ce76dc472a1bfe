import { defineModule } from '../../kernel/module.js';
import { mdmsModule, type MdmsApi } from '../mdms/index.js';
import { userModule, type UserApi } from '../user/index.js';
import { init } from './migrations/0001_init.js';
import { createEscalationService, createWorker, type EscalationService } from './workflow.escalation.js';
import { workflowRoutes } from './workflow.routes.js';
import { seedWorkflows } from './workflow.seed.js';
import { createWorkflowService, type WorkflowService } from './workflow.service.js';
import { createWorkflowStore } from './workflow.store.js';

export type { OwnedWorkflow, PreparedTransition, ProcessCriteria, TransitionEvent, TransitionOptions, WorkflowCaller, WorkflowService } from './workflow.service.js';
export type { CompiledWorkflow } from './workflow.definition.js';
export type { OwnerOfService } from './workflow.ownership.js';
export { ESCALATED_EVENT, TRANSITIONED_EVENT } from './workflow.service.js';
export type { EscalationResult, EscalationService } from './workflow.escalation.js';
export { AUTO_ESCALATE_ROLE } from './workflow.escalation.js';
export type { Action, BusinessService, BusinessServiceInput, ProcessInstance, ProcessInstanceInput, State, StatusCount } from './workflow.schema.js';

export type WorkflowApi = {
  /** Definitions, transitions, searches and counts (DIGIT's egov-workflow-v2). */
  readonly service: WorkflowService;
  /** Auto-escalation per MDMS Workflow.AutoEscalation; `runOnce` is one pass of the background worker. */
  readonly escalation: EscalationService;
};

/** How often the background worker escalates overdue applications (DIGIT runs it as a cron job). */
const ESCALATION_INTERVAL_MS = 10 * 60_000;

/** Who may do what, in which state, within which time (DIGIT's egov-workflow-v2). */
export const workflowModule = defineModule<WorkflowApi, { mdms: MdmsApi; users: UserApi }>({
  name: 'workflow',
  requires: { mdms: mdmsModule, users: userModule },
  migrations: [init],
  create({ config, database, clock, outbox, changes, logger }, { mdms, users }) {
    const store = createWorkflowStore(database);
    const service = createWorkflowService({ database, store, clock, outbox, changes, mdms: mdms.service, users: users.service });
    const escalation = createEscalationService({ service, mdms: mdms.service, clock, logger });
    const worker = createWorker(() => escalation.runOnce(), ESCALATION_INTERVAL_MS, (error) => logger.error({ err: error }, 'auto-escalation pass failed'));
    return {
      api: { service, escalation },
      routes: workflowRoutes(service, escalation),
      seed: (files, actor) => seedWorkflows(database, service, files, actor),
      async start() {
        // API-only processes leave background work to the worker processes.
        if (config.role !== 'api') worker.start();
      },
      stop: () => worker.stop(),
    };
  },
});
