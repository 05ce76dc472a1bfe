import { createBusinessServices } from './workflow.businessservices.js';
import { createOwnership } from './workflow.ownership.js';
import { createPresenter } from './workflow.present.js';
import { createResolver } from './workflow.resolver.js';
import type { BusinessServiceInput, ProcessInstanceInput } from './workflow.schema.js';
import { createSearches } from './workflow.search.js';
import type { WorkflowStore } from './workflow.store.js';
import { createTransitions } from './workflow.transition.js';
import type { ProcessCriteria, TransitionOptions, WorkflowCaller, WorkflowServiceDeps } from './workflow.types.js';

export type {
  OwnedWorkflow,
  PreparedDefinitions,
  PreparedTransition,
  ProcessCriteria,
  TransitionEvent,
  TransitionOptions,
  WorkflowCaller,
  WorkflowServiceDeps,
} from './workflow.types.js';
export { ESCALATED_EVENT, TRANSITIONED_EVENT } from './workflow.types.js';

/**
 * DIGIT's egov-workflow-v2, put together from its parts: which definition serves a tenant
 * (workflow.resolver.ts), definitions (workflow.businessservices.ts), transitions
 * (workflow.transition.ts, checked by workflow.plan.ts), searches and counts (workflow.search.ts),
 * each answered through workflow.present.ts.
 */
export function createWorkflowService({ database, store, clock, outbox, changes, mdms, users }: WorkflowServiceDeps) {
  const resolver = createResolver({ database, store, changes, mdms });
  const presenter = createPresenter({ database, users });
  const ownership = createOwnership();
  const definitions = createBusinessServices({ database, store, clock, changes, mdms, resolver });
  const transitions = createTransitions({ database, store, clock, outbox, mdms, resolver, presenter, ownership });
  const searches = createSearches({ store, clock, mdms, resolver, presenter });
  const { saveBusinessServices } = definitions;
  const { transition, prepareTransition } = transitions;

  return {
    /** The definition serving a tenant (state-level ones included), or null. */
    resolve: resolver.resolve,
    createBusinessServices: (inputs: readonly BusinessServiceInput[], actor: string | null) =>
      saveBusinessServices(inputs, actor, 'create'),
    updateBusinessServices: (inputs: readonly BusinessServiceInput[], actor: string | null) =>
      saveBusinessServices(inputs, actor, 'update'),
    prepareBusinessServices: definitions.prepareBusinessServices,
    saveBusinessServicesInTx: definitions.saveBusinessServicesInTx,
    searchBusinessServices: definitions.searchBusinessServices,
    /** Moves applications of business services no module owns (see `claimBusinessService`). */
    transition: (caller: WorkflowCaller, inputs: readonly ProcessInstanceInput[], options: TransitionOptions = {}) =>
      transition(caller, inputs, options),
    /**
     * Declares that `businessService`'s applications are records of the claiming module: from now on
     * only the answered handle moves them; `transition` and `prepareTransition` refuse them for
     * everyone. A module claims at creation, before any request is served.
     */
    claimBusinessService: transitions.claimBusinessService,
    /** The module owning a business service's applications, if any. */
    ownerOf: ownership.ownerOf,
    /** For a module that writes its own records with the transition: prepare first, then commit in its transaction. */
    prepareTransition: (caller: WorkflowCaller, inputs: readonly ProcessInstanceInput[], options: TransitionOptions = {}) =>
      prepareTransition(caller, inputs, options),
    commitTransition: transitions.commitTransition,
    search: searches.search,
    count: searches.count,
    statusCount: searches.statusCount,
    nearingSlaCount: searches.nearingSlaCount,
    /** Applications whose latest step was an automatic escalation. */
    searchEscalated: (caller: WorkflowCaller, criteria: ProcessCriteria) =>
      searches.search(caller, criteria, { escalated: true, history: false }),
    /** For auto-escalation: overdue applications of one state. */
    overdue: (query: Parameters<WorkflowStore['overdue']>[1]) => store.overdue(store.runner(), query),
  };
}

export type WorkflowService = ReturnType<typeof createWorkflowService>;
